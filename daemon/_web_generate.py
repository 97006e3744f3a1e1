"""Generation routes of the control interface (dx7d.generator behind them).

    GET  /generator                     is there a generator; its styles, figures, knobs
    POST /generate[?store=0]            generate a listened-to cartridge (JSON body: style,
                                        seed, temperature; all optional) and store it like
                                        PUT /cartridge; with store=0 keep it for the page only
    GET  /generated/{id}.syx            a kept cartridge as a 4104-byte dump
    GET  /generated/{id}/{n}/audition.wav, /generated/{id}/{n}/table   one of its voices
    POST /generated/{id}/{n}/edit       make that voice the edit buffer (the knobs' centre)
    POST /generated/{id}/send           store the kept cartridge on the module (with a backup)
    POST /knobs                         {"dimension": 1-8, "value": -3..3 sigma}: move one
                                        latent knob around the edit voice, which sounds at once

Generation runs on a worker thread (never the dispatcher or the audio thread, so MIDI
keeps playing), one at a time (dx7d.generator.service); only storing goes through the
dispatcher. A knob move is decoded in the dispatcher thread, as a MIDI knob's is.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections import OrderedDict
from typing import Any

from aiohttp import web
from dx7d.voices import Patch, bank_dump

from . import control
from ._web_voice import voice_table

__all__ = ["FIGURES_SHOWN", "add_routes"]

KEPT = 4  # generated cartridges kept for the page (newest), each ~100 KB with its report
FIGURES_SHOWN = ("level_db", "brightness", "attack_s", "decay_s", "flatness", "pitch")
KNOB_SIGMA = 3.0  # a slider's travel: -3..+3 sigma around the centre


class _Panel:
    """The generator as the page sees it: the model (loaded once), what its knobs do, the
    cartridges generated for the page, and the knobs around the edit voice."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.model: Any = None
        self.failure: str | None = None
        self.knob_lines: list[str] | None = None
        self.knobs: Any = None  # daemon.knobs.LatentKnobs, one pseudo-CC per dimension
        self.kept: OrderedDict[str, tuple[Any, int]] = OrderedDict()

    def load(self, service: Any) -> Any:
        """The model (worker thread); None with ``failure`` set when it cannot be used."""
        with self.lock:
            if self.model is None and self.failure is None:
                try:
                    from dx7d.generator.model import Model

                    from .knobs import LatentKnobs

                    self.model = Model.load(service.model_path)
                    self.knobs = LatentKnobs(self.model, {d: d for d in
                                                          range(self.model.latent)})
                except Exception as exc:  # ModelError, a missing optional part
                    self.failure = str(exc)
            return self.model

    def describe_knobs(self) -> list[str]:
        """One line per dimension, measured on renders once (explain's sweeps)."""
        with self.lock:
            if self.knob_lines is None:
                from dx7d.generator.explain import describe, sweep
                from dx7d.generator.sound import Listener

                listener = Listener()
                sweeps = [sweep(self.model, d, listener, steps=12)
                          for d in range(self.model.latent)]
                self.knob_lines = [line.split(": ", 1)[-1].split(" [")[0]
                                   for line in describe(sweeps)]
            return self.knob_lines

    def keep(self, cart: Any, seed: int) -> str:
        key = secrets.token_hex(6)
        self.kept[key] = (cart, seed)
        while len(self.kept) > KEPT:
            self.kept.popitem(last=False)
        return key


_PANEL = web.AppKey("dx7d-generator-panel", _Panel)


def _service(request: web.Request) -> Any:
    service = request.app[control.CONTEXT].generator
    if service is None:
        raise control._Refused(404, "no generator in this daemon", close=False)
    return service


async def _model(request: web.Request) -> tuple[_Panel, Any]:
    panel = request.app[_PANEL]
    service = _service(request)
    loop = asyncio.get_running_loop()
    model = await loop.run_in_executor(None, panel.load, service)
    if model is None:
        raise control._Refused(503, f"the generator's model cannot be used: {panel.failure}",
                               close=False)
    return panel, model


async def _generator(request: web.Request) -> web.StreamResponse:
    from dx7d.generator.model import STYLES

    try:
        panel, model = await _model(request)
    except control._Refused as refusal:
        return control.json_response(200, {"available": False, "reason": str(refusal)})
    loop = asyncio.get_running_loop()
    lines = await loop.run_in_executor(None, panel.describe_knobs)
    return control.json_response(200, {
        "available": True, "styles": list(STYLES), "latent": model.latent,
        "figures": list(FIGURES_SHOWN),
        "knobs": [{"dimension": d + 1, "label": f"dimension {d + 1}", "what": lines[d],
                   "min": -KNOB_SIGMA, "max": KNOB_SIGMA} for d in range(model.latent)]})


def _report(service: Any, cart: Any, seed: int, key: str) -> dict[str, Any]:
    doc: dict[str, Any] = service.describe(cart, seed)
    for number, (voice, candidate) in enumerate(zip(doc["voices"], cart.voices,
                                                    strict=True), start=1):
        figures = candidate.sound.figures() if candidate.sound is not None else {}
        voice.update(number=number, algorithm=cart.bank[number - 1].algorithm + 1,
                     figures={k: figures[k] for k in FIGURES_SHOWN if k in figures})
    doc.update(id=key, figures=list(FIGURES_SHOWN))
    return doc


async def _store(ctx: Any, bank: Any) -> list[str]:
    dispatcher = ctx.dispatcher

    def apply() -> None:
        dispatcher.store_bank(bank)  # SysexError when memory_protect is on
        dispatcher.stats.sysex_accepted += 1

    await ctx.run(apply)
    return [p.name for p in bank]


async def _generate(request: web.Request) -> web.StreamResponse:
    from dx7d.generator.service import GenerationBusy, parse_request
    from dx7d.voices import SysexError

    service = _service(request)
    body = b"" if request.content_length in (None, 0) else await control.read_body(request)
    store = request.query.get("store", "1") not in ("0", "false", "no")
    try:
        wanted = parse_request(body)
    except ValueError as exc:
        return control.error_response(400, str(exc))
    loop = asyncio.get_running_loop()
    try:
        cart, seed = await loop.run_in_executor(None, service.generate, wanted)
    except GenerationBusy as exc:
        return control.error_response(503, str(exc),
                                      headers={"Retry-After": str(control.RETRY_AFTER_S)})
    except (ValueError, RuntimeError) as exc:  # unknown style, a bad model
        return control.error_response(400, str(exc))
    panel = request.app[_PANEL]
    doc = _report(service, cart, seed, panel.keep(cart, seed))
    if store:
        try:
            doc["stored"] = await _store(request.app[control.CONTEXT], cart.bank)
        except SysexError as exc:  # memory protect
            return control.error_response(409, str(exc))
    return control.json_response(200, doc)


def _kept(request: web.Request) -> Any:
    key = request.match_info["id"]
    found = request.app[_PANEL].kept.get(key)
    if found is None:
        raise control._Refused(404, f"no generated cartridge {key!r} (the last {KEPT} are "
                                    "kept)", close=False)
    return found[0]


def _kept_voice(request: web.Request) -> Patch:
    cart = _kept(request)
    text = request.match_info["n"]
    if not (text.isascii() and text.isdigit() and len(text) <= 2 and 1 <= int(text) <= 32):
        raise control._Refused(400, f"voice {text!r}: allowed 1-32")
    patch: Patch = cart.bank[int(text) - 1]
    return patch


async def _kept_syx(request: web.Request) -> web.StreamResponse:
    return web.Response(body=bank_dump(_kept(request).bank, 0),
                        content_type="application/octet-stream")


async def _kept_audition(request: web.Request) -> web.StreamResponse:
    from ._web import audition

    return await audition(request, _kept_voice(request))


async def _kept_table(request: web.Request) -> web.StreamResponse:
    return control.json_response(200, voice_table(_kept_voice(request)))


async def _kept_edit(request: web.Request) -> web.StreamResponse:
    patch = _kept_voice(request)
    ctx = request.app[control.CONTEXT]
    await ctx.run(lambda: ctx.dispatcher.load_voice(patch))
    return control.json_response(200, {"voice": patch.name})


async def _kept_send(request: web.Request) -> web.StreamResponse:
    from dx7d.voices import SysexError

    cart = _kept(request)
    try:
        names = await _store(request.app[control.CONTEXT], cart.bank)
    except SysexError as exc:
        return control.error_response(409, str(exc))
    return control.json_response(200, {"stored": names})


async def _knob(request: web.Request) -> web.StreamResponse:
    panel, model = await _model(request)
    try:
        doc = json.loads(await control.read_body(request))
        dimension, value = doc["dimension"], doc["value"]
        if isinstance(dimension, bool) or not isinstance(dimension, int) \
                or not 1 <= dimension <= model.latent:
            raise ValueError(f"dimension must be 1-{model.latent}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not -KNOB_SIGMA <= value <= KNOB_SIGMA:
            raise ValueError(f"value must be a number from {-KNOB_SIGMA:g} to {KNOB_SIGMA:g}")
    except (ValueError, KeyError, TypeError) as exc:
        return control.error_response(400, f"POST /knobs takes {{\"dimension\": 1-"
                                           f"{model.latent}, \"value\": sigma}}: {exc}")
    ctx = request.app[control.CONTEXT]
    dispatcher = ctx.dispatcher
    cc_value = 64 + float(value) / KNOB_SIGMA * 64  # the knobs' 0-127 scale, 64 = centre

    def move() -> tuple[str, int | None]:
        patch, changed = panel.knobs.move(dimension - 1, cc_value, dispatcher.edit_buffer)
        dispatcher.edit_buffer = patch
        dispatcher.engine.load_patch(patch)
        if changed is not None:  # sounding notes take the new voice at once
            dispatcher.engine.voice_parameter(changed, patch.get_param(changed))
        dispatcher._dirty_edit = True  # written with the next flush, like a MIDI knob's
        return patch.name, changed

    name, changed = await ctx.run(move)
    return control.json_response(200, {"name": name, "changed": changed,
                                       "move_ms": round(panel.knobs.last_move_s * 1000, 2)})


def add_routes(app: web.Application) -> None:
    app[_PANEL] = _Panel()
    app.router.add_get("/generator", _generator, allow_head=False)
    app.router.add_post("/generate", _generate)
    app.router.add_get("/generated/{id}.syx", _kept_syx, allow_head=False)
    app.router.add_get("/generated/{id}/{n}/audition.wav", _kept_audition, allow_head=False)
    app.router.add_get("/generated/{id}/{n}/table", _kept_table, allow_head=False)
    app.router.add_post("/generated/{id}/{n}/edit", _kept_edit)
    app.router.add_post("/generated/{id}/send", _kept_send)
    app.router.add_post("/knobs", _knob)
