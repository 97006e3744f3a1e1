"""The C++ routing table decodes to the DX7 algorithm chart of DX7.md 3.13."""

from __future__ import annotations

import re

import pytest
from dx7d.engine_cpp import _loader

# DX7.md 3.13: carriers; modulation edges a>b (a modulates b); feedback: "n" = OP n on
# itself, "a>b" = loop from a's output into b.
CHART = """
1 1,3 2>1 4>3 5>4 6>5 | 6
2 1,3 2>1 4>3 5>4 6>5 | 2
3 1,4 2>1 3>2 5>4 6>5 | 6
4 1,4 2>1 3>2 5>4 6>5 | 4>6
5 1,3,5 2>1 4>3 6>5 | 6
6 1,3,5 2>1 4>3 6>5 | 5>6
7 1,3 2>1 4>3 5>3 6>5 | 6
8 1,3 2>1 4>3 5>3 6>5 | 4
9 1,3 2>1 4>3 5>3 6>5 | 2
10 1,4 2>1 3>2 5>4 6>4 | 3
11 1,4 2>1 3>2 5>4 6>4 | 6
12 1,3 2>1 4>3 5>3 6>3 | 2
13 1,3 2>1 4>3 5>3 6>3 | 6
14 1,3 2>1 4>3 5>4 6>4 | 6
15 1,3 2>1 4>3 5>4 6>4 | 2
16 1 2>1 3>1 5>1 4>3 6>5 | 6
17 1 2>1 3>1 5>1 4>3 6>5 | 2
18 1 2>1 3>1 4>1 5>4 6>5 | 3
19 1,4,5 2>1 3>2 6>4 6>5 | 6
20 1,2,4 3>1 3>2 5>4 6>4 | 3
21 1,2,4,5 3>1 3>2 6>4 6>5 | 3
22 1,3,4,5 2>1 6>3 6>4 6>5 | 6
23 1,2,4,5 3>2 6>4 6>5 | 6
24 1,2,3,4,5 6>3 6>4 6>5 | 6
25 1,2,3,4,5 6>4 6>5 | 6
26 1,2,4 3>2 5>4 6>4 | 6
27 1,2,4 3>2 5>4 6>4 | 3
28 1,3,6 2>1 4>3 5>4 | 5
29 1,2,3,5 4>3 6>5 | 6
30 1,2,3,6 4>3 5>4 | 5
31 1,2,3,4,5 6>5 | 6
32 1,2,3,4,5,6 | 6
"""


def _decode(flags: list[int]) -> tuple[set[int], set[tuple[int, int]], str]:
    """Simulate the bus encoding (OP6 first) -> (carriers, edges, feedback)."""
    buses: dict[int, set[int]] = {1: set(), 2: set()}
    carriers: set[int] = set()
    edges: set[tuple[int, int]] = set()
    fb_in = fb_out = 0
    for index, f in enumerate(flags):
        op = 6 - index
        inbus, outbus, add = (f >> 4) & 3, f & 3, bool(f & 4)
        if inbus:
            edges |= {(src, op) for src in buses[inbus]}
        if outbus == 0:
            carriers.add(op)
        else:
            buses[outbus] = (buses[outbus] | {op}) if add else {op}
        if f & 0x40:
            fb_in = op
        if f & 0x80:
            fb_out = op
    feedback = str(fb_in) if fb_in == fb_out else f"{fb_out}>{fb_in}"
    return carriers, edges, feedback


@pytest.mark.parametrize("row", [r for r in CHART.strip().splitlines()], ids=lambda r: r.split()[0])
def test_routing_table_matches_the_chart(row: str) -> None:
    left, feedback = (part.strip() for part in row.split("|"))
    number, carriers, *mods = left.split()
    lib = _loader.load()
    flags = [int(lib.dx7_algorithm_route(int(number) - 1, i)) for i in range(6)]
    got_carriers, got_edges, got_fb = _decode(flags)
    assert got_carriers == {int(c) for c in carriers.split(",")}
    assert got_edges == {tuple(int(x) for x in re.split(">", m)) for m in mods}
    assert got_fb == feedback
