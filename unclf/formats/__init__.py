"""PDF, Word and HTML files -> the text the segmenter reads, and where each line of it sits.

A reader builds the document's *extracted text* itself: page furniture (running headers and
footers, page numbers, job numbers) is left out, footnotes follow the body, and a blank line
separates the blocks a reader sees (paragraphs, headings), so the segmenter needs no rule of its
own for these files. Offsets of paragraphs index this extracted text, which ``unclf segment``
returns beside them. For a PDF the :class:`Layout` maps any ``[start, end)`` of the text back to
the page and the boxes of its lines, so a paragraph can be highlighted where it sits.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

__all__ = ["EXTENSIONS", "Layout", "Line", "UnreadableFileError", "read_file"]

EXTENSIONS = (".pdf", ".docx", ".html", ".htm")


class UnreadableFileError(ValueError):
    """A file that holds no text to read (scanned, encrypted, damaged); the message says why."""


class Line(NamedTuple):
    """One line of a page: characters ``[start, end)`` of the extracted text and its box in PDF
    points from the page's top-left corner; ``page`` counts from 1. A named tuple: a PDF has
    one per line, made four times faster than a frozen dataclass."""

    start: int
    end: int
    page: int
    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the extracted text of a file came from: its lines on their pages, in text order
    (none for Word and HTML files, which have no fixed pages)."""

    lines: tuple[Line, ...] = ()
    _ends: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ends", tuple(line.end for line in self.lines))

    @property
    def has_pages(self) -> bool:
        return bool(self.lines)

    def _overlapping(self, start: int, end: int) -> list[Line]:
        first = bisect.bisect_right(self._ends, start)
        found = []
        for line in self.lines[first:]:
            if line.start >= end:
                break
            if line.end > start:
                found.append(line)
        return found

    def page(self, start: int, end: int | None = None) -> int | None:
        """The page of the first line that ``[start, end)`` touches (the page where it begins)."""
        lines = self._overlapping(start, start + 1 if end is None else max(end, start + 1))
        return lines[0].page if lines else None

    def boxes(self, start: int, end: int) -> list[dict]:
        """One box per run of lines per page: ``{"page", "left", "top", "width", "height"}``.
        A run ends at a page break or where the next line does not sit below the last one (the
        next column). A line the span covers only in part is cut in proportion to its
        characters."""
        runs: list[list[float]] = []  # page, left, top, right, bottom
        last: Line | None = None
        for line in self._overlapping(start, end):
            left, right = line.left, line.right
            if line.start < start or line.end > end:
                width = (right - left) / max(line.end - line.start, 1)
                left += width * max(start - line.start, 0)
                right -= width * max(line.end - end, 0)
            if (
                last is not None
                and runs
                and line.page == runs[-1][0]
                and line.top >= last.top
                and line.top - last.bottom < 3 * (last.bottom - last.top) + 2
            ):
                run = runs[-1]
                run[1], run[2] = min(run[1], left), min(run[2], line.top)
                run[3], run[4] = max(run[3], right), max(run[4], line.bottom)
            else:
                runs.append([line.page, left, line.top, right, line.bottom])
            last = line
        return [
            {
                "page": int(page),
                "left": round(left, 1),
                "top": round(top, 1),
                "width": round(right - left, 1),
                "height": round(bottom - top, 1),
            }
            for page, left, top, right, bottom in runs
        ]


def join_blocks(blocks: Sequence[str]) -> str:
    """Blocks of text, blank-line separated, as the segmenter reads paragraphs."""
    return "\n\n".join(b for b in blocks if b.strip())


def read_file(path: Path) -> tuple[str, Layout]:
    """The extracted text of a PDF, Word or HTML file and its layout.

    Raises :class:`UnreadableFileError` when the file holds no readable text, or when the
    reader library fails on it in a way no test has met (PDFium, python-docx and the HTML
    parser meet files of every kind: one file's failure is that file's error); ``OSError`` when
    it cannot be opened.
    """
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise ValueError(f"not a PDF, Word or HTML file: {path}")
    try:
        return _read_by_type(path, suffix)
    except (UnreadableFileError, OSError):
        raise
    except Exception as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise UnreadableFileError(f"cannot read: {detail}") from None


def _read_by_type(path: Path, suffix: str) -> tuple[str, Layout]:
    if suffix == ".pdf":
        from unclf.formats.pdf import read_pdf

        return read_pdf(path)
    if suffix == ".docx":
        from unclf.formats.docx import read_docx

        return read_docx(path), Layout()
    from unclf.formats.html import read_html

    return read_html(path), Layout()
