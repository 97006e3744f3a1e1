"""dexed-py's Quick Start, restored, imports changed to dx7d's, runs example by example.

The examples live in docs/ml.md (each fenced block after a ``<!-- quickstart: name -->``
marker); they run in order in one namespace, in a folder holding the page's rom1a.syx and
voice.syx, and each test prints the shapes the page states.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "ml.md"
_BLOCK = re.compile(r"<!-- quickstart: (?P<name>[\w-]+) -->\n```python\n(?P<code>.*?)```",
                    re.DOTALL)


def _examples() -> dict[str, str]:
    return {m["name"]: m["code"] for m in _BLOCK.finditer(DOC.read_text())}


EXAMPLES = _examples()


def test_every_quick_start_example_is_in_the_doc() -> None:
    assert list(EXAMPLES) == [
        "patch-api", "sysex", "preset", "convert", "jax", "jax-flat", "algorithms",
        "all-ops", "normalize-feedback", "graph", "graph-matrix", "graph-algorithm",
        "graph-drawings"]


def test_only_imports_name_dx7d() -> None:
    for name, code in EXAMPLES.items():
        for line in code.splitlines():
            if "dx7d" in line:
                assert line.startswith(("from dx7d.", "import dx7d")), (name, line)
            assert "dexed import" not in line, (name, line)


@pytest.fixture(scope="module")
def page(shared_banks: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The reader's session: a folder with rom1a.syx and voice.syx, one namespace."""
    from dx7d.voices import Patch, voice_dump

    folder = tmp_path_factory.mktemp("quickstart")
    shutil.copy(shared_banks / "rom1A.syx", folder / "rom1a.syx")
    first = Patch.load_bank(folder / "rom1a.syx")[0]
    (folder / "voice.syx").write_bytes(voice_dump(first))
    # The page's bulk-storage example uses a `presets` list it never defines.
    namespace: dict[str, Any] = {
        "presets": [p.to_preset() for p in Patch.load_bank(folder / "rom1a.syx")]}
    old = os.getcwd()
    os.chdir(folder)
    try:
        yield namespace
    finally:
        os.chdir(old)


def _run(page: dict[str, Any], name: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(EXAMPLES[name], f"docs/ml.md:{name}", "exec"), page)
    print(out.getvalue(), end="")
    return out.getvalue()


def _shape(page: dict[str, Any], name: str) -> tuple[int, ...]:
    shape = tuple(np.shape(page[name]))
    print(f"{name}.shape = {shape}")
    return shape


def test_patch_api(page: dict[str, Any]) -> None:
    _run(page, "patch-api")
    assert _shape(page, "audio") == (66150,)
    assert _shape(page, "audio2") == (4 * 44100,)
    assert _shape(page, "audio3") == (4 * 44100,)
    assert np.any(page["audio"])


def test_sysex(page: dict[str, Any]) -> None:
    text = _run(page, "sysex")
    assert "Loaded 32 patches" in text
    assert " 0: BRASS   1 (algorithm 21)" in text
    assert Path("my_bank.syx").stat().st_size == 4104
    assert page["patch"] == page["patches"][0]


def test_preset(page: dict[str, Any]) -> None:
    _run(page, "preset")
    assert _shape(page, "arr") == (145,)
    assert _shape(page, "bank") == (32, 145)
    assert _shape(page, "audio") == (4 * 44100,)
    assert page["preset2"] == page["preset"]
    assert len(page["presets"]) == 32


def test_convert(page: dict[str, Any]) -> None:
    _run(page, "convert")
    assert page["preset"] == page["patch"].to_preset()
    assert page["patch2"].to_vced()[:145] == page["patch"].to_vced()[:145]


def test_jax_pure_callback(page: dict[str, Any]) -> None:
    pytest.importorskip("jax", reason="jax is the optional 'ml' extra")
    _run(page, "jax")
    assert _shape(page, "audio") == (44100,)
    assert _shape(page, "audio2") == (44100,)
    cache_size = getattr(page["jitted_render"], "_cache_size", None)
    if cache_size is not None:
        assert cache_size() == 1  # algorithm 0 and 15: one compilation


def test_jax_flat_vector(page: dict[str, Any]) -> None:
    jnp = pytest.importorskip("jax.numpy", reason="jax is the optional 'ml' extra")
    _run(page, "jax-flat")
    page["flat_audio"] = page["render_from_flat"](jnp.asarray(page["arr"]))
    assert _shape(page, "flat_audio") == (44100,)


def test_algorithms(page: dict[str, Any]) -> None:
    text = _run(page, "algorithms")
    assert "Algorithm 15 carriers: (0,)" in text
    assert page["carriers"] == [0, 1, 2, 3, 4, 5]
    assert _shape(page, "alg") == () and page["alg"].mod_matrix.shape == (6, 6)


def test_all_ops(page: dict[str, Any]) -> None:
    _run(page, "all-ops")
    assert _shape(page, "audio") == (7, 4 * 44100)


def test_normalize_feedback(page: dict[str, Any]) -> None:
    _run(page, "normalize-feedback")
    assert _shape(page, "audio") == (4 * 44100,)
    assert page["synth"].normalize_feedback is True


def test_graph(page: dict[str, Any]) -> None:
    _run(page, "graph")
    assert _shape(page, "audio") == (66150,)
    assert _shape(page, "audio_all") == (8, 66150)


def test_graph_from_matrix(page: dict[str, Any]) -> None:
    _run(page, "graph-matrix")
    assert page["graph"].num_ops == 4 and page["graph"].feedback == {(3, 3): 0.5}


def test_graph_from_algorithm(page: dict[str, Any]) -> None:
    _run(page, "graph-algorithm")
    assert page["graph"].carriers == [0]


def test_graph_drawings(page: dict[str, Any]) -> None:
    text = _run(page, "graph-drawings")
    assert "OperatorGraph: 6 operators" in text and "flowchart TD" in text and "[0]*" in text
