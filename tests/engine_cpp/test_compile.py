"""The C++ sources compile warning-free with g++, and compile errors name file and line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dx7d.engine_cpp import _loader

SOURCES = sorted(_loader.SOURCE_DIR.glob("*.cpp"))


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_every_source_compiles_with_gcc_warnings_as_errors(source: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        ["g++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-O2", "-c", str(source),
         "-o", str(tmp_path / "out.o")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr


def test_headers_stay_small() -> None:
    for header in _loader.SOURCE_DIR.glob("*.h"):
        assert len(header.read_text().splitlines()) <= 130, header.name


@pytest.mark.parametrize("loader", ["cppyy", "compiled"])
def test_compile_error_names_file_and_line(loader: str, tmp_path: Path) -> None:
    if loader == "cppyy" and not _loader.cppyy_available():
        pytest.skip("cppyy is not importable here (no wheel for this platform)")
    if loader == "compiled" and shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    for path in _loader.SOURCE_DIR.glob("dx7_*"):
        shutil.copy(path, tmp_path / path.name)
    env_source = tmp_path / "dx7_env.cpp"
    lines = env_source.read_text().splitlines()
    target = next(i for i, line in enumerate(lines) if "outlevel_ = outlevel;" in line)
    lines[target] = "  int broken = ;"
    env_source.write_text("\n".join(lines) + "\n")
    script = (
        "import sys\nfrom pathlib import Path\n"
        "from dx7d.engine_cpp import EngineError, _loader\n"
        "try:\n    _loader.load(sys.argv[2], Path(sys.argv[1]), cache=Path(sys.argv[1]) / 'c')\n"
        "except EngineError as exc:\n    print(exc)\n    sys.exit(3)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path), loader],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"dx7_env.cpp:{target + 1}:" in result.stdout
