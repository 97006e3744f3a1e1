"""Fidelity of dx7d.engine_cpp against dexed-py (issue 4 targets) over a CI-sized subset.

bench/engine.py runs the full sets; this runs 24 random voices and all 32
rom1A voices at note 60 velocity 100, plus 8 of each at notes 36/84 and
velocities 64/127 (120 note pairs). A missing engine is an error, not a skip.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from dx7d.engine_cpp.fidelity import (
    MEDIAN_MAX_DB,
    OFFSET_STD_MAX_DB,
    P90_MAX_DB,
    FidelitySummary,
    summarize,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _engines import DexedRenderer, OursRenderer, Sweep, sweep
from _voicesets import Voice, bank_vceds, random_voices

pytestmark = pytest.mark.slow
pytest.importorskip("dexed", reason="dexed-py (the reference engine) installs only on Linux "
                    "x86-64: it has no wheel or source release for this platform")

CENTRE = [(60, 100)]
CORNERS = [(36, 64), (36, 127), (84, 64), (84, 127)]


def _merge(sweeps: list[Sweep]) -> FidelitySummary:
    labels = [label for s in sweeps for label in s.labels]
    return summarize([r for s in sweeps for r in s.results], labels)


@pytest.fixture(scope="module")
def summary(shared_banks: Path) -> FidelitySummary:
    ours, ref = OursRenderer(), DexedRenderer()
    rom = [
        Voice(f"rom1A#{i:02d}", vced)
        for i, vced in enumerate(bank_vceds(shared_banks / "rom1A.syx"), start=1)
    ]
    rnd = random_voices(24)
    return _merge([
        sweep(rnd, CENTRE, ours, ref),
        sweep(rom, CENTRE, ours, ref),
        sweep(rnd[::3], CORNERS, ours, ref),
        sweep(rom[::4], CORNERS, ours, ref),
    ])


def _worst(summary: FidelitySummary) -> str:
    return "; ".join(
        f"{label}: spectral {r.spectral_db:.2f}, envelope {r.envelope_db:.2f}, "
        f"offset {r.level_offset_db:.2f} ({r.status})"
        for label, r in summary.worst[:5]
    )


def test_spectral_distance_median_and_p90(summary: FidelitySummary) -> None:
    assert summary.spectral_median_db <= MEDIAN_MAX_DB, _worst(summary)
    assert summary.spectral_p90_db <= P90_MAX_DB, _worst(summary)


def test_envelope_distance_median_and_p90(summary: FidelitySummary) -> None:
    assert summary.envelope_median_db <= MEDIAN_MAX_DB, _worst(summary)
    assert summary.envelope_p90_db <= P90_MAX_DB, _worst(summary)


def test_level_offset_is_one_global_gain(summary: FidelitySummary) -> None:
    assert summary.level_offset_std_db <= OFFSET_STD_MAX_DB, (
        f"level offsets: mean {summary.level_offset_mean_db:.2f} dB, "
        f"std {summary.level_offset_std_db:.2f} dB; worst: {_worst(summary)}"
    )
