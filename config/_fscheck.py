"""File system checks of the path keys: what each path must be, tested where it points.

Run by load() (so `dx7d config check`, start-up and every reload) on the values a file
gives explicitly; the daemon tests them again when it opens them, and says so in one line.

* ``audio.record``: a file we can create or overwrite: not a directory nor a device,
  in an existing folder we can write to.
* ``storage.state_dir``: a directory we can write to, or one we can create (its nearest
  existing ancestor a writable directory); never in a kernel pseudo file system.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["record_path_problem", "state_dir_problem"]

_PSEUDO = (Path("/proc"), Path("/sys"), Path("/dev"))  # kernel file systems: nothing to keep


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def record_path_problem(setting: str) -> str | None:
    """Why ``setting`` cannot be the WAV file audio.record writes, or None."""
    path = Path(setting).expanduser()
    try:
        if path.is_dir():
            return f"{path} is a directory (give a file name, e.g. {path / 'dx7d.wav'})"
        if path.exists() and not path.is_file():
            return f"{path} is not a regular file"
        if path.exists() and not os.access(path, os.W_OK):
            return f"{path} is not writable"
        folder = path.parent
        if not folder.is_dir():
            return f"its folder {folder} does not exist"
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"its folder {folder} is not writable"
    except OSError as exc:  # a name too long, a loop of symbolic links
        return f"{path}: {exc.strerror}"
    return None


def state_dir_problem(setting: str) -> str | None:
    """Why ``setting`` cannot be the state directory, or None ("auto" is not checked here:
    it picks a usable directory itself)."""
    if setting == "auto":
        return None
    path = Path(setting).expanduser()
    try:
        real = Path(os.path.realpath(path))
        if any(real == p or p in real.parents for p in _PSEUDO):
            return f"{path} is under /{real.parts[1]}, a kernel file system (nothing keeps there)"
        if path.exists():
            if not path.is_dir():
                return f"{path} is not a directory"
            if not os.access(path, os.W_OK | os.X_OK):
                return f"{path} is not writable"
            return None
        ancestor = path.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not _writable_dir(ancestor):
            return f"{path} does not exist and {ancestor} is not a writable directory"
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    return None
