"""The module's own page: its static files (package data, dx7d/daemon/web/) and the routes
it uses, on the control interface's listener and under its token and origin rules.

    GET  /                          the page (index.html); /web/<file>: its script, style
    GET  /algorithms                {"1": "<svg ...>", ... "32": ...}: the algorithm drawings
    GET  /cartridge/voices          the internal cartridge: number, name, algorithm, feedback
    GET  /cartridge/{n}/table       voice n's parameters, grouped and readable
    GET  /cartridge/{n}/audition.wav  one note of voice n, rendered offline (not played)
    POST /cartridge/{n}/select      play voice n of the internal cartridge (bank 0, program n)
    GET  /voice/table, /voice/audition.wav   the same for the edit buffer
    GET  /backups                   the kept cartridges (newest first) with their first names
    POST /backups/{name}/restore    make one the internal cartridge (the current one is kept)
    GET  /library?dir=SUB           storage.banks_dir: the sub-folders and banks of SUB
    GET  /library/{bank}/voices     the names in library bank {bank}
    POST /library/{bank}/load       make it the internal cartridge (with a backup)

Nothing here touches a path a client names: backups and banks are picked from the
lists the daemon made (Storage.backups(), Library.files), by name or number.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web
from dx7d.voices import Bank, Patch, SysexError

from . import control
from ._web_audio import Auditioner
from ._web_svg import algorithm_svg
from ._web_voice import bank_summary, voice_table

__all__ = ["STATIC_TYPES", "add_routes"]

log = logging.getLogger("dx7d.control")

STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css",
                ".svg": "image/svg+xml", ".ico": "image/x-icon", ".png": "image/png"}
BACKUP_NAMES_SHOWN = 4  # voice names listed per backup


@dataclass(frozen=True)
class _File:
    body: bytes
    content_type: str
    etag: str


def _static_files() -> dict[str, _File]:
    """The page's files, read once: name -> body, type and ETag."""
    files: dict[str, _File] = {}
    folder = resources.files("dx7d.daemon").joinpath("web")
    for entry in folder.iterdir():
        suffix = Path(entry.name).suffix
        if entry.is_file() and suffix in STATIC_TYPES:
            body = entry.read_bytes()
            charset = "; charset=utf-8" if suffix in (".html", ".js", ".css", ".svg") else ""
            files[entry.name] = _File(body, STATIC_TYPES[suffix] + charset,
                                      '"' + hashlib.sha256(body).hexdigest()[:20] + '"')
    return files


_AUDITIONER = web.AppKey("dx7d-auditioner", Auditioner)
_FILES = web.AppKey("dx7d-static", dict)


def _ctx(request: web.Request) -> Any:
    return request.app[control.CONTEXT]


def _number(request: web.Request, key: str, low: int, high: int) -> int:
    text = request.match_info[key]
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(high))
            and low <= int(text) <= high):
        raise control._Refused(400, f"{key} {text[:20]!r}: allowed {low}-{high}")
    return int(text)


# -- static files ----------------------------------------------------------------------------


def _serve_file(request: web.Request, name: str) -> web.StreamResponse:
    file = request.app[_FILES].get(name)
    if file is None:
        raise web.HTTPNotFound()
    headers = {"ETag": file.etag, "Cache-Control": "no-cache",
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
    if name.endswith(".html"):
        # the page runs only its own script and talks only to this module; no framing
        headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
            "style-src 'self'; script-src 'self'; connect-src 'self'; "
            "frame-ancestors 'none'; form-action 'none'; base-uri 'none'")
        headers["X-Frame-Options"] = "DENY"
    if request.headers.get("If-None-Match") == file.etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=file.body, headers={**headers, "Content-Type": file.content_type})


async def _index(request: web.Request) -> web.StreamResponse:
    return _serve_file(request, "index.html")


async def _static(request: web.Request) -> web.StreamResponse:
    return _serve_file(request, request.match_info["name"])


# -- the cartridge and the edit buffer -------------------------------------------------------


async def _algorithms(request: web.Request) -> web.StreamResponse:
    return control.json_response(200, {str(n): algorithm_svg(n, styled=False)
                                       for n in range(1, 33)})


async def _cartridge_voices(request: web.Request) -> web.StreamResponse:
    dispatcher = _ctx(request).dispatcher
    return control.json_response(200, {"voices": bank_summary(dispatcher.internal),
                                       "memory_protect": dispatcher.memory_protect})


def _cartridge_patch(request: web.Request) -> Patch:
    number = _number(request, "n", 1, 32)
    patch: Patch = _ctx(request).dispatcher.internal[number - 1]
    return patch


async def _cartridge_table(request: web.Request) -> web.StreamResponse:
    return control.json_response(200, voice_table(_cartridge_patch(request)))


async def audition(request: web.Request, patch: Patch) -> web.StreamResponse:
    """One note of ``patch`` as a WAV (rendered on a worker thread)."""
    auditioner = request.app[_AUDITIONER]
    wav = await asyncio.get_running_loop().run_in_executor(None, auditioner.wav, patch)
    return web.Response(body=wav, content_type="audio/wav",
                        headers={"Cache-Control": "no-store"})


async def _cartridge_audition(request: web.Request) -> web.StreamResponse:
    return await audition(request, _cartridge_patch(request))


async def _select(request: web.Request) -> web.StreamResponse:
    number = _number(request, "n", 1, 32)
    dispatcher = _ctx(request).dispatcher

    def select() -> str:
        dispatcher.pending_bank = [0, 0]  # as CC0 0, CC32 0: the internal cartridge
        name: str = dispatcher.program_change(number - 1)
        return name

    name = await _ctx(request).run(select)
    return control.json_response(200, {"program": number, "bank": 0, "name": name})


async def _voice_table(request: web.Request) -> web.StreamResponse:
    return control.json_response(200, voice_table(_ctx(request).dispatcher.edit_buffer))


async def _voice_audition(request: web.Request) -> web.StreamResponse:
    return await audition(request, _ctx(request).dispatcher.edit_buffer)


# -- backups ---------------------------------------------------------------------------------


def _names(path: Path) -> list[str]:
    try:
        return [p.name for p in Bank.read(path)]
    except (SysexError, OSError) as exc:
        return [f"(unreadable: {exc})"]


async def _backups(request: web.Request) -> web.StreamResponse:
    storage = _ctx(request).dispatcher.storage

    def listing() -> list[dict[str, Any]]:
        return [{"name": p.name, "voices": _names(p)[:BACKUP_NAMES_SHOWN]}
                for p in reversed(storage.backups())]

    found = await asyncio.get_running_loop().run_in_executor(None, listing)
    return control.json_response(200, {"backups": found})


def _store_from(ctx: Any, path: Path, what: str) -> list[str]:
    """In the dispatcher: read ``path`` and make it the internal cartridge."""
    try:
        bank = Bank.read(path)
    except (SysexError, OSError) as exc:
        raise control._Refused(400, f"{what} ({path.name}) cannot be used: {exc}") from None
    ctx.dispatcher.store_bank(bank)  # SysexError when memory_protect is on
    ctx.dispatcher.stats.sysex_accepted += 1
    return [p.name for p in bank]


async def _stored(ctx: Any, path: Path, what: str) -> web.StreamResponse:
    try:
        names = await ctx.run(lambda: _store_from(ctx, path, what))
    except SysexError as exc:  # memory protect
        return control.error_response(409, str(exc))
    log.info("control: %s loaded as the internal cartridge", what)
    return control.json_response(200, {"stored": names})


async def _restore(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    name = request.match_info["name"]
    found = {p.name: p for p in ctx.dispatcher.storage.backups()}
    if name not in found:
        return control.error_response(404, f"no backup named {name!r}")
    return await _stored(ctx, found[name], f"backup {name}")


# -- the banks folder ------------------------------------------------------------------------


async def _library(request: web.Request) -> web.StreamResponse:
    library = _ctx(request).dispatcher.library
    folder: Path | None = library.folder
    wanted = request.query.get("dir", "").strip("/")
    prefix = f"{wanted}/" if wanted else ""
    dirs: dict[str, int] = {}
    banks = []
    for number, path in enumerate(list(library.files), start=1):
        relative = path.relative_to(folder).as_posix() if folder else path.name
        if not relative.startswith(prefix):
            continue
        rest = relative[len(prefix):]
        if "/" in rest:
            sub = rest.split("/", 1)[0]
            dirs[sub] = dirs.get(sub, 0) + 1
        else:
            banks.append({"bank": number, "name": rest})
    if wanted and not dirs and not banks:
        return control.error_response(404, f"no folder {wanted!r} in the banks folder")
    parent = wanted.rsplit("/", 1)[0] if "/" in wanted else ("" if wanted else None)
    return control.json_response(200, {
        "folder": str(folder) if folder else None, "dir": wanted, "parent": parent,
        "dirs": [{"name": d, "banks": n} for d, n in sorted(dirs.items(),
                                                             key=lambda x: x[0].lower())],
        "banks": banks, "total": len(library.files)})


def _library_path(request: web.Request) -> tuple[int, Path]:
    library = _ctx(request).dispatcher.library
    number = _number(request, "bank", 1, max(1, len(library.files)))
    path: Path | None = library.path(number)
    if path is None:
        raise control._Refused(404, f"no bank {number} in the banks folder")
    return number, path


async def _library_voices(request: web.Request) -> web.StreamResponse:
    number, path = _library_path(request)
    try:
        bank = await asyncio.get_running_loop().run_in_executor(None, Bank.read, path)
    except (SysexError, OSError) as exc:
        return control.error_response(400, f"bank {number} ({path.name}) cannot be used: {exc}",
                                      close=False)
    return control.json_response(200, {"bank": number, "name": path.name,
                                       "voices": bank_summary(bank)})


async def _library_load(request: web.Request) -> web.StreamResponse:
    number, path = _library_path(request)
    return await _stored(_ctx(request), path, f"bank {number}")


def add_routes(app: web.Application) -> None:
    """Register the page's routes on the control interface's application."""
    app[_FILES] = _static_files()
    app[_AUDITIONER] = Auditioner()
    get = app.router.add_get
    post = app.router.add_post
    get("/", _index, allow_head=False)
    get("/web/{name}", _static, allow_head=False)
    get("/algorithms", _algorithms, allow_head=False)
    get("/cartridge/voices", _cartridge_voices, allow_head=False)
    get("/cartridge/{n}/table", _cartridge_table, allow_head=False)
    get("/cartridge/{n}/audition.wav", _cartridge_audition, allow_head=False)
    post("/cartridge/{n}/select", _select)
    get("/voice/table", _voice_table, allow_head=False)
    get("/voice/audition.wav", _voice_audition, allow_head=False)
    get("/backups", _backups, allow_head=False)
    post("/backups/{name}/restore", _restore)
    get("/library", _library, allow_head=False)
    get("/library/{bank}/voices", _library_voices, allow_head=False)
    post("/library/{bank}/load", _library_load)
