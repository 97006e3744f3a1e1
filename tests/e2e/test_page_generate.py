"""The generator on the module's page and its routes, against the real daemon with a
real model (the shipped one, or one trained here in seconds on a folder of the shared
banks): the panel produces a cartridge and sends it, and a knob moves the edit voice."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dx7d.voices import Bank, BankDump, parse_sysex

from .browser import chromium, find_chromium
from .harness import DaemonProcess, free_port
from .test_page import Page

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory, shared_banks: Path) -> str | None:
    """The shipped model (None) if there is one, else a small one trained on Aminet."""
    from dx7d.generator.model import default_model_path

    if default_model_path().exists():
        return None
    pytest.importorskip("jax", reason="training a test model needs the test extra's jax")
    from dx7d.generator.corpus import build_corpus
    from dx7d.generator.train import TrainConfig, train

    corpus, _ = build_corpus([shared_banks / "library" / "Aminet"])
    result = train(corpus, TrainConfig(epochs=6, hidden=(64, 64)), progress=False)
    path = tmp_path_factory.mktemp("model") / "small.npz"
    result.model.save(path)
    return str(path)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, model: str | None
           ) -> Iterator[tuple[DaemonProcess, str]]:
    port = free_port()
    settings: dict[str, dict[str, object]] = {
        "audio": {"backend": "null"}, "midi": {"api": "alsa"},
        "control": {"listen": f"127.0.0.1:{port}"}, "log": {"level": "info"},
        "generator": {"model": model}}
    process = DaemonProcess(tmp_path_factory.mktemp("generate"), settings)
    process.start()
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        assert process.stop() == 0, process.log()


def call(url: str, method: str = "GET", body: object = None) -> tuple[int, bytes]:
    data = None if body is None else (body if isinstance(body, bytes)
                                      else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as refusal:
        return refusal.code, refusal.read()


def test_generate_keeps_or_stores_a_listened_to_cartridge(daemon: tuple[DaemonProcess, str]
                                                          ) -> None:
    process, url = daemon
    before = call(url + "/cartridge")[1]
    code, body = call(url + "/generate?store=0", "POST", {"seed": 3})
    assert code == 200, body
    kept = json.loads(body)
    assert kept["seed"] == 3 and len(kept["voices"]) == 32 and "stored" not in kept
    assert [v["number"] for v in kept["voices"]] == list(range(1, 33))
    assert all(1 <= v["algorithm"] <= 32 and "level_db" in v["figures"] for v in kept["voices"])
    code, dump = call(f"{url}/generated/{kept['id']}.syx")
    message = parse_sysex(dump)
    assert code == 200 and isinstance(message, BankDump)
    assert [p.name.strip() for p in message.bank] == [v["name"] for v in kept["voices"]]
    assert call(url + "/cartridge")[1] == before  # kept, not stored
    code, body = call(url + "/generate", "POST", {"seed": 3})  # as `dx7d generate --send`
    assert code == 200, body
    stored = json.loads(body)
    assert [n.strip() for n in stored["stored"]] == [v["name"] for v in kept["voices"]]
    assert (process.state_dir / "cartridge.syx").read_bytes() == dump  # same seed, same bytes
    for bad, says in (({"seed": -1}, "seed"), ({"style": "kazoo"}, "kazoo"),
                      ({"temperature": 99}, "temperature"), ({"colour": 1}, "colour"),
                      (b"not json", "JSON")):
        code, body = call(url + "/generate?store=0", "POST", bad)
        assert code == 400 and says in json.loads(body)["error"], (bad, body)
    for bad in ({"dimension": 9, "value": 0}, {"dimension": 1, "value": 4}, {"value": 1}):
        code, body = call(url + "/knobs", "POST", bad)
        assert code == 400, (bad, body)


@pytest.fixture(scope="module")
def page(daemon: tuple[DaemonProcess, str], tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Page]:
    find_chromium()
    process, url = daemon
    driver = chromium(tmp_path_factory.mktemp("chromium"), height=2400)
    try:
        page = Page(driver, process, int(url.rsplit(":", 1)[1]))
        driver.get(page.url)
        page.wait(lambda d: len(page.css("#knobs input[type=range]")) == 8, "the 8 knobs")
        yield page
    finally:
        driver.quit()


def generated_rows(page: Page) -> list[str]:
    rows: list[str] = page.driver.execute_script(
        "return [...document.querySelectorAll('#gen-voices tr.generated td.text:first-of-type')]"
        ".map((e) => e.textContent)")
    return rows


def test_the_panel_produces_a_cartridge_and_sends_it(page: Page) -> None:
    assert "any" in [o.text for o in page.css("#gen-style option")]
    assert all(e.text.startswith("towards") for e in page.css("#knobs .what"))
    page.driver.execute_script("document.getElementById('gen-seed').value = 11")
    page.css("#gen-go")[0].click()
    page.wait(lambda d: len(page.css("#gen-voices tr.generated")) == 32, "32 generated voices")
    names = page.driver.execute_script(
        "return [...document.querySelectorAll('#gen-voices tr.generated')]"
        ".map((r) => r.children[1].textContent)")
    assert len(set(names)) == 32
    page.css("#gen-voices tr.generated button.hear")[0].click()
    page.wait(lambda d: d.execute_script(
        "return performance.getEntriesByType('resource').filter("
        "(e) => e.name.endsWith('/1/audition.wav')).length"), "the audition")
    page.css("#gen-send")[0].click()
    page.wait(lambda d: page.names() == [n.rstrip() for n in names], "the cartridge sent")
    stored = Bank.read(page.daemon.state_dir / "cartridge.syx")
    assert [p.name.strip() for p in stored] == [n.strip() for n in names]


def test_a_knob_moves_the_edit_voice(page: Page) -> None:
    if not page.css("#gen-voices tr.generated"):
        page.css("#gen-go")[0].click()
        page.wait(lambda d: len(page.css("#gen-voices tr.generated")) == 32, "a cartridge")
    page.css("#gen-voices tr.generated button.edit")[0].click()
    page.wait(lambda d: "is the edit voice" in page.message()[0], "the edit voice set")
    url = page.url.rstrip("/")
    start: Any = call(url + "/voice")[1]
    first = page.status()["program"]["name"]
    page.driver.execute_script(
        "const k = document.querySelector('#knobs input[data-knob=\"1\"]');"
        "k.value = 2.5; k.dispatchEvent(new Event('input'));")
    page.wait(lambda d: call(url + "/voice")[1] != start, "the edit voice moved")
    assert page.status()["program"]["name"] == first  # the voice keeps its name
    page.wait(lambda d: page.css("#program")[0].text == f"edit {first.strip()}",
              "the page saying so")
