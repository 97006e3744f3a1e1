"""Figures of a model: held-out reconstruction, and what fine-tuning changed.

Reconstruction accuracy per parameter: a categorical parameter must come back exactly,
a 0-99 one within 5 steps; the baseline predicts each parameter's most common value
in the training voices.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._params import CAT_INDEX, ORD_INDEX, VOICE_PARAMS
from .model import Model
from .sound import Listener

__all__ = ["accuracy", "baseline_accuracy", "reconstruction_accuracy", "sound_means",
           "style_shift_lines"]

TOLERANCE = 5  # steps a 0-99 parameter may be off and still count as right


def accuracy(predicted: npt.NDArray[np.uint8], truth: npt.NDArray[np.uint8]
             ) -> npt.NDArray[np.float64]:
    """(145,) fraction right per parameter."""
    d = np.abs(predicted.astype(np.int16) - truth.astype(np.int16))
    out = np.zeros(VOICE_PARAMS)
    out[CAT_INDEX] = (d[:, CAT_INDEX] == 0).mean(axis=0)
    out[ORD_INDEX] = (d[:, ORD_INDEX] <= TOLERANCE).mean(axis=0)
    return out


def reconstruction_accuracy(model: Model, voices: npt.NDArray[np.uint8]
                            ) -> npt.NDArray[np.float64]:
    """Encode (latent mean) then decode every voice; accuracy per parameter."""
    out = []
    for start in range(0, len(voices), 2048):
        chunk = voices[start:start + 2048]
        out.append(model.decode(model.encode(chunk)))
    return accuracy(np.concatenate(out), voices)


def baseline_accuracy(train: npt.NDArray[np.uint8], test: npt.NDArray[np.uint8]
                      ) -> npt.NDArray[np.float64]:
    """Accuracy of predicting each parameter's most common training value."""
    common = np.array([np.bincount(train[:, p], minlength=128).argmax()
                       for p in range(VOICE_PARAMS)], dtype=np.uint8)
    return accuracy(np.repeat(common[None, :], len(test), axis=0), test)


_FIGS = (("brightness", "Hz", 0), ("attack_s", "s", 3), ("decay_s", "s", 3),
         ("level_db", "dB", 1), ("flatness", "", 3))


def sound_means(voices: npt.NDArray[np.uint8], listener: Listener) -> dict[str, float]:
    """Mean sound figures of a set of voices."""
    sounds = [listener.listen(v) for v in voices]
    return {name: float(np.mean([getattr(s, name) for s in sounds])) for name, _, _ in _FIGS}


def style_shift_lines(before: Model, after: Model, voices: npt.NDArray[np.uint8],
                      listener: Listener, samples: int = 64, seed: int = 0) -> list[str]:
    """What fine-tuning learned: reconstruction of the user's set, and how the sound and
    the parameters of voices decoded from the same prior samples moved towards it."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((samples, after.latent)).astype(np.float32)
    gen_b, gen_a = before.decode(z), after.decode(z)
    acc_b = reconstruction_accuracy(before, voices).mean()
    acc_a = reconstruction_accuracy(after, voices).mean()
    lines = [f"your {len(voices)} voices rebuilt from their latents: {100 * acc_b:.0f} % of "
             f"parameters right before, {100 * acc_a:.0f} % after"]

    def differs(gen: npt.NDArray[np.uint8]) -> float:
        d = np.abs(gen[:, None, :].astype(np.int16) - voices[None, :, :].astype(np.int16))
        n = (d[..., CAT_INDEX] > 0).sum(axis=2) + (d[..., ORD_INDEX] > TOLERANCE).sum(axis=2)
        return float(n.min(axis=1).mean())

    lines.append(f"{samples} generated voices differ from the nearest of yours in "
                 f"{differs(gen_b):.0f} of 145 parameters before, {differs(gen_a):.0f} after")
    mine, sb, sa = (sound_means(v, listener) for v in (voices, gen_b, gen_a))
    for name, unit, digits in _FIGS:
        lines.append(f"  {name:<10} default model {sb[name]:.{digits}f} -> yours "
                     f"{sa[name]:.{digits}f} {unit} (your set: {mine[name]:.{digits}f})")
    return lines
