"""Fidelity and speed of dx7d.engine_cpp side by side with dexed-py, in one run.

    .venv/bin/python bench/engine.py [--voices N] [--cartridges K] [--quick] [--self-check]

Prints (see bench/README.md for what each figure means):
  1. fidelity over (a) N random voices and (b) rom1A + K library cartridges, at
     notes 36/60/84 x velocities 64/100/127: medians, p90s, level offset mean
     and std, the 10 worst renders;
  2. speed: voice-seconds rendered per CPU-second, ours and Dexed's, same
     voices and notes, and the ratio;
  3. the share of one core that 16 sounding voices take (48 kHz, 128-frame
     blocks) and Dexed's comparable figure (single-voice cost x 16);
  4. both engine loaders (issue 9), cppyy JIT and g++-compiled: voice-seconds per
     CPU-second on the same voices and notes (and whether their samples are identical),
     beside Dexed's;
  5. start-up time (import -> first rendered block) in a fresh process: cppyy, compiled
     with an empty cache (includes the g++ build), compiled from the cache, and Dexed.
--self-check runs everything with a second dexed instance as "ours" (the
harness must then report exactly 0 dB); it needs no dx7d engine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _engines import NOTES, RATE, VELOCITIES, DexedRenderer, OursRenderer, Renderer, sweep
from _voicesets import Voice, bank_vceds, cartridge_voices, library_cartridges, random_voices
from dx7d.engine_cpp.fidelity import FidelitySummary, summarize

REPO = Path(__file__).resolve().parent.parent
BANKS = REPO.parent / "shared" / "banks"
BLOCK = 128
POLYPHONY = 16
CHORD = [36 + 3 * i for i in range(POLYPHONY)]  # 16 held notes, 36..81
POLY_VOICES = (1, 4, 17, 18)  # rom1A BRASS 1, STRINGS 1, E.ORGAN 1, PIPES 1 (sustaining)

STARTUP_SCRIPT = """
import time
t0, c0 = time.perf_counter(), time.process_time()
import numpy as np
from dx7d.engine_cpp import Synth
synth = Synth(sample_rate=48000, polyphony=16, loader={loader!r})
synth.load_patch(bytes.fromhex({vced!r}))
synth.note_on(60, 100)
out = np.zeros(128, dtype=np.float32)
synth.render_into(out)
print(time.perf_counter() - t0, time.process_time() - c0)
"""
DEXED_STARTUP_SCRIPT = """
import time
t0, c0 = time.perf_counter(), time.process_time()
from dexed import DexedSynth, Patch
synth = DexedSynth(sample_rate=48000)
synth.load_patch(Patch.from_sysex(bytes.fromhex({vced!r})))
synth.render(midi_note=60, velocity=100, note_duration=128 / 48000,
             render_duration=128 / 48000)
print(time.perf_counter() - t0, time.process_time() - c0)
"""


def print_summary(title: str, summary: FidelitySummary, identical: int) -> None:
    print(f"\n{title}: {summary.count} renders, {summary.flagged} flagged (one side silent),"
          f" {identical} sample-identical to Dexed's")
    print(f"  spectral distance  median {summary.spectral_median_db:6.2f} dB"
          f"   p90 {summary.spectral_p90_db:6.2f} dB   (targets <= 1.0 / <= 3.0)")
    print(f"  envelope distance  median {summary.envelope_median_db:6.2f} dB"
          f"   p90 {summary.envelope_p90_db:6.2f} dB   (targets <= 1.0 / <= 3.0)")
    print(f"  level offset       mean {summary.level_offset_mean_db:+7.2f} dB"
          f"   std {summary.level_offset_std_db:6.2f} dB   (target std <= 1.0)")
    failures = summary.failures()
    print("  targets: " + ("all met" if not failures else "MISSED: " + "; ".join(failures)))
    print("  worst renders (spectral + envelope):")
    for label, r in summary.worst:
        print(f"    {label:48s} spectral {r.spectral_db:6.2f}  envelope {r.envelope_db:6.2f}"
              f"  offset {r.level_offset_db:+6.2f}  {r.status}")


def poly_share(voices: list[Voice], seconds: float) -> float:
    """CPU seconds per audio second for POLYPHONY held notes, rendered in BLOCK frames."""
    from dx7d.engine_cpp import Synth

    synth = Synth(sample_rate=RATE, polyphony=POLYPHONY)
    out = np.zeros(BLOCK, dtype=np.float32)
    blocks = int(seconds * RATE) // BLOCK
    cpu = 0.0
    for voice in voices:
        synth.load_patch(voice.vced)
        for note in CHORD:
            synth.note_on(note, 100)
        synth.render_into(out)  # warm
        start = time.process_time()
        for _ in range(blocks):
            synth.render_into(out)
        cpu += time.process_time() - start
        for note in CHORD:
            synth.note_off(note)
        for _ in range(RATE // BLOCK * 2):  # let the releases finish
            synth.render_into(out)
    return cpu / (blocks * BLOCK / RATE * len(voices))


def dexed_poly_equivalent(voices: list[Voice], seconds: float) -> float:
    """POLYPHONY x Dexed's single-voice CPU per audio second, same voices and notes, held."""
    from dexed import DexedSynth, Patch

    synth = DexedSynth(sample_rate=RATE)
    cpu = 0.0
    for voice in voices:
        synth.load_patch(Patch.from_sysex(voice.vced))
        for note in CHORD:
            start = time.process_time()
            synth.render(midi_note=note, velocity=100, note_duration=seconds,
                         render_duration=seconds)
            cpu += time.process_time() - start
    return cpu / (seconds * len(voices))


def startup_seconds(vced: bytes, loader: str = "cppyy", cache: Path | None = None
                    ) -> tuple[float, float]:
    """(wall, CPU) seconds from the import to the first block, in a fresh process.

    loader "dexed" times dexed-py; `cache` is the compiled loader's cache directory
    ($CACHE_DIRECTORY). CPU: the whole child (its interpreter start-up counts too) and
    the g++ it runs when the compiled loader builds.
    """
    script = (DEXED_STARTUP_SCRIPT.format(vced=vced.hex()) if loader == "dexed"
              else STARTUP_SCRIPT.format(vced=vced.hex(), loader=loader))
    env = dict(os.environ, CACHE_DIRECTORY=str(cache)) if cache else None
    before = children_cpu()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=300, env=env)
    cpu = children_cpu() - before  # the child, and its g++ when it compiles
    wall, _ = done.stdout.split()[-2:]
    return float(wall), cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--voices", type=int, default=200, help="random voices (default 200)")
    parser.add_argument("--cartridges", type=int, default=10,
                        help="library cartridges besides rom1A (default 10)")
    parser.add_argument("--quick", action="store_true",
                        help="20 random voices, rom1A only, 2 s polyphony runs")
    parser.add_argument("--self-check", action="store_true",
                        help="compare dexed with a second dexed instance (no dx7d engine needed)")
    parser.add_argument("--banks", type=Path, default=BANKS, help=f"default {BANKS}")
    args = parser.parse_args(argv)
    n_random = 20 if args.quick else args.voices
    n_carts = 0 if args.quick else args.cartridges
    poly_s = 2.0 if args.quick else 10.0

    ref = DexedRenderer()
    ours: Renderer
    if args.self_check:
        ours = DexedRenderer(name="dexed-2")
    else:
        try:
            ours = OursRenderer()
        except ImportError as error:
            print(f"dx7d.engine_cpp.Synth is not available ({error}); "
                  "run with --self-check to exercise the harness on dexed alone")
            return 1
    cases = [(n, v) for n in NOTES for v in VELOCITIES]

    print(f"dx7d engine bench: {RATE} Hz, notes {NOTES} x velocities {VELOCITIES}, "
          f"held 1.0 s, rendered 1.5 s; ours = {ours.name}, reference = dexed-py")
    if n_carts:
        print("cartridges: rom1A.syx + " + ", ".join(
            str(p.relative_to(args.banks / "library"))
            for p in library_cartridges(args.banks, n_carts)))

    set_a_voices = random_voices(n_random)
    set_a = sweep(set_a_voices, cases, ours, ref)
    print_summary(f"(a) {n_random} random voices", summarize(set_a.results, set_a.labels),
                  set_a.identical)
    carts = (cartridge_voices(args.banks, n_carts) if n_carts else
             [Voice(f"rom1A#{i:02d}", v)
              for i, v in enumerate(bank_vceds(args.banks / "rom1A.syx"), start=1)])
    set_b = sweep(carts, cases, ours, ref)
    print_summary(f"(b) rom1A + {n_carts} cartridges ({len(carts)} voices)",
                  summarize(set_b.results, set_b.labels), set_b.identical)

    print("\nspeed (render calls only, CPU time, same voices and notes):")
    audio = set_a.audio_s + set_b.audio_s
    rates = {}
    for name in (ours.name, ref.name):
        cpu = set_a.cpu_s[name] + set_b.cpu_s[name]
        rates[name] = audio / cpu
        print(f"  {name:8s} {audio:8.0f} voice-s in {cpu:7.2f} CPU-s = {rates[name]:8.1f}"
              " voice-s per CPU-s")
    print(f"  ratio ours / Dexed = {rates[ours.name] / rates[ref.name]:.2f}"
          "   (bar >= 1.0, aim >= 2.0)")

    rom = bank_vceds(args.banks / "rom1A.syx")
    poly_voices = [Voice(f"rom1A#{i:02d}", rom[i - 1]) for i in POLY_VOICES]
    print(f"\n{POLYPHONY} held voices (notes {CHORD[0]}..{CHORD[-1]}), {RATE} Hz, {BLOCK}-frame"
          f" blocks, {poly_s:.0f} s each of rom1A " + ", ".join(str(i) for i in POLY_VOICES) + ":")
    if args.self_check:
        print("  ours: (self-check: no dx7d engine)")
    else:
        share = poly_share(poly_voices, poly_s)
        print(f"  ours  {100 * share:6.2f} % of one core (render_into, preallocated buffer)")
    dexed_share = dexed_poly_equivalent(poly_voices, poly_s)
    print(f"  Dexed {100 * dexed_share:6.2f} % of one core, estimated as {POLYPHONY} x its"
          " single-voice render cost (dexed-py exposes no polyphonic render)")

    if not args.self_check:
        print_loaders([*set_a_voices, *carts], cases, rates[ref.name])
        print("\nstart-up (fresh process, import -> first 128-frame block; median of 3):")
        with tempfile.TemporaryDirectory() as empty:
            rows = [("cppyy (JIT)", "cppyy", None),
                    ("compiled, empty cache (g++ build)", "compiled", None),
                    ("compiled, from the cache", "compiled", Path(empty)),
                    ("Dexed (dexed-py)", "dexed", None)]
            for label, loader, cache in rows:
                runs = []
                for _ in range(3):
                    if label.startswith("compiled, empty"):
                        with tempfile.TemporaryDirectory() as fresh:
                            runs.append(startup_seconds(rom[0], loader, Path(fresh)))
                    else:
                        if cache is not None and not runs:
                            startup_seconds(rom[0], loader, cache)  # fills the cache
                        runs.append(startup_seconds(rom[0], loader, cache))
                wall, cpu = sorted(runs)[1]
                print(f"  {label:36s} {wall:6.2f} s wall, {cpu:6.2f} s CPU")
    return 0


def children_cpu() -> float:
    """CPU seconds of this process's finished children (and theirs: g++ builds count)."""
    t = os.times()
    return t.children_user + t.children_system


def print_loaders(voices: list[Voice], cases: list[tuple[int, int]], dexed_rate: float) -> None:
    """Both loaders on the same voices and notes: speed, and sample-identical or not."""
    print("\nloaders (issue 9), same voices and notes, render calls only:")
    jit = OursRenderer(name="cppyy", loader="cppyy")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["CACHE_DIRECTORY"] = cache
        try:
            compiled = OursRenderer(name="compiled", loader="compiled")
        finally:
            del os.environ["CACHE_DIRECTORY"]
    both = sweep(voices, cases, compiled, jit)
    for name in ("cppyy", "compiled"):
        rate = both.voice_s_per_cpu_s(name)
        print(f"  {name:8s} {both.audio_s:8.0f} voice-s in {both.cpu_s[name]:7.2f} CPU-s ="
              f" {rate:8.1f} voice-s per CPU-s  ({rate / dexed_rate:.2f} x Dexed's"
              f" {dexed_rate:.1f})")
    print(f"  sample-identical renders: {both.identical} of {len(both.results)}")


if __name__ == "__main__":
    sys.exit(main())
