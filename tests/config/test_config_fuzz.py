"""loads() on arbitrary text either returns a Config or raises ConfigError, nothing else."""

from __future__ import annotations

import yaml
from dx7d.config import Config, ConfigError, loads
from hypothesis import given, settings
from hypothesis import strategies as st

_YAMLISH = st.text(alphabet=st.sampled_from(list("audiomplevrnt_.:-[]{}*&!#'\"\n 0123456789")),
                   max_size=80)
_SECTIONS = st.sampled_from(["audio", "midi", "engine", "log", "control", "x"])
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(),
                    st.text(max_size=10), st.lists(st.integers(), max_size=3))


@settings(max_examples=300, deadline=None)
@given(_YAMLISH)
def test_arbitrary_text_gives_config_or_config_error(text: str) -> None:
    try:
        result = loads(text, "fuzz.yaml")
    except ConfigError as exc:
        assert all(str(i).startswith("fuzz.yaml") for i in exc.errors)
    else:
        assert isinstance(result, Config)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_SECTIONS, st.dictionaries(
    st.sampled_from(["sample_rate", "device", "inputs", "channel", "level", "listen", "y"]),
    _VALUES, max_size=3), max_size=3))
def test_structured_values_give_config_or_issues_with_lines(doc: dict[str, object]) -> None:
    try:
        loads(yaml.safe_dump(doc), "fuzz.yaml")
    except ConfigError as exc:
        assert all(i.line is not None for i in exc.errors)
