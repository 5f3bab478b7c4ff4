"""How good a ranking of paragraphs is, measured against target spans.

A paragraph *hits* a target when it holds at least half of the target span's characters (the
benchmark data's definition), so any segmentation can be scored against the same gold spans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["DocumentResult", "hits", "holds", "score_document", "summarize"]


def holds(start: int, end: int, target_start: int, target_end: int) -> bool:
    """Whether ``[start, end)`` holds at least half of the target span: the one rule for both
    aligning training targets to paragraphs and scoring predictions."""
    overlap = min(end, target_end) - max(start, target_start)
    return overlap > 0 and 2 * overlap >= target_end - target_start


def hits(start: int, end: int, targets: Sequence[tuple[int, int]]) -> list[int]:
    """Positions in ``targets`` of the spans that ``[start, end)`` holds."""
    return [i for i, (t_start, t_end) in enumerate(targets) if holds(start, end, t_start, t_end)]


@dataclass(frozen=True, slots=True)
class DocumentResult:
    """Ranking quality of one document that has at least one target."""

    hit_at_1: float
    reciprocal_rank: float
    recall_at_5: float
    chosen_chars: int
    gold_chars: float


def score_document(
    ranked_spans: Sequence[tuple[int, int]], targets: Sequence[tuple[int, int]]
) -> DocumentResult:
    """``ranked_spans``: the document's paragraphs as (start, end), best first."""
    if not targets:
        raise ValueError("a document without targets has no ranking quality")
    first_hit = None
    found: set[int] = set()
    for rank, (start, end) in enumerate(ranked_spans):
        held = hits(start, end, targets)
        if held and first_hit is None:
            first_hit = rank
        if rank < 5:
            found.update(held)
    chosen = ranked_spans[0][1] - ranked_spans[0][0] if ranked_spans else 0
    return DocumentResult(
        hit_at_1=float(first_hit == 0),
        reciprocal_rank=0.0 if first_hit is None else 1.0 / (first_hit + 1),
        recall_at_5=len(found) / len(targets),
        chosen_chars=chosen,
        gold_chars=float(np.median([e - s for s, e in targets])),
    )


def summarize(results: Sequence[DocumentResult]) -> dict[str, float]:
    """Mean hit@1, MRR, recall@5 and the median lengths of chosen and gold paragraphs."""
    if not results:
        return {
            "hit@1": float("nan"),
            "mrr": float("nan"),
            "recall@5": float("nan"),
            "documents": 0,
            "chosen_chars_median": float("nan"),
            "gold_chars_median": float("nan"),
        }
    return {
        "hit@1": float(np.mean([r.hit_at_1 for r in results])),
        "mrr": float(np.mean([r.reciprocal_rank for r in results])),
        "recall@5": float(np.mean([r.recall_at_5 for r in results])),
        "documents": len(results),
        "chosen_chars_median": float(np.median([r.chosen_chars for r in results])),
        "gold_chars_median": float(np.median([r.gold_chars for r in results])),
    }
