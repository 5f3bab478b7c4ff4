"""How good are the suggestions, honestly: cross-validation, baselines, learning curves.

Every figure comes from documents the model never saw in training: the documents are split into
seeded folds (documents with identical text always share a fold, so a duplicate cannot leak),
and each fold is tested by a model trained on the others. The baselines are trained and tested
on the very same folds in the same run, so the model is compared with what a user would
otherwise use, not with a number from elsewhere. Hits are counted by :mod:`unclf.metrics`, the
one definition the rest of unclf uses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from sklearn.base import clone
from tqdm import tqdm

from unclf.baselines import DocumentTfidfLogistic, Ranker, default_baselines
from unclf.baselines import rank_labels as rank_baseline_labels
from unclf.metrics import DocumentResult, hits, score_document, summarize
from unclf.model import (
    RankedDocument,
    ScoredParagraph,
    TargetSelector,
    document_folds,
    fit_labels,
    parse_documents,
    rank_labels,
    ranking_summary,
)
from unclf.segmenter import ParsedDocument
from unclf.words import count

__all__ = [
    "CrossValidation",
    "DocumentOutcome",
    "ParagraphView",
    "cross_validate",
    "cross_validate_document_labels",
    "cross_validate_labels",
    "document_label_summary",
    "learning_curve",
]

Spans = Sequence[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class ParagraphView:
    """A paragraph as the error report shows it: where it sits and how the model scored it."""

    index: int
    start: int
    end: int
    text: str
    section: str | None
    score: float
    rank: int
    is_target: bool


@dataclass(frozen=True, slots=True)
class DocumentOutcome:
    """What the model did with one test document. ``hit`` is None for a document without
    target; ``gold`` are the paragraphs that hold a target, ``unheld`` the text of targets that
    no paragraph holds."""

    id: str
    fold: int
    n_paragraphs: int
    text_length: int
    hit: bool | None
    chosen: ParagraphView | None
    gold: tuple[ParagraphView, ...]
    unheld: tuple[str, ...]
    marked: int
    marked_right: int
    targets: int
    targets_found: int

    @property
    def abstained(self) -> bool:
        return self.marked == 0


@dataclass
class CrossValidation:
    """Pooled figures of the model, per-fold figures, the baselines, and every test document."""

    summary: dict
    folds: list[dict]
    baselines: dict[str, dict]
    settings: dict
    documents: list[DocumentOutcome] = field(repr=False)

    @property
    def misses(self) -> list[DocumentOutcome]:
        """Documents with a target whose top-ranked paragraph holds none."""
        return [d for d in self.documents if d.hit is False]

    @property
    def false_alarms(self) -> list[DocumentOutcome]:
        """Documents without a target in which the model marked a paragraph."""
        return [d for d in self.documents if d.hit is None and d.marked]

    def to_dict(self) -> dict:
        """JSON-ready: the summary's keys at the top, then ``folds``, ``baselines``,
        ``settings``; undefined means (no document with a target) are None."""
        return _json_ready(
            {
                **self.summary,
                "folds": self.folds,
                "baselines": self.baselines,
                "settings": self.settings,
            }
        )


def _json_ready(value: object) -> object:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _draw(
    train: np.ndarray, targets: Sequence[Spans], size: int, rng: np.random.Generator
) -> np.ndarray:
    """``size`` training documents, at least one with a target. The draws of one generator
    state are nested: the 5 documents of a small draw are the first 5 of the 10 of a larger."""
    order = rng.permutation(train)
    first = next((j for j, i in enumerate(order) if targets[i]), None)
    if first is not None:
        order = np.concatenate([[order[first]], np.delete(order, first)])
    return np.sort(order[:size])


def _view(scored: ScoredParagraph, rank: int) -> ParagraphView:
    p = scored.paragraph
    return ParagraphView(
        p.index, p.start, p.end, p.text, p.section, scored.score, rank, scored.is_target
    )


def _outcome(
    doc_id: str, fold: int, doc: ParsedDocument, ranked: RankedDocument, spans: Spans
) -> tuple[DocumentOutcome, DocumentResult | None]:
    paragraphs = ranked.paragraphs
    marked = [s.paragraph for s in paragraphs if s.is_target]
    found: set[int] = set()
    marked_right = 0
    for p in marked:
        held = hits(p.start, p.end, spans)
        found.update(held)
        marked_right += bool(held)
    gold = tuple(
        _view(s, rank)
        for rank, s in enumerate(paragraphs)
        if hits(s.paragraph.start, s.paragraph.end, spans)
    )
    held_targets = {t for g in gold for t in hits(g.start, g.end, spans)}
    unheld = tuple(doc.text[s:e] for t, (s, e) in enumerate(spans) if t not in held_targets)
    result = None
    if spans:
        result = score_document([(s.paragraph.start, s.paragraph.end) for s in paragraphs], spans)
    outcome = DocumentOutcome(
        id=doc_id,
        fold=fold,
        n_paragraphs=len(paragraphs),
        text_length=len(doc.text),
        hit=None if result is None else bool(result.hit_at_1),
        chosen=_view(paragraphs[0], 0) if paragraphs else None,
        gold=gold,
        unheld=unheld,
        marked=len(marked),
        marked_right=marked_right,
        targets=len(spans),
        targets_found=len(found),
    )
    return outcome, result


def _wilson(hit_count: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of a share (Wilson): how far hit@1 could move with other documents."""
    if n == 0:
        return float("nan"), float("nan")
    p = hit_count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _decisions(outcomes: Sequence[DocumentOutcome]) -> dict:
    """Precision/recall/F1 of the marked paragraphs, and abstention where there is no target."""
    marked = sum(o.marked for o in outcomes)
    right = sum(o.marked_right for o in outcomes)
    targets = sum(o.targets for o in outcomes)
    found = sum(o.targets_found for o in outcomes)
    precision = right / marked if marked else float("nan")
    recall = found / targets if targets else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if right and found else 0.0
    without = [o for o in outcomes if o.hit is None]
    abstained = sum(o.abstained for o in without)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1 if marked and targets else float("nan"),
        "documents_without_target": len(without),
        "abstained_without_target": abstained,
        "abstention_rate": abstained / len(without) if without else float("nan"),
    }


# Score bands of the chosen paragraph, for "how often is the suggestion right at this score".
SCORE_BANDS = (0.0, 0.5, 0.8, 1.0)


def _by_score(outcomes: Sequence[DocumentOutcome]) -> list[dict]:
    """hit@1 of the documents with a target whose chosen paragraph scored in each band: what
    a score is worth to a person deciding whether to check a suggestion. A document without
    paragraphs has no chosen score and is in no band (it still counts as a miss in hit@1)."""
    scored = [(o.chosen.score, o.hit) for o in outcomes if o.hit is not None and o.chosen]
    bands = []
    for low, high in pairwise(SCORE_BANDS):
        inside = [hit for score, hit in scored if low <= score < high or score == high == 1.0]
        bands.append(
            {
                "scores": f"{low:.1f}-{high:.1f}",
                "documents": len(inside),
                "hit@1": sum(inside) / len(inside) if inside else float("nan"),
            }
        )
    return bands


def _summary(outcomes: Sequence[DocumentOutcome], results: Sequence[DocumentResult]) -> dict:
    summary = summarize(results)
    low, high = _wilson(sum(r.hit_at_1 for r in results), len(results))
    summary["hit@1_ci95"] = [low, high]
    summary["hit@1_by_score"] = _by_score(outcomes)
    summary.update(_decisions(outcomes))
    return summary


def cross_validate(
    docs: Sequence[str | ParsedDocument],
    targets: Sequence[Spans],
    *,
    ids: Sequence[str] | None = None,
    folds: int = 5,
    seed: int = 0,
    mode: str = "single",
    train_size: int | None = None,
    baselines: Mapping[str, Ranker] | None = None,
    target_name: str | None = None,
    progress: bool = False,
) -> CrossValidation:
    """Document-grouped K-fold cross-validation of ``TargetSelector`` and the baselines.

    ``train_size``: train each fold on that many documents drawn from its training part (at
    least one with a target) instead of all of it, to see how the model does with few labels.
    ``target_name``: the label's name, as ``TargetSelector`` takes it. Same arguments, same
    numbers. Raises ValueError when the folds cannot be made or a fold's
    training part has no target.
    """
    if len(docs) != len(targets):
        raise ValueError(f"{len(docs)} documents but {len(targets)} target lists")
    parsed = list(parse_documents(docs, progress=progress, total=len(docs)))
    run = _Run(parsed, targets, ids, folds, seed, mode, baselines, target_name)
    return run.cross_validate(train_size, repeat=0, progress=progress)


def cross_validate_labels(
    docs: Sequence[str | ParsedDocument],
    targets_by_label: Mapping[str, Sequence[Spans]],
    *,
    folds: int = 5,
    seed: int = 0,
    mode: str = "single",
    baselines: Mapping[str, Ranker] | None = None,
    progress: bool = False,
) -> dict[str, dict]:
    """:func:`cross_validate` of many labels at once, on the same folds: per fold one model
    file's worth of selectors (:func:`unclf.model.fit_labels`) and one vectorization per
    baseline. Per label: unclf's summary, each baseline's, and the best baseline by hit@1."""
    for label, targets in targets_by_label.items():
        if len(targets) != len(docs):
            raise ValueError(f"{label!r}: {len(docs)} documents but {len(targets)} target lists")
    parsed = list(parse_documents(docs, progress=progress, total=len(docs)))
    baselines = default_baselines() if baselines is None else dict(baselines)
    ranked: dict[str, list] = {label: [None] * len(parsed) for label in targets_by_label}
    by_baseline: dict[str, dict[str, list]] = {
        name: {label: [None] * len(parsed) for label in targets_by_label} for name in baselines
    }
    splits = document_folds([d.text for d in parsed], folds, seed)
    for k, (train, test) in enumerate(_fold_bar(splits, progress)):
        train_docs, test_docs = [parsed[i] for i in train], [parsed[i] for i in test]
        train_targets = {
            label: [targets[i] for i in train] for label, targets in targets_by_label.items()
        }
        try:
            models = fit_labels(
                TargetSelector(mode=mode, random_state=seed), train_docs, train_targets
            )
        except ValueError as e:
            raise ValueError(
                f"fold {k + 1}: {e}; label more documents or use fewer folds"
            ) from None
        for i, result in zip(test, rank_labels(models, test_docs), strict=True):
            for label, document in result.items():
                ranked[label][i] = document
        for name, baseline in baselines.items():
            spans = rank_baseline_labels(baseline, train_docs, train_targets, test_docs)
            for label, per_doc in spans.items():
                for i, doc_spans in zip(test, per_doc, strict=True):
                    by_baseline[name][label][i] = doc_spans
    out = {}
    for label, targets in targets_by_label.items():
        scored = {
            name: summarize(
                [score_document(r, t) for r, t in zip(runs[label], targets, strict=True) if t]
            )
            for name, runs in by_baseline.items()
        }
        best = max(scored, key=lambda name: _or_minus_one(scored[name]["hit@1"]))
        out[label] = {
            "unclf": ranking_summary(ranked[label], targets),
            "baselines": scored,
            "best_baseline": best,
        }
    return out


def document_label_summary(probability: Sequence[float], gold: Sequence[bool]) -> dict:
    """Accuracy, precision, recall and F1 of "has the label" (probability >= 0.5)."""
    predicted = np.asarray(probability) >= 0.5
    gold = np.asarray(gold, dtype=bool)
    right = int((predicted & gold).sum())
    precision = right / predicted.sum() if predicted.any() else float("nan")
    recall = right / gold.sum() if gold.any() else float("nan")
    f1 = 2 * right / (predicted.sum() + gold.sum()) if predicted.any() or gold.any() else 0.0
    return {
        "documents": len(gold),
        "with_label": int(gold.sum()),
        "accuracy": float((predicted == gold).mean()) if len(gold) else float("nan"),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
    }


def cross_validate_document_labels(
    docs: Sequence[str | ParsedDocument],
    has_by_label: Mapping[str, Sequence[bool]],
    *,
    folds: int = 5,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, dict]:
    """Labels of whole documents, cross-validated on document folds: unclf's
    :class:`~unclf.model.document_labels.DocumentLabeler` against a TF-IDF + logistic regression
    document classifier (``tfidf-lr``) on the same folds. Per label, both summaries."""
    from unclf.model.document_labels import DocumentLabeler

    parsed = list(parse_documents(docs, progress=progress, total=len(docs)))
    splits = document_folds([d.text for d in parsed], folds, seed)
    scores = {
        label: {name: np.zeros(len(parsed)) for name in ("unclf", "tfidf-lr")}
        for label in has_by_label
    }
    for k, (train, test) in enumerate(_fold_bar(splits, progress)):
        train_docs, test_docs = [parsed[i] for i in train], [parsed[i] for i in test]
        for label, has in has_by_label.items():
            y = np.asarray(has, dtype=bool)[train]
            if y.all() or not y.any():
                raise ValueError(
                    f"fold {k + 1}: {label!r}: the training documents need some with the label "
                    "and some without; label more documents or use fewer folds"
                )
            labeler = DocumentLabeler(random_state=seed).fit(train_docs, y)
            scores[label]["unclf"][test] = [d.score for d in labeler.decide(test_docs)]
            plain = DocumentTfidfLogistic().fit(train_docs, y)
            scores[label]["tfidf-lr"][test] = plain.predict_proba(test_docs)[:, 1]
    return {
        label: {
            name: document_label_summary(values, has_by_label[label])
            for name, values in by_method.items()
        }
        for label, by_method in scores.items()
    }


def _fold_bar(splits: list, progress: bool):
    """The folds, counted on stderr when ``progress`` and it is a terminal."""
    return tqdm(
        splits,
        desc="cross-validation",
        unit="fold",
        disable=None if progress else True,  # None: only on a terminal
        leave=False,
    )


def _or_minus_one(value: float) -> float:
    return -1.0 if math.isnan(value) else value


class _Run:
    """Documents parsed once, reused by every fold, draw and repeat."""

    def __init__(
        self,
        parsed: list[ParsedDocument],
        targets: Sequence[Spans],
        ids: Sequence[str] | None,
        folds: int,
        seed: int,
        mode: str,
        baselines: Mapping[str, Ranker] | None,
        target_name: str | None = None,
    ) -> None:
        self.parsed = parsed
        self.targets = [[(int(s), int(e)) for s, e in t] for t in targets]
        self.ids = [str(i) for i in range(len(parsed))] if ids is None else list(ids)
        self.folds, self.seed, self.mode = folds, seed, mode
        self.target_name = target_name
        self.baselines = default_baselines() if baselines is None else dict(baselines)

    def cross_validate(
        self, train_size: int | None, repeat: int, progress: bool
    ) -> CrossValidation:
        parsed, targets = self.parsed, self.targets
        splits = document_folds([d.text for d in parsed], self.folds, self.seed + repeat)
        _check_size(train_size, splits, len(parsed), self.folds)
        outcomes: list[DocumentOutcome] = []
        results: list[DocumentResult] = []
        baseline_results: dict[str, list[DocumentResult]] = {n: [] for n in self.baselines}
        fold_rows = []
        for k, (train, test) in enumerate(_fold_bar(splits, progress)):
            if train_size is not None:
                rng = np.random.default_rng([self.seed, repeat, k])
                train = _draw(train, targets, train_size, rng)
            if not any(targets[i] for i in train):
                raise ValueError(
                    f"fold {k + 1}: none of its {len(train)} training documents has a target; "
                    "label more documents or use fewer folds"
                )
            train_docs = [parsed[i] for i in train]
            train_targets = [targets[i] for i in train]
            model = TargetSelector(
                mode=self.mode, random_state=self.seed, target_name=self.target_name
            )
            model.fit(train_docs, train_targets)
            fold_outcomes, fold_results = [], []
            for i, ranked in zip(test, model.rank(parsed[i] for i in test), strict=True):
                outcome, result = _outcome(self.ids[i], k, parsed[i], ranked, targets[i])
                fold_outcomes.append(outcome)
                if result is not None:
                    fold_results.append(result)
            row = {
                "fold": k,
                "train_documents": len(train),
                "test_documents": len(test),
                **_summary(fold_outcomes, fold_results),
                "baselines": {},
            }
            for name, baseline in self.baselines.items():
                fitted = clone(baseline).fit(train_docs, train_targets)
                scored = [
                    score_document(fitted.rank(parsed[i]), targets[i]) for i in test if targets[i]
                ]
                baseline_results[name] += scored
                row["baselines"][name] = summarize(scored)
            outcomes += fold_outcomes
            results += fold_results
            fold_rows.append(row)

        summary = _summary(outcomes, results)
        by_fold = [row["hit@1"] for row in fold_rows if not math.isnan(row["hit@1"])]
        summary["hit@1_fold_std"] = float(np.std(by_fold)) if by_fold else float("nan")
        return CrossValidation(
            summary=summary,
            folds=fold_rows,
            baselines={name: summarize(r) for name, r in baseline_results.items()},
            settings={
                "n_folds": self.folds,
                "seed": self.seed,
                "mode": self.mode,
                "train_size": train_size,
                "documents": len(parsed),
            },
            documents=outcomes,
        )


def _check_size(size: int | None, splits: list, n_docs: int, n_folds: int) -> None:
    if size is None:
        return
    smallest = min(len(train) for train, _ in splits)
    if size < 1 or size > smallest:
        raise ValueError(
            f"training size {size}: must be 1 to {smallest}, the documents in the smallest "
            f"training part ({count(n_docs, 'document')}, {n_folds} folds)"
        )


def _spread(values: Sequence[float]) -> dict:
    kept = [v for v in values if not math.isnan(v)]
    if not kept:
        nan = float("nan")
        return {"mean": nan, "std": nan, "min": nan, "max": nan, "draws": list(values)}
    return {
        "mean": float(np.mean(kept)),
        "std": float(np.std(kept)),
        "min": float(np.min(kept)),
        "max": float(np.max(kept)),
        "draws": list(values),
    }


def learning_curve(
    docs: Sequence[str | ParsedDocument],
    targets: Sequence[Spans],
    sizes: Sequence[int],
    *,
    folds: int = 5,
    repeats: int = 1,
    seed: int = 0,
    mode: str = "single",
    baselines: Mapping[str, Ranker] | None = None,
    target_name: str | None = None,
    progress: bool = False,
) -> dict:
    """hit@1 against the number of training documents, for the model and every baseline.

    For each repeat the documents are split into ``folds`` folds (reseeded per repeat); for
    each fold and size, that many documents are drawn from the other folds and the model is
    tested on the fold, which it never trained on. Each (repeat, fold) is one draw: the points
    give the mean, spread and every draw. ``best_baseline`` is the baseline with the highest
    mean hit@1 over the sizes.
    """
    if not sizes:
        raise ValueError("no training sizes given")
    if repeats < 1:
        raise ValueError(f"repeats must be 1 or more, got {repeats}")
    parsed = list(parse_documents(docs, progress=progress, total=len(docs)))
    run = _Run(parsed, targets, None, folds, seed, mode, baselines, target_name)
    baselines = run.baselines
    for r in range(repeats):  # refuse an impossible size before hours of training
        splits = document_folds([d.text for d in parsed], folds, seed + r)
        for n in (min(sizes), max(sizes)):
            _check_size(n, splits, len(parsed), folds)
    model_draws: dict[int, list[float]] = {n: [] for n in sizes}
    baseline_draws = {n: {name: [] for name in baselines} for n in sizes}
    steps = [(r, n) for r in range(repeats) for n in sizes]
    for r, n in tqdm(
        steps, desc="learning curve", unit="run", disable=None if progress else True, leave=False
    ):
        cv = run.cross_validate(train_size=n, repeat=r, progress=False)
        model_draws[n] += [row["hit@1"] for row in cv.folds]
        for name in baselines:
            baseline_draws[n][name] += [row["baselines"][name]["hit@1"] for row in cv.folds]
    points = [
        {
            "size": n,
            "model": _spread(model_draws[n]),
            "baselines": {name: _spread(baseline_draws[n][name]) for name in baselines},
        }
        for n in sizes
    ]

    def overall(name: str) -> float:
        kept = [p["baselines"][name]["mean"] for p in points]
        kept = [m for m in kept if not math.isnan(m)]
        return float(np.mean(kept)) if kept else -math.inf

    best = max(baselines, key=overall) if baselines else None
    return _json_ready(
        {
            "points": points,
            "best_baseline": best,
            "settings": {
                "n_folds": folds,
                "repeats": repeats,
                "seed": seed,
                "mode": mode,
                "documents": len(parsed),
            },
        }
    )
