"""`dx7d render`: render one note of a DX7 voice to a WAV file (offline)."""

from __future__ import annotations

import argparse
import sys
import wave
from pathlib import Path

import numpy as np

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `render` subcommand to the dx7d command line."""
    p = subparsers.add_parser("render", help="render one note of a DX7 voice to a WAV file")
    p.add_argument("spec", metavar="FILE.syx[:N]", help="a .syx file, optionally :N (1-32)")
    p.add_argument("--note", type=int, default=60, help="MIDI note 0-127 (default 60)")
    p.add_argument("--velocity", type=int, default=100, help="velocity 1-127 (default 100)")
    p.add_argument("--hold", type=float, default=1.0, help="seconds the key is held (1.0)")
    p.add_argument("--length", type=float, default=2.0, help="seconds rendered (2.0)")
    p.add_argument("--rate", type=int, default=48000, help="sample rate in Hz (48000)")
    p.add_argument("--float", dest="as_float", action="store_true",
                   help="write 32-bit float samples instead of 16-bit PCM")
    p.add_argument("--loader", choices=("auto", "cppyy", "compiled"), default=None,
                   help="how the C++ engine is compiled (default auto: cppyy if it imports, "
                        "else g++)")
    p.add_argument("-o", "--output", type=Path, required=True, help="the WAV file to write")
    p.set_defaults(func=run)


def write_wav(path: Path, samples: np.ndarray, rate: int, as_float: bool) -> None:
    """Mono WAV: 16-bit PCM (clipped to [-1, 1]) or IEEE float32 (format 3)."""
    data = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    if not as_float:
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes((data * 32767.0).round().astype("<i2").tobytes())
        return
    payload = data.astype("<f4").tobytes()
    fmt = (b"fmt " + (16).to_bytes(4, "little") + (3).to_bytes(2, "little")
           + (1).to_bytes(2, "little") + rate.to_bytes(4, "little")
           + (rate * 4).to_bytes(4, "little") + (4).to_bytes(2, "little")
           + (32).to_bytes(2, "little"))
    body = b"WAVE" + fmt + b"data" + len(payload).to_bytes(4, "little") + payload
    path.write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)


def run(args: argparse.Namespace) -> int:
    """Render args.spec's voice; 0 on success, 1 for unreadable input, 2 for bad options."""
    from dx7d.voices import Bank, SysexError, parse_voice_spec

    try:
        path, number = parse_voice_spec(args.spec)
        if not 0 <= args.note <= 127 or not 1 <= args.velocity <= 127:
            raise ValueError("note must be 0-127 and velocity 1-127")
        if args.hold < 0 or args.length <= 0 or not 8000 <= args.rate <= 192000:
            raise ValueError("need --hold >= 0, --length > 0 and --rate in 8000..192000")
    except ValueError as exc:
        print(f"dx7d render: {exc}", file=sys.stderr)
        return 2
    from ._synth import Synth

    try:
        patch = Bank.read(path)[number - 1]
    except (OSError, SysexError) as exc:
        print(f"dx7d render: {exc}", file=sys.stderr)
        return 1
    synth = Synth(sample_rate=args.rate, polyphony=1, loader=args.loader)
    synth.load_patch(patch)
    synth.note_on(args.note, args.velocity, frame=0)
    held = round(args.hold * args.rate)
    total = round(args.length * args.rate)
    synth.note_off(args.note, frame=held)
    audio = synth.render(total)
    write_wav(args.output, audio, args.rate, args.as_float)
    print(f"{args.output}: {patch.name.rstrip()} note {args.note} velocity {args.velocity}, "
          f"{total} frames at {args.rate} Hz, peak {float(np.abs(audio).max()):.3f}")
    return 0
