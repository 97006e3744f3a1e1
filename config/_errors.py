"""ConfigError and ConfigIssue: every problem in a configuration, with key, value and place."""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["ConfigError", "ConfigIssue", "show_value"]


def show_value(value: object) -> str:
    """A value as it would be written in YAML flow style (JSON is valid YAML): '"abc"', 'null'."""
    if isinstance(value, tuple):
        value = list(value)
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # e.g. a self-referencing YAML alias
        return repr(value)


@dataclass(frozen=True)
class ConfigIssue:
    """One problem found in a configuration source.

    ``key`` is the dotted key ("audio.sample_rate"), or None for a problem with the whole
    file (syntax error, missing file, top level not a mapping). ``value`` is the offending
    value as read (None when there is none). ``allowed`` says what would be accepted (None
    when nothing sensible can be said). ``line`` is 1-based, or None when unknown.
    ``message`` is the text after the key, e.g. '12345 is not allowed; allowed: one of ...'.
    """

    key: str | None
    value: object
    allowed: str | None
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        place = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.key is None:
            return f"{place}: {self.message}"
        return f"{place}: {self.key}: {self.message}"


class ConfigError(ValueError):
    """A configuration was refused; ``errors`` holds every problem found, not just the first."""

    def __init__(self, errors: list[ConfigIssue]) -> None:
        if not errors:
            raise ValueError("ConfigError needs at least one ConfigIssue")
        self.errors: list[ConfigIssue] = list(errors)
        super().__init__("\n".join(str(issue) for issue in self.errors))
