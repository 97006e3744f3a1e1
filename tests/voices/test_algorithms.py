"""The 32 algorithms against the DX7 chart (DX7.md 3.13), dexed-py, and their drawings."""

from __future__ import annotations

import numpy as np
import pytest
from dx7d.voices import (
    ALGORITHMS,
    algorithms,
    draw_algorithm,
    get_carriers,
    get_feedback_edge,
    get_mod_matrix,
    get_modulators,
)

DEXED_MISSING = ("dexed-py (the reference engine) installs only on Linux x86-64: it has no "
                 "wheel or source release for this platform")

# The DX7 algorithm chart, panel numbering: algorithm: (carriers, operator taking feedback).
DX7_CHART = {
    1: ({1, 3}, 6), 2: ({1, 3}, 2), 3: ({1, 4}, 6), 4: ({1, 4}, 6),
    5: ({1, 3, 5}, 6), 6: ({1, 3, 5}, 6), 7: ({1, 3}, 6), 8: ({1, 3}, 4),
    9: ({1, 3}, 2), 10: ({1, 4}, 3), 11: ({1, 4}, 6), 12: ({1, 3}, 2),
    13: ({1, 3}, 6), 14: ({1, 3}, 6), 15: ({1, 3}, 2), 16: ({1}, 6),
    17: ({1}, 2), 18: ({1}, 3), 19: ({1, 4, 5}, 6), 20: ({1, 2, 4}, 3),
    21: ({1, 2, 4, 5}, 3), 22: ({1, 3, 4, 5}, 6), 23: ({1, 2, 4, 5}, 6), 24: ({1, 2, 3, 4, 5}, 6),
    25: ({1, 2, 3, 4, 5}, 6), 26: ({1, 2, 4}, 6), 27: ({1, 2, 4}, 3), 28: ({1, 3, 6}, 5),
    29: ({1, 2, 3, 5}, 6), 30: ({1, 2, 3, 6}, 5), 31: ({1, 2, 3, 4, 5}, 6),
    32: ({1, 2, 3, 4, 5, 6}, 6),
}
# Loops: algorithm 4 feeds OP4's output into OP6, algorithm 6 feeds OP5's into OP6.
LOOPS = {4: (4, 6), 6: (5, 6)}


@pytest.mark.parametrize("number", range(1, 33))
def test_carriers_and_feedback_match_the_dx7_chart(number: int) -> None:
    carriers, feedback = DX7_CHART[number]
    alg = algorithms[number - 1]
    assert {c + 1 for c in alg.carriers} == carriers
    assert alg.feedback_op + 1 == feedback
    src, dst = LOOPS.get(number, (feedback, feedback))
    assert alg.feedback_edge == (src - 1, dst - 1)


@pytest.mark.parametrize("number", range(32))
def test_table_agrees_with_dexed_py(number: int) -> None:
    dexed = pytest.importorskip("dexed", reason=DEXED_MISSING)
    ours, theirs = ALGORITHMS[number], dexed.algorithms[number]
    assert ours.carriers == theirs.carriers
    assert ours.modulators == theirs.modulators
    assert np.array_equal(ours.mod_matrix, theirs.mod_matrix)
    assert ours.feedback_edge == theirs.feedback_edge


def test_accessors_are_zero_based_copies() -> None:
    assert get_carriers(0) == [0, 2]
    assert get_modulators(31) == []
    assert get_feedback_edge(3) == (3, 5)
    matrix = get_mod_matrix(0)
    assert matrix[0, 1] == 1  # OP2 modulates OP1
    matrix[0, 1] = 0
    assert ALGORITHMS[0].mod_matrix[0, 1] == 1


def test_out_of_range_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="algorithm must be 0-31"):
        get_carriers(32)


def test_drawing_of_algorithm_1() -> None:
    assert draw_algorithm(0) == "\n".join([
        "      [6]*",
        "       |",
        "      [5]",
        "       |",
        "[2]   [4]",
        " |     |",
        "[1]   [3]",
        " +-----+",
        "algorithm 1, feedback OP6 self",
    ])


def test_drawing_of_algorithm_22_spreads_op6_over_three_carriers() -> None:
    assert draw_algorithm(21) == "\n".join([
        "[2]   [6]*",
        " |     |",
        " |     +-----+-----+",
        "[1]   [3]   [4]   [5]",
        " +-----+-----+-----+",
        "algorithm 22, feedback OP6 self",
    ])


@pytest.mark.parametrize("number", range(32))
def test_every_drawing_shows_each_operator_once_with_carriers_at_the_bottom(number: int) -> None:
    lines = ALGORITHMS[number].drawing.splitlines()
    text = "\n".join(lines)
    for op in range(1, 7):
        assert text.count(f"[{op}]") == 1
    bottom = lines[-3]  # the carrier row, above the output bus and the caption
    assert {int(c) for c in bottom if c.isdigit()} == {c + 1 for c in ALGORITHMS[number].carriers}
    assert lines[-1].startswith(f"algorithm {number + 1}, feedback")
