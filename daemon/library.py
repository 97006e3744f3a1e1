"""The banks folder: the user's .syx collection, walked by bank select (CC0/CC32).

Order (stable and documented in the README): every file whose name ends in
``.syx`` (any case) below the folder, recursively, sorted by its path relative to
the folder, compared case-insensitively and then exactly. Bank 0 is always the
internal cartridge; the first file of that order is bank 1, and so on. A file is
read only when its bank is selected; one that does not hold a cartridge is
reported and leaves the current bank unchanged. The daemon never writes here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from dx7d.voices import Bank, SysexError

__all__ = ["Library"]

log = logging.getLogger("dx7d.library")

MAX_SCAN_ENTRIES = 200_000  # folders and files looked at per rescan (banks_dir: / is allowed)
_SKIPPED = ("/proc", "/sys", "/dev", "/run")  # kernel file systems hold no banks


class Library:
    """The .syx files of a folder, indexed 1.. in a stable order."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.files: list[Path] = []
        self.rescan()

    def rescan(self) -> None:
        """Read the folder's file list again (at start-up and on SIGHUP)."""
        if self.folder is None:
            self.files = []
            return
        if not self.folder.is_dir():
            log.warning("banks folder %s does not exist; bank select reaches only bank 0",
                        self.folder)
            self.files = []
            return
        folder = self.folder
        found = _walk(folder)
        self.files = sorted(found, key=lambda p: (str(p.relative_to(folder)).lower(),
                                                  str(p.relative_to(folder))))
        log.info("banks folder %s: %d .syx files (banks 1-%d)",
                 self.folder, len(self.files), len(self.files))

    def __len__(self) -> int:
        return len(self.files)

    def path(self, number: int) -> Path | None:
        """The file of bank ``number`` (1-based), or None when there is no such bank."""
        if 1 <= number <= len(self.files):
            return self.files[number - 1]
        return None

    def load(self, number: int) -> Bank | None:
        """Read bank ``number`` (1-based); None (and one log line) when it cannot be used."""
        path = self.path(number)
        if path is None:
            log.warning("bank %d does not exist (the banks folder has %d)", number, len(self))
            return None
        try:
            return Bank.read(path)
        except (SysexError, OSError) as exc:
            log.warning("bank %d (%s) cannot be used: %s", number, path, exc)
            return None


def _walk(folder: Path) -> list[Path]:
    """The .syx files under ``folder``. Entries that vanish or cannot be read while the walk
    runs (a sync tool renaming a sub-folder, /proc) are passed over and counted, never
    raised; the walk stops after MAX_SCAN_ENTRIES entries."""
    found: list[Path] = []
    unreadable: list[str] = []
    seen = 0
    for top, dirs, files in os.walk(folder, onerror=lambda exc: unreadable.append(str(exc))):
        dirs[:] = sorted(d for d in dirs if os.path.join(top, d) not in _SKIPPED)
        seen += len(dirs) + len(files)
        for name in files:
            if name.lower().endswith(".syx"):
                path = Path(top, name)
                try:
                    if path.is_file():
                        found.append(path)
                except OSError as exc:
                    unreadable.append(str(exc))
        if seen > MAX_SCAN_ENTRIES:
            log.warning("banks folder %s: stopped after %d entries; banks beyond are not "
                        "offered (point storage.banks_dir at the folder of your banks)",
                        folder, MAX_SCAN_ENTRIES)
            break
    if unreadable:
        log.warning("banks folder %s: %d entries could not be read (changed during the scan, "
                    "or no permission), e.g. %s", folder, len(unreadable), unreadable[0])
    return found
