"""Generating a cartridge that has been listened to.

``generate(model, ...)`` samples several times more latents than it needs, decodes
them, renders each voice (``Listener``) and keeps only the ones that pass every
screen (``SCREENS``), then picks ``count`` that are far apart in sound, names them
with the corpus-trained character model and returns a :class:`Cartridge` with a
per-voice report. Everything is drawn from one seeded generator and the engine is
deterministic, so the same seed and model give the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
from dx7d.voices import Bank, Patch

from ._params import CAT_INDEX, ORD_INDEX, VOICE_PARAMS, canonical
from .corpus import CATEGORIES, categorise
from .model import ANY_STYLE, STYLES, Model
from .names import NameModel
from .sound import Listener, Sound, sound_vector

__all__ = [
    "CLIP_PEAK",
    "DUPLICATE_DISTANCE",
    "NEAR_COPY_PARAMETERS",
    "NOISE_CONFIDENCE",
    "NOISE_FLATNESS",
    "SILENT_LEVEL_DB",
    "Candidate",
    "Cartridge",
    "differing_parameters",
    "generate",
    "nearest_corpus",
    "screen",
]

# Screens. The thresholds were set on 2,000 random voices of the public library
# (../shared/banks/library) rendered the same way, so that about 1 % of real voices
# fails each one (the deliberate noises: cymbals, snares, wind).
SILENT_LEVEL_DB: Final = -40.0  # RMS of the held note, dB re 1.0 (1 % of real voices)
CLIP_PEAK: Final = 4.0  # render_note scale; the daemon plays at 1/8 of it, so two such
#                         notes clip its output (1 % of real voices are louder)
NOISE_FLATNESS: Final = 0.3  # spectral flatness above this ...
NOISE_CONFIDENCE: Final = 0.5  # ... and pitch confidence below this: noise-like (1 %)
NEAR_COPY_PARAMETERS: Final = 15  # fewer than this many of the 145 parameters differ
#                                   (categorical: any change; 0-99: by more than 5)
DUPLICATE_DISTANCE: Final = 0.35  # sound_vector distance under which two voices sound alike
OVERSAMPLE: Final = 4  # candidates drawn per voice wanted, per round
_ROUNDS: Final = 6  # draws before giving up on a full cartridge
_PREFILTER: Final = 256  # corpus voices nearest in latent space checked for near-copies


@dataclass
class Candidate:
    """One decoded voice and what listening to it found."""

    voice: npt.NDArray[np.uint8]
    z: npt.NDArray[np.float32]
    sound: Sound | None = None
    rejected: list[str] = field(default_factory=list)
    nearest: int = -1  # corpus index
    nearest_differs: int = VOICE_PARAMS  # parameters differing from it
    category: str = "other"
    name: str = ""

    @property
    def passed(self) -> bool:
        return not self.rejected


@dataclass
class Cartridge:
    """A generated cartridge: 32 voices, the candidates screened for it, a report."""

    bank: Bank
    voices: list[Candidate]
    candidates: int
    passed: int  # candidates that passed every screen (before picking)
    corpus_names: list[str]
    reasons: dict[str, int]

    @property
    def raw_pass_rate(self) -> float:
        return self.passed / max(self.candidates, 1)

    def to_syx(self) -> bytes:
        return self.bank.to_syx()

    def report_lines(self) -> list[str]:
        out = [f"{'#':>2}  {'name':<10}  {'category':<10}  {'nearest corpus voice':<20} "
               f"{'differs':>7}  {'level':>6} {'flat':>5} {'pitch c':>7} {'peak':>5}"]
        for i, c in enumerate(self.voices):
            assert c.sound is not None
            near = self.corpus_names[c.nearest] if c.nearest >= 0 else "-"
            out.append(f"{i + 1:>2}  {c.name:<10}  {c.category:<10}  {near:<20} "
                       f"{c.nearest_differs:>7}  {c.sound.level_db:>6.1f} "
                       f"{c.sound.flatness:>5.3f} {c.sound.pitch_confidence:>7.3f} "
                       f"{c.sound.peak:>5.2f}")
        why = ", ".join(f"{k} {v}" for k, v in sorted(self.reasons.items())) or "none"
        out.append(f"candidates: {self.candidates} rendered, {self.passed} passed every screen "
                   f"({100 * self.raw_pass_rate:.0f} %); rejected: {why}")
        return out


def differing_parameters(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]
                         ) -> npt.NDArray[np.int64]:
    """How many of the 145 parameters differ (categorical: at all; 0-99: by more than 5),
    between ``a`` (145,) and every row of ``b`` (M, 145)."""
    d = np.abs(b.astype(np.int16) - a.astype(np.int16)[None, :])
    out: npt.NDArray[np.int64] = (d[:, CAT_INDEX] > 0).sum(axis=1) + (d[:, ORD_INDEX] > 5).sum(
        axis=1)
    return out


def nearest_corpus(model: Model, voice: npt.NDArray[np.uint8], z: npt.NDArray[np.float32]
                   ) -> tuple[int, int]:
    """(corpus index, parameters differing) of the corpus voice closest in parameters,
    looked for among the corpus voices nearest in latent space."""
    if len(model.corpus_voices) == 0:
        return -1, VOICE_PARAMS
    d2 = ((model.corpus_latents - z[None, :]) ** 2).sum(axis=1)
    k = min(_PREFILTER, len(d2))
    near = np.argpartition(d2, k - 1)[:k]
    diffs = differing_parameters(voice, model.corpus_voices[near])
    best = int(np.argmin(diffs))
    return int(near[best]), int(diffs[best])


def screen(c: Candidate, model: Model, listener: Listener) -> None:
    """Render ``c`` and fill in its sound, nearest corpus voice and rejection reasons:
    silent, clipping, noise-like, near-copy."""
    s = c.sound = listener.listen(c.voice)
    if s.level_db < SILENT_LEVEL_DB:
        c.rejected.append("silent")
    if s.peak > CLIP_PEAK:
        c.rejected.append("clipping")
    if s.flatness > NOISE_FLATNESS and s.pitch_confidence < NOISE_CONFIDENCE:
        c.rejected.append("noise-like")
    c.nearest, c.nearest_differs = nearest_corpus(model, c.voice, c.z)
    if c.nearest_differs < NEAR_COPY_PARAMETERS:
        c.rejected.append("near-copy")


def _far_apart(pool: list[Candidate], count: int) -> list[Candidate]:
    """``count`` candidates by farthest-point picking on their sound vectors, skipping any
    that sounds like one already picked (exact parameter duplicates included)."""
    vectors = np.stack([sound_vector(c.sound) for c in pool if c.sound is not None])
    picked = [0]
    dist = np.linalg.norm(vectors - vectors[0], axis=1)
    seen = {pool[0].voice.tobytes()}
    while len(picked) < count:
        i = int(np.argmax(dist))
        if dist[i] < DUPLICATE_DISTANCE:
            break  # everything left sounds like something already picked
        dist = np.minimum(dist, np.linalg.norm(vectors - vectors[i], axis=1))
        if pool[i].voice.tobytes() in seen:
            continue
        seen.add(pool[i].voice.tobytes())
        picked.append(i)
    return [pool[i] for i in picked]


def _category(model: Model, c: Candidate, style: int) -> str:
    if style != ANY_STYLE:
        return STYLES[style]
    if len(model.corpus_latents) == 0:
        return "other"
    d2 = ((model.corpus_latents - c.z[None, :]) ** 2).sum(axis=1)
    k = min(15, len(d2))
    near = model.corpus_categories[np.argpartition(d2, k - 1)[:k]]
    votes = np.bincount(near, minlength=len(CATEGORIES))
    return CATEGORIES[int(np.argmax(votes))]


def _names(model: Model, voices: list[Candidate], rng: np.random.Generator) -> None:
    names = NameModel(model.names_model["counts"])
    taken = {n.strip().upper() for n in model.corpus_names}
    used: set[str] = set()
    for c in voices:
        fallback = ""
        for attempt in range(200):
            name = names.sample(rng)
            key = name.upper()
            if len(name) < 3 or key in taken or key in used:
                continue
            fallback = fallback or name
            if categorise(name) == c.category or attempt >= 40:
                break
        else:
            name = fallback or f"GEN {len(used) + 1:>3}"
        if name.upper() in used or name.upper() in taken or len(name) < 3:
            name = fallback if fallback and fallback.upper() not in used else \
                f"GEN {len(used) + 1:>3}"
        used.add(name.upper())
        c.name = name


def decode_candidates(model: Model, rng: np.random.Generator, n: int, style: int,
                      temperature: float) -> list[Candidate]:
    """``n`` voices decoded from z ~ N(0, temperature^2), silent operators canonical."""
    z = (rng.standard_normal((n, model.latent)) * temperature).astype(np.float32)
    voices = model.decode(z, style)
    return [Candidate(canonical(v), z[i]) for i, v in enumerate(voices)]


def generate(model: Model, count: int = 32, style: str | None = None, seed: int = 0,
             temperature: float = 1.0, listener: Listener | None = None,
             oversample: int = OVERSAMPLE, pick: bool = True,
             progress: Callable[[int], None] | None = None) -> Cartridge:
    """A cartridge of ``count`` listened-to voices (``count`` must be 32 for a bank;
    other counts give the voices only, e.g. for benchmarks, with ``bank`` of the
    first 32 or padded with INIT VOICE)."""
    if not 0.05 <= temperature <= 3.0:
        raise ValueError(f"temperature {temperature} is outside 0.05..3")
    style_index = model.style_index(style)
    rng = np.random.default_rng(seed)
    ear = listener or Listener()
    pool: list[Candidate] = []
    reasons: dict[str, int] = {}
    seen = 0
    chosen: list[Candidate] = []
    for _ in range(_ROUNDS):
        batch = decode_candidates(model, rng, count * oversample, style_index, temperature)
        for c in batch:
            screen(c, model, ear)
            for r in c.rejected:
                reasons[r] = reasons.get(r, 0) + 1
        seen += len(batch)
        pool.extend(c for c in batch if c.passed)
        if progress is not None:
            progress(seen)
        if len(pool) >= count:
            chosen = _far_apart(pool, count) if pick else pool[:count]
            if len(chosen) == count:
                break
    if len(chosen) < count:
        raise RuntimeError(f"only {len(chosen)} of {seen} candidates passed every screen and "
                           f"sound different; try a higher --temperature or another model")
    for c in chosen:
        c.category = _category(model, c, style_index)
    _names(model, chosen, rng)
    patches = []
    for c in chosen[:32]:
        patch = Patch.from_vced(c.voice.tobytes() + c.name.ljust(10).encode("ascii"))
        patches.append(patch)
    patches += [Patch() for _ in range(32 - len(patches))]
    return Cartridge(Bank(patches), chosen, seen, len(pool), model.corpus_names, reasons)
