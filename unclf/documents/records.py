"""What the readers give: a document, a document that could not be read, and a labelled
document with its target spans."""

from __future__ import annotations

import re
from dataclasses import dataclass

from unclf.formats import Layout

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # would break an error's line


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


@dataclass(frozen=True, slots=True)
class Document:
    """A readable document; ``source`` is the file it came from (``-`` for stdin). ``layout`` is
    set for a PDF, Word or HTML file: ``text`` is then the text extracted from it."""

    id: str
    text: str
    source: str
    layout: Layout | None = None


@dataclass(frozen=True, slots=True)
class DocumentError:
    """A document (or a whole file) that could not be read, and why."""

    id: str | None
    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        # A .txt document's id is its path; saying it twice helps nobody.
        parts = [where] if self.id is None or self.id == self.source else [where, self.id]
        # One line, whatever the id or file name holds: control characters are escaped.
        return _CONTROL.sub(_escape, ": ".join([*parts, self.message]))


@dataclass(frozen=True, slots=True)
class TargetSpan:
    """Characters ``[start, end)`` of a document's text; ``label`` None means the task's label.
    A task (one label) hands its targets on as ``(start, end)`` pairs: the form the model, the
    baselines and :mod:`unclf.metrics` take."""

    start: int
    end: int
    label: str | None


@dataclass(frozen=True, slots=True)
class LabelledDocument:
    """A document with its target spans, sorted by position, and the labels of the document as
    a whole (``labels``: "this report raises minority rights", a contract's type)."""

    id: str
    text: str
    targets: tuple[TargetSpan, ...]
    source: str
    labels: tuple[str, ...] = ()
    layout: Layout | None = None


class InvalidDataError(ValueError):
    """Raised with a message naming every offending document, so one run shows all problems."""
