"""The reviewer's answers, kept in a labels file that ``unclf train`` reads.

Every answer is one JSON line ``{"id", "text", "targets", "answered", "rejected"}`` appended and
flushed to
disk (fsync) before it is acknowledged, so a killed server loses no answer it confirmed. The line
holds the document's whole state (its targets of every label answered so far), so when the file
is read back the last line of a document is its answer. Opening the store tidies the file (one
line per document, written aside and renamed into place), which is what ``unclf train`` needs:
it refuses a document given twice. ``answered`` lists the labels the reviewer has answered for
the document: a document answered "none here" has no target of that label, and one never
answered is no negative (``unclf train`` leaves a record out for a label it was not answered
for). ``rejected`` lists the paragraphs the reviewer said are not the target ("not this one"):
written at once like any answer, never suggested again, and, until the reviewer picks the
target or says none here, the document is not answered: a rejection says where the target is
not, which a model trained on whole answers cannot learn from, and reading it as "none here"
would teach the model to abstain where a target is. Once the document is answered, the rejected
paragraphs are among its paragraphs that are not targets, which the model learns from.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from unclf.documents import TargetSpan
from unclf.files import atomic_open

__all__ = ["Answer", "LabelStore", "LabelsFileError"]


class LabelsFileError(Exception):
    """The labels file cannot be used; the message names it."""


@dataclass
class Answer:
    """What the reviewer said of one document: its text, its targets and the labels answered."""

    text: str
    targets: list[TargetSpan] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    rejected: list[TargetSpan] = field(default_factory=list)

    def spans(self, label: str) -> list[TargetSpan]:
        return [t for t in self.targets if t.label == label]

    def rejected_spans(self, label: str) -> list[TargetSpan]:
        return [t for t in self.rejected if t.label == label]

    def to_record(self, doc_id: str) -> dict:
        record = {
            "id": doc_id,
            "text": self.text,
            "targets": _spans_out(self.targets),
            "answered": self.answered,
        }
        if self.rejected:
            record["rejected"] = _spans_out(self.rejected)
        return record


class LabelStore:
    """Answers by document id, backed by an append-only JSON lines file.

    One lock serialises writers: two browser tabs answering at once each get their line, in
    turn, and the second answer is merged into the first's state rather than replacing it. An
    advisory file lock keeps a second server on the same file from interleaving lines.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.answers: dict[str, Answer] = {}
        self.tidy()

    # -- reading ---------------------------------------------------------------------------

    def _read(self) -> dict[str, Answer]:
        answers: dict[str, Answer] = {}
        if not self.path.exists():
            return answers
        try:
            lines = self.path.read_bytes().split(b"\n")
        except OSError as e:
            raise LabelsFileError(f"{self.path}: cannot read: {e.strerror or e}") from None
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
                answers[str(record["id"])] = _answer(record)
            except (ValueError, KeyError, TypeError) as e:
                # Only a line cut short by a crash is expected here: it was never acknowledged.
                warnings.warn(
                    f"{self.path}:{number}: unreadable answer left out ({type(e).__name__})",
                    stacklevel=2,
                )
        return answers

    def tidy(self) -> None:
        """Read the answers back and leave one line per document, so that ``unclf train`` can
        read the file as it is. Read and written under the file's lock, so that the answers
        another server appends meanwhile are kept."""
        with self._lock, self._file_lock():
            self.answers = self._read()
            if not self.path.exists():
                return
            with atomic_open(self.path) as out:
                for doc_id, answer in self.answers.items():
                    out.write(json.dumps(answer.to_record(doc_id), ensure_ascii=False) + "\n")

    # -- writing ---------------------------------------------------------------------------

    def answer(
        self, doc_id: str, text: str, label: str, spans: Iterable[tuple[int, int]]
    ) -> Answer:
        """Record that ``label``'s targets in the document are ``spans`` (none: "none here");
        returns the document's state once it is on disk. A paragraph rejected before and now
        marked is no longer rejected."""
        mine = {(start, end) for start, end in spans}
        return self._answered(doc_id, text, label, lambda _: mine)

    def mark(
        self,
        doc_id: str,
        text: str,
        label: str,
        add: Iterable[tuple[int, int]] = (),
        remove: Iterable[tuple[int, int]] = (),
    ) -> Answer:
        """Record that ``add`` are targets of ``label`` and ``remove`` are not, beside the
        targets already written (two tabs marking one document each keep the other's); the
        document is then answered for ``label``."""
        add, remove = set(add), set(remove)
        return self._answered(doc_id, text, label, lambda targets: (targets | add) - remove)

    def _answered(self, doc_id: str, text: str, label: str, targets_after) -> Answer:
        """Write the document's answer for ``label``: ``targets_after`` of the targets written
        so far, taken under the lock, so that an answer given meanwhile is not lost."""
        with self._lock:
            previous = self._previous(doc_id, text)
            mine = targets_after({(t.start, t.end) for t in previous.spans(label)})
            answered = [*[a for a in previous.answered if a != label], label]
            rejected = [
                t for t in previous.rejected if t.label != label or (t.start, t.end) not in mine
            ]
            return self._write(doc_id, previous, label, mine, answered, rejected)

    def reject(self, doc_id: str, text: str, label: str, span: tuple[int, int]) -> Answer:
        """Record that ``span`` is not a target of ``label`` ("not this one"). Were it marked
        as the only target, the document is no longer answered for ``label``: not this one
        does not mean none here."""
        with self._lock:
            previous = self._previous(doc_id, text)
            mine = {(t.start, t.end) for t in previous.spans(label)} - {span}
            answered = list(previous.answered)
            if label in answered and previous.spans(label) and not mine:
                answered.remove(label)
            rejected = [*previous.rejected, TargetSpan(*span, label)]
            return self._write(doc_id, previous, label, mine, answered, rejected)

    def _previous(self, doc_id: str, text: str) -> Answer:
        """The document's answer so far, on its ``text`` as shown now. Where the text changed
        since (the file edited, or read again by a newer reader), the earlier targets and
        rejections are found again by their words in the new text (a span that is not there
        once is dropped, with a warning), and a label stays answered only if all of its
        targets were found: offsets always index the text they are stored with."""
        previous = self.answers.get(doc_id)
        if previous is None:
            return Answer(text)
        if previous.text == text:
            return previous
        targets, lost = _found_again(previous.targets, previous.text, text)
        rejected, lost_rejected = _found_again(previous.rejected, previous.text, text)
        if lost or lost_rejected:
            warnings.warn(
                f"{self.path}: {doc_id}: the document's text changed since it was answered; "
                f"{len(lost) + len(lost_rejected)} earlier mark(s) not found in it were dropped",
                stacklevel=3,
            )
        lost_labels = {t.label for t in lost}
        answered = [a for a in previous.answered if a not in lost_labels]
        return Answer(text, targets, answered, rejected)

    def _write(
        self,
        doc_id: str,
        previous: Answer,
        label: str,
        spans: set[tuple[int, int]],
        answered: list[str],
        rejected: list[TargetSpan],
    ) -> Answer:
        """Append the document's new state (``label``'s targets ``spans``) and keep it."""
        others = [t for t in previous.targets if t.label != label]
        mine = [TargetSpan(start, end, label) for start, end in sorted(spans)]
        state = Answer(
            previous.text,
            sorted(others + mine, key=_position),
            answered,
            sorted(set(rejected), key=_position),
        )
        self._append(json.dumps(state.to_record(doc_id), ensure_ascii=False) + "\n")
        self.answers[doc_id] = state
        return state

    def _append(self, line: str) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        with self._file_lock():
            fd = os.open(self.path, flags, 0o644)
            try:
                if os.fstat(fd).st_size and not _ends_with_newline(self.path):
                    os.write(fd, b"\n")  # a line cut short by a crash stays on its own
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)

    def _file_lock(self):
        return _FileLock(self.path.with_name(self.path.name + ".lock"))

    # -- views -----------------------------------------------------------------------------

    def answer_on(self, doc_id: str, text: str) -> Answer | None:
        """The document's answer (None: not answered), its marks on ``text``, the document's
        text as shown now (see ``_previous``)."""
        with self._lock:
            return self._previous(doc_id, text) if doc_id in self.answers else None

    def answered(self, label: str) -> dict[str, Answer]:
        """The documents answered for ``label``: the training data of its model (read under
        the lock: another thread may be writing an answer)."""
        with self._lock:
            return {i: a for i, a in self.answers.items() if label in a.answered}

    def training_data(self, label: str) -> tuple[list[str], list[str], list[Sequence]]:
        """Ids, texts and ``(start, end)`` targets of the documents answered for ``label``."""
        answered = self.answered(label)
        ids = list(answered)
        texts = [answered[i].text for i in ids]
        targets = [[(t.start, t.end) for t in answered[i].spans(label)] for i in ids]
        return ids, texts, targets


class _FileLock:
    """An exclusive advisory lock on a side file, held for one write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> _FileLock:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _found_again(
    spans: list[TargetSpan], old: str, new: str
) -> tuple[list[TargetSpan], list[TargetSpan]]:
    """The spans of ``old`` whose text occurs exactly once in ``new``, moved there; and those
    that do not."""
    found, lost = [], []
    for span in spans:
        words = old[span.start : span.end]
        at = new.find(words)
        if words and at >= 0 and new.find(words, at + 1) < 0:
            found.append(TargetSpan(at, at + len(words), span.label))
        else:
            lost.append(span)
    return found, lost


def _position(span: TargetSpan) -> tuple[int, int, str]:
    return span.start, span.end, span.label or ""


def _spans_out(spans: list[TargetSpan]) -> list[dict]:
    return [{"start": t.start, "end": t.end, "label": t.label} for t in spans]


def _spans_in(spans: list[dict]) -> list[TargetSpan]:
    return [TargetSpan(int(t["start"]), int(t["end"]), t.get("label")) for t in spans]


def _answer(record: dict) -> Answer:
    text = record["text"]
    if not isinstance(text, str):
        raise TypeError("text")
    targets = _spans_in(record["targets"])
    # A file written by hand or for ``unclf train`` says nothing of what was answered: a
    # document counts as answered for the labels it has targets of.
    answered = record.get("answered", sorted({t.label for t in targets if t.label}))
    return Answer(text, targets, [str(a) for a in answered], _spans_in(record.get("rejected", [])))
