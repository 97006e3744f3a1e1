"""The module's page in a real browser (headless Chromium) against the real daemon
(null audio, no MIDI system): it loads, shows the status and the 32 names, plays and
shows a voice, a dropped .syx replaces the cartridge, a bad one shows the daemon's
refusal and changes nothing, backups and banks are restored and loaded by a click, and
with a token the page asks for it once."""

from __future__ import annotations

import base64
import json
import shutil
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dx7d.voices import Bank, Patch, bank_dump, voice_dump

from .browser import chromium, find_chromium
from .harness import DaemonProcess, free_port

pytestmark = pytest.mark.e2e

WAIT_S = 20.0
TOKEN = "page-token-0123456789"


class Page:
    """A browser tab on a daemon's page."""

    def __init__(self, driver: Any, daemon: DaemonProcess, port: int) -> None:
        self.driver = driver
        self.daemon = daemon
        self.url = f"http://127.0.0.1:{port}/"
        self.port = port

    def wait(self, condition: Callable[[Any], Any], what: str) -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(self.driver, WAIT_S, poll_frequency=0.05).until(condition)
        except Exception as exc:
            logs = self.driver.get_log("browser")
            raise AssertionError(f"{what}: not seen within {WAIT_S} s ({exc!r}); browser "
                                 f"log: {logs}\ndaemon log:\n{self.daemon.log()[-3000:]}"
                                 ) from None

    def css(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, selector))

    def names(self) -> list[str]:
        """The voice names shown, read in one go (a changed cartridge is redrawn)."""
        names: list[str] = self.driver.execute_script(
            "return [...document.querySelectorAll('#voices .voice .name')]"
            ".map((e) => e.textContent.trimEnd());")
        return names

    def status_rows(self) -> dict[str, str]:
        """The status panel's rows, read in one go (the page redraws it every second)."""
        rows: dict[str, str] = self.driver.execute_script("""
            const out = {};
            for (const dt of document.querySelectorAll("#status dt")) {
              out[dt.textContent] = dt.nextElementSibling.textContent;
            }
            return out;""")
        return rows

    def message(self) -> tuple[str, bool]:
        """The message line's text and whether it shows an error."""
        text, error = self.driver.execute_script(
            "const box = document.getElementById('message');"
            "return [box.hidden ? '' : box.textContent, box.className === 'error'];")
        return str(text), bool(error)

    def drop(self, name: str, data: bytes) -> None:
        """Drop a file on the drop zone as a user's drag and drop would (a drop event
        whose DataTransfer holds the file)."""
        self.driver.execute_script("""
            const bytes = Uint8Array.from(atob(arguments[1]), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], arguments[0]));
            const zone = document.getElementById("drop");
            for (const kind of ["dragover", "drop"]) {
              zone.dispatchEvent(new DragEvent(kind, {dataTransfer: transfer, bubbles: true,
                                                      cancelable: true}));
            }""", name, base64.b64encode(data).decode())

    def status(self) -> Any:
        request = urllib.request.Request(self.url + "status",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.loads(reply.read())


def headless(port: int, banks: Path, **control: object) -> dict[str, dict[str, object]]:
    return {"audio": {"backend": "null"}, "midi": {"api": "alsa"},
            "control": {"listen": f"127.0.0.1:{port}", **control},
            "storage": {"banks_dir": str(banks)}, "log": {"level": "info"}}


@pytest.fixture(scope="module")
def banks(tmp_path_factory: pytest.TempPathFactory, shared_banks: Path) -> Path:
    folder = tmp_path_factory.mktemp("banks")
    (folder / "factory sets").mkdir()
    shutil.copy(shared_banks / "rom1A.syx", folder / "factory sets" / "rom1A.syx")
    mine = Bank([Patch(name=f"MINE {n:02d}") for n in range(1, 33)])
    (folder / "factory sets" / "mine.syx").write_bytes(bank_dump(mine, 0))
    return folder


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, banks: Path) -> Iterator[Page]:
    find_chromium()
    port = free_port()
    daemon = DaemonProcess(tmp_path_factory.mktemp("page"), headless(port, banks))
    daemon.start()
    driver = chromium(tmp_path_factory.mktemp("chromium"))
    try:
        page = Page(driver, daemon, port)
        driver.get(page.url)
        page.wait(lambda d: len(page.names()) == 32, "the 32 voice names")
        yield page
    finally:
        driver.quit()
        assert daemon.stop() == 0, daemon.log()


def test_the_page_shows_the_status_and_the_32_names(page: Page) -> None:
    doc = page.status()
    assert page.names() == [n.rstrip() for n in doc["cartridge"]]
    rows = page.wait(lambda d: page.status_rows() or None, "the status")
    assert "null" in rows["Audio"] and "48000 Hz" in rows["Audio"]
    assert rows["Underflows"].isdigit()
    assert "no MIDI system" in rows["MIDI"]
    assert rows["Ports"] == "none connected"
    assert rows["Sysex"].startswith("accepted ")
    assert len(page.css("#voices .voice svg")) == 32
    algorithms = [e.text for e in page.css("#voices .voice .alg")]
    assert algorithms == [f"alg {a}" for a in _algorithms(page)]


def _algorithms(page: Page) -> list[int]:
    request = urllib.request.Request(page.url + "cartridge/voices")
    with urllib.request.urlopen(request, timeout=10) as reply:
        return [v["algorithm"] for v in json.loads(reply.read())["voices"]]


def test_the_status_is_live(page: Page) -> None:
    request = urllib.request.Request(page.url + "program/7", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=10).close()  # as a MIDI program change would
    page.wait(lambda d: page.status_rows().get("Program", "").startswith("7 of bank 0"),
              "program 7 on the page")


def test_a_click_selects_a_voice_shows_its_table_and_fetches_its_audition(page: Page) -> None:
    page.css('#voices .voice[data-number="5"]')[0].click()
    page.wait(lambda d: page.status()["program"]["number"] == 5, "program 5 on the module")
    page.wait(lambda d: len(page.css("#operators tr")) == 7, "the operator table")
    assert page.css("#voice-title")[0].text.startswith("Voice 5:")
    fetched = page.wait(lambda d: d.execute_script(
        "return performance.getEntriesByType('resource').filter("
        "(e) => e.name.endsWith('/cartridge/5/audition.wav')).length"), "the audition")
    assert fetched >= 1
    assert "current" in (page.css('#voices .voice[data-number="5"]')[0]
                         .get_attribute("class") or "")


def test_a_dropped_cartridge_replaces_the_cartridge(page: Page, shared_banks: Path) -> None:
    rom1a = (shared_banks / "rom1A.syx").read_bytes()
    names = [p.name.rstrip() for p in Bank.read(shared_banks / "rom1A.syx")]
    page.drop("rom1A.syx", rom1a)
    page.wait(lambda d: page.names() == names, "rom1A's names on the page")
    text, error = page.message()
    assert not error and "cartridge stored" in text
    assert (page.daemon.state_dir / "cartridge.syx").read_bytes() == rom1a


def test_a_bad_file_shows_the_daemons_refusal_and_changes_nothing(page: Page,
                                                                 shared_banks: Path) -> None:
    before_names = page.names()
    before = page.status()
    bad = bytearray((shared_banks / "rom1A.syx").read_bytes())
    bad[200] ^= 0x01  # a voice byte: the checksum no longer matches
    page.drop("bad.syx", bytes(bad))
    page.wait(lambda d: page.message()[1] and "bad.syx" in page.message()[0], "the refusal")
    text, _ = page.message()
    after = page.status()
    assert after["sysex"]["last_refusal"] in text  # as the daemon says it
    assert "checksum" in text
    assert after["sysex"]["refused"] == before["sysex"]["refused"] + 1
    assert after["cartridge"] == before["cartridge"]
    assert page.names() == before_names


def test_a_voice_chosen_with_the_file_input_becomes_the_edit_buffer(page: Page,
                                                                    tmp_path: Path) -> None:
    voice = tmp_path / "one voice.syx"
    voice.write_bytes(voice_dump(Patch(name="PAGE VOICE"), 0))
    page.css("#drop-input")[0].send_keys(str(voice))
    page.wait(lambda d: "voice loaded: PAGE VOICE" in page.message()[0], "the voice loaded")
    assert page.status()["program"]["name"] == "PAGE VOICE"


def test_a_bank_is_loaded_and_the_replaced_cartridge_restored_by_a_click(
        page: Page, shared_banks: Path) -> None:
    """After the dropped rom1A: load mine.syx from the banks folder, then restore the
    backup of rom1A it replaced."""
    rom1a = [p.name.rstrip() for p in Bank.read(shared_banks / "rom1A.syx")]
    page.driver.refresh()
    page.wait(lambda d: page.names() == rom1a, "the page again, with rom1A")
    folder = page.wait(lambda d: page.css("#library button.folder"), "the banks folder")
    assert folder[0].text == "factory sets/"
    folder[0].click()
    page.wait(lambda d: len(page.css("#library li.bank button.load")) == 2, "its two banks")
    mine = next(li for li in page.css("#library li.bank") if "mine.syx" in li.text)
    mine.find_element("css selector", "button.load").click()
    page.wait(lambda d: page.names() == [f"MINE {n:02d}" for n in range(1, 33)],
              "mine.syx's names")
    restore = page.wait(lambda d: page.css("#backups li button"), "the backup of rom1A")
    assert "BRASS   1" in page.css("#backups li")[0].text
    restore[0].click()
    page.wait(lambda d: page.names() == rom1a, "rom1A restored")
    assert "restored" in page.message()[0]
    assert (page.daemon.state_dir / "cartridge.syx").read_bytes() == \
        (shared_banks / "rom1A.syx").read_bytes()


def test_with_a_token_the_page_asks_for_it_once(tmp_path: Path, banks: Path) -> None:
    port = free_port()
    daemon = DaemonProcess(tmp_path / "daemon", headless(port, banks, token=TOKEN))
    daemon.folder.mkdir()
    daemon.start()
    driver = chromium(tmp_path / "chromium")
    try:
        page = Page(driver, daemon, port)
        driver.get(page.url)
        page.wait(lambda d: page.css("#token-dialog[open]"), "the token question")
        assert page.names() == []  # nothing shown without it
        page.css("#token-input")[0].send_keys("wrong")
        page.css("#token-ok")[0].click()
        page.wait(lambda d: page.css("#token-dialog[open]"), "the question again")
        field = page.css("#token-input")[0]
        field.clear()
        field.send_keys(TOKEN)
        page.css("#token-ok")[0].click()
        page.wait(lambda d: len(page.names()) == 32, "the names, with the token")
        driver.refresh()  # kept for the session: not asked again
        page.wait(lambda d: len(page.names()) == 32, "the names after a reload")
        assert not page.css("#token-dialog[open]")
    finally:
        driver.quit()
        assert daemon.stop() == 0, daemon.log()
