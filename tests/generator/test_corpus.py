"""The corpus: real .syx files read leniently, deduplicated without names, silent
operators in one form, categories from names, a held-out split by file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from dx7d.generator._params import (
    CAT_INDEX,
    INPUT_SIZE,
    ORD_INDEX,
    OUTPUT_SIZE,
    audible_operators,
    canonical,
    decode_outputs,
    encode_inputs,
)
from dx7d.generator.corpus import CATEGORIES, Corpus, build_corpus, categorise
from dx7d.voices import Bank, Patch
from dx7d.voices._spec import op_base


def _voice(patch: Patch) -> np.ndarray:
    return np.frombuffer(patch.to_vced()[:145], dtype=np.uint8).copy()


def test_an_operator_at_level_zero_is_not_heard_and_its_modulator_neither() -> None:
    # algorithm 1 (index 0): OP2 modulates OP1 (carrier), OP6>5>4>3 stack on carrier OP3
    p = Patch().replace(algorithm=0, op1_output_level=99, op2_output_level=80,
                        op3_output_level=0, op4_output_level=70)
    heard = audible_operators(_voice(p))
    assert list(heard) == [True, True, False, False, False, False]


def test_canonical_form_ignores_what_cannot_be_heard() -> None:
    a = Patch().replace(algorithm=0, op1_output_level=99, op3_output_level=0,
                        op4_output_level=70, op4_frequency_coarse=5)
    b = a.replace(op4_frequency_coarse=9, op4_detune=2, op3_eg_rate_1=10)
    assert not np.array_equal(_voice(a), _voice(b))
    assert np.array_equal(canonical(_voice(a)), canonical(_voice(b)))
    # a heard operator's change is kept
    c = a.replace(op1_frequency_coarse=3)
    assert not np.array_equal(canonical(_voice(a)), canonical(_voice(c)))
    silent = canonical(_voice(a))[op_base(3):op_base(3) + 21]
    assert silent[16] == 0  # output level 0


def test_inputs_and_outputs_round_trip_every_parameter(shared_banks: Path) -> None:
    voices = np.stack([_voice(p) for p in Bank.read(shared_banks / "rom1A.syx")])
    x = encode_inputs(voices)
    assert x.shape == (32, INPUT_SIZE)
    # a decoder output that puts everything on the right value decodes to the voices
    out = np.full((32, OUTPUT_SIZE), -30.0, dtype=np.float32)
    from dx7d.generator._params import CAT_OFFSETS, NORD, ORD_COMPONENTS

    width = int(CAT_OFFSETS[-1])
    for k, number in enumerate(CAT_INDEX):
        out[np.arange(32), CAT_OFFSETS[k] + voices[:, number]] = 30.0
    block = NORD * ORD_COMPONENTS
    means = voices[:, ORD_INDEX] / 49.5 - 1.0
    out[:, width:width + block] = 0.0
    out[:, width + block:width + 2 * block] = np.repeat(means, ORD_COMPONENTS, axis=1)
    out[:, width + 2 * block:] = -3.0
    assert np.array_equal(decode_outputs(out), voices)


@pytest.mark.parametrize(("name", "category"), [
    ("SOLID BASS", "bass"), ("E.PIANO 1", "e-piano"), ("PIANO 2", "piano"),
    ("STRINGS 1", "strings"), ("BRASS   1", "brass"), ("VIBE    1", "bell"),
    ("KOTO", "pluck"), ("PIPES   1", "organ"), ("SNARE 1", "percussion"),
    ("LASER", "fx"), ("WARM PAD", "pad"), ("FLUTE 1", "lead"), ("ZXQ", "other"),
])
def test_categories_come_from_the_keyword_table(name: str, category: str) -> None:
    assert categorise(name) == category


def test_build_counts_files_voices_and_drops_with_reasons(shared_banks: Path,
                                                          tmp_path: Path) -> None:
    folder = tmp_path / "banks"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(shared_banks / "rom1A.syx", folder / "a.syx")
    # the same voices renamed: duplicates, since names are left out
    bank = Bank.read(shared_banks / "rom1A.syx")
    renamed = Bank([p.replace(name=f"COPY {i}") for i, p in enumerate(bank)])
    renamed.write(folder / "sub" / "renamed.SYX")
    Bank().write(folder / "init.syx")  # 32 INIT VOICEs
    (folder / "junk.syx").write_bytes(b"\xf0\x00\x01\xf7")
    corpus, report = build_corpus([folder])
    assert report.files == 4 and report.files_unreadable == 1
    assert "junk.syx" in report.errors[0]
    assert report.voices_read == 96
    unique = len({canonical(_voice(p)).tobytes() for p in bank})
    assert report.kept == len(corpus) == unique
    assert report.dropped["INIT VOICE"] == 32
    assert report.dropped["duplicate (name left out, silent operators canonical)"] == \
        64 - unique
    assert sum(report.per_category.values()) == len(corpus)
    assert set(corpus.sources) == {"a.syx"}  # first seen wins
    text = "\n".join(report.lines())
    assert "unique kept" in text and "dropped 32: INIT VOICE" in text
    path = tmp_path / "corpus.npz"
    corpus.save(path)
    again = Corpus.load(path)
    assert np.array_equal(again.voices, corpus.voices) and again.names == corpus.names
    assert [CATEGORIES[c] for c in again.categories] == [categorise(n) for n in again.names]


def test_held_out_split_keeps_each_file_on_one_side(small_corpus: Corpus) -> None:
    held = small_corpus.held_out_mask()
    for source in set(small_corpus.sources):
        sides = {bool(h) for h, s in zip(held, small_corpus.sources, strict=True)
                 if s == source}
        assert len(sides) == 1
    assert 0 < held.sum() < len(held)
