"""`dx7d render` writes a WAV of the requested length."""

from __future__ import annotations

import argparse
import wave
from pathlib import Path

import numpy as np
from dx7d.engine_cpp import _cli


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    _cli.register(parser.add_subparsers())
    args = parser.parse_args(["render", *argv])
    return int(args.func(args))


def test_render_writes_a_16_bit_wav(shared_banks: Path, tmp_path: Path) -> None:
    out = tmp_path / "brass.wav"
    assert _run(f"{shared_banks / 'rom1A.syx'}:1", "--hold", "0.2", "--length", "0.5",
                "-o", str(out)) == 0
    with wave.open(str(out)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 48000)
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert frames.size == 24000
    assert np.abs(frames).max() > 1000


def test_render_float_wav_has_format_3(shared_banks: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.wav"
    assert _run(str(shared_banks / "rom1A.syx"), "--float", "--rate", "44100",
                "--length", "0.1", "-o", str(out)) == 0
    data = out.read_bytes()
    assert data[:4] == b"RIFF" and data[20:22] == b"\x03\x00"
    assert int.from_bytes(data[40:44], "little") == 4410 * 4


def test_bad_voice_number_is_a_usage_error(tmp_path: Path) -> None:
    assert _run("nowhere.syx:33", "-o", str(tmp_path / "x.wav")) == 2


def test_missing_file_fails_cleanly(tmp_path: Path) -> None:
    assert _run(str(tmp_path / "missing.syx"), "-o", str(tmp_path / "x.wav")) == 1
