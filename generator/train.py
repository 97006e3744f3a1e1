"""Training the VAE with JAX and optax (the optional extra ``train``).

``train(corpus)`` fits a model from scratch; ``train(corpus, start=model)`` fine-tunes
one (a user's own 32 voices are enough to move it). A tqdm bar shows the loss and the
time left. The result is a plain-numpy :class:`Model` (see model.py).

Loss per voice: the negative log-likelihood of its 145 parameters (categorical
heads: softmax cross-entropy; 0-99 heads: a discretised logistic) plus beta times the
KL divergence of the latent from N(0, 1); beta rises from 0 over the first fifth of
the steps so the decoder learns to use the latent before it is squeezed.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ._params import (
    CAT_INDEX,
    CAT_OFFSETS,
    CAT_SIZES,
    INPUT_SIZE,
    NORD,
    ORD_COMPONENTS,
    ORD_INDEX,
    ORD_MAX,
    OUTPUT_SIZE,
    encode_inputs,
    ordinal_parts,
)
from .corpus import CATEGORIES, Corpus
from .model import ANY_STYLE, STYLES, Model
from .names import NameModel

__all__ = ["TrainConfig", "TrainResult", "init_weights", "loss_terms", "train"]

STYLE_DROP = 0.5  # chance a voice's category is replaced by "any" while training
_CAT_WIDTH = int(CAT_OFFSETS[-1])


@dataclass
class TrainConfig:
    latent: int = 8
    hidden: tuple[int, ...] = (256, 256)
    epochs: int = 60
    batch: int = 256
    learning_rate: float = 1e-3
    beta: float = 1.0
    seed: int = 0


@dataclass
class TrainResult:
    model: Model
    seconds: float
    steps: int
    final_loss: float
    history: list[float]  # mean loss per epoch


def _jax() -> Any:
    try:
        import jax
    except ImportError:  # pragma: no cover - depends on the install
        raise SystemExit("training needs JAX and optax: pip install 'dx7d[train]'") from None
    return jax


def init_weights(rng: np.random.Generator, latent: int, hidden: tuple[int, ...]
                 ) -> dict[str, npt.NDArray[np.float32]]:
    """Glorot-uniform weights, zero biases."""
    def dense(n_in: int, n_out: int) -> npt.NDArray[np.float32]:
        limit = math.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32)

    w: dict[str, npt.NDArray[np.float32]] = {}
    sizes = [INPUT_SIZE + len(STYLES), *hidden]
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        w[f"enc_w{i}"], w[f"enc_b{i}"] = dense(a, b), np.zeros(b, np.float32)
    w["enc_wmu"], w["enc_bmu"] = dense(hidden[-1], latent) * 0.1, np.zeros(latent, np.float32)
    w["enc_wlv"], w["enc_blv"] = dense(hidden[-1], latent) * 0.1, np.zeros(latent, np.float32)
    sizes = [latent + len(STYLES), *hidden[::-1]]
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        w[f"dec_w{i}"], w[f"dec_b{i}"] = dense(a, b), np.zeros(b, np.float32)
    w["dec_wout"], w["dec_bout"] = dense(hidden[0], OUTPUT_SIZE), np.zeros(OUTPUT_SIZE,
                                                                           np.float32)
    # the mixture's means start spread over the range (else the components stay alike)
    block = NORD * ORD_COMPONENTS
    start = np.linspace(-0.8, 0.8, ORD_COMPONENTS, dtype=np.float32)
    w["dec_bout"][_CAT_WIDTH + block:_CAT_WIDTH + 2 * block] = np.tile(start, NORD)
    return w


# (heads, widest) gather table of the categorical logits; padding points at column 0
# and is masked out
_WIDEST = int(CAT_SIZES.max())
_GATHER = np.zeros((len(CAT_INDEX), _WIDEST), dtype=np.int32)
_MASK = np.zeros((len(CAT_INDEX), _WIDEST), dtype=bool)
for _k, _n in enumerate(CAT_SIZES):
    _GATHER[_k, :_n] = CAT_OFFSETS[_k] + np.arange(_n)
    _MASK[_k, :_n] = True


def loss_terms(jnp: Any, jax: Any, out: Any, voices: Any) -> tuple[Any, Any]:
    """Per-voice NLL of the categorical and the ordinal parameters (two (N,) arrays).

    ``out`` is the decoder output (N, OUTPUT_SIZE), ``voices`` the int32 (N, 145) voices.
    """
    logits = jnp.where(_MASK[None], out[:, _GATHER], -1e9)
    target = voices[:, CAT_INDEX]
    log_p = jax.nn.log_softmax(logits, axis=-1)
    cat_nll = -jnp.take_along_axis(log_p, target[:, :, None], axis=-1)[..., 0].sum(axis=1)

    x = voices[:, ORD_INDEX].astype(jnp.float32)[:, :, None]  # (N, NORD, 1)
    logits_w, mu, log_s = ordinal_parts(jnp, out)  # (N, NORD, K)
    s = jnp.exp(log_s)
    upper = (x + 0.5 - mu) / s
    lower = (x - 0.5 - mu) / s
    mass = jax.nn.sigmoid(upper) - jax.nn.sigmoid(lower)
    centre = (x - mu) / s
    log_pdf = -centre - 2.0 * jax.nn.softplus(-centre) - log_s  # mass ~ pdf * 1 step
    middle = jnp.where(mass > 1e-5, jnp.log(jnp.maximum(mass, 1e-12)), log_pdf)
    log_p_ord = jnp.where(x <= 0, jax.nn.log_sigmoid(upper),
                          jnp.where(x >= ORD_MAX, jax.nn.log_sigmoid(-lower), middle))
    log_w = jax.nn.log_softmax(logits_w, axis=2)
    mixture = jax.scipy.special.logsumexp(log_w + log_p_ord, axis=2)
    return cat_nll, -mixture.sum(axis=1)


def _mlp(jnp: Any, jax: Any, w: Any, prefix: str, x: Any, layers: int) -> Any:
    h = x
    for i in range(layers):
        h = jax.nn.silu(h @ w[f"{prefix}_w{i}"] + w[f"{prefix}_b{i}"])
    return h


def jax_decode(w: Any, layers: int, z: Any, style_one_hot: Any) -> Any:
    """The decoder in JAX (the test checks numpy's equals it)."""
    jax = _jax()
    import jax.numpy as jnp

    h = _mlp(jnp, jax, w, "dec", jnp.concatenate([z, style_one_hot], axis=1), layers)
    return h @ w["dec_wout"] + w["dec_bout"]


def train(corpus: Corpus, config: TrainConfig | None = None, start: Model | None = None,
          progress: bool = True, desc: str = "training") -> TrainResult:
    """Fit (or, from ``start``, fine-tune) a model on every voice of ``corpus``."""
    jax = _jax()
    import jax.numpy as jnp
    import optax

    cfg = config or TrainConfig()
    if len(corpus) == 0:
        raise ValueError("the corpus has no voices to train on")
    rng = np.random.default_rng(cfg.seed)
    if start is not None:
        weights = {k: v.copy() for k, v in start.weights.items()}
        latent, hidden = start.latent, tuple(start.meta["hidden"])
    else:
        latent, hidden = cfg.latent, tuple(cfg.hidden)
        weights = init_weights(rng, latent, hidden)
    layers = len(hidden)
    x_all = encode_inputs(corpus.voices)
    v_all = corpus.voices.astype(np.int32)
    c_all = corpus.categories.astype(np.int32)
    n = len(corpus)
    batch = min(cfg.batch, n)
    steps_per_epoch = max(1, n // batch)
    total = cfg.epochs * steps_per_epoch
    warmup = max(1, total // 5)
    schedule = optax.cosine_decay_schedule(cfg.learning_rate, total, alpha=0.05)
    opt = optax.adam(schedule)
    params = jax.tree_util.tree_map(jnp.asarray, weights)
    opt_state = opt.init(params)
    eye = jnp.eye(len(STYLES), dtype=jnp.float32)

    def loss_fn(p: Any, x: Any, v: Any, style: Any, eps: Any, beta: Any) -> Any:
        s = eye[style]
        h = _mlp(jnp, jax, p, "enc", jnp.concatenate([x, s], axis=1), layers)
        mu = h @ p["enc_wmu"] + p["enc_bmu"]
        lv = jnp.clip(h @ p["enc_wlv"] + p["enc_blv"], -10.0, 5.0)
        z = mu + jnp.exp(0.5 * lv) * eps
        out = jax_decode(p, layers, z, s)
        cat_nll, ord_nll = loss_terms(jnp, jax, out, v)
        kl = 0.5 * jnp.sum(mu * mu + jnp.exp(lv) - 1.0 - lv, axis=1)
        return jnp.mean(cat_nll + ord_nll + beta * kl), jnp.mean(kl)

    @jax.jit
    def step(p: Any, state: Any, x: Any, v: Any, style: Any, eps: Any, beta: Any) -> Any:
        (loss, kl), grads = jax.value_and_grad(loss_fn, has_aux=True)(p, x, v, style, eps, beta)
        updates, state = opt.update(grads, state, p)
        return optax.apply_updates(p, updates), state, loss, kl

    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="step", disable=not progress, dynamic_ncols=True)
    history: list[float] = []
    started = time.perf_counter()
    done = 0
    loss_value = float("nan")
    for _ in range(cfg.epochs):
        order = rng.permutation(n)
        epoch_losses = []
        for k in range(steps_per_epoch):
            idx = order[k * batch:(k + 1) * batch]
            style = np.where(rng.random(len(idx)) < STYLE_DROP, ANY_STYLE, c_all[idx])
            eps = rng.standard_normal((len(idx), latent)).astype(np.float32)
            beta = cfg.beta * min(1.0, (done + 1) / warmup)
            params, opt_state, loss, kl = step(params, opt_state, x_all[idx], v_all[idx],
                                               style.astype(np.int32), eps, np.float32(beta))
            done += 1
            if done % 10 == 0 or done == total:
                loss_value = float(loss)
                epoch_losses.append(loss_value)
                bar.set_postfix(loss=f"{loss_value:.1f}", kl=f"{float(kl):.1f}")
            bar.update(1)
        if epoch_losses:
            history.append(float(np.mean(epoch_losses)))
    bar.close()
    seconds = time.perf_counter() - started
    final = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
    meta: dict[str, Any] = {
        "format": 1, "latent": latent, "hidden": list(hidden), "styles": list(STYLES),
        "categories": list(CATEGORIES),
        "train": {"voices": n, "epochs": cfg.epochs, "batch": batch, "steps": done,
                  "learning_rate": cfg.learning_rate, "beta": cfg.beta, "seed": cfg.seed,
                  "seconds": round(seconds, 1), "final_loss": round(loss_value, 2),
                  "fine_tuned": start is not None},
    }
    if start is not None:
        meta["base"] = start.meta.get("train", {})
    model = Model(weights=final, meta=meta)
    names = corpus.names if start is None else [*corpus.names, *start.corpus_names]
    model.names_model = {"counts": NameModel.train(names).counts}
    voices = corpus.voices if start is None else np.concatenate(
        [corpus.voices, start.corpus_voices])
    cats = corpus.categories if start is None else np.concatenate(
        [corpus.categories, start.corpus_categories])
    model.corpus_voices = voices
    model.corpus_names = [n[:10] for n in names]
    model.corpus_categories = cats
    model.corpus_latents = model.encode(voices)
    return TrainResult(model, seconds, done, loss_value, history)
