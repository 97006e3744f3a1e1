"""The factory cartridge's 32 voices, designed for dx7d and written out as factory.syx.

    .venv/bin/python -m dx7d.daemon._factory_design     # regenerates daemon/factory.syx

Every voice here is original: built from FM principles (DX7.md 1.3, 3), not copied
from any Yamaha ROM or library cartridge. Each is a :class:`Voice` row: algorithm
(1-32 as on the panel), feedback, six operators (OP1 first) and a few global settings.
Output levels were balanced by rendering note 60 at velocity 100: the RMS of the held
second of every non-percussive voice lies within a few dB of the others.

``decays`` says whether a voice is expected to fall silent soon after key-off (within
two seconds); tests/daemon/test_factory.py holds every voice to it. The output is
deterministic: running this twice writes the same 4104 bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from dx7d.voices import Bank, Patch

__all__ = [
    "CATEGORIES", "FACTORY_PATH", "NO_PITCH_EG", "OFF", "VOICES", "Eg", "Lfo", "Op", "Voice",
    "build_bank", "build_patch", "eg", "main",
]

FACTORY_PATH = Path(__file__).with_name("factory.syx")
CATEGORIES = ("piano", "e.piano", "bass", "brass", "strings", "organ", "bell", "lead", "pad",
              "percussion")


@dataclass(frozen=True)
class Eg:
    """An envelope: rates R1-R4 and levels L1-L4 (0-99). L3 holds while the key is down."""

    rates: tuple[int, int, int, int]
    levels: tuple[int, int, int, int]


def eg(r1: int, r2: int, r3: int, r4: int, l1: int, l2: int, l3: int, l4: int) -> Eg:
    """Envelope shorthand: the four rates, then the four levels."""
    return Eg((r1, r2, r3, r4), (l1, l2, l3, l4))


@dataclass(frozen=True)
class Op:
    """One operator. ``ratio`` is a frequency ratio (0.5-61.69), or Hz when ``fixed``.

    ``detune`` is -7..+7 as displayed; ``scale`` is keyboard level scaling
    (break point, left depth, right depth, left curve, right curve).
    """

    ratio: float
    level: int
    env: Eg
    detune: int = 0
    vel: int = 0  # key velocity sensitivity 0-7
    rs: int = 0  # keyboard rate scaling 0-7
    ams: int = 0  # amplitude modulation sensitivity 0-3
    fixed: bool = False
    scale: tuple[int, int, int, int, int] = (39, 0, 0, 0, 0)


OFF = Op(1.0, 0, eg(99, 99, 99, 99, 0, 0, 0, 0))  # a silent, unused operator
NO_PITCH_EG = eg(99, 99, 99, 99, 50, 50, 50, 50)


@dataclass(frozen=True)
class Lfo:
    """The LFO (speeds and depths 0-99); ``wave`` is a name from dx7d.voices.LFO_WAVES."""

    speed: int = 35
    delay: int = 0
    pmd: int = 0
    amd: int = 0
    wave: str = "triangle"
    sync: bool = False


@dataclass(frozen=True)
class Voice:
    """One factory voice: a row of the design table."""

    name: str
    category: str
    algorithm: int  # 1-32 as displayed
    feedback: int
    ops: tuple[Op, Op, Op, Op, Op, Op]  # OP1 ... OP6
    decays: bool = True  # silent (< -60 dBFS) within 2 s of key-off
    lfo: Lfo = field(default_factory=Lfo)
    pms: int = 0  # pitch modulation sensitivity 0-7
    pitch_env: Eg = NO_PITCH_EG
    transpose: int = 0  # semitones, -24..+24
    osc_sync: bool = True


def _coarse_fine(ratio: float) -> tuple[int, int]:
    """The (coarse, fine) pair nearest to ``ratio`` in ratio mode: C·(1 + F/100), C 0 = 0.5."""
    best = min(
        ((c, f) for c in range(32) for f in range(100)),
        key=lambda cf: (abs((cf[0] or 0.5) * (1 + cf[1] / 100) - ratio), cf[1]),
    )
    got = (best[0] or 0.5) * (1 + best[1] / 100)
    if abs(got - ratio) > 0.01 * ratio:
        raise ValueError(f"ratio {ratio} is not reachable (nearest {got:.3f})")
    return best


def _fixed_coarse_fine(hz: float) -> tuple[int, int]:
    """(coarse, fine) for a fixed frequency: 10^(C mod 4) · 10^(F/100) Hz."""
    for coarse in range(4):
        fine = round(100 * (math.log10(hz) - coarse))
        if 0 <= fine <= 99:
            return coarse, fine
    raise ValueError(f"fixed frequency {hz} Hz is outside 1-9772 Hz")


def build_patch(voice: Voice) -> Patch:
    """The voice as a dx7d Patch."""
    p = Patch(name=voice.name)
    p.algorithm = voice.algorithm - 1
    p.feedback = voice.feedback
    p.osc_key_sync = voice.osc_sync
    p.transpose = 24 + voice.transpose
    p.pitch_mod_sensitivity = voice.pms
    p.pitch_envelope.rates = voice.pitch_env.rates
    p.pitch_envelope.levels = voice.pitch_env.levels
    lfo = p.lfo
    lfo.speed, lfo.delay = voice.lfo.speed, voice.lfo.delay
    lfo.pitch_mod_depth, lfo.amp_mod_depth = voice.lfo.pmd, voice.lfo.amd
    lfo.wave, lfo.sync = voice.lfo.wave, voice.lfo.sync
    for target, spec in zip(p.op, voice.ops, strict=True):
        coarse, fine = (_fixed_coarse_fine if spec.fixed else _coarse_fine)(spec.ratio)
        target.frequency_mode = int(spec.fixed)
        target.frequency_coarse, target.frequency_fine = coarse, fine
        target.detune = 7 + spec.detune
        target.output_level = spec.level
        target.envelope.rates = spec.env.rates
        target.envelope.levels = spec.env.levels
        target.velocity_sensitivity = spec.vel
        target.rate_scaling = spec.rs
        target.amp_mod_sensitivity = spec.ams
        (target.breakpoint, target.left_depth, target.right_depth,
         target.left_curve, target.right_curve) = spec.scale
    return p


def build_bank() -> Bank:
    """The 32 factory voices as a cartridge."""
    return Bank(build_patch(v) for v in VOICES)


def main() -> None:
    """Write daemon/factory.syx from the table below."""
    build_bank().write(FACTORY_PATH)
    print(f"wrote {FACTORY_PATH} ({FACTORY_PATH.stat().st_size} bytes)")


# Keyboard level scaling (break point, depths, curves; DX7.md 3.6; break point 39 = MIDI 60).
_TAME_TOP = (51, 0, 35, 0, 0)  # from C5 up, about -2 dB per 3 semitones: less brightness
_BASS_TOP = (51, 0, 20, 0, 0)  # bass carriers: from C5 up, about -1.2 dB per 3 semitones

# fmt: off
VOICES: tuple[Voice, ...] = (
    # -- pianos: three modulated pairs (alg 5), hammer-like modulator transients --------
    # body 1:1 pair, detuned 1:1 pair bitten by a 3:1, 2:1 pair struck by a 7:1 hammer
    Voice("DX7D PIANO", "piano", 5, 3, (
        Op(1.0, 89, eg(96, 34, 24, 62, 99, 86, 0, 0), vel=2, rs=2),
        Op(1.0, 84, eg(96, 42, 28, 62, 99, 72, 0, 0), vel=5, rs=2, scale=_TAME_TOP),
        Op(1.0, 81, eg(96, 32, 22, 62, 99, 86, 0, 0), detune=3, vel=2, rs=2),
        Op(3.0, 66, eg(97, 44, 30, 62, 99, 70, 0, 0), vel=6, rs=3, scale=_TAME_TOP),
        Op(2.0, 71, eg(97, 40, 26, 62, 99, 72, 0, 0), detune=-2, vel=2, rs=2),
        Op(7.0, 58, eg(99, 60, 36, 70, 99, 30, 0, 0), vel=7, rs=4),
    )),
    # two three-operator stacks (alg 3), more and longer modulation than DX7D PIANO
    Voice("BRITE PNO ", "piano", 3, 5, (
        Op(1.0, 91, eg(98, 38, 26, 64, 99, 84, 0, 0), vel=2, rs=2),
        Op(1.0, 86, eg(98, 40, 30, 64, 99, 80, 0, 0), vel=4, rs=3, scale=_TAME_TOP),
        Op(5.0, 64, eg(98, 50, 34, 64, 99, 60, 0, 0), vel=6, rs=3),
        Op(1.0, 83, eg(98, 36, 24, 64, 99, 84, 0, 0), detune=-3, vel=2, rs=2),
        Op(2.0, 84, eg(98, 40, 30, 64, 99, 78, 0, 0), vel=4, rs=3, scale=_TAME_TOP),
        Op(3.0, 66, eg(99, 48, 32, 64, 99, 66, 0, 0), vel=6, rs=3),
    )),
    # mostly sine carriers; modulation only with a firm touch
    Voice("SOFT PIANO", "piano", 5, 0, (
        Op(1.0, 88, eg(90, 34, 24, 58, 99, 86, 0, 0), vel=2, rs=2),
        Op(1.0, 68, eg(90, 50, 30, 58, 99, 60, 0, 0), vel=6, rs=3),
        Op(2.0, 76, eg(90, 42, 28, 58, 99, 72, 0, 0), detune=2, vel=2, rs=3),
        Op(1.0, 60, eg(92, 55, 32, 58, 99, 55, 0, 0), vel=6, rs=3),
        Op(1.0, 80, eg(90, 34, 24, 58, 99, 84, 0, 0), detune=-2, vel=2, rs=2),
        Op(4.0, 46, eg(95, 70, 40, 60, 99, 0, 0, 0), vel=7, rs=4),
    )),
    # -- electric pianos: alg 5, a 1:1 body pair and a 14:1 tine pair -------------------
    # the 14:1 tine modulator pings and dies; 1:1 pairs give the body
    Voice("TINE EPNO ", "e.piano", 5, 6, (
        Op(1.0, 88, eg(96, 28, 25, 55, 99, 80, 0, 0), vel=2, rs=3),
        Op(1.0, 74, eg(96, 40, 30, 55, 99, 72, 0, 0), vel=6, rs=3),
        Op(1.0, 76, eg(96, 30, 26, 55, 99, 78, 0, 0), detune=4, vel=2, rs=3),
        Op(14.0, 68, eg(98, 70, 40, 60, 99, 0, 0, 0), vel=7, rs=3, scale=_TAME_TOP),
        Op(1.0, 68, eg(96, 28, 25, 55, 99, 76, 0, 0), detune=-2, vel=2, rs=3),
        Op(1.0, 62, eg(96, 40, 30, 55, 99, 65, 0, 0), vel=5, rs=3),
    ), lfo=Lfo(speed=30, amd=10, wave="sine"), pms=0),
    # 14:1 and 3.5:1 modulators that ring longer: a glassy, bell-like tine
    Voice("BELL EPNO ", "e.piano", 5, 4, (
        Op(1.0, 87, eg(97, 32, 24, 55, 99, 78, 0, 0), vel=2, rs=3),
        Op(14.0, 72, eg(98, 55, 35, 60, 99, 30, 0, 0), vel=6, rs=3, scale=_TAME_TOP),
        Op(1.0, 83, eg(97, 30, 24, 55, 99, 78, 0, 0), detune=3, vel=2, rs=3),
        Op(1.0, 70, eg(97, 42, 30, 55, 99, 68, 0, 0), vel=5, rs=3),
        Op(3.0, 71, eg(98, 45, 28, 55, 99, 60, 0, 0), vel=3, rs=3),
        Op(3.5, 66, eg(98, 55, 33, 60, 99, 40, 0, 0), vel=6, rs=3),
    )),
    # a 1:2 pair gives odd, reedy harmonics; bark on hard notes; tremolo
    Voice("WURLY EPNO", "e.piano", 5, 0, (
        Op(1.0, 88, eg(97, 30, 24, 58, 99, 90, 0, 0), vel=2, rs=2, ams=1),
        Op(1.0, 80, eg(97, 50, 30, 58, 99, 70, 0, 0), vel=6, rs=2, scale=_TAME_TOP),
        Op(1.0, 80, eg(97, 30, 24, 58, 99, 90, 0, 0), detune=2, vel=2, rs=2, ams=1),
        Op(2.0, 78, eg(98, 44, 30, 58, 99, 74, 0, 0), vel=5, rs=2, scale=_TAME_TOP),
        Op(1.0, 72, eg(97, 34, 26, 58, 99, 86, 0, 0), detune=-3, vel=2, rs=2, ams=1),
        Op(5.0, 60, eg(99, 70, 40, 58, 99, 20, 0, 0), vel=6, rs=2, scale=_TAME_TOP),
    ), lfo=Lfo(speed=36, amd=24, wave="triangle")),
    # three gently modulated sines, chorused, with a slow tremolo
    Voice("SOFT EPNO ", "e.piano", 5, 0, (
        Op(1.0, 90, eg(92, 30, 24, 52, 99, 84, 0, 0), vel=3, rs=3, ams=1),
        Op(1.0, 56, eg(92, 40, 28, 52, 99, 70, 0, 0), vel=5, rs=3),
        Op(1.0, 79, eg(92, 30, 24, 52, 99, 84, 0, 0), detune=5, vel=3, rs=3, ams=1),
        Op(14.0, 44, eg(96, 70, 45, 60, 99, 0, 0, 0), vel=7, rs=3),
        Op(1.0, 73, eg(92, 30, 24, 52, 99, 84, 0, 0), detune=-3, vel=3, rs=3, ams=1),
        Op(1.0, 48, eg(92, 40, 28, 52, 99, 60, 0, 0), vel=5, rs=3),
    ), lfo=Lfo(speed=28, amd=22, wave="sine")),
    # -- basses: a suboctave carrier, plucked modulator envelopes -----------------------
    # sub-octave carriers, a 3:1 pick transient through a feedback stack (alg 7)
    Voice("PICK BASS ", "bass", 7, 5, (
        Op(0.5, 90, eg(99, 40, 26, 70, 99, 82, 0, 0), vel=2, rs=2),
        Op(0.5, 94, eg(99, 55, 30, 70, 99, 62, 0, 0), vel=5, rs=2),
        Op(0.5, 83, eg(99, 42, 26, 70, 99, 80, 0, 0), detune=2, vel=2, rs=2),
        Op(1.0, 84, eg(99, 60, 34, 70, 99, 50, 0, 0), vel=5, rs=2),
        Op(3.0, 74, eg(99, 80, 40, 70, 99, 0, 0, 0), vel=7, rs=3),
        Op(0.5, 78, eg(99, 45, 30, 70, 99, 60, 0, 0), rs=2),
    )),
    # a saw-like feedback modulator on a sub-octave carrier, slowly closing
    Voice("SYN BASS  ", "bass", 2, 7, (
        Op(0.5, 94, eg(99, 50, 35, 72, 99, 88, 80, 0), vel=3, scale=_BASS_TOP),
        Op(0.5, 78, eg(99, 40, 30, 72, 99, 80, 70, 0), vel=4, scale=_TAME_TOP),
        Op(0.5, 82, eg(99, 50, 35, 72, 99, 88, 80, 0), detune=4, vel=3, scale=_BASS_TOP),
        Op(1.0, 78, eg(99, 55, 35, 72, 99, 60, 50, 0), vel=3, scale=_TAME_TOP),
        Op(1.0, 72, eg(99, 60, 40, 72, 99, 40, 30, 0), vel=3, scale=_TAME_TOP),
        Op(2.0, 58, eg(99, 70, 40, 72, 99, 30, 20, 0), vel=3, scale=_TAME_TOP),
    )),
    # one carrier (alg 16) under modulators with fast, bright transients
    Voice("SLAP BASS ", "bass", 16, 6, (
        Op(0.5, 97, eg(99, 50, 30, 72, 99, 80, 0, 0), vel=1, rs=2),
        Op(0.5, 90, eg(99, 60, 34, 72, 99, 60, 0, 0), vel=5, rs=2),
        Op(1.5, 84, eg(99, 80, 40, 72, 99, 20, 0, 0), vel=6, rs=2),
        Op(7.0, 68, eg(99, 85, 40, 72, 99, 0, 0, 0), vel=7),
        Op(2.0, 82, eg(99, 75, 40, 72, 99, 30, 0, 0), vel=7, rs=2),
        Op(0.5, 76, eg(99, 60, 36, 72, 99, 40, 0, 0), vel=4),
    )),
    # -- brass: modulators that open slower than the carriers (alg 22) ------------------
    # alg 22: a feedback saw OP6 drives three detuned carriers; modulators open late
    Voice("BRASS SECT", "brass", 22, 7, (
        Op(1.0, 90, eg(62, 40, 30, 60, 99, 96, 95, 0), vel=2),
        Op(1.0, 84, eg(50, 35, 30, 60, 90, 84, 80, 0), vel=4, scale=_TAME_TOP),
        Op(1.0, 78, eg(60, 40, 30, 60, 99, 96, 95, 0), detune=3, vel=2),
        Op(1.0, 72, eg(60, 40, 30, 60, 99, 96, 95, 0), detune=-4, vel=2),
        Op(2.0, 70, eg(60, 40, 30, 60, 99, 95, 94, 0), detune=1, vel=2),
        Op(1.0, 78, eg(48, 36, 30, 60, 88, 82, 78, 0), vel=4, scale=_TAME_TOP),
    ), lfo=Lfo(speed=33, delay=40, pmd=5, wave="sine"), pms=3,
        pitch_env=eg(99, 40, 99, 99, 48, 50, 50, 48)),
    # one carrier, three stacks opening slower than it (alg 18); delayed vibrato
    Voice("SOLO HORN ", "brass", 18, 5, (
        Op(1.0, 92, eg(58, 40, 30, 60, 99, 92, 90, 0), vel=2),
        Op(1.0, 84, eg(46, 35, 30, 60, 92, 84, 80, 0), vel=4, scale=_TAME_TOP),
        Op(2.0, 68, eg(46, 35, 30, 60, 90, 80, 76, 0), vel=4, scale=_TAME_TOP),
        Op(1.0, 78, eg(44, 38, 30, 60, 90, 82, 78, 0), vel=4, scale=_TAME_TOP),
        Op(3.0, 64, eg(50, 40, 30, 60, 88, 70, 66, 0), vel=4, scale=_TAME_TOP),
        Op(1.0, 70, eg(50, 40, 30, 60, 90, 80, 76, 0), scale=_TAME_TOP),
    ), lfo=Lfo(speed=34, delay=55, pmd=8, wave="sine"), pms=3,
        pitch_env=eg(99, 36, 99, 99, 47, 50, 50, 48)),
    # as BRASS SECT with a sub-octave carrier, faster, brighter, wider detune
    Voice("SYN BRASS ", "brass", 22, 6, (
        Op(1.0, 88, eg(70, 40, 30, 62, 99, 96, 95, 0), vel=1),
        Op(1.0, 86, eg(42, 30, 28, 62, 99, 80, 74, 0), vel=3, scale=_TAME_TOP),
        Op(1.0, 76, eg(70, 40, 30, 62, 99, 96, 95, 0), detune=6, vel=1),
        Op(1.0, 70, eg(70, 40, 30, 62, 99, 96, 95, 0), detune=-4, vel=1),
        Op(0.5, 78, eg(70, 40, 30, 62, 99, 96, 95, 0), detune=2, vel=1),
        Op(1.0, 82, eg(40, 30, 28, 62, 99, 80, 76, 0), vel=3, scale=_TAME_TOP),
    ), lfo=Lfo(speed=20, pmd=3, wave="triangle"), pms=2),
    # -- strings: detuned saw-like pairs with slow attacks ------------------------------
    # two saw-like stacks (alg 1), detuned for an ensemble, delayed vibrato
    Voice("STRINGS   ", "strings", 1, 6, (
        Op(1.0, 90, eg(52, 40, 30, 52, 99, 94, 92, 0), vel=1),
        Op(1.0, 86, eg(48, 40, 30, 52, 94, 88, 86, 0), vel=2, scale=_TAME_TOP),
        Op(1.0, 80, eg(50, 40, 30, 52, 99, 94, 92, 0), detune=5, vel=1),
        Op(1.0, 80, eg(48, 40, 30, 52, 94, 88, 86, 0), detune=5, vel=2, scale=_TAME_TOP),
        Op(3.0, 72, eg(48, 40, 30, 52, 90, 86, 84, 0), detune=-3, vel=1, scale=_TAME_TOP),
        Op(1.0, 82, eg(48, 40, 30, 52, 94, 88, 86, 0), detune=-5, vel=1, scale=_TAME_TOP),
    ), lfo=Lfo(speed=30, delay=50, pmd=6, wave="triangle"), pms=2),
    # the same idea with a slow swell and a longer release
    Voice("SLOW STRNG", "strings", 1, 5, (
        Op(1.0, 90, eg(36, 30, 30, 46, 99, 96, 94, 0), vel=1),
        Op(1.0, 90, eg(32, 30, 30, 46, 94, 88, 86, 0), scale=_TAME_TOP),
        Op(1.0, 80, eg(34, 30, 30, 46, 99, 96, 94, 0), detune=6, vel=1),
        Op(1.0, 84, eg(32, 30, 30, 46, 94, 88, 86, 0), detune=6, scale=_TAME_TOP),
        Op(2.0, 80, eg(32, 30, 30, 46, 90, 86, 84, 0), detune=-2, scale=_TAME_TOP),
        Op(1.0, 86, eg(32, 30, 30, 46, 94, 88, 86, 0), detune=-6, scale=_TAME_TOP),
    ), lfo=Lfo(speed=26, delay=60, pmd=7, wave="triangle"), pms=2),
    # short plucked pairs, no sustain
    Voice("PIZZICATO ", "strings", 5, 3, (
        Op(1.0, 91, eg(99, 44, 34, 70, 99, 62, 0, 0), vel=2, rs=3),
        Op(1.0, 76, eg(99, 45, 36, 70, 99, 50, 0, 0), vel=5, rs=3, scale=_TAME_TOP),
        Op(1.0, 81, eg(99, 42, 34, 70, 99, 62, 0, 0), detune=4, vel=2, rs=3),
        Op(2.0, 66, eg(99, 50, 38, 70, 99, 40, 0, 0), vel=5, rs=3, scale=_TAME_TOP),
        Op(2.0, 69, eg(99, 50, 38, 70, 99, 50, 0, 0), detune=-3, vel=2, rs=3),
        Op(5.0, 54, eg(99, 80, 45, 70, 99, 0, 0, 0), vel=6, rs=3, scale=_TAME_TOP),
    )),
    # -- organs: sine drawbars side by side (alg 32) ------------------------------------
    # six sine drawbars: 16', 8', 5 1/3', 4', 2', 1'
    Voice("DRAWBAR   ", "organ", 32, 0, (
        Op(0.5, 78, eg(99, 99, 99, 80, 99, 99, 99, 0)),
        Op(1.0, 80, eg(99, 99, 99, 80, 99, 99, 99, 0)),
        Op(1.5, 72, eg(99, 99, 99, 80, 99, 99, 99, 0)),
        Op(2.0, 76, eg(99, 99, 99, 80, 99, 99, 99, 0)),
        Op(4.0, 68, eg(99, 99, 99, 80, 99, 99, 99, 0), scale=_TAME_TOP),
        Op(8.0, 60, eg(99, 99, 99, 80, 99, 99, 99, 0), scale=_TAME_TOP),
    ), lfo=Lfo(speed=50, pmd=2, wave="sine"), pms=1),
    # drawbars plus a decaying third-harmonic percussion and a key click
    Voice("PERC ORGAN", "organ", 32, 0, (
        Op(1.0, 83, eg(99, 99, 99, 80, 99, 99, 99, 0)),
        Op(0.5, 75, eg(99, 99, 99, 80, 99, 99, 99, 0)),
        Op(2.0, 75, eg(99, 99, 99, 80, 99, 99, 99, 0)),
        Op(3.0, 79, eg(99, 52, 99, 80, 99, 0, 0, 0), vel=3),
        Op(4.0, 63, eg(99, 99, 99, 80, 99, 99, 99, 0)),
        Op(13.0, 51, eg(99, 85, 99, 80, 99, 0, 0, 0), vel=4),
    )),
    # soft attack, a flue octave below and lightly modulated upper ranks (alg 19)
    Voice("PIPE ORGAN", "organ", 19, 4, (
        Op(1.0, 82, eg(70, 99, 99, 55, 99, 99, 99, 0)),
        Op(2.0, 66, eg(60, 99, 99, 55, 92, 92, 92, 0), scale=_TAME_TOP),
        Op(3.0, 62, eg(60, 99, 99, 55, 90, 90, 90, 0), scale=_TAME_TOP),
        Op(0.5, 78, eg(66, 99, 99, 55, 99, 99, 99, 0)),
        Op(2.0, 72, eg(68, 99, 99, 55, 99, 99, 99, 0)),
        Op(1.0, 58, eg(60, 99, 99, 55, 90, 90, 90, 0), scale=_TAME_TOP),
    )),
    # -- bells: inharmonic ratios, long natural decays ----------------------------------
    # 3.5:1 and 7:1 modulators: inharmonic partials, long decay
    Voice("TUBE BELL ", "bell", 5, 2, (
        Op(1.0, 89, eg(99, 30, 26, 50, 99, 70, 0, 0), vel=2, rs=2),
        Op(3.5, 76, eg(99, 34, 28, 50, 99, 60, 0, 0), vel=4, rs=2, scale=_TAME_TOP),
        Op(2.0, 77, eg(99, 32, 26, 50, 99, 64, 0, 0), detune=2, vel=2, rs=2),
        Op(7.0, 68, eg(99, 40, 30, 50, 99, 50, 0, 0), vel=4, rs=2, scale=_TAME_TOP),
        Op(0.5, 79, eg(99, 30, 26, 50, 99, 70, 0, 0), rs=2),
        Op(1.75, 66, eg(99, 38, 30, 50, 99, 55, 0, 0), vel=3, rs=2, scale=_TAME_TOP),
    )),
    # 4.2:1 and 7.4:1 modulators, thinner and brighter
    Voice("GLASS BELL", "bell", 5, 0, (
        Op(1.0, 91, eg(99, 34, 28, 52, 99, 66, 0, 0), vel=2, rs=2),
        Op(4.2, 64, eg(99, 45, 30, 52, 99, 40, 0, 0), vel=5, rs=2, scale=_TAME_TOP),
        Op(2.0, 73, eg(99, 40, 30, 52, 99, 60, 0, 0), detune=3, vel=2, rs=2),
        Op(7.4, 60, eg(99, 55, 34, 52, 99, 30, 0, 0), vel=5, rs=2, scale=_TAME_TOP),
        Op(6.0, 65, eg(99, 48, 32, 52, 99, 50, 0, 0), vel=3, rs=2),
        Op(1.0, 56, eg(99, 50, 34, 52, 99, 40, 0, 0), vel=4, rs=2, scale=_TAME_TOP),
    )),
    # root-2 (1.41:1, 4.24:1) modulators for a cluster of clangorous partials
    Voice("CHIME     ", "bell", 7, 3, (
        Op(1.0, 93, eg(99, 36, 28, 52, 99, 62, 0, 0), vel=1, rs=3),
        Op(1.41, 74, eg(99, 40, 30, 52, 99, 50, 0, 0), vel=4, rs=3, scale=_TAME_TOP),
        Op(3.0, 81, eg(99, 40, 30, 52, 99, 58, 0, 0), detune=-2, vel=1, rs=3),
        Op(4.24, 68, eg(99, 44, 32, 52, 99, 44, 0, 0), vel=4, rs=3, scale=_TAME_TOP),
        Op(11.0, 54, eg(99, 60, 36, 52, 99, 20, 0, 0), vel=5, rs=3, scale=_TAME_TOP),
        Op(5.0, 60, eg(99, 50, 34, 52, 99, 40, 0, 0), vel=4, rs=3, scale=_TAME_TOP),
    )),
    # -- leads -------------------------------------------------------------------------
    # one carrier under five modulators with feedback: hard, sync-like
    Voice("SYNC LEAD ", "lead", 16, 7, (
        Op(1.0, 94, eg(99, 60, 40, 66, 99, 92, 90, 0), vel=1),
        Op(2.0, 84, eg(99, 45, 32, 66, 99, 70, 64, 0), vel=3, scale=_TAME_TOP),
        Op(3.0, 74, eg(99, 40, 30, 66, 99, 60, 54, 0), vel=3, scale=_TAME_TOP),
        Op(1.0, 70, eg(99, 50, 35, 66, 99, 70, 66, 0), vel=2, scale=_TAME_TOP),
        Op(1.0, 86, eg(99, 40, 30, 66, 99, 80, 66, 0), vel=3, scale=_TAME_TOP),
        Op(1.0, 80, eg(99, 50, 35, 66, 99, 76, 72, 0), vel=2, scale=_TAME_TOP),
    ), lfo=Lfo(speed=36, delay=45, pmd=9, wave="sine"), pms=3),
    # a 1:2 pair makes odd harmonics only: a square-ish wave
    Voice("SQUARE LD ", "lead", 1, 0, (
        Op(1.0, 88, eg(99, 50, 40, 66, 99, 94, 92, 0), vel=2),
        Op(2.0, 86, eg(99, 50, 40, 66, 99, 90, 88, 0), vel=2, scale=_TAME_TOP),
        Op(1.0, 78, eg(99, 50, 40, 66, 99, 94, 92, 0), detune=3, vel=2),
        Op(2.0, 78, eg(99, 50, 40, 66, 99, 90, 88, 0), vel=2, scale=_TAME_TOP),
        Op(6.0, 52, eg(99, 70, 40, 66, 99, 50, 40, 0), vel=2, scale=_TAME_TOP),
        OFF,
    ), lfo=Lfo(speed=35, delay=40, pmd=8, wave="sine"), pms=3),
    # nearly a sine, breath from a 31:1 modulator, delayed vibrato
    Voice("FLUTE     ", "lead", 5, 0, (
        Op(1.0, 91, eg(66, 50, 40, 62, 99, 94, 92, 0), vel=2, ams=1),
        Op(1.0, 56, eg(60, 50, 40, 62, 92, 84, 82, 0), vel=3),
        Op(2.0, 58, eg(62, 50, 40, 62, 99, 90, 88, 0)),
        Op(1.0, 34, eg(60, 50, 40, 62, 90, 80, 80, 0)),
        Op(3.0, 36, eg(84, 60, 40, 62, 99, 60, 0, 0), vel=3),
        Op(31.0, 66, eg(80, 55, 40, 62, 99, 70, 66, 0), vel=2),
    ), lfo=Lfo(speed=32, delay=45, pmd=6, amd=6, wave="sine"), pms=2),
    # -- pads --------------------------------------------------------------------------
    # slow, detuned, mostly sine pairs with a sub-octave
    Voice("WARM PAD  ", "pad", 5, 4, (
        Op(1.0, 88, eg(34, 30, 30, 40, 99, 96, 94, 0), vel=1),
        Op(1.0, 70, eg(28, 30, 30, 40, 90, 86, 84, 0)),
        Op(1.0, 80, eg(32, 30, 30, 40, 99, 96, 94, 0), detune=6, vel=1),
        Op(0.5, 64, eg(28, 30, 30, 40, 90, 86, 84, 0)),
        Op(0.5, 86, eg(32, 30, 30, 40, 99, 96, 94, 0), detune=-6, vel=1),
        Op(1.0, 58, eg(28, 30, 30, 40, 88, 84, 82, 0)),
    ), decays=False, lfo=Lfo(speed=22, pmd=4, wave="triangle"), pms=2),
    # octave-spaced carriers with high ratio modulators and tremolo
    Voice("SHIMMER   ", "pad", 5, 2, (
        Op(1.0, 88, eg(36, 30, 30, 40, 99, 96, 94, 0), vel=1, ams=1),
        Op(5.0, 60, eg(30, 30, 30, 40, 92, 86, 84, 0), ams=2, scale=_TAME_TOP),
        Op(2.0, 82, eg(34, 30, 30, 40, 99, 96, 94, 0), detune=5, vel=1, ams=1),
        Op(7.0, 56, eg(30, 30, 30, 40, 92, 86, 84, 0), ams=2, scale=_TAME_TOP),
        Op(4.0, 64, eg(38, 30, 30, 40, 99, 96, 94, 0), detune=-5, vel=1, ams=1),
        Op(9.0, 52, eg(30, 30, 30, 40, 92, 86, 84, 0), scale=_TAME_TOP),
    ), decays=False, lfo=Lfo(speed=38, amd=14, pmd=2, wave="sine"), pms=1),
    # six detuned sines (alg 32) on the first four harmonics, vibrato
    Voice("CHOIR PAD ", "pad", 32, 0, (
        Op(1.0, 90, eg(40, 30, 30, 44, 99, 96, 94, 0), vel=1, ams=1),
        Op(1.0, 82, eg(38, 30, 30, 44, 99, 96, 94, 0), detune=5, vel=1, ams=1),
        Op(2.0, 78, eg(40, 30, 30, 44, 99, 96, 94, 0), detune=-4, vel=1),
        Op(3.0, 76, eg(42, 30, 30, 44, 99, 96, 94, 0), detune=3, vel=1),
        Op(4.0, 64, eg(42, 30, 30, 44, 99, 96, 94, 0), detune=-3, vel=1),
        Op(1.0, 76, eg(38, 30, 30, 44, 99, 96, 94, 0), detune=-6, vel=1, ams=1),
    ), decays=False, lfo=Lfo(speed=30, pmd=6, amd=5, wave="triangle"), pms=2),
    # -- tuned percussion --------------------------------------------------------------
    # a sine and a fast fourth-partial (4:1) with a mallet transient
    Voice("MARIMBA   ", "percussion", 5, 0, (
        Op(1.0, 95, eg(99, 42, 36, 60, 99, 50, 0, 0), vel=1, rs=3),
        Op(1.0, 64, eg(99, 75, 45, 60, 99, 0, 0, 0), vel=6, rs=4),
        Op(4.0, 79, eg(99, 62, 42, 60, 99, 20, 0, 0), vel=1, rs=4),
        Op(3.0, 54, eg(99, 80, 45, 60, 99, 0, 0, 0), vel=6, rs=4),
        Op(10.0, 57, eg(99, 80, 45, 60, 99, 0, 0, 0), vel=4, rs=4),
        OFF,
    )),
    # 1:1 and 4:1 carriers ringing longer, with tremolo
    Voice("VIBES     ", "percussion", 5, 0, (
        Op(1.0, 94, eg(99, 36, 30, 56, 99, 72, 0, 0), vel=2, rs=3, ams=2),
        Op(1.0, 44, eg(99, 60, 40, 56, 99, 20, 0, 0), vel=5, rs=3),
        Op(4.0, 76, eg(99, 44, 34, 56, 99, 55, 0, 0), vel=2, rs=3, ams=2),
        Op(1.0, 50, eg(99, 70, 40, 56, 99, 0, 0, 0), vel=5, rs=3),
        Op(10.0, 50, eg(99, 66, 40, 56, 99, 20, 0, 0), vel=3, rs=3),
        OFF,
    ), lfo=Lfo(speed=42, amd=30, wave="sine")),
    # a sine plus a decaying inharmonic 5.6:1 partial
    Voice("KALIMBA   ", "percussion", 7, 0, (
        Op(1.0, 93, eg(99, 40, 32, 60, 99, 56, 0, 0), vel=2, rs=3),
        Op(7.0, 62, eg(99, 80, 45, 60, 99, 0, 0, 0), vel=6, rs=4),
        Op(5.6, 78, eg(99, 55, 40, 60, 99, 30, 0, 0), vel=3, rs=3),
        Op(2.0, 56, eg(99, 70, 45, 60, 99, 20, 0, 0), vel=5, rs=4),
        Op(1.0, 44, eg(99, 75, 45, 60, 99, 0, 0, 0), vel=6, rs=4),
        Op(3.0, 42, eg(99, 80, 45, 60, 99, 0, 0, 0), rs=4),
    )),
    # a short sine thump with a 1.5:1 and 2.76:1 knock
    Voice("LOG DRUM  ", "percussion", 16, 0, (
        Op(1.0, 96, eg(99, 55, 40, 60, 99, 30, 0, 0), vel=1, rs=3),
        Op(1.5, 66, eg(99, 72, 45, 60, 99, 10, 0, 0), vel=5, rs=3),
        Op(0.5, 62, eg(99, 65, 45, 60, 99, 20, 0, 0), vel=5, rs=3),
        Op(2.0, 44, eg(99, 80, 45, 60, 99, 0, 0, 0), vel=5, rs=3),
        Op(2.76, 54, eg(99, 80, 45, 60, 99, 0, 0, 0), vel=6, rs=3),
        OFF,
    )),
)
# fmt: on

if __name__ == "__main__":
    main()
