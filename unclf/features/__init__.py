"""Paragraphs -> feature matrices, one row per paragraph, built from token arrays.

Words are spaCy's hashed lower-case forms, so features cost a few array operations per
document rather than a second pass over the text. Three sparse blocks share one hashing
scheme: the paragraph's own words and word pairs, its section heading's words, and its
neighbours' words. A fourth block holds the character n-grams of the paragraph's words (as
scikit-learn's ``char_wb`` analyzer makes them), computed once per distinct word and summed per
paragraph with a sparse product, so that "minority" and "minorities" share evidence. Layout
(where the paragraph sits, what kind it is, how it ends, whether it is the first to name a date
or a company) is a small dense array that the second stage uses directly. The mentions are the
one search of the paragraph text itself: the hashed forms are lower case ("limited resources"
would be a company) and a date spans several tokens; it costs 0.4 s on the 136 UPR reports.

``text``: the sparse blocks (``ParagraphFeaturizer``) and the plain TF-IDF; ``layout``: the
dense array and where paragraphs sit; ``names``: a label's name looked for in the paragraphs.
"""

from unclf.features.layout import (
    LAYOUT_FEATURES,
    document_offsets,
    heading_rows,
    layout_features,
    lead_ins,
)
from unclf.features.names import ParagraphWords, name_matches, name_words
from unclf.features.text import ParagraphFeaturizer, plain_tfidf

__all__ = [
    "LAYOUT_FEATURES",
    "ParagraphFeaturizer",
    "ParagraphWords",
    "document_offsets",
    "heading_rows",
    "layout_features",
    "lead_ins",
    "name_matches",
    "name_words",
    "plain_tfidf",
]
