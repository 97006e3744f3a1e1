"""Headless Chromium (Debian's chromium + chromium-driver) driven by selenium, for the
page's browser tests; nothing is downloaded at run time."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

__all__ = ["CHROMIUM_FLAGS", "chromium", "find_chromium"]

# As root in a container: no sandbox; and no traffic of its own (updates, sync, QUIC).
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--autoplay-policy=no-user-gesture-required")


def find_chromium() -> tuple[str, str]:
    """The chromium and chromedriver binaries; skips the test when they are missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip("chromium and chromium-driver are not installed "
                    "(./bootstrap.sh test installs them)")
    return browser, driver


def chromium(profile: Path | None = None, width: int = 1280, height: int = 1600) -> Any:
    """A fresh headless Chromium (a new --user-data-dir) under chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = find_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    folder = profile or Path(tempfile.mkdtemp(prefix="dx7d-chromium-"))
    options.add_argument(f"--user-data-dir={folder}")
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)
