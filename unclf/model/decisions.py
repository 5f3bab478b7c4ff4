"""Decisions: which paragraph goes first (first mentions, kinds of paragraph the targets are
not), whether the plain scorer is clearly better than the stacked ranker, when to abstain, and
what multi mode marks; each rule learnt on the out-of-fold probabilities of the training
documents."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from unclf.model.inputs import Rows
from unclf.segmenter import KINDS

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


def choose_first(
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
    rows: Rows,
    lead_ratio: float,
    passes_lead_ins: bool,
    target_kinds: tuple[str, ...],
) -> np.ndarray:
    """Per document with a target, whether its first paragraph under these decision rules
    holds one."""
    found = []
    for a, b in pairwise(rows.offsets):
        if labels[a:b].any():
            first = choose_first(
                probability[a:b],
                rows.kinds[a:b],
                rows.lead_ins[a:b],
                lead_ratio,
                passes_lead_ins,
                target_kinds,
            )
            found.append(bool(labels[a + first]))
    return np.array(found, dtype=bool)


def clearly_better(hits: np.ndarray, other: np.ndarray) -> bool:
    """Whether ``hits`` beats ``other`` on the same documents by more than chance would: the
    documents only one of them finds, at least two standard deviations apart (McNemar's test
    at about 5%)."""
    wins, losses = int(np.sum(hits & ~other)), int(np.sum(other & ~hits))
    return wins - losses >= max(2.0, 2.0 * np.sqrt(wins + losses))


def decision_rules(
    probability: np.ndarray, labels: np.ndarray, rows: Rows, first_mention: bool
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


def thresholds(
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
