"""Batch rendering throughput: dx7d's render_batch against dexed-py, same voices, one run.

    .venv/bin/python bench/batch.py [--voices N] [--seconds S] [--repeats R] [--threads T]

Renders N voices (rom1A plus random voices; one note each, spread over 36..84, velocity
100, key held for 2/3 of S, S seconds at 44.1 kHz) and prints voice-seconds rendered per
wall-second for:

  * dx7d render_batch, 1 thread and T threads (one C++ call, std::thread workers);
  * dx7d OfflineSynth, one per thread in a Python thread pool (T threads: the GIL is
    released during each render);
  * dexed-py DexedSynth, one per thread in a Python thread pool, 1 and T threads.

Each figure is the best of R repeats (the machine is shared: the best run is the one
least disturbed). Targets (issue 11): dx7d per core >= 2x dexed-py per core, and dx7d
with T threads >= 0.8 x T x its one-thread figure. The load average is printed with the
figures: on a busy machine the scaling figure says more about the neighbours than about
the code.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _voicesets import bank_vceds, random_voices
from dx7d.engine_cpp import OfflineSynth, _loader, render_batch

REPO = Path(__file__).resolve().parent.parent
BANKS = REPO.parent / "shared" / "banks"
RATE = 44100


def _voices(n: int) -> list[bytes]:
    rom = bank_vceds(BANKS / "rom1A.syx") if (BANKS / "rom1A.syx").is_file() else []
    extra = [v.vced for v in random_voices(max(0, n - len(rom)))]
    return [*rom, *extra][:n]


def _best(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """The shortest wall time and the shortest process CPU time of `repeats` runs (s)."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def _pool_render(make: Callable[[], object], load: Callable[[object, bytes], None],
                 voices: list[bytes], notes: list[int], threads: int, seconds: float) -> None:
    """One synth per worker thread; each thread renders its share of the voices."""
    def work(part: int) -> None:
        synth = make()
        for i in range(part, len(voices), threads):
            load(synth, voices[i])
            synth.render(midi_note=notes[i], velocity=100,  # type: ignore[attr-defined]
                         note_duration=seconds * 2 / 3, render_duration=seconds)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))


def lib_note() -> str:
    lib = _loader.load(None)
    return f"dx7d loader: {lib.loader}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--voices", type=int, default=128)
    ap.add_argument("--seconds", type=float, default=1.5, help="render length per voice (s)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--loader", choices=("auto", "cppyy", "compiled"), default="auto",
                    help="engine.loader for dx7d (default: auto = cppyy when importable)")
    args = ap.parse_args(argv)
    _loader.DEFAULT_LOADER = args.loader
    voices = _voices(args.voices)
    n, s, threads = len(voices), args.seconds, args.threads
    notes = [36 + (7 * i) % 49 for i in range(n)]
    voice_s = n * s
    print(f"{n} voices x {s} s at {RATE} Hz = {voice_s:.0f} voice-seconds per run; "
          f"{os.cpu_count()} CPUs, {threads} threads; best of {args.repeats}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          "(the machine is shared with other work)")

    array = np.frombuffer(b"".join(v + b"\x3f" for v in voices), np.uint8).reshape(n, 156)
    figures: dict[str, tuple[float, float]] = {}  # label -> (wall s, CPU s) of the best run

    def ours_batch(t: int) -> None:
        render_batch(array, notes, 100, s * 2 / 3, s, threads=t)

    ours_batch(1)  # compile and warm up
    figures["dx7d render_batch, 1 thread"] = _best(lambda: ours_batch(1), args.repeats)
    figures[f"dx7d render_batch, {threads} threads"] = _best(
        lambda: ours_batch(threads), args.repeats)

    def load_ours(synth: object, vced: bytes) -> None:
        synth.load_patch(vced)  # type: ignore[attr-defined]

    figures[f"dx7d OfflineSynth pool, {threads} threads"] = _best(
        lambda: _pool_render(OfflineSynth, load_ours, voices, notes, threads, s), args.repeats)

    try:
        import dexed
    except ImportError:
        dexed = None
    if dexed is not None:
        def load_dexed(synth: object, vced: bytes) -> None:
            synth.load_patch(dexed.Patch.from_sysex(vced + b"\x3f"))  # type: ignore[attr-defined]

        for t in (1, threads):
            figures[f"dexed-py DexedSynth pool, {t} thread{'s' if t > 1 else ''}"] = (
                _best(lambda t=t: _pool_render(dexed.DexedSynth, load_dexed, voices,
                                                         notes, t, s), args.repeats))

    width = max(len(k) for k in figures)
    print(f"\nvoice-seconds rendered per second (higher is better; {lib_note()}):")
    print(f"  {'':<{width}}  {'per wall-s':>10}  {'per CPU-s':>10}  {'cores got':>9}")
    rate = {k: (voice_s / w, voice_s / c) for k, (w, c) in figures.items()}
    for label, (per_wall, per_cpu) in rate.items():
        wall, cpu = figures[label]
        print(f"  {label:<{width}}  {per_wall:10.1f}  {per_cpu:10.1f}  {cpu / wall:9.2f}")
    print("  (cores got = CPU-s / wall-s of that run: how much of the machine the OS gave it)")
    one = rate["dx7d render_batch, 1 thread"]
    many = rate[f"dx7d render_batch, {threads} threads"]
    print(f"\nscaling (wall): {threads} threads = {many[0] / one[0]:.2f} x the one-thread "
          f"figure (target >= {0.8 * threads:.1f} on an otherwise idle machine)")
    if dexed is not None:
        ref_one = rate["dexed-py DexedSynth pool, 1 thread"]
        ref_many = rate[f"dexed-py DexedSynth pool, {threads} threads"]
        print(f"per core, wall: dx7d {one[0]:.1f} vs dexed-py {ref_one[0]:.1f} = "
              f"{one[0] / ref_one[0]:.2f}x (target >= 2)")
        print(f"per core, CPU:  dx7d {one[1]:.1f} vs dexed-py {ref_one[1]:.1f} = "
              f"{one[1] / ref_one[1]:.2f}x (the same, free of the neighbours' load)")
        print(f"all threads, wall: dx7d {many[0]:.1f} vs dexed-py {ref_many[0]:.1f} = "
              f"{many[0] / ref_many[0]:.2f}x")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
