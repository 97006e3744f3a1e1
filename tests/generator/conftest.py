"""Shared fixtures: a corpus of a few hundred real voices and a small model trained on it
with JAX (once per session; skipped without ../shared/banks or without JAX)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dx7d.generator.corpus import Corpus, build_corpus
from dx7d.generator.model import Model

# a few folders of the public library: ~400 unique voices of many kinds
SMALL_SET = ("Original Yamaha/DX7 ROM1", "Original Yamaha/DX7 ROM2", "Original Yamaha/DX7 ROM3",
             "Original Yamaha/DX7 ROM4", "Ray", "Sonus")


@pytest.fixture(scope="session")
def small_corpus(shared_banks: Path) -> Corpus:
    library = shared_banks / "library"
    folders = [library / f for f in SMALL_SET if (library / f).is_dir()]
    if not folders:
        pytest.skip(f"none of {SMALL_SET} under {library}")
    corpus, _ = build_corpus(folders)
    assert len(corpus) >= 200, len(corpus)
    return corpus


@pytest.fixture(scope="session")
def small_model(small_corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Model:
    pytest.importorskip("jax", reason="training needs the 'train' extra (JAX, optax)")
    from dx7d.generator.train import TrainConfig, train

    result = train(small_corpus, TrainConfig(hidden=(96, 96), epochs=60, batch=64, seed=1),
                   progress=False)
    assert result.history[-1] < result.history[0], result.history  # it learned something
    path = tmp_path_factory.mktemp("model") / "small.npz"
    result.model.save(path)
    return Model.load(path)


@pytest.fixture(scope="session")
def rng() -> np.random.Generator:
    return np.random.default_rng(12)
