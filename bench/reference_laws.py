"""Black-box measurements of the reference engine (dexed-py) that docs/engine.md cites.

    .venv/bin/python bench/reference_laws.py [hold|hold-rs|hold-equal|am|lfo-wave|
                                              lfo-delay|loop|compare|all]

Each measurement renders single-operator test voices with dexed-py and prints the law
it shows, in the units the engine uses. Where DX7.md gives only some points of a law
(the equal-level hold times, section 3.4) or gives it only roughly (AM, 3.9; LFO delay,
3.8), these figures are what engine_cpp/ was fitted to. "compare" renders every probe
with both engines and prints the issue-4 distances, one law per line.
"""

from __future__ import annotations

import sys

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _voicesets import probe_vced

__all__ = [
    "delay_probe",
    "fade_curve",
    "hold_blocks",
    "hold_frames_estimate",
    "measure_am",
    "measure_lfo_wave",
    "pitch_trace",
    "sine_voice",
]

# A 1 kHz fixed-frequency OP1: 48 frames a period, so every 64-frame block sees a peak.
PROBE = {"op1_mode": 1, "op1_coarse": 3}
RATE = 48000
BLOCK = 64


def sine_voice(**changes: int) -> bytes:
    """The probe voice of bench/_voicesets.py, named LAW PROBE; op1_r2=... etc."""
    return probe_vced(b"LAW  PROBE", **changes)


def _render(rate: int, vced: bytes, note: int, hold_s: float, total_s: float,
            velocity: int = 100, ops: bool = False) -> np.ndarray:
    import dexed

    synth = dexed.DexedSynth(sample_rate=rate)
    synth.load_patch(dexed.Patch.from_sysex(vced + b"\x3f"))
    fn = synth.render_all_ops if ops else synth.render
    return np.asarray(fn(midi_note=note, velocity=velocity, note_duration=hold_s,
                         render_duration=total_s), dtype=np.float64)


def _block_peaks(x: np.ndarray) -> np.ndarray:
    n = x.size // BLOCK * BLOCK
    return np.abs(x[:n]).reshape(-1, BLOCK).max(axis=1)


def _drop_block(x: np.ndarray) -> int:
    """First 64-frame block whose peak is below half the note's maximum."""
    peaks = _block_peaks(x)
    top = int(np.argmax(peaks))
    return top + int(np.flatnonzero(peaks[top:] < 0.5 * peaks[top])[0])


def hold_blocks(rate: int, r: int, note: int = 60, rs: int = 0, **levels: int) -> int:
    """Blocks an equal-level segment 2 at rate R2 = r waits, beyond the same voice at R2 99.

    The voice: L1 = L2 = 99 (or `levels`), then R3 99 to L3 0, so the note drops when the
    hold ends. At 44.1 kHz a hold of T frames shows as ceil(T / 64) - 2 blocks.
    """
    def voice(rate2: int) -> bytes:
        fields = {"op1_l3": 0, **levels}
        return sine_voice(op1_r2=rate2, op1_rs=rs, op1_kvs=0, **fields, **PROBE)
    seconds = 45.0 * 44100 / rate + 1.0 if r < 10 else 16.0 if r < 30 else 3.0
    base = _drop_block(_render(rate, voice(99), note, seconds, seconds))
    return _drop_block(_render(rate, voice(r), note, seconds, seconds)) - base


def measure_am(ams: int, amd: int) -> tuple[float, float]:
    """(dB at the LFO's maximum, at its minimum) below a plain OP1 (square LFO, ~1 Hz)."""
    plain = _block_peaks(_render(RATE, sine_voice(**PROBE), 69, 3.0, 3.0))[20:].max()
    vced = sine_voice(**PROBE, op1_ams=ams, amd=amd, wave=3, lfo_speed=6, lfo_sync=1)
    peaks = _block_peaks(_render(RATE, vced, 69, 3.0, 3.0))[20:]
    return (float(20 * np.log10(plain / peaks.max())),
            float(20 * np.log10(plain / max(peaks.min(), 1e-12))))


def pitch_trace(vced: bytes, note: int, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(times s, octaves relative to the note) from the upward zero crossings of OP1."""
    x = _render(RATE, vced, note, seconds, seconds)
    idx = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    exact = idx + x[idx] / (x[idx] - x[idx + 1])
    period = np.diff(exact) / RATE
    hz = 440.0 * 2 ** ((note - 69) / 12)
    return exact[1:] / RATE, np.log2(1.0 / period / hz)


def measure_lfo_wave(wave: int) -> list[float]:
    """LFO pitch offset (octaves, PMS 7 PMD 99, key sync) at 1/16-cycle steps, speed 6."""
    vced = sine_voice(pmd=99, pms=7, wave=wave, lfo_speed=6, lfo_delay=0, lfo_sync=1)
    t, octs = pitch_trace(vced, 69, 2.2)
    period = 1 / 0.936 / 1.0332  # DX7.md 3.8: table Hz x 1.033
    return [float(np.interp(k / 16 * period, t, octs)) for k in range(17)]


def delay_probe(delay: int) -> bytes:
    """OP1 with AMS 1 tremolo from a speed-99 square LFO, AMD 99, LFO delay `delay`."""
    return sine_voice(**PROBE, op1_ams=1, amd=99, wave=3, lfo_speed=99, lfo_delay=delay,
                      lfo_sync=1)


def fade_curve(x: np.ndarray) -> np.ndarray:
    """Per block (from block 4): the LFO fade-in 0..1, inverted from the AM law.

    Over 16 blocks (one LFO cycle and more) the deepest dip is the LFO's minimum, whose
    loss is 15 * e^(0.07 s / 2^18 + 12.2) / 2^24 doublings with s = fade * AMD' / 256 *
    AMS 1's 0.2588 in Q24 (the AM law measured by "am").
    """
    doublings = -20 * np.log10(_block_peaks(np.asarray(x, dtype=np.float64))) / 6.0206
    lows = np.array([doublings[i:i + 16].max() for i in range(4, doublings.size - 16)])
    s = (np.log(lows / 15 * 2**24) - 12.2) * 2**18 / 0.07
    return np.asarray(s / (0.2588 * 2**24 * 255 / 256))


def hold_frames_estimate(b44: int, b48: int) -> tuple[int, int]:
    """44.1 kHz hold frames T consistent with both measurements: (lowest, highest).

    A hold of T frames shows as ceil(T / 64) - 2 blocks at 44.1 kHz, and as
    ceil(floor(T * 44100 / 48000) / 64) - 2 blocks at 48 kHz (the engine's law)."""
    speed = round(44100 / 48000 * 2**24)
    fits = [t for t in range((b44 + 1) * 64 + 1, (b44 + 2) * 64 + 1)
            if -(-((t * speed) >> 24) // 64) - 2 == b48]
    return (fits[0], fits[-1]) if fits else (0, 0)


def _print_holds() -> None:
    print("equal-level hold (L1 = L2 = 99): blocks beyond R2 = 99 at 44.1 and 48 kHz, and")
    print("the 44.1 kHz frames both allow (engine_cpp/dx7_env.cpp takes the middle):")
    for r in [*range(0, 77), 80, 90, 98]:
        b44, b48 = hold_blocks(44100, r), hold_blocks(48000, r)
        lo, hi = hold_frames_estimate(b44, b48)
        print(f"  R {r:2d}: {b44:6d} / {b48:6d} blocks -> {lo:7d} .. {hi:7d} frames")


def _print_compare() -> None:
    from _engines import DexedRenderer, OursRenderer
    from dx7d.engine_cpp.fidelity import compare

    ours, ref = OursRenderer(), DexedRenderer()
    probes = {
        "decay R2 50": sine_voice(op1_r2=50, op1_l2=0, op1_l3=0),
        "attack R1 50": sine_voice(op1_r1=50),
        "hold R2 50": sine_voice(op1_r2=50, op1_l3=0),
        "hold, same 6-bit level": sine_voice(op1_r2=50, op1_l2=98, op1_l3=0),
        "release R4 60": sine_voice(op1_r4=60),
        "velocity KVS 7": sine_voice(op1_kvs=7),
        "level scaling": sine_voice(op1_ld=80, op1_rd=60, op1_lc=1, op1_rc=3, op1_bp=30),
        "rate scaling RS 7": sine_voice(op1_rs=7, op1_r2=40, op1_l2=0),
        "detune": sine_voice(op1_detune=0, op1_coarse=3, op1_fine=37),
        "fixed frequency": sine_voice(op1_mode=1, op1_coarse=2, op1_fine=55, op1_detune=12),
        "pitch EG": sine_voice(pr1=60, pl1=70, pr2=40, pl2=30, pr4=50, pl4=60),
        "LFO PM triangle": sine_voice(pmd=50, pms=5, lfo_speed=40, wave=0),
        "LFO PM sample & hold": sine_voice(pmd=50, pms=5, lfo_speed=60, wave=5),
        "LFO AM": sine_voice(amd=70, op1_ams=2, lfo_speed=40, wave=0),
        "LFO delay": sine_voice(pmd=50, pms=6, lfo_speed=50, lfo_delay=40),
        "feedback 7, alg 1": sine_voice(alg=1, fb=7, op6_ol=90, op5_ol=80, op4_ol=99, op3_ol=99,
                                       op2_ol=70),
        "loop, alg 4": sine_voice(alg=4, fb=6, op6_ol=90, op5_ol=80, op4_ol=99, op2_ol=70),
        "loop, alg 6": sine_voice(alg=6, fb=5, op6_ol=90, op5_ol=80, op3_ol=99, op2_ol=70),
    }
    for name, vced in probes.items():
        ours.load(vced)
        ref.load(vced)
        for note, vel in ((40, 64), (72, 127)):
            r = compare(ours.render(note, vel), ref.render(note, vel), RATE)
            print(f"  {name:24s} n{note} v{vel:<3d} spectral {r.spectral_db:5.2f} dB  envelope "
                  f"{r.envelope_db:5.2f} dB  offset {r.level_offset_db:+5.2f} dB")


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "all"
    if what in ("hold", "all"):
        _print_holds()
    if what in ("hold-rs", "all"):
        print("rate scaling RS 7: the hold is that of R + delta-qrate (clamped 99):")
        for note, dq in ((36, 4), (60, 11), (84, 18), (96, 21)):
            for r in (30, 50):
                print(f"  note {note} (delta {dq:2d}) R2 {r}: {hold_blocks(44100, r, note, 7)}"
                      f" blocks; R2 {r + dq} alone: {hold_blocks(44100, min(99, r + dq))}")
    if what in ("hold-equal", "all"):
        print("what counts as equal levels (R2 50, blocks of hold; 0 = none):")
        print(f"  L1 99 -> L2 98 (same 6-bit level): {hold_blocks(48000, 50, op1_l2=98)}")
        print(f"  L1 90 -> L2 91: {hold_blocks(48000, 50, op1_l1=90, op1_l2=91)}")
        def sounds(r2: int) -> int:  # first audible block: L1 50 -> L2 40, both floored
            vced = sine_voice(**PROBE, op1_ol=20, op1_l1=50, op1_l2=40, op1_r2=r2, op1_l3=99)
            return int(np.flatnonzero(_block_peaks(_render(RATE, vced, 60, 1, 1)) > 1e-4)[0])
        print(f"  OL 20, L1 50 -> L2 40 (both on the floor): {sounds(50) - sounds(99)}")
    if what in ("am", "all"):
        print("AM: dB below a plain OP1 at the LFO's (maximum, minimum), square LFO:")
        for ams in (1, 2, 3):
            cells = []
            for d in (0, 30, 70, 99):
                hi, lo = measure_am(ams, d)
                cells.append(f"AMD {d}: {hi:.2f}/{lo:.2f}")
            print(f"  AMS {ams}: " + "  ".join(cells))
    if what in ("lfo-wave", "all"):
        print("LFO waves, octaves at 0, 1/16, ... 1 cycle after a key-synced note-on:")
        for wave in range(6):
            print(f"  wave {wave}:", " ".join(f"{o:+.3f}" for o in measure_lfo_wave(wave)))
    if what in ("lfo-delay", "all"):
        print("LFO delay: first block with fade > 0.02 and > 0.98 (48 kHz):")
        for delay in (10, 30, 50, 70, 99):
            fade = fade_curve(_render(RATE, delay_probe(delay), 69, 4.0, 4.0))
            onset = int(np.flatnonzero(fade > 0.02)[0]) + 4
            full = int(np.flatnonzero(fade > 0.98)[0]) + 4
            print(f"  delay {delay:2d}: onset block {onset} ({onset * BLOCK / RATE:.3f} s), "
                  f"full block {full} ({full * BLOCK / RATE:.3f} s)")
    if what in ("loop", "all"):
        vced = sine_voice(alg=4, fb=6, op6_ol=90, op5_ol=80, op4_ol=99)
        rows = _render(RATE, vced, 60, 0.1, 0.1, ops=True) * 2**25
        print("algorithm 4 loop, first 5 frames (Q24, 2^25 = full): only OP6 ramps from silence")
        for row in (5, 4, 3):
            print(f"  OP{row + 1}: " + " ".join(f"{int(v):9d}" for v in rows[row][:5]))
    if what in ("compare", "all"):
        print("ours against the reference, one probe voice per law:")
        _print_compare()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
