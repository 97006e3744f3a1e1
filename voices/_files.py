"""Atomic file replacement, shared by Bank.write and the daemon's state directory."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["atomic_write", "parse_voice_spec"]


def atomic_write(path: str | Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` so that readers see the old or the new bytes, never a mix.

    The bytes go to a temporary file in the same folder (mode 0644 less the umask),
    which is fsynced, renamed over ``path``, and the folder fsynced, so a power cut or
    kill -9 leaves the old file or the new one.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def parse_voice_spec(spec: str) -> tuple[Path, int]:
    """'FILE' or 'FILE:N' (N = 1-32) -> (path, N); a path containing ':' that exists is
    taken whole. ValueError names a bad N."""
    if Path(spec).exists() or ":" not in spec:
        return Path(spec), 1
    head, tail = spec.rsplit(":", 1)
    if not tail.isdigit() or not 1 <= int(tail) <= 32:
        raise ValueError(f"voice number must be 1-32, got {tail!r}")
    return Path(head), int(tail)
