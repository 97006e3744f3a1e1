"""Latent knobs: MIDI controllers that move the current voice through the generator's
latent space (``generator.knobs`` maps up to 8 CCs to latent dimensions).

The first move after the edit buffer changed by other means (a program change, a
dump, a voice parameter) encodes the edit buffer: that is the centre. Each knob then
sets its dimension to centre + (value - 64) / 64 * KNOB_SIGMA; the decoded voice (the
edit buffer's name kept) becomes the edit buffer.

So that turning a knob changes the sound smoothly, the knobs decode differently from
``dx7d generate``: the 0-99 parameters at their expected step (continuous in the
latent), and each categorical one (algorithm, waves, coarse, modes...) held at the
value of the voice the knobs started from until the decoder prefers another value by
more than KNOB_MARGIN in probability (hysteresis, so a head near a tie does not flip
back and forth). Decoding is plain numpy (a few
hundred microseconds) and runs in the dispatcher thread, like a voice dump would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from dx7d.voices import Patch

__all__ = ["KNOB_MARGIN", "KNOB_SIGMA", "LatentKnobs", "load_knobs"]

log = logging.getLogger("dx7d.knobs")

KNOB_SIGMA: Final = 3.0  # a knob's full travel is -3..+3 sigma around the centre
KNOB_MARGIN: Final = 0.6  # probability by which a categorical value must win to replace
#                         the held one
_CENTRE_VALUE: Final = 64


class LatentKnobs:
    """CC -> latent dimension (0-based) around the current voice."""

    def __init__(self, model: Any, knobs: Mapping[int, int]) -> None:
        for cc, dim in knobs.items():
            if not 0 <= dim < model.latent:
                raise ValueError(f"generator.knobs: CC {cc} is mapped to dimension {dim + 1}, "
                                 f"but the model has {model.latent}")
        self.model = model
        self.dims = dict(knobs)
        self._last: Patch | None = None  # the patch the knobs made last (identity check)
        self._centre = np.zeros(model.latent, np.float32)
        self._offsets = np.zeros(model.latent, np.float32)
        self._held = np.zeros(145, np.uint8)  # categorical values carried from move to move
        self.moves = 0
        self.last_move_s = 0.0  # how long the last move took (decode and build), seconds

    def handles(self, cc: int) -> bool:
        return cc in self.dims

    def _recentre(self, patch: Patch) -> None:
        voice = np.frombuffer(patch.to_vced()[:145], dtype=np.uint8)
        self._centre = self.model.encode(voice[None, :])[0]
        self._offsets[:] = 0.0
        self._held = voice.copy()

    def move(self, cc: int, value: int, edit_buffer: Patch) -> tuple[Patch, int | None]:
        """The voice after knob ``cc`` went to ``value`` (0-127), and the number of one
        sounding parameter (0-144) that differs from ``edit_buffer`` (None: none does).
        KeyError when ``cc`` is not a knob."""
        dim = self.dims[cc]
        started = time.perf_counter()
        if edit_buffer is not self._last:
            self._recentre(edit_buffer)
        self._offsets[dim] = (value - _CENTRE_VALUE) / _CENTRE_VALUE * KNOB_SIGMA
        z = self._centre + self._offsets
        from dx7d.generator._params import decode_held

        voice: npt.NDArray[np.uint8] = decode_held(self.model.decode_raw(z[None, :]),
                                                   self._held, KNOB_MARGIN)
        self._held = voice
        patch = Patch.from_vced(voice.tobytes() + edit_buffer.name_bytes)
        old = np.frombuffer(edit_buffer.to_vced()[:145], dtype=np.uint8)
        diff = np.flatnonzero(old != voice)
        self._last = patch
        self.moves += 1
        self.last_move_s = time.perf_counter() - started
        return patch, (int(diff[0]) if diff.size else None)


def load_knobs(model_path: str | None, knobs: Mapping[int, int]) -> LatentKnobs | None:
    """The knobs of the configuration (None when no CC is mapped)."""
    if not knobs:
        return None
    from dx7d.generator.model import Model

    model = Model.load(model_path)
    log.info("latent knobs: %s", ", ".join(f"CC {cc} -> dimension {d + 1}"
                                           for cc, d in sorted(knobs.items())))
    return LatentKnobs(model, knobs)
