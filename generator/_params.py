"""The model's view of a voice: 145 parameters, each a categorical or an ordinal head.

This is the one module that knows how a voice becomes numbers for the VAE and back,
so moving to another flat representation stays local. A voice here is its first 145
VCED bytes (``VOICE_PARAMS``: every parameter but the name and the operator on/off
mask), as a uint8 row.

* Parameters whose range is 0-99 (rates, levels, depths, fine frequency, LFO) are
  *ordinal*: one discretised-logistic head each (a mean and a scale over the 100 steps).
* Every other parameter (algorithm, feedback, waves, curves, modes, sync, coarse,
  detune, sensitivities, transpose) is *categorical*: a softmax over its values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from dx7d.voices import INIT_VOICE, PARAMETERS, get_mod_matrix
from dx7d.voices._spec import OPERATOR_BLOCK, op_base

__all__ = [
    "CAT_INDEX",
    "CAT_OFFSETS",
    "CAT_SIZES",
    "INPUT_SIZE",
    "ORD_INDEX",
    "ORD_MAX",
    "OUTPUT_SIZE",
    "VOICE_PARAMS",
    "Head",
    "audible_operators",
    "canonical",
    "decode_outputs",
    "encode_inputs",
    "heads",
]

VOICE_PARAMS: Final = 145  # VCED bytes 0-144: everything but the name
ORD_MAX: Final = 99  # the top of every ordinal parameter


@dataclass(frozen=True)
class Head:
    """One parameter's head: VCED number, label, kind and number of values."""

    number: int
    label: str
    kind: str  # "cat" or "ord"
    values: int  # high + 1


def heads() -> tuple[Head, ...]:
    """The 145 heads in VCED order."""
    out = []
    for p in PARAMETERS[:VOICE_PARAMS]:
        assert p.low == 0
        kind = "ord" if p.high == ORD_MAX else "cat"
        out.append(Head(p.number, p.label, kind, p.high + 1))
    return tuple(out)


HEADS: Final = heads()
CAT_INDEX: Final = np.array([h.number for h in HEADS if h.kind == "cat"], dtype=np.int64)
ORD_INDEX: Final = np.array([h.number for h in HEADS if h.kind == "ord"], dtype=np.int64)
CAT_SIZES: Final = np.array([HEADS[i].values for i in CAT_INDEX], dtype=np.int64)
CAT_OFFSETS: Final = np.concatenate([[0], np.cumsum(CAT_SIZES)]).astype(np.int64)
CAT_WIDTH: Final = int(CAT_OFFSETS[-1])  # one-hot width of every categorical parameter
INPUT_SIZE: Final = CAT_WIDTH + len(ORD_INDEX)
# decoder outputs: every categorical's logits, then (mean, log scale) per ordinal
OUTPUT_SIZE: Final = CAT_WIDTH + 2 * len(ORD_INDEX)


def encode_inputs(voices: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """(N, 145) uint8 voices -> (N, INPUT_SIZE) float32: one-hots, then ordinals / 99."""
    v = np.asarray(voices, dtype=np.int64).reshape(-1, VOICE_PARAMS)
    x = np.zeros((v.shape[0], INPUT_SIZE), dtype=np.float32)
    rows = np.arange(v.shape[0])[:, None]
    x[rows, CAT_OFFSETS[:-1][None, :] + v[:, CAT_INDEX]] = 1.0
    x[:, CAT_WIDTH:] = v[:, ORD_INDEX] / ORD_MAX
    return x


def ordinal_mean(raw: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    """The decoder's raw mean output -> the mean in parameter steps (0-99 is -1..+1)."""
    return (raw + 1.0) * (ORD_MAX / 2.0)


def decode_outputs(out: npt.NDArray[np.floating]) -> npt.NDArray[np.uint8]:
    """(N, OUTPUT_SIZE) decoder outputs -> (N, 145) uint8 voices, each head's mode.

    Categorical: the argmax; ordinal: the step nearest the logistic's mean (its mode).
    """
    out = np.asarray(out).reshape(-1, OUTPUT_SIZE)
    v = np.zeros((out.shape[0], VOICE_PARAMS), dtype=np.uint8)
    for k, number in enumerate(CAT_INDEX):
        v[:, number] = np.argmax(out[:, CAT_OFFSETS[k]:CAT_OFFSETS[k + 1]], axis=1)
    mean = ordinal_mean(out[:, CAT_WIDTH:CAT_WIDTH + len(ORD_INDEX)])
    v[:, ORD_INDEX] = np.clip(np.rint(mean), 0, ORD_MAX).astype(np.uint8)
    return v


# -- operators that cannot be heard ---------------------------------------------------

_OP_LEVEL = 16  # output level, offset in the operator block
_OP_EG_LEVELS = slice(4, 8)
_INIT_OP_SILENT = np.frombuffer(INIT_VOICE.to_vced()[op_base(5):op_base(5) + OPERATOR_BLOCK],
                                dtype=np.uint8).copy()  # INIT VOICE's OP6: level 0
_MOD = np.stack([get_mod_matrix(a) for a in range(32)]).astype(bool)  # [alg, target, source]


def _is_carrier(algorithm: int) -> npt.NDArray[np.bool_]:
    """Carriers (0-5) of an algorithm: operators that modulate nobody (feedback aside)."""
    m = _MOD[algorithm].copy()
    np.fill_diagonal(m, False)
    return ~m.any(axis=0)


def audible_operators(voice: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """(6,) bool, OP1-OP6: can the operator change the sound?

    An operator is heard when its output level and some EG level are above 0 and it
    is a carrier or modulates an operator that is heard (modulation of a silent
    operator does nothing).
    """
    v = np.asarray(voice, dtype=np.int64)
    algorithm = int(v[134])
    own = np.array([v[op_base(i) + _OP_LEVEL] > 0 and v[op_base(i):op_base(i) + 8][
        _OP_EG_LEVELS].max() > 0 for i in range(6)])
    m = _MOD[algorithm].copy()
    np.fill_diagonal(m, False)
    heard = own & _is_carrier(algorithm)
    while True:  # the graph is a DAG of depth <= 5: a few rounds settle it
        more = own & (m[heard].any(axis=0) | heard)
        if (more == heard).all():
            return heard
        heard = more


def canonical(voice: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """A copy with every operator that cannot be heard replaced by one silent form
    (INIT VOICE's OP6: level 0), so voices that sound the same compare equal."""
    v = np.array(voice, dtype=np.uint8).reshape(VOICE_PARAMS).copy()
    for i, heard in enumerate(audible_operators(v)):
        if not heard:
            v[op_base(i):op_base(i) + OPERATOR_BLOCK] = _INIT_OP_SILENT
    return v
