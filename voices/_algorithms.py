"""The 32 DX7 algorithms as data, and an ASCII drawing of each operator stack.

The table (DX7.md 3.13) lists, per algorithm, the modulation edges a→b (a's
output is added to b's phase) with operators numbered 1-6 as on the panel, and
the feedback edge. Everything else (carriers, modulators, matrix, drawing) is
derived from it. The API is 0-based like dexed-py: algorithm 0-31, operator
0-5 = OP1-OP6.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "algorithms",
    "draw_algorithm",
    "get_carriers",
    "get_feedback_edge",
    "get_mod_matrix",
    "get_modulators",
]

# DX7 algorithm number (1-32): (modulation edges "a>b", feedback "src>dst"), panel numbering.
_TABLE: dict[int, tuple[str, str]] = {
    1: ("2>1 4>3 5>4 6>5", "6>6"),
    2: ("2>1 4>3 5>4 6>5", "2>2"),
    3: ("2>1 3>2 5>4 6>5", "6>6"),
    4: ("2>1 3>2 5>4 6>5", "4>6"),
    5: ("2>1 4>3 6>5", "6>6"),
    6: ("2>1 4>3 6>5", "5>6"),
    7: ("2>1 4>3 5>3 6>5", "6>6"),
    8: ("2>1 4>3 5>3 6>5", "4>4"),
    9: ("2>1 4>3 5>3 6>5", "2>2"),
    10: ("2>1 3>2 5>4 6>4", "3>3"),
    11: ("2>1 3>2 5>4 6>4", "6>6"),
    12: ("2>1 4>3 5>3 6>3", "2>2"),
    13: ("2>1 4>3 5>3 6>3", "6>6"),
    14: ("2>1 4>3 5>4 6>4", "6>6"),
    15: ("2>1 4>3 5>4 6>4", "2>2"),
    16: ("2>1 3>1 5>1 4>3 6>5", "6>6"),
    17: ("2>1 3>1 5>1 4>3 6>5", "2>2"),
    18: ("2>1 3>1 4>1 5>4 6>5", "3>3"),
    19: ("3>2 2>1 6>4 6>5", "6>6"),
    20: ("3>1 3>2 5>4 6>4", "3>3"),
    21: ("3>1 3>2 6>4 6>5", "3>3"),
    22: ("2>1 6>3 6>4 6>5", "6>6"),
    23: ("3>2 6>4 6>5", "6>6"),
    24: ("6>3 6>4 6>5", "6>6"),
    25: ("6>4 6>5", "6>6"),
    26: ("3>2 5>4 6>4", "6>6"),
    27: ("3>2 5>4 6>4", "3>3"),
    28: ("2>1 4>3 5>4", "5>5"),
    29: ("4>3 6>5", "6>6"),
    30: ("4>3 5>4", "5>5"),
    31: ("6>5", "6>6"),
    32: ("", "6>6"),
}


def _edges(text: str) -> tuple[tuple[int, int], ...]:
    """'2>1 4>3' -> ((1, 0), (3, 2)): 0-based (modulator, target) pairs."""
    return tuple((int(a) - 1, int(b) - 1) for a, b in (e.split(">") for e in text.split()))


@dataclass(frozen=True)
class Algorithm:
    """One algorithm, 0-based: ``number`` 0-31, operators 0-5 = OP1-OP6."""

    number: int
    edges: tuple[tuple[int, int], ...]  # (modulator, target)
    feedback_edge: tuple[int, int]  # (source, target); equal for self-feedback
    carriers: tuple[int, ...] = field(init=False)
    modulators: tuple[int, ...] = field(init=False)
    mod_matrix: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        sources = {a for a, _ in self.edges}
        matrix = np.zeros((6, 6), dtype=np.int8)
        for a, b in self.edges:
            matrix[b, a] = 1  # mod_matrix[i, j] = 1: op j modulates op i (as dexed-py)
        matrix.flags.writeable = False
        object.__setattr__(self, "carriers", tuple(i for i in range(6) if i not in sources))
        object.__setattr__(self, "modulators", tuple(sorted(sources)))
        object.__setattr__(self, "mod_matrix", matrix)

    @property
    def feedback_op(self) -> int:
        """The operator whose phase input receives the feedback (0-5)."""
        return self.feedback_edge[1]

    @property
    def drawing(self) -> str:
        return draw_algorithm(self.number)

    def targets(self) -> dict[int, list[int]]:
        """Operator -> the operators it modulates (feedback left out)."""
        out: dict[int, list[int]] = {op: [] for op in range(6)}
        for a, b in self.edges:
            out[a].append(b)
        return out

    def rows(self) -> dict[int, int]:
        """Operator -> its row in a drawing: 0 for a carrier, else one above the highest
        row it modulates (the ASCII drawing and the page's SVG both stack this way)."""
        targets = self.targets()
        row: dict[int, int] = {}

        def height(op: int) -> int:
            if op not in row:
                row[op] = 0 if not targets[op] else 1 + max(height(t) for t in targets[op])
            return row[op]

        for op in range(6):
            height(op)
        return row


ALGORITHMS: tuple[Algorithm, ...] = tuple(
    Algorithm(n - 1, _edges(mods), _edges(fb)[0]) for n, (mods, fb) in sorted(_TABLE.items())
)
algorithms = ALGORITHMS  # dexed-py's name: algorithms[i].carriers ...


def _algorithm(number: int) -> Algorithm:
    if not 0 <= number <= 31:
        raise ValueError(f"algorithm must be 0-31 (panel 1-32), got {number}")
    return ALGORITHMS[number]


def get_carriers(number: int) -> list[int]:
    """Carrier operators (0-5) of algorithm ``number`` (0-31)."""
    return list(_algorithm(number).carriers)


def get_modulators(number: int) -> list[int]:
    """Operators (0-5) that modulate another in algorithm ``number`` (0-31)."""
    return list(_algorithm(number).modulators)


def get_mod_matrix(number: int) -> np.ndarray:
    """6x6 int8 matrix, [i, j] = 1 when op j modulates op i (a writable copy)."""
    return _algorithm(number).mod_matrix.copy()


def get_feedback_edge(number: int) -> tuple[int, int]:
    """(source, target) of the feedback path, 0-based."""
    return _algorithm(number).feedback_edge


# drawing -----------------------------------------------------------------------------
_CELL = 6  # characters per column


def _layout(alg: Algorithm) -> dict[int, tuple[int, int]]:
    """(row, column) per operator: carriers on row 0, stacks above their first target."""
    targets = alg.targets()
    mods: dict[int, list[int]] = {i: [] for i in range(6)}
    for a, b in alg.edges:
        mods[b].append(a)
    row = alg.rows()
    column: dict[int, int] = {}
    next_free = 0

    def place(op: int, col: int) -> None:
        nonlocal next_free
        column[op] = col
        next_free = max(next_free, col + 1)
        first = True
        for m in sorted(mods[op]):
            if m in column or min(targets[m]) != op:
                continue  # drawn above its lowest-numbered target only
            place(m, col if first else next_free)
            first = False

    for c in alg.carriers:
        place(c, next_free)
    return {op: (row[op], column[op]) for op in range(6)}


def draw_algorithm(number: int) -> str:
    """ASCII drawing of algorithm ``number`` (0-31): carriers at the bottom, joined by the
    output bus; ``|``/``+--+`` lines carry a modulator down to its targets; the
    operator marked ``*`` takes the feedback."""
    alg = _algorithm(number)
    pos = _layout(alg)
    height = 1 + max(r for r, _ in pos.values())
    width = (1 + max(c for _, c in pos.values())) * _CELL
    fb_src, fb_dst = alg.feedback_edge
    lines: list[str] = []
    for r in range(height - 1, -1, -1):
        ops = [op for op in range(6) if pos[op][0] == r]
        text = [" "] * width
        for op in ops:
            c = pos[op][1] * _CELL
            label = f"[{op + 1}]" + ("*" if op == fb_dst else "")
            text[c:c + len(label)] = label
        lines.append("".join(text).rstrip())
        links = [(a, b) for a, b in alg.edges if pos[a][0] == r]
        if r > 0 or links:
            lines.extend(_links(links, pos, width, r))
    bus = [" "] * width
    cols = sorted(pos[c][1] for c in alg.carriers)
    for c in range(cols[0] * _CELL + 1, cols[-1] * _CELL + 2):
        bus[c] = "-"
    for c in cols:
        bus[c * _CELL + 1] = "+"
    if fb_src == fb_dst:
        feedback = f"OP{fb_src + 1} self"
    else:
        feedback = f"OP{fb_src + 1} -> OP{fb_dst + 1}"
    lines += ["".join(bus).rstrip(), f"algorithm {number + 1}, feedback {feedback}"]
    return "\n".join(lines)


def _links(links: list[tuple[int, int]], pos: dict[int, tuple[int, int]], width: int,
           row: int) -> list[str]:
    """Two text lines joining modulators on ``row`` to their targets below."""
    down = [" "] * width
    bus = [" "] * width
    for a, b in links:
        ca, cb = pos[a][1] * _CELL + 1, pos[b][1] * _CELL + 1
        down[ca] = "|"
        lo, hi = min(ca, cb), max(ca, cb)
        for c in range(lo, hi + 1):
            if bus[c] == " ":
                bus[c] = "-"
        bus[ca] = "+" if lo != hi else "|"
        bus[cb] = "+" if lo != hi else "|"
    down_text, bus_text = "".join(down).rstrip(), "".join(bus).rstrip()
    return [down_text] if down_text == bus_text else [down_text, bus_text]
