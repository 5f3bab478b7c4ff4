"""A review session: a collection, the reviewer's answers, the model and its retraining.

The web app's routes call these methods and only turn their results into pages or JSON; every
decision (the order of the documents, what is suggested, how an answer is stored, when a new
model replaces the old one) is made here.
"""

from __future__ import annotations

import io
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from unclf.documents import Document
from unclf.evaluation import cross_validate
from unclf.formats import Layout, read_file
from unclf.model import RankedDocument, TargetSelector, parse_documents
from unclf.persistence import document_fingerprints, save_model
from unclf.review.explain import Explanation, explain
from unclf.review.ordering import DEFAULT_ORDER, margin, put_in_order, typicality
from unclf.review.store import Answer, LabelStore
from unclf.segmenter import Paragraph, ParsedDocument

__all__ = ["DocumentView", "ReviewSession", "TrainingState", "score_in_words"]

CANDIDATES = 5  # next candidates a key press away
_MAX_FOLDS = 5
PAGE_SCALE = 1.5  # page images at 108 dots per inch: small print stays legible
_PAGES_KEPT = 32  # page images kept in memory, the most recently shown


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
    is_rejected: bool  # the reviewer said "not this one"
    page: int | None  # where a paragraph of a PDF begins (from 1); None for other documents
    boxes: list[dict]  # its lines' boxes in PDF points from the page's top-left, per page

    @property
    def name(self) -> str:
        """How the page names the paragraph: by the number the document prints ("paragraph
        5", "paragraph 89.16"), else by its place ("¶ 9": the 9th, headings counted)."""
        number = self.paragraph.number
        return f"paragraph {number}" if number else f"¶ {self.position + 1}"

    def to_dict(self) -> dict:
        return {
            **self.paragraph.to_dict(),
            "name": self.name,
            "position": self.position,
            "page": self.page,
            "boxes": self.boxes,
            "score": self.score,
            "rank": self.rank,
            "score_in_words": self.score_words,
            "is_target": self.is_target,
            "is_rejected": self.is_rejected,
        }


@dataclass(frozen=True, slots=True)
class DocumentView:
    """One document as the reviewer sees it: paragraphs in reading order, the model's
    candidates best first, the chosen one's score in words and why it was chosen."""

    id: str
    paragraphs: list[ParagraphView]
    candidates: list[int]  # paragraph positions, the model's choice first, none rejected
    answered: bool
    explanation: Explanation | None
    pages: list[dict]  # a PDF's pages: {"page", "width", "height"} in points; [] for text

    @property
    def score_words(self) -> str | None:
        """The model's choice's score in words (None without a model)."""
        return self.paragraphs[self.candidates[0]].score_words if self.candidates else None

    def to_dict(self) -> dict:
        why = self.explanation
        return {
            "id": self.id,
            "answered": self.answered,
            "pages": self.pages,
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

    status: str = "idle"  # idle, running, ready (waiting for the reviewer), saving, failed, done
    step: str = ""
    progress: float = 0.0
    message: str = ""
    new_figure: dict | None = None
    old_figure: dict | None = None
    candidate: TargetSelector | None = field(default=None, repr=False)
    # Fingerprints of the documents the candidate is trained on (saved with it).
    trained_on: list[str] = field(default_factory=list, repr=False)

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
        order: str = DEFAULT_ORDER,
        model_trained_on: Iterable[str] = (),
    ) -> None:
        """``model_trained_on``: fingerprints of the documents the model was trained on (its
        file's ``training_documents``), which its figure leaves out."""
        self.documents = {d.id: d for d in documents}
        self.store = store
        self.label = label
        self.order_name = order
        self._typical: dict[str, float] | None = None
        self._pages: dict[tuple[str, int], bytes] = {}
        self._pdf_lock = threading.Lock()  # PDFium is not thread-safe
        self.model = model
        self.model_figure: dict | None = None  # the current model's, once retrained here
        self.model_trained_on = frozenset(model_trained_on)
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

    def _answer(self, doc_id: str) -> Answer | None:
        """The document's answer, its marks on the document's text as read now."""
        return self.store.answer_on(doc_id, self.documents[doc_id].text)

    def _answers_of_label(self) -> tuple[dict[str, Answer], dict[str, Answer]]:
        """The documents answered for the label, and those with a paragraph rejected for it,
        each answer's marks on the document's text as read now."""
        answers = {i: self._answer(i) for i in self.documents}
        answered = {i: a for i, a in answers.items() if a and self.label in a.answered}
        rejected = {i: a for i, a in answers.items() if a and a.rejected_spans(self.label)}
        return answered, rejected

    def order(self) -> list[dict]:
        """Documents to review in the session's order (``unclf.review.ordering``), answered
        ones last."""
        answered, rejected = self._answers_of_label()
        waiting = [i for i in self.documents if i not in answered]
        rankings = dict(self._rankings)
        if self.order_name == "density" and self._typical is None:
            self._typical = typicality({i: d.text for i, d in self.documents.items()})
        listed = put_in_order(
            self.order_name, waiting, rankings, answered=len(answered), typical=self._typical
        )
        rows = []
        for doc_id in listed + [i for i in self.documents if i in answered]:
            ranked = rankings.get(doc_id)
            refused = (
                {(t.start, t.end) for t in rejected[doc_id].rejected_spans(self.label)}
                if (doc_id in rejected)
                else set()
            )
            best = None if ranked is None else _first_not_rejected(ranked, refused)
            rows.append(
                {
                    "id": doc_id,
                    "answered": doc_id in answered,
                    "targets": len(answered[doc_id].spans(self.label))
                    if doc_id in answered
                    else None,
                    "rejected": len(refused),
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
        state = self._answer(doc_id)
        answered = state is not None and self.label in state.answered
        marked = set(self._positions(doc, state.spans(self.label))) if state else set()
        refused = set(self._positions(doc, state.rejected_spans(self.label))) if state else set()
        score: dict[int, tuple[float, int, str]] = {}
        candidates: list[int] = []
        why = None
        if ranked is not None:
            threshold = self.model.abstain_threshold_
            index = {id(p): k for k, p in enumerate(doc.paragraphs)}
            for rank, scored in enumerate(ranked.paragraphs, 1):
                words = score_in_words(scored.score, threshold)
                score[index[id(scored.paragraph)]] = (scored.score, rank, words)
            ranked_positions = [index[id(s.paragraph)] for s in ranked.paragraphs]
            candidates = [k for k in ranked_positions if k not in refused][:CANDIDATES]
            if candidates:
                with self._model_lock:
                    why = explain(self.model, doc, candidates[0])
        layout = self.documents[doc_id].layout
        on_pages = layout is not None and layout.has_pages
        paragraphs = [
            ParagraphView(
                k,
                p,
                *score.get(k, (None, None, None)),
                is_target=k in marked,
                is_rejected=k in refused,
                page=layout.page(p.start, p.end) if on_pages else None,
                boxes=layout.boxes(p.start, p.end) if on_pages else [],
            )
            for k, p in enumerate(doc.paragraphs)
        ]
        try:
            pages = self.page_sizes(doc_id) if on_pages else []
        except LookupError as e:  # the file is gone: its text is still shown
            print(f"unclf review: {e}; shown as text", file=sys.stderr)
            pages = []
        return DocumentView(doc_id, paragraphs, candidates, answered, why, pages)

    # -- a PDF's pages -----------------------------------------------------------------------

    def page_sizes(self, doc_id: str) -> list[dict]:
        """Each page of a PDF of the collection: its number and size in PDF points."""
        with self._pdf_lock, _open_pdf(self.documents[doc_id].source) as pdf:
            return [
                {"page": n, "width": round(w, 1), "height": round(h, 1)}
                for n, (w, h) in enumerate((pdf.get_page_size(k) for k in range(len(pdf))), start=1)
            ]

    def page_image(self, doc_id: str, page: int) -> bytes:
        """Page ``page`` (from 1) of a PDF of the collection, as PNG; ``PAGE_SCALE`` pixels a
        point. Raises LookupError for a document that is no PDF or a page it has not."""
        document = self.documents[doc_id]
        if document.layout is None or not document.layout.has_pages:
            raise LookupError(f"{doc_id} is not a PDF: it has no page images")
        key = (doc_id, page)
        with self._pdf_lock:
            if key not in self._pages:
                with _open_pdf(document.source) as pdf:
                    if not 1 <= page <= len(pdf):
                        raise LookupError(f"{doc_id} has no page {page} (it has {len(pdf)})")
                    image = pdf[page - 1].render(scale=PAGE_SCALE).to_pil()
                out = io.BytesIO()
                image.save(out, format="PNG", optimize=True)
                if len(self._pages) >= _PAGES_KEPT:
                    self._pages.pop(next(iter(self._pages)))  # the least recently shown
                self._pages[key] = out.getvalue()
            else:
                self._pages[key] = self._pages.pop(key)  # shown again: the most recent now
            return self._pages[key]

    def explain(self, doc_id: str, position: int) -> Explanation | None:
        """Why the model scores paragraph ``position`` of the document as it does."""
        if self.model is None:
            return None
        doc = self._checked(doc_id, [position])
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
        doc = self._checked(doc_id, positions)
        spans = [(doc.paragraphs[k].start, doc.paragraphs[k].end) for k in positions]
        return self._state(doc_id, self.store.answer(doc_id, doc.text, self.label, spans))

    def mark(self, doc_id: str, add: Sequence[int] = (), remove: Sequence[int] = ()) -> dict:
        """Store that paragraphs ``add`` are targets and ``remove`` are not, beside the targets
        already answered (from another tab too). Written to disk before this returns."""
        doc = self._checked(doc_id, [*add, *remove])
        spans = [(p.start, p.end) for p in doc.paragraphs]
        return self._state(
            doc_id,
            self.store.mark(
                doc_id, doc.text, self.label, [spans[k] for k in add], [spans[k] for k in remove]
            ),
        )

    def reject(self, doc_id: str, position: int) -> dict:
        """Store "not this one": paragraph ``position`` is not a target (see ``store``: the
        document stays unanswered until a target is picked or none here is said)."""
        doc = self._checked(doc_id, [position])
        span = (doc.paragraphs[position].start, doc.paragraphs[position].end)
        return self._state(doc_id, self.store.reject(doc_id, doc.text, self.label, span))

    def _checked(self, doc_id: str, positions: Sequence[int]) -> ParsedDocument:
        doc = self.parsed(doc_id)
        bad = [k for k in positions if not 0 <= k < len(doc.paragraphs)]
        if bad:
            n = len(doc.paragraphs)
            raise IndexError(
                f"{doc_id}: no paragraph at position {bad[0]} (it has {n}, at positions from 0 "
                f"to {n - 1})"
            )
        return doc

    def _state(self, doc_id: str, state) -> dict:
        doc = self.parsed(doc_id)
        return {
            "id": doc_id,
            "label": self.label,
            "targets": sorted(self._positions(doc, state.spans(self.label))),
            "rejected": sorted(self._positions(doc, state.rejected_spans(self.label))),
            "answered": self.label in state.answered,
        }

    def read_posted_file(self, body: bytes, suffix: str) -> tuple[str, Layout]:
        """The text (and layout) of a posted PDF, Word or HTML file, read from a temporary copy
        that is removed at once; under the PDF lock, as the collection's pages are drawn.
        Raises :class:`UnreadableFileError` for a file that cannot be read."""
        with tempfile.TemporaryDirectory(prefix="unclf-review-") as folder:
            path = Path(folder) / f"posted{suffix}"
            path.write_bytes(body)
            with self._pdf_lock:
                return read_file(path)

    def predict(self, text: str) -> RankedDocument:
        """A text from outside the collection, ranked by the current model."""
        with self._model_lock:
            return next(self.model.rank([text]))

    # -- export ------------------------------------------------------------------------------

    def export_rows(self) -> Iterator[dict]:
        """One row per document and chosen paragraph: the reviewer's targets where answered,
        else the model's choice (none where it abstains or there is no model)."""
        answered, rejected = self._answers_of_label()
        for doc_id in self.documents:
            doc = self.parsed(doc_id)
            ranked = self.ranking(doc_id)
            layout = self.documents[doc_id].layout
            on_pages = layout is not None and layout.has_pages
            scores = {}
            if ranked is not None:
                scores = {(s.paragraph.start, s.paragraph.end): s.score for s in ranked.paragraphs}
            if doc_id in answered:
                chosen = [
                    doc.paragraphs[k]
                    for k in self._positions(doc, answered[doc_id].spans(self.label))
                ]
            else:
                refused = set()
                if doc_id in rejected:
                    refused = {
                        (t.start, t.end) for t in rejected[doc_id].rejected_spans(self.label)
                    }
                chosen = (
                    []
                    if ranked is None
                    else [
                        s.paragraph
                        for s in ranked.targets
                        if (s.paragraph.start, s.paragraph.end) not in refused
                    ]
                )
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
                    "page": layout.page(p.start, p.end) if on_pages else None,
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
            candidate = TargetSelector(random_state=0, target_name=self.label).fit(texts, targets)
            state.trained_on = sorted(set(document_fingerprints(texts)))
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
            cv = cross_validate(
                texts, targets, ids=ids, folds=folds, baselines={}, target_name=self.label
            )
        except ValueError as e:
            return {"hit@1": None, "documents": len(texts), "how": f"not measured: {e}"}
        hit = cv.summary["hit@1"]
        return {
            "hit@1": hit,
            "documents": sum(1 for t in targets if t),
            "how": f"on your {len(texts)} answered documents, each by a model trained without "
            f"it ({folds} rounds)",
        }

    def _current_figure(self, texts: list[str], targets: list) -> dict | None:
        """The current model's figure: as measured when it was trained here, or, for a model
        brought in, on the answered documents it was not trained on (by its file's
        fingerprints of its training documents)."""
        if self.model is None:
            return None
        if self.model_figure is not None:
            return self.model_figure
        with_target = [(x, t) for x, t in zip(texts, targets, strict=True) if t]
        fingerprints = document_fingerprints(x for x, _ in with_target)
        unseen = [
            pair
            for pair, f in zip(with_target, fingerprints, strict=True)
            if f not in self.model_trained_on
        ]
        seen = len(with_target) - len(unseen)
        how = "on your answered documents, which it was not trained on"
        if seen:
            how += f" ({seen} it was trained on left out)"
        if not unseen:
            return {"hit@1": None, "documents": 0, "how": f"not measured: {how}"}
        with self._model_lock:
            figures = self.model.evaluate([x for x, _ in unseen], [t for _, t in unseen])
        return {"hit@1": figures["hit@1"], "documents": len(unseen), "how": how}

    def use_new_model(self) -> Path:
        """Replace the model by the retrained one, save it, and rank the collection again.
        Taken under the state's lock, so that "use" and "keep" clicked together (or "use"
        twice) settle on one of them. A save that fails (the disk full) leaves the retrained
        model waiting, to be used again or kept, and raises ``OSError``."""
        with self._state_lock:
            state = self.training
            candidate = state.candidate
            if state.status != "ready" or candidate is None:
                raise ValueError("no retrained model is waiting; retrain first")
            state.status, state.candidate = "saving", None
        try:
            with self._model_lock:
                save_model(
                    {self.label: candidate},
                    self.model_out,
                    training_data=str(self.store.path),
                    training_documents=state.trained_on,
                )
                self.model, self.model_figure = candidate, state.new_figure
                self.model_trained_on = frozenset(state.trained_on)
                self._rankings = {}
        except BaseException:
            with self._state_lock:
                state.status, state.candidate = "ready", candidate
            raise
        state.status = "done"
        state.step = (
            f"the new model is in use, saved to {self.model_out}: start the next review with "
            f"--model {self.model_out} to go on with it"
        )
        self.rank_collection()
        return self.model_out

    def keep_current_model(self) -> None:
        with self._state_lock:
            state = self.training
            if state.status == "ready":
                state.status, state.candidate, state.step = "done", None, "kept the current model"

    def close(self) -> None:
        self._ranker.shutdown(wait=False, cancel_futures=True)
        self._trainer.shutdown(wait=False, cancel_futures=True)


def _first_not_rejected(ranked: RankedDocument, refused: set[tuple[int, int]]):
    """The model's best paragraph that the reviewer has not rejected (None: all are)."""
    for scored in ranked.paragraphs:
        if (scored.paragraph.start, scored.paragraph.end) not in refused:
            return scored
    return None


@contextmanager
def _open_pdf(source: str) -> Iterator:
    """The PDF a document was read from; LookupError when it can no longer be opened (moved,
    changed since the review started)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(source)
    except (pdfium.PdfiumError, OSError) as e:
        raise LookupError(f"{source}: cannot open the PDF any more ({e})") from None
    try:
        yield pdf
    finally:
        pdf.close()


def _preview(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
