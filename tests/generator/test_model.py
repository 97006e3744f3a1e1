"""The model trained with JAX, used with numpy: same decode, files that load, generation
that listens, names, fine-tuning that moves the style."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dx7d.generator.corpus import CATEGORIES, Corpus
from dx7d.generator.evaluate import baseline_accuracy, reconstruction_accuracy
from dx7d.generator.generate import NEAR_COPY_PARAMETERS, generate
from dx7d.generator.model import ANY_STYLE, STYLES, Model, ModelError
from dx7d.generator.names import NAME_CHARS
from dx7d.voices import Bank, BankDump, parse_sysex


def test_numpy_decode_equals_jax_decode(small_model: Model, rng: np.random.Generator) -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    from dx7d.generator._params import decode_outputs
    from dx7d.generator.train import jax_decode

    z = rng.standard_normal((64, small_model.latent)).astype(np.float32)
    styles = rng.integers(0, len(STYLES), 64)
    ours = small_model.decode_raw(z, styles)
    weights = {k: jnp.asarray(v) for k, v in small_model.weights.items()}
    theirs = np.asarray(jax.jit(jax_decode, static_argnums=1)(
        weights, small_model.layers, jnp.asarray(z), jnp.eye(len(STYLES))[styles]))
    assert np.allclose(ours, theirs, atol=1e-4, rtol=1e-4)
    assert (decode_outputs(ours) == decode_outputs(theirs)).mean() > 0.999


def test_model_file_round_trip_and_bad_files(small_model: Model, tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    small_model.save(path)
    again = Model.load(path)
    z = np.zeros((1, small_model.latent), np.float32)
    assert np.array_equal(again.decode(z), small_model.decode(z))
    assert again.meta["train"]["voices"] == small_model.meta["train"]["voices"]
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match=r"bad\.npz"):
        Model.load(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match=r"unknown style .polka."):
        small_model.style_index("polka")


def test_held_out_reconstruction_beats_the_most_common_value(small_model: Model,
                                                             small_corpus: Corpus) -> None:
    acc = reconstruction_accuracy(small_model, small_corpus.voices).mean()
    base = baseline_accuracy(small_corpus.voices, small_corpus.voices).mean()
    assert acc > base + 0.01, (acc, base)


def test_a_generated_cartridge_is_listened_to_named_and_reproducible(
        small_model: Model) -> None:
    cart = generate(small_model, seed=5)
    data = cart.to_syx()
    assert len(data) == 4104
    assert isinstance(parse_sysex(data), BankDump)
    assert len(cart.voices) == 32 and all(c.passed for c in cart.voices)
    assert all(c.nearest_differs >= NEAR_COPY_PARAMETERS for c in cart.voices)
    names = [p.name.strip() for p in Bank.from_syx(data)]
    assert len(set(n.upper() for n in names)) == 32
    assert all(set(n) <= set(NAME_CHARS) and 3 <= len(n) <= 10 for n in names)
    corpus_names = {n.strip().upper() for n in small_model.corpus_names}
    assert not corpus_names & {n.upper() for n in names}
    assert len({bytes(p.to_vced()[:145]) for p in Bank.from_syx(data)}) == 32
    assert all(c.category in CATEGORIES for c in cart.voices)
    assert generate(small_model, seed=5).to_syx() == data
    assert generate(small_model, seed=6).to_syx() != data
    lines = cart.report_lines()
    assert len(lines) == 34 and "passed every screen" in lines[-1]


def test_fine_tuning_on_32_voices_moves_generation_towards_them(
        small_model: Model, small_corpus: Corpus) -> None:
    pytest.importorskip("jax")
    from dx7d.generator.generate import differing_parameters
    from dx7d.generator.train import TrainConfig, train

    bass = np.flatnonzero(small_corpus.categories == CATEGORIES.index("bass"))
    pick = bass[:32] if len(bass) >= 32 else np.arange(32)
    mine = small_corpus.subset(np.isin(np.arange(len(small_corpus)), pick))
    tuned = train(mine, TrainConfig(epochs=400, batch=32, learning_rate=2e-3),
                  start=small_model, progress=False).model
    z = np.random.default_rng(0).standard_normal((64, tuned.latent)).astype(np.float32)

    def closeness(model: Model) -> float:
        return float(np.mean([differing_parameters(v, mine.voices).min()
                              for v in model.decode(z, ANY_STYLE)]))

    before, after = closeness(small_model), closeness(tuned)
    assert after < before - 10, (before, after)
    assert len(tuned.corpus_voices) == len(small_model.corpus_voices) + len(mine)
