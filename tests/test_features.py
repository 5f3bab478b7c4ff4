"""Layout features: one named column each, and what the punctuation columns say; the sparse
blocks: what the character n-grams share that the words do not."""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

from unclf.features import (
    LAYOUT_FEATURES,
    ParagraphFeaturizer,
    ParagraphWords,
    layout_features,
    name_matches,
    name_words,
)
from unclf.features.text import _take_columns
from unclf.model import parse_documents

LEAD_IN = (
    "This Agreement is made by and between:\n\n"
    "Acme Trading Ltd, a company registered in Ruritania.\n\n"
    "Decides to remain seized of the matter;\n\n"
    "and requests the Secretary-General to report on its implementation."
)


def test_every_layout_column_is_named():
    (doc,) = parse_documents([LEAD_IN])
    assert layout_features(doc).shape == (len(doc.paragraphs), len(LAYOUT_FEATURES))


def test_punctuation_marks_lead_in_list_item_and_continuation():
    (doc,) = parse_documents([LEAD_IN])
    assert len(doc.paragraphs) == 4
    layout = layout_features(doc)
    column = {name: layout[:, i] for i, name in enumerate(LAYOUT_FEATURES)}
    np.testing.assert_array_equal(column["ends_with_colon"], [1, 0, 0, 0])
    np.testing.assert_array_equal(column["previous_ends_with_colon"], [0, 1, 0, 0])
    np.testing.assert_array_equal(column["ends_with_period"], [0, 1, 0, 1])
    np.testing.assert_array_equal(column["ends_with_semicolon"], [0, 0, 1, 0])
    np.testing.assert_array_equal(column["starts_lower_case"], [0, 0, 0, 1])


COVER_PAGE = (
    "Exhibit 10.3\n\n"
    "SUPPLY AGREEMENT dated January 29, 2007\n\n"
    "This Agreement is made on 26 September 2019 between Acme Trading Ltd and "
    "CURO MANAGEMENT, LLC.\n\n"
    "The Distributor may 2010 units of limited resources under A/HRC/9/8 and clause 13.1.12 "
    "in the U.S.A.\n\n"
    "Signed on 03/01/05 for Wells Fargo Bank, N.A.\n\n"
    "Company-wide deliveries on 1 May 2020, 1 June 2020, 1 July 2020, 1 August 2020, "
    "1 September 2020 and 1 October 2020."
)


def test_mentions_count_dates_and_companies_and_mark_the_first_paragraph_to_name_one():
    (doc,) = parse_documents([COVER_PAGE])
    assert len(doc.paragraphs) == 6
    layout = layout_features(doc)
    column = {name: layout[:, i] for i, name in enumerate(LAYOUT_FEATURES)}
    # a document symbol, a clause number, "may 2010", "limited resources", "U.S.A." and
    # "Company-wide" are neither a date nor a company; six dates count as five
    np.testing.assert_array_equal(column["dates"], [0, 1, 1, 0, 1, 5])
    np.testing.assert_array_equal(column["dates_first_in_document"], [0, 1, 0, 0, 0, 0])
    np.testing.assert_allclose(column["dates_log_paragraphs_before"], np.log1p([0, 0, 1, 2, 2, 3]))
    np.testing.assert_array_equal(column["organisations"], [0, 0, 2, 0, 1, 0])
    np.testing.assert_array_equal(column["organisations_first_in_document"], [0, 0, 1, 0, 0, 0])
    np.testing.assert_allclose(
        column["organisations_log_paragraphs_before"], np.log1p([0, 0, 0, 1, 1, 2])
    )


def test_a_document_without_paragraphs_has_no_rows():
    (doc,) = parse_documents([""])
    assert layout_features(doc).shape == (0, len(LAYOUT_FEATURES))


def _cosines(rows) -> np.ndarray:
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)))
    unit = rows.multiply(1 / norms).tocsr()
    return (unit @ unit.T).toarray()


def test_character_ngrams_join_the_forms_of_a_word_that_the_words_keep_apart():
    docs = list(parse_documents(["1. The minority.\n\n2. Some minorities.\n\n3. A budget line."]))
    featurizer = ParagraphFeaturizer(min_df=1).fit(docs)
    features = featurizer.transform(docs)
    words = _cosines(features[:, featurizer.block_columns(["words"])])
    chars = _cosines(features[:, featurizer.block_columns(["chars"])])
    assert words[0, 1] == 0
    assert chars[0, 1] > 0.2
    assert chars[0, 2] == 0 and chars[1, 2] == 0


def test_a_name_counts_its_rare_words_and_their_other_forms():
    texts = [
        "This Agreement shall be governed by the laws of New York.",
        "The rights of the parties under this Agreement are set out below.",
        "Each party keeps its rights to its own property.",
        "Notices under this Agreement are given in writing.",
        "Nothing here is unlawful.",
    ]
    paragraphs = ParagraphWords(texts)
    words = dict(name_words("Governing Law", paragraphs))
    assert len(words) == 2  # "govern" finds "governed"; "law" finds "laws", not "lawful"
    matches = name_matches(paragraphs, list(words.items()))
    assert matches[0] == 1.0 and not matches[1:].any()
    # A word in every paragraph tells nothing and weighs nothing.
    assert name_words("Agreement", ParagraphWords(texts[:2] + texts[3:4])) == []
    # Rarer words weigh more: "rights" is in two paragraphs, "property" in one.
    weights = [w for _, w in name_words("Property rights", paragraphs)]
    assert weights[0] > weights[1] > 0
    assert not name_matches(paragraphs, name_words(None, paragraphs)).any()


def test_a_name_is_found_in_the_same_paragraphs_as_searching_each_paragraph_finds_it():
    texts = [
        "Non-discrimination of MINORITIES; the minority's rights.",
        "Laws, LAWES and lawful acts; by-laws.",
        "\u212aelvin kept the \u017ftatute (long s) and \u00c9galit\u00e9 d'accès.",
        "",
        "minorities2020 and _minority and 3laws",
        "Governance governs: governing-law clause",
    ]
    words = ParagraphWords(texts)  # the first patterns searched for, the others on the words
    patterns = [
        pattern
        for word in ("minority", "minorities", "law", "laws", "kelvin", "statute", "égalité")
        for pattern in (
            rf"(?i)(?<!\w){re.escape(word[:5])}",
            rf"(?i)(?<!\w){re.escape(word[:4])}(?:e?s)?(?!\w)",
        )
    ]
    for pattern in patterns * 2:
        searched = [re.search(pattern, t) is not None for t in texts]
        assert words.holding(pattern).tolist() == searched, pattern


def test_columns_taken_in_place_are_scipy_s_columns() -> None:
    # Empty rows, a row longer than a step, columns dropped from every row or kept whole.
    rng = np.random.default_rng(0)
    for trial in range(60):
        n_rows, n_columns = int(rng.integers(0, 30)), int(rng.integers(1, 40))
        matrix = sp.random(
            n_rows, n_columns, density=rng.random(), format="csr", random_state=trial
        ).astype(np.float32)
        matrix.sort_indices()
        columns = np.sort(rng.choice(n_columns, rng.integers(0, n_columns + 1), replace=False))
        expected = matrix[:, columns]
        taken = _take_columns(matrix.copy(), columns, step=int(rng.integers(1, 12)))
        assert taken.shape == expected.shape
        for name in ("indptr", "indices", "data"):
            np.testing.assert_array_equal(getattr(taken, name), getattr(expected, name))
