"""`dx7d bank show|check` and `dx7d voice show`: look at cartridges and voices."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._algorithms import draw_algorithm
from ._bank import Bank
from ._errors import SysexError
from ._files import parse_voice_spec
from ._patch import CURVE_NAMES, Patch
from ._spec import OPERATOR_BLOCK, PARAMETERS

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `bank` and `voice` commands to the `dx7d` parser."""
    bank = subparsers.add_parser("bank", help="show or check DX7 cartridge (.syx) files")
    bank_sub = bank.add_subparsers(dest="bank_command", metavar="ACTION", required=True)
    show = bank_sub.add_parser("show", help="the 32 voice names with their algorithms")
    show.add_argument("file", type=Path, metavar="FILE")
    show.set_defaults(func=_bank_show)
    check = bank_sub.add_parser("check", help="one line per file: ok, or why it is refused")
    check.add_argument("files", type=Path, nargs="+", metavar="FILE")
    check.set_defaults(func=_bank_check)

    voice = subparsers.add_parser("voice", help="show a DX7 voice")
    voice_sub = voice.add_subparsers(dest="voice_command", metavar="ACTION", required=True)
    vshow = voice_sub.add_parser("show", help="every parameter of voice N (1-32) of FILE")
    vshow.add_argument("spec", metavar="FILE[:N]", help="a .syx file, optionally :N (1-32)")
    vshow.set_defaults(func=_voice_show)


def _read(path: Path) -> Bank | None:
    try:
        return Bank.read(path)
    except (SysexError, OSError) as exc:
        print(f"{path}: refused: {_reason(exc, path)}", file=sys.stderr)
        return None


def _reason(exc: Exception, path: Path) -> str:
    """The error without the file name that the caller prints anyway."""
    text = str(exc)
    return text.removeprefix(f"{path}: ")


def _bank_show(args: argparse.Namespace) -> int:
    bank = _read(args.file)
    if bank is None:
        return 1
    for i, patch in enumerate(bank):
        print(f"{i + 1:2d}  {patch.display_name:<10}  algorithm {patch.algorithm + 1:2d}")
    _print_report(bank)
    return 0


def _print_report(bank: Bank) -> None:
    report = bank.report
    if report is not None and (problems := report.problems()):
        print(f"note: {'; '.join(problems)}", file=sys.stderr)


def _bank_check(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            report = Bank.read(path).report
        except (SysexError, OSError) as exc:
            print(f"{path}: refused: {_reason(exc, path)}")
            failed += 1
            continue
        assert report is not None
        problems = report.problems()
        extra = f" ({report.kind}, {report.voices} voices)" if report.voices < 32 else ""
        print(f"{path}: ok{extra}" + (f", repaired: {'; '.join(problems)}" if problems else ""))
    return 1 if failed else 0


def _voice_show(args: argparse.Namespace) -> int:
    try:
        path, number = parse_voice_spec(args.spec)
    except ValueError as exc:
        print(f"dx7d voice show: {exc}", file=sys.stderr)
        return 2
    bank = _read(path)
    if bank is None:
        return 1
    print(f"{path} voice {number}: {bank[number - 1].display_name}")
    print(format_patch(bank[number - 1]))
    _print_report(bank)
    return 0


def format_patch(patch: Patch) -> str:
    """Every parameter of ``patch`` as a readable table, then the algorithm drawing."""
    lfo, peg = patch.lfo, patch.pitch_envelope
    lines = [
        f"algorithm {patch.algorithm + 1}   feedback {patch.feedback}   "
        f"osc key sync {_on(patch.osc_key_sync)}   transpose {patch.transpose - 24:+d}",
        f"LFO {lfo.wave}   speed {lfo.speed}   delay {lfo.delay}   PMD {lfo.pitch_mod_depth}"
        f"   AMD {lfo.amp_mod_depth}   key sync {_on(lfo.sync)}   "
        f"pitch mod sens {patch.pitch_mod_sensitivity}",
        f"pitch EG rates {_four(peg.rates)}   levels {_four(peg.levels)}",
        "",
        f"{'':<28}" + "".join(f"{'OP' + str(i + 1):>6}" for i in range(6)),
        f"{'on':<28}" + "".join(f"{_on(op.enabled):>6}" for op in patch.op),
    ]
    for offset in range(OPERATOR_BLOCK):
        label = PARAMETERS[offset].label.split(" ", 1)[1]  # drop "OP6 "
        cells = []
        for op in range(6):
            value = patch.get_param((5 - op) * OPERATOR_BLOCK + offset)
            if offset in (11, 12):
                cells.append(CURVE_NAMES[value])
            elif offset == 17:
                cells.append("fixed" if value else "ratio")
            else:
                cells.append(str(value))
        lines.append(f"{label:<28}" + "".join(f"{c:>6}" for c in cells))
    lines += ["", draw_algorithm(patch.algorithm)]
    return "\n".join(lines)


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def _four(values: tuple[int, ...]) -> str:
    return " ".join(f"{v:2d}" for v in values)
