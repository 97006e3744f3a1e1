"""Latent knobs on a real engine, POST /generate on a real control server, the
generator.knobs checks."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import numpy as np
import pytest
from dx7d.config import ConfigError, loads
from dx7d.daemon.audio import BlockClock
from dx7d.daemon.control import ControlServer, status_document
from dx7d.daemon.dispatcher import Dispatcher
from dx7d.daemon.factory import load_factory
from dx7d.daemon.knobs import LatentKnobs
from dx7d.daemon.library import Library
from dx7d.daemon.storage import Storage
from dx7d.generator.model import Model
from dx7d.generator.service import GenerationService, parse_request
from dx7d.voices import Bank, Patch


class _NoMidiOut:
    def send(self, message: bytes) -> bool:
        return False


def _dispatcher(tmp_path: Path, engine: object, memory_protect: bool = False) -> Dispatcher:
    return Dispatcher(engine, BlockClock(48000, 128), Storage(tmp_path / "state"),  # type: ignore[arg-type]
                      Library(tmp_path / "banks"), _NoMidiOut(), factory=load_factory(),
                      channel=None, memory_protect=memory_protect)


def test_knob_at_centre_decodes_the_voice_itself_and_moves_change_it(
        small_model: Model, shared_banks: Path) -> None:
    knobs = LatentKnobs(small_model, {16: 0, 17: 3})
    voice = Bank.read(shared_banks / "rom1A.syx")[0]
    centre, _ = knobs.move(16, 64, voice)
    z = small_model.encode(np.frombuffer(voice.to_vced()[:145], np.uint8)[None])
    assert centre.to_vced()[:145] == small_model.decode(z)[0].tobytes()
    assert centre.name == voice.name
    seen = {centre.to_vced()}
    edit = centre
    for value in (0, 32, 96, 127):
        edit, _ = knobs.move(17, value, edit)
        seen.add(edit.to_vced())
    assert len(seen) >= 3
    with pytest.raises(KeyError):
        knobs.move(20, 64, edit)
    with pytest.raises(ValueError, match="dimension 99"):
        LatentKnobs(small_model, {16: 98})


def test_knob_moves_reach_the_sounding_note_without_a_click(
        small_model: Model, shared_banks: Path, tmp_path: Path) -> None:
    from dx7d.engine_cpp import Synth

    synth = Synth(48000, 16)
    dispatcher = _dispatcher(tmp_path, synth)
    dispatcher.knobs = LatentKnobs(small_model, {16: 0, 17: 1})
    voice = Bank.read(shared_banks / "rom1A.syx")[1]  # STRINGS 1: a held, steady sound
    dispatcher.load_voice(voice)
    synth.note_on(60, 100)
    before = synth.render(48000)
    steady = float(np.abs(np.diff(before[24000:])).max())
    last = before[-1:]
    worst_ratio = 0.0
    changed_sound = False
    for value in (64, 80, 96, 112, 127, 100, 40, 0):
        dispatcher.handle(0.0, bytes((0xB0, 16, value)))
        block = synth.render(9600)
        # the step across the change against the steadiest steps of what follows
        jump = float(np.abs(np.diff(np.concatenate([last, block[:64]]))).max())
        after = float(np.abs(np.diff(block[4800:])).max())
        worst_ratio = max(worst_ratio, jump / max(after, steady, 1e-6))
        changed_sound |= not np.allclose(block[4800:5800], before[-1000:], atol=1e-3)
        last = block[-1:]
    assert dispatcher.edit_buffer.name == voice.name
    assert dispatcher.edit_buffer.to_vced() != voice.to_vced()
    assert changed_sound  # the held note took the new voice
    assert worst_ratio < 2.0, worst_ratio  # no step larger than the sound's own


def test_generate_request_parsing() -> None:
    assert parse_request(b"").temperature == 1.0
    r = parse_request(b'{"style": "bass", "seed": 4, "temperature": 0.7}')
    assert (r.style, r.seed, r.temperature) == ("bass", 4, 0.7)
    for body, message in ((b"[1]", "JSON object"), (b"{", "not JSON"),
                          (b'{"seed": -1}', "seed"), (b'{"temperature": 9}', "temperature"),
                          (b'{"colour": 1}', "unknown field 'colour'")):
        with pytest.raises(ValueError, match=message):
            parse_request(body)


class _Counters:
    sounding_voices = 0
    dropped_events = 0


def test_post_generate_stores_a_cartridge_with_a_backup(small_model: Model,
                                                        tmp_path: Path) -> None:
    from dx7d.config import load
    from dx7d.daemon.audio import AudioStats
    from dx7d.engine_cpp import Synth

    model_path = tmp_path / "m.npz"
    small_model.save(model_path)
    dispatcher = _dispatcher(tmp_path, Synth(48000, 4))
    dispatcher.start()
    source = type("Source", (), {})()
    source.dispatcher, source.engine, source.audio_stats = dispatcher, _Counters(), AudioStats()
    source.config, source.started = load(None), 0.0
    source.output = type("Out", (), {"kind": "null", "device_name": "null"})()
    source.midi = type("Midi", (), {"api_name": "alsa", "listening": False, "connected": []})()
    server = ControlServer("127.0.0.1", 0, dispatcher, None, lambda: status_document(source))
    server.generator = GenerationService(str(model_path))
    server.start()
    try:
        def post(body: bytes) -> tuple[int, dict[str, object]]:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
            conn.request("POST", "/generate", body=body,
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, json.loads(response.read())

        old = [p.name for p in dispatcher.internal]
        code, doc = post(b'{"seed": 11}')
        assert code == 200, doc
        assert doc["seed"] == 11 and len(doc["voices"]) == 32  # type: ignore[arg-type]
        assert [p.name for p in dispatcher.internal] == doc["stored"] != old
        stored = Bank.read(tmp_path / "state" / "cartridge.syx")
        assert [p.name for p in stored] == doc["stored"]
        code, again = post(b'{"seed": 13}')  # replaces the stored one: a backup is kept
        assert code == 200 and again["stored"] != doc["stored"]
        backups = list((tmp_path / "state" / "backups").glob("cartridge-*.syx"))
        assert [p.name for p in Bank.read(backups[0])] == doc["stored"]
        code, doc = post(b'{"style": "polka"}')
        assert code == 400 and "polka" in str(doc["error"])
        dispatcher.memory_protect = True
        code, doc = post(b'{"seed": 12}')
        assert code == 409
    finally:
        server.stop()
        dispatcher.stop()


def test_generator_knobs_config_checks() -> None:
    cfg = loads("generator:\n  knobs: {16: 1, 17: 2, 80: 8}\n")
    assert cfg.generator.knobs == {16: 1, 17: 2, 80: 8}
    assert loads("").generator.knobs == {} and loads("").generator.model is None
    for text, words in (("{1: 1}", "CC 1 already has a meaning"),
                        ("{16: 0}", "dimension 0"),
                        ("{16: 1, 17: 1}", "dimension 1 given to CC 16 and CC 17"),
                        ("{130: 1}", "CC 130"),
                        ("{" + ", ".join(f"{20 + i}: {i + 1}" for i in range(9)) + "}",
                         "9 knobs, at most 8"),
                        ("[16, 17]", "mapping")):
        with pytest.raises(ConfigError) as info:
            loads(f"generator:\n  knobs: {text}\n")
        assert words in str(info.value), str(info.value)


def test_knob_patch_keeps_a_valid_voice(small_model: Model) -> None:
    knobs = LatentKnobs(small_model, {16: 0})
    edit = Patch(name="MINE")
    for value in range(0, 128, 9):
        edit, _ = knobs.move(16, value, edit)
        assert Patch.from_vced(edit.to_vced()) == edit
