"""The module's own page: its static files (package data, dx7d/daemon/web/) and routes."""

from __future__ import annotations

from aiohttp import web

__all__ = ["add_routes"]


def add_routes(app: web.Application) -> None:
    """Register the page's routes on the control interface's application."""
