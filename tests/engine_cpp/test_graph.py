"""OperatorGraph: free FM topologies rendered by the C++ engine (dx7_graph.h)."""

from __future__ import annotations

import numpy as np
import pytest
from dx7d.engine_cpp import GraphError, OfflineSynth, OperatorGraph
from dx7d.engine_cpp.fidelity import compare, summarize
from dx7d.voices import PARAMETERS, Patch


def _seed_chain() -> OperatorGraph:
    """The Quick Start's 7-operator chain."""
    graph = OperatorGraph(num_ops=7)
    for i in range(7):
        graph.op[i].output_level = 99
        graph.op[i].frequency_coarse = i + 1
    for i in range(6, 0, -1):
        graph.connect(i, i - 1)
    graph.set_carriers([0])
    graph.set_feedback(6, level=7)
    return graph


def test_seed_chain_shapes() -> None:
    graph = _seed_chain()
    audio = graph.render(sample_rate=44100, midi_note=60, velocity=100, note_duration=1.0,
                         render_duration=1.5)
    assert audio.shape == (66150,) and audio.dtype == np.float32
    assert 0.5 < np.abs(audio).max() <= 1.01  # one carrier at full level
    rows = graph.render_all_ops(midi_note=60)
    assert rows.shape == (8, 66150)
    assert np.array_equal(rows[7], audio)
    assert np.array_equal(rows[0], rows[7])  # the mix is op 0 alone


def _random_patch(rng: np.random.Generator, algorithm: int) -> Patch:
    """Random operators; no LFO depth, flat pitch EG, no transpose (a graph has none)."""
    patch = Patch(name="RANDOM")
    for p in PARAMETERS[:126]:
        patch.set_param(p.number, int(rng.integers(p.low, p.high + 1)))
    for op in patch.op:
        op.output_level = int(rng.integers(60, 100))
        op.envelope.rates = [int(x) for x in rng.integers(40, 100, 4)]
        op.envelope.levels = [99, int(rng.integers(50, 100)), int(rng.integers(30, 100)), 0]
        op.frequency_mode = 0
        op.frequency_coarse = int(rng.integers(0, 8))
        op.amp_mod_sensitivity = 0  # a graph has no LFO to modulate amplitude
    patch.algorithm = algorithm
    patch.feedback = int(rng.integers(0, 8))
    patch.lfo.pitch_mod_depth = patch.lfo.amp_mod_depth = 0
    patch.pitch_envelope.levels = [50, 50, 50, 50]
    patch.transpose = 24
    return patch


def test_from_algorithm_sounds_like_the_patch() -> None:
    """32 algorithms x 3 random operator sets: median <= 1 dB on the issue-4 metric."""
    rng = np.random.default_rng(32)
    synth = OfflineSynth(normalize_feedback=True)  # the graph's feedback scale
    results, labels, exact = [], [], 0
    for algorithm in range(32):
        for k in range(3):
            patch = _random_patch(rng, algorithm)
            synth.load_patch(patch)
            ref = synth.render(60, 100, 0.5, 0.8)
            graph = OperatorGraph.from_algorithm(algorithm, feedback=patch.feedback,
                                                 patch=patch)
            ours = graph.render(midi_note=60, note_duration=0.5, render_duration=0.8)
            exact += int(np.array_equal(ours, ref))
            results.append(compare(ours, ref, 44100))
            labels.append(f"algorithm {algorithm} #{k}")
    summary = summarize(results, labels)
    assert summary.spectral_median_db <= 1.0, summary.worst[:3]
    assert summary.envelope_median_db <= 1.0, summary.worst[:3]
    assert exact >= 48, exact  # most are sample for sample the voice's output


def test_from_algorithm_structure() -> None:
    graph = OperatorGraph.from_algorithm(15)  # DX7 algorithm 16
    assert graph.carriers == [0]
    assert graph.connections == [(1, 0, 1.0), (2, 0, 1.0), (3, 2, 1.0), (4, 0, 1.0),
                                 (5, 4, 1.0)]
    loop = OperatorGraph.from_algorithm(3, feedback=5)  # DX7 algorithm 4: OP4 -> OP6
    assert loop.feedback == {(3, 5): 5.0}


def test_from_matrix_with_op_and_edge_feedback() -> None:
    m = np.zeros((4, 4), dtype=np.float32)
    m[0, 1] = 1.0  # op 1 modulates op 0
    m[1, 2] = 1.0  # op 2 modulates op 1
    graph = OperatorGraph.from_matrix(m, carriers=[0], feedback={3: 0.5})
    assert graph.connections == [(1, 0, 1.0), (2, 1, 1.0)]
    assert graph.feedback == {(3, 3): 0.5}
    assert np.array_equal(graph.mod_matrix, m)
    looped = OperatorGraph.from_matrix(m, carriers=[0], feedback={(0, 2): 6})
    assert looped.feedback == {(0, 2): 6.0}
    plain = OperatorGraph.from_matrix(m, carriers=[0])
    assert not np.array_equal(looped.render(render_duration=0.3),
                              plain.render(render_duration=0.3))


def test_cycles_are_refused_naming_the_operators() -> None:
    graph = OperatorGraph(4).connect(1, 0).connect(2, 1).connect(3, 2)
    with pytest.raises(GraphError, match=r"op 0 -> op 3 closes the cycle 3 -> 2 -> 1 -> 0 -> 3"):
        graph.connect(0, 3)
    m = np.zeros((3, 3))
    m[0, 1] = m[1, 2] = m[2, 0] = 1
    with pytest.raises(GraphError, match="cycle"):
        OperatorGraph.from_matrix(m, carriers=[0])


def test_a_loop_closed_by_feedback_renders() -> None:
    graph = OperatorGraph(3).connect(2, 1).connect(1, 0).set_feedback(0, 2, level=6)
    audio = graph.render(render_duration=0.3)
    assert np.all(np.isfinite(audio)) and np.any(audio)


def test_self_modulation_goes_through_feedback() -> None:
    with pytest.raises(GraphError, match="set_feedback"):
        OperatorGraph(2).connect(1, 1)
    m = np.eye(2)
    with pytest.raises(GraphError, match="feedback="):
        OperatorGraph.from_matrix(m, carriers=[0])


def test_both_feedback_forms() -> None:
    a = OperatorGraph(2).connect(1, 0).set_feedback(1, level=7)
    b = OperatorGraph(2).connect(1, 0).set_feedback(1, 1, level=7)
    assert a.feedback == b.feedback == {(1, 1): 7.0}
    assert np.array_equal(a.render(render_duration=0.2), b.render(render_duration=0.2))
    assert a.set_feedback(1, level=0).feedback == {}


def test_feedback_level_changes_the_sound() -> None:
    quiet, loud = (OperatorGraph(1).set_feedback(0, level=lv).render(render_duration=0.3)
                   for lv in (3, 7))
    assert compare(loud, quiet, 44100).spectral_db > 3.0


def test_amount_scales_the_modulation() -> None:
    full = OperatorGraph(2).connect(1, 0, 1.0).render(render_duration=0.3)
    half = OperatorGraph(2).connect(1, 0, 0.5).render(render_duration=0.3)
    none = OperatorGraph(2).render(render_duration=0.3)
    assert compare(half, full, 44100).spectral_db > 1.0
    assert compare(half, none, 44100).spectral_db > 1.0


@pytest.mark.parametrize("n", [1, 32, 40])
def test_any_number_of_operators(n: int) -> None:
    graph = OperatorGraph(num_ops=n)
    for i in range(n - 1, 0, -1):
        graph.op[i].output_level = 70
        graph.connect(i, i - 1)
    graph.set_carriers(range(0, n, 5))
    rows = graph.render_all_ops(render_duration=0.2)
    assert rows.shape == (n + 1, 8820)
    assert np.all(np.isfinite(rows)) and np.any(rows[n])
    carriers = rows[graph.carriers].sum(axis=0, dtype=np.float64)
    assert np.allclose(rows[n], carriers, atol=1e-6)


def test_method_chaining_returns_the_graph() -> None:
    graph = OperatorGraph(3)
    assert graph.connect(1, 0) is graph
    assert graph.disconnect(1, 0) is graph
    assert graph.set_carriers([0, 1]) is graph
    assert graph.set_feedback(2, level=4) is graph
    assert graph.disconnect_all() is graph


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda g: g.connect(0, 3), "operator index must be 0..2"),
        (lambda g: g.connect(-1, 0), "operator index must be 0..2"),
        (lambda g: g.op[-1], "operator index must be 0..2"),
        (lambda g: g.set_feedback(0, level=8), "feedback level must be 0..7"),
        (lambda g: g.set_feedback(0, level="x"), "feedback level must be a number"),
        (lambda g: g.set_carriers([5]), "operator index"),
        (lambda g: g.disconnect(1, 0), "not connected"),
        (lambda g: g.connect(1, 0, float("nan")), "finite"),
        (lambda g: g.render(midi_note=200), "midi_note must be 0..127"),
        (lambda g: OperatorGraph.from_matrix(np.zeros((2, 3)), [0]), "square"),
        (lambda g: OperatorGraph.from_algorithm(32), "algorithm index must be 0..31"),
        (lambda g: OperatorGraph(0), "num_ops must be 1..256"),
    ],
)
def test_clear_errors(call: object, message: str) -> None:
    with pytest.raises(GraphError, match=message):
        call(OperatorGraph(3))  # type: ignore[operator]


def test_operator_parameters_are_checked_and_named() -> None:
    graph = OperatorGraph(3)
    with pytest.raises(ValueError, match=r"op\[2\] output level must be 0-99"):
        graph.op[2].output_level = 100
    with pytest.raises(ValueError, match=r"op\[1\] EG rate"):
        graph.op[1].envelope.rates = [99, 99, 99, 120]


def test_frequency_ratio() -> None:
    op = OperatorGraph(1).op[0]
    op.frequency_coarse, op.frequency_fine = 3, 50
    assert op.frequency_ratio == pytest.approx(4.5)
    op.frequency_coarse = 0
    assert op.frequency_ratio == pytest.approx(0.5 * 1.5)
    op.frequency_ratio = 2.0
    assert (op.frequency_coarse, op.frequency_fine) == (2, 0)
    op.frequency_mode, op.frequency_coarse, op.frequency_fine = 1, 2, 0
    assert op.frequency_ratio == pytest.approx(100.0)  # fixed mode: Hz


def test_drawings_name_carriers_amounts_and_feedback() -> None:
    graph = OperatorGraph.from_algorithm(0, feedback=7)
    mermaid = graph.to_mermaid()
    assert mermaid.startswith("flowchart TD")
    assert 'op0(["op 0 (carrier)"])' in mermaid and "op0 --> out" in mermaid
    assert "op1 -->|x1| op0" in mermaid and "op5 -.->|fb 7| op5" in mermaid
    ascii_art = graph.to_ascii()
    assert "[0]*" in ascii_art and "[2]*" in ascii_art and "[5]~7" in ascii_art
    summary = graph.summary()
    assert "carriers [0, 2]" in summary and "5 self level 7" in summary
