"""The VAE's weights and its plain-numpy inference (no JAX needed to generate).

A model file is one .npz: the encoder and decoder MLP weights (``enc_*``, ``dec_*``),
``meta`` (JSON: latent size, hidden sizes, styles, training summary), the names of
the character model (``names_*``) and the training corpus it must not copy
(``corpus_voices``, ``corpus_names``, ``corpus_categories``, ``corpus_latents``).

Both networks take a style one-hot: the categories of dx7d.generator.corpus plus a
last "any" style (training drops the category to "any" half of the time, so the
model generates without one too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ._params import INPUT_SIZE, OUTPUT_SIZE, VOICE_PARAMS, decode_outputs, encode_inputs
from .corpus import CATEGORIES

__all__ = ["ANY_STYLE", "DEFAULT_MODEL", "STYLES", "Model", "ModelError", "default_model_path",
           "forward_decoder", "forward_encoder", "silu"]

STYLES: Final = (*CATEGORIES, "any")
ANY_STYLE: Final = len(STYLES) - 1
DEFAULT_MODEL: Final = "default_model.npz"

Weights = dict[str, npt.NDArray[np.float32]]


class ModelError(ValueError):
    """A model file that cannot be used (what is wrong and which file)."""


def silu(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """x * sigmoid(x), the hidden layers' activation (same formula as training)."""
    out: npt.NDArray[np.float32] = (x / (1.0 + np.exp(-x))).astype(np.float32, copy=False)
    return out


def _mlp(w: Weights, prefix: str, x: npt.NDArray[np.float32], layers: int
         ) -> npt.NDArray[np.float32]:
    h = x
    for i in range(layers):
        h = silu(h @ w[f"{prefix}_w{i}"] + w[f"{prefix}_b{i}"])
    return h


def _one_hot_style(style: npt.ArrayLike, n: int) -> npt.NDArray[np.float32]:
    s = np.broadcast_to(np.asarray(style, dtype=np.int64), (n,))
    out = np.zeros((n, len(STYLES)), dtype=np.float32)
    out[np.arange(n), s] = 1.0
    return out


def forward_encoder(w: Weights, layers: int, x: npt.NDArray[np.float32], style: npt.ArrayLike
                    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Encoder inputs (N, INPUT_SIZE) -> latent mean and log variance (N, latent)."""
    h = _mlp(w, "enc", np.concatenate([x, _one_hot_style(style, x.shape[0])], axis=1), layers)
    return h @ w["enc_wmu"] + w["enc_bmu"], h @ w["enc_wlv"] + w["enc_blv"]


def forward_decoder(w: Weights, layers: int, z: npt.NDArray[np.float32], style: npt.ArrayLike
                    ) -> npt.NDArray[np.float32]:
    """Latents (N, latent) -> decoder outputs (N, OUTPUT_SIZE)."""
    h = _mlp(w, "dec", np.concatenate([z, _one_hot_style(style, z.shape[0])], axis=1), layers)
    out: npt.NDArray[np.float32] = h @ w["dec_wout"] + w["dec_bout"]
    return out


def default_model_path() -> Path:
    """The shipped model (package data of dx7d.generator)."""
    return Path(str(resources.files("dx7d.generator").joinpath(DEFAULT_MODEL)))


@dataclass
class Model:
    """A trained generator: weights, metadata, the names model and its training corpus."""

    weights: Weights
    meta: dict[str, Any]
    names_model: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    corpus_voices: npt.NDArray[np.uint8] = field(
        default_factory=lambda: np.zeros((0, VOICE_PARAMS), dtype=np.uint8))
    corpus_names: list[str] = field(default_factory=list)
    corpus_categories: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64))
    corpus_latents: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros((0, 8), dtype=np.float32))

    @property
    def latent(self) -> int:
        return int(self.meta["latent"])

    @property
    def layers(self) -> int:
        return len(self.meta["hidden"])

    def style_index(self, style: str | None) -> int:
        """The style number of a category name (None or "any": no style)."""
        if style is None:
            return ANY_STYLE
        key = style.strip().lower()
        if key not in STYLES:
            raise ValueError(f"unknown style {style!r}: one of {', '.join(STYLES)}")
        return STYLES.index(key)

    def encode(self, voices: npt.ArrayLike, style: int = ANY_STYLE) -> npt.NDArray[np.float32]:
        """(N, 145) uint8 voices -> (N, latent) latent means."""
        mu, _ = forward_encoder(self.weights, self.layers, encode_inputs(voices), style)
        return mu

    def decode_raw(self, z: npt.ArrayLike, style: npt.ArrayLike = ANY_STYLE
                   ) -> npt.NDArray[np.float32]:
        zz = np.asarray(z, dtype=np.float32).reshape(-1, self.latent)
        return forward_decoder(self.weights, self.layers, zz, style)

    def decode(self, z: npt.ArrayLike, style: npt.ArrayLike = ANY_STYLE) -> npt.NDArray[np.uint8]:
        """(N, latent) latents -> (N, 145) uint8 voices (each parameter's most likely value)."""
        return decode_outputs(self.decode_raw(z, style))

    # -- files ----------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        # weights as float16: half the file, and decoding is unchanged at the voice level
        # (the numpy and JAX decoders both read the rounded weights back as float32)
        arrays: dict[str, Any] = {k: v.astype(np.float16) for k, v in self.weights.items()}
        arrays.update({f"names_{k}": v for k, v in self.names_model.items()})
        arrays["meta"] = np.array(json.dumps(self.meta))
        arrays["corpus_voices"] = self.corpus_voices.astype(np.uint8)
        arrays["corpus_names"] = np.array(self.corpus_names, dtype="U10")
        arrays["corpus_categories"] = self.corpus_categories.astype(np.int8)
        arrays["corpus_latents"] = self.corpus_latents.astype(np.float16)
        with open(path, "wb") as f:  # np.savez_compressed would add ".npz" to other names
            np.savez_compressed(f, **arrays)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Model:
        """A model file (None: the shipped default). ModelError when it is not one."""
        where = default_model_path() if path is None else Path(path)
        try:
            data = np.load(where, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelError(f"{where}: cannot read a generator model: {exc}") from None
        with data:
            if "meta" not in data:
                raise ModelError(f"{where}: not a dx7d generator model (no meta)")
            meta = json.loads(str(data["meta"]))
            weights = {k: data[k].astype(np.float32) for k in data.files
                       if k.startswith(("enc_", "dec_"))}
            model = cls(
                weights=weights, meta=meta,
                names_model={k[6:]: data[k] for k in data.files if k.startswith("names_")},
                corpus_voices=data["corpus_voices"].astype(np.uint8),
                corpus_names=[str(n) for n in data["corpus_names"]],
                corpus_categories=data["corpus_categories"].astype(np.int64),
                corpus_latents=data["corpus_latents"].astype(np.float32),
            )
        if tuple(meta.get("styles", ())) != STYLES:
            raise ModelError(f"{where}: trained with styles {meta.get('styles')}, not {STYLES}")
        w = model.weights
        if w.get("enc_w0") is None or w["enc_w0"].shape[0] != INPUT_SIZE + len(STYLES) \
                or w["dec_wout"].shape[1] != OUTPUT_SIZE:
            raise ModelError(f"{where}: weights do not fit this voice representation")
        return model
