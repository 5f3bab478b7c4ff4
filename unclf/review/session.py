"""A review session: a collection, the reviewer's answers, the model and its retraining.

The web app's routes call these methods and only turn their results into pages or JSON; every
decision (the order of the documents, what is suggested, how an answer is stored, when a new
model replaces the old one) is made here.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from unclf.documents import Document
from unclf.evaluation import cross_validate
from unclf.model import RankedDocument, TargetSelector, parse_documents
from unclf.persistence import save_model
from unclf.review.explain import Explanation, explain
from unclf.review.ordering import margin, most_uncertain_first
from unclf.review.store import LabelStore
from unclf.segmenter import Paragraph, ParsedDocument

__all__ = ["DocumentView", "ReviewSession", "TrainingState", "score_in_words"]

CANDIDATES = 5  # next candidates a key press away
_MAX_FOLDS = 5


def score_in_words(score: float, threshold: float) -> str:
    """A calibrated probability as a person reads it."""
    chance = f"{round(100 * score)} in 100"
    if score < threshold:
        return f"unlikely ({chance}): the model would say none here"
    if score >= 0.8:
        return f"very likely the one ({chance})"
    if score >= 0.5:
        return f"likely ({chance})"
    return f"possible, worth a check ({chance})"


@dataclass(frozen=True, slots=True)
class ParagraphView:
    position: int
    paragraph: Paragraph
    score: float | None
    rank: int | None  # 1 = the model's choice
    score_words: str | None
    is_target: bool  # the reviewer marked it

    @property
    def page(self) -> int | None:
        """The PDF page a paragraph read from a PDF carries; None for text."""
        return getattr(self.paragraph, "page", None)

    def to_dict(self) -> dict:
        return {
            **self.paragraph.to_dict(),
            "position": self.position,
            "page": self.page,
            "score": self.score,
            "rank": self.rank,
            "score_in_words": self.score_words,
            "is_target": self.is_target,
        }


@dataclass(frozen=True, slots=True)
class DocumentView:
    """One document as the reviewer sees it: paragraphs in reading order, the model's
    candidates best first, the chosen one's score in words and why it was chosen."""

    id: str
    paragraphs: list[ParagraphView]
    candidates: list[int]  # paragraph positions, the model's choice first
    answered: bool
    explanation: Explanation | None

    @property
    def score_words(self) -> str | None:
        """The model's choice's score in words (None without a model)."""
        return self.paragraphs[self.candidates[0]].score_words if self.candidates else None

    def to_dict(self) -> dict:
        why = self.explanation
        return {
            "id": self.id,
            "answered": self.answered,
            "candidates": self.candidates,
            "score_in_words": self.score_words,
            "why": None
            if why is None
            else {
                "words": [{"words": w, "weight": x} for w, x in why.words],
                "features": [{"feature": f, "weight": x} for f, x in why.features],
            },
            "paragraphs": [p.to_dict() for p in self.paragraphs],
        }


@dataclass
class TrainingState:
    """A retraining run, as the training page shows it."""

    status: str = "idle"  # idle, running, ready (waiting for the reviewer), failed, done
    step: str = ""
    progress: float = 0.0
    message: str = ""
    new_figure: dict | None = None
    old_figure: dict | None = None
    candidate: TargetSelector | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "step": self.step,
            "progress": round(self.progress, 3),
            "message": self.message,
            "new_figure": self.new_figure,
            "old_figure": self.old_figure,
        }


class ReviewSession:
    """The collection (read once, parsed on demand), the answers and the current model."""

    def __init__(
        self,
        documents: Sequence[Document],
        store: LabelStore,
        label: str,
        model: TargetSelector | None = None,
        model_out: str | Path | None = None,
    ) -> None:
        self.documents = {d.id: d for d in documents}
        self.store = store
        self.label = label
        self.model = model
        self.model_figure: dict | None = None  # the current model's, once retrained here
        self.model_out = Path(model_out) if model_out else store.path.with_suffix(".unclf")
        self.training = TrainingState()
        self._parsed: dict[str, ParsedDocument] = {}
        self._rankings: dict[str, RankedDocument] = {}
        self._model_lock = threading.RLock()  # the featurizer's caches are not thread-safe
        self._state_lock = threading.Lock()
        # Ranking the collection and retraining each have their own thread, so that a retrain
        # asked for while a large collection is being ranked starts at once.
        self._ranker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="unclf-ranking")
        self._trainer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="unclf-training")

    # -- parsing and ranking -----------------------------------------------------------------

    def parsed(self, doc_id: str) -> ParsedDocument:
        with self._model_lock:
            if doc_id not in self._parsed:
                self._parsed[doc_id] = next(parse_documents([self.documents[doc_id].text]))
            return self._parsed[doc_id]

    def ranking(self, doc_id: str) -> RankedDocument | None:
        with self._model_lock:
            if self.model is None:
                return None
            if doc_id not in self._rankings:
                self._rankings[doc_id] = next(self.model.rank([self.parsed(doc_id)]))
            return self._rankings[doc_id]

    def rank_collection(self) -> Future:
        """Rank every document in the background (the order of the list needs them all)."""
        return self._ranker.submit(self._rank_all)

    def _rank_all(self) -> None:
        for doc_id in list(self.documents):
            self.ranking(doc_id)

    def ranked_count(self) -> int:
        return len(self._rankings)

    # -- the list ----------------------------------------------------------------------------

    def order(self) -> list[dict]:
        """Documents to review, the most uncertain unanswered first, answered ones last."""
        answered = self.store.answered(self.label)
        waiting = [i for i in self.documents if i not in answered]
        rankings = dict(self._rankings)
        ids = most_uncertain_first(waiting, rankings) + [i for i in self.documents if i in answered]
        rows = []
        for doc_id in ids:
            ranked = rankings.get(doc_id)
            best = ranked.paragraphs[0] if ranked and ranked.paragraphs else None
            rows.append(
                {
                    "id": doc_id,
                    "answered": doc_id in answered,
                    "targets": len(answered[doc_id].spans(self.label))
                    if doc_id in answered
                    else None,
                    "score": None if best is None else best.score,
                    "margin": None if ranked is None else margin(ranked),
                    "suggestion": None if best is None else _preview(best.paragraph.text),
                }
            )
        return rows

    # -- one document ------------------------------------------------------------------------

    def view(self, doc_id: str) -> DocumentView:
        """The document's paragraphs with the model's scores and the reviewer's answer."""
        doc = self.parsed(doc_id)
        ranked = self.ranking(doc_id)
        answer = self.store.answered(self.label).get(doc_id)
        marked = set(self._positions(doc, answer.spans(self.label))) if answer else set()
        score: dict[int, tuple[float, int, str]] = {}
        candidates: list[int] = []
        why = None
        if ranked is not None:
            threshold = self.model.abstain_threshold_
            index = {id(p): k for k, p in enumerate(doc.paragraphs)}
            for rank, scored in enumerate(ranked.paragraphs, 1):
                words = score_in_words(scored.score, threshold)
                score[index[id(scored.paragraph)]] = (scored.score, rank, words)
            candidates = [index[id(s.paragraph)] for s in ranked.paragraphs[:CANDIDATES]]
            if candidates:
                with self._model_lock:
                    why = explain(self.model, doc, candidates[0])
        paragraphs = [
            ParagraphView(k, p, *score.get(k, (None, None, None)), is_target=k in marked)
            for k, p in enumerate(doc.paragraphs)
        ]
        return DocumentView(doc_id, paragraphs, candidates, answer is not None, why)

    def explain(self, doc_id: str, position: int) -> Explanation | None:
        """Why the model scores paragraph ``position`` of the document as it does."""
        if self.model is None:
            return None
        doc = self.parsed(doc_id)
        if not 0 <= position < len(doc.paragraphs):
            raise IndexError(f"{doc_id}: no paragraph {position + 1}")
        with self._model_lock:
            return explain(self.model, doc, position)

    @staticmethod
    def _positions(doc: ParsedDocument, spans) -> Iterator[int]:
        for span in spans:
            for k, p in enumerate(doc.paragraphs):
                if p.start == span.start and p.end == span.end:
                    yield k

    def answer(self, doc_id: str, positions: Sequence[int]) -> dict:
        """Store the reviewer's answer: these paragraphs are the label's targets (none: "none
        here"). Written to disk before this returns."""
        doc = self.parsed(doc_id)
        bad = [k for k in positions if not 0 <= k < len(doc.paragraphs)]
        if bad:
            raise IndexError(f"{doc_id}: no paragraph {bad[0] + 1} (it has {len(doc.paragraphs)})")
        spans = [(doc.paragraphs[k].start, doc.paragraphs[k].end) for k in positions]
        state = self.store.answer(doc_id, doc.text, self.label, spans)
        return {
            "id": doc_id,
            "label": self.label,
            "targets": sorted(set(positions)),
            "answered": self.label in state.answered,
        }

    def predict(self, text: str) -> RankedDocument:
        """A text from outside the collection, ranked by the current model."""
        with self._model_lock:
            return next(self.model.rank([text]))

    # -- export ------------------------------------------------------------------------------

    def export_rows(self) -> Iterator[dict]:
        """One row per document and chosen paragraph: the reviewer's targets where answered,
        else the model's choice (none where it abstains or there is no model)."""
        answered = self.store.answered(self.label)
        for doc_id in self.documents:
            doc = self.parsed(doc_id)
            ranked = self.ranking(doc_id)
            scores = {}
            if ranked is not None:
                scores = {(s.paragraph.start, s.paragraph.end): s.score for s in ranked.paragraphs}
            if doc_id in answered:
                chosen = [
                    doc.paragraphs[k]
                    for k in self._positions(doc, answered[doc_id].spans(self.label))
                ]
            else:
                chosen = [] if ranked is None else [s.paragraph for s in ranked.targets]
            base = {"document": doc_id, "label": self.label, "reviewed": doc_id in answered}
            if not chosen:
                yield {
                    **base,
                    "paragraph": None,
                    "number": None,
                    "page": None,
                    "text": None,
                    "score": None,
                }
            for p in chosen:
                yield {
                    **base,
                    "paragraph": p.index + 1,
                    "number": p.number,
                    "page": getattr(p, "page", None),
                    "text": p.text,
                    "score": scores.get((p.start, p.end)),
                }

    # -- retraining --------------------------------------------------------------------------

    def start_training(self) -> TrainingState:
        """Retrain from the answers in the background; refuses while a run is going on."""
        with self._state_lock:
            if self.training.status == "running":
                return self.training
            self.training = TrainingState(status="running", step="reading the answers")
        self._trainer.submit(self._train, self.training)
        return self.training

    def _train(self, state: TrainingState) -> None:
        try:
            ids, texts, targets = self.store.training_data(self.label)
            with_target = sum(1 for t in targets if t)
            if len(ids) < 2 or with_target == 0:
                raise ValueError(
                    f"needs at least 2 answered documents, one with a target; you have answered "
                    f"{len(ids)} ({with_target} with a target)"
                )
            state.step, state.progress = "measuring the new model on documents it has not seen", 0.1
            state.new_figure = self._cross_validated(texts, targets, ids)
            state.step, state.progress = "measuring the current model", 0.5
            state.old_figure = self._current_figure(texts, targets)
            state.step, state.progress = "training on every answer", 0.6
            candidate = TargetSelector(random_state=0).fit(texts, targets)
            state.candidate = candidate
            state.step, state.progress = "ready: compare and choose", 1.0
            state.status = "ready"
        except ValueError as e:  # too few answers, folds that cannot be made: said on the page
            state.status, state.message = "failed", str(e)
        except Exception as e:  # a bug: said on the page and on stderr, the server carries on
            state.status, state.message = "failed", f"internal error: {e!r}"
            print(f"unclf review: retraining failed: {e!r}", file=sys.stderr)

    def _cross_validated(self, texts: list[str], targets: list, ids: list[str]) -> dict:
        folds = min(_MAX_FOLDS, len(texts))
        try:
            cv = cross_validate(texts, targets, ids=ids, folds=folds, baselines={})
        except ValueError as e:
            return {"hit@1": None, "documents": len(texts), "how": f"not measured: {e}"}
        hit = cv.summary["hit@1"]
        return {
            "hit@1": hit,
            "documents": sum(1 for t in targets if t),
            "how": f"cross-validated, {folds} folds over your {len(texts)} answered documents",
        }

    def _current_figure(self, texts: list[str], targets: list) -> dict | None:
        """The current model's figure: as measured when it was trained here, or, for a model
        brought in, on the answered documents (which it was not trained on)."""
        if self.model is None:
            return None
        if self.model_figure is not None:
            return self.model_figure
        with_target = [(x, t) for x, t in zip(texts, targets, strict=True) if t]
        with self._model_lock:
            figures = self.model.evaluate([x for x, _ in with_target], [t for _, t in with_target])
        hit = figures["hit@1"]
        return {
            "hit@1": hit,
            "documents": len(with_target),
            "how": "on your answered documents, which it was not trained on",
        }

    def use_new_model(self) -> Path:
        """Replace the model by the retrained one, save it, and rank the collection again."""
        state = self.training
        if state.status != "ready" or state.candidate is None:
            raise ValueError("no retrained model is waiting; retrain first")
        with self._model_lock:
            save_model(
                {self.label: state.candidate},
                self.model_out,
                training_data=str(self.store.path),
            )
            self.model, self.model_figure = state.candidate, state.new_figure
            self._rankings = {}
        state.status, state.candidate = "done", None
        state.step = f"the new model is in use (saved to {self.model_out})"
        self.rank_collection()
        return self.model_out

    def keep_current_model(self) -> None:
        state = self.training
        if state.status == "ready":
            state.status, state.candidate, state.step = "done", None, "kept the current model"

    def close(self) -> None:
        self._ranker.shutdown(wait=False, cancel_futures=True)
        self._trainer.shutdown(wait=False, cancel_futures=True)


def _preview(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
