"""Reference methods that a user would otherwise reach for, measured on the same folds.

Each baseline is fitted on (texts, target spans) and ranks spans of a new text, best first; the
metrics score those spans against the gold spans exactly as they score the model's paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from unclf.metrics import hits

__all__ = ["NaiveTfidfBaseline", "naive_paragraphs"]

_NAIVE_BREAK = re.compile(r"\n[ \t]*\n\s*|\n(?=[ \t]*\d{1,3}(?:\.\d{1,3})*\.\s)")


def naive_paragraphs(text: str) -> list[tuple[int, int]]:
    """Split at blank lines and before lines that start with a paragraph number."""
    spans = []
    start = 0
    for m in _NAIVE_BREAK.finditer(text):
        if text[start : m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


class NaiveTfidfBaseline:
    """TF-IDF + logistic regression per paragraph over naive blank-line/number splitting."""

    def fit(self, texts: Sequence[str], targets: Sequence[Sequence[tuple[int, int]]]):
        rows, labels = [], []
        for text, spans in zip(texts, targets, strict=True):
            for start, end in naive_paragraphs(text):
                rows.append(text[start:end])
                labels.append(int(bool(hits(start, end, spans))))
        self.vectorizer_ = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2)
        self.classifier_ = LogisticRegression(max_iter=1000, class_weight="balanced")
        self.classifier_.fit(self.vectorizer_.fit_transform(rows), labels)
        return self

    def rank(self, text: str) -> list[tuple[int, int]]:
        spans = naive_paragraphs(text)
        if not spans:
            return []
        scores = self.classifier_.decision_function(
            self.vectorizer_.transform([text[s:e] for s, e in spans])
        )
        return [spans[i] for i in np.argsort(-scores, kind="stable")]
