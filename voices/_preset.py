"""Preset: a DX7 voice as one flat (145,) float32 vector, for machine learning.

The vector holds the 145 sound parameters of a voice (everything but the name and
the operator on/off mask) in the element order of dexed-py's Preset, so an
``(N, 145)`` array saved with it loads here unchanged:

* indices 0-122: continuous parameters, each ``value / scale`` (0..1, float);
* indices 123-144: discrete parameters (algorithm, waves, curves, modes, syncs) as
  whole numbers stored in the float vector.

Per-operator fields have six rows, row i = OP(i+1) (``patch.op[i]``); envelopes are
(6, 4). The layout table is :data:`PRESET_LAYOUT` (and docs/ml.md).

When jax is importable, Preset is a registered PyTree whose every field is a data
leaf (no static metadata): one jitted function serves every preset. jax is never
imported by this module unless the program imports it itself.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from ._spec import PARAMETERS, op_base

if TYPE_CHECKING:
    from ._patch import Patch

__all__ = [
    "PRESET_FIELDS",
    "PRESET_LAYOUT",
    "PRESET_SIZE",
    "Preset",
    "PresetField",
    "PresetSlot",
    "array_to_sysex",
    "sysex_to_array",
]

PRESET_SIZE: Final = 145


@dataclass(frozen=True)
class PresetField:
    """One named field of a Preset: its shape, kind, scale and parameters.

    ``offsets`` are VCED indices for global fields, or offsets inside an operator's
    21-byte block for per-operator fields (one per trailing element).
    """

    name: str
    shape: tuple[int, ...]  # () scalar, (4,), (6,) or (6, 4)
    discrete: bool  # True: whole numbers 0..high; False: value / scale in 0..1
    scale: int  # the parameter's maximum (99, 31, 7, ...)
    per_operator: bool
    offsets: tuple[int, ...]
    start: int = 0  # first index in the flat vector
    stop: int = 0  # one past the last index

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class PresetSlot:
    """One element of the flat vector: index, field, VCED parameter number, range."""

    index: int
    field: str
    element: tuple[int, ...]  # index inside the field (() for scalars)
    parameter: int  # VCED parameter number (0-144)
    high: int  # the parameter's maximum; the low end is always 0
    discrete: bool

    @property
    def label(self) -> str:
        return PARAMETERS[self.parameter].label


def _g(name: str, vced: int | tuple[int, ...], scale: int, discrete: bool = False) -> PresetField:
    offsets = (vced,) if isinstance(vced, int) else vced
    shape = () if isinstance(vced, int) else (len(offsets),)
    return PresetField(name, shape, discrete, scale, False, offsets)


def _o(name: str, offset: int | tuple[int, ...], scale: int,
       discrete: bool = False) -> PresetField:
    offsets = (offset,) if isinstance(offset, int) else offset
    shape = (6,) if isinstance(offset, int) else (6, len(offsets))
    return PresetField(name, shape, discrete, scale, True, offsets)


def _placed(fields: Sequence[PresetField]) -> tuple[PresetField, ...]:
    out, start = [], 0
    for f in fields:
        stop = start + math.prod(f.shape)
        out.append(PresetField(f.name, f.shape, f.discrete, f.scale, f.per_operator,
                               f.offsets, start, stop))
        start = stop
    assert start == PRESET_SIZE
    return tuple(out)


# The fields in vector order (learnt by probing dexed-py 0.3: set one field, see
# which element moves). Continuous fields first, then the discrete ones.
PRESET_FIELDS: Final[tuple[PresetField, ...]] = _placed((
    _g("feedback", 135, 7),
    _g("transpose", 144, 48),
    _g("pitch_mod_sensitivity", 143, 7),
    _g("lfo_speed", 137, 99),
    _g("lfo_delay", 138, 99),
    _g("lfo_pitch_mod_depth", 139, 99),
    _g("lfo_amp_mod_depth", 140, 99),
    _g("pitch_env_rates", (126, 127, 128, 129), 99),
    _g("pitch_env_levels", (130, 131, 132, 133), 99),
    _o("op_env_rates", (0, 1, 2, 3), 99),
    _o("op_env_levels", (4, 5, 6, 7), 99),
    _o("op_output_level", 16, 99),
    _o("op_frequency_coarse", 18, 31),
    _o("op_frequency_fine", 19, 99),
    _o("op_detune", 20, 14),
    _o("op_velocity_sensitivity", 15, 7),
    _o("op_amp_mod_sensitivity", 14, 3),
    _o("op_rate_scaling", 13, 7),
    _o("op_breakpoint", 8, 99),
    _o("op_left_depth", 9, 99),
    _o("op_right_depth", 10, 99),
    _g("osc_key_sync", 136, 1, True),
    _g("lfo_sync", 141, 1, True),
    _g("algorithm", 134, 31, True),
    _g("lfo_wave", 142, 5, True),
    _o("op_frequency_mode", 17, 1, True),
    _o("op_left_curve", 11, 3, True),
    _o("op_right_curve", 12, 3, True),
))
_FIELD_BY_NAME: Final = {f.name: f for f in PRESET_FIELDS}
FIELD_NAMES: Final = tuple(f.name for f in PRESET_FIELDS)
_SLICES: Final = tuple((f.start, f.stop, f.shape) for f in PRESET_FIELDS)


def _layout() -> tuple[PresetSlot, ...]:
    slots = []
    for f in PRESET_FIELDS:
        for k, element in enumerate(np.ndindex(*f.shape)):
            if f.per_operator:
                op, part = element[0], (element[1] if len(element) > 1 else 0)
                number = op_base(op) + f.offsets[part]
            else:
                number = f.offsets[k]
            slots.append(PresetSlot(f.start + k, f.name, tuple(int(e) for e in element),
                                    number, f.scale, f.discrete))
    return tuple(slots)


PRESET_LAYOUT: Final[tuple[PresetSlot, ...]] = _layout()
"""The 145 elements of the flat vector, in order (docs/ml.md prints this table)."""

_NUMBERS: Final = np.array([s.parameter for s in PRESET_LAYOUT], dtype=np.intp)
_HIGH: Final = np.array([s.high for s in PRESET_LAYOUT], dtype=np.float64)
_DISCRETE: Final = np.array([s.discrete for s in PRESET_LAYOUT], dtype=bool)
# Multiply a vector element by this to get the raw parameter value.
_SCALE: Final = np.where(_DISCRETE, 1.0, _HIGH)
_FIRST_DISCRETE: Final = int(np.argmax(_DISCRETE))

# dexed-py's Preset() defaults, as raw DX7 values (all six operators at full level).
_DEFAULT_RAW: Final = {
    "feedback": 0, "transpose": 24, "pitch_mod_sensitivity": 0, "lfo_speed": 35,
    "lfo_delay": 0, "lfo_pitch_mod_depth": 0, "lfo_amp_mod_depth": 0,
    "pitch_env_rates": 99, "pitch_env_levels": 50, "op_env_rates": 99,
    "op_env_levels": (99, 99, 99, 0), "op_output_level": 99, "op_frequency_coarse": 1,
    "op_frequency_fine": 0, "op_detune": 7, "op_velocity_sensitivity": 0,
    "op_amp_mod_sensitivity": 0, "op_rate_scaling": 0, "op_breakpoint": 39,
    "op_left_depth": 0, "op_right_depth": 0, "osc_key_sync": 1, "lfo_sync": 0,
    "algorithm": 0, "lfo_wave": 4, "op_frequency_mode": 0, "op_left_curve": 0,
    "op_right_curve": 0,
}


def _is_traced(value: object) -> bool:
    """True for jax arrays and tracers: stored as they are, never converted."""
    return type(value).__module__.split(".")[0] in ("jax", "jaxlib")


def _coerce(field: PresetField, value: object) -> Any:
    """``value`` as the field's Python/numpy type, range-checked; ValueError/TypeError."""
    if _is_traced(value):
        return value
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"Preset.{field.name} must be numeric, got {value!r}") from None
    if a.shape != field.shape:
        if a.ndim == 0:
            a = np.broadcast_to(a, field.shape)
        else:
            raise ValueError(f"Preset.{field.name} has shape {field.shape}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"Preset.{field.name} must be finite, got {value!r}")
    if field.discrete:
        if not np.all(a == np.round(a)):
            raise ValueError(f"Preset.{field.name} must be whole numbers, got {value!r}")
        if a.min() < 0 or a.max() > field.scale:
            raise ValueError(f"Preset.{field.name} must be 0-{field.scale}, got {value!r}")
        return int(a) if field.shape == () else a.astype(np.int32)
    if a.min() < 0.0 or a.max() > 1.0:
        raise ValueError(f"Preset.{field.name} is normalised: it must be in [0, 1], "
                         f"got {value!r} (raw DX7 value / {field.scale})")
    return float(a) if field.shape == () else a.astype(np.float32)


class Preset:
    """A DX7 voice as ML-ready fields (see the module docstring and docs/ml.md).

    ``Preset(algorithm=15, feedback=0.5, op_output_level=np.full(6, 0.8))``: every
    field is keyword-only and optional (defaults are dexed-py's: all operators at
    full level). Continuous fields are normalised to [0, 1]; discrete ones are whole
    numbers (``algorithm`` 0-31). Assignments are checked and raise ValueError.
    """

    __slots__ = FIELD_NAMES
    __hash__ = None  # type: ignore[assignment]  # mutable
    FIELDS: Final = PRESET_FIELDS
    SIZE: Final = PRESET_SIZE

    if TYPE_CHECKING:  # the fields, for type checkers (values are floats or arrays)
        feedback: Any
        transpose: Any
        pitch_mod_sensitivity: Any
        lfo_speed: Any
        lfo_delay: Any
        lfo_pitch_mod_depth: Any
        lfo_amp_mod_depth: Any
        pitch_env_rates: Any
        pitch_env_levels: Any
        op_env_rates: Any
        op_env_levels: Any
        op_output_level: Any
        op_frequency_coarse: Any
        op_frequency_fine: Any
        op_detune: Any
        op_velocity_sensitivity: Any
        op_amp_mod_sensitivity: Any
        op_rate_scaling: Any
        op_breakpoint: Any
        op_left_depth: Any
        op_right_depth: Any
        osc_key_sync: Any
        lfo_sync: Any
        algorithm: Any
        lfo_wave: Any
        op_frequency_mode: Any
        op_left_curve: Any
        op_right_curve: Any

    def __init__(self, **fields: object) -> None:
        unknown = [k for k in fields if k not in _FIELD_BY_NAME]
        if unknown:
            raise TypeError(f"Preset has no field {unknown[0]!r} "
                            f"(fields: {', '.join(FIELD_NAMES)})")
        for f in PRESET_FIELDS:
            if f.name in fields:
                setattr(self, f.name, fields[f.name])
            else:
                object.__setattr__(self, f.name, _DEFAULTS[f.name].copy()
                                   if isinstance(_DEFAULTS[f.name], np.ndarray)
                                   else _DEFAULTS[f.name])

    def __setattr__(self, name: str, value: object) -> None:
        field = _FIELD_BY_NAME.get(name)
        if field is None:
            raise AttributeError(f"Preset has no field {name!r}")
        object.__setattr__(self, name, _coerce(field, value))

    # -- leaves ------------------------------------------------------------------------
    def leaves(self) -> list[Any]:
        """The field values in vector order (the PyTree leaves)."""
        return [getattr(self, n) for n in FIELD_NAMES]

    @classmethod
    def from_leaves(cls, leaves: Sequence[Any]) -> Preset:
        """A Preset holding ``leaves`` as they are (no checks: jax may pass tracers)."""
        if len(leaves) != len(FIELD_NAMES):
            raise ValueError(f"a Preset has {len(FIELD_NAMES)} leaves, got {len(leaves)}")
        new = cls.__new__(cls)
        for name, leaf in zip(FIELD_NAMES, leaves, strict=True):
            object.__setattr__(new, name, leaf)
        return new

    @staticmethod
    def array_to_leaves(flat: Any) -> list[Any]:
        """Split a (145,) vector (numpy or jax, traced or not) into the PyTree leaves.

        Only slicing and reshaping: works under jax.jit. Leaves keep the vector's
        dtype (discrete ones too, as dexed-py's do).
        """
        shape = getattr(flat, "shape", None)
        if shape is None:
            flat = np.asarray(flat, dtype=np.float32)
            shape = flat.shape
        if tuple(shape) != (PRESET_SIZE,):
            raise ValueError(f"a Preset vector has shape ({PRESET_SIZE},), got {tuple(shape)}")
        return [flat[a:b].reshape(shape) for a, b, shape in _SLICES]

    # -- the flat vector ---------------------------------------------------------------
    def to_array(self) -> Any:
        """The (145,) float32 vector (a jax array when the fields are jax values)."""
        leaves = self.leaves()
        if any(_is_traced(x) for x in leaves):
            import jax.numpy as jnp

            return jnp.concatenate([jnp.ravel(jnp.asarray(x, dtype=jnp.float32))
                                    for x in leaves])
        return np.concatenate([np.ravel(np.asarray(x, dtype=np.float32)) for x in leaves])

    @classmethod
    def from_array(cls, array: npt.ArrayLike, *, clip: bool = False) -> Preset:
        """From a (145,) vector. Discrete elements are rounded to the nearest whole number.

        A value outside its range (continuous [0, 1], discrete 0..max) raises ValueError
        naming the element, unless ``clip=True`` moves it to the nearest bound.
        """
        a = _checked_vector(array, clip)
        return cls.from_leaves([
            (float(v) if f.shape == () else v.astype(np.float32)) if not f.discrete
            else (int(v) if f.shape == () else v.astype(np.int32))
            for f, v in zip(PRESET_FIELDS, cls.array_to_leaves(a), strict=True)
        ])

    # -- Patch conversions -------------------------------------------------------------
    @classmethod
    def from_patch(cls, patch: Patch) -> Preset:
        """The preset of a Patch (lossless: to_patch() gives back its 145 parameters)."""
        values = np.frombuffer(patch.to_sysex(), dtype=np.uint8)[_NUMBERS].astype(np.float64)
        return cls.from_array((values / _SCALE).astype(np.float32))

    def to_patch(self, name: str = "PRESET", *, clip: bool = False) -> Patch:
        """The Patch: each element times its scale, rounded to the nearest whole number.

        Name ``name``, every operator on. Out-of-range values raise ValueError unless
        ``clip=True`` (a jitted policy may hand over unchecked leaves).
        """
        from ._patch import Patch

        data = np.frombuffer(Patch(name=name).to_sysex(), dtype=np.uint8).copy()
        data[_NUMBERS] = self.raw_values(clip=clip)  # every one of them has range 0..high
        return Patch._from_values(data.tobytes())

    def raw_values(self, *, clip: bool = False) -> npt.NDArray[np.int64]:
        """The 145 DX7 values (0..99 etc.) in vector order, rounded half to even."""
        a = _checked_vector(self.to_array(), clip)
        return np.rint(a.astype(np.float64) * _SCALE).astype(np.int64)

    # -- python protocol ---------------------------------------------------------------
    def copy(self) -> Preset:
        return Preset.from_leaves([np.copy(x) if isinstance(x, np.ndarray) else x
                                   for x in self.leaves()])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Preset):
            return NotImplemented
        return bool(np.array_equal(self.to_array(), other.to_array()))

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        """(field name, value) pairs in vector order."""
        return iter(zip(FIELD_NAMES, self.leaves(), strict=True))

    def __getstate__(self) -> list[Any]:
        return self.leaves()

    def __setstate__(self, state: list[Any]) -> None:
        for name, leaf in zip(FIELD_NAMES, state, strict=True):
            object.__setattr__(self, name, leaf)

    def __repr__(self) -> str:
        try:
            raw = self.raw_values(clip=True)
        except (ValueError, TypeError):
            return "Preset(<traced>)"
        return (f"Preset(algorithm={raw[_FIELD_BY_NAME['algorithm'].start]}, "
                f"feedback={self.feedback!r}, op_output_level="
                f"{np.round(np.asarray(self.op_output_level, dtype=np.float64), 3).tolist()})")


def _checked_vector(array: npt.ArrayLike, clip: bool) -> npt.NDArray[np.float32]:
    """A float32 (..., 145) copy with discrete elements rounded; range errors or clipping."""
    a = np.array(array, dtype=np.float64)
    if a.ndim == 0 or a.shape[-1] != PRESET_SIZE:
        raise ValueError(f"a Preset vector has shape ({PRESET_SIZE},), got {a.shape}")
    bad = ~np.isfinite(a)
    if bad.any():
        where = np.argwhere(bad)[0]
        i = int(where[-1])
        row = f"row {tuple(int(k) for k in where[:-1])}, " if a.ndim > 1 else ""
        raise ValueError(f"Preset vector {row}element {i} ({PRESET_LAYOUT[i].field}) "
                         f"is {a[tuple(where)]}")
    a[..., _DISCRETE] = np.round(a[..., _DISCRETE])
    top = np.where(_DISCRETE, _HIGH, 1.0)
    out = (a < 0.0) | (a > top)
    if out.any() and not clip:
        where = np.argwhere(out)[0]
        i = int(where[-1])
        s = PRESET_LAYOUT[i]
        what = f"0-{s.high}" if s.discrete else "[0, 1]"
        row = f"row {tuple(int(k) for k in where[:-1])}, " if a.ndim > 1 else ""
        raise ValueError(f"Preset vector {row}element {i} ({s.field}{list(s.element)}, "
                         f"{s.label}) is {a[tuple(where)]:g}, allowed {what} "
                         "(pass clip=True to clip)")
    return np.clip(a, 0.0, top).astype(np.float32)


def array_to_sysex(array: npt.ArrayLike, *, clip: bool = False) -> npt.NDArray[np.uint8]:
    """(N, 145) vectors -> (N, 156) voices (VCED bytes + on/off mask 3F, name "PRESET").

    The same quantisation as Preset.to_patch, for a whole batch at once.
    """
    a = _checked_vector(array, clip)
    raw = np.rint(a.astype(np.float64) * _SCALE).astype(np.uint8)
    out = np.empty((*raw.shape[:-1], len(_BASE_SYSEX)), dtype=np.uint8)
    out[...] = _BASE_SYSEX
    out[..., _NUMBERS] = raw
    return out


def sysex_to_array(voices: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """(N, 155 or 156) voice bytes -> (N, 145) vectors (Preset.from_patch for a batch)."""
    v = np.asarray(voices, dtype=np.uint8)
    if v.ndim == 0 or v.shape[-1] not in (155, 156):
        raise ValueError(f"voices are 155 or 156 bytes each, got shape {v.shape}")
    return (v[..., _NUMBERS].astype(np.float64) / _SCALE).astype(np.float32)


def _defaults() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in PRESET_FIELDS:
        raw = np.broadcast_to(np.asarray(_DEFAULT_RAW[f.name], dtype=np.float64), f.shape)
        out[f.name] = _coerce(f, raw if f.discrete else raw / f.scale)
    return out


_DEFAULTS: Final = _defaults()
_BASE_SYSEX: Final = np.frombuffer(
    b"\x00" * 145 + b"PRESET    " + b"\x3f", dtype=np.uint8)  # non-sound bytes of to_patch()


# -- jax PyTree registration ------------------------------------------------------------
def _flatten(preset: Preset) -> tuple[list[Any], None]:
    return preset.leaves(), None


def _unflatten(_aux: None, leaves: Sequence[Any]) -> Preset:
    return Preset.from_leaves(list(leaves))


_registered = False


def register_jax() -> None:
    """Register Preset as a jax PyTree (idempotent; called when jax is imported)."""
    global _registered
    if _registered:
        return
    import jax

    jax.tree_util.register_pytree_node(Preset, _flatten, _unflatten)
    _registered = True


class _JaxImportHook(importlib.abc.MetaPathFinder):
    """Registers Preset right after the program imports jax (so dx7d never imports it)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "jax":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("jax")
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            register_jax()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if "jax" in sys.modules:
    register_jax()
elif importlib.util.find_spec("jax") is not None:
    sys.meta_path.insert(0, _JaxImportHook())
