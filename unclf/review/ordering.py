"""Which document to look at first: the one whose answer teaches the model the most.

A document where the model's best paragraph stands far above the rest teaches it little when
confirmed; one where the best two are close (or none stands out, so that it might hold no
target at all) is where it is unsure, and an answer there moves it most. This is uncertainty
sampling by margin, measured against a random order in ``benchmarks/review.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from unclf.model import RankedDocument

__all__ = ["margin", "most_uncertain_first"]


def margin(ranked: RankedDocument) -> float:
    """How far the chosen paragraph's score stands above the next one's (0: a tie; a
    document of one paragraph stands alone: 1)."""
    scores = [p.score for p in ranked.paragraphs[:2]]
    if len(scores) < 2:
        return 1.0
    return abs(scores[0] - scores[1])


def most_uncertain_first(ids: Sequence[str], rankings: Mapping[str, RankedDocument]) -> list[str]:
    """``ids`` with the ranked documents by margin, smallest first, then the others in their
    order (not ranked yet: nothing says they are certain)."""
    ranked = sorted((i for i in ids if i in rankings), key=lambda i: margin(rankings[i]))
    return ranked + [i for i in ids if i not in rankings]
