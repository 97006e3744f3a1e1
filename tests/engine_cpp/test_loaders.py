"""The two loaders of the engine (issue 9): same samples, same ABI, a safe compile cache.

The cppyy JIT and the g++-compiled library are loaded side by side in this process (the
compiled one exports only the table's functions, so the two copies cannot clash).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from dx7d.engine_cpp import EngineError, Synth, _abi, _compiled, _loader

needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
needs_cppyy = pytest.mark.skipif(not _loader.cppyy_available(),
                                 reason="cppyy is not importable here (no wheel for this "
                                        "platform)")


def _performance(synth: Synth, voices: list[bytes]) -> np.ndarray:
    """A few seconds of playing: voices, chords, bend, mod wheel, sustain, a voice edit."""
    rate = synth.sample_rate
    chunks = []
    for i, vced in enumerate(voices):
        start = synth.frame_position
        synth.load_patch(vced, frame=start)
        for k, note in enumerate((48, 55, 60, 64, 67)):
            synth.note_on(note, 60 + 12 * k, frame=start + 97 * k)
        synth.control_change(1, 90, frame=start + rate // 4)
        synth.pitch_bend(-3000 + 1500 * i, frame=start + rate // 3)
        synth.control_change(64, 127, frame=start + rate // 2)
        synth.voice_parameter(134, (5 * i) % 32, frame=start + rate // 2 + 11)
        for note in (48, 55, 60):
            synth.note_off(note, frame=start + rate * 3 // 4)
        synth.control_change(64, 0, frame=start + rate)
        synth.all_notes_off(frame=start + rate + 64)
        chunks.append(synth.render(rate * 3 // 2))
        chunks.append(synth.render_all_ops(36 + 12 * i, 100, 0.3, 0.5).ravel())
    return np.concatenate(chunks)


@needs_cppyy
@needs_gxx
def test_both_loaders_render_identical_samples(shared_banks: Path) -> None:
    from dx7d.voices import Bank

    bank = Bank.read(shared_banks / "rom1A.syx")
    voices = [bank[i].to_vced() for i in (0, 4, 10, 17, 24, 31)]
    jit = Synth(loader="cppyy")
    compiled = Synth(loader="compiled")
    assert (jit.loader, compiled.loader) == ("cppyy", "compiled")
    a, b = _performance(jit, voices), _performance(compiled, voices)
    assert a.size == b.size and np.abs(a).max() > 0.01
    mismatch = np.flatnonzero(a != b)
    assert mismatch.size == 0, (f"{mismatch.size} samples differ, first at {mismatch[0]}: "
                                f"{a[mismatch[0]]} vs {b[mismatch[0]]}")
    assert (jit.peak, jit.frame_position) == (compiled.peak, compiled.frame_position)


@pytest.mark.parametrize("loader", [pytest.param("cppyy", marks=needs_cppyy),
                                    pytest.param("compiled", marks=needs_gxx)])
def test_every_table_function_is_bound_with_its_gil_flag(loader: str) -> None:
    lib = _loader.load(loader)
    assert lib.loader == loader
    assert lib.dx7_abi_version() == 1
    for fn in _abi.FUNCTIONS:
        call = getattr(lib, fn.name)
        if loader == "compiled":
            holds_gil = bool(call._flags_ & ctypes._FUNCFLAG_PYTHONAPI)  # type: ignore[attr-defined]
            assert holds_gil is not fn.release_gil, fn.name
        elif not _abi.has_nullable(fn):
            assert bool(getattr(call, "__release_gil__", False)) is fn.release_gil, fn.name
    with pytest.raises(AttributeError, match=r"_abi\.py"):
        lib.dx7_not_a_function  # noqa: B018


@needs_gxx
def test_compiled_library_is_cached_by_source_hash(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(_loader.SOURCE_DIR, source, ignore=shutil.ignore_patterns("*.py", "__*"))
    cache = tmp_path / "cache"
    first = _compiled.build(source, _loader.UNITY_SOURCE, cache)
    again = _compiled.build(source, _loader.UNITY_SOURCE, cache)
    assert first.compile_s > 0 and again.compile_s == 0.0 and again.path == first.path
    header = source / "dx7_common.h"
    header.write_text(header.read_text() + "\n// a changed source is a new key\n")
    changed = _compiled.build(source, _loader.UNITY_SOURCE, cache)
    assert changed.path != first.path and changed.compile_s > 0
    assert sorted(p.name for p in cache.glob("*.so")) == sorted([first.path.name,
                                                                 changed.path.name])
    assert not list(cache.glob(".build-*")), "a build folder was left behind"


@needs_gxx
def test_two_processes_starting_at_once_compile_once(tmp_path: Path) -> None:
    script = ("import sys\nfrom pathlib import Path\nfrom dx7d.engine_cpp import _loader\n"
              "lib = _loader.load('compiled', cache=Path(sys.argv[1]))\n"
              "print(lib.compile_s, lib.dx7_abi_version())\n")
    cache = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(cache)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    compile_times = sorted(float(out.split()[0]) for out, _ in outputs)
    assert compile_times[0] == 0.0 < compile_times[1], "both processes compiled"
    assert len(list(cache.glob("*.so"))) == 1


def test_cache_directory_follows_systemd_then_xdg(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("CACHE_DIRECTORY", f"{tmp_path}/sd:{tmp_path}/other")
    assert _compiled.cache_dir() == tmp_path / "sd" / "engine"
    monkeypatch.delenv("CACHE_DIRECTORY")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _compiled.cache_dir() == tmp_path / "xdg" / "dx7d" / "engine"


@needs_gxx
def test_a_table_entry_missing_from_the_sources_is_named(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    extra = _abi.Fn("dx7_engine_missing", _abi.VOID, (_abi.HANDLE,))
    monkeypatch.setattr(_abi, "FUNCTIONS", (*_abi.FUNCTIONS, extra))
    monkeypatch.setattr(_abi, "ABI_NAMES", _abi.ABI_NAMES | {extra.name})
    monkeypatch.setattr(_abi, "BY_NAME", {**_abi.BY_NAME, extra.name: extra})
    with pytest.raises(EngineError, match="dx7_engine_missing is listed"):
        _loader.load("compiled", cache=tmp_path)


def test_an_unknown_loader_is_refused() -> None:
    with pytest.raises(EngineError, match="'jit' is not one of auto, cppyy, compiled"):
        _loader.load("jit")


@needs_gxx
def test_auto_without_cppyy_picks_the_compiled_loader(tmp_path: Path) -> None:
    # A Pi: `import cppyy` fails. A module named cppyy that raises stands in for it.
    fake = tmp_path / "cppyy.py"
    fake.write_text("raise ImportError('no cppyy wheel for this platform')\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    done = subprocess.run([sys.executable, "-c",
                           "from dx7d.engine_cpp import Synth\nprint(Synth().loader)"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["compiled"]
