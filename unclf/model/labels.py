"""Several labels over the same documents: parsed and featurized once, a selector per label."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice

import numpy as np
from sklearn.base import clone

from unclf.contracts import (
    check_documents,
)
from unclf.memory import release_free_memory
from unclf.model.inputs import Rows, labels_to_learn, parse_documents, text_characters
from unclf.model.scorers import StackedScorers, TargetSimilarity, one_blas_thread
from unclf.model.selector import RankedDocument, TargetSelector, stage_one_answers
from unclf.segmenter import ParsedDocument
from unclf.segmenter.languages import main_language, warn_other_language
from unclf.workers import processes_worth_starting


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
    # Each label's folds are fitted on all the text: the work grows with the labels.
    n_jobs = processes_worth_starting(selector.n_jobs, text_characters(X) * len(targets_by_label))
    docs = list(parse_documents(X, progress=progress, total=len(X), n_jobs=n_jobs))
    to_learn = {}
    for label, y in targets_by_label.items():
        if len(y) != len(docs):
            raise ValueError(f"{label!r}: {len(docs)} documents but {len(y)} target lists")
        try:
            to_learn[label] = labels_to_learn(docs, y)
        except ValueError as e:
            raise ValueError(f"{label!r}: {e}") from None
    shared = clone(selector)
    rows = shared._fit_featurizer(docs, n_jobs)
    language = main_language(docs)
    del docs  # the rows hold all that the fits read: the parsed documents go before them
    release_free_memory()
    labels_of = {label: labels for label, (labels, _) in to_learn.items()}
    fitted = _fit_labels_on_rows(selector, rows, labels_of, n_jobs, progress)
    for label, model in fitted.items():
        model.featurizer_ = shared.featurizer_
        model.paragraph_tfidf_ = shared.paragraph_tfidf_
        model.documents_with_unheld_targets_ = to_learn[label][1]
        model.language_ = language
    return fitted


@one_blas_thread
def _fit_labels_on_rows(
    selector: TargetSelector,
    rows: Rows,
    labels_of: Mapping[str, np.ndarray],
    n_jobs: int | None,
    progress: bool,
) -> dict[str, TargetSelector]:
    """A copy of ``selector`` per label fitted on the shared rows (its featurizer is set by the
    caller), searching the label's name unless the selector was given one.

    Every label's stage-one jobs go to the worker processes in one queue, and stage two of a
    label runs here while the workers fit the next labels' folds: one label after the other,
    the workers waited for stage two, and the last fold of a label for the others. The rows go
    to the workers once, not once per label; the queue holds a few jobs at a time, so a
    label's rows are not sent ahead many times over (sending whole labels to processes held
    them once per label in flight: 15.6 GB for the 50 UPR labels of 30+ documents)."""
    models = {}
    for label in labels_of:
        models[label] = clone(selector)
        if models[label].target_name is None:
            models[label].set_params(target_name=label)
    stage_ones = {label: models[label]._stage_one(rows, y) for label, y in labels_of.items()}
    queue = stage_one_answers(list(stage_ones.values()), n_jobs, progress)
    for (label, stage_one), answers in zip(stage_ones.items(), queue, strict=True):
        models[label]._fit_from_stage_one(rows, labels_of[label], stage_one, answers)
    return models


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
    # The labels ranked by more than their plain scorer read the paragraphs' similarity to
    # their targets: one product with all their targets, each shared target once.
    similar = [label for label, m in models.items() if m.ranking_ != "plain"]
    similarity = TargetSimilarity([models[label].target_words_ for label in similar])
    scorers = StackedScorers([m.scorers_ for m in models.values()])
    docs = warn_other_language(parse_documents(X), getattr(first, "language_", None))
    while batch := list(islice(docs, 64)):
        rows = first._rows_of(batch)
        similar_rows = dict(zip(similar, similarity(rows.words), strict=True))
        by_label = {
            label: model._probability_of_rows(rows, score, similar_rows.get(label))
            for (label, model), score in zip(models.items(), scorers(rows.views), strict=True)
        }
        for i, doc in enumerate(batch):
            part = slice(rows.offsets[i], rows.offsets[i + 1])
            yield {
                label: models[label]._decide(doc, p[i], rows.kinds[part], rows.lead_ins[part])
                for label, p in by_label.items()
            }
