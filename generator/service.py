"""Generation inside the daemon: what ``POST /generate`` calls.

``GenerationService.generate_json(body)`` parses the request ({"style", "seed",
"temperature"}, all optional), generates a screened cartridge in the calling thread
(the control interface's request thread: never the dispatcher or the audio thread,
so MIDI keeps playing) and returns it with its report. One generation runs at a time;
the model is loaded on first use. Storing the cartridge is the caller's business (the
dispatcher's atomic store with a backup, as for a dump).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from .generate import Cartridge, generate
from .model import Model
from .sound import Listener

__all__ = ["GenerationBusy", "GenerationRequest", "GenerationService", "parse_request"]

log = logging.getLogger("dx7d.generator")


class GenerationBusy(Exception):
    """Another generation is running."""


@dataclass(frozen=True)
class GenerationRequest:
    style: str | None = None
    seed: int | None = None
    temperature: float = 1.0


def parse_request(body: bytes) -> GenerationRequest:
    """The JSON body of POST /generate (empty: all defaults); ValueError says what's wrong."""
    if not body.strip():
        return GenerationRequest()
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError("the body must be a JSON object with style, seed, temperature")
    unknown = sorted(set(doc) - {"style", "seed", "temperature"})
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}: allowed style, seed, temperature")
    style, seed, temp = doc.get("style"), doc.get("seed"), doc.get("temperature", 1.0)
    if style is not None and not isinstance(style, str):
        raise ValueError("style must be a string (a category) or null")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed < 2**63):
        raise ValueError("seed must be an integer 0 to 2^63-1 or null")
    if isinstance(temp, bool) or not isinstance(temp, (int, float)) or not 0.05 <= temp <= 3:
        raise ValueError("temperature must be a number from 0.05 to 3")
    return GenerationRequest(style, seed, float(temp))


class GenerationService:
    """Loads the model once, generates one cartridge at a time."""

    def __init__(self, model_path: str | None) -> None:
        self.model_path = model_path
        self._model: Model | None = None
        self._listener: Listener | None = None
        self._lock = threading.Lock()

    def generate(self, request: GenerationRequest) -> tuple[Cartridge, int]:
        """(cartridge, seed used); GenerationBusy when one is running, ValueError for an
        unknown style, dx7d.generator.ModelError for a bad model file."""
        if not self._lock.acquire(blocking=False):
            raise GenerationBusy("a cartridge is being generated; try again in a few seconds")
        try:
            if self._model is None:
                self._model = Model.load(self.model_path)
                self._listener = Listener()  # its own engine, never the daemon's
            self._model.style_index(request.style)
            seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
            started = time.perf_counter()
            cart = generate(self._model, style=request.style, seed=seed,
                            temperature=request.temperature, listener=self._listener)
            log.info("generated a cartridge in %.1f s (seed %d, style %s): %d of %d "
                     "candidates passed", time.perf_counter() - started, seed,
                     request.style or "any", cart.passed, cart.candidates)
            return cart, seed
        finally:
            self._lock.release()

    def describe(self, cart: Cartridge, seed: int) -> dict[str, Any]:
        """The JSON reply's report part."""
        return {"seed": seed, "candidates": cart.candidates, "passed": cart.passed,
                "voices": [{"name": c.name, "category": c.category,
                            "nearest": (cart.corpus_names[c.nearest] if c.nearest >= 0
                                        else None),
                            "differs": c.nearest_differs,
                            **(c.sound.figures() if c.sound is not None else {})}
                           for c in cart.voices]}
