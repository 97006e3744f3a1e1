"""`dx7d run`: start the sound module."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `run` command."""
    parser = subparsers.add_parser(
        "run", help="run the sound module (MIDI in, audio out)",
        description="Run the dx7d sound module until SIGTERM/SIGINT; SIGHUP reloads the "
                    "configuration.")
    parser.add_argument("--config", metavar="FILE",
                        help="configuration file (default: /etc/dx7d/config.yaml if it "
                             "exists, else the built-in defaults)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from .service import run

    return run(args.config)
