"""What every command shares: exit statuses, the one-line usage error, output files that
appear whole or not at all, error records, and how figures and names are shown."""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from itertools import islice
from pathlib import Path
from typing import TextIO

from unclf.documents import (
    Document,
    DocumentError,
)
from unclf.files import atomic_open
from unclf.formats import EXTENSIONS
from unclf.words import count

EXIT_OK, EXIT_SOME_FAILED, EXIT_CANNOT_RUN = 0, 1, 2
BATCH = 64
# The label of targets that name none, when no --label names them.
UNNAMED_LABEL = "target"


def searched(label: str) -> str:
    """What the model searches for, in words: the label's name, none for the placeholder."""
    return "" if label == UNNAMED_LABEL else label


class UsageError(Exception):
    """The command cannot run; the message says why, in one line."""


# --- output ---------------------------------------------------------------------------------


@contextmanager
def output_file(path: str | None) -> Iterator[TextIO]:
    """stdout, or a file that appears complete or not at all (written aside, then renamed)."""
    if path is None or path == "-":
        if sys.stdout is None:  # started with stdout closed (``>&-``)
            raise UsageError("stdout is closed; give an output file with --output")
        yield sys.stdout
        return
    if Path(path).is_dir():
        raise UsageError(f"{path}: is a folder, not an output file")
    check_folder(path)
    with ExitStack() as stack:
        try:
            handle = stack.enter_context(atomic_open(path))
        except OSError as e:
            raise UsageError(f"{path}: cannot write output: {e.strerror or e}") from None
        yield handle


def check_folder(path: str) -> None:
    """The one message for an output whose folder does not exist, whichever option names it."""
    parent = Path(path).parent
    if not parent.is_dir():
        raise UsageError(f"{path}: cannot write there: no folder {str(parent)!r}")


def check_not_an_input(output: str | None, inputs: Iterable[str], option: str) -> None:
    """Refuse an output that would replace an input: the run would end by destroying it."""
    if output is None or output == "-":
        return
    out = Path(output)
    for item in inputs:
        source = Path(item)
        try:
            if item == "-" or not source.exists():
                continue
        except OSError:  # an input that cannot be looked at is the reader's error to report
            continue
        if source.is_dir():  # a document written into a folder being read would become one
            inside = Path(os.path.realpath(out)).is_relative_to(os.path.realpath(source))
            clash = inside and out.suffix.lower() in (".txt", *EXTENSIONS)
        else:
            clash = out.exists() and os.path.samefile(out, source)
        if clash:
            raise UsageError(f"{output}: {option} would overwrite the input {item}")


def one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def report_error(error: DocumentError) -> None:
    print(f"unclf: {error}", file=sys.stderr)


def error_id(error: DocumentError) -> str:
    """The document's id; a record without one is named after where it is, as the reader does."""
    if error.id is not None:
        return error.id
    return error.source if error.line is None else f"{error.source}:{error.line}"


def error_record(error: DocumentError) -> dict:
    return {"id": error_id(error), "error": str(error), "paragraphs": []}


def in_batches(items: Iterable[Document | DocumentError]) -> Iterator[list]:
    items = iter(items)
    while batch := list(islice(items, BATCH)):
        yield batch


_LINE_BREAK = re.compile(r"\r\n?|\n")  # as the segmenter reads lines: old Mac text has only \r


def location_of(text: str, offset: int) -> str:
    line = len(_LINE_BREAK.findall(text, 0, offset)) + 1
    return f"line {line}, chars {offset}"


def place_in_words(index: int, total: int | None) -> str:
    """Where a paragraph sits, for a reader: "17th of 24 paragraphs", counted from the top of
    the document, headings included. Not the paragraph's own number ("7."), shown with its
    text, and not the ``index`` of JSON and CSV, which counts from 0."""
    n = index + 1
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix} of {total} paragraphs" if total is not None else f"{n}{suffix} paragraph"


def on_pages(doc: Document, start: int, end: int) -> dict:
    """``page`` and ``boxes`` of a paragraph of a PDF; nothing for other documents."""
    if doc.layout is None or not doc.layout.has_pages:
        return {}
    return {"page": doc.layout.page(start, end), "boxes": doc.layout.boxes(start, end)}


def check_writable(path: str, what: str = "a model file") -> None:
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{path}: is a folder, not {what}")
    check_folder(path)
    try:
        with tempfile.TemporaryFile(dir=target.parent):
            pass
    except OSError as e:
        raise UsageError(f"{path}: cannot write there: {e.strerror or e}") from None


def quoted_names(labels: list[str], shown: int = 5) -> str:
    names = ", ".join(repr(label) for label in labels[:shown])
    return names + (f" and {len(labels) - shown} more" if len(labels) > shown else "")


def print_json(value: dict) -> None:
    print(json.dumps(value, indent=2, allow_nan=False))


def figure(value: float | None, spec: str = ".3f") -> str:
    """A figure for a person; "n/a" where it is undefined (no document with a target)."""
    return "n/a" if value is None or math.isnan(value) else format(value, spec)


def print_abstained(summary: dict) -> None:
    if summary["documents_without_target"]:
        print(
            f"  abstained on {summary['abstained_without_target']} of "
            f"{count(summary['documents_without_target'], 'document')} without a target"
        )


def nan_to_none(summary: dict) -> dict:
    """No document with a target leaves the means undefined: null, as JSON has no NaN."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in summary.items()}


def mean_of(rows: Iterable[dict], keys: tuple[str, ...]) -> dict:
    """The mean of each figure over the rows where it is defined."""
    rows = list(rows)
    mean = {}
    for key in keys:
        values = [r[key] for r in rows if not math.isnan(r[key])]
        mean[key] = sum(values) / len(values) if values else float("nan")
    return mean
