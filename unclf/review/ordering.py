"""Which document to look at next: the orders the list can be put in.

The hope of active learning is that answering the documents the model is least sure of teaches
it most per answer. Measured with a simulated reviewer (``benchmarks/review.py``, both benchmark
tasks, several seeds), no model-driven order beat a random one here, so the list's default is
not a promise of faster learning. The orders:

- ``random``: a fixed shuffle of the collection (the same on every reload, an answered
  document leaving the others' order as it was);
- ``least-sure``: uncertainty sampling by margin: the documents whose best paragraph stands
  least above the second first (a tie, or nothing standing out, so perhaps no target at all);
- ``warm-start``: random for the first ``WARM_START`` answers (a model trained on a handful of
  answers is unsure of everything, so its doubts mostly point at odd documents), then least
  sure first;
- ``density``: information density (Settles and Craven, 2008): the margin's uncertainty
  times how typical the document is of the collection (its mean cosine likeness, in TF-IDF
  words, to the other documents), so outliers do not come first;
- ``most-likely``: the documents whose suggestion is surest first: quick to confirm, a check of
  the model rather than a way to teach it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from unclf.model import RankedDocument

__all__ = [
    "DEFAULT_ORDER",
    "IN_WORDS",
    "ORDERS",
    "WARM_START",
    "margin",
    "put_in_order",
    "typicality",
]

ORDERS = ("random", "least-sure", "warm-start", "density", "most-likely")
DEFAULT_ORDER = "random"
WARM_START = 20  # answers taken in random order before ``warm-start`` turns to the model
# What the list page says of each order. No order was measured to teach the model faster than a
# random one (benchmarks/README.md), and the page says so.
IN_WORDS = {
    "random": "in a random order",
    "least-sure": "the ones the model is least sure of first",
    "warm-start": f"in a random order for your first {WARM_START} answers, then the ones the "
    "model is least sure of first",
    "density": "the ones the model is least sure of first, weighed by how typical of the "
    "collection they are",
    "most-likely": "the ones whose suggestion is surest first (quick to confirm)",
}


def margin(ranked: RankedDocument) -> float:
    """How far the chosen paragraph's score stands above the next one's (0: a tie; a
    document of one paragraph stands alone: 1)."""
    scores = [p.score for p in ranked.paragraphs[:2]]
    if len(scores) < 2:
        return 1.0
    return abs(scores[0] - scores[1])


def typicality(texts: Mapping[str, str]) -> dict[str, float]:
    """Each document's mean cosine likeness to the others (TF-IDF of its words): high for a
    document like many others, low for an outlier."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    ids = list(texts)
    if len(ids) < 2:
        return dict.fromkeys(ids, 1.0)
    vectors = TfidfVectorizer(sublinear_tf=True, min_df=1, max_features=50_000).fit_transform(
        [texts[i] for i in ids]
    )
    total = np.asarray(vectors.sum(axis=0)).ravel()
    # Rows are unit length: x . (sum of all rows - x) / (n - 1) is the mean likeness to others.
    likeness = (vectors @ total - 1.0) / (len(ids) - 1)
    return {i: float(x) for i, x in zip(ids, np.ravel(likeness), strict=True)}


def put_in_order(
    order: str,
    ids: Sequence[str],
    rankings: Mapping[str, RankedDocument],
    *,
    answered: int = 0,
    typical: Mapping[str, float] | None = None,
    seed: int = 0,
) -> list[str]:
    """``ids`` (the documents not answered yet) in ``order``. ``rankings``: the model's for the
    documents scored so far (the others follow in random order: nothing is known of them);
    ``answered``: how many documents are answered; ``typical``: :func:`typicality`, for
    ``density``. Ties keep the random order, so no order leans on the collection's own."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; one of {', '.join(ORDERS)}")
    shuffled = sorted(ids, key=lambda i: random.Random(f"{seed}:{i}").random())
    if order == "random" or (order == "warm-start" and answered < WARM_START):
        return shuffled
    scored = [i for i in shuffled if i in rankings]
    if order in ("least-sure", "warm-start"):
        scored.sort(key=lambda i: margin(rankings[i]))
    elif order == "density":
        weight = typical or {}
        scored.sort(key=lambda i: -(1.0 - margin(rankings[i])) * weight.get(i, 1.0))
    else:  # most-likely
        scored.sort(key=lambda i: -_best_score(rankings[i]))
    return scored + [i for i in shuffled if i not in rankings]


def _best_score(ranked: RankedDocument) -> float:
    return ranked.paragraphs[0].score if ranked.paragraphs else 0.0
