"""The factory cartridge: 32 voices of dx7d's own, played when nothing is stored yet."""

from __future__ import annotations

import logging
from importlib import resources

from dx7d.voices import Bank

__all__ = ["FACTORY_FILE", "load_factory"]

FACTORY_FILE = "factory.syx"  # package data of dx7d.daemon, made by _factory_design.py

log = logging.getLogger("dx7d.factory")


def load_factory() -> Bank:
    """The factory cartridge shipped in the package."""
    data = resources.files("dx7d.daemon").joinpath(FACTORY_FILE).read_bytes()
    return Bank.from_syx(data)
