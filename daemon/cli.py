"""The `dx7d` command: one argparse tree, subcommands contributed by each package.

Each package that offers commands has a private ``_cli`` module with
``register(subparsers)``; it adds its parsers and sets ``func`` to a callable
taking the parsed namespace and returning an exit code. Modules are imported
only to build the parser, and heavy imports (cppyy, audio) happen inside the
command functions, so ``dx7d --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

__all__ = ["build_parser", "main"]

# Packages whose `_cli.register(subparsers)` contributes subcommands, in help order.
_COMMAND_MODULES = (
    "dx7d.daemon._run_cli",
    "dx7d.voices._cli",
    "dx7d.engine_cpp._cli",
    "dx7d.config._cli",
    "dx7d.daemon._control_cli",
    "dx7d.generator._cli",
)


def _version() -> str:
    try:
        return version("dx7d")
    except PackageNotFoundError:  # running from a checkout that is not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every package's subcommands."""
    parser = argparse.ArgumentParser(
        prog="dx7d",
        description="dx7d: a Yamaha DX7-compatible FM sound module.",
    )
    parser.add_argument("--version", action="version", version=f"dx7d {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a real import error inside the module
                raise
            continue  # that package has no commands yet
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `dx7d` console command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `dx7d bank show x | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
