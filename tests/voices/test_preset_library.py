"""Every voice of ../shared/banks/library survives Patch -> Preset -> Patch unchanged.

Files are read with dx7d.voices' lenient reader (Bank.read); files it refuses hold no
voice and are skipped. Duplicate voices (same 145 sound parameters) are tested once.
"""

from __future__ import annotations

import os
from pathlib import Path

from dx7d.voices import Bank, Preset, SysexError


def _library_files(root: Path) -> list[Path]:
    files = []
    for folder, _, names in os.walk(root):
        files += [Path(folder, n) for n in names if n.lower().endswith(".syx")]
    return sorted(files)


def test_every_library_voice_round_trips(shared_banks: Path) -> None:
    seen: set[bytes] = set()
    files = 0
    for path in _library_files(shared_banks / "library"):
        try:
            bank = Bank.read(path)
        except SysexError:
            continue
        files += 1
        for patch in bank:
            sound = patch.to_vced()[:145]
            if sound in seen:
                continue
            seen.add(sound)
            preset = Preset.from_patch(patch)
            assert preset.to_patch().to_vced()[:145] == sound, f"{path}: {patch.name!r}"
            assert Preset.from_array(preset.to_array()) == preset, f"{path}: {patch.name!r}"
    assert files > 3000 and len(seen) > 10000, (files, len(seen))
