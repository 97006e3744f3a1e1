"""The banks folder scan: entries that vanish or cannot be read are passed over, never
raised (issue 14, finding 3: a reload's rescan killed the daemon)."""

from __future__ import annotations

import os
from pathlib import Path

from dx7d.daemon import library
from dx7d.daemon.library import Library
from dx7d.voices import Bank


def _bank_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(Bank.init().to_syx())


def test_a_folder_removed_while_it_is_walked_is_passed_over(tmp_path: Path,
                                                            monkeypatch: object) -> None:
    for name in ("a/x.syx", "b/y.syx", "c/z.SYX"):
        _bank_file(tmp_path / name)
    real_walk = os.walk

    def walk_that_loses_b(top: str, **kwargs: object):  # type: ignore[no-untyped-def]
        for entry in real_walk(top, **kwargs):  # type: ignore[call-overload]
            if entry[0] == str(tmp_path):
                (tmp_path / "b" / "y.syx").unlink()
                (tmp_path / "b").rmdir()  # a sync tool, between listing and entering it
            yield entry

    monkeypatch.setattr(library.os, "walk", walk_that_loses_b)  # type: ignore[attr-defined]
    scanned = Library(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in scanned.files] == ["a/x.syx", "c/z.SYX"]


def test_kernel_file_systems_are_not_walked() -> None:
    found = library._walk(Path("/"))  # capped at MAX_SCAN_ENTRIES; never raises
    assert not any(str(p).startswith(("/proc/", "/sys/", "/dev/")) for p in found)
