"""Reading configuration text: YAML nodes (for line numbers) checked against the schema.

Every problem is collected before anything is refused, and each names the key, the file and
line, the bad value and what is allowed. Nothing here keeps state: load() either returns a
complete new Config or raises ConfigError, so a refused reload changes nothing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from ._checks import Invalid, type_name
from ._errors import ConfigError, ConfigIssue, show_value
from ._fscheck import record_path_problem, state_dir_problem
from ._listen import is_loopback, parse_listen
from ._model import Config
from ._schema import SCHEMA, SECTIONS

__all__ = ["DEFAULT_PATH", "config_path", "default_text", "defaults", "diff", "load", "loads"]

DEFAULT_PATH = Path("/etc/dx7d/config.yaml")
"""The file load() reads when no path is given (if it exists)."""

_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"


def defaults() -> Config:
    """The built-in defaults (the same values config/default.yaml spells out)."""
    return Config.from_values({name: key.default for name, key in SCHEMA.items()})


def config_path(path: str | Path | None = None) -> Path | None:
    """The file load(path) reads: path itself, else DEFAULT_PATH if it exists, else None."""
    if path is not None:
        return Path(path)
    return DEFAULT_PATH if DEFAULT_PATH.exists() else None


def load(path: str | Path | None = None) -> Config:
    """Read a config file over the defaults; see config_path() for which file.

    An explicitly given path that does not exist is an error. Raises ConfigError.
    """
    chosen = config_path(path)
    if chosen is None:
        return defaults()
    name = str(chosen)
    try:
        data = chosen.read_bytes()
    except FileNotFoundError:
        raise ConfigError([_file_issue(name, None, "no such file")]) from None
    except OSError as exc:
        raise ConfigError([_file_issue(name, None, f"cannot read: {exc.strerror}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        message = f"not UTF-8 text (byte offset {exc.start})"
        raise ConfigError([_file_issue(name, line, message)]) from None
    return loads(text, name)


def loads(text: str, source: str = "<string>") -> Config:
    """Parse configuration text over the defaults; ``source`` names it in errors."""
    reader = _Reader(source)
    values = reader.read(text)
    if reader.issues:
        raise ConfigError(sorted(reader.issues, key=lambda i: i.line or 0))
    return Config.from_values(values)


def diff(old: Config, new: Config) -> list[str]:
    """The dotted keys whose values differ, in schema order."""
    return [name for name in SCHEMA if old.get(name) != new.get(name)]


def _file_issue(source: str, line: int | None, message: str, value: object = None,
                allowed: str | None = None) -> ConfigIssue:
    return ConfigIssue(None, value, allowed, source, line, message)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _suggest(word: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


@dataclass
class _Reader:
    """One pass over one document, collecting issues and the values that passed."""

    source: str
    issues: list[ConfigIssue] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)

    def read(self, text: str) -> dict[str, Any]:
        values: dict[str, Any] = {name: key.default for name, key in SCHEMA.items()}
        loader = yaml.SafeLoader(text)
        try:
            try:
                root = loader.get_single_node()
            except yaml.YAMLError as exc:
                self.issues.append(self._syntax_issue(text, exc))
                return values
            except RecursionError:
                self.issues.append(_file_issue(
                    self.source, None, "nested too deeply to read (a configuration has two "
                    "levels: sections and keys)"))
                return values
            if root is None or (isinstance(root, ScalarNode) and root.tag == _NULL_TAG):
                return values  # an empty file: all defaults
            if not isinstance(root, MappingNode):
                try:
                    value = self._construct(loader, root)
                except Invalid:
                    return values
                self.issues.append(_file_issue(
                    self.source, _line(root),
                    f"the top level must be a mapping of sections ({', '.join(SECTIONS)}), "
                    f"not {type_name(value)}", value, "a mapping of sections"))
                return values
            for name, knode, vnode in self._pairs(loader, root, None):
                self._section(loader, name, knode, vnode, values)
        finally:
            loader.dispose()
        self._cross_checks(values)
        self._path_checks(values)
        return values

    def _syntax_issue(self, text: str, exc: yaml.YAMLError) -> ConfigIssue:
        if isinstance(exc, yaml.MarkedYAMLError):
            mark = exc.problem_mark or exc.context_mark
            message = f"YAML syntax error: {exc.problem or exc.context}"
            if exc.problem and exc.context and exc.context_mark is not None:
                message += f" ({exc.context} at line {exc.context_mark.line + 1})"
            if "alias" in message or "flow" in message:
                message += "; values starting with * [ { & or ! must be quoted"
            return _file_issue(self.source, None if mark is None else mark.line + 1, message)
        if isinstance(exc, yaml.reader.ReaderError):
            line = text[:exc.position].count("\n") + 1
            return _file_issue(self.source, line,
                               f"YAML syntax error: unacceptable character {exc.character!r}")
        return _file_issue(self.source, None, f"YAML syntax error: {exc}")

    def _construct(self, loader: yaml.SafeLoader, node: Node) -> Any:
        """The Python value of a node, or Invalid (with an issue already recorded)."""
        try:
            return loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self.issues.append(_file_issue(self.source, _line(node), f"YAML error: {problem}"))
            raise Invalid(problem) from None
        except (ValueError, OverflowError, RecursionError, MemoryError) as exc:
            # e.g. an integer of 5,000 digits (Python reads at most 4,300), a deep nesting
            problem = _short_problem(node, exc)
            self.issues.append(_file_issue(self.source, _line(node), problem))
            raise Invalid(problem) from None

    def _pairs(self, loader: yaml.SafeLoader, mapping: MappingNode,
               section: str | None) -> list[tuple[str, Node, Node]]:
        """The (name, key node, value node) pairs with string keys; others become issues."""
        try:
            loader.flatten_mapping(mapping)  # YAML merge keys (<<: *anchor)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self.issues.append(_file_issue(self.source, _line(mapping), f"YAML error: {problem}"))
            return []
        pairs: list[tuple[str, Node, Node]] = []
        seen: dict[str, int] = {}
        for knode, vnode in mapping.value:
            if not (isinstance(knode, ScalarNode) and knode.tag == _STR_TAG):
                try:
                    key = self._construct(loader, knode)
                except Invalid:
                    continue
                self.issues.append(ConfigIssue(
                    section, key, "a name", self.source, _line(knode),
                    f"key {show_value(key)} ({type_name(key)}) is not a name"))
                continue
            name = str(knode.value)
            dotted = name if section is None else f"{section}.{name}"
            if name in seen:
                self.issues.append(ConfigIssue(
                    dotted, None, None, self.source, _line(knode),
                    f"given twice (first at line {seen[name]})"))
                continue
            seen[name] = _line(knode)
            pairs.append((name, knode, vnode))
        return pairs

    def _section(self, loader: yaml.SafeLoader, name: str, knode: Node, vnode: Node,
                 values: dict[str, Any]) -> None:
        if name not in SECTIONS:
            self._unknown_section(name, knode, loader, vnode)
            return
        if isinstance(vnode, ScalarNode) and vnode.tag == _NULL_TAG:
            return  # "audio:" with every key commented out
        leaves = [k.leaf for k in SCHEMA.values() if k.section == name]
        if not isinstance(vnode, MappingNode):
            try:
                value = self._construct(loader, vnode)
            except Invalid:
                return
            allowed = f"a mapping of keys ({', '.join(leaves)})"
            self.issues.append(ConfigIssue(
                name, value, allowed, self.source, _line(knode),
                f"{show_value(value)} ({type_name(value)}) is not allowed; allowed: {allowed}"))
            return
        for leaf, lknode, lvnode in self._pairs(loader, vnode, name):
            dotted = f"{name}.{leaf}"
            if dotted not in SCHEMA:
                self._unknown_key(name, leaf, lknode, leaves)
                continue
            try:
                value = self._construct(loader, lvnode)
            except Invalid:
                continue
            self.lines[dotted] = _line(lknode)
            key = SCHEMA[dotted]
            try:
                values[dotted] = key.check(value)
            except Invalid as exc:
                reason = f" ({exc.reason})" if exc.reason else ""
                self.issues.append(ConfigIssue(
                    dotted, value, key.allowed, self.source, _line(lknode),
                    f"{show_value(value)}{reason} is not allowed; allowed: {key.allowed}"))

    def _unknown_section(self, name: str, knode: Node, loader: yaml.SafeLoader,
                         vnode: Node) -> None:
        allowed = ", ".join(SECTIONS)
        by_leaf = [k.name for k in SCHEMA.values() if k.leaf == name]
        if name in SCHEMA:
            section, _, leaf = name.partition(".")
            hint = f"dotted keys are not expanded; write {leaf}: under {section}:"
        elif (guess := _suggest(name, list(SECTIONS))) is not None:
            hint = f"did you mean {guess!r}?"
        elif by_leaf:
            section = SCHEMA[by_leaf[0]].section
            hint = f"did you mean {by_leaf[0]!r}? (write {name}: under {section}:)"
        else:
            hint = f"allowed sections: {allowed}"
        try:
            value = self._construct(loader, vnode)
        except Invalid:
            value = None
        self.issues.append(ConfigIssue(name, value, f"one of the sections {allowed}",
                                       self.source, _line(knode), f"unknown section; {hint}"))

    def _unknown_key(self, section: str, leaf: str, knode: Node, leaves: list[str]) -> None:
        dotted = f"{section}.{leaf}"
        elsewhere = [k.name for k in SCHEMA.values() if k.leaf == leaf]
        near = _suggest(leaf, leaves)
        guess = (elsewhere[0] if elsewhere
                 else f"{section}.{near}" if near
                 else _suggest(leaf, [k.leaf for k in SCHEMA.values()]))
        if guess is not None and "." not in guess:
            guess = next(k.name for k in SCHEMA.values() if k.leaf == guess)
        allowed = f"the keys of {section}: {', '.join(leaves)}"
        hint = f"did you mean {guess!r}?" if guess else f"allowed: {allowed}"
        self.issues.append(ConfigIssue(dotted, None, allowed, self.source, _line(knode),
                                       f"unknown key; {hint}"))

    def _path_checks(self, values: dict[str, Any]) -> None:
        """The paths a file sets, tested where they point (dx7d.config._fscheck)."""
        bad = {i.key for i in self.issues}
        checks = (("audio.record", record_path_problem, "a writable file path"),
                  ("storage.state_dir", state_dir_problem, "auto, or a writable directory"))
        for key, problem_of, allowed in checks:
            value = values[key]
            if key in bad or key not in self.lines or value is None:
                continue
            problem = problem_of(value)
            if problem is not None:
                self.issues.append(ConfigIssue(
                    key, value, allowed, self.source, self.lines[key],
                    f"{show_value(value)} cannot be used: {problem}; allowed: {allowed}"))

    def _cross_checks(self, values: dict[str, Any]) -> None:
        """Rules between keys: a listen address others can reach needs a token."""
        bad = {i.key for i in self.issues}
        if "control.listen" in bad or "control.token" in bad:
            return
        listen = values["control.listen"]
        host = parse_listen(listen)[0]
        if not is_loopback(host) and values["control.token"] is None:
            allowed = "a loopback address (127.0.0.1, [::1], localhost), or set control.token"
            self.issues.append(ConfigIssue(
                "control.listen", listen, allowed, self.source,
                self.lines.get("control.listen"),
                f"{show_value(listen)} is not a loopback address and control.token is null; "
                f"allowed: {allowed}"))


def _short_problem(node: Node, exc: BaseException) -> str:
    """A one-line description of a value YAML could not turn into Python."""
    if isinstance(exc, RecursionError):
        return "a value nested too deeply to read"
    if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:int":
        return f"an integer of {len(str(node.value))} characters is not allowed (too long)"
    return f"a value that cannot be read: {type(exc).__name__}: {str(exc)[:200]}"


def default_text() -> str:
    """The text of the shipped config/default.yaml (every key, its default, a comment)."""
    return resources.files("dx7d.config").joinpath("default.yaml").read_text(encoding="utf-8")
