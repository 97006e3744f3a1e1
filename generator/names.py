"""Voice names from a small character model trained on the corpus names.

A character trigram model (counts of each character after every two, smoothed with
the bigram and unigram counts) over ``NAME_CHARS``: characters the DX7's display
shows as typed. Sampling stops at the end mark or at 10 characters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["NAME_CHARS", "NameModel", "clean_name"]

NAME_CHARS: Final = (" ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                     "-.'/&!+#*():,?")
_END: Final = len(NAME_CHARS)  # the end mark; also the "before the name" context
_SIZE: Final = len(NAME_CHARS) + 1
_INDEX: Final = {c: i for i, c in enumerate(NAME_CHARS)}
NAME_LENGTH: Final = 10


def clean_name(name: str) -> str:
    """A name in NAME_CHARS only (others become spaces), runs of spaces squeezed."""
    text = "".join(c if c in _INDEX else " " for c in name)
    return " ".join(text.split())[:NAME_LENGTH]


class NameModel:
    """Trigram counts (prev2, prev1, next) over NAME_CHARS plus the end mark."""

    def __init__(self, counts: npt.NDArray[np.uint16]) -> None:
        if counts.shape != (_SIZE, _SIZE, _SIZE):
            raise ValueError(f"name model counts must be {(_SIZE,) * 3}, got {counts.shape}")
        c = counts.astype(np.float64)
        bigram = c.sum(axis=0)
        unigram = bigram.sum(axis=0)
        # interpolated estimate: mostly trigram, some bigram, a little unigram (reasons:
        # trigram alone copies the corpus; a little back-off makes new words)
        tri = c / np.maximum(c.sum(axis=2, keepdims=True), 1.0)
        bi = bigram / np.maximum(bigram.sum(axis=1, keepdims=True), 1.0)
        uni = unigram / max(unigram.sum(), 1.0)
        has_tri = (c.sum(axis=2, keepdims=True) > 0)
        p = np.where(has_tri, 0.75 * tri + 0.2 * bi[None] + 0.05 * uni, 0.9 * bi[None] + 0.1 * uni)
        self.counts = counts
        self._p = p / p.sum(axis=2, keepdims=True)

    @classmethod
    def train(cls, names: Iterable[str]) -> NameModel:
        counts = np.zeros((_SIZE, _SIZE, _SIZE), dtype=np.int64)
        for raw in names:
            name = clean_name(raw)
            if not name:
                continue
            seq = [_END, _END, *(_INDEX[ch] for ch in name), _END]
            for a, b, n in zip(seq, seq[1:], seq[2:], strict=False):
                counts[a, b, n] += 1
        return cls(np.minimum(counts, np.iinfo(np.uint16).max).astype(np.uint16))

    def sample(self, rng: np.random.Generator) -> str:
        """One name (may be empty or a corpus name: the caller filters)."""
        a = b = _END
        out = []
        for _ in range(NAME_LENGTH):
            n = int(rng.choice(_SIZE, p=self._p[a, b]))
            if n == _END:
                break
            out.append(NAME_CHARS[n])
            a, b = b, n
        return clean_name("".join(out))
