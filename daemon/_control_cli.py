"""CLI clients of the control interface: status, send, get-cartridge, program, panic, discover."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["register"]

TIMEOUT_S = 10.0


def _default_control() -> tuple[str, str | None]:
    """control.listen and control.token of the default configuration file, or the
    built-in defaults when it cannot be read."""
    try:
        from dx7d.config import load

        control = load().control
        return control.listen, control.token
    except Exception:
        return "127.0.0.1:7970", None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", metavar="HOST:PORT",
                        help="the daemon's control address (default: control.listen of "
                             "/etc/dx7d/config.yaml, else 127.0.0.1:7970)")
    parser.add_argument("--token", help="bearer token (default: $DX7D_TOKEN, else without "
                                        "--host control.token of the configuration file)")


def _request(args: argparse.Namespace, method: str, path: str,
             body: bytes | None = None) -> bytes:
    host, config_token = args.host, None
    if host is None:  # the local daemon: its configured token too (never sent elsewhere)
        host, config_token = _default_control()
    request = urllib.request.Request(f"http://{host}{path}", data=body, method=method)
    token = args.token or os.environ.get("DX7D_TOKEN") or config_token
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        request.add_header("Content-Type", "application/octet-stream")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace").strip()
        try:
            detail = json.loads(detail)["error"]
        except (ValueError, KeyError, TypeError):
            pass
        raise SystemExit(f"dx7d: {method} {path}: {exc.code} {exc.reason}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SystemExit(f"dx7d: cannot reach the daemon at {host}: {reason}") from None


def _status(args: argparse.Namespace) -> int:
    doc = json.loads(_request(args, "GET", "/status"))
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    audio, midi, program, sysex = doc["audio"], doc["midi"], doc["program"], doc["sysex"]
    print(f"dx7d {doc['version']}, up {doc['uptime_s']:.0f} s")
    print(f"audio    {audio['device']} ({audio['output']}), {audio['sample_rate']} Hz, "
          f"{audio['buffer_frames']} frames; underflows {audio['underflows']}, "
          f"overruns {audio['overruns']}")
    print(f"midi     {midi['api']}, {'listening' if midi['listening'] else 'no MIDI system'}, "
          f"channel {midi['channel']}; connected: {', '.join(midi['connected']) or 'none'}")
    print(f"program  {program['number']} of bank {program['bank']}: {program['name']}; "
          f"voices sounding {doc['engine']['sounding_voices']}")
    print(f"sysex    accepted {sysex['accepted']}, refused {sysex['refused']}"
          + (f" (last: {sysex['last_refusal']})" if sysex["last_refusal"] else ""))
    return 0


def _send(args: argparse.Namespace) -> int:
    from dx7d.voices import BankDump, SysexError, VoiceDump, bank_dump, parse_sysex

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"dx7d: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        message = parse_sysex(data)
    except SysexError as strict:
        from dx7d.voices import Bank

        try:  # not one clean message: a dump among others, a raw payload, an old rip
            bank = Bank.from_bytes(data, source=args.file)
        except SysexError as exc:
            print(f"dx7d: {exc}", file=sys.stderr)
            return 1
        report = bank.report
        if report is not None and report.kind == "single-voice dumps":
            print(f"dx7d: {args.file}: not sent: {strict} (it holds single-voice dumps, not "
                  "one voice or a cartridge)", file=sys.stderr)
            return 1
        problems = report.problems() if report is not None else []
        if problems and not args.repair:
            print(f"dx7d: {args.file}: not sent: {strict}; read leniently it needs repairs "
                  f"({'; '.join(problems)}); --repair sends the repaired cartridge",
                  file=sys.stderr)
            return 1
        if problems:
            print(f"{args.file}: repaired: {'; '.join(problems)}")
        message = BankDump(0, bank)
        data = bank_dump(bank, 0)
    if isinstance(message, BankDump):
        result = json.loads(_request(args, "PUT", "/cartridge", data))
        print(f"cartridge stored: {', '.join(n.strip() for n in result['stored'])}")
    elif isinstance(message, VoiceDump):
        result = json.loads(_request(args, "PUT", "/voice", data))
        print(f"voice loaded: {result['voice']}")
    else:
        print(f"dx7d: {args.file}: holds a {type(message).__name__}, not a voice or cartridge "
              "dump", file=sys.stderr)
        return 1
    return 0


def _get_cartridge(args: argparse.Namespace) -> int:
    data = _request(args, "GET", "/cartridge")
    Path(args.output).write_bytes(data)
    print(f"{args.output}: {len(data)} bytes")
    return 0


def _program(args: argparse.Namespace) -> int:
    if not 1 <= args.number <= 32:
        print("dx7d: program: allowed 1-32", file=sys.stderr)
        return 2
    result = json.loads(_request(args, "POST", f"/program/{args.number}", b""))
    print(f"program {result['program']}: {result['name']}")
    return 0


def _panic(args: argparse.Namespace) -> int:
    _request(args, "POST", "/panic", b"")
    print("all notes off")
    return 0


def _discover(args: argparse.Namespace) -> int:
    from .discovery import browse

    try:
        found = browse(args.timeout)
    except (OSError, RuntimeError) as exc:  # zeroconf: no interface up, no multicast
        print(f"dx7d: discover: cannot listen for mDNS answers: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([dataclasses.asdict(module) for module in found], indent=2))
    else:
        for module in found:
            where = ", ".join(f"[{a}]:{module.port}" if ":" in a else f"{a}:{module.port}"
                              for a in module.addresses)
            print(f"{module.name}\t{where}\tdx7d {module.version}")
    if not found:
        print(f"no dx7d module answered within {args.timeout:g} s", file=sys.stderr)
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the control-interface client commands."""
    p = subparsers.add_parser("status", help="show a running daemon's status")
    _common(p)
    p.add_argument("--json", action="store_true", help="print the raw JSON document")
    p.set_defaults(func=_status)
    p = subparsers.add_parser("send", help="send a cartridge or voice .syx to a running daemon")
    _common(p)
    p.add_argument("file", metavar="FILE.syx")
    p.add_argument("--repair", action="store_true",
                   help="send a file with a bad checksum or out-of-range values as repaired "
                        "(by default such a file is refused)")
    p.set_defaults(func=_send)
    p = subparsers.add_parser("get-cartridge", help="save a running daemon's cartridge")
    _common(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE.syx")
    p.set_defaults(func=_get_cartridge)
    p = subparsers.add_parser("program", help="select voice N (1-32) of the current bank")
    _common(p)
    p.add_argument("number", type=int, metavar="N")
    p.set_defaults(func=_program)
    p = subparsers.add_parser("panic", help="all sound off and all notes off")
    _common(p)
    p.set_defaults(func=_panic)
    p = subparsers.add_parser("discover", help="list the dx7d modules on the LAN (zeroconf)")
    p.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS",
                   help="how long to listen for answers (default 3)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list (name, addresses, port, version, path, "
                        "answered_after_s)")
    p.set_defaults(func=_discover)
