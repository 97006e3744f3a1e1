"""SVG drawings of the 32 DX7 algorithms, from the algorithm table (dx7d.voices.ALGORITHMS).

Carriers sit on the bottom row, joined by the output bus; each modulator sits one row
above the highest of its targets, centred over them, and a line carries its output
down to each target. The feedback path is drawn as a loop on the right of its source
operator, back into the top of the operator that receives it.
"""

from __future__ import annotations

from functools import cache

from dx7d.voices import ALGORITHMS, Algorithm

__all__ = ["algorithm_svg", "layout"]

BOX = 20  # operator box side, px
STEP_X = 28  # column pitch, px
STEP_Y = 30  # row pitch, px
MARGIN = 6  # px around the drawing
# inside each drawing, so a file on its own looks as it does in the page
_STYLE = ("<style>path{fill:none;stroke-width:1.6}.mod{stroke:#7aa2d6}.fb{stroke:#e0a040;"
          "stroke-dasharray:3 2}.out{stroke:#9a9a9a}rect{stroke-width:1.4}"
          ".carrier{fill:#2d5d8a;stroke:#9cc3ea}.modulator{fill:#3a3a44;stroke:#8a8a9a}"
          "text{fill:#fff;font:bold 11px sans-serif;text-anchor:middle}</style>")


def layout(alg: Algorithm) -> dict[int, tuple[int, float]]:
    """(row, column) per operator 0-5: row 0 = carriers; columns may be fractional."""
    targets = alg.targets()
    row = alg.rows()
    column: dict[int, float] = {}
    for r in range(max(row.values()) + 1):
        ops = [op for op in range(6) if row[op] == r]
        wanted = {op: (sum(column[t] for t in targets[op]) / len(targets[op])
                       if targets[op] else float(i)) for i, op in enumerate(ops)}
        placed: list[int] = []
        for op in sorted(ops, key=lambda o: (wanted[o], o)):
            x = wanted[op]
            if placed:
                x = max(x, column[placed[-1]] + 1.0)  # one column apart at least
            column[op] = x
            placed.append(op)
    low = min(column.values())
    return {op: (row[op], column[op] - low) for op in range(6)}


@cache
def algorithm_svg(number: int, styled: bool = True) -> str:
    """The drawing of algorithm ``number`` (1-32, as on the panel), an SVG document;
    ``styled``: with its own colours (False: for a page whose style sheet has them)."""
    if not 1 <= number <= 32:
        raise ValueError(f"algorithm {number}: allowed 1-32")
    alg = ALGORITHMS[number - 1]
    pos = layout(alg)
    rows = 1 + max(r for r, _ in pos.values())
    columns = max(c for _, c in pos.values()) + 1
    width = MARGIN * 2 + (columns - 1) * STEP_X + BOX + 14  # room for the feedback loop
    height = MARGIN * 2 + (rows - 1) * STEP_Y + BOX + 12  # and for the output bus

    def box(op: int) -> tuple[float, float]:
        """Top-left corner of operator ``op``'s box."""
        r, c = pos[op]
        return MARGIN + c * STEP_X, MARGIN + (rows - 1 - r) * STEP_Y

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
             f'width="{width:g}" height="{height:g}" role="img" '
             f'aria-label="algorithm {number}">',
             f"<title>algorithm {number}</title>", _STYLE if styled else ""]
    for a, b in alg.edges:
        (xa, ya), (xb, yb) = box(a), box(b)
        parts.append(f'<path class="mod" d="M{xa + BOX / 2:g} {ya + BOX:g} '
                     f'L{xa + BOX / 2:g} {ya + BOX + 6:g} L{xb + BOX / 2:g} {yb - 6:g} '
                     f'L{xb + BOX / 2:g} {yb:g}"/>')
    src, dst = alg.feedback_edge
    (xs, ys), (xd, yd) = box(src), box(dst)
    right = max(xs, xd) + BOX + 6  # the loop runs up the right of both boxes
    parts.append(f'<path class="fb" d="M{xs + BOX:g} {ys + BOX / 2:g} L{right:g} {ys + BOX / 2:g} '
                 f'L{right:g} {yd - 5:g} L{xd + BOX / 2:g} {yd - 5:g} L{xd + BOX / 2:g} {yd:g}"/>')
    bus_y = MARGIN + (rows - 1) * STEP_Y + BOX + 7
    carriers = [box(c) for c in alg.carriers]
    xs_c = [x + BOX / 2 for x, _ in carriers]
    parts.append(f'<path class="out" d="M{min(xs_c):g} {bus_y:g} L{max(xs_c):g} {bus_y:g}"/>')
    for x, y in carriers:
        parts.append(f'<path class="out" d="M{x + BOX / 2:g} {y + BOX:g} '
                     f'L{x + BOX / 2:g} {bus_y:g}"/>')
    for op in range(6):
        x, y = box(op)
        kind = "carrier" if op in alg.carriers else "modulator"
        parts.append(f'<rect class="{kind}" x="{x:g}" y="{y:g}" width="{BOX}" height="{BOX}" '
                     'rx="3"/>')
        parts.append(f'<text x="{x + BOX / 2:g}" y="{y + BOX / 2 + 4:g}">{op + 1}</text>')
    parts.append("</svg>")
    return "".join(parts)
