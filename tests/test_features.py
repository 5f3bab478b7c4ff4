"""Layout features: one named column each, and what the punctuation columns say."""

from __future__ import annotations

import numpy as np

from unclf.features import LAYOUT_FEATURES, layout_features
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


def test_a_document_without_paragraphs_has_no_rows():
    (doc,) = parse_documents([""])
    assert layout_features(doc).shape == (0, len(LAYOUT_FEATURES))
