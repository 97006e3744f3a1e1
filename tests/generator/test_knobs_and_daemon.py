"""Latent knobs on a real engine, POST /generate on a real control server, the
generator.knobs checks."""

from __future__ import annotations

import contextlib
import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from dx7d.config import ConfigError, loads
from dx7d.daemon.audio import BlockClock
from dx7d.daemon.control import ControlServer, status_document
from dx7d.daemon.dispatcher import Dispatcher
from dx7d.daemon.factory import load_factory
from dx7d.daemon.knobs import KNOB_MARGIN, LatentKnobs
from dx7d.daemon.library import Library
from dx7d.daemon.storage import Storage
from dx7d.generator._params import CAT_INDEX, ORD_INDEX, decode_held, decode_outputs
from dx7d.generator.explain import knob_steps, sweep
from dx7d.generator.generate import DUPLICATE_DISTANCE
from dx7d.generator.model import Model
from dx7d.generator.service import GenerationService, parse_request
from dx7d.generator.sound import Listener, sound_vector
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
    original = np.frombuffer(voice.to_vced()[:145], np.uint8)
    z = small_model.encode(original[None])
    assert centre.to_vced()[:145] == decode_held(small_model.decode_raw(z), original,
                                                 KNOB_MARGIN).tobytes()
    # categorical parameters the decoder does not clearly prefer otherwise are the voice's
    mine = np.frombuffer(centre.to_vced()[:145], np.uint8)
    assert (mine[CAT_INDEX] == original[CAT_INDEX]).mean() > 0.8
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


@contextlib.contextmanager
def _control_server(tmp_path: Path, token: str | None,
                    model_path: Path | None = None) -> Iterator[tuple[ControlServer, Dispatcher]]:
    """A started dispatcher (a real Synth, no audio) behind a started control interface,
    with the generation service on ``model_path`` when given; both stopped at the end."""
    from dx7d.config import load
    from dx7d.daemon.audio import AudioStats
    from dx7d.engine_cpp import Synth

    dispatcher = _dispatcher(tmp_path, Synth(48000, 4))
    dispatcher.start()
    source = type("Source", (), {})()
    source.dispatcher, source.engine, source.audio_stats = dispatcher, _Counters(), AudioStats()
    source.config, source.started = load(None), 0.0
    source.output = type("Out", (), {"kind": "null", "device_name": "null"})()
    source.midi = type("Midi", (), {"api_name": "alsa", "realtime": lambda _self: None,
                                    "listening": False, "connected": []})()
    server = ControlServer("127.0.0.1", 0, dispatcher, token, lambda: status_document(source))
    if model_path is not None:
        server.generator = GenerationService(str(model_path))
    server.start()
    try:
        yield server, dispatcher
    finally:
        server.stop()
        dispatcher.stop()


def test_post_generate_stores_a_cartridge_with_a_backup(small_model: Model,
                                                        tmp_path: Path) -> None:
    model_path = tmp_path / "m.npz"
    small_model.save(model_path)
    with _control_server(tmp_path, None, model_path) as (server, dispatcher):
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


def _cv(steps: np.ndarray) -> float:
    return float(steps.std() / max(steps.mean(), 1e-9))


def test_knob_sweeps_change_the_sound_smoothly_and_every_dimension_audibly(
        small_model: Model, shared_banks: Path) -> None:
    """A knob turned end to end (16 moves) through the knob path: the distance between
    neighbouring steps varies little (coefficient of variation; the plain decode, whose
    categorical heads flip, for comparison) and the two ends sound different."""
    ear = Listener()
    bank = Bank.read(shared_banks / "rom1A.syx")
    voices = [np.frombuffer(bank[i].to_vced()[:145], np.uint8) for i in (0, 8, 16, 24)]
    knob_cvs, plain_cvs = [], []
    for d in range(small_model.latent):
        cvs, ends = [], []
        for v in voices:
            steps, end = knob_steps(small_model, d, v, ear)
            cvs.append(_cv(steps))
            ends.append(end)
            s = sweep(small_model, d, ear, steps=16, centre=small_model.encode(v[None])[0])
            w = np.stack([sound_vector(x) for x in s.sounds])
            plain_cvs.append(_cv(np.linalg.norm(np.diff(w, axis=0), axis=1)))
        knob_cvs.extend(cvs)
        assert np.median(cvs) < 1.0, (d, cvs)  # measured: medians 0.38-0.70 per dimension
        assert np.median(ends) > DUPLICATE_DISTANCE, (d, ends)  # audible: measured >= 1.6
    assert np.median(knob_cvs) < 0.75 * np.median(plain_cvs), (knob_cvs, plain_cvs)


def test_decode_held_margin_decides_between_held_and_decoded(small_model: Model,
                                                             rng: np.random.Generator) -> None:
    out = small_model.decode_raw(rng.standard_normal((1, small_model.latent)))
    decoded = decode_outputs(out)[0]
    # a negative margin: every categorical head takes its most likely value
    assert (decode_held(out, np.zeros(145, np.uint8), -1.0)[CAT_INDEX] == decoded[CAT_INDEX]).all()
    held = decoded.copy()
    held[CAT_INDEX] = 0
    kept = decode_held(out, held, 1.0)  # no probability difference exceeds 1: all held
    assert (kept[CAT_INDEX] == 0).all()
    # the 0-99 parameters do not depend on what is held; expected value, near the median
    assert (kept[ORD_INDEX] == decode_held(out, decoded, 1.0)[ORD_INDEX]).all()
    assert np.abs(kept[ORD_INDEX].astype(int) - decoded[ORD_INDEX]).mean() < 20


def test_knob_patch_keeps_a_valid_voice(small_model: Model) -> None:
    knobs = LatentKnobs(small_model, {16: 0})
    edit = Patch(name="MINE")
    for value in range(0, 128, 9):
        edit, _ = knobs.move(16, value, edit)
        assert Patch.from_vced(edit.to_vced()) == edit


def test_cli_generate_send_stores_through_the_control_interface(
        small_model: Model, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dx7d.daemon.cli import main

    model_path = tmp_path / "m.npz"
    small_model.save(model_path)
    with _control_server(tmp_path, "tok3n") as (server, dispatcher):
        out = tmp_path / "new.syx"
        code = main(["generate", "--model", str(model_path), "--seed", "21", "-o", str(out),
                     "--send", "--host", f"127.0.0.1:{server.port}", "--token", "tok3n", "-q"])
        assert code == 0
        assert "cartridge stored in the daemon" in capsys.readouterr().out
        assert [p.name for p in dispatcher.internal] == [p.name for p in Bank.read(out)]
        assert Bank.read(tmp_path / "state" / "cartridge.syx") == Bank.read(out)
