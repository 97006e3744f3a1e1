"""Screenshots of each panel of the module's page, for the README (docs/page-*.png).

    python tools/screenshots.py [--model M.npz] [--out docs]

Starts a real daemon (null audio, no MIDI needed, a state folder of its own, the
shared banks as its banks folder), opens the page in headless Chromium (Debian's
chromium + chromium-driver through selenium), plays with it as a user would (selects
a voice, browses the banks, generates a cartridge, moves a knob) and saves one PNG
per panel, plus the whole page at a phone's width. Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED_BANKS = Path(os.environ.get("DX7D_SHARED_BANKS", REPO.parent / "shared" / "banks"))
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1")
WAIT_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_daemon(folder: Path, port: int, model: str | None) -> subprocess.Popen[bytes]:
    banks = folder / "banks"
    banks.mkdir()
    if SHARED_BANKS.is_dir():
        shutil.copy(SHARED_BANKS / "rom1A.syx", banks / "rom1A.syx")
        library = SHARED_BANKS / "library"
        for sub in sorted(p for p in library.iterdir() if p.is_dir())[:6]:
            shutil.copytree(sub, banks / sub.name)
    config = {"audio": {"backend": "null"}, "midi": {"api": "alsa"},
              "control": {"listen": f"127.0.0.1:{port}"},
              "storage": {"state_dir": str(folder / "state"), "banks_dir": str(banks)},
              "zeroconf": {"enabled": False}, "log": {"level": "info"}}
    if model:
        config["generator"] = {"model": model}
    (folder / "config.yaml").write_text(json.dumps(config))  # JSON is YAML
    dx7d = Path(sys.executable).with_name("dx7d")
    log = open(folder / "daemon.log", "wb")
    proc = subprocess.Popen([str(dx7d), "run", "--config", str(folder / "config.yaml")],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2):
                return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the daemon did not start:\n"
                                 f"{(folder / 'daemon.log').read_text()}") from None
            time.sleep(0.2)


def browser(profile: Path, width: int, height: int) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(service=Service(driver_path), options=options)


def wait(driver: Any, script: str, what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while True:
        value = driver.execute_script(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: {what} did not appear within {WAIT_S:g} s")
        time.sleep(0.1)


def shoot(driver: Any, element_id: str, out: Path) -> None:
    from selenium.webdriver.common.by import By

    element = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].scrollIntoView(); window.scrollBy(0, -60);", element)
    time.sleep(0.3)
    element.screenshot(str(out))
    print(f"{out}: {out.stat().st_size / 1024:.0f} KiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="generator model (.npz); default: the shipped one")
    parser.add_argument("--out", default=str(REPO / "docs"), help="folder (default docs/)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dx7d-shots-") as tmp:
        folder = Path(tmp)
        port = free_port()
        proc = start_daemon(folder, port, args.model)
        url = f"http://127.0.0.1:{port}/"
        try:
            if SHARED_BANKS.is_dir():  # a cartridge sent, then a bank loaded: one backup
                rom1a = (SHARED_BANKS / "rom1A.syx").read_bytes()
                for method, path, body in (("PUT", "cartridge", rom1a),
                                           ("POST", "library/2/load", b"")):
                    request = urllib.request.Request(url + path, data=body, method=method)
                    urllib.request.urlopen(request, timeout=30).close()
            driver = browser(folder / "chromium", 1280, 2800)
            try:
                driver.get(url)
                wait(driver, "return document.querySelectorAll('#voices .voice').length == 32",
                     "the 32 voices")
                wait(driver, "return document.querySelectorAll('#status dt').length > 5",
                     "the status")
                driver.execute_script(
                    "document.querySelector('#voices .voice[data-number=\"11\"]').click()")
                wait(driver, "return document.querySelectorAll('#operators tr').length == 7",
                     "voice 11's table")
                wait(driver, "return document.querySelector('#library button.folder')",
                     "the banks folder")
                driver.execute_script("document.querySelectorAll('#library button.folder')[1]"
                                      ".click()")
                wait(driver, "return document.querySelectorAll('#library li.bank').length",
                     "a folder's banks")
                driver.execute_script("document.querySelector('#message').hidden = true")
                shoot(driver, "status-panel", out / "page-status.png")
                shoot(driver, "cartridge-panel", out / "page-cartridge.png")
                shoot(driver, "feed-panel", out / "page-feed.png")
                available = wait(driver, "const g = document.getElementById('gen-go');"
                                 "return g && (document.querySelector('#knobs input') ? 'yes' :"
                                 " (document.getElementById('gen-unavailable').hidden ? '' :"
                                 " 'no'))", "the generator panel")
                if available == "yes":
                    driver.execute_script("document.getElementById('gen-seed').value = 7;"
                                          "document.getElementById('gen-go').click()")
                    wait(driver, "return document.querySelectorAll('#gen-voices tr.generated')"
                         ".length == 32", "a generated cartridge")
                    driver.execute_script(
                        "const k = document.querySelector('#knobs input[data-knob=\"2\"]');"
                        "k.value = 1.5; k.dispatchEvent(new Event('input'));")
                    time.sleep(1.0)
                driver.execute_script("document.querySelector('#message').hidden = true")
                shoot(driver, "generate-panel", out / "page-generate.png")
            finally:
                driver.quit()
            phone = browser(folder / "phone", 390, 844)
            try:
                phone.get(url)
                wait(phone, "return document.querySelectorAll('#voices .voice').length == 32",
                     "the 32 voices on a phone")
                time.sleep(1.2)
                phone.save_screenshot(str(out / "page-phone.png"))
                print(f"{out / 'page-phone.png'}: phone width (390 px)")
            finally:
                phone.quit()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
