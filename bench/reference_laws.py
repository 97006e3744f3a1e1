"""Black-box measurements of the reference engine (dexed-py) that docs/engine.md cites.

    .venv/bin/python bench/reference_laws.py [hold|hold-rs|am|lfo-delay|all]

Each measurement renders single-operator test voices with dexed-py and prints the law
it shows, in the units the engine uses. Where DX7.md gives only some points of a law
(the equal-level hold times, section 3.4) or gives it only roughly (AM, 3.9; LFO delay,
3.8), these figures are what engine_cpp/ was fitted to.
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = [
    "delay_probe",
    "lfo_delay_depth",
    "measure_am",
    "measure_hold",
    "measure_lfo_delay",
    "measure_lfo_wave",
    "pitch_trace",
    "sine_voice",
]

FIELDS = ["r1", "r2", "r3", "r4", "l1", "l2", "l3", "l4", "bp", "ld", "rd", "lc", "rc",
          "rs", "ams", "kvs", "ol", "mode", "coarse", "fine", "detune"]
GLOBALS = {"pr1": 126, "pr2": 127, "pr3": 128, "pr4": 129, "pl1": 130, "pl2": 131,
           "pl3": 132, "pl4": 133, "alg": 134, "fb": 135, "sync": 136, "lfo_speed": 137,
           "lfo_delay": 138, "pmd": 139, "amd": 140, "lfo_sync": 141, "wave": 142,
           "pms": 143, "transpose": 144}
# A 1 kHz fixed-frequency OP1: 48 frames a period, so every 64-frame block sees a peak.
PROBE = {"op1_mode": 1, "op1_coarse": 3}


def sine_voice(**changes: int) -> bytes:
    """155-byte VCED: OP1 alone (OL 99, ratio 1, instant EG, algorithm 32); op1_r2=... etc."""
    data = bytearray(155)
    for op in range(6):
        base = op * 21
        data[base:base + 8] = bytes([99, 99, 99, 99, 99, 99, 99, 0])
        data[base + 8] = 39
        data[base + 16] = 99 if op == 5 else 0
        data[base + 18] = 1
        data[base + 20] = 7
    data[126:134] = bytes([99, 99, 99, 99, 50, 50, 50, 50])
    data[134] = 31
    data[136] = 1
    data[137] = 35
    data[144] = 24
    data[145:155] = b"LAW  PROBE"
    for key, value in changes.items():
        if key in GLOBALS:
            data[GLOBALS[key]] = value - 1 if key == "alg" else value
            continue
        op_name, field = key.split("_", 1)
        data[(6 - int(op_name[2:])) * 21 + FIELDS.index(field)] = value
    return bytes(data)


def _render(rate: int, vced: bytes, note: int, hold_s: float, total_s: float,
            velocity: int = 100) -> np.ndarray:
    import dexed

    synth = dexed.DexedSynth(sample_rate=rate)
    synth.load_patch(dexed.Patch.from_sysex(vced + b"\x3f"))
    return np.asarray(synth.render(midi_note=note, velocity=velocity, note_duration=hold_s,
                                   render_duration=total_s), dtype=np.float64)


def _block_peaks(x: np.ndarray, block: int = 64) -> np.ndarray:
    n = x.size // block * block
    return np.abs(x[:n]).reshape(-1, block).max(axis=1)


def _drop_block(x: np.ndarray) -> int:
    """First 64-frame block whose peak is below half the note's maximum."""
    peaks = _block_peaks(x)
    top = int(np.argmax(peaks))
    return top + int(np.flatnonzero(peaks[top:] < 0.5 * peaks[top])[0])


def measure_hold(rate: int, r: int, note: int = 60, rs: int = 0) -> int:
    """Blocks an equal-level segment (L1 = L2 = 99) at rate R2 = r waits, beyond R2 = 99."""
    def voice(rate2: int) -> bytes:
        return sine_voice(op1_r2=rate2, op1_l3=0, op1_rs=rs, op1_kvs=0, **PROBE)
    seconds = 45.0 * 44100 / rate + 1.0 if r < 10 else 16.0 if r < 30 else 3.0
    base = _drop_block(_render(rate, voice(99), note, seconds, seconds))
    return _drop_block(_render(rate, voice(r), note, seconds, seconds)) - base


def measure_am(rate: int, ams: int, amd: int) -> float:
    """dB between LFO maximum and minimum of a full-level OP1 (square LFO, 1 Hz)."""
    vced = sine_voice(**PROBE, op1_ams=ams, amd=amd, wave=3, lfo_speed=6, lfo_delay=0, lfo_sync=1)
    x = _render(rate, vced, 69, 3.0, 3.0)
    peaks = _block_peaks(x)[int(0.2 * rate / 64):]
    return float(20 * np.log10(peaks.max() / max(peaks.min(), 1e-12)))


def lfo_delay_depth(x: np.ndarray, rate: int) -> tuple[float, float]:
    """(onset s, full-depth s) of a tremolo: per 16-block window, max/min block peak."""
    peaks = _block_peaks(x)
    win = 16  # > one cycle of the speed-99 LFO (~15 blocks at 48 kHz)
    depth = np.array([20 * np.log10(peaks[i:i + win].max() / peaks[i:i + win].min())
                      for i in range(8, peaks.size - win)])
    onset = int(np.flatnonzero(depth > 0.1 * depth[-1])[0]) + 8
    full = int(np.flatnonzero(depth >= 0.9 * depth[-1])[0]) + 8
    return onset * 64 / rate, full * 64 / rate


def delay_probe(delay: int) -> bytes:
    """OP1 with AMS 1 tremolo from a speed-99 square LFO, AMD 99, LFO delay `delay`."""
    return sine_voice(**PROBE, op1_ams=1, amd=99, wave=3, lfo_speed=99, lfo_delay=delay,
                      lfo_sync=1)


def measure_lfo_delay(rate: int, delay: int) -> tuple[float, float]:
    """(onset s, full-depth s) of the reference's tremolo with LFO delay `delay`."""
    return lfo_delay_depth(_render(rate, delay_probe(delay), 69, 4.0, 4.0), rate)


def pitch_trace(rate: int, vced: bytes, note: int, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(times s, octaves relative to the note) from the upward zero crossings of OP1."""
    x = _render(rate, vced, note, seconds, seconds)
    idx = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    exact = idx + x[idx] / (x[idx] - x[idx + 1])
    period = np.diff(exact) / rate
    hz = 440.0 * 2 ** ((note - 69) / 12)
    return exact[1:] / rate, np.log2(1.0 / period / hz)


def measure_lfo_wave(wave: int) -> list[tuple[float, float]]:
    """LFO pitch offset (octaves, PMS 7 PMD 99) at 1/16-cycle steps of a 0.94 Hz LFO."""
    vced = sine_voice(pmd=99, pms=7, wave=wave, lfo_speed=6, lfo_delay=0, lfo_sync=1)
    t, octs = pitch_trace(48000, vced, 69, 2.2)
    period = 1 / 0.936 / 1.0332  # DX7.md 3.8: table Hz x 1.033
    return [(k / 16, float(np.interp(k / 16 * period, t, octs))) for k in range(17)]


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "all"
    if what in ("hold", "all"):
        for rate in (44100, 48000):
            print(f"equal-level hold at {rate} Hz, blocks of 64 frames beyond R2=99:")
            for r in [*range(0, 100, 5), 76, 77, 78, 98]:
                print(f"  R {r:2d}: {measure_hold(rate, r)}")
    if what in ("hold-rs", "all"):
        for note in (36, 60, 84):
            print(f"RS 7 note {note}: R2 50 hold {measure_hold(44100, 50, note, 7)} blocks")
    if what in ("am", "all"):
        for ams in (1, 2, 3):
            print(f"AMS {ams}:", " ".join(f"AMD {d}: {measure_am(48000, ams, d):.2f} dB"
                                          for d in (10, 30, 50, 70, 99)))
    if what in ("lfo-delay", "all"):
        for delay in (10, 30, 50, 70, 99):
            onset, full = measure_lfo_delay(48000, delay)
            print(f"LFO delay {delay}: onset {onset:.3f} s, full depth {full:.3f} s")
    if what in ("lfo-wave", "all"):
        for wave in range(6):
            print(f"wave {wave}:", " ".join(f"{o:+.3f}" for _, o in measure_lfo_wave(wave)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
