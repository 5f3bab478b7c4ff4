"""``TargetSelector``: the scikit-learn estimator that runs both stages and the decisions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from tqdm import tqdm

from unclf.contracts import (
    DocumentEstimatorMixin,
    check_documents,
    check_fit_input,
    fitted_at_end,
)
from unclf.features import (
    ParagraphFeaturizer,
    ParagraphWords,
    document_offsets,
    heading_rows,
    layout_features,
    lead_ins,
    name_matches,
    name_words,
)
from unclf.memory import release_free_memory
from unclf.metrics import DocumentResult, score_document, summarize
from unclf.model.decisions import choose_first, clearly_better, decision_rules, thresholds
from unclf.model.inputs import (
    Rows,
    fit_plain_tfidf,
    kinds_of,
    labels_to_learn,
    parse_documents,
    text_characters,
    text_groups,
)
from unclf.model.ranker import (
    equal_weights,
    fit_ranker,
    out_of_fold_probability,
    ranker_probability,
    stage_two_features,
)
from unclf.model.scorers import (
    PLAIN_C,
    VIEWS,
    fit_plain_scorer,
    mean_scorers,
    one_blas_thread,
    score_fold,
    similarities,
    similarities_fold,
    target_words,
    view_scores,
)
from unclf.segmenter import Paragraph, ParsedDocument
from unclf.segmenter.languages import main_language, warn_other_language
from unclf.workers import ending_with_this_process, processes_worth_starting

MODES = ("single", "multi")
# What ranks the paragraphs: the plain TF-IDF scorer alone, its score, the similarity to the
# targets and the label's name weighed equally (when one document holds the targets), or the
# stacked ranker.
RANKINGS = ("plain", "equal", "stacked")


# Not frozen: a frozen dataclass is built three times slower (0.30 against 0.11 ms for a
# document of 250 paragraphs), and every paragraph of every document gets one per label.
@dataclass(slots=True)
class ScoredParagraph:
    paragraph: Paragraph
    score: float
    is_target: bool


@dataclass(frozen=True, slots=True)
class RankedDocument:
    """A document's paragraphs, the chosen one first and the others by score (see
    ``TargetSelector.first_mention``); ``targets`` is empty when the model abstains."""

    paragraphs: list[ScoredParagraph]

    @property
    def targets(self) -> list[ScoredParagraph]:
        return [p for p in self.paragraphs if p.is_target]


@dataclass(frozen=True, slots=True)
class StageOne:
    """A training's inner folds (their number, each row's fold) and stage one's jobs: per fold,
    one per scorer and one for the similarities; then the plain scorer on every row. ``keys``
    says what each job answers: ``(fold, scorer)``, ``(fold, None)``, ``(None, plain)``."""

    n_folds: int
    fold_of_row: np.ndarray
    jobs: list
    keys: list[tuple[int | None, int | None]]


def stage_one_answers(
    stage_ones: Sequence[StageOne], n_jobs: int | None, progress: bool = False
) -> Iterator[list]:
    """Each training's stage-one answers, in order, from one queue of all their jobs on
    ``n_jobs`` processes: the workers go on with the next jobs while the caller uses an
    answer (several labels: a label's stage two runs beside the next labels' folds)."""
    with ending_with_this_process():
        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            job for stage_one in stage_ones for job in stage_one.jobs
        )
    answers = iter(
        tqdm(
            results,
            total=sum(len(stage_one.jobs) for stage_one in stage_ones),
            desc="training" if len(stage_ones) == 1 else f"training {len(stage_ones)} labels",
            unit="step",
            disable=None if progress else True,  # None: only on a terminal
            leave=False,
        )
    )
    for i, stage_one in enumerate(stage_ones):
        answer = list(islice(answers, len(stage_one.jobs)))
        if i == len(stage_ones) - 1:
            # The queue run to its end before the last answer leaves: dropped after its last
            # result, joblib's generator may warn that "0 tasks ... have been cancelled".
            next(answers, None)
        yield answer


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
        1; -1: all cores, where the training texts are long enough to pay for starting them:
        :data:`unclf.workers.WORKERS_PAY_FROM_CHARACTERS`).
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
        Without it the stacked ranker is used, except where one document holds every target
        and nothing can be learned about how to weigh the evidence (``"equal"``).
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
        n_jobs = processes_worth_starting(self.n_jobs, text_characters(X))
        docs = list(parse_documents(X, progress=progress, total=len(X), n_jobs=n_jobs))
        self.language_ = main_language(docs)
        labels, unheld = labels_to_learn(docs, y)
        rows = self._fit_featurizer(docs, n_jobs)
        del docs  # the rows hold all that the fits read: the parsed documents go before them
        release_free_memory()
        self._fit_rows(rows, labels, n_jobs, progress=progress)
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

    def _fit_featurizer(self, docs: Sequence[ParsedDocument], n_jobs: int | None) -> Rows:
        """Fit the featurizer (it sees no label) and return the training documents' rows."""
        paragraphs = [p.text for d in docs for p in d.paragraphs]
        # The plain TF-IDF (a sixth of the fit, scikit-learn's vocabulary counting) is fitted
        # in a worker process (with ``n_jobs`` other than 1) while this one builds the hashed
        # features and the rest of the rows: the plain TF-IDF is what the rows wait for last.
        with ending_with_this_process():
            plain_job = Parallel(n_jobs=n_jobs, return_as="generator")(
                [delayed(fit_plain_tfidf)(paragraphs)]
            )
        self.featurizer_ = clone(self.featurizer or ParagraphFeaturizer())
        rows = self._rows(docs, paragraphs, *self.featurizer_.fit_transform_blocks(docs))
        release_free_memory()  # what building the feature blocks took and let go
        [(self.paragraph_tfidf_, plain)] = plain_job  # to its end (see stage_one_answers)
        rows.views.append(plain)
        for view in rows.views:
            view.sum_duplicates()  # sorted once here, not again by every fold's fit
        return rows

    def _rows_of(self, docs: Sequence[ParsedDocument]) -> Rows:
        """The rows of documents to predict on, featurized as the training documents were."""
        paragraphs = [p.text for d in docs for p in d.paragraphs]
        rows = self._rows(docs, paragraphs, *self.featurizer_.transform_blocks(docs))
        rows.views.append(self.paragraph_tfidf_.transform(paragraphs))
        return rows

    def _rows(
        self,
        docs: Sequence[ParsedDocument],
        paragraphs: list[str],
        blocks: list[sp.csr_matrix],
        words: sp.csr_matrix,
    ) -> Rows:
        """What both stages read of ``docs``, given their ``paragraphs`` and the featurizer's
        ``blocks`` and ``words`` of them (``transform_blocks``); the caller adds the plain
        TF-IDF's view last."""
        return Rows(
            texts=[d.text for d in docs],
            paragraph_words=ParagraphWords(paragraphs),
            headings=heading_rows(docs),
            views=self._views(blocks),
            words=words,
            layout=np.vstack([layout_features(d) for d in docs]),
            offsets=document_offsets(docs),
            lead_ins=np.concatenate([lead_ins(d) for d in docs]),
            kinds=np.concatenate([kinds_of(d) for d in docs]),
        )

    @one_blas_thread
    def _fit_rows(
        self, rows: Rows, labels: np.ndarray, n_jobs: int | None, progress: bool = False
    ) -> None:
        """Both stages and the decision rules, on featurized training documents."""
        stage_one = self._stage_one(rows, labels)
        answers = next(stage_one_answers([stage_one], n_jobs, progress))
        self._fit_from_stage_one(rows, labels, stage_one, answers)

    def _stage_one(self, rows: Rows, labels: np.ndarray) -> StageOne:
        """The inner folds and stage one's jobs: a function of its arguments each, so that they
        run in processes side by side (and, for several labels, the labels' jobs in one queue:
        :func:`unclf.model.fit_labels`)."""
        n_folds, fold_of_row = self._inner_folds(rows, labels)
        # Per scorer, the plain one last: whether it scales by the log-count ratio, and its C.
        fits = [(by_ratio, self.C) for _, by_ratio in self._scorer_plan()] + [(False, PLAIN_C)]
        seed = self.random_state
        # The largest views first, so that the last jobs to finish are short ones.
        by_size = sorted(range(len(fits)), key=lambda s: -rows.views[s].nnz)
        jobs, keys = [], []
        for k in range(n_folds):
            test = fold_of_row == k
            for s in by_size:
                jobs.append(delayed(score_fold)(rows.views[s], labels, test, *fits[s], seed))
                keys.append((k, s))
            jobs.append(delayed(similarities_fold)(rows.words, labels, test, seed))
            keys.append((k, None))
        plain = len(fits) - 1
        jobs.append(delayed(fit_plain_scorer)(rows.views[plain], labels, seed))
        keys.append((None, plain))
        return StageOne(n_folds, fold_of_row, jobs, keys)

    def _fit_from_stage_one(
        self, rows: Rows, labels: np.ndarray, stage_one: StageOne, results: list
    ) -> None:
        """Stage two and the decision rules, given stage one's ``results`` (its jobs' answers,
        in order)."""
        n_folds, fold_of_row = stage_one.n_folds, stage_one.fold_of_row
        score, similarity = self._scorers_out_of_fold(rows, labels, stage_one, results)
        self.name_words_ = name_words(self.target_name, rows.paragraph_words)
        # With the targets dealt out, a fold is trained without one only where one document
        # holds them all (``_scorers_out_of_fold`` gave its rows the model's scores).
        one_document = bool(self._folds_without_target(labels, n_folds, fold_of_row))
        candidates = self._ranking_candidates(score, similarity, rows, one_document)
        probability = out_of_fold_probability(candidates, labels, n_folds, fold_of_row)
        self._choose_ranking(probability, labels, rows)
        self.abstain_threshold_, self.multi_threshold_ = thresholds(
            probability[self.ranking_], labels, rows.offsets
        )
        self.ranker_ = fit_ranker(
            candidates[self.ranking_], labels, plain=self.ranking_ != "stacked"
        )
        self._count_training_data(labels, rows.offsets)

    def _inner_folds(self, rows: Rows, labels: np.ndarray) -> tuple[int, np.ndarray]:
        """The document folds inside the training set, and each row's fold.

        The documents holding a target are dealt out over the folds first, and there are no
        more folds than such documents, so that every fold is trained with a target where two
        or more documents hold one. A fold trained without any scores its own targets as
        nothing, and the ranker learns that targets score low: with 10 training documents, one
        to three of them with a target, unclf fell below every baseline on such labels
        (benchmarks/experiments.md). Identical texts share a fold."""
        sizes = np.diff(rows.offsets)
        held = np.zeros(len(sizes), dtype=bool)
        held[sizes > 0] = np.add.reduceat(labels, rows.offsets[:-1][sizes > 0]) > 0
        group, n_groups = text_groups(rows.texts)
        group_held = np.zeros(n_groups, dtype=bool)
        np.logical_or.at(group_held, group, held)
        n_folds = max(2, min(self.n_folds, n_groups, int(group_held.sum())))
        order = np.random.default_rng(self.random_state).permutation(n_groups)
        order = order[np.argsort(~group_held[order], kind="stable")]  # targets dealt first
        fold_of_group = np.empty(n_groups, dtype=np.int64)
        fold_of_group[order] = np.arange(len(order)) % n_folds
        return n_folds, np.repeat(fold_of_group[group], sizes)

    def _scorers_out_of_fold(
        self, rows: Rows, labels: np.ndarray, stage_one: StageOne, results: list
    ) -> tuple[np.ndarray, np.ndarray]:
        """Stage one, out of fold: how the scorers and the similarity to the targets judge
        documents they did not see (the ranker's inputs); and the scorers that predict: the
        folds' mean, and the plain one fitted on every document."""
        n_folds, fold_of_row = stage_one.n_folds, stage_one.fold_of_row
        score = np.zeros((len(labels), len(rows.views)))
        similarity = np.zeros((len(labels), 3))
        fold_scorers = [[None] * len(rows.views) for _ in range(n_folds)]
        for (k, s), answer in zip(stage_one.keys, results, strict=True):
            if k is None:
                plain = answer
            elif s is None:
                similarity[fold_of_row == k] = answer
            else:
                score[fold_of_row == k, s], fold_scorers[k][s] = answer
        self.scorers_ = [*mean_scorers([scorers[:-1] for scorers in fold_scorers]), plain]
        self.target_words_ = target_words(rows.words, labels, self.random_state)
        for k in self._folds_without_target(labels, n_folds, fold_of_row):
            # Trained without a target (one document holds them all), the fold could only
            # score zeros: its rows take the model's scorers' scores, which at least rank and
            # calibrate as the model will (the ranking is then ``equal``, not learned).
            inside = fold_of_row == k
            score[inside] = view_scores(self.scorers_, [v[inside] for v in rows.views])
            similarity[inside] = similarities(rows.words[inside], self.target_words_)
        return score, similarity

    @staticmethod
    def _folds_without_target(
        labels: np.ndarray, n_folds: int, fold_of_row: np.ndarray
    ) -> list[int]:
        """The inner folds whose training part holds no target."""
        return [k for k in range(n_folds) if not labels[fold_of_row != k].any()]

    def _ranking_candidates(
        self, score: np.ndarray, similarity: np.ndarray, rows: Rows, one_document: bool
    ) -> dict[str, np.ndarray]:
        """The inputs of each way to rank, out of fold: the stacked ranker's and, with the guard,
        the plain scorer's alone. The similarity to the mean training target as a third
        candidate lost more by the noisier choice than it won (benchmarks/experiments.md).

        Where one document holds every target, no inner fold shows how a target the scorers
        did not see scores, and no weighing can be learned: the ranking is ``equal``."""
        naming = self._naming(rows)
        if one_document:
            return {"equal": equal_weights(score, similarity, naming, rows.offsets)}
        candidates = {
            "stacked": stage_two_features(score, similarity, naming, rows.layout, rows.offsets)
        }
        if self.guard:
            candidates["plain"] = score[:, [self._plain_scorer()]]
        return candidates

    def _choose_ranking(
        self, probability: dict[str, np.ndarray], labels: np.ndarray, rows: Rows
    ) -> None:
        """The ranking and its decision rules, chosen on the out-of-fold probabilities."""
        choices = {
            name: decision_rules(p, labels, rows, self.first_mention)
            for name, p in probability.items()
        }
        # Stacking the plain scorer with the others is better on average (benchmarks/
        # experiments.md), but where the plain scorer alone finds clearly more targets in
        # documents the model did not see, the ranking falls back on it.
        self.ranking_ = "equal" if "equal" in choices else "stacked"
        if "plain" in choices and clearly_better(choices["plain"][0], choices["stacked"][0]):
            self.ranking_ = "plain"
        _, self.lead_ratio_, self.passes_lead_ins_, self.target_kinds_ = choices[self.ranking_]
        self.inner_hits_ = {name: int(choice[0].sum()) for name, choice in choices.items()}

    def _count_training_data(self, labels: np.ndarray, offsets: np.ndarray) -> None:
        n_docs = len(offsets) - 1
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

    def _views(self, blocks: list[sp.csr_matrix]) -> list[sp.csr_matrix]:
        """The columns each scorer reads: its view's blocks side by side (a view of one block
        is that block, not a copy; a view read twice is shared; a view whose blocks the
        featurizer does not make has no columns)."""
        named = list(zip(self.featurizer_.blocks, blocks, strict=True))
        views = []
        for view in self.views:
            read = [b for name, b in named if VIEWS[view] is None or name in VIEWS[view]]
            if len(read) == 1:
                views.append(read[0])
            else:
                views.append(sp.hstack([blocks[0][:, :0], *read], format="csr"))
        return [views[i] for i, _ in self._scorer_plan()]

    def _stage_two_inputs(
        self, rows: Rows, score: np.ndarray, similarity: np.ndarray | None = None
    ) -> np.ndarray:
        """What the fitted ranker reads of new rows, given the fitted scorers' ``score`` (and
        the rows' ``similarity`` to the targets, computed here unless given)."""
        if similarity is None:
            similarity = similarities(rows.words, self.target_words_)
        naming = self._naming(rows)
        if self.ranking_ == "equal":
            return equal_weights(score, similarity, naming, rows.offsets)
        return stage_two_features(score, similarity, naming, rows.layout, rows.offsets)

    def _naming(self, rows: Rows) -> np.ndarray:
        """Per row, how much of the target's name the paragraph holds, and its heading."""
        own = name_matches(rows.paragraph_words, self.name_words_)
        under = np.where(rows.headings >= 0, own[np.maximum(rows.headings, 0)], 0.0)
        return np.column_stack([own, under])

    # -- prediction ----------------------------------------------------------------------

    def predict_proba_paragraphs(self, docs: Sequence[ParsedDocument]) -> list[np.ndarray]:
        """Per document, the probability that each paragraph is a target (document order)."""
        check_is_fitted(self, "ranker_")
        offsets = document_offsets(docs)
        if offsets[-1] == 0:
            return [np.zeros(0) for _ in docs]
        return self._probability_of_rows(self._rows_of(docs))

    def _probability_of_rows(
        self, rows: Rows, score: np.ndarray | None = None, similarity: np.ndarray | None = None
    ) -> list[np.ndarray]:
        """Per document of ``rows``, its paragraphs' probabilities; the scorers' ``score`` and
        the ``similarity`` to the targets where the caller computed them (for several labels at
        once)."""
        offsets = rows.offsets
        if score is None:
            score = view_scores(self.scorers_, rows.views)
        if self.ranking_ == "plain":
            inputs = score[:, [self._plain_scorer()]]
        else:  # "equal" or "stacked"
            inputs = self._stage_two_inputs(rows, score, similarity)
        probability = ranker_probability(self.ranker_, inputs)
        return [probability[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]

    def rank(self, X: Iterable[str | ParsedDocument]) -> Iterator[RankedDocument]:
        """Rank each document's paragraphs, chosen first, and mark the target(s); streams."""
        check_is_fitted(self, "ranker_")
        check_documents(X)
        docs = warn_other_language(parse_documents(X), getattr(self, "language_", None))
        while batch := list(islice(docs, 64)):
            for doc, probability in zip(batch, self.predict_proba_paragraphs(batch), strict=True):
                yield self._decide(doc, probability)

    def _decide(
        self,
        doc: ParsedDocument,
        probability: np.ndarray,
        kinds: np.ndarray | None = None,
        introduces: np.ndarray | None = None,
    ) -> RankedDocument:
        """The document's paragraphs ranked and marked, given their probabilities (and their
        kinds and which of them are lead-ins, found here unless the caller has them)."""
        order = np.argsort(-probability, kind="stable")
        if len(order):
            first = choose_first(
                probability,
                kinds_of(doc) if kinds is None else kinds,
                lead_ins(doc) if introduces is None else introduces,
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
        paragraphs, scores = doc.paragraphs, probability.tolist()
        return RankedDocument(
            [ScoredParagraph(paragraphs[i], scores[i], i in chosen) for i in order.tolist()]
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


def ranking_summary(ranked: Iterable[RankedDocument], y: Sequence[Sequence]) -> dict:
    """hit@1, MRR, recall@5 of ranked documents over those with targets (``y``, in the same
    order); how many of the others got no target."""
    results: list[DocumentResult] = []
    abstained = without_target = 0
    for document, spans in zip(ranked, y, strict=True):
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
