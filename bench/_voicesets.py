"""The voice sets the fidelity test and bench/engine.py render (shared by both).

(a) random_voices(n): raw 155-byte VCED voices from a seeded numpy RNG, every
    parameter inside its DX7 range and *biased to sound*:

    * carriers (per the algorithm's carrier list, DX7.md 3.13): output level
      80-99; EG L1 60-99, L2 40-99, L3 50-99, L4 0-20; rates R1 40-99, R2 20-99,
      R3 20-99, R4 30-90; keyboard level-scaling depths 0-40 (so notes 36 and 84
      stay audible); ratio mode 90 % of the time (coarse 0-4), otherwise fixed
      with coarse 2-3 (100 Hz-10 kHz);
    * modulators: output level, levels and rates anywhere in 0-99, depths 0-99,
      ratio mode 85 % (coarse 0-31), otherwise fixed (any coarse);
    * every operator: curves, rate scaling, AMS, velocity sensitivity, fine and
      detune uniform over their ranges;
    * pitch EG: rates 0-99, levels 35-65 (at most about ±1 octave from 50);
      transpose 12-36 (±1 octave);
    * algorithm, feedback, osc key sync and the whole LFO (speed, delay, PMD,
      AMD, key sync, wave, PMS) uniform over their ranges;
    * names "RND 0001", "RND 0002", ...

(b) cartridge_voices(banks): all 32 voices of rom1A.syx, then all voices of
    LIBRARY_COUNT cartridges from banks/library chosen by library_cartridges():
    every .syx under library/ sorted by its relative path (as a string), kept
    when it is a strictly valid 4104-byte bulk dump (is_valid_cartridge: header
    F0 43 00 09 20 00, F7 at the end, correct checksum, every voice field in
    range) and not a copy of rom1A; then every k-th of those, k = valid // 10,
    starting at k // 2.

probe_vced(name, **changes): one operator alone (OP1 at OL 99, ratio 1, instant EG,
    algorithm 32) with named changes, for tests and measurements of one law at a time.

.syx files are parsed with dx7d.voices when it is installed (Bank.read(path)[i]
.to_vced()), else with dexed-py's Patch.load_bank (VCED = to_sysex()[:155]).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CARRIERS",
    "LIBRARY_COUNT",
    "RANDOM_SEED",
    "Voice",
    "bank_vceds",
    "cartridge_voices",
    "is_valid_cartridge",
    "library_cartridges",
    "probe_vced",
    "random_voice",
    "random_voices",
]

RANDOM_SEED = 20_261_123
LIBRARY_COUNT = 10
VCED_SIZE = 155
BULK_HEADER = bytes([0xF0, 0x43, 0x00, 0x09, 0x20, 0x00])
BULK_SIZE = 4104

# Carrier operators (1-6) of algorithms 1-32 (index 0-31), DX7.md 3.13.
CARRIERS: tuple[tuple[int, ...], ...] = (
    (1, 3), (1, 3), (1, 4), (1, 4), (1, 3, 5), (1, 3, 5), (1, 3), (1, 3),
    (1, 3), (1, 4), (1, 4), (1, 3), (1, 3), (1, 3), (1, 3), (1,),
    (1,), (1,), (1, 4, 5), (1, 2, 4), (1, 2, 4, 5), (1, 3, 4, 5), (1, 2, 4, 5), (1, 2, 3, 4, 5),
    (1, 2, 3, 4, 5), (1, 2, 4), (1, 2, 4), (1, 3, 6), (1, 2, 3, 5), (1, 2, 3, 6), (1, 2, 3, 4, 5),
    (1, 2, 3, 4, 5, 6),
)


@dataclass(frozen=True)
class Voice:
    """One voice to render: a label for reports and its 155 VCED bytes."""

    label: str
    vced: bytes


def _operator(rng: np.random.Generator, carrier: bool) -> list[int]:
    """21 VCED bytes of one operator (offsets +0..+20, DX7.md 1.3)."""

    def r(low: int, high: int) -> int:  # inclusive
        return int(rng.integers(low, high + 1))

    if carrier:
        rates = [r(40, 99), r(20, 99), r(20, 99), r(30, 90)]
        levels = [r(60, 99), r(40, 99), r(50, 99), r(0, 20)]
        depths = [r(0, 40), r(0, 40)]
        level = r(80, 99)
        fixed = rng.random() < 0.10
        coarse = r(2, 3) if fixed else r(0, 4)
    else:
        rates = [r(0, 99) for _ in range(4)]
        levels = [r(0, 99) for _ in range(4)]
        depths = [r(0, 99), r(0, 99)]
        level = r(0, 99)
        fixed = rng.random() < 0.15
        coarse = r(0, 31)
    return [
        *rates, *levels, r(0, 99), *depths, r(0, 3), r(0, 3),
        r(0, 7), r(0, 3), r(0, 7), level, int(fixed), coarse, r(0, 99), r(0, 14),
    ]


def random_voice(rng: np.random.Generator, name: str) -> bytes:
    """One random valid VCED voice biased to sound (see the module docstring)."""

    def r(low: int, high: int) -> int:  # inclusive
        return int(rng.integers(low, high + 1))

    algorithm = r(0, 31)
    carriers = CARRIERS[algorithm]
    data: list[int] = []
    for op in (6, 5, 4, 3, 2, 1):  # VCED stores OP6 first
        data += _operator(rng, op in carriers)
    data += [r(0, 99) for _ in range(4)] + [r(35, 65) for _ in range(4)]  # pitch EG
    data += [algorithm, r(0, 7), r(0, 1)]  # algorithm, feedback, osc key sync
    data += [r(0, 99), r(0, 99), r(0, 99), r(0, 99), r(0, 1), r(0, 5), r(0, 7)]  # LFO, PMS
    data += [r(12, 36)]  # transpose
    data += list(name[:10].ljust(10).encode("ascii"))
    assert len(data) == VCED_SIZE
    return bytes(data)


def random_voices(n: int, seed: int = RANDOM_SEED) -> list[Voice]:
    """n random voices "RND 0001"... from one seeded generator (the same n, same voices)."""
    rng = np.random.default_rng(seed)
    names = [f"RND {i:04d}" for i in range(1, n + 1)]
    return [Voice(name, random_voice(rng, name)) for name in names]


# Packed-voice (VMEM, DX7.md 1.4) fields with a narrower range than their bits:
# (offset within the 128-byte voice, mask, shift, maximum).
def _vmem_limits() -> list[tuple[int, int, int, int]]:
    limits: list[tuple[int, int, int, int]] = []
    for op in range(6):
        base = op * 17
        limits += [(base + i, 0x7F, 0, 99) for i in range(11)]  # EG, break point, depths
        limits += [(base + 12, 0x78, 3, 14), (base + 14, 0x7F, 0, 99), (base + 16, 0x7F, 0, 99)]
    limits += [(i, 0x7F, 0, 99) for i in range(102, 110)]  # pitch EG
    limits += [(i, 0x7F, 0, 99) for i in range(112, 116)]  # LFO speed, delay, PMD, AMD
    limits += [(116, 0x0E, 1, 5), (117, 0x7F, 0, 48)]  # LFO wave, transpose
    return limits


_VMEM_LIMITS = _vmem_limits()


def is_valid_cartridge(data: bytes) -> bool:
    """True for a 4104-byte 32-voice bulk dump with a correct checksum and in-range fields."""
    if len(data) != BULK_SIZE or data[:6] != BULK_HEADER or data[-1] != 0xF7:
        return False
    payload = data[6:4102]
    if any(b > 0x7F for b in payload) or (sum(payload) + data[4102]) & 0x7F:
        return False
    return all(
        (payload[v * 128 + offset] & mask) >> shift <= maximum
        for v in range(32)
        for offset, mask, shift, maximum in _VMEM_LIMITS
    )


def library_cartridges(banks: Path, count: int = LIBRARY_COUNT) -> list[Path]:
    """count valid library cartridges, chosen deterministically (module docstring, (b))."""
    library = banks / "library"
    rom = (banks / "rom1A.syx").read_bytes()
    paths = sorted(library.rglob("*.syx"), key=lambda p: str(p.relative_to(library)))
    valid = []
    for path in paths:
        if path.stat().st_size != BULK_SIZE:
            continue
        data = path.read_bytes()
        if is_valid_cartridge(data) and data[6:4102] != rom[6:4102]:
            valid.append(path)
    if len(valid) < count:
        raise ValueError(f"only {len(valid)} valid cartridges under {library}, need {count}")
    step = len(valid) // count
    return [valid[step // 2 + i * step] for i in range(count)]


def bank_vceds(path: Path) -> list[bytes]:
    """The 32 VCED voices (155 bytes each) of a cartridge file."""
    try:
        from dx7d.voices import Bank
    except ImportError:
        from dexed import Patch

        return [patch.to_sysex()[:VCED_SIZE] for patch in Patch.load_bank(str(path))]
    return [bytes(voice.to_vced()) for voice in Bank.read(path)]


def cartridge_voices(banks: Path, count: int = LIBRARY_COUNT) -> list[Voice]:
    """rom1A's 32 voices, then those of count library cartridges, labelled by file and slot."""
    voices = []
    for path in [banks / "rom1A.syx", *library_cartridges(banks, count)]:
        name = path.stem if path.parent == banks else str(path.relative_to(banks / "library"))
        for slot, vced in enumerate(bank_vceds(path), start=1):
            voice_name = vced[145:155].decode("ascii", errors="replace").strip()
            voices.append(Voice(f"{name}#{slot:02d} {voice_name}", vced))
    return voices


# probe_vced's change names: op<k>_<field> (k = 1-6, OP1 = the last 21 bytes of the
# operator block) with field one of these, in VCED order, or a global below
PROBE_FIELDS = ("r1", "r2", "r3", "r4", "l1", "l2", "l3", "l4", "bp", "ld", "rd", "lc",
                "rc", "rs", "ams", "kvs", "ol", "mode", "coarse", "fine", "detune")
PROBE_GLOBALS = {"pr1": 126, "pr2": 127, "pr3": 128, "pr4": 129, "pl1": 130, "pl2": 131,
                 "pl3": 132, "pl4": 133, "alg": 134, "fb": 135, "sync": 136,
                 "lfo_speed": 137, "lfo_delay": 138, "pmd": 139, "amd": 140, "lfo_sync": 141,
                 "wave": 142, "pms": 143, "transpose": 144}


def probe_vced(name: bytes = b"PROBE", **changes: int) -> bytes:
    """155-byte VCED: OP1 alone at OL 99, ratio 1.00, rates and L1-L3 99 (an instant EG),
    algorithm 32, LFO speed 35, transpose C3; then ``changes`` (``alg`` counts 1-32)."""
    data = bytearray(155)
    for op in range(6):
        base = op * 21
        data[base:base + 8] = bytes([99, 99, 99, 99, 99, 99, 99, 0])
        data[base + 8] = 39  # breakpoint C3
        data[base + 16] = 99 if op == 5 else 0  # only OP1 (the last block) is heard
        data[base + 18] = 1  # coarse 1
        data[base + 20] = 7  # detune centre
    data[126:134] = bytes([99, 99, 99, 99, 50, 50, 50, 50])  # pitch EG flat
    data[134] = 31
    data[136] = 1
    data[137] = 35
    data[144] = 24
    data[145:155] = name.ljust(10)[:10]
    for key, value in changes.items():
        if key in PROBE_GLOBALS:
            data[PROBE_GLOBALS[key]] = value - 1 if key == "alg" else value
            continue
        op_name, field = key.split("_", 1)
        data[(6 - int(op_name[2:])) * 21 + PROBE_FIELDS.index(field)] = value
    return bytes(data)
