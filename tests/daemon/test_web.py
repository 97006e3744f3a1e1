"""The routes of the module's page, in-process over real sockets (the rig of
control_rig.py); auditions render with the real engine, offline."""

from __future__ import annotations

import io
import json
import shutil
import wave
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dx7d.daemon._web_svg import algorithm_svg, layout
from dx7d.daemon.factory import load_factory
from dx7d.voices import ALGORITHMS, Bank, Patch, bank_dump

from .control_rig import Module, module, rom1a, start

__all__ = ["module", "rom1a", "start"]  # the fixtures, imported for pytest


def get_json(module: Module, path: str, code: int = 200) -> Any:
    status, body = module.request("GET", path)
    assert status == code, body
    return json.loads(body)


def post(module: Module, path: str, code: int = 200) -> Any:
    status, body = module.request("POST", path, b"")
    assert status == code, body
    return json.loads(body)


def test_the_page_and_its_files_are_served(module: Module) -> None:
    status, page = module.request("GET", "/")
    assert status == 200 and b'<script src="/web/app.js"' in page
    for name, kind in (("app.js", b"fetch("), ("style.css", b".voice"), ("icon.svg", b"<svg")):
        status, body = module.request("GET", f"/web/{name}")
        assert status == 200 and kind in body, name
    assert module.request("GET", "/web/nothing.js")[0] == 404


def test_first_load_is_light(module: Module) -> None:
    """What a first visit loads (page, script, style, icon, the algorithm drawings):
    well under the 300 KB of the issue (bench/web.py measures it over HTTP too)."""
    total = sum(len(module.request("GET", path)[1]) for path in
                ("/", "/web/app.js", "/web/style.css", "/web/icon.svg", "/algorithms"))
    print(f"first load: {total / 1024:.1f} KiB")
    assert total < 300 * 1024


@pytest.mark.parametrize("number", range(1, 33))
def test_each_algorithm_is_drawn_from_the_table(number: int) -> None:
    svg = ET.fromstring(algorithm_svg(number))
    ns = "{http://www.w3.org/2000/svg}"
    alg = ALGORITHMS[number - 1]
    boxes = svg.findall(f"{ns}rect")
    assert len(boxes) == 6
    carriers = [b for b in boxes if b.get("class") == "carrier"]
    assert len(carriers) == len(alg.carriers)
    paths = svg.findall(f"{ns}path")
    assert len([p for p in paths if p.get("class") == "mod"]) == len(alg.edges)
    assert len([p for p in paths if p.get("class") == "fb"]) == 1
    assert sorted(t.text or "" for t in svg.findall(f"{ns}text")) == list("123456")
    pos = layout(alg)
    for a, b in alg.edges:  # a modulator is drawn above what it modulates
        assert pos[a][0] > pos[b][0]
    cells = {(r, c) for r, c in pos.values()}
    assert len(cells) == 6  # no two operators on one spot


def test_the_algorithms_route_gives_all_32(module: Module) -> None:
    drawings = get_json(module, "/algorithms")
    assert sorted(map(int, drawings)) == list(range(1, 33))
    assert all(d.startswith("<svg") for d in drawings.values())


def test_cartridge_voices_name_number_algorithm(module: Module, rom1a: bytes,
                                                shared_banks: Path) -> None:
    factory = load_factory()
    voices = get_json(module, "/cartridge/voices")["voices"]
    assert [v["number"] for v in voices] == list(range(1, 33))
    assert [v["name"] for v in voices] == [p.name for p in factory]
    assert [v["algorithm"] for v in voices] == [p.algorithm + 1 for p in factory]
    assert module.request("PUT", "/cartridge", rom1a)[0] == 200
    voices = get_json(module, "/cartridge/voices")["voices"]
    assert [v["name"] for v in voices] == [p.name for p in Bank.read(shared_banks / "rom1A.syx")]


def test_a_voice_table_reads_like_the_panel(module: Module) -> None:
    patch = Patch(name="TABLE")
    patch.algorithm = 4
    patch.op[0].frequency_coarse = 2
    patch.op[0].frequency_fine = 50
    patch.op[1].frequency_mode = 1
    patch.op[1].frequency_coarse = 2
    patch.op[1].frequency_fine = 0
    patch.op[2].detune = 0
    patch.op[0].breakpoint = 39
    bank = Bank([patch] + [Patch()] * 31)
    assert module.request("PUT", "/cartridge", bank_dump(bank, 0))[0] == 200
    table = get_json(module, "/cartridge/1/table")
    assert table["name"] == "TABLE     "
    assert table["global"]["algorithm"] == 5
    assert table["global"]["transpose"] == "C3"
    ops = table["operators"]
    assert [o["op"] for o in ops] == [1, 2, 3, 4, 5, 6]
    assert ops[0]["frequency"] == "x3.00"
    assert ops[1]["frequency"] == "100.0 Hz" and ops[1]["mode"] == "fixed"
    assert ops[2]["detune"] == -7
    assert ops[0]["break_point"] == "C3" and ops[1]["break_point"] == "A-1"
    assert [o["on"] for o in ops] == [True] * 6  # on/off is not in a dump: all on
    for bad in ("0", "33", "x", "1.5"):
        assert module.request("GET", f"/cartridge/{bad}/table")[0] == 400, bad


def test_an_audition_is_a_short_wav_of_that_voice_and_plays_nothing(module: Module,
                                                                     rom1a: bytes) -> None:
    module.request("PUT", "/cartridge", rom1a)
    before = list(module.engine.calls)
    renders = []
    for number in (1, 11):
        status, body = module.request("GET", f"/cartridge/{number}/audition.wav")
        assert status == 200
        with wave.open(io.BytesIO(body)) as w:
            assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
            seconds = w.getnframes() / w.getframerate()
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        assert 1.0 <= seconds <= 2.0
        assert np.abs(samples).max() > 1000  # it sounds
        renders.append(samples)
    assert not np.array_equal(renders[0], renders[1])  # brass is not the e-piano
    assert module.engine.calls == before  # the playing engine was not touched


def test_select_plays_a_voice_of_the_internal_cartridge(module: Module) -> None:
    factory = load_factory()
    done = post(module, "/cartridge/9/select")
    assert done == {"program": 9, "bank": 0, "name": factory[8].name}
    program = module.status()["program"]
    assert (program["number"], program["bank"]) == (9, 0)
    assert ("load_patch", (factory[8],)) in [(n, a[:1]) for n, a in module.engine.calls]


def test_the_edit_buffer_has_a_table_and_an_audition(module: Module) -> None:
    post(module, "/cartridge/3/select")
    assert get_json(module, "/voice/table")["name"] == load_factory()[2].name
    assert module.request("GET", "/voice/audition.wav")[0] == 200


def test_backups_are_listed_and_one_is_restored(module: Module, rom1a: bytes) -> None:
    assert get_json(module, "/backups") == {"backups": []}
    factory = bank_dump(load_factory(), 0)
    mine = bank_dump(Bank([Patch(name="MINE")] * 32), 0)
    for dump in (factory, rom1a, mine):
        assert module.request("PUT", "/cartridge", dump)[0] == 200
    backups = get_json(module, "/backups")["backups"]
    assert len(backups) == 2  # the factory's and rom1A's, newest first
    first_names = [b["voices"][0] for b in backups]
    assert first_names == [Bank.read(p)[0].name for p in reversed(module.storage.backups())]
    oldest = backups[-1]["name"]
    done = post(module, f"/backups/{oldest}/restore")
    assert module.storage.cartridge_path.read_bytes() == \
        next(p for p in module.storage.backups() if p.name == oldest).read_bytes()
    assert done["stored"][0] == backups[-1]["voices"][0]
    assert get_json(module, "/backups")["backups"][0]["voices"][0] == "MINE      "  # kept
    for bad in ("nothing.syx", "..%2fcartridge.syx", "cartridge.syx"):
        assert module.request("POST", f"/backups/{bad}/restore", b"")[0] == 404, bad


@pytest.fixture
def banks(tmp_path: Path, shared_banks: Path) -> Path:
    """A banks folder of real files: rom1A at the top, two in sub-folders, one bad file."""
    folder = tmp_path / "banks"
    (folder / "sub" / "deeper").mkdir(parents=True)
    shutil.copy(shared_banks / "rom1A.syx", folder / "rom1A.syx")
    shutil.copy(shared_banks / "rom1A.syx", folder / "sub" / "copy.syx")
    shutil.copy(shared_banks / "rom1A.syx", folder / "sub" / "deeper" / "again.SYX")
    (folder / "sub" / "broken.syx").write_bytes(b"\xf0\x43 not a dump")
    return folder


def test_the_banks_folder_is_browsed_by_folder(module: Module, banks: Path) -> None:
    module.dispatcher.library.rescan()
    top = get_json(module, "/library")
    assert top["folder"] == str(banks) and top["total"] == 4 and top["parent"] is None
    assert top["banks"] == [{"bank": 1, "name": "rom1A.syx"}]
    assert top["dirs"] == [{"name": "sub", "banks": 3}]
    sub = get_json(module, "/library?dir=sub")
    assert [b["name"] for b in sub["banks"]] == ["broken.syx", "copy.syx"]
    assert sub["dirs"] == [{"name": "deeper", "banks": 1}] and sub["parent"] == ""
    assert get_json(module, "/library?dir=sub/deeper")["parent"] == "sub"
    for bad in ("nothere", "..", "/etc", "sub/../.."):
        assert module.request("GET", f"/library?dir={bad}")[0] == 404, bad


def test_a_bank_is_peeked_at_and_loaded_as_the_cartridge(module: Module, banks: Path,
                                                         rom1a: bytes) -> None:
    module.dispatcher.library.rescan()
    names = [p.name for p in Bank.read(banks / "rom1A.syx")]
    assert [v["name"] for v in get_json(module, "/library/1/voices")["voices"]] == names
    done = post(module, "/library/1/load")
    assert done["stored"] == names
    assert module.storage.cartridge_path.read_bytes() == rom1a
    assert [v["name"] for v in get_json(module, "/cartridge/voices")["voices"]] == names
    assert module.status()["sysex"]["accepted"] == 1


def test_a_bad_bank_is_refused_with_the_reason_and_changes_nothing(module: Module,
                                                                   banks: Path) -> None:
    module.dispatcher.library.rescan()
    broken = next(n for n, p in enumerate(module.dispatcher.library.files, 1)
                  if p.name == "broken.syx")
    status, body = module.request("POST", f"/library/{broken}/load", b"")
    assert status == 400
    assert "broken.syx" in json.loads(body)["error"]
    assert not module.storage.cartridge_path.exists()
    for bad in ("0", "5", "99999", "x"):
        assert module.request("POST", f"/library/{bad}/load", b"")[0] in (400, 404), bad


def test_memory_protect_refuses_a_restore_and_a_bank(start: Any, banks: Path,
                                                     rom1a: bytes) -> None:
    module = start(memory_protect=True)
    module.dispatcher.library.rescan()
    module.storage.store_cartridge(Bank.read(banks / "rom1A.syx"))
    module.storage.store_cartridge(load_factory())  # rom1A is a backup now
    before = module.storage.cartridge_path.read_bytes()
    name = module.storage.backups()[0].name
    for path in (f"/backups/{name}/restore", "/library/1/load"):
        status, body = module.request("POST", path, b"")
        assert status == 409, path
        assert "memory_protect" in json.loads(body)["error"]
    assert module.storage.cartridge_path.read_bytes() == before


def test_a_name_with_bytes_a_dx7_cannot_show_is_kept_and_shown_readably(module: Module
                                                                        ) -> None:
    odd = Patch()
    odd.name_bytes = b"ORGAN\x003   "
    assert module.request("PUT", "/cartridge", bank_dump(Bank([odd] + [Patch()] * 31), 0)
                          )[0] == 200
    first = get_json(module, "/cartridge/voices")["voices"][0]
    assert first["name"] == "ORGAN\x003   "  # as stored, byte for byte
    assert first["display"] == "ORGAN\\x003"
