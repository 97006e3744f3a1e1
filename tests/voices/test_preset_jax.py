"""Preset as a jax PyTree: every field a data leaf, one trace for any number of presets."""

from __future__ import annotations

import numpy as np
import pytest
from dx7d.voices import PRESET_FIELDS, Preset

jax = pytest.importorskip("jax", reason="jax is the optional 'ml' extra")
jnp = jax.numpy


def _ten_presets() -> list[Preset]:
    rng = np.random.default_rng(7)
    out = []
    for k in range(10):
        arr = Preset().to_array()
        arr[:123] = rng.random(123)
        arr[125] = (k * 3) % 32  # algorithm changes too
        arr[126] = k % 6
        out.append(Preset.from_array(arr))
    return out


def test_every_field_is_a_leaf() -> None:
    leaves, treedef = jax.tree.flatten(Preset())
    assert len(leaves) == len(PRESET_FIELDS) == 28
    assert treedef.num_leaves == 28


def test_one_trace_for_ten_presets() -> None:
    traces = 0

    @jax.jit
    def loudness(preset: Preset) -> jax.Array:
        nonlocal traces
        traces += 1
        return jnp.sum(preset.op_output_level) + preset.algorithm + preset.to_array().sum()

    presets = _ten_presets()
    results = [float(loudness(p)) for p in presets]
    assert traces == 1
    expected = [float(np.sum(p.op_output_level) + p.algorithm + p.to_array().sum())
                for p in presets]
    assert results == pytest.approx(expected, rel=1e-5)


def test_flat_vector_policy_uses_one_treedef() -> None:
    _, treedef = jax.tree.flatten(Preset())
    traces = 0

    @jax.jit
    def algorithm_of(flat: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        preset = jax.tree.unflatten(treedef, Preset.array_to_leaves(flat))
        return preset.algorithm

    values = [int(algorithm_of(jnp.asarray(p.to_array()))) for p in _ten_presets()]
    assert traces == 1
    assert values == [p.algorithm for p in _ten_presets()]


def test_tree_map_keeps_a_preset() -> None:
    doubled = jax.tree.map(lambda x: x * 0 + 1, Preset())
    assert isinstance(doubled, Preset)
    assert float(doubled.algorithm) == 1.0


@pytest.mark.parametrize("jax_first", [False, True])
def test_registration_whatever_the_import_order(jax_first: bool) -> None:
    """dx7d never imports jax itself; Preset is a PyTree once the program imports it."""
    import subprocess
    import sys

    lines = ["import sys", "from dx7d.voices import Preset",
             "assert 'jax' not in sys.modules, 'dx7d imported jax'", "import jax"]
    if jax_first:
        lines = ["import jax", "from dx7d.voices import Preset"]
    lines.append("print(len(jax.tree.leaves(Preset())))")
    done = subprocess.run([sys.executable, "-c", "\n".join(lines)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "28"


def test_dx7d_engine_cpp_does_not_import_jax() -> None:
    import subprocess
    import sys

    code = "import sys, dx7d.engine_cpp, dx7d.voices; print('jax' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
