"""`dx7d config check FILE...` and `dx7d config show [--config FILE]`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml

from ._errors import ConfigError
from ._load import DEFAULT_PATH, config_path, load
from ._paths import resolve_banks_dir, resolve_state_dir

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the `config` command and its `check` and `show` subcommands."""
    parser = subparsers.add_parser(
        "config", help="check or show the configuration",
        description="Check configuration files or show the effective configuration.")
    commands = parser.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: _no_subcommand(parser))

    check = commands.add_parser(
        "check", help="validate configuration files",
        description="Validate each FILE; print 'FILE: ok' or every error. Exit 1 on errors.")
    check.add_argument("files", nargs="+", metavar="FILE", help="a YAML configuration file")
    check.set_defaults(func=_check)

    show = commands.add_parser(
        "show", help="print the effective configuration as YAML",
        description="Print the configuration the daemon would use, defaults filled in.")
    show.add_argument("--config", metavar="FILE", default=None,
                      help=f"configuration file (default: {DEFAULT_PATH} if it exists)")
    show.set_defaults(func=_show)


def _no_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _check(args: argparse.Namespace) -> int:
    status = 0
    for name in args.files:
        try:
            load(name)
        except ConfigError as exc:
            print(exc)
            status = 1
        except Exception as exc:  # a last net: config check never shows a traceback
            print(f"{name}: cannot be checked: {type(exc).__name__}: {str(exc)[:300]}")
            status = 1
        else:
            print(f"{name}: ok")
    return status


def _show(args: argparse.Namespace) -> int:
    try:
        config = load(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    source = config_path(args.config)
    state_dir = resolve_state_dir(config)
    print("# dx7d effective configuration")
    if source is None:
        print(f"# source: built-in defaults ({DEFAULT_PATH} does not exist)")
    else:
        print(f"# source: {source}, over the built-in defaults")
    print(f"# storage.state_dir resolves to: {state_dir}")
    print(f"# storage.banks_dir resolves to: {resolve_banks_dir(config, state_dir)}")
    print(yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True), end="")
    return 0
