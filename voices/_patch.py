"""The DX7 voice model: every parameter by name, range-checked on assignment.

A :class:`Patch` keeps its 156 parameter values in one byte array indexed by
parameter number (VCED order, see _spec). The named accessors are views onto it,
so ``patch.op[0].envelope.rates = (...)`` writes the patch itself. Operators are
indexed 0-5 = OP1-OP6; the OP6-first storage order stays inside this module.
"""

from __future__ import annotations

import operator as _operator
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from ._codec import ALL_OPERATORS_ON, decode_vced, decode_vmem, encode_vced, encode_vmem
from ._spec import (
    NAME_FIRST,
    NAME_LENGTH,
    OP_ENABLE,
    PARAMETER_BY_KEY,
    PARAMETER_COUNT,
    PARAMETERS,
    VCED_SIZE,
    op_base,
)

if TYPE_CHECKING:
    from ._preset import Preset

__all__ = [
    "ARRAY_PARAMETERS",
    "CURVE_NAMES",
    "INIT_VOICE",
    "LFO_WAVES",
    "Envelope",
    "Lfo",
    "Operator",
    "Patch",
]

LFO_WAVES: Final = ("triangle", "saw down", "saw up", "square", "sine", "sample and hold")
CURVE_NAMES: Final = ("-LIN", "-EXP", "+EXP", "+LIN")  # level scaling curves 0-3
# dexed-py's spellings of the same four curves (as its Patch reports them), also accepted.
DEXED_CURVE_NAMES: Final = ("lin", "exp-", "exp+", "log")
_CURVE_BY_NAME: Final = {
    **{n.lower(): i for i, n in enumerate(CURVE_NAMES)},
    **{n: i for i, n in enumerate(DEXED_CURVE_NAMES)},
}
# LFO wave names with case, spaces, "_", "-" and "&" removed -> wave number (dexed-py
# writes "saw_down", "s&h").
_WAVE_BY_KEY: Final = {
    "triangle": 0, "sawdown": 1, "sawup": 2, "square": 3, "sine": 4,
    "sampleandhold": 5, "samplehold": 5, "sh": 5, "sandh": 5,
}
# The parameters of the flat ML vector, in order: every one but the name.
ARRAY_PARAMETERS: Final = (*range(NAME_FIRST), OP_ENABLE)


def _init_values() -> bytes:
    """DX7.md 1.8: the DX7's INIT VOICE."""
    v = bytearray(PARAMETER_COUNT)
    for op in range(6):
        b = op_base(op)
        v[b:b + 8] = bytes((99, 99, 99, 99, 99, 99, 99, 0))
        v[b + 16] = 99 if op == 0 else 0  # output level: only OP1 sounds
        v[b + 18] = 1  # coarse 1
        v[b + 20] = 7  # detune centre
    v[126:134] = bytes((99, 99, 99, 99, 50, 50, 50, 50))
    v[136] = 1  # osc key sync
    v[137] = 35  # LFO speed
    v[141] = 1  # LFO key sync
    v[143] = 3  # PMS
    v[144] = 24  # transpose C3
    v[NAME_FIRST:NAME_FIRST + NAME_LENGTH] = b"INIT VOICE"
    v[OP_ENABLE] = ALL_OPERATORS_ON
    return bytes(v)


_INIT_VALUES: Final = _init_values()


def _checked(number: int, value: object) -> int:
    """``value`` as an int inside parameter ``number``'s range, or ValueError/TypeError."""
    p = PARAMETERS[number]
    try:
        v = _operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{p.label} must be an integer, got {value!r}") from None
    if not p.low <= v <= p.high:
        raise ValueError(f"{p.label} must be {p.low}-{p.high}, got {v}")
    return v


class _Field:
    """A parameter at ``offset`` from the owner's base, read and written as an int."""

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return obj._patch._v[obj._base + self.offset]

    def __set__(self, obj: Any, value: object) -> None:
        obj._patch._store({obj._base + self.offset: value})


class _Flag(_Field):
    """A 0/1 parameter read as a bool."""

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return bool(obj._patch._v[obj._base + self.offset])


class _View:
    __slots__ = ("_base", "_patch")

    def __init__(self, patch: Patch, base: int) -> None:
        self._patch = patch
        self._base = base


class Envelope(_View):
    """Four rates and four levels (0-99); an operator's EG or the pitch EG."""

    __slots__ = ()

    @property
    def rates(self) -> tuple[int, int, int, int]:
        v = self._patch._v
        return (v[self._base], v[self._base + 1], v[self._base + 2], v[self._base + 3])

    @rates.setter
    def rates(self, values: Sequence[int]) -> None:
        self._set4(0, values, "rates")

    @property
    def levels(self) -> tuple[int, int, int, int]:
        v, b = self._patch._v, self._base + 4
        return (v[b], v[b + 1], v[b + 2], v[b + 3])

    @levels.setter
    def levels(self, values: Sequence[int]) -> None:
        self._set4(4, values, "levels")

    def _set4(self, offset: int, values: Sequence[int], what: str) -> None:
        values = list(values)
        if len(values) != 4:
            raise ValueError(f"an envelope has 4 {what}, got {len(values)}")
        self._patch._store({self._base + offset + i: x for i, x in enumerate(values)})

    def __repr__(self) -> str:
        return f"Envelope(rates={self.rates}, levels={self.levels})"


class Lfo(_View):
    """The voice's LFO. ``wave`` is a name from LFO_WAVES; ``wave_index`` is 0-5."""

    __slots__ = ()
    speed = _Field(0)
    delay = _Field(1)
    pitch_mod_depth = _Field(2)
    amp_mod_depth = _Field(3)
    sync = _Flag(4)
    wave_index = _Field(5)

    @property
    def wave(self) -> str:
        return LFO_WAVES[self.wave_index]

    @wave.setter
    def wave(self, value: str | int) -> None:
        if isinstance(value, str):
            key = "".join(c for c in value.lower() if c.isalnum())
            if key not in _WAVE_BY_KEY:
                raise ValueError(f"LFO wave must be one of {', '.join(LFO_WAVES)} "
                                 f"(or dexed-py's saw_down, saw_up, s&h), got {value!r}")
            value = _WAVE_BY_KEY[key]
        self.wave_index = value

    def __repr__(self) -> str:
        return (f"Lfo(speed={self.speed}, delay={self.delay}, pmd={self.pitch_mod_depth}, "
                f"amd={self.amp_mod_depth}, sync={self.sync}, wave={self.wave!r})")


class _Curve(_Field):
    """A level scaling curve, read as 0-3; set from 0-3 or a name (CURVE_NAMES or dexed-py's)."""

    def __set__(self, obj: Any, value: object) -> None:
        if isinstance(value, str):
            number = _CURVE_BY_NAME.get(value.strip().lower())
            if number is None:
                raise ValueError(f"a level scaling curve is one of {', '.join(CURVE_NAMES)} "
                                 f"or {', '.join(DEXED_CURVE_NAMES)}, got {value!r}")
            value = number
        super().__set__(obj, value)


class Operator(_View):
    """One operator (``patch.op[i]``, i = 0-5 for OP1-OP6)."""

    __slots__ = ("_index",)
    breakpoint = _Field(8)  # 0-99, 39 = C3
    left_depth = _Field(9)
    right_depth = _Field(10)
    left_curve = _Curve(11)  # 0-3, see CURVE_NAMES
    right_curve = _Curve(12)
    rate_scaling = _Field(13)
    amp_mod_sensitivity = _Field(14)
    velocity_sensitivity = _Field(15)
    output_level = _Field(16)
    frequency_mode = _Field(17)  # 0 ratio, 1 fixed
    frequency_coarse = _Field(18)
    frequency_fine = _Field(19)
    detune = _Field(20)  # 0-14, 7 = centre

    def __init__(self, patch: Patch, index: int) -> None:
        super().__init__(patch, op_base(index))
        self._index = index

    @property
    def envelope(self) -> Envelope:
        return Envelope(self._patch, self._base)

    @envelope.setter
    def envelope(self, value: Envelope) -> None:
        rates, levels = value.rates, value.levels
        self._patch._store({self._base + i: x for i, x in enumerate((*rates, *levels))})

    @property
    def enabled(self) -> bool:
        """The operator's on/off switch (parameter 155, not stored in dumps)."""
        return bool(self._patch._v[OP_ENABLE] >> (5 - self._index) & 1)

    @enabled.setter
    def enabled(self, on: bool) -> None:
        bit = 1 << (5 - self._index)
        mask = self._patch._v[OP_ENABLE]
        self._patch._store({OP_ENABLE: mask | bit if on else mask & ~bit})

    def __repr__(self) -> str:
        return (f"Operator(OP{self._index + 1}, output_level={self.output_level}, "
                f"coarse={self.frequency_coarse}, fine={self.frequency_fine}, "
                f"{self.envelope!r})")


def _readable_name(raw: bytes) -> str:
    """Voice name bytes for people: printable ASCII as it is, other bytes as ``\\xNN``,
    trailing spaces removed."""
    return "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in raw).rstrip(" ")


class Patch:
    """A DX7 voice: the 155 VCED parameters, named, plus the operator on/off mask.

    ``Patch(name="BRASS 1")`` is the DX7 INIT VOICE with that name. Assignments
    are range-checked and raise ValueError naming the parameter and its range.
    """

    __slots__ = ("_ops", "_readonly", "_v")
    __hash__ = None  # type: ignore[assignment]  # mutable

    algorithm = _Field(134)  # 0-31 (the panel shows 1-32)
    feedback = _Field(135)
    osc_key_sync = _Flag(136)
    pitch_mod_sensitivity = _Field(143)
    transpose = _Field(144)  # 0-48, 24 = no transpose
    operator_enable = _Field(OP_ENABLE)  # bit 5 = OP1 ... bit 0 = OP6

    def __init__(self, name: str = "INIT VOICE") -> None:
        self._v = bytearray(_INIT_VALUES)
        self._readonly = False
        self._ops = _Operators(Operator(self, i) for i in range(6))
        self.name = name

    # views --------------------------------------------------------------------------
    _base = 0  # so that the _Field descriptors work on the patch itself

    @property
    def _patch(self) -> Patch:
        return self

    @property
    def op(self) -> tuple[Operator, ...]:
        """The six operators, 0-5 = OP1-OP6."""
        return self._ops

    @property
    def lfo(self) -> Lfo:
        return Lfo(self, 137)

    @property
    def pitch_envelope(self) -> Envelope:
        return Envelope(self, 126)

    @property
    def name(self) -> str:
        """The 10-character name as stored, padding and any control bytes included: it
        round-trips byte for byte (``display_name`` is for people)."""
        return self.name_bytes.decode("ascii")

    @name.setter
    def name(self, value: str) -> None:
        if len(value) > NAME_LENGTH:
            raise ValueError(f"a voice name has at most {NAME_LENGTH} characters, got {value!r}")
        bad = [c for c in value if not 0 <= ord(c) <= 127]
        if bad:
            raise ValueError(f"voice name characters must be ASCII 0-127, got {bad[0]!r}")
        self.name_bytes = value.ljust(NAME_LENGTH).encode("ascii")

    @property
    def name_bytes(self) -> bytes:
        """The 10 raw name bytes (0-127; the DX7 shows 32-127), exactly as received."""
        return bytes(self._v[NAME_FIRST:NAME_FIRST + NAME_LENGTH])

    @name_bytes.setter
    def name_bytes(self, value: bytes) -> None:
        if len(value) > NAME_LENGTH:
            raise ValueError(f"a voice name has at most {NAME_LENGTH} bytes, got {value!r}")
        raw = bytes(value).ljust(NAME_LENGTH, b" ")
        self._store({NAME_FIRST + i: c for i, c in enumerate(raw)})

    @property
    def display_name(self) -> str:
        """The name for a screen or a log: trailing spaces removed, a byte the DX7 cannot
        show (below 32) or DEL as ``\\xNN``; the stored bytes are unchanged."""
        return _readable_name(self.name_bytes)

    # parameters by number -----------------------------------------------------------
    def get_param(self, number: int) -> int:
        """Voice parameter ``number`` (0-155, the VCED index; 155 = operator on/off)."""
        if not 0 <= number < PARAMETER_COUNT:
            raise ValueError(f"voice parameter number must be 0-155, got {number}")
        return self._v[number]

    def set_param(self, number: int, value: int) -> None:
        """Set voice parameter ``number`` (0-155), range-checked."""
        if not 0 <= number < PARAMETER_COUNT:
            raise ValueError(f"voice parameter number must be 0-155, got {number}")
        self._store({number: value})

    def _store(self, changes: dict[int, object]) -> None:
        """Check every change first, then apply them all (nothing half-applied)."""
        if self._readonly:
            raise AttributeError("this Patch is read-only (INIT_VOICE?): change a .copy()")
        checked = {n: _checked(n, v) for n, v in changes.items()}
        for n, v in checked.items():
            self._v[n] = v

    # copies -------------------------------------------------------------------------
    def copy(self) -> Patch:
        """An independent, writable copy."""
        return Patch._from_values(self._v)

    def replace(self, **changes: object) -> Patch:
        """A copy with parameters changed by key (``algorithm=4``, ``op1_detune=7``, ``name=``)."""
        new = self.copy()
        name = changes.pop("name", None)
        unknown = [k for k in changes if k not in PARAMETER_BY_KEY]
        if unknown:
            raise TypeError(f"unknown voice parameter {unknown[0]!r} (see PARAMETERS keys)")
        new._store({PARAMETER_BY_KEY[k].number: v for k, v in changes.items()})
        if name is not None:
            new.name = str(name)
        return new

    def replace_param(self, number: int, value: int) -> Patch:
        """A copy with voice parameter ``number`` (0-155) set to ``value``, range-checked."""
        new = self.copy()
        new.set_param(number, value)
        return new

    def readonly(self) -> Patch:
        """A copy that refuses every change (for shared constants such as INIT_VOICE)."""
        new = self.copy()
        new._readonly = True
        return new

    @classmethod
    def _from_values(cls, values: bytes | bytearray) -> Patch:
        new = cls.__new__(cls)
        new._v = bytearray(values)
        new._readonly = False
        new._ops = _Operators(Operator(new, i) for i in range(6))
        return new

    # formats ------------------------------------------------------------------------
    @classmethod
    def from_vced(cls, data: bytes) -> Patch:
        """From a 155-byte single-voice payload (156: plus the on/off mask); strict.

        Raises SysexError (a ValueError) naming the first parameter out of range.
        """
        return cls._from_values(decode_vced(data, strict=True).values)

    def to_vced(self) -> bytes:
        """The 155-byte single-voice (VCED) payload."""
        return encode_vced(self._v)

    @classmethod
    def from_vmem(cls, data: bytes) -> Patch:
        """From 128 packed cartridge bytes; strict (don't-care bits are ignored)."""
        return cls._from_values(decode_vmem(data, strict=True).values)

    def to_vmem(self) -> bytes:
        """The 128-byte packed (cartridge) form; the on/off mask is not stored there."""
        return encode_vmem(self._v)

    def to_array(self) -> np.ndarray:
        """Every non-name parameter as float32 raw values, in ARRAY_PARAMETERS order."""
        return np.array([self._v[n] for n in ARRAY_PARAMETERS], dtype=np.float32)

    @classmethod
    def from_array(cls, array: Iterable[float], name: str = "INIT VOICE") -> Patch:
        """Inverse of to_array(): each value must be a whole number inside its range."""
        a = np.asarray(array, dtype=np.float64).ravel()
        if a.shape != (len(ARRAY_PARAMETERS),):
            raise ValueError(f"a patch vector has {len(ARRAY_PARAMETERS)} values, got {a.size}")
        patch = cls(name=name)
        changes: dict[int, object] = {}
        for number, x in zip(ARRAY_PARAMETERS, a, strict=True):
            if not np.isfinite(x) or x != round(x):
                label = PARAMETERS[number].label
                raise ValueError(f"{label} must be a whole number, got {x}")
            changes[number] = round(x)
        patch._store(changes)
        return patch

    # dexed-py compatible names ------------------------------------------------------
    @classmethod
    def from_sysex(cls, data: bytes) -> Patch:
        """From a VCED payload (155/156 bytes) or a whole single-voice dump message.

        156 bytes are the payload and the operator on/off mask (``to_sysex()``), or
        ``data[6:162]`` of a 163-byte dump file: the payload and the dump's checksum.
        A last byte equal to the payload's checksum is taken as that checksum (every
        operator on).
        """
        if data[:1] == b"\xf0":
            from ._sysex import VoiceDump, parse_sysex

            message = parse_sysex(bytes(data))
            if not isinstance(message, VoiceDump):
                raise ValueError(f"expected a single-voice dump, got {type(message).__name__}")
            return message.patch
        raw = bytes(data)
        if len(raw) == VCED_SIZE + 1 and raw[VCED_SIZE] == (-sum(raw[:VCED_SIZE])) & 0x7F:
            raw = raw[:VCED_SIZE]
        return cls.from_vced(raw)

    def to_preset(self) -> Preset:
        """The ML form: a Preset (flat (145,) vector; lossless, name and mask aside)."""
        from ._preset import Preset

        return Preset.from_patch(self)

    def to_sysex(self) -> bytes:
        """156 bytes: the VCED payload then the operator on/off mask (as dexed-py)."""
        return bytes(self._v)

    @classmethod
    def load_bank(cls, path: str | Path) -> list[Patch]:
        """The 32 voices of a cartridge file (see Bank.read)."""
        from ._bank import Bank

        return list(Bank.read(path))

    @classmethod
    def save_to_bank(cls, path: str | Path, patches: Sequence[Patch]) -> None:
        """Write 32 patches as a 4104-byte bulk dump."""
        from ._bank import Bank

        Bank(patches).write(path)

    # python protocol ----------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Patch):
            return NotImplemented
        return self._v == other._v

    def __repr__(self) -> str:
        return f"Patch(name={self.display_name!r}, algorithm={self.algorithm})"


class _Operators(tuple[Operator, ...]):
    """patch.op: the six operators by index 0-5; a negative index is refused (no OP6 alias)."""

    __slots__ = ()

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self)[index]
        i = _operator.index(index)
        if not 0 <= i < 6:
            raise IndexError(f"operator index must be 0-5 (OP1-OP6), got {i}")
        return tuple.__getitem__(self, i)


INIT_VOICE: Final = Patch().readonly()
assert len(_INIT_VALUES) == VCED_SIZE + 1
