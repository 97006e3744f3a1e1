"""The compiled loader's build: g++ turns dx7_unity.cpp into a cached shared library.

The library lives in the cache directory ($CACHE_DIRECTORY under systemd, else
$XDG_CACHE_HOME/dx7d or ~/.cache/dx7d), under engine/libdx7-<key>.so where the key hashes
every dx7_* source, the ABI table's names, the compiler's identity and the flags: a change
to any of them builds a new file, an unchanged set reuses it. The build holds a lock file
and renames the finished library into place, so processes starting together compile once
and never load a half-written file.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import _abi
from ._errors import EngineError, first_error

__all__ = ["Built", "build", "cache_dir"]

BASE_FLAGS = ("-std=c++17", "-O2", "-fPIC", "-shared",
              # a*b+c stays two roundings on every CPU (aarch64 g++ would fuse it): the
              # same samples on a Pi as on x86-64.
              "-ffp-contract=off")
# cppyy's Cling compiles with -march=native too; the probe drops it where g++ refuses.
NATIVE_FLAG = "-march=native"
@dataclass(frozen=True)
class Built:
    """A shared library ready to load: its path, the seconds compiling took (0 = cached)."""

    path: Path
    compile_s: float
    flags: tuple[str, ...]


def cache_dir() -> Path:
    """Where compiled engines are kept (systemd's CacheDirectory= first)."""
    systemd = os.environ.get("CACHE_DIRECTORY", "").split(":")[0]
    if systemd:
        return Path(systemd) / "engine"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "dx7d" / "engine"


def _compiler() -> str:
    cxx = os.environ.get("CXX", "g++")
    path = shutil.which(cxx)
    if path is None:
        raise EngineError(f"the compiled engine loader needs a C++ compiler: {cxx} is not "
                          "installed (apt install g++, or ./bootstrap.sh setup)")
    return path


def _compiler_identity(cxx: str) -> str:
    done = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False)
    machine = subprocess.run([cxx, "-dumpmachine"], capture_output=True, text=True,
                             check=False)
    return done.stdout.splitlines()[0] if done.stdout else cxx + " " + machine.stdout.strip()


def _cpu_identity() -> str:
    """The CPU's feature line: -march=native code must not load on another CPU (a cache
    directory shared between machines)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        import platform

        return platform.machine() + " " + platform.processor()
    keep = [ln for ln in text.splitlines()
            if ln.split(":")[0].strip() in ("model name", "flags", "Features", "CPU part")]
    return "\n".join(dict.fromkeys(keep))


def _native_ok(cxx: str, workdir: Path) -> bool:
    """Whether `cxx` accepts -march=native here (aarch64 g++ under qemu may not)."""
    probe = workdir / "probe.cpp"
    probe.write_text("int dx7_probe(int x) { return x + 1; }\n")
    done = subprocess.run([cxx, NATIVE_FLAG, "-fsyntax-only", str(probe)],
                          capture_output=True, check=False)
    return done.returncode == 0


def _key(source_dir: Path, identity: str, flags: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for part in (identity, _cpu_identity(), " ".join(flags), " ".join(sorted(_abi.ABI_NAMES)),
                 " ".join(f"{lib.link}" for lib in _abi.LIBRARIES)):
        digest.update(part.encode() + b"\0")
    for path in sorted(source_dir.glob("dx7_*")):
        if path.suffix in (".h", ".cpp"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _version_script(path: Path) -> None:
    """Export the table's functions only: nothing else can clash with another copy of the
    engine in the process (cppyy's JIT of the same sources, in the loader tests)."""
    names = "".join(f"    {name};\n" for name in sorted(_abi.ABI_NAMES))
    path.write_text("{\n  global:\n" + names + "  local: *;\n};\n")


def build(source_dir: Path, unity: str, target_dir: Path | None = None) -> Built:
    """Return the cached library for these sources, compiling it first if needed."""
    unity_path = source_dir / unity
    if not unity_path.is_file():
        raise EngineError(f"engine source {unity_path} is missing")
    cxx = _compiler()
    identity = _compiler_identity(cxx)
    directory = target_dir or cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EngineError(f"cannot create the engine cache {directory}: {exc}") from exc
    requested = (*BASE_FLAGS, NATIVE_FLAG)
    key = _key(source_dir, identity, requested)
    target = directory / f"libdx7-{key}.so"
    if target.is_file():
        return Built(target, 0.0, requested)
    with open(directory / f"libdx7-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building the same key
        if target.is_file():
            return Built(target, 0.0, requested)
        with tempfile.TemporaryDirectory(dir=directory, prefix=".build-") as work:
            workdir = Path(work)
            flags = requested if _native_ok(cxx, workdir) else BASE_FLAGS
            script = workdir / "exports.map"
            _version_script(script)
            partial = workdir / target.name
            cmd = [cxx, *flags, f"-I{source_dir}", str(unity_path), "-o", str(partial),
                   f"-Wl,--version-script={script}", *(f"-l{lib.link}" for lib in _abi.LIBRARIES)]
            t0 = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            elapsed = time.perf_counter() - t0
            if done.returncode != 0:
                raise EngineError(f"C++ engine failed to compile: {first_error(done.stderr)}")
            os.replace(partial, target)  # atomic: readers see no file or the whole file
        return Built(target, elapsed, flags)
