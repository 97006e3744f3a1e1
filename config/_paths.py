"""Where dx7d keeps its state: resolving storage.state_dir "auto" and storage.banks_dir."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ._model import Config

__all__ = ["SYSTEM_STATE_DIR", "resolve_banks_dir", "resolve_state_dir"]

SYSTEM_STATE_DIR = Path("/var/lib/dx7d")
"""The state directory of a system-wide install, used by "auto" when it is writable."""


def _writable(path: Path) -> bool:
    """True if path is a writable directory, or does not exist and its parent is one."""
    if path.exists():
        return path.is_dir() and os.access(path, os.W_OK | os.X_OK)
    parent = path.parent
    return parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)


def resolve_state_dir(config: Config, environ: Mapping[str, str] | None = None,
                      system_dir: Path = SYSTEM_STATE_DIR) -> Path:
    """The state directory the daemon should use (not created here).

    An explicit storage.state_dir is used as given, with ~ expanded. "auto" means, in order:
    1. $STATE_DIRECTORY (set by systemd's StateDirectory=; the first of several ':'-separated);
    2. /var/lib/dx7d if it is a writable directory, or can be created;
    3. $XDG_STATE_HOME/dx7d if XDG_STATE_HOME is set to an absolute path;
    4. ~/.local/state/dx7d.
    ``environ`` defaults to os.environ; ``system_dir`` to /var/lib/dx7d.
    """
    env = os.environ if environ is None else environ
    setting = config.storage.state_dir
    if setting != "auto":
        return Path(setting).expanduser()
    systemd = env.get("STATE_DIRECTORY", "").split(":")[0]
    if systemd:
        return Path(systemd)
    if _writable(system_dir):
        return system_dir
    xdg = env.get("XDG_STATE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "dx7d"
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".local" / "state" / "dx7d"


def resolve_banks_dir(config: Config, state_dir: Path) -> Path:
    """storage.banks_dir with ~ expanded, or <state_dir>/banks when it is null."""
    if config.storage.banks_dir is None:
        return state_dir / "banks"
    return Path(config.storage.banks_dir).expanduser()
