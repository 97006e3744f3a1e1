"""Preset: the flat (145,) vector, its fields, normalisation and lossless Patch round trips."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
from dx7d.voices import PARAMETERS, PRESET_FIELDS, PRESET_LAYOUT, PRESET_SIZE, Patch, Preset
from hypothesis import given, settings
from hypothesis import strategies as st

EXAMPLES = settings(max_examples=200, deadline=None)


@st.composite
def patches(draw: st.DrawFn) -> Patch:
    """A random valid voice: each of the 145 sound parameters anywhere in its range."""
    patch = Patch(name="PROPERTY")
    for p in PARAMETERS[:145]:
        patch.set_param(p.number, draw(st.integers(p.low, p.high)))
    return patch


@st.composite
def vectors(draw: st.DrawFn) -> np.ndarray:
    """A valid (145,) vector: continuous anywhere in [0, 1], discrete whole numbers."""
    out = np.zeros(PRESET_SIZE, dtype=np.float32)
    for s in PRESET_LAYOUT:
        if s.discrete:
            out[s.index] = draw(st.integers(0, s.high))
        else:
            out[s.index] = draw(st.floats(0.0, 1.0, width=32))
    return out


def test_layout_covers_the_145_sound_parameters_once() -> None:
    assert len(PRESET_LAYOUT) == PRESET_SIZE == 145
    assert sorted(s.parameter for s in PRESET_LAYOUT) == list(range(145))
    assert [s.index for s in PRESET_LAYOUT] == list(range(145))
    assert PRESET_FIELDS[-1].stop == 145


def test_layout_matches_the_parameter_ranges() -> None:
    for s in PRESET_LAYOUT:
        assert PARAMETERS[s.parameter].low == 0
        assert PARAMETERS[s.parameter].high == s.high, s


def test_continuous_first_then_discrete() -> None:
    kinds = [s.discrete for s in PRESET_LAYOUT]
    assert kinds == [False] * 123 + [True] * 22


def test_known_positions() -> None:
    """A few elements pinned by hand (probed on dexed-py 0.3)."""
    by_index = {s.index: (s.field, s.element) for s in PRESET_LAYOUT}
    assert by_index[0] == ("feedback", ())
    assert by_index[15] == ("op_env_rates", (0, 0))
    assert by_index[18] == ("op_env_rates", (0, 3))
    assert by_index[19] == ("op_env_rates", (1, 0))
    assert by_index[63] == ("op_output_level", (0,))
    assert by_index[125] == ("algorithm", ())
    assert by_index[144] == ("op_right_curve", (5,))


def test_field_sets_exactly_its_elements() -> None:
    base = Preset().to_array()
    for f in PRESET_FIELDS:
        p = Preset()
        value = np.asarray(getattr(p, f.name))
        new = np.where(value == 0, 1.0, 0.0)  # 1 is in range for every field
        setattr(p, f.name, new)
        changed = np.nonzero(p.to_array() != base)[0]
        assert set(changed) <= set(range(f.start, f.stop)), f.name
        assert len(changed) > 0, f.name


def test_op_rows_are_operators_one_to_six() -> None:
    patch = Patch()
    patch.op[0].output_level = 11  # OP1
    patch.op[5].output_level = 66  # OP6
    preset = patch.to_preset()
    assert preset.op_output_level[0] == np.float32(11 / 99)
    assert preset.op_output_level[5] == np.float32(66 / 99)


def test_normalisation_divides_by_the_maximum() -> None:
    patch = Patch()
    patch.feedback = 7
    patch.transpose = 12
    patch.op[2].frequency_coarse = 31
    patch.op[3].detune = 14
    patch.op[4].amp_mod_sensitivity = 1
    patch.algorithm = 15
    preset = Preset.from_patch(patch)
    assert preset.feedback == pytest.approx(1.0)
    assert preset.transpose == pytest.approx(12 / 48)
    assert preset.op_frequency_coarse[2] == pytest.approx(1.0)
    assert preset.op_detune[3] == pytest.approx(1.0)
    assert preset.op_amp_mod_sensitivity[4] == pytest.approx(1 / 3)
    assert preset.algorithm == 15
    assert preset.to_array().dtype == np.float32


def test_defaults_are_dexed_pys() -> None:
    """All operators at 99, detune 7, breakpoint 39, sine LFO at speed 35."""
    p = Preset().to_patch()
    assert [op.output_level for op in p.op] == [99] * 6
    assert p.op[0].envelope.levels == (99, 99, 99, 0)
    assert (p.op[0].detune, p.op[0].breakpoint, p.lfo.speed, p.lfo.wave_index) == (7, 39, 35, 4)


def test_seed_constructor() -> None:
    preset = Preset(algorithm=15, feedback=0.5, op_output_level=np.full(6, 0.8, np.float32))
    patch = preset.to_patch()
    assert patch.algorithm == 15
    assert patch.feedback == 4  # 3.5 rounds half to even
    assert [op.output_level for op in patch.op] == [79] * 6  # 79.2


@EXAMPLES
@given(patches())
def test_patch_preset_patch_is_lossless(patch: Patch) -> None:
    back = Preset.from_patch(patch).to_patch(name="PROPERTY")
    assert back.to_vced() == patch.to_vced()
    assert patch.to_preset() == Preset.from_patch(patch)


@EXAMPLES
@given(patches())
def test_array_round_trip(patch: Patch) -> None:
    preset = patch.to_preset()
    arr = preset.to_array()
    assert arr.shape == (145,) and arr.dtype == np.float32
    again = Preset.from_array(arr)
    assert again == preset
    assert np.array_equal(again.to_array(), arr)


@EXAMPLES
@given(vectors())
def test_vector_to_patch_to_vector_is_its_quantisation(vector: np.ndarray) -> None:
    """Any valid vector lands on the nearest voice, and that voice is a fixed point."""
    first = Preset.from_array(vector).to_patch().to_preset()
    assert first.to_patch().to_preset() == first
    step = np.where([s.discrete for s in PRESET_LAYOUT], 0.0,
                    0.5 / np.array([s.high for s in PRESET_LAYOUT]))
    assert np.all(np.abs(first.to_array() - vector) <= step + 1e-6)


def test_array_to_leaves_matches_fields() -> None:
    patch = Patch()
    patch.algorithm, patch.op[3].left_curve, patch.lfo.speed = 9, 2, 71
    preset = patch.to_preset()
    leaves = Preset.array_to_leaves(preset.to_array())
    assert len(leaves) == len(PRESET_FIELDS) == 28
    for f, leaf in zip(PRESET_FIELDS, leaves, strict=True):
        assert leaf.shape == f.shape
        assert np.array_equal(leaf, np.asarray(getattr(preset, f.name), dtype=np.float32))
    rebuilt = Preset.from_leaves(leaves)
    assert rebuilt == preset


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("algorithm", 32, "0-31"),
        ("algorithm", 1.5, "whole numbers"),
        ("feedback", 1.2, r"\[0, 1\]"),
        ("feedback", float("nan"), "finite"),
        ("op_output_level", np.zeros(5), r"shape \(6,\)"),
        ("op_env_rates", np.zeros(6), r"shape \(6, 4\)"),
        ("lfo_wave", 6, "0-5"),
    ],
)
def test_bad_fields_are_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Preset(**{field: value})


def test_unknown_field_is_refused() -> None:
    with pytest.raises(TypeError, match="no field 'algo'"):
        Preset(algo=3)
    with pytest.raises(AttributeError, match="no field"):
        Preset().speed = 3  # type: ignore[attr-defined]


def test_from_array_checks_shape_and_ranges() -> None:
    with pytest.raises(ValueError, match=r"shape \(145,\)"):
        Preset.from_array(np.zeros(146))
    arr = Preset().to_array()
    arr[63] = 1.5
    with pytest.raises(ValueError, match=r"element 63 \(op_output_level\[0\], OP1 output level\)"):
        Preset.from_array(arr)
    assert Preset.from_array(arr, clip=True).op_output_level[0] == 1.0
    arr = Preset().to_array()
    arr[125] = 40
    with pytest.raises(ValueError, match="algorithm"):
        Preset.from_array(arr)
    arr[125] = 2.6  # a sampled discrete value: the nearest whole number
    assert Preset.from_array(arr).algorithm == 3


def test_scalar_broadcasts_to_operator_rows() -> None:
    assert np.array_equal(Preset(op_detune=0.5).op_detune, np.full(6, 0.5, np.float32))


def test_pickle_and_copy() -> None:
    preset = Preset(algorithm=7, lfo_speed=0.25)
    assert pickle.loads(pickle.dumps(preset)) == preset
    twin = preset.copy()
    twin.op_output_level[0] = 0.0
    assert twin != preset


def test_bulk_storage_round_trip() -> None:
    presets = [Preset(algorithm=a, feedback=a / 31) for a in range(32)]
    bank = np.stack([p.to_array() for p in presets])
    assert bank.shape == (32, 145)
    assert [Preset.from_array(row) for row in bank] == presets


def test_docs_layout_table_is_the_layout() -> None:
    """docs/ml.md prints the 145 rows of PRESET_LAYOUT; they must not drift apart."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "ml.md").read_text()
    rows = [line for line in doc.splitlines() if re.match(r"\| \d+ \| `", line)]
    assert len(rows) == 145
    for s, row in zip(PRESET_LAYOUT, rows, strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        element = "" if not s.element else "[" + ", ".join(map(str, s.element)) + "]"
        norm = "whole number" if s.discrete else f"value / {s.high}"
        assert cells == [str(s.index), f"`{s.field}`", element, s.label, f"0-{s.high}", norm]
