"""Features -> scores -> decisions: learn which paragraph of a document is the target.

Two stages, both scikit-learn models:

1. linear *scorers* over the sparse paragraph features, one per view (own words; character
   n-grams; section and neighbours), a second one over the own words scaled by each column's
   naive-Bayes log-count ratio (NBSVM), which lets a few targets' telling words count for more,
   and the *plain scorer*, scikit-learn's TF-IDF + logistic regression over the paragraph text
   (the ``tfidf-lr`` baseline). They say how target-like each paragraph is on its own, and its
   cosine similarity to the training targets (to their mean, to the nearest one, to the three
   nearest) says how close it is to the targets seen so far;
2. a *ranker* (logistic regression) sees those scores relative to the rest of the same
   document ("the most target-like of its document"), plus layout and mentions (the first
   paragraph to name a date or a company), and outputs a calibrated probability that the
   paragraph is a target.

The ranker and the decision thresholds are trained on out-of-fold scores (document-grouped
folds inside the training set), so they learn how the scorer behaves on documents it has not
seen, which is the situation at prediction time. On the same folds the plain scorer alone
replaces the ranker where it finds clearly more targets (``guard``).
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice, pairwise
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from unclf.contracts import (
    DocumentEstimatorMixin,
    check_document,
    check_documents,
    check_fit_input,
    fitted_at_end,
)
from unclf.documents import TargetSpan, align_targets
from unclf.features import (
    ParagraphFeaturizer,
    document_offsets,
    heading_rows,
    layout_features,
    lead_ins,
    name_matches,
    name_words,
    plain_tfidf,
)
from unclf.languages import main_language, warn_other_language
from unclf.metrics import DocumentResult, score_document, summarize
from unclf.segmenter import KINDS, Paragraph, ParsedDocument, parse_many
from unclf.workers import ending_with_this_process

__all__ = [
    "RankedDocument",
    "ScoredParagraph",
    "TargetSelector",
    "document_folds",
    "fit_labels",
    "paragraph_labels",
    "parse_documents",
    "rank_labels",
    "ranking_summary",
]

MODES = ("single", "multi")
# What ranks the paragraphs: the plain TF-IDF scorer alone, or the stacked ranker.
RANKINGS = ("plain", "stacked")
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
# The plain scorer's regularisation: scikit-learn's default, as a user's first model has it.
_PLAIN_C = 1.0
# The linear fits run with one BLAS thread: L-BFGS's vector steps are too small to share, and
# with the cores already busy (fold or label processes, other programs) OpenBLAS's threads
# wait on each other: one stage-one fit on the 136 UPR reports took 75 s with two threads on a
# loaded machine and 20 s with one (benchmarks/experiments.md).
_one_blas_thread = threadpool_limits.wrap(limits=1, user_api="blas")


@dataclass(frozen=True, slots=True)
class ScoredParagraph:
    paragraph: Paragraph
    score: float
    is_target: bool


@dataclass(frozen=True, slots=True)
class _Rows:
    """What both stages read of a set of featurized documents, one row per paragraph:
    computed once and shared by every fold and, when several labels are learnt, every label."""

    texts: list[str]
    paragraphs: list[str]
    # Per row, the row of the heading it sits under (-1: none).
    headings: np.ndarray
    # One per scorer (see ``TargetSelector._scorer_plan``), then the plain TF-IDF's.
    views: list[sp.csr_matrix]
    words: sp.csr_matrix
    layout: np.ndarray
    offsets: np.ndarray
    lead_ins: np.ndarray
    kinds: np.ndarray


@dataclass(frozen=True, slots=True)
class RankedDocument:
    """A document's paragraphs, the chosen one first and the others by score (see
    ``TargetSelector.first_mention``); ``targets`` is empty when the model abstains."""

    paragraphs: list[ScoredParagraph]

    @property
    def targets(self) -> list[ScoredParagraph]:
        return [p for p in self.paragraphs if p.is_target]


def parse_documents(
    texts: Iterable[str | ParsedDocument],
    progress: bool = False,
    total: int | None = None,
    n_jobs: int | None = None,
) -> Iterator[ParsedDocument]:
    """Parse what is not parsed yet, streaming; parsed documents pass through.

    With ``n_jobs`` other than 1, batches of texts are parsed in processes side by side: unlike
    a spaCy ``Doc``, a parsed document is a text and a few arrays, cheap to send back (the 136
    UPR reports in 4.8 s with two warm processes against 9.6 s in one, the same parse).
    """
    in_processes = n_jobs not in (None, 1)
    texts = iter(texts)
    batches = iter(lambda: list(islice(texts, 16 if in_processes else 64)), [])
    waiting: deque[list] = deque()  # batches sent to be parsed, in order
    bar = tqdm(
        total=total, desc="segmenting", unit="doc", disable=None if progress else True, leave=False
    )

    def unparsed() -> Iterator[list[str]]:
        for batch in batches:
            for item in batch:
                check_document(item)
            waiting.append(batch)
            raw = [t for t in batch if isinstance(t, str)]
            if raw:  # a batch parsed already waits for the next one sent, or for the end
                yield raw

    def ready(result: list[ParsedDocument] | None) -> Iterator[ParsedDocument]:
        """The waiting batches up to the one ``result`` answers (None: every one left)."""
        parsed = iter(result or [])
        while waiting:
            batch = waiting.popleft()
            answered = any(isinstance(item, str) for item in batch)
            yield from (next(parsed) if isinstance(item, str) else item for item in batch)
            bar.update(len(batch))
            if answered and result is not None:
                return

    if in_processes:
        with ending_with_this_process():
            results = Parallel(n_jobs=n_jobs, return_as="generator")(
                delayed(_parse_all)(raw) for raw in unparsed()
            )
    else:
        results = map(_parse_all, unparsed())
    with bar:
        for result in results:
            yield from ready(result)
        yield from ready(None)


def document_folds(
    texts: Sequence[str], n_folds: int, seed: int | None = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded (train, test) document positions; identical texts are one group, in one fold, so
    that no document is scored by a model that was trained on its copy. Without copies, the
    folds of ``KFold(n_folds, shuffle=True, random_state=seed)``."""
    group_of: dict[str, int] = {}
    groups = np.array([group_of.setdefault(t, len(group_of)) for t in texts], dtype=np.int64)
    if n_folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {n_folds}")
    if len(group_of) < n_folds:
        raise ValueError(
            f"{n_folds} folds need at least {n_folds} distinct documents, got {len(group_of)}"
        )
    splits = []
    for train_groups, test_groups in KFold(n_folds, shuffle=True, random_state=seed).split(
        np.arange(len(group_of))
    ):
        splits.append(
            (
                np.flatnonzero(np.isin(groups, train_groups)),
                np.flatnonzero(np.isin(groups, test_groups)),
            )
        )
    return splits


def _fit_plain_tfidf(texts: list[str]) -> tuple[TfidfVectorizer, sp.csr_matrix]:
    vectorizer = plain_tfidf()
    return vectorizer, vectorizer.fit_transform(texts)


def _parse_all(texts: list[str]) -> list[ParsedDocument]:
    return list(parse_many(texts))


def _as_spans(targets: Iterable) -> list[TargetSpan]:
    spans = []
    for t in targets:
        if isinstance(t, TargetSpan):
            spans.append(t)
        else:
            start, end = t[0], t[1]
            spans.append(TargetSpan(int(start), int(end), None))
    return spans


def paragraph_labels(
    docs: Sequence[ParsedDocument], targets: Sequence[Sequence]
) -> tuple[np.ndarray, list[int]]:
    """1 for paragraphs that hold a target (all documents' rows, in order); and the documents
    with a target in no paragraph. Shared by training and the benchmarks' label checks."""
    labels = []
    unheld_in = []
    for i, (doc, spans) in enumerate(zip(docs, targets, strict=True)):
        y = np.zeros(len(doc.paragraphs), dtype=np.int8)
        held, unheld = align_targets(doc.paragraphs, _as_spans(spans))
        y[held] = 1
        labels.append(y)
        if unheld:
            unheld_in.append(i)
    return (np.concatenate(labels) if labels else np.zeros(0, dtype=np.int8)), unheld_in


def _labels_to_learn(
    docs: Sequence[ParsedDocument], targets: Sequence[Sequence]
) -> tuple[np.ndarray, list[int]]:
    """``paragraph_labels``, refusing a label that no paragraph holds."""
    labels, unheld = paragraph_labels(docs, targets)
    if labels.sum() == 0:
        raise ValueError("no paragraph holds a target: nothing to learn from")
    return labels, unheld


def _document_relative(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
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


class TargetSelector(DocumentEstimatorMixin, BaseEstimator):
    """Find the target paragraph(s) of documents, learned from labelled documents.

    ``fit(X, y)``: ``X`` is a sequence of document texts (or :class:`ParsedDocument`), ``y``
    the target spans of each document as ``(start, end)`` pairs into its text; a document with
    no target teaches the model when to abstain.

    Parameters
    ----------
    mode : "single" marks the best paragraph of a document as its target, "multi" also every
        paragraph scoring at least ``multi_threshold_`` (learned for the best F1 of the marked
        paragraphs on the training folds, never below the abstention threshold).
    abstain : whether a document whose best score is below the learned threshold gets no
        target. The threshold is only learned from training documents without targets.
    C : inverse regularisation of the linear scorers.
    n_folds : document folds used inside ``fit`` for the out-of-fold scores.
    featurizer : a :class:`ParagraphFeaturizer` (default settings when None).
    views : names of :data:`VIEWS`, one linear scorer each.
    log_count_ratio : views scored a second time, over features scaled by their naive-Bayes
        log-count ratio (measured in benchmarks/experiments.md).
    n_jobs : processes parsing the texts and fitting the folds' scorers side by side (None:
        1; -1: all cores).
    first_mention : let an earlier paragraph that scores close to the best go first, where
        the training documents show that their annotators mark the first statement of a thing
        (``lead_ratio_``: how close, 1.0 when they do not; ``passes_lead_ins_``: whether a
        lead-in such as "... BETWEEN:" is passed over, as it introduces the statement).
        Independently of it, a paragraph of a kind that the training targets never are, where
        they are many enough to show it (``target_kinds_``), does not go first: the heading
        "AUDIT" is not the audit clause.
    guard : fall back on the plain scorer (scikit-learn's TF-IDF + logistic regression over
        the paragraph text: the tfidf-lr baseline) where, on the inner folds, it finds clearly
        more targets in documents the model did not see than the stacked ranker does
        (``ranking_``, one of :data:`RANKINGS`; ``inner_hits_``: the documents each found).
        Without it the stacked ranker is always used.
    target_name : what is searched, in words (a label's name such as "Governing Law"): a
        paragraph holding its rarer words, or under a heading that does, is evidence that
        needs no training document (``name_words_``); the ranker learns how much it counts.
        :func:`fit_labels` gives each label's model its label's name.
    random_state : seed for the folds and the ranker.
    """

    _parameter_constraints: ClassVar[dict] = {
        "mode": [StrOptions(set(MODES))],
        "abstain": ["boolean"],
        "C": [Interval(Real, 0, None, closed="neither")],
        "n_folds": [Interval(Integral, 2, None, closed="left")],
        "featurizer": [ParagraphFeaturizer, None],
        "views": [tuple, list],  # of VIEWS' names: checked with the others by _check_params
        "log_count_ratio": [tuple, list],
        "first_mention": ["boolean"],
        "guard": ["boolean"],
        "n_jobs": [Integral, None],
        "target_name": [str, None],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(
        self,
        mode: str = "single",
        abstain: bool = True,
        C: float = 1.0,
        n_folds: int = 3,
        featurizer: ParagraphFeaturizer | None = None,
        views: tuple[str, ...] = ("words", "chars", "context"),
        log_count_ratio: tuple[str, ...] = ("words",),
        first_mention: bool = True,
        guard: bool = True,
        n_jobs: int | None = None,
        target_name: str | None = None,
        random_state: int = 0,
    ) -> None:
        self.mode = mode
        self.abstain = abstain
        self.C = C
        self.n_folds = n_folds
        self.featurizer = featurizer
        self.views = views
        self.log_count_ratio = log_count_ratio
        self.first_mention = first_mention
        self.guard = guard
        self.n_jobs = n_jobs
        self.target_name = target_name
        self.random_state = random_state

    # -- training ------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    @fitted_at_end
    def fit(
        self, X: Sequence[str | ParsedDocument], y: Sequence[Sequence], progress: bool = False
    ) -> TargetSelector:
        check_fit_input(self, X, y)
        if len(X) != len(y):
            raise ValueError(f"{len(X)} documents but {len(y)} target lists")
        self._check_params()
        if len(X) < 2:
            raise ValueError(f"needs at least 2 labelled documents, got {len(X)}")
        docs = list(parse_documents(X, progress=progress, total=len(X), n_jobs=self.n_jobs))
        self.language_ = main_language(docs)
        labels, unheld = _labels_to_learn(docs, y)
        self._fit_rows(self._fit_featurizer(docs), labels, progress=progress)
        self.documents_with_unheld_targets_ = unheld
        return self

    def _check_params(self) -> None:
        """What ``_parameter_constraints`` cannot say: the views' names, and which of them
        are scored by their log-count ratio."""
        unknown = sorted(set(self.views) - set(VIEWS))
        if unknown or not self.views:
            raise ValueError(f"views must be a non-empty subset of {sorted(VIEWS)}, got {unknown}")
        unscored = sorted(set(self.log_count_ratio) - set(self.views))
        if unscored:
            raise ValueError(f"log_count_ratio must be a subset of views, got {unscored}")

    def _fit_featurizer(self, docs: Sequence[ParsedDocument]) -> _Rows:
        """Fit the featurizer (it sees no label) and return the training documents' rows."""
        texts = [p.text for d in docs for p in d.paragraphs]
        # The plain TF-IDF (a sixth of the fit, scikit-learn's vocabulary counting) is fitted
        # in a worker process (with ``n_jobs`` other than 1) while this one builds the hashed
        # features.
        with ending_with_this_process():
            plain_job = Parallel(n_jobs=self.n_jobs, return_as="generator")(
                [delayed(_fit_plain_tfidf)(texts)]
            )
        self.featurizer_ = clone(self.featurizer or ParagraphFeaturizer())
        features, words = self.featurizer_.fit_transform_with_words(docs)
        self.view_columns_ = [
            None if VIEWS[v] is None else self.featurizer_.block_columns(VIEWS[v])
            for v in self.views
        ]
        self.paragraph_tfidf_, plain = next(plain_job)
        rows = self._rows(docs, features, words, plain)
        for view in rows.views:
            view.sum_duplicates()  # sorted once here, not again by every fold's fit
        return rows

    def _rows(
        self,
        docs: Sequence[ParsedDocument],
        features: sp.csr_matrix,
        words: sp.csr_matrix,
        plain: sp.csr_matrix | None = None,
    ) -> _Rows:
        if plain is None:
            plain = self.paragraph_tfidf_.transform([p.text for d in docs for p in d.paragraphs])
        offsets = document_offsets(docs)
        headings = [heading_rows(d) for d in docs]
        return _Rows(
            texts=[d.text for d in docs],
            paragraphs=[p.text for d in docs for p in d.paragraphs],
            headings=np.concatenate(
                [np.where(h >= 0, h + at, -1) for h, at in zip(headings, offsets[:-1], strict=True)]
                or [np.zeros(0, dtype=np.int64)]
            ),
            views=[*self._views(features), plain],
            words=words,
            layout=np.vstack([layout_features(d) for d in docs]),
            offsets=offsets,
            lead_ins=np.concatenate([lead_ins(d) for d in docs]),
            kinds=np.concatenate([_kinds(d) for d in docs]),
        )

    @_one_blas_thread
    def _fit_rows(self, rows: _Rows, labels: np.ndarray, progress: bool = False) -> None:
        """Both stages and the decision rules, on featurized training documents."""
        offsets = rows.offsets
        n_docs = len(offsets) - 1
        doc_of_row = np.repeat(np.arange(n_docs), np.diff(offsets))
        n_folds = max(2, min(self.n_folds, len(set(rows.texts))))
        folds = document_folds(rows.texts, n_folds, self.random_state)
        fold_of_doc = np.empty(n_docs, dtype=np.int64)
        for k, (_, test) in enumerate(folds):
            fold_of_doc[test] = k
        fold_of_row = fold_of_doc[doc_of_row]

        # Stage 1, out of fold: how the scorers and prototype judge unseen documents; and
        # the final scorers, fitted on every document, as one more job beside the folds.
        score = np.zeros((len(labels), len(rows.views)))
        similarity = np.zeros((len(labels), 3))
        with ending_with_this_process():
            jobs = Parallel(n_jobs=self.n_jobs, return_as="generator")(
                delayed(_fold_stage_one)(self, rows.views, rows.words, labels, fold_of_row, k)
                for k in [*range(n_folds), None]
            )
        steps = tqdm(
            jobs,
            total=n_folds + 1,
            desc="training",
            unit="fold",
            disable=None if progress else True,
            leave=False,
        )
        for k, (fold_score, fold_similarity, scorers, targets) in zip(
            [*range(n_folds), None], steps, strict=True
        ):
            if k is None:
                self.scorers_, self.target_words_ = scorers, targets
            else:
                score[fold_of_row == k] = fold_score
                similarity[fold_of_row == k] = fold_similarity
        self.name_words_ = name_words(self.target_name, rows.paragraphs)
        stage_two = self._stage_two_features(
            score, similarity, self._naming(rows), rows.layout, offsets
        )

        # Out-of-fold probabilities of the candidates (the stacked ranker; with the guard, the
        # plain scorer, calibrated), to choose between them and the thresholds honestly. The
        # similarity to the mean training target as a third candidate lost more by the noisier
        # choice than it won (benchmarks/experiments.md).
        candidates = {"stacked": stage_two}
        if self.guard:
            candidates["plain"] = score[:, [self._plain_scorer()]]
        probability = {name: np.zeros(len(labels)) for name in candidates}
        for k in range(n_folds):
            train, test = fold_of_row != k, fold_of_row == k
            for name, inputs in candidates.items():
                ranker = self._fit_ranker(inputs[train], labels[train], plain=name != "stacked")
                probability[name][test] = _probability(ranker, inputs[test])
        choices = {
            name: _decision_rules(probability[name], labels, rows, self.first_mention)
            for name in candidates
        }
        # Stacking the plain scorer with the others is better on average (benchmarks/
        # experiments.md), but where the plain scorer alone finds clearly more targets in
        # documents the model did not see, the ranking falls back on it.
        self.ranking_ = "stacked"
        if self.guard and _clearly_better(choices["plain"][0], choices["stacked"][0]):
            self.ranking_ = "plain"
        _, self.lead_ratio_, self.passes_lead_ins_, self.target_kinds_ = choices[self.ranking_]
        self.inner_hits_ = {name: int(choice[0].sum()) for name, choice in choices.items()}
        chosen = probability[self.ranking_]
        self.abstain_threshold_, self.multi_threshold_ = _thresholds(chosen, labels, offsets)
        self.ranker_ = self._fit_ranker(
            candidates[self.ranking_], labels, plain=self.ranking_ != "stacked"
        )
        self.n_documents_ = n_docs
        self.n_target_paragraphs_ = int(labels.sum())
        self.n_documents_without_target_ = int(
            sum(1 for i in range(n_docs) if labels[offsets[i] : offsets[i + 1]].sum() == 0)
        )

    def _plain_scorer(self) -> int:
        """Position among the scorers of the plain one (scikit-learn's TF-IDF of the words
        and word pairs of the paragraph text, logistic regression): the last."""
        return len(self._scorer_plan())

    def _scorer_plan(self) -> list[tuple[int, bool]]:
        """Per scorer, the position of its view and whether it scales the columns by their
        log-count ratio: every view plain, then the views of ``log_count_ratio`` scaled."""
        plain = [(i, False) for i in range(len(self.views))]
        return plain + [(self.views.index(v), True) for v in self.log_count_ratio]

    def _views(self, features: sp.csr_matrix) -> list[sp.csr_matrix]:
        """The columns each scorer reads (a view read twice is shared, not copied)."""
        views = [features if c is None else features[:, c] for c in self.view_columns_]
        return [views[i] for i, _ in self._scorer_plan()]

    def _fit_stage_one(
        self, features: list[sp.csr_matrix], words: sp.csr_matrix, labels: np.ndarray
    ) -> tuple[list[LogisticRegression | None], sp.csr_matrix]:
        """The linear scorers (per view and weighting), and the word vectors of (at most
        2,000) training targets."""
        positives = np.flatnonzero(labels == 1)
        if len(positives) > _MAX_TARGETS_KEPT:
            rng = np.random.default_rng(self.random_state)
            positives = np.sort(rng.choice(positives, _MAX_TARGETS_KEPT, replace=False))
        targets = words[positives].astype(np.float32)
        if len(positives) == 0 or len(positives) == len(labels):
            return [None] * len(features), targets
        scaled = [by_ratio for _, by_ratio in self._scorer_plan()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scorers = [
                self._fit_scorer(view, labels, by_ratio)
                for view, by_ratio in zip(features[:-1], scaled, strict=True)
            ]
            scorers.append(self._fit_scorer(features[-1], labels, False, C=_PLAIN_C))
        return scorers, targets

    def _fit_scorer(
        self, features: sp.csr_matrix, labels: np.ndarray, by_ratio: bool, C: float | None = None
    ) -> LogisticRegression:
        ratio = _log_count_ratio(features, labels) if by_ratio else None
        # lbfgs: on the character n-grams (14M non-zeros on the 136 UPR reports) 2.4x faster
        # than liblinear's dual solver at C=1 (0.7 s against 1.7 s), equal on the word views.
        scorer = LogisticRegression(
            C=self.C if C is None else C,
            class_weight="balanced",
            max_iter=1000,
            random_state=self.random_state,
        )
        if ratio is None:
            return scorer.fit(features, labels)
        scorer.fit(features @ sp.diags(ratio), labels)
        # Folded into the weights, the scaling costs nothing at prediction: the scorer reads
        # the same unscaled columns as the other one.
        scorer.coef_ = scorer.coef_ * ratio
        return scorer

    def _fit_ranker(
        self, features: np.ndarray, labels: np.ndarray, plain: bool = False
    ) -> Pipeline | float:
        if labels.min() == labels.max():
            return float(labels[0]) if len(labels) else 0.0
        if plain:  # one column: a calibration that keeps the scorer's order
            calibration = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
            return calibration.fit(features, labels)
        # Linear and strongly regularised on purpose: boosted trees over these few dense
        # features overfit the out-of-fold scores (UPR Minorities hit@1 0.787 with trees,
        # 0.843 linear); C=0.05 beat C=1 with 10 training documents (0.719 against 0.697).
        ranker = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000))
        return ranker.fit(features, labels)

    def _stage_two_inputs(self, rows: _Rows, score: np.ndarray) -> np.ndarray:
        """What the fitted ranker reads of new rows, given the fitted scorers' ``score``."""
        similarity = _similarities(rows.words, self.target_words_)
        naming = self._naming(rows)
        return self._stage_two_features(score, similarity, naming, rows.layout, rows.offsets)

    def _naming(self, rows: _Rows) -> np.ndarray:
        """Per row, how much of the target's name the paragraph holds, and its heading."""
        own = name_matches(rows.paragraphs, self.name_words_)
        under = np.where(rows.headings >= 0, own[np.maximum(rows.headings, 0)], 0.0)
        return np.column_stack([own, under])

    @staticmethod
    def _stage_two_features(
        score: np.ndarray,
        similarity: np.ndarray,
        naming: np.ndarray,
        layout: np.ndarray,
        offsets: np.ndarray,
    ) -> np.ndarray:
        relative = [_document_relative(view, offsets) for view in score.T]
        return np.column_stack(
            [
                score,
                *relative,
                similarity,
                _document_relative(similarity[:, 0], offsets),
                _document_relative(similarity[:, 1], offsets),
                naming,
                _document_relative(naming.max(axis=1), offsets),
                layout,
                np.repeat(np.log1p(np.diff(offsets)), np.diff(offsets)),
                *_neighbour_scores(relative[0][:, 0], offsets),
            ]
        )

    # -- prediction ----------------------------------------------------------------------

    def predict_proba_paragraphs(self, docs: Sequence[ParsedDocument]) -> list[np.ndarray]:
        """Per document, the probability that each paragraph is a target (document order)."""
        check_is_fitted(self, "ranker_")
        offsets = document_offsets(docs)
        if offsets[-1] == 0:
            return [np.zeros(0) for _ in docs]
        features, words = self.featurizer_.transform_with_words(docs)
        return self._probability_of_rows(self._rows(docs, features, words))

    def _probability_of_rows(self, rows: _Rows) -> list[np.ndarray]:
        offsets = rows.offsets
        score = _decisions(self.scorers_, rows.views)
        if self.ranking_ == "plain":
            inputs = score[:, [self._plain_scorer()]]
        else:
            inputs = self._stage_two_inputs(rows, score)
        probability = _probability(self.ranker_, inputs)
        return [probability[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]

    def rank(self, X: Iterable[str | ParsedDocument]) -> Iterator[RankedDocument]:
        """Rank each document's paragraphs, chosen first, and mark the target(s); streams."""
        check_is_fitted(self, "ranker_")
        check_documents(X)
        docs = warn_other_language(parse_documents(X), getattr(self, "language_", None))
        while batch := list(islice(docs, 64)):
            for doc, probability in zip(batch, self.predict_proba_paragraphs(batch), strict=True):
                yield self._decide(doc, probability)

    def _decide(self, doc: ParsedDocument, probability: np.ndarray) -> RankedDocument:
        order = np.argsort(-probability, kind="stable")
        if len(order):
            first = _choose_first(
                probability,
                _kinds(doc),
                lead_ins(doc),
                self.lead_ratio_,
                self.passes_lead_ins_,
                self.target_kinds_,
            )
            order = np.concatenate([[first], order[order != first]])
        floor = self.abstain_threshold_ if self.abstain else -np.inf
        chosen: set[int] = set()
        if len(order) and probability.max() >= floor:
            chosen.add(int(order[0]))
            if self.mode == "multi":
                cut = max(self.multi_threshold_, floor)
                chosen.update(int(i) for i in np.flatnonzero(probability >= cut))
        return RankedDocument(
            [
                ScoredParagraph(doc.paragraphs[i], float(probability[i]), int(i) in chosen)
                for i in order
            ]
        )

    def predict(self, X: Iterable[str | ParsedDocument]) -> list[list[Paragraph]]:
        """The target paragraph(s) of each document; empty where the model abstains."""
        return [[p.paragraph for p in ranked.targets] for ranked in self.rank(X)]

    def evaluate(
        self, X: Sequence[str | ParsedDocument], y: Sequence[Sequence]
    ) -> dict[str, float]:
        """hit@1, MRR, recall@5 over documents with targets; abstention on the others."""
        return ranking_summary(self.rank(X), y)

    def score(self, X: Sequence[str | ParsedDocument], y: Sequence[Sequence]) -> float:
        """hit@1, so that scikit-learn's model selection tools can use the estimator."""
        return self.evaluate(X, y)["hit@1"]


def fit_labels(
    selector: TargetSelector,
    X: Sequence[str | ParsedDocument],
    targets_by_label: Mapping[str, Sequence[Sequence]],
    progress: bool = False,
) -> dict[str, TargetSelector]:
    """One fitted copy of ``selector`` per label, all from the same documents: parsed and
    featurized once, the copies sharing the featurizer, so that many labels cost little more
    than their linear models."""
    check_documents(X)
    selector._validate_params()
    selector._check_params()
    if len(X) < 2:
        raise ValueError(f"needs at least 2 labelled documents, got {len(X)}")
    if not targets_by_label:
        raise ValueError("no label to learn")
    docs = list(parse_documents(X, progress=progress, total=len(X), n_jobs=selector.n_jobs))
    to_learn = {}
    for label, y in targets_by_label.items():
        if len(y) != len(docs):
            raise ValueError(f"{label!r}: {len(docs)} documents but {len(y)} target lists")
        try:
            to_learn[label] = _labels_to_learn(docs, y)
        except ValueError as e:
            raise ValueError(f"{label!r}: {e}") from None
    shared = clone(selector)
    rows = shared._fit_featurizer(docs)
    language = main_language(docs)
    # One label after the other, each fitting its folds side by side: sending the shared rows
    # to processes that fit whole labels held them once per label in flight (a 15.6 GB peak
    # for the 50 UPR labels of 30+ documents, against 1.0 GB for one label).
    labels_bar = tqdm(
        to_learn.items(),
        desc="labels",
        unit="label",
        disable=None if progress and len(to_learn) > 1 else True,  # None: only on a terminal
        leave=False,
    )
    fitted = {
        label: _fit_label(selector, rows, labels, label, progress=progress and len(to_learn) == 1)
        for label, (labels, _) in labels_bar
    }
    for label, model in fitted.items():
        model.featurizer_, model.view_columns_ = shared.featurizer_, shared.view_columns_
        model.paragraph_tfidf_ = shared.paragraph_tfidf_
        model.documents_with_unheld_targets_ = to_learn[label][1]
        model.language_ = language
    return fitted


def ranking_summary(ranked: Iterable[RankedDocument], y: Sequence[Sequence]) -> dict:
    """hit@1, MRR, recall@5 of ranked documents over those with targets (``y``, in the same
    order); how many of the others got no target."""
    results: list[DocumentResult] = []
    abstained = without_target = 0
    for document, targets in zip(ranked, y, strict=True):
        spans = [(t.start, t.end) for t in _as_spans(targets)]
        if spans:
            ranked_spans = [(p.paragraph.start, p.paragraph.end) for p in document.paragraphs]
            results.append(score_document(ranked_spans, spans))
        else:
            without_target += 1
            abstained += not document.targets
    summary = summarize(results)
    summary["documents_without_target"] = without_target
    summary["abstained_without_target"] = abstained
    return summary


def _fit_label(
    selector: TargetSelector, rows: _Rows, labels: np.ndarray, name: str, progress: bool = False
) -> TargetSelector:
    """A copy of ``selector`` fitted on shared rows (its featurizer is set by the caller),
    searching the label's ``name`` unless the selector was given one."""
    model = clone(selector)
    if model.target_name is None:
        model.set_params(target_name=name)
    model._fit_rows(rows, labels, progress=progress)
    return model


def rank_labels(
    models: Mapping[str, TargetSelector], X: Iterable[str | ParsedDocument]
) -> Iterator[dict[str, RankedDocument]]:
    """Every document ranked for every label; featurized once where the models share their
    featurizer (as :func:`fit_labels` makes them), streaming."""
    check_documents(X)
    featurizers = {id(m.featurizer_) for m in models.values()}
    if len(featurizers) != 1:
        raise ValueError("rank_labels needs models that share one featurizer (fit_labels)")
    first = next(iter(models.values()))
    docs = warn_other_language(parse_documents(X), getattr(first, "language_", None))
    while batch := list(islice(docs, 64)):
        features, words = first.featurizer_.transform_with_words(batch)
        rows = first._rows(batch, features, words)
        by_label = {label: model._probability_of_rows(rows) for label, model in models.items()}
        for i, doc in enumerate(batch):
            yield {label: models[label]._decide(doc, p[i]) for label, p in by_label.items()}


@_one_blas_thread
def _fold_stage_one(
    model: TargetSelector,
    features: list[sp.csr_matrix],
    words: sp.csr_matrix,
    labels: np.ndarray,
    fold_of_row: np.ndarray,
    k: int | None,
) -> tuple[np.ndarray | None, np.ndarray | None, list | None, sp.csr_matrix | None]:
    """Fit stage 1 without fold ``k`` and score that fold; ``k`` None: fit on every row and
    return the scorers and targets instead.
    A function of its arguments only, so that folds can run in separate processes."""
    if k is None:
        return None, None, *model._fit_stage_one(features, words, labels)
    train, test = fold_of_row != k, fold_of_row == k
    scorers, targets = model._fit_stage_one(
        [f[train] for f in features], words[train], labels[train]
    )
    score = _decisions(scorers, [f[test] for f in features])
    return score, _similarities(words[test], targets), None, None  # a fold's scorers stay here


def _log_count_ratio(features: sp.csr_matrix, labels: np.ndarray) -> np.ndarray:
    """log(share of a column's weight among targets / its share among other paragraphs),
    add-one smoothed (Wang and Manning 2012): positive for the targets' telling words."""
    positive = np.asarray(features[labels == 1].sum(axis=0)).ravel() + 1.0
    negative = np.asarray(features[labels == 0].sum(axis=0)).ravel() + 1.0
    ratio = np.log(positive / positive.sum()) - np.log(negative / negative.sum())
    return ratio.astype(features.dtype)


def _neighbour_scores(relative: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, ...]:
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


def _similarities(words: sp.csr_matrix, targets: sp.csr_matrix) -> np.ndarray:
    """Cosine similarity of each row to the targets' mean, the nearest and the 3 nearest."""
    out = np.zeros((words.shape[0], 3))
    if targets.shape[0] == 0:
        return out
    mean = np.asarray(targets.mean(axis=0)).ravel()
    norm = np.linalg.norm(mean)
    out[:, 0] = words @ (mean / norm if norm > 0 else mean)
    k = min(3, targets.shape[0])
    for start in range(0, words.shape[0], 2048):  # bounded memory: rows x targets per chunk
        block = (words[start : start + 2048] @ targets.T).toarray()
        out[start : start + 2048, 1] = block.max(axis=1)
        out[start : start + 2048, 2] = -np.partition(-block, k - 1, axis=1)[:, :k].mean(axis=1)
    return out


def _decisions(
    scorers: list[LogisticRegression | None], features: list[sp.csr_matrix]
) -> np.ndarray:
    """One column of scores per view."""
    return np.column_stack(
        [
            np.zeros(f.shape[0]) if s is None else s.decision_function(f)
            for s, f in zip(scorers, features, strict=True)
        ]
    )


def _probability(ranker: Pipeline | float, features: np.ndarray) -> np.ndarray:
    if isinstance(ranker, float):
        return np.full(len(features), ranker)
    return ranker.predict_proba(features)[:, 1]


# Candidate first-mention rules, (ratio, whether lead-ins are passed over); "never" (1.0)
# first so that it wins ties.
FIRST_MENTION_RULES = (
    (1.0, False),
    *((ratio, passes) for passes in (False, True) for ratio in (0.9, 0.7, 0.5, 0.3)),
)
# Another rule must hit this many more training documents than "never": with a few dozen
# documents a single lucky one decided it (UPR Minorities, 20 documents: 0.773 -> 0.735).
_LEAD_MARGIN = 2


def _first_within(probability: np.ndarray, ratio: float, passed: np.ndarray | None = None) -> int:
    """The first paragraph scoring at least ``ratio`` times the document's best; if given,
    ``passed`` marks paragraphs that may not go first unless they are the best."""
    close = probability >= ratio * probability.max()
    if passed is not None:
        close &= ~passed
        close[np.argmax(probability)] = True
    return int(np.flatnonzero(close)[0])


def _choose_first(
    probability: np.ndarray,
    kinds: np.ndarray,
    leads: np.ndarray,
    lead_ratio: float,
    passes_lead_ins: bool,
    target_kinds: tuple[str, ...],
) -> int:
    """The paragraph of one document that goes first under the decision rules: the best of
    the kinds that targets may be, or an earlier one close to it (see ``first_mention``)."""
    eligible = np.isin(kinds, [KINDS.index(k) for k in target_kinds])
    if not eligible.any():
        eligible[:] = True
    candidates = np.flatnonzero(eligible)
    passed = leads[candidates] if passes_lead_ins else None
    return int(candidates[_first_within(probability[candidates], lead_ratio, passed)])


def _hits_under(
    probability: np.ndarray,
    labels: np.ndarray,
    rows: _Rows,
    lead_ratio: float,
    passes_lead_ins: bool,
    target_kinds: tuple[str, ...],
) -> np.ndarray:
    """Per document with a target, whether its first paragraph under these decision rules
    holds one."""
    found = []
    for a, b in pairwise(rows.offsets):
        if labels[a:b].any():
            first = _choose_first(
                probability[a:b],
                rows.kinds[a:b],
                rows.lead_ins[a:b],
                lead_ratio,
                passes_lead_ins,
                target_kinds,
            )
            found.append(bool(labels[a + first]))
    return np.array(found, dtype=bool)


def _clearly_better(hits: np.ndarray, other: np.ndarray) -> bool:
    """Whether ``hits`` beats ``other`` on the same documents by more than chance would: the
    documents only one of them finds, at least two standard deviations apart (McNemar's test
    at about 5%)."""
    wins, losses = int(np.sum(hits & ~other)), int(np.sum(other & ~hits))
    return wins - losses >= max(2.0, 2.0 * np.sqrt(wins + losses))


def _decision_rules(
    probability: np.ndarray, labels: np.ndarray, rows: _Rows, first_mention: bool
) -> tuple[np.ndarray, float, bool, tuple[str, ...]]:
    """The decision rules for out-of-fold ``probability``, each kept only where it finds more
    targets in the training documents than going without it; and which documents it hits."""
    lead_ratio, passes = (
        _first_mention_rule(probability, labels, rows.offsets, rows.lead_ins)
        if first_mention
        else (1.0, False)
    )
    kinds = _target_kinds(labels, rows.kinds)
    with_kinds = _hits_under(probability, labels, rows, lead_ratio, passes, kinds)
    without = _hits_under(probability, labels, rows, lead_ratio, passes, KINDS)
    if without.sum() >= with_kinds.sum():
        return without, lead_ratio, passes, KINDS
    return with_kinds, lead_ratio, passes, kinds


def _first_mention_rule(
    probability: np.ndarray, labels: np.ndarray, offsets: np.ndarray, lead_ins: np.ndarray
) -> tuple[float, bool]:
    """How close to the best an earlier paragraph must score to go first (1.0: never), and
    whether lead-ins are passed over.

    Annotators often mark the first statement of a thing: a contract's date and parties on
    its cover page rather than in its preamble. A lead-in ("This Agreement is made on 26
    September 2019 BETWEEN:") states the date but only introduces the parties, so whether it
    may go first depends on the task. Chosen on the out-of-fold probabilities of the training
    documents with a target; ties go to the rule listed first.
    """
    documents = [
        (probability[a:b], labels[a:b], lead_ins[a:b])
        for a, b in pairwise(offsets)
        if labels[a:b].any()
    ]
    hits = [
        sum(int(y[_first_within(p, ratio, leads if passes else None)]) for p, y, leads in documents)
        for ratio, passes in FIRST_MENTION_RULES
    ]
    best = int(np.argmax(hits))
    return FIRST_MENTION_RULES[best] if hits[best] - hits[0] >= _LEAD_MARGIN else (1.0, False)


# A kind of paragraph is not chosen first when the training targets hold none of it although,
# marked without regard to kind, they would hold this many (P(none) = e^-3, about 0.05).
_KIND_EVIDENCE = 3.0


def _kinds(doc: ParsedDocument) -> np.ndarray:
    """Each paragraph's kind, as its position in ``KINDS``."""
    return np.array([KINDS.index(p.kind) for p in doc.paragraphs], dtype=np.int64)


def _target_kinds(labels: np.ndarray, kinds: np.ndarray) -> tuple[str, ...]:
    """The kinds of paragraph that may go first: those of a training target, and those the
    targets are too few to rule out (10 documents rarely can)."""
    targets = kinds[labels == 1]
    return tuple(
        kind
        for k, kind in enumerate(KINDS)
        if (targets == k).any() or len(targets) * np.mean(kinds == k) < _KIND_EVIDENCE
    )


# Without training documents lacking a target, the share of documents with a target that the
# abstention threshold may give up (the nu of a one-class model).
UNSEEN_MISS_RATE = 0.05


def _thresholds(
    probability: np.ndarray, labels: np.ndarray, offsets: np.ndarray
) -> tuple[float, float]:
    """Abstention threshold (from the documents without targets, else from the best scores of
    those with one) and the multi-mode threshold."""
    n_docs = len(offsets) - 1
    best = np.array(
        [probability[offsets[i] : offsets[i + 1]].max(initial=0.0) for i in range(n_docs)]
    )
    has_target = np.array(
        [labels[offsets[i] : offsets[i + 1]].any() for i in range(n_docs)], dtype=bool
    )
    if (~has_target).any():
        candidates = np.unique(np.concatenate([[0.0], best]))
        accuracy = [np.mean(np.where(has_target, best >= t, best < t)) for t in candidates]
        i = int(np.argmax(accuracy))
        # Any threshold above the candidate below the best one and up to it decides the same on
        # the training documents; midway leaves a margin on both sides for unseen ones.
        abstain_threshold = float((candidates[i - 1] + candidates[i]) / 2) if i > 0 else 0.0
    else:
        # No document shows what "no target" looks like: as a one-class model does, keep the
        # unseen documents whose best paragraph scores like the training documents' best do,
        # all but the lowest share ``UNSEEN_MISS_RATE`` of them.
        abstain_threshold = float(np.quantile(best, UNSEEN_MISS_RATE)) if n_docs else 0.0

    multi_threshold = 0.5
    rows = np.repeat(has_target, np.diff(offsets))
    if rows.any():
        p, y = probability[rows], labels[rows]
        candidates = np.unique(np.quantile(p, np.linspace(0.5, 1.0, 101)))
        f1 = []
        for t in candidates:
            predicted = p >= t
            tp = np.sum(predicted & (y == 1))
            f1.append(2 * tp / max(predicted.sum() + y.sum(), 1))
        multi_threshold = float(candidates[int(np.argmax(f1))])
    return abstain_threshold, multi_threshold
