"""JaxRenderer: jax.pure_callback with a vmap method, so jax.vmap makes one batch call."""

from __future__ import annotations

import numpy as np
import pytest
from dx7d.engine_cpp import JaxRenderer, render_batch
from dx7d.voices import Preset

jax = pytest.importorskip("jax", reason="jax is the optional 'ml' extra")
jnp = jax.numpy


def _flat_batch(n: int) -> np.ndarray:
    rng = np.random.default_rng(64)
    out = np.stack([Preset().to_array() for _ in range(n)])
    out[:, :123] = rng.random((n, 123), dtype=np.float32)
    out[:, 125] = rng.integers(0, 32, n)
    return out


def test_vmap_of_64_presets_is_one_batch_call() -> None:
    render = JaxRenderer(note_duration=0.1, render_duration=0.2)
    flat = _flat_batch(64)
    audio = jax.jit(jax.vmap(render))(jnp.asarray(flat))
    assert audio.shape == (64, 8820) and audio.dtype == jnp.float32
    assert render.calls == 1
    assert np.array_equal(np.asarray(audio), render_batch(flat, 60, 100, 0.1, 0.2))


def test_vmap_over_notes_and_velocities() -> None:
    render = JaxRenderer(note_duration=0.1, render_duration=0.1)
    flat = _flat_batch(8)
    notes = jnp.arange(40, 48)
    velocities = jnp.full(8, 90)
    audio = jax.vmap(render)(jnp.asarray(flat), notes, velocities)
    assert render.calls == 1
    assert np.array_equal(np.asarray(audio),
                          render_batch(flat, np.arange(40, 48), 90, 0.1, 0.1))


def test_one_preset_pytree_under_jit() -> None:
    render = JaxRenderer(note_duration=0.1, render_duration=0.2)
    traces = 0

    @jax.jit
    def f(preset: Preset) -> jax.Array:
        nonlocal traces
        traces += 1
        return render(preset)

    for algorithm in (0, 15, 31):
        audio = f(Preset(algorithm=algorithm, feedback=0.5))
        assert audio.shape == (8820,)
        expected = render_batch([Preset(algorithm=algorithm, feedback=0.5)], 60, 100, 0.1, 0.2)
        assert np.array_equal(np.asarray(audio), expected[0])
    assert traces == 1 and render.calls == 3


def test_nested_vmap_is_still_one_call() -> None:
    render = JaxRenderer(note_duration=0.05, render_duration=0.05)
    flat = _flat_batch(12).reshape(3, 4, 145)
    audio = jax.vmap(jax.vmap(render))(jnp.asarray(flat))
    assert audio.shape == (3, 4, 2205) and render.calls == 1
