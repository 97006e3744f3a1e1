"""The training corpus: every voice of a set of .syx folders, deduplicated and labelled.

``build_corpus(folders)`` reads each .syx file through dx7d.voices' lenient reader,
puts operators that cannot be heard in one canonical form, drops what is not worth
learning from (with the reason counted), labels each kept voice with a category from
its name (``CATEGORY_KEYWORDS``) and returns a :class:`Corpus`, saved as an .npz.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from dx7d.voices import INIT_VOICE, Bank, SysexError

from ._params import VOICE_PARAMS, audible_operators, canonical

__all__ = [
    "CATEGORIES",
    "CATEGORY_KEYWORDS",
    "Corpus",
    "CorpusReport",
    "build_corpus",
    "categorise",
    "held_out_files",
    "syx_files",
]

# The category of a voice from words in its name; the first category with a match wins,
# so the specific ones (e-piano before piano, bass before everything) come first.
CATEGORY_KEYWORDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("bass", ("BASS", "BAS ", "BSS", "BAS.", "SLAP", "FRETLS", "FRTLS", "MOOG B", "SYNBAS")),
    ("e-piano", ("E.PIANO", "EPIANO", "E PIANO", "E.PNO", "EPNO", "E-PIANO", "RHODES", "WURLI",
                 "RHDS", "TINE", "DX PNO", "FENDER", "SUITCASE", "EP ", "E.P.")),
    ("piano", ("PIANO", "PNO", "GRAND", "HONKY", "UPRIGHT", "CLAV", "HARPSI", "HRPSI",
               "CEMBALO", "KEYBOARD")),
    ("organ", ("ORGAN", "ORGN", "ORG ", "HAMMOND", "B3", "PIPE", "LESLIE", "DRAWBAR",
               "FARFISA", "CHURCH", "CALLIOPE")),
    ("brass", ("BRASS", "BRS", "TRUMPET", "TRUMP", "TRPT", "HORN", "TROMB", "TUBA", "SAX",
               "BRAS", "FANFARE", "CORNET", "FLUGEL")),
    ("strings", ("STRING", "STRNG", "STRG", "STR ", "VIOLIN", "VIOLA", "CELLO", "FIDDLE",
                 "ENSEMBLE", "ORCH", "SECTION", "STRS", "PIZZ")),
    ("pad", ("PAD", "CHOIR", "VOICE", "VOX", "AAH", "OOH", "WARM", "SWEEP", "ATMOS", "SPACE",
             "CLOUD", "DREAM", "SOFT", "GLASS", "HALO", "AIR")),
    ("bell", ("BELL", "CHIME", "GLOCK", "CELESTA", "CELESTE", "VIBE", "VIBRA", "MARIMBA",
              "XYLO", "KALIMBA", "TUBULAR", "GONG", "MUSIC BOX", "MBOX", "CARILLON")),
    ("pluck", ("PLUCK", "GUITAR", "GUIT", "GTR", "HARP", "KOTO", "SITAR", "BANJO", "MANDO",
               " LUTE", "SHAMISEN", "ZITHER", "DULCIMER", "STEEL", "NYLON", "ACOUST")),
    ("lead", ("LEAD", "SOLO", "SYN", "FLUTE", "FLT", "OBOE", "CLARI", "BASSOON", "PICCOLO",
              "WHISTLE", "RECORDER", "PAN ", "SQUARE", "SAW", "MONO", "HARMONICA", "ACCORD")),
    ("percussion", ("DRUM", "SNARE", "KICK", "TOM", "HIHAT", "HI-HAT", "HAT", "CYMBAL", "CRASH",
                    "RIDE", "CONGA", "BONGO", "TIMPANI", "TIMP", "PERC", "CLAP", "WOOD",
                    "BLOCK", "COWBELL", "TABLA", "STEELDRM", "SHAKER", "RIM")),
    ("fx", ("FX", "EFFECT", "NOISE", "WIND", "RAIN", "THUNDER", "EXPLO", "LASER", "ZAP",
            "SIREN", "SPLASH", "BIRD", "HELI", "TRAIN", "UFO", "ALIEN", "WAVE", "STORM",
            "SCREAM", "SFX", "ROBOT", "BUBBLE")),
)
CATEGORIES: Final = (*(name for name, _ in CATEGORY_KEYWORDS), "other")

_INIT: Final = np.frombuffer(INIT_VOICE.to_vced()[:VOICE_PARAMS], dtype=np.uint8)
HELD_OUT_PERCENT: Final = 10  # of the source files, chosen by a hash of the file's path


def categorise(name: str) -> str:
    """The category of a voice name (one of CATEGORIES; "other" when no keyword is in it)."""
    text = " " + re.sub(r"\s+", " ", name.upper()) + " "
    for category, words in CATEGORY_KEYWORDS:
        if any(w in text for w in words):
            return category
    return "other"


def held_out_files(sources: Iterable[str]) -> set[str]:
    """The source files of the held-out split: a stable ~10 % chosen by a hash of the
    path relative to its corpus folder, so every voice of a file is on one side."""
    out = set()
    for s in sources:
        digest = hashlib.sha256(s.encode()).digest()
        if int.from_bytes(digest[:4], "big") % 100 < HELD_OUT_PERCENT:
            out.add(s)
    return out


def syx_files(folders: Sequence[str | Path]) -> list[tuple[Path, str]]:
    """Every .syx file (any case) under the folders, sorted, as (path, name relative to
    its folder); a folder argument may also be one .syx file."""
    found: list[tuple[Path, str]] = []
    for folder in folders:
        root = Path(folder)
        if root.is_file():
            found.append((root, root.name))
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"corpus folder {root} does not exist")
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix.lower() == ".syx":
                found.append((path, str(path.relative_to(root))))
    return found


@dataclass
class CorpusReport:
    """What building a corpus read, kept and dropped (and why)."""

    files: int = 0
    files_unreadable: int = 0
    files_repaired: int = 0
    voices_read: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    per_category: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # one line per unreadable file

    def lines(self) -> list[str]:
        out = [
            f"files: {self.files} read, {self.files_unreadable} unreadable, "
            f"{self.files_repaired} loaded with repairs",
            f"voices: {self.voices_read} read, {self.kept} unique kept",
        ]
        for reason, n in self.dropped.most_common():
            out.append(f"  dropped {n}: {reason}")
        out.append("per category: " + ", ".join(
            f"{c} {self.per_category[c]}" for c in CATEGORIES))
        out.extend(f"  unreadable: {e}" for e in self.errors[:20])
        if len(self.errors) > 20:
            out.append(f"  ... and {len(self.errors) - 20} more unreadable files")
        return out


@dataclass
class Corpus:
    """Unique voices: ``voices`` (N, 145) uint8 canonical VCED, names, sources, categories."""

    voices: npt.NDArray[np.uint8]
    names: list[str]
    sources: list[str]
    categories: npt.NDArray[np.int64]  # index into CATEGORIES

    def __len__(self) -> int:
        return int(self.voices.shape[0])

    def held_out_mask(self) -> npt.NDArray[np.bool_]:
        """True for the voices of the held-out source files."""
        held = held_out_files(set(self.sources))
        return np.array([s in held for s in self.sources], dtype=bool)

    def subset(self, mask: npt.NDArray[np.bool_]) -> Corpus:
        idx = np.flatnonzero(mask)
        return Corpus(self.voices[idx], [self.names[i] for i in idx],
                      [self.sources[i] for i in idx], self.categories[idx])

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, voices=self.voices, names=np.array(self.names, dtype="U10"),
                            sources=np.array(self.sources), categories=self.categories,
                            category_names=np.array(CATEGORIES))

    @classmethod
    def load(cls, path: str | Path) -> Corpus:
        with np.load(path, allow_pickle=False) as data:
            if "voices" not in data or data["voices"].shape[1:] != (VOICE_PARAMS,):
                raise ValueError(f"{path}: not a dx7d corpus (.npz with voices (N, 145))")
            stored = tuple(str(c) for c in data["category_names"])
            if stored != CATEGORIES:
                raise ValueError(f"{path}: built with other categories {stored}")
            return cls(data["voices"].astype(np.uint8), [str(n) for n in data["names"]],
                       [str(s) for s in data["sources"]], data["categories"].astype(np.int64))


def build_corpus(folders: Sequence[str | Path], progress: bool = False) -> tuple[Corpus,
                                                                                   CorpusReport]:
    """Read every .syx under ``folders`` into a deduplicated corpus and its report."""
    files = syx_files(folders)
    report = CorpusReport()
    seen: set[bytes] = set()
    voices: list[npt.NDArray[np.uint8]] = []
    names: list[str] = []
    sources: list[str] = []
    iterator: Iterable[tuple[Path, str]] = files
    if progress:
        from tqdm import tqdm

        iterator = tqdm(files, desc="reading", unit="file")
    for path, relative in iterator:
        report.files += 1
        try:
            bank = Bank.read(path)
        except (SysexError, OSError) as exc:
            report.files_unreadable += 1
            report.errors.append(str(exc))
            continue
        assert bank.report is not None
        report.files_repaired += not bank.report.clean
        for slot, patch in enumerate(bank):
            if slot >= bank.report.voices:
                break  # a file of single-voice dumps: the rest are unused INIT slots
            report.voices_read += 1
            raw = np.frombuffer(patch.to_vced()[:VOICE_PARAMS], dtype=np.uint8)
            if not audible_operators(raw).any():
                report.dropped["silent (no operator can be heard)"] += 1
                continue
            v = canonical(raw)
            if np.array_equal(v, canonical(_INIT)):
                report.dropped["INIT VOICE"] += 1
                continue
            key = v.tobytes()
            if key in seen:
                report.dropped["duplicate (name left out, silent operators canonical)"] += 1
                continue
            seen.add(key)
            voices.append(v)
            names.append(patch.name.rstrip())
            sources.append(relative)
    cats = np.array([CATEGORIES.index(categorise(n)) for n in names], dtype=np.int64)
    report.kept = len(voices)
    report.per_category = Counter(CATEGORIES[c] for c in cats)
    array = np.stack(voices) if voices else np.zeros((0, VOICE_PARAMS), dtype=np.uint8)
    return Corpus(array, names, sources, cats), report
