"""Reference methods that a user would otherwise reach for, measured on the same folds.

Each baseline is fitted on parsed documents and their target spans and ranks spans of a new
document, best first; the metrics score those spans against the gold spans exactly as they
score the model's paragraphs. All but the reference rank unclf's own paragraphs, so a
difference to the model is a difference in ranking; the reference (``naive=True``) splits the
text naively, as the benchmark data's README measures it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import ClassVar, Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils import Tags
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from unclf.contracts import (
    DocumentEstimatorMixin,
    check_document,
    check_documents,
    check_fit_input,
    fitted_at_end,
)
from unclf.features import plain_tfidf
from unclf.metrics import hits
from unclf.segmenter import ParsedDocument, parse_many

__all__ = [
    "REFERENCE",
    "DocumentTfidfLogistic",
    "FirstParagraph",
    "LongestParagraph",
    "PositionPrior",
    "Ranker",
    "TfidfLogistic",
    "TfidfSimilarity",
    "default_baselines",
    "naive_paragraphs",
    "rank_labels",
]

Spans = Sequence[tuple[int, int]]
Documents = Sequence[str | ParsedDocument]
_NAIVE_BREAK = re.compile(r"\n[ \t]*\n\s*|\n(?=[ \t]*\d{1,3}(?:\.\d{1,3})*\.\s)")


class Ranker(Protocol):
    """What the evaluation needs of a baseline (a scikit-learn estimator, so it can be cloned
    for each fold): learn from documents and target spans, rank a document's spans."""

    def fit(self, docs: Documents, targets: Sequence[Spans]) -> Ranker: ...

    def rank(self, doc: str | ParsedDocument) -> list[tuple[int, int]]: ...


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


def _parsed(docs: Documents) -> list[ParsedDocument]:
    """Documents parsed as the model parses them; parsed ones pass through."""
    check_documents(docs)
    for doc in docs:
        check_document(doc)
    parsed = parse_many([d for d in docs if isinstance(d, str)])
    return [next(parsed) if isinstance(d, str) else d for d in docs]


class _ParagraphRanker(DocumentEstimatorMixin, BaseEstimator):
    """Ranks a document's paragraphs by ``_scores``; ties keep document order."""

    _parameter_constraints: ClassVar[dict] = {}

    @_fit_context(prefer_skip_nested_validation=True)
    @fitted_at_end
    def fit(self, docs: Documents, targets: Sequence[Spans]) -> _ParagraphRanker:
        check_fit_input(self, docs, targets)
        self._learn(_parsed(docs), targets)
        return self

    def _learn(self, docs: Sequence[ParsedDocument], targets: Sequence[Spans]) -> None:
        """What the ranker learns from the training documents (a fixed rule: nothing)."""

    def _spans(self, doc: ParsedDocument) -> list[tuple[int, int]]:
        return [(p.start, p.end) for p in doc.paragraphs]

    def _texts(self, doc: ParsedDocument) -> list[str]:
        return [p.text for p in doc.paragraphs]

    def _scores(self, doc: ParsedDocument) -> np.ndarray:
        raise NotImplementedError

    def rank(self, doc: str | ParsedDocument) -> list[tuple[int, int]]:
        """One document's spans, best first."""
        check_is_fitted(self)
        [doc] = _parsed([doc])
        spans = self._spans(doc)
        if not spans:
            return []
        return [spans[i] for i in np.argsort(-self._scores(doc), kind="stable")]

    def _training_rows(
        self, docs: Sequence[ParsedDocument], targets: Sequence[Spans]
    ) -> tuple[list[str], np.ndarray]:
        """Every training paragraph's text, and 1 where it holds a target."""
        rows, labels = [], []
        for doc, spans in zip(docs, targets, strict=True):
            rows += self._texts(doc)
            labels += [int(bool(hits(s, e, spans))) for s, e in self._spans(doc)]
        return rows, np.asarray(labels, dtype=np.int8)


class _FixedRule(_ParagraphRanker):
    """A ranker that learns nothing, so needs no fit (scikit-learn's ``requires_fit`` tag)."""

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class FirstParagraph(_FixedRule):
    """The first paragraph; then the rest in document order."""

    def _scores(self, doc: ParsedDocument) -> np.ndarray:
        return -np.arange(len(doc.paragraphs), dtype=float)


class LongestParagraph(_FixedRule):
    """The longest paragraph first (a segmenter returning huge paragraphs would win here)."""

    def _scores(self, doc: ParsedDocument) -> np.ndarray:
        return np.array([p.end - p.start for p in doc.paragraphs], dtype=float)


def _relative_position(n: int) -> np.ndarray:
    return np.arange(n) / (n - 1) if n > 1 else np.zeros(n)


class PositionPrior(_ParagraphRanker):
    """Where in their documents the training targets sit (a smoothed histogram of relative
    positions); paragraphs at the most frequent place rank first."""

    _parameter_constraints: ClassVar[dict] = {"bins": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, bins: int = 10) -> None:
        self.bins = bins

    def _learn(self, docs: Sequence[ParsedDocument], targets: Sequence[Spans]) -> None:
        counts = np.ones(self.bins)  # add-one smoothing: no position is impossible
        for doc, spans in zip(docs, targets, strict=True):
            position = _relative_position(len(doc.paragraphs))
            for p, x in zip(doc.paragraphs, position, strict=True):
                if hits(p.start, p.end, spans):
                    counts[self._bin(x)] += 1
        self.density_ = counts / counts.sum()

    def _bin(self, x: np.ndarray | float) -> np.ndarray | int:
        return np.minimum((np.asarray(x) * self.bins).astype(int), self.bins - 1)

    def _scores(self, doc: ParsedDocument) -> np.ndarray:
        return self.density_[self._bin(_relative_position(len(doc.paragraphs)))]


class _TfidfRanker(_ParagraphRanker):
    """Ranks paragraphs by a model over their TF-IDF rows: the vectorizer sees no label, so
    :func:`rank_labels` fits it once for many labels."""

    def _vectorizer(self) -> TfidfVectorizer:
        raise NotImplementedError

    def _fit_rows(self, features: sp.csr_matrix, labels: np.ndarray) -> None:
        raise NotImplementedError

    def _scores_of(self, features: sp.csr_matrix) -> np.ndarray:
        raise NotImplementedError

    def _learn(self, docs: Sequence[ParsedDocument], targets: Sequence[Spans]) -> None:
        rows, labels = self._training_rows(docs, targets)
        self.vectorizer_ = self._vectorizer()
        self._fit_rows(self.vectorizer_.fit_transform(rows), labels)

    def _scores(self, doc: ParsedDocument) -> np.ndarray:
        return self._scores_of(self.vectorizer_.transform(self._texts(doc)))


class TfidfSimilarity(_TfidfRanker):
    """Cosine similarity (TF-IDF of words and word pairs) to the mean training target."""

    def _vectorizer(self) -> TfidfVectorizer:
        return TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2))

    def _fit_rows(self, features: sp.csr_matrix, labels: np.ndarray) -> None:
        centroid = np.asarray(features[labels == 1].mean(axis=0)).ravel() if labels.any() else None
        self.centroid_ = np.zeros(features.shape[1]) if centroid is None else centroid

    def _scores_of(self, features: sp.csr_matrix) -> np.ndarray:
        return features @ self.centroid_


class TfidfLogistic(_TfidfRanker):
    """TF-IDF + logistic regression per paragraph; ``naive=True`` over naive blank-line/number
    splitting of the raw text (the benchmark data's reference), else over unclf's paragraphs."""

    _parameter_constraints: ClassVar[dict] = {"naive": ["boolean"]}

    def __init__(self, naive: bool = False) -> None:
        self.naive = naive

    def _spans(self, doc: ParsedDocument) -> list[tuple[int, int]]:
        return naive_paragraphs(doc.text) if self.naive else super()._spans(doc)

    def _texts(self, doc: ParsedDocument) -> list[str]:
        if self.naive:
            return [doc.text[s:e] for s, e in naive_paragraphs(doc.text)]
        return super()._texts(doc)

    def _vectorizer(self) -> TfidfVectorizer:
        return plain_tfidf()

    def _fit_rows(self, features: sp.csr_matrix, labels: np.ndarray) -> None:
        self.classifier_ = None
        if labels.min() != labels.max():  # one class only: nothing to tell apart, all tie
            self.classifier_ = LogisticRegression(max_iter=1000, class_weight="balanced")
            self.classifier_.fit(features, labels)

    def _scores_of(self, features: sp.csr_matrix) -> np.ndarray:
        if self.classifier_ is None:
            return np.zeros(features.shape[0])
        return self.classifier_.decision_function(features)


def rank_labels(
    baseline: Ranker,
    train: Sequence[ParsedDocument],
    targets_by_label: Mapping[str, Sequence[Spans]],
    test: Sequence[ParsedDocument],
) -> dict[str, list[list[tuple[int, int]]]]:
    """Per label, the ranked spans of every test document by ``baseline`` fitted on that
    label's targets; a TF-IDF baseline vectorizes the training and test paragraphs once for
    all labels, so that a panel of many labels costs little more than their classifiers."""
    if not isinstance(baseline, _TfidfRanker):
        return {
            label: [fitted.rank(doc) for doc in test]
            for label, targets in targets_by_label.items()
            for fitted in [clone(baseline).fit(train, targets)]
        }
    template = clone(baseline)
    texts = [text for doc in train for text in template._texts(doc)]
    vectorizer = template._vectorizer()
    features = vectorizer.fit_transform(texts)
    test_spans = [template._spans(doc) for doc in test]
    test_features = vectorizer.transform([t for doc in test for t in template._texts(doc)])
    bounds = np.cumsum([0, *(len(spans) for spans in test_spans)])
    ranked = {}
    for label, targets in targets_by_label.items():
        labels = np.array(
            [
                int(bool(hits(s, e, spans)))
                for doc, spans in zip(train, targets, strict=True)
                for s, e in template._spans(doc)
            ],
            dtype=np.int8,
        )
        fitted = clone(baseline)
        fitted._fit_rows(features, labels)
        scores = fitted._scores_of(test_features)
        ranked[label] = [
            [spans[i] for i in np.argsort(-scores[a:b], kind="stable")]
            for spans, a, b in zip(test_spans, bounds[:-1], bounds[1:], strict=True)
        ]
    return ranked


REFERENCE = "tfidf-lr-naive"


def default_baselines() -> dict[str, Ranker]:
    """The baselines every evaluation reports, by name; ``REFERENCE`` is the data README's."""
    return {
        "first-paragraph": FirstParagraph(),
        "longest-paragraph": LongestParagraph(),
        "position-prior": PositionPrior(),
        "tfidf-similarity": TfidfSimilarity(),
        "tfidf-lr": TfidfLogistic(),
        REFERENCE: TfidfLogistic(naive=True),
    }


class DocumentTfidfLogistic(DocumentEstimatorMixin, BaseEstimator):
    """A label of whole documents the plain way: TF-IDF of the document's words and word pairs,
    logistic regression over documents (what a user would build first)."""

    _parameter_constraints: ClassVar[dict] = {}

    @_fit_context(prefer_skip_nested_validation=True)
    @fitted_at_end
    def fit(self, docs: Documents, y: Sequence[bool]) -> DocumentTfidfLogistic:
        check_fit_input(self, docs, y)
        docs = _parsed(docs)
        self.vectorizer_ = plain_tfidf()
        features = self.vectorizer_.fit_transform([d.text for d in docs])
        self.classifier_ = LogisticRegression(max_iter=1000).fit(features, np.asarray(y, bool))
        return self

    def predict_proba(self, docs: Documents) -> np.ndarray:
        check_is_fitted(self)
        return self.classifier_.predict_proba(
            self.vectorizer_.transform([d.text for d in _parsed(docs)])
        )
