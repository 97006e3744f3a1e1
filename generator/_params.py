"""The model's view of a voice: 145 parameters, each a categorical or an ordinal head.

This is the one module that knows how a voice becomes numbers for the VAE and back,
so moving to another flat representation stays local. dx7d.voices.Preset (dexed-py's
flat (145,) vector) holds the same 145 parameters in another order: ``to_presets`` and
``from_presets`` convert a batch either way, losslessly; the heads stay in VCED order so
the shipped model's weights keep their meaning. A voice here is its first 145
VCED bytes (``VOICE_PARAMS``: every parameter but the name and the operator on/off
mask), as a uint8 row.

* Parameters whose range is 0-99 (rates, levels, depths, fine frequency, LFO) are
  *ordinal*: a mixture of ``ORD_COMPONENTS`` discretised logistics over the 100 steps
  (many are two-humped: an output level is 0 or near 99), decoded as its median.
* Every other parameter (algorithm, feedback, waves, curves, modes, sync, coarse,
  detune, sensitivities, transpose) is *categorical*: a softmax over its values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from dx7d.voices import INIT_VOICE, PARAMETERS, get_mod_matrix
from dx7d.voices._spec import OPERATOR_BLOCK, op_base

__all__ = [
    "CAT_INDEX",
    "CAT_OFFSETS",
    "CAT_SIZES",
    "INPUT_SIZE",
    "LOG_SCALE0",
    "NORD",
    "ORD_COMPONENTS",
    "ORD_INDEX",
    "ORD_MAX",
    "OUTPUT_SIZE",
    "VOICE_PARAMS",
    "Head",
    "audible_operators",
    "canonical",
    "decode_outputs",
    "encode_inputs",
    "from_presets",
    "heads",
    "ordinal_median",
    "ordinal_mode",
    "ordinal_parts",
    "to_presets",
]

VOICE_PARAMS: Final = 145  # VCED bytes 0-144: everything but the name
ORD_MAX: Final = 99  # the top of every ordinal parameter
ORD_COMPONENTS: Final = 3  # logistics per ordinal parameter
LOG_SCALE0: Final = float(np.log(5.0))  # a logistic's scale starts at 5 steps


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
NORD: Final = len(ORD_INDEX)
# decoder outputs: every categorical's logits, then per ordinal and component the
# mixture logits, the means and the log scales (three blocks of NORD * ORD_COMPONENTS)
OUTPUT_SIZE: Final = CAT_WIDTH + 3 * NORD * ORD_COMPONENTS


def to_presets(voices: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """(N, 145) uint8 voices -> (N, 145) float32 dx7d.voices.Preset vectors."""
    from dx7d.voices import sysex_to_array

    v = np.asarray(voices, dtype=np.uint8).reshape(-1, VOICE_PARAMS)
    blank = np.full((v.shape[0], 10), ord(" "), dtype=np.uint8)  # the name is not in either
    out: npt.NDArray[np.float32] = sysex_to_array(np.concatenate([v, blank], axis=1))
    return out


def from_presets(presets: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """(N, 145) Preset vectors -> (N, 145) uint8 voices (Preset.to_patch's rounding)."""
    from dx7d.voices import array_to_sysex

    out: npt.NDArray[np.uint8] = array_to_sysex(np.asarray(presets).reshape(-1, 145))[
        :, :VOICE_PARAMS]
    return out


def encode_inputs(voices: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """(N, 145) uint8 voices -> (N, INPUT_SIZE) float32: one-hots, then ordinals / 99."""
    v = np.asarray(voices, dtype=np.int64).reshape(-1, VOICE_PARAMS)
    x = np.zeros((v.shape[0], INPUT_SIZE), dtype=np.float32)
    rows = np.arange(v.shape[0])[:, None]
    x[rows, CAT_OFFSETS[:-1][None, :] + v[:, CAT_INDEX]] = 1.0
    x[:, CAT_WIDTH:] = v[:, ORD_INDEX] / ORD_MAX
    return x


def ordinal_parts(xp: Any, out: Any) -> tuple[Any, Any, Any]:
    """(mixture logits, means in steps, log scales), each (N, NORD, ORD_COMPONENTS), from
    decoder outputs; ``xp`` is numpy or jax.numpy (training and inference share it)."""
    block = NORD * ORD_COMPONENTS
    shape = (-1, NORD, ORD_COMPONENTS)
    logits = out[:, CAT_WIDTH:CAT_WIDTH + block].reshape(shape)
    mean = (out[:, CAT_WIDTH + block:CAT_WIDTH + 2 * block].reshape(shape) + 1.0) * (
        ORD_MAX / 2.0)  # raw -1..+1 is 0-99
    log_s = xp.clip(out[:, CAT_WIDTH + 2 * block:].reshape(shape) + LOG_SCALE0, -2.0, 5.0)
    return logits, mean, log_s


_EDGES: Final = np.concatenate([[-1e9], np.arange(ORD_MAX) + 0.5, [1e9]])  # step edges


def ordinal_median(out: npt.NDArray[np.floating]) -> npt.NDArray[np.int64]:
    """(N, NORD) the median step of each ordinal mixture.

    The median, not the mode: a component near 99 puts its whole upper tail in the last
    step, so the mode of an output level or a rate is 99 far more often than the voices
    it learned from (measured: modulators at 99, spectra five times too bright).
    """
    logits, mean, log_s = ordinal_parts(np, np.asarray(out, dtype=np.float64))
    w = np.exp(logits - logits.max(axis=2, keepdims=True))
    w /= w.sum(axis=2, keepdims=True)
    z = (_EDGES[None, None, None, 1:-1] - mean[..., None]) / np.exp(log_s)[..., None]
    below = (w[..., None] / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))).sum(axis=2)
    out_steps: npt.NDArray[np.int64] = (below < 0.5).sum(axis=2)  # P(x <= k) < 1/2
    return out_steps


def ordinal_pmf(out: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """(N, NORD, 100) each ordinal mixture's probability of each step 0-99."""
    logits, mean, log_s = ordinal_parts(np, np.asarray(out, dtype=np.float64))
    w = np.exp(logits - logits.max(axis=2, keepdims=True))
    w /= w.sum(axis=2, keepdims=True)
    z = (_EDGES[None, None, None, :] - mean[..., None]) / np.exp(log_s)[..., None]
    cdf = 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))  # (N, NORD, K, 101)
    pmf = (w[..., None] * np.diff(cdf, axis=3)).sum(axis=2)  # (N, NORD, 100)
    return pmf


def ordinal_mode(out: npt.NDArray[np.floating]) -> npt.NDArray[np.int64]:
    """(N, NORD) the most likely step of each ordinal mixture (its argmax: what
    bench/generator.py's "site's method" takes; generation uses the median)."""
    pmf = ordinal_pmf(out)
    out_steps: npt.NDArray[np.int64] = np.argmax(pmf, axis=2)
    return out_steps


def decode_outputs(out: npt.NDArray[np.floating], argmax: bool = False
                   ) -> npt.NDArray[np.uint8]:
    """(N, OUTPUT_SIZE) decoder outputs -> (N, 145) uint8 voices, each head's mode.

    Categorical: the argmax; ordinal: the mixture's median step (``argmax``: its most
    likely step, as the site's method would take it).
    """
    out = np.asarray(out).reshape(-1, OUTPUT_SIZE)
    v = np.zeros((out.shape[0], VOICE_PARAMS), dtype=np.uint8)
    for k, number in enumerate(CAT_INDEX):
        v[:, number] = np.argmax(out[:, CAT_OFFSETS[k]:CAT_OFFSETS[k + 1]], axis=1)
    ordinal = ordinal_mode if argmax else ordinal_median
    v[:, ORD_INDEX] = ordinal(out).astype(np.uint8)
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


def ordinal_expected(out: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """(N, NORD) the expected step of each ordinal mixture: unlike the median or the mode
    it moves continuously with the decoder's outputs (the latent knobs decode with it)."""
    pmf = ordinal_pmf(out)
    expected: npt.NDArray[np.float64] = pmf @ np.arange(ORD_MAX + 1, dtype=np.float64)
    return expected


def categorical_probabilities(out: npt.NDArray[np.floating]) -> list[npt.NDArray[np.float64]]:
    """Each categorical head's softmax, (N, values) per head, in CAT_INDEX order."""
    out = np.asarray(out, dtype=np.float64).reshape(-1, OUTPUT_SIZE)
    probs = []
    for k in range(len(CAT_INDEX)):
        logits = out[:, CAT_OFFSETS[k]:CAT_OFFSETS[k + 1]]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs.append(e / e.sum(axis=1, keepdims=True))
    return probs


def decode_held(out: npt.NDArray[np.floating], held: npt.NDArray[np.uint8], margin: float
                ) -> npt.NDArray[np.uint8]:
    """One voice (145,) from one decoder output, continuous in it where it can be: the
    0-99 parameters at their expected step; each categorical parameter keeps its value in
    ``held`` (145,) unless the decoder's most likely value is more probable than the held
    one by more than ``margin`` (hysteresis: a head does not flip back and forth)."""
    v = np.array(held, dtype=np.uint8).reshape(VOICE_PARAMS).copy()
    for k, p in enumerate(categorical_probabilities(out)):
        number = CAT_INDEX[k]
        best = int(np.argmax(p[0]))
        current = min(int(v[number]), p.shape[1] - 1)
        if p[0, best] - p[0, current] > margin:
            current = best
        v[number] = current
    v[ORD_INDEX] = np.clip(np.rint(ordinal_expected(out)[0]), 0, ORD_MAX).astype(np.uint8)
    return v
