"""Stage two: the *ranker*, a logistic regression over the stage-one scores seen against the
rest of the same document, the layout and the neighbours' scores, giving a calibrated
probability that a paragraph is a target."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler


def document_relative(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each value against its own document: minus the best, minus the best other, z-score, rank."""
    n_docs = len(offsets) - 1
    sizes = np.diff(offsets)
    doc = np.repeat(np.arange(n_docs), sizes)
    out = np.zeros((len(values), 4))
    if len(values) == 0:
        return out
    order = np.lexsort((-values, doc))
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values)) - offsets[doc[order]]
    nonempty = sizes > 0
    starts = offsets[:-1][nonempty]
    best = np.full(n_docs, 0.0)
    best[nonempty] = values[order][starts]
    second = best.copy()
    has_two = sizes > 1
    second[has_two] = values[order][offsets[:-1][has_two] + 1]
    mean = np.zeros(n_docs)
    mean[nonempty] = np.add.reduceat(values, starts) / sizes[nonempty]
    sq = np.zeros(n_docs)
    sq[nonempty] = np.add.reduceat(values**2, starts) / sizes[nonempty]
    std = np.sqrt(np.maximum(sq - mean**2, 0)) + 1e-6
    best_other = np.where(rank == 0, second[doc], best[doc])
    out[:, 0] = values - best[doc]
    out[:, 1] = values - best_other
    out[:, 2] = (values - mean[doc]) / std[doc]
    out[:, 3] = np.log1p(rank)
    return out


def stage_two_features(
    score: np.ndarray,
    similarity: np.ndarray,
    naming: np.ndarray,
    layout: np.ndarray,
    offsets: np.ndarray,
) -> np.ndarray:
    """The ranker's inputs: the stage-one scores and similarities, each also against the rest
    of its document, how much of the target's name the paragraph and its heading hold, the
    layout, the document's length and the neighbours' scores."""
    relative = [document_relative(view, offsets) for view in score.T]
    return np.column_stack(
        [
            score,
            *relative,
            similarity,
            document_relative(similarity[:, 0], offsets),
            document_relative(similarity[:, 1], offsets),
            naming,
            document_relative(naming.max(axis=1), offsets),
            layout,
            np.repeat(np.log1p(np.diff(offsets)), np.diff(offsets)),
            *neighbour_scores(relative[0][:, 0], offsets),
        ]
    )


def equal_weights(
    score: np.ndarray, similarity: np.ndarray, naming: np.ndarray, offsets: np.ndarray
) -> np.ndarray:
    """Three kinds of evidence weighed equally, for a ranker with nothing to learn weights
    from: the plain scorer's score, the similarity to the targets, and how much of the label's
    name a paragraph or its heading holds. Each counts as the share of its document's other
    paragraphs that the paragraph outranks on it (ties count half), so no kind's scale
    outweighs another's, and a name that no paragraph holds changes no order."""
    columns = (score[:, -1], similarity[:, 0], naming.max(axis=1))
    out = np.zeros((len(score), 1))
    for a, b in pairwise(offsets):
        if b - a > 1:
            shares = [(rankdata(values[a:b]) - 1) / (b - a - 1) for values in columns]
            out[a:b, 0] = np.mean(shares, axis=0)
    return out


def fit_ranker(features: np.ndarray, labels: np.ndarray, plain: bool = False) -> Pipeline | float:
    """The ranker (``plain``: a calibration of one column, the plain scorer's or the equal
    weighing's); a constant probability where the labels are all one value."""
    if labels.min() == labels.max():
        return float(labels[0]) if len(labels) else 0.0
    if plain:  # one column: a calibration that keeps the scorer's order
        calibration = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        return calibration.fit(features, labels)
    # Linear and strongly regularised on purpose: boosted trees over these few dense features
    # overfit the out-of-fold scores (UPR Minorities hit@1 0.787 with trees, 0.843 linear);
    # C=0.05 beat C=1 with 10 training documents (0.719 against 0.697).
    ranker = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000))
    return ranker.fit(features, labels)


def out_of_fold_probability(
    candidates: dict[str, np.ndarray], labels: np.ndarray, n_folds: int, fold_of_row: np.ndarray
) -> dict[str, np.ndarray]:
    """Per candidate ranking, each row's probability from a ranker fitted on the other inner
    folds: what the choice between them and the thresholds are made on, honestly."""
    probability = {name: np.zeros(len(labels)) for name in candidates}
    for k in range(n_folds):
        train, test = fold_of_row != k, fold_of_row == k
        for name, inputs in candidates.items():
            ranker = fit_ranker(inputs[train], labels[train], plain=name != "stacked")
            probability[name][test] = ranker_probability(ranker, inputs[test])
    return probability


def neighbour_scores(relative: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, ...]:
    """The previous and the next paragraph's score against the document's best (``relative``):
    a marked clause often sits beside the one that names it. A first or last paragraph's
    missing neighbour counts as the document's lowest (0 would say it was the best)."""
    sizes = np.diff(offsets)
    doc = np.repeat(np.arange(len(sizes)), sizes)
    lowest = np.full(len(sizes), np.inf)
    np.minimum.at(lowest, doc, relative)
    same = doc[1:] == doc[:-1]  # paragraph i and i + 1 share a document
    previous = lowest[doc]
    previous[1:][same] = relative[:-1][same]
    following = lowest[doc]
    following[:-1][same] = relative[1:][same]
    return previous, following


def ranker_probability(ranker: Pipeline | float, features: np.ndarray) -> np.ndarray:
    if isinstance(ranker, float):
        return np.full(len(features), ranker)
    return ranker.predict_proba(features)[:, 1]
