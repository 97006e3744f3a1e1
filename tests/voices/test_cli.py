"""`dx7d bank show|check` and `dx7d voice show`, through the real `dx7d` entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dx7d.daemon.cli import main
from dx7d.voices import Bank, Patch

DX7D = Path(sys.executable).with_name("dx7d")


def test_bank_show_lists_names_and_algorithms(
    shared_banks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bank", "show", str(shared_banks / "rom1A.syx")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 32
    assert lines[0] == " 1  BRASS   1   algorithm 22"
    assert lines[31] == "32  TAKE OFF    algorithm 10"


def test_bank_check_ok_and_refused(
    shared_banks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.syx"
    junk.write_bytes(b"\xf0\x43\x00\x09\x20\x00" + bytes(100))  # truncated dump
    status = main(["bank", "check", str(shared_banks / "rom1A.syx"), str(junk)])
    out = capsys.readouterr().out.splitlines()
    assert status == 1
    assert out[0] == f"{shared_banks / 'rom1A.syx'}: ok"
    assert out[1].startswith(f"{junk}: refused: 32-voice dump truncated or missing F7")


def test_bank_check_reports_repairs_and_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(Bank.init().to_syx())
    data[4102] ^= 0x01
    path = tmp_path / "stale.syx"
    path.write_bytes(bytes(data))
    assert main(["bank", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: ok, repaired: bad checksum: file has " in out


def test_voice_show_prints_every_parameter_and_the_algorithm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = Bank.init()
    bank[2] = Patch(name="THIRD").replace(algorithm=4, op2_detune=3, op6_left_curve=2)
    bank.write(tmp_path / "b.syx")
    assert main(["voice", "show", f"{tmp_path / 'b.syx'}:3"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"{tmp_path / 'b.syx'} voice 3: THIRD"
    detune = next(line for line in out.splitlines() if line.startswith("detune"))
    assert detune.split()[1:] == ["7", "3", "7", "7", "7", "7"]
    curve = next(line for line in out.splitlines() if "left curve" in line)
    assert curve.split()[-1] == "+EXP"
    assert "algorithm 5, feedback OP6 self" in out


def test_voice_show_refuses_a_bad_voice_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Bank.init().write(tmp_path / "b.syx")
    assert main(["voice", "show", f"{tmp_path / 'b.syx'}:33"]) == 2
    assert "voice number must be 1-32" in capsys.readouterr().err


def test_dx7d_command_runs_bank_show(shared_banks: Path) -> None:
    result = subprocess.run([str(DX7D), "bank", "show", str(shared_banks / "rom1A.syx")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "TAKE OFF" in result.stdout
