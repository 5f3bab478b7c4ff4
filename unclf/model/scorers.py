"""Stage one: linear *scorers*, one per view of the sparse paragraph features (and per view
scaled by its naive-Bayes log-count ratio), the plain TF-IDF scorer, and each paragraph's cosine
similarity to the training targets. Fitted on inner folds, to score documents they did not
see (what the ranker learns from); what predicts is the folds' mean scorers, and the plain
scorer fitted once more on every document."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

# Each view is a separate linear scorer over some of the featurizer's blocks (None: all of
# them); the ranker weighs the views per task, e.g. the context for a clause that a heading
# names, the character n-grams where words vary in form.
VIEWS = {
    "all": None,
    "words": ("words",),
    "chars": ("chars",),
    "context": ("section", "neighbours"),
}
_MAX_TARGETS_KEPT = 2000
# A word held by more than one target in this many is multiplied dense (``TargetSimilarity``).
_DENSE_SHARE = 50
# Cosine similarities are kept to this many decimals (``TargetSimilarity``).
_SIMILARITY_DECIMALS = 4
# The plain scorer's regularisation: scikit-learn's default, as a user's first model has it.
PLAIN_C = 1.0
# The linear fits run with one BLAS thread: L-BFGS's vector steps are too small to share, and
# with the cores already busy (fold or label processes, other programs) OpenBLAS's threads
# wait on each other: one stage-one fit on the 136 UPR reports took 75 s with two threads on a
# loaded machine and 20 s with one (benchmarks/experiments.md).
one_blas_thread = threadpool_limits.wrap(limits=1, user_api="blas")


@one_blas_thread
def score_fold(
    view: sp.csr_matrix,
    labels: np.ndarray,
    test: np.ndarray,
    by_ratio: bool,
    C: float,
    random_state: int | None,
) -> tuple[np.ndarray, LogisticRegression | None]:
    """One scorer fitted on the rows outside ``test`` (one inner fold), its scores of the rows
    in it, and the scorer (the model's is the folds' mean). One job per scorer and fold, a
    function of its arguments only, so that they share the processes evenly."""
    train = ~test
    scorer = fit_scorer(view[train], labels[train], by_ratio, C, random_state)
    return view_scores([scorer], [view[test]])[:, 0], scorer


def similarities_fold(
    words: sp.csr_matrix, labels: np.ndarray, test: np.ndarray, random_state: int | None
) -> np.ndarray:
    """The similarities of the rows in ``test`` to the targets outside it."""
    train = ~test
    return similarities(words[test], target_words(words[train], labels[train], random_state))


@one_blas_thread
def fit_plain_scorer(
    plain: sp.csr_matrix, labels: np.ndarray, random_state: int | None
) -> LogisticRegression | None:
    """The plain scorer fitted on every training row: exactly the TF-IDF + logistic regression
    baseline, which the ranking falls back on where it alone finds more targets."""
    return fit_scorer(plain, labels, False, PLAIN_C, random_state)


def mean_scorers(
    scorer_lists: Sequence[list[LogisticRegression | None]],
) -> list[LogisticRegression | None]:
    """Per scorer, the mean of the folds' fitted ones: a linear model whose weights and
    intercept are the folds' means (None where no fold fitted one). It predicts in place of a
    scorer fitted once more on every row, which took a quarter of stage one's time; the mean
    scores new documents on the scale the ranker learnt from the folds' scores."""
    means: list[LogisticRegression | None] = []
    for fitted in zip(*scorer_lists, strict=True):
        fitted = [s for s in fitted if s is not None]
        if not fitted:
            means.append(None)
            continue
        mean = copy.copy(fitted[0])
        mean.coef_ = np.mean([s.coef_ for s in fitted], axis=0)
        mean.intercept_ = np.mean([s.intercept_ for s in fitted], axis=0)
        mean.n_iter_ = np.max([s.n_iter_ for s in fitted], axis=0)
        means.append(mean)
    return means


def target_words(
    words: sp.csr_matrix, labels: np.ndarray, random_state: int | None
) -> sp.csr_matrix:
    """The word vectors of (at most 2,000, drawn with the seed) targets among ``words``."""
    positives = np.flatnonzero(labels == 1)
    if len(positives) > _MAX_TARGETS_KEPT:
        rng = np.random.default_rng(random_state)
        positives = np.sort(rng.choice(positives, _MAX_TARGETS_KEPT, replace=False))
    return words[positives].astype(np.float32)


def fit_scorer(
    features: sp.csr_matrix,
    labels: np.ndarray,
    by_ratio: bool,
    C: float,
    random_state: int | None,
) -> LogisticRegression | None:
    """A logistic regression of the targets on ``features`` (None where every row or none is
    a target: there is nothing to tell apart)."""
    if not labels.any() or labels.all():
        return None
    ratio = log_count_ratio(features, labels) if by_ratio else None
    # lbfgs: on the character n-grams (14M non-zeros on the 136 UPR reports) 2.4x faster than
    # liblinear's dual solver at C=1 (0.7 s against 1.7 s), equal on the word views.
    scorer = LogisticRegression(
        C=C, class_weight="balanced", max_iter=1000, random_state=random_state
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. not converged: nothing a user can act on
        if ratio is None:
            return scorer.fit(features, labels)
        scorer.fit(features @ sp.diags(ratio), labels)
    # Folded into the weights, the scaling costs nothing at prediction: the scorer reads the
    # same unscaled columns as the other one.
    scorer.coef_ = scorer.coef_ * ratio
    return scorer


def log_count_ratio(features: sp.csr_matrix, labels: np.ndarray) -> np.ndarray:
    """log(share of a column's weight among targets / its share among other paragraphs),
    add-one smoothed (Wang and Manning 2012): positive for the targets' telling words."""
    positive = np.asarray(features[labels == 1].sum(axis=0)).ravel() + 1.0
    negative = np.asarray(features[labels == 0].sum(axis=0)).ravel() + 1.0
    ratio = np.log(positive / positive.sum()) - np.log(negative / negative.sum())
    return ratio.astype(features.dtype)


def similarities(words: sp.csr_matrix, targets: sp.csr_matrix) -> np.ndarray:
    """Cosine similarity of each row to the targets' mean, the nearest and the 3 nearest."""
    return TargetSimilarity([targets])(words)[0]


class TargetSimilarity:
    """Each row's cosine similarity to several sets of targets (a label's each): to the set's
    mean, its nearest and its 3 nearest targets. A target held by several sets (a
    recommendation tagged with several issues) is multiplied with the rows once, and the
    similarity to the mean is the mean of the similarities (it is linear), not a product of
    its own."""

    def __init__(self, target_sets: Sequence[sp.csr_matrix]) -> None:
        first: dict[tuple[bytes, bytes], int] = {}
        picked: list[tuple[int, int]] = []  # (set, row) of each distinct target
        self._columns: list[np.ndarray] = []
        self._norms: list[float] = []
        for s, targets in enumerate(target_sets):
            columns = []
            for i in range(targets.shape[0]):
                lo, hi = targets.indptr[i], targets.indptr[i + 1]
                key = (targets.indices[lo:hi].tobytes(), targets.data[lo:hi].tobytes())
                if key not in first:
                    first[key] = len(picked)
                    picked.append((s, i))
                columns.append(first[key])
            self._columns.append(np.array(columns, dtype=np.int64))
            self._norms.append(float(np.linalg.norm(np.asarray(targets.sum(axis=0)).ravel())))
        by_set: dict[int, list[int]] = {}
        for s, i in picked:
            by_set.setdefault(s, []).append(i)
        pieces = [target_sets[s][rows] for s, rows in by_set.items()]
        # Word columns x distinct targets, split in two: scipy's sparse product costs about
        # 50 times a dense multiply-add per term, and the few words that many targets hold
        # (one in fifty) make most of its terms, so their rows are multiplied dense. On the
        # 50 UPR labels' targets: 308 of 81,000 words, the product 3.8 times faster.
        distinct = sp.vstack(pieces).T.tocsr() if pieces else sp.csr_matrix((0, 0))
        held_by = np.diff(distinct.indptr)
        common = held_by * _DENSE_SHARE > distinct.shape[1]
        self._common_words = np.flatnonzero(common)
        self._other_words = np.flatnonzero(~common)
        self._common_targets = distinct[self._common_words].toarray()
        self._other_targets = distinct[self._other_words]

    def __call__(self, words: sp.csr_matrix) -> list[np.ndarray]:
        out = [np.zeros((words.shape[0], 3)) for _ in self._columns]
        n_distinct = self._common_targets.shape[1]
        if n_distinct == 0:
            return out
        common = words[:, self._common_words].tocsr()
        other = words[:, self._other_words].tocsr()
        # Bounded memory: a chunk of rows x the distinct targets, dense.
        step = max(1, min(2048, 4_000_000 // n_distinct))
        for start in range(0, words.shape[0], step):
            rows = slice(start, start + step)
            block = common[rows] @ self._common_targets
            block += (other[rows] @ self._other_targets).toarray()
            for similarity, columns, norm in zip(out, self._columns, self._norms, strict=True):
                if not len(columns):
                    continue
                near = block[:, columns]
                if norm > 0:
                    similarity[rows, 0] = near.sum(axis=1, dtype=np.float64) / norm
                k = min(3, near.shape[1])
                nearest = np.partition(near, near.shape[1] - k, axis=1)[:, -k:]
                similarity[rows, 1] = nearest.max(axis=1)
                similarity[rows, 2] = nearest.mean(axis=1)
        # Rounded: float32 products carry errors of about 1e-7 that change with the order of
        # summation, and the ranker reads where a paragraph ranks in its document, so that a
        # paragraph identical to a target went above or below its twin by that noise.
        return [np.round(similarity, _SIMILARITY_DECIMALS, out=similarity) for similarity in out]


def view_scores(
    scorers: list[LogisticRegression | None], features: list[sp.csr_matrix]
) -> np.ndarray:
    """One column of scores per view."""
    return StackedScorers([scorers])(features)[0]


class StackedScorers:
    """The scorers of several models (a label's each) over the same views: each view is read
    once and multiplied with all their weights together, a view that two scorers read (the
    words, plain and by log-count ratio) once for both. One product per scorer and model read
    the character n-grams 50 times for the 50 UPR labels."""

    def __init__(self, scorer_lists: Sequence[list[LogisticRegression | None]]) -> None:
        self._n = len(scorer_lists)
        n_views = len(scorer_lists[0]) if scorer_lists else 0
        # Per view position: the (model, weights, intercept) of its fitted scorers.
        self._fitted = [
            [
                (m, scorers[v].coef_[0], float(scorers[v].intercept_[0]))
                for m, scorers in enumerate(scorer_lists)
                if scorers[v] is not None
            ]
            for v in range(n_views)
        ]

    def __call__(self, views: list[sp.csr_matrix]) -> list[np.ndarray]:
        """Per model, one column of scores per view."""
        n_rows = views[0].shape[0] if views else 0
        out = [np.zeros((n_rows, len(views))) for _ in range(self._n)]
        positions: dict[int, list[int]] = {}
        for v, view in enumerate(views):
            positions.setdefault(id(view), []).append(v)
        for same in positions.values():
            fitted = [(v, *f) for v in same for f in self._fitted[v]]
            if not fitted:
                continue
            weights = np.column_stack([w for _, _, w, _ in fitted])
            scores = views[same[0]] @ weights + np.array([b for *_, b in fitted])
            for k, (v, m, _, _) in enumerate(fitted):
                out[m][:, v] = scores[:, k]
        return out
