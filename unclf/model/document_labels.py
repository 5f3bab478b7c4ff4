"""Paragraphs -> evidence -> a label of the whole document, with a score.

Some labels belong to a document rather than to a paragraph ("this report raises minority
rights", a contract's type). A :class:`DocumentLabeler` learns one from documents labelled as a
whole, the way the target selector learns a paragraph, from the paragraphs' evidence: a linear
scorer over the paragraphs' words, taught that every paragraph of a document with the label may
be the one that says so and none of a document without it does (multiple-instance learning);
then a document decision over its strongest paragraphs' scores, trained on out-of-fold scores
so that it learns how the scorer judges documents it has not seen. The strongest paragraph is
the evidence shown to the reader.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from unclf.contracts import (
    DocumentEstimatorMixin,
    check_documents,
    check_fit_input,
    fitted_at_end,
)
from unclf.features import document_offsets, plain_tfidf
from unclf.model.inputs import document_folds, parse_documents
from unclf.model.labels import rank_labels
from unclf.model.selector import RankedDocument, TargetSelector
from unclf.segmenter import Paragraph, ParsedDocument

__all__ = ["DocumentDecision", "DocumentLabeler", "LabelModel", "predict_labels"]

# Document features: the best paragraph score, the mean of the best three, the mean of all.
_TOP = 3


@dataclass(frozen=True, slots=True)
class DocumentDecision:
    """Whether a document has the label, how sure (probability), and the paragraph that
    weighed most (None for a document without paragraphs)."""

    has_label: bool
    score: float
    evidence: Paragraph | None


class DocumentLabeler(DocumentEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Learn a label of whole documents from the evidence of their paragraphs.

    ``fit(X, y)``: ``X`` document texts (or parsed documents), ``y`` whether each has the label.

    Parameters
    ----------
    C : inverse regularisation of the paragraph scorer.
    n_folds : document folds for the out-of-fold scores that the document decision learns from.
    random_state : seed for the folds.
    """

    _parameter_constraints: ClassVar[dict] = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "n_folds": [Interval(Integral, 2, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(self, C: float = 1.0, n_folds: int = 3, random_state: int = 0) -> None:
        self.C = C
        self.n_folds = n_folds
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @fitted_at_end
    def fit(self, X: Sequence[str | ParsedDocument], y: Sequence[bool]) -> DocumentLabeler:
        check_fit_input(self, X, y)
        kind = type_of_target(y)
        if kind not in ("binary", "unary"):  # a score of 0.7 or a third class is not yes or no
            raise ValueError(f"y must say yes or no (True/False) for each document, got {kind} y")
        y = np.asarray(y, dtype=bool)
        if len(X) != len(y):
            raise ValueError(f"{len(X)} documents but {len(y)} labels")
        if y.all() or not y.any():
            raise ValueError("needs documents with the label and documents without it")
        docs = list(parse_documents(X))
        offsets = document_offsets(docs)
        n_folds = min(self.n_folds, int(min(y.sum(), (~y).sum())))
        vectorizer = plain_tfidf()
        words = vectorizer.fit_transform([p.text for d in docs for p in d.paragraphs])
        rows_of = np.repeat(np.arange(len(docs)), np.diff(offsets))
        evidence = np.zeros((len(docs), 3))
        for train, test in document_folds(
            [d.text for d in docs], max(n_folds, 2), self.random_state
        ):
            scores = _scores(self._fit_scorer(words, y, rows_of, train), words)
            evidence[test] = _document_features(scores, offsets, test)
        self.classes_ = np.array([False, True])
        self.vectorizer_ = vectorizer
        self.scorer_ = self._fit_scorer(words, y, rows_of, np.arange(len(docs)))
        self.decision_ = make_pipeline(StandardScaler(), LogisticRegression()).fit(evidence, y)
        self.n_documents_ = len(docs)
        self.n_documents_with_label_ = int(y.sum())
        return self

    def _fit_scorer(
        self, words: sp.csr_matrix, y: np.ndarray, rows_of: np.ndarray, docs: np.ndarray
    ) -> LogisticRegression | None:
        rows = np.isin(rows_of, docs)
        labels = y[rows_of[rows]]
        if labels.all() or not labels.any():
            return None
        scorer = LogisticRegression(C=self.C, class_weight="balanced", max_iter=1000)
        return scorer.fit(words[rows], labels)

    def decide(self, X: Iterable[str | ParsedDocument]) -> list[DocumentDecision]:
        """Per document: has it the label, the probability, the paragraph that weighed most."""
        check_is_fitted(self, "decision_")
        check_documents(X)
        docs = list(parse_documents(X))
        offsets = document_offsets(docs)
        words = self.vectorizer_.transform([p.text for d in docs for p in d.paragraphs])
        scores = _scores(self.scorer_, words)
        features = _document_features(scores, offsets, np.arange(len(docs)))
        probability = self.decision_.predict_proba(features)[:, 1]
        decisions = []
        for i, doc in enumerate(docs):
            own = scores[offsets[i] : offsets[i + 1]]
            best = doc.paragraphs[int(np.argmax(own))] if len(own) else None
            decisions.append(
                DocumentDecision(bool(probability[i] >= 0.5), float(probability[i]), best)
            )
        return decisions

    def predict_proba(self, X: Iterable[str | ParsedDocument]) -> np.ndarray:
        scores = np.array([d.score for d in self.decide(X)])
        return np.column_stack([1 - scores, scores])

    def predict(self, X: Iterable[str | ParsedDocument]) -> np.ndarray:
        return np.array([d.has_label for d in self.decide(X)])


def _scores(scorer: LogisticRegression | None, words: sp.csr_matrix) -> np.ndarray:
    if scorer is None:
        return np.zeros(words.shape[0])
    return scorer.decision_function(words)


def _document_features(scores: np.ndarray, offsets: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """Per document of ``docs``: its best paragraph score, the mean of its best few, its mean."""
    features = np.zeros((len(docs), 3))
    for row, i in enumerate(docs):
        a, b = offsets[i], offsets[i + 1]
        if a == b:
            continue
        own = scores[a:b]
        top = np.sort(own)[::-1][:_TOP]
        features[row] = [top[0], top.mean(), own.mean()]
    return features


# What a model file holds per label: a paragraph label's selector or a document label's labeler.
LabelModel = TargetSelector | DocumentLabeler


def predict_labels(
    models: Mapping[str, LabelModel], X: Iterable[str | ParsedDocument]
) -> Iterator[dict[str, RankedDocument | DocumentDecision]]:
    """Every document's answer for every label, in one pass: its ranked paragraphs for a
    paragraph label, its decision for a document label; streaming, each document parsed once."""
    check_documents(X)
    selectors = {k: m for k, m in models.items() if isinstance(m, TargetSelector)}
    labelers = {k: m for k, m in models.items() if isinstance(m, DocumentLabeler)}
    docs = parse_documents(X)
    while batch := list(islice(docs, 64)):
        ranked = list(rank_labels(selectors, batch)) if selectors else [{} for _ in batch]
        decided = {label: m.decide(batch) for label, m in labelers.items()}
        for i, by_label in enumerate(ranked):
            answers = {**by_label, **{label: d[i] for label, d in decided.items()}}
            yield {label: answers[label] for label in models}
