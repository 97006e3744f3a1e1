"""Golden snapshots: exact output of a few voices (regenerate with DX7D_REGEN_GOLDEN=1)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from dx7d.engine_cpp import Synth
from dx7d.voices import Bank

GOLDEN = Path(__file__).parent / "golden"
CASES = {  # name: (rom1A voice number, note, velocity)
    "brass1": (1, 48, 100),
    "epiano1": (11, 60, 127),
    "eorgan1": (17, 72, 64),
    "tubbells": (26, 84, 100),
}
REGEN = os.environ.get("DX7D_REGEN_GOLDEN") == "1"


def _render(vced: bytes, note: int, velocity: int) -> np.ndarray:
    synth = Synth()
    synth.load_patch(vced)
    return synth.render_note(note, velocity, note_duration=0.25, render_duration=0.4)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_snapshot(name: str, request: pytest.FixtureRequest) -> None:
    number, note, velocity = CASES[name]
    meta_path, samples_path = GOLDEN / f"{name}.json", GOLDEN / f"{name}.npy"
    if REGEN:
        shared_banks: Path = request.getfixturevalue("shared_banks")
        vced = Bank.read(shared_banks / "rom1A.syx")[number - 1].to_vced()
        out = _render(vced, note, velocity)
        meta = {"vced": vced.hex(), "note": note, "velocity": velocity, "frames": out.size,
                "sha256": hashlib.sha256(out.tobytes()).hexdigest()}
        meta_path.write_text(json.dumps(meta, indent=1) + "\n")
        np.save(samples_path, out[::48].copy())
    meta = json.loads(meta_path.read_text())
    out = _render(bytes.fromhex(meta["vced"]), meta["note"], meta["velocity"])
    expected = np.load(samples_path)
    np.testing.assert_array_equal(out[::48], expected)
    assert hashlib.sha256(out.tobytes()).hexdigest() == meta["sha256"]
