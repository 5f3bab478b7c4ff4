"""Documents of any length: tokenized in chunks, segmented whole, same results as in one piece."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

import unclf.segmenter.pipeline
from unclf.cli import main
from unclf.segmenter import find_paragraphs, paragraph_pipeline, parse_many, segment_many

REPO = Path(__file__).resolve().parent.parent
TEXTS = [json.loads(line)["text"] for line in (REPO / "data" / "examples.jsonl").open()]


def test_chunked_tokenizing_gives_the_same_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = list(parse_many(TEXTS))
    monkeypatch.setattr(unclf.segmenter.pipeline, "_CHUNK_CHARS", 40)
    assert max(len(t) for t in TEXTS) > 40 * 20
    for a, b in zip(whole, parse_many(TEXTS), strict=True):
        assert a.paragraphs == b.paragraphs
        assert a.words == b.words
        for name in ("token_ids", "token_paragraph", "token_word"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_stretch_by_stretch_tokenizing_gives_spacy_s_parse_of_the_whole_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # spaCy's special cases ("e.g.", "Mr.", "don't"), whitespace other than spaces, a lone
    # surrogate, paragraphs that open with punctuation, and a memory of stretches that fills.
    odd = (
        "I. Scope\n\n(a) Mr. Smith, e.g. the chair, didn't agree;\u3000see\u2003para.\x1c2."
        '\n\n"Quoted" text \ud800 ends here.\n\n- 3.5% of $10,000 (approx.)\n'
    )
    texts = [*TEXTS, odd]
    by_stretch = list(parse_many(texts))
    monkeypatch.setattr(unclf.segmenter.pipeline, "_STRETCH_TOKENS", {})
    small = unclf.segmenter.pipeline._StretchTokens(paragraph_pipeline().tokenizer, size=10)
    monkeypatch.setattr(unclf.segmenter.pipeline, "_StretchTokens", lambda tokenizer: small)
    refilled = list(parse_many(texts))
    monkeypatch.setattr(unclf.segmenter.pipeline, "Tokenizer", type(None))  # whole text, chunks
    whole = list(parse_many(texts))
    assert len(by_stretch[-1].words) > 10
    for a, b, c in zip(whole, by_stretch, refilled, strict=True):
        assert a.words == b.words == c.words
        for name in ("token_ids", "token_paragraph", "token_word"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
            np.testing.assert_array_equal(getattr(a, name), getattr(c, name))


def test_chunks_end_where_whitespace_ends() -> None:
    text = "one two\n\nthree  four five" + "x" * 30 + " six"
    spans = list(unclf.segmenter.pipeline._chunks(text, 5))
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in pairwise(spans))
    assert all(text[start - 1].isspace() and not text[start].isspace() for start, _ in spans[1:])


def test_texts_longer_than_max_length(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    nlp = paragraph_pipeline()
    path = REPO / "data" / "unlabelled"
    assert main(["segment", str(path)]) == 0
    expected = capsys.readouterr().out
    monkeypatch.setattr(nlp, "max_length", 1000)  # spaCy refuses a Doc of a longer text
    assert list(segment_many(TEXTS)) == [find_paragraphs(t) for t in TEXTS]
    assert main(["segment", str(path)]) == 0
    assert capsys.readouterr().out == expected
    assert main(["predict", str(path), "--top-k", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
