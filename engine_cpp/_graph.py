"""OperatorGraph: DX7 operators wired any way you like, rendered by the C++ engine.

``OperatorGraph(num_ops=7)`` holds 1..256 operators (``graph.op[i]``: every DX7 operator
parameter, as on a Patch's operator, plus ``frequency_ratio``), modulation edges with
amounts (``connect(src, dst, amount)``: src's output is added to dst's phase), feedback
edges with DX7 levels 0..7 (``set_feedback(op, level=7)`` for self-feedback,
``set_feedback(src, dst, level=)`` for feedback that closes a loop) and carriers (summed
into the output). A cycle of plain connections is refused, naming its operators; a loop
is closed with feedback. Every method that changes the graph returns it (chaining).

``OperatorGraph.from_algorithm(k)`` is DX7 algorithm k (0-based): with the operators of
a Patch it sounds like that Patch (feedback at the normal scale: dx7_graph.h).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from dx7d.voices import Envelope, Operator, Patch, algorithms

from . import _loader
from ._offline import DEFAULT_SAMPLE_RATE, note_frames
from ._synth import REFERENCE_SCALE

__all__ = ["MAX_OPS", "GraphEnvelope", "GraphError", "GraphOperator", "OperatorGraph"]

MAX_OPS = 256  # DX7_GRAPH_MAX_OPS
_OP_BYTES = 21
_BLOCK_START = 5 * _OP_BYTES  # a Patch's OP1 block (OP6 is stored first)
_COARSE_ZERO_RATIO = 0.5  # coarse 0 means ratio 0.5


class GraphError(ValueError):
    """A graph that cannot be built or rendered: bad index, level, shape, or a cycle."""


def _relabel(exc: Exception, index: int) -> Exception:
    """An error from the operator's range checks, naming the graph operator."""
    text = str(exc).replace("OP1 ", f"op[{index}] ")
    return type(exc)(text)


class GraphEnvelope(Envelope):
    """A graph operator's envelope: ``rates`` and ``levels``, four values 0-99 each."""

    __slots__ = ("_graph_index",)

    def __init__(self, patch: Patch, base: int, index: int) -> None:
        super().__init__(patch, base)
        self._graph_index = index

    def _set4(self, offset: int, values: Sequence[int], what: str) -> None:
        try:
            super()._set4(offset, values, what)
        except (ValueError, TypeError) as exc:
            raise _relabel(exc, self._graph_index) from None


class GraphOperator(Operator):
    """One operator of a graph: the DX7 operator parameters (range-checked) and
    ``frequency_ratio`` (the ratio coarse x (1 + fine/100), coarse 0 = 0.5; in fixed
    mode the frequency in Hz). Defaults: dexed-py's (level 99, ratio 1, EG 99s, L4 0).
    """

    __slots__ = ("_graph_index",)

    def __init__(self, index: int) -> None:
        patch = Patch(name="GRAPH OP")  # INIT VOICE: its OP1 is dexed-py's default operator
        super().__init__(patch, 0)
        self._graph_index = index

    def __setattr__(self, name: str, value: object) -> None:
        try:
            super().__setattr__(name, value)
        except (ValueError, TypeError) as exc:
            raise _relabel(exc, self._graph_index) from None

    @property
    def envelope(self) -> GraphEnvelope:
        return GraphEnvelope(self._patch, self._base, self._graph_index)

    @envelope.setter
    def envelope(self, value: Envelope) -> None:
        env = self.envelope
        env.rates, env.levels = value.rates, value.levels

    @property
    def frequency_ratio(self) -> float:
        if self.frequency_mode:
            return float(10.0 ** (self.frequency_coarse % 4) * 10.0 ** (self.frequency_fine / 100))
        coarse = self.frequency_coarse or _COARSE_ZERO_RATIO
        return float(coarse * (1.0 + self.frequency_fine / 100.0))

    @frequency_ratio.setter
    def frequency_ratio(self, ratio: float) -> None:
        """Ratio mode: the nearest (coarse, fine) pair (ratios 0.5 .. 61.69)."""
        r = float(ratio)
        if not 0.5 <= r <= 31 * 1.99:
            raise GraphError(f"op[{self._graph_index}] frequency_ratio must be 0.5..61.69, "
                             f"got {ratio!r}")
        best = min(((c, f) for c in range(32) for f in range(100)),
                   key=lambda cf: abs((cf[0] or _COARSE_ZERO_RATIO) * (1 + cf[1] / 100) - r))
        self.frequency_mode = 0
        self.frequency_coarse, self.frequency_fine = best

    def vced(self) -> bytes:
        """The operator's 21 VCED bytes."""
        return bytes(self._patch._v[_BLOCK_START:_BLOCK_START + _OP_BYTES])

    def copy_from(self, other: Operator) -> None:
        """Take every parameter of another operator (a Patch's op[i], or a graph's)."""
        src = other._patch._v
        self._patch._store({_BLOCK_START + i: src[other._base + i] for i in range(_OP_BYTES)})

    def __repr__(self) -> str:
        env = self.envelope
        return (f"GraphOperator(op[{self._graph_index}], output_level={self.output_level}, "
                f"ratio={self.frequency_ratio:g}{' Hz fixed' if self.frequency_mode else ''}, "
                f"rates={list(env.rates)}, levels={list(env.levels)})")


class _Ops(Sequence[GraphOperator]):
    """graph.op: operators by index 0..N-1; negative indices are refused."""

    def __init__(self, ops: list[GraphOperator]) -> None:
        self._ops = ops

    def __len__(self) -> int:
        return len(self._ops)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return self._ops[index]
        return self._ops[_index(index, len(self._ops), "operator")]

    def __iter__(self) -> Iterator[GraphOperator]:
        return iter(self._ops)


def _index(value: object, n: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise GraphError(f"{what} index must be an int, got {value!r}")
    i = int(value)
    if not 0 <= i < n:
        raise GraphError(f"{what} index must be 0..{n - 1} in this {n}-operator graph, got {i}")
    return i


def _level(value: object) -> float:
    try:
        level = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise GraphError(f"feedback level must be a number 0..7, got {value!r}") from None
    if not 0.0 <= level <= 7.0:
        raise GraphError(f"feedback level must be 0..7 (DX7 feedback), got {value!r}")
    return level


class OperatorGraph:
    """A free FM topology of DX7 operators (see the module docstring)."""

    def __init__(self, num_ops: int = 6) -> None:
        if isinstance(num_ops, bool) or not isinstance(num_ops, (int, np.integer)):
            raise GraphError(f"num_ops must be an int, got {num_ops!r}")
        if not 1 <= int(num_ops) <= MAX_OPS:
            raise GraphError(f"num_ops must be 1..{MAX_OPS}, got {num_ops}")
        n = int(num_ops)
        self._ops = [GraphOperator(i) for i in range(n)]
        self._mod: dict[tuple[int, int], float] = {}  # (src, dst) -> amount
        self._fb: dict[tuple[int, int], float] = {}  # (src, dst) -> level 0..7
        self._carriers: list[int] = [0]

    # -- structure ---------------------------------------------------------------------
    @property
    def num_ops(self) -> int:
        return len(self._ops)

    @property
    def op(self) -> _Ops:
        return _Ops(self._ops)

    @property
    def carriers(self) -> list[int]:
        return list(self._carriers)

    @property
    def modulators(self) -> list[int]:
        """Operators that modulate another one (plain connections)."""
        return sorted({s for s, _ in self._mod})

    @property
    def connections(self) -> list[tuple[int, int, float]]:
        """(src, dst, amount) for every connection, sorted."""
        return [(s, d, a) for (s, d), a in sorted(self._mod.items())]

    @property
    def feedback(self) -> dict[tuple[int, int], float]:
        """{(src, dst): level}; src == dst is self-feedback."""
        return dict(sorted(self._fb.items()))

    def get_connections(self) -> list[tuple[int, int, float]]:
        return self.connections

    def connection_amount(self, src: int, dst: int) -> float:
        return self._mod.get((self._i(src), self._i(dst)), 0.0)

    def is_connected(self, src: int, dst: int) -> bool:
        return (self._i(src), self._i(dst)) in self._mod

    def get_feedback(self, src: int, dst: int | None = None) -> float:
        s = self._i(src)
        return self._fb.get((s, s if dst is None else self._i(dst)), 0.0)

    @property
    def mod_matrix(self) -> npt.NDArray[np.float32]:
        """(N, N) float32, m[dst, src] = amount (as from_matrix takes it)."""
        m = np.zeros((self.num_ops, self.num_ops), dtype=np.float32)
        for (s, d), a in self._mod.items():
            m[d, s] = a
        return m

    def _i(self, value: object) -> int:
        return _index(value, self.num_ops, "operator")

    # -- editing (each returns the graph) ----------------------------------------------
    def connect(self, src: int, dst: int, amount: float = 1.0) -> OperatorGraph:
        """src's output modulates dst's phase, times ``amount`` (1.0 = a DX7 connection)."""
        s, d = self._i(src), self._i(dst)
        a = float(amount)
        if not np.isfinite(a):
            raise GraphError(f"connection amount must be finite, got {amount!r}")
        if s == d:
            raise GraphError(f"op {s} cannot modulate itself: use set_feedback({s}, level=...)")
        if a == 0.0:
            return self.disconnect(s, d) if (s, d) in self._mod else self
        cycle = self._path(d, s)
        if cycle is not None:
            ring = " -> ".join(str(k) for k in [*cycle, d])
            raise GraphError(f"connecting op {s} -> op {d} closes the cycle {ring}; close a "
                             f"loop with feedback instead: set_feedback({s}, {d}, level=...)")
        self._mod[(s, d)] = a
        return self

    def disconnect(self, src: int, dst: int) -> OperatorGraph:
        s, d = self._i(src), self._i(dst)
        if (s, d) not in self._mod:
            raise GraphError(f"op {s} is not connected to op {d}")
        del self._mod[(s, d)]
        return self

    def disconnect_all(self) -> OperatorGraph:
        """Remove every connection and every feedback edge."""
        self._mod.clear()
        self._fb.clear()
        return self

    def set_carriers(self, carriers: Iterable[int]) -> OperatorGraph:
        """The operators whose outputs are summed into the rendered audio."""
        chosen = sorted({self._i(c) for c in carriers})
        self._carriers = chosen
        return self

    def set_feedback(self, src: int, dst: int | None = None, level: float = 7) -> OperatorGraph:
        """Feedback from src into dst (dst None or == src: self-feedback), level 0..7.

        The DX7's law: dst's phase gets the average of src's last two samples times
        2^(level - 8); level 0 removes the edge; fractional levels interpolate.
        """
        s = self._i(src)
        d = s if dst is None else self._i(dst)
        lv = _level(level)
        if lv == 0.0:
            self._fb.pop((s, d), None)
        else:
            self._fb[(s, d)] = lv
        return self

    def _path(self, start: int, goal: int) -> list[int] | None:
        """Operators on a path of connections start -> ... -> goal, or None."""
        targets: dict[int, list[int]] = {}
        for s, d in self._mod:
            targets.setdefault(s, []).append(d)
        stack, seen = [(start, [start])], {start}
        while stack:
            node, path = stack.pop()
            if node == goal:
                return path
            for nxt in targets.get(node, []):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
        return None

    # -- constructors ------------------------------------------------------------------
    @classmethod
    def from_matrix(cls, mod_matrix: npt.ArrayLike, carriers: Iterable[int],
                    feedback: Mapping[Any, float] | None = None) -> OperatorGraph:
        """From an (N, N) matrix, m[dst, src] = amount; feedback {op: level} or
        {(src, dst): level}."""
        m = np.asarray(mod_matrix, dtype=np.float64)
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise GraphError(f"mod_matrix must be square (N, N), got shape {m.shape}")
        graph = cls(num_ops=m.shape[0])
        if not np.all(np.isfinite(m)):
            raise GraphError("mod_matrix must be finite")
        if np.any(np.diag(m) != 0):
            k = int(np.flatnonzero(np.diag(m))[0])
            raise GraphError(f"mod_matrix[{k}, {k}] is self-modulation: give it as "
                             f"feedback={{{k}: level}}")
        for d, s in zip(*np.nonzero(m), strict=True):
            graph.connect(int(s), int(d), float(m[d, s]))
        graph.set_carriers(carriers)
        for key, level in (feedback or {}).items():
            if isinstance(key, tuple):
                if len(key) != 2:
                    raise GraphError(f"a feedback key is op or (src, dst), got {key!r}")
                graph.set_feedback(key[0], key[1], level=level)
            else:
                graph.set_feedback(key, level=level)
        return graph

    @classmethod
    def from_algorithm(cls, algorithm: int, feedback: float = 0,
                       patch: Patch | None = None) -> OperatorGraph:
        """DX7 algorithm 0..31 as a 6-operator graph (op i = OP(i+1)).

        ``feedback`` (0..7) goes on the algorithm's feedback edge (self or loop);
        ``patch``: take its six operators (else the defaults).
        """
        k = _index(algorithm, 32, "algorithm")
        alg = algorithms[k]
        graph = cls(num_ops=6)
        for s, d in alg.edges:
            graph.connect(s, d)
        graph.set_carriers(alg.carriers)
        if feedback:
            src, dst = alg.feedback_edge
            graph.set_feedback(src, dst, level=feedback)
        if patch is not None:
            for i in range(6):
                graph._ops[i].copy_from(patch.op[i])
        return graph

    # -- audio -------------------------------------------------------------------------
    def _render(self, sample_rate: float, midi_note: int, velocity: int, note_duration: float,
                render_duration: float, with_ops: bool
                ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
        for name, value in (("midi_note", midi_note), ("velocity", velocity)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise GraphError(f"{name} must be an int, got {value!r}")
            if not 0 <= int(value) <= 127:
                raise GraphError(f"{name} must be 0..127, got {value}")
        rate = float(sample_rate)
        if not 8000.0 <= rate <= 192000.0:
            raise GraphError(f"sample_rate {sample_rate} is outside 8000..192000 Hz")
        total, keyup = note_frames(note_duration, render_duration, rate)
        n = self.num_ops
        out = np.zeros(total, dtype=np.float32)
        rows = np.zeros((n, total), dtype=np.float32) if with_ops else None
        if total == 0:
            return out, rows
        ops = np.frombuffer(b"".join(o.vced() for o in self._ops), dtype=np.uint8)
        fb = np.zeros((n, n), dtype=np.float32)
        for (s, d), level in self._fb.items():
            fb[d, s] = level
        carriers = np.zeros(n, dtype=np.uint8)
        carriers[self._carriers] = 1
        rc = _loader.load(None).dx7_graph_render(
            n, ops, np.ascontiguousarray(self.mod_matrix), fb, carriers, rate, int(midi_note),
            int(velocity), total, keyup, REFERENCE_SCALE, out, rows)
        if rc != 0:  # everything was checked here first
            raise GraphError(f"the engine refused the graph (dx7_graph_render returned {rc})")
        return out, rows

    def render(self, sample_rate: float = DEFAULT_SAMPLE_RATE, midi_note: int = 60,
               velocity: int = 100, note_duration: float = 1.0,
               render_duration: float = 1.5) -> npt.NDArray[np.float32]:
        """One note: (T,) float32, the carriers summed (a full carrier peaks ~1.0)."""
        out, _ = self._render(sample_rate, midi_note, velocity, note_duration,
                              render_duration, False)
        return out

    def render_all_ops(self, sample_rate: float = DEFAULT_SAMPLE_RATE, midi_note: int = 60,
                       velocity: int = 100, note_duration: float = 1.0,
                       render_duration: float = 1.5) -> npt.NDArray[np.float32]:
        """(N + 1, T): each operator's own output (rows 0..N-1), then the mix (row N)."""
        out, rows = self._render(sample_rate, midi_note, velocity, note_duration,
                                 render_duration, True)
        assert rows is not None
        return np.concatenate([rows, out[None, :]], axis=0)

    # -- description -------------------------------------------------------------------
    def summary(self) -> str:
        """A human-readable description: structure, then every operator's settings."""
        lines = [f"OperatorGraph: {self.num_ops} operator{'s' if self.num_ops > 1 else ''}, "
                 f"carriers {self._carriers or 'none (silent)'}"]
        lines.append("connections: " + (", ".join(
            f"{s} -> {d}" + (f" x{a:g}" if a != 1.0 else "") for s, d, a in self.connections)
            or "none"))
        lines.append("feedback: " + (", ".join(
            (f"{s} self" if s == d else f"{s} -> {d}") + f" level {lv:g}"
            for (s, d), lv in self.feedback.items()) or "none"))
        for i, o in enumerate(self._ops):
            role = "carrier" if i in self._carriers else (
                "modulator" if any(s == i for s, _ in self._mod) else "unused")
            lines.append(f"  op {i} ({role}): level {o.output_level}, ratio "
                         f"{o.frequency_ratio:g}{' Hz fixed' if o.frequency_mode else ''}, "
                         f"detune {o.detune - 7:+d}, EG rates {list(o.envelope.rates)} "
                         f"levels {list(o.envelope.levels)}, velocity sens "
                         f"{o.velocity_sensitivity}")
        return "\n".join(lines)

    def _layers(self) -> list[list[int]]:
        """Operators by depth: row 0 holds the carriers' level; modulators sit above."""
        depth = dict.fromkeys(range(self.num_ops), 0)
        for _ in range(self.num_ops):  # longest path to a sink (acyclic: converges)
            changed = False
            for s, d in self._mod:
                if depth[s] < depth[d] + 1:
                    depth[s] = depth[d] + 1
                    changed = True
            if not changed:
                break
        rows: list[list[int]] = [[] for _ in range(max(depth.values()) + 1)]
        for op, k in depth.items():
            rows[k].append(op)
        return rows[::-1]

    def to_ascii(self) -> str:
        """ASCII art of the signal flow: modulators above the operators they feed,
        ``*`` marks carriers, ``~N`` self-feedback at level N, edges listed between rows."""
        def cell(op: int) -> str:
            fb = self._fb.get((op, op))
            return f"[{op}]{'*' if op in self._carriers else ''}{f'~{fb:g}' if fb else ''}"

        rows = self._layers()
        lines = []
        for r, row in enumerate(rows):
            lines.append("   ".join(cell(op) for op in row))
            if r + 1 < len(rows):
                edges = [f"{s}->{d}" + (f"(x{a:g})" if a != 1.0 else "")
                         for s, d, a in self.connections if s in row]
                lines.append("  |  " + "  ".join(edges))
        lines.append("=" * max(12, max(len(line) for line in lines)) + " out: "
                     + " + ".join(str(c) for c in self._carriers))
        loops = [f"{s}->{d}~{lv:g}" for (s, d), lv in self.feedback.items() if s != d]
        if loops:
            lines.append("feedback loops: " + "  ".join(loops))
        return "\n".join(lines)

    def to_mermaid(self) -> str:
        """A Mermaid flowchart: carriers as rounded nodes into OUT, amounts and feedback
        levels on the edges (feedback dotted)."""
        lines = ["flowchart TD"]
        for i in range(self.num_ops):
            label = f"op {i}"
            if i in self._carriers:
                lines.append(f'    op{i}(["{label} (carrier)"])')
            else:
                lines.append(f'    op{i}["{label}"]')
        lines.append("    out((OUT))")
        for s, d, a in self.connections:
            lines.append(f"    op{s} -->|x{a:g}| op{d}")
        for (s, d), lv in self.feedback.items():
            lines.append(f"    op{s} -.->|fb {lv:g}| op{d}")
        for c in self._carriers:
            lines.append(f"    op{c} --> out")
        lines.append("    classDef carrier fill:#fde68a,stroke:#b45309")
        if self._carriers:
            lines.append("    class " + ",".join(f"op{c}" for c in self._carriers) + " carrier")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"OperatorGraph(num_ops={self.num_ops}, carriers={self._carriers}, "
                f"connections={len(self._mod)}, feedback={len(self._fb)})")
