"""Fixtures for the engine tests: a compiled Synth and a VCED voice builder.

Every engine test runs once per loader (issue 9): the autouse ``engine_loader`` fixture
makes "cppyy" or "compiled" the default of every ``Synth()`` the test builds; tests that
never touch the engine (LOADER_FREE modules) run once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dx7d.engine_cpp import Synth, _loader

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _voicesets import probe_vced

VcedBuilder = Callable[..., bytes]
LOADER_FREE = {"test_compile", "test_fidelity_metric", "test_loaders"}
"""Modules whose tests do not build the engine through the default loader."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_loader" not in metafunc.fixturenames:
        return
    module = metafunc.module.__name__.rpartition(".")[2]
    loaders = ["auto"] if module in LOADER_FREE else ["cppyy", "compiled"]
    metafunc.parametrize("engine_loader", loaders, indirect=True)


@pytest.fixture(autouse=True)
def engine_loader(request: pytest.FixtureRequest) -> Iterator[str]:
    """The loader every Synth() of this test uses (skips cppyy where it cannot import)."""
    loader = str(getattr(request, "param", "auto"))
    if loader == "cppyy" and not _loader.cppyy_available():
        pytest.skip("cppyy is not importable here (no wheel for this platform); "
                    "the compiled loader is tested instead")
    saved = _loader.DEFAULT_LOADER
    _loader.DEFAULT_LOADER = loader
    yield loader
    _loader.DEFAULT_LOADER = saved


def _sine_voice(**changes: int) -> bytes:
    """A 155-byte VCED voice: OP1 alone at OL 99, ratio 1.00, instant EG, algorithm 32
    (bench/_voicesets.py's probe_vced, named TEST VOICE).

    ``changes`` maps names to values: ``op1_<field>`` / ``op<k>_<field>`` with field one of
    r1..r4, l1..l4, bp, ld, rd, lc, rc, rs, ams, kvs, ol, mode, coarse, fine, detune, and
    the globals pr1..pr4, pl1..pl4, alg (1-32), fb, sync, lfo_speed, lfo_delay, pmd, amd,
    lfo_sync, wave, pms, transpose.
    """
    return probe_vced(b"TEST VOICE", **changes)


@pytest.fixture
def vced() -> VcedBuilder:
    """Build a test voice; see _sine_voice for the keyword names."""
    return _sine_voice


@pytest.fixture
def synth() -> Synth:
    """A fresh 48 kHz, 16-voice synth (the C++ is compiled once per process)."""
    return Synth(sample_rate=48000, polyphony=16)
