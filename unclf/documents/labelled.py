"""Reading labelled data: documents with their targets, validated all at once."""

from __future__ import annotations

import json
import os
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from unclf.documents.labelling import letter_finder, whitespace_finder
from unclf.documents.readers import (
    KNOWN_IN_FOLDER,
    KNOWN_LABELLED,
    file_format,
    json_type,
    one_line,
    problem_with_text,
    read_extracted,
    read_records,
    read_txt,
    reason,
    record_id,
)
from unclf.documents.records import DocumentError, InvalidDataError, LabelledDocument, TargetSpan
from unclf.formats import EXTENSIONS, Layout
from unclf.words import count

# --- read_labelled ----------------------------------------------------------------------------


_MAX_LABELS_SHOWN = 20


@dataclass(slots=True)
class _Labelled:
    line: int
    id: str | None
    text: str | None
    spans: list[TargetSpan]
    labels: tuple[str, ...]
    problems: list[str] = field(default_factory=list)
    layout: Layout | None = None
    answered: tuple[str, ...] | None = None  # labels answered, as ``unclf review`` writes them


def _short(text: str, limit: int = 60) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_targets(
    value: object,
    text: str | None,
    find: Callable[[str], tuple[int, int] | None] | None = None,
) -> tuple[list[TargetSpan], list[str]]:
    """Spans and problems of a record's ``targets``; the range checks need a valid text.
    Target strings (plain, or ``{"text", "label"}``) are looked up with ``find``, by default
    whitespace-insensitively in ``text``."""
    if find is None and text is not None:
        find = whitespace_finder(text)
    if value is None:
        return [], []
    if isinstance(value, str):
        if not value.strip():
            return [], []
        try:
            value = json.loads(value)
        except json.JSONDecodeError:  # a sentence pasted into a spreadsheet cell
            value = [value]
    if not isinstance(value, list):
        return [], [f"targets is a {json_type(value)}, not a list"]
    spans: list[TargetSpan] = []
    problems: list[str] = []
    for k, target in enumerate(value, 1):
        label = target.get("label") if isinstance(target, dict) else None
        if label is not None and not isinstance(label, str):
            problems.append(f"target {k}: label is a {json_type(label)}, not a string")
            continue
        if isinstance(target, dict) and "start" not in target and "text" in target:
            target = target["text"]
            if not isinstance(target, str):
                problems.append(f"target {k}: text is a {json_type(target)}, not a string")
                continue
        if isinstance(target, str):
            if not target.strip():
                problems.append(f"target {k} is a blank string")
            elif find is not None:
                found = find(target)
                if found is None:
                    problems.append(f"target {k} {_short(target)!r} is not in the text")
                else:
                    spans.append(TargetSpan(*found, label))
            continue
        if not isinstance(target, dict):
            problems.append(
                f"target {k} is a {json_type(target)}, "
                "expected a {start, end, label} object or a string"
            )
            continue
        start, end = target.get("start"), target.get("end")
        if any(isinstance(v, bool) or not isinstance(v, int) for v in (start, end)):
            problems.append(f"target {k}: start and end must be integers")
            continue
        span = TargetSpan(start, end, label)
        spans.append(span)
        if start < 0:
            problems.append(f"target {k} [{start}, {end}): start < 0")
        elif start >= end:
            problems.append(f"target {k} [{start}, {end}): start >= end")
        elif text is not None and end > len(text):
            problems.append(f"target {k} [{start}, {end}): end > text length {len(text)}")
    return spans, problems


def _labelled_items(path: str | Path) -> Iterator[_Labelled | DocumentError]:
    """Every record of a labelled file, parsed; file-level errors have ``line`` None."""
    source = os.fspath(path)
    path = Path(path)
    fmt = file_format(path)
    try:
        is_folder, exists = path.is_dir(), path.exists()
    except OSError as exc:
        yield DocumentError(None, source, None, reason(exc))
        return
    if source == "-" or is_folder or fmt in (None, "txt"):
        yield DocumentError(None, source, None, f"expected a file ending in {KNOWN_LABELLED}")
        return
    if not exists:
        yield DocumentError(None, source, None, "no such file")
        return
    columns = ("id", "text", "targets", "labels", "file", "answered")
    for record in read_records(path, source, fmt, columns):
        if isinstance(record, DocumentError):
            yield record
            continue
        doc_id, id_problem = record_id(record, source)
        layout = find = None
        if record.fields.get("file") and not record.fields.get("text"):
            text, layout, text_problem = _file_text(path.parent, record.fields["file"])
            if text is not None:
                find = letter_finder(text)
        else:
            text_problem = problem_with_text(record.fields)
            text = record.fields["text"] if text_problem is None else None
        spans, problems = _parse_targets(record.fields.get("targets"), text, find)
        labels, labels_problem = _document_labels(record.fields.get("labels"))
        answered, answered_problem = None, None
        if record.fields.get("answered") is not None:
            answered, answered_problem = _document_labels(record.fields["answered"])
            if answered_problem:
                answered_problem = "answered must be a list of label names (strings)"
        problems = [
            p for p in (id_problem, text_problem, labels_problem, answered_problem) if p
        ] + problems
        yield _Labelled(record.line, doc_id, text, spans, labels, problems, layout, answered)


def _file_text(folder: Path, name: object) -> tuple[str | None, Layout | None, str | None]:
    """(text, layout, problem) of the file a labelled record names, relative to its folder."""
    if not isinstance(name, str):
        return None, None, f"file is a {json_type(name)}, not a string"
    path = folder / name
    if path.suffix.lower() not in (*EXTENSIONS, ".txt"):
        return None, None, f"file {name}: unknown file type; expected {KNOWN_IN_FOLDER}"
    read = read_txt if path.suffix.lower() == ".txt" else read_extracted
    document = read(path, name)
    if isinstance(document, DocumentError):
        return None, None, f"file {name}: {document.message}"
    return document.text, document.layout, None


def _document_labels(value: object) -> tuple[tuple[str, ...], str | None]:
    """A record's document labels: a list of strings (JSON-encoded in CSV and Parquet), or one
    label as a plain string."""
    if value is None:
        return (), None
    if isinstance(value, str):
        if not value.strip():
            return (), None
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return (value.strip(),), None
        if isinstance(value, str):
            return (value,), None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return (), "labels must be a list of label names (strings)"
    return tuple(dict.fromkeys(v for v in value if v.strip())), None


def _span_key(span: TargetSpan) -> tuple[int, int, str]:
    return span.start, span.end, span.label or ""


def describe_labels(counts: Counter[str]) -> str:
    """The labels a file has, most documents first, for an error that asks to choose one."""
    shown = ", ".join(f"{name!r} ({n})" for name, n in counts.most_common(_MAX_LABELS_SHOWN))
    more = len(counts) - _MAX_LABELS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _missing_label(label: str, counts: Counter[str], source: str) -> str:
    if not counts:
        return f"{source}: no document has label {label!r}; no target in the file has a label"
    return (
        f"{source}: no document has label {label!r}; labels in the file: {describe_labels(counts)}"
    )


def read_labelled(
    path: str | Path, *, label: str | None = None, skip_invalid: bool = False
) -> tuple[list[LabelledDocument], list[DocumentError]]:
    """Training/evaluation documents with their target spans, validated all at once.

    ``targets`` holds ``{start, end, label}`` spans or strings found in the text (whitespace
    may differ; the first occurrence; label None = the task's label), JSON-encoded in CSV and
    Parquet. A record may name a ``file`` (relative to the labelled file) instead of giving its
    ``text``: its targets are then strings or ``{text, label}``, found by their letters and
    digits in the text extracted from the file. With ``label`` only spans of that label (or
    None) are kept: the other documents stay, without targets, as negatives, except a record
    that lists the labels it was ``answered`` for (as ``unclf review`` writes them): it is left
    out for any other label, and for every label when it lists none (a rejected suggestion, no
    answer yet), as it holds no "none here" to learn from. Invalid documents
    raise :class:`InvalidDataError` naming each one, or with ``skip_invalid`` are dropped and
    returned as errors. An unknown ``label``, an unreadable file or no documents always raise.
    """
    source = os.fspath(path)
    documents: list[LabelledDocument] = []
    invalid: list[DocumentError] = []
    fatal: list[DocumentError] = []
    counts: Counter[str] = Counter()
    first_line: dict[str, int] = {}
    unanswered = unnamed = 0
    for item in _labelled_items(path):
        if isinstance(item, DocumentError):
            (fatal if item.line is None else invalid).append(item)
            continue
        counts.update({s.label for s in item.spans if s.label is not None} | set(item.labels))
        unnamed += sum(1 for s in item.spans if s.label is None)
        if item.id is not None:
            if item.id in first_line:
                item.problems.append(f"duplicate id (first on line {first_line[item.id]})")
            else:
                first_line[item.id] = item.line
        if item.problems:
            invalid.append(DocumentError(item.id, source, item.line, "; ".join(item.problems)))
            continue
        assert item.id is not None and item.text is not None
        if item.answered is not None and (
            label not in item.answered if label is not None else not item.answered
        ):
            unanswered += 1
            continue
        kept = {s for s in item.spans if label is None or s.label in (None, label)}
        documents.append(
            LabelledDocument(
                item.id,
                item.text,
                tuple(sorted(kept, key=_span_key)),
                source,
                item.labels,
                item.layout,
            )
        )

    if unanswered:
        for_label = f" for {label!r}" if label is not None else ""
        warnings.warn(
            f"{source}: {count(unanswered, 'document')} not answered{for_label} left out",
            stacklevel=2,
        )
    lines = [str(error) for error in fatal]
    # Targets that name no label are the asked label's: "--label" names them.
    if label is not None and not fatal and counts[label] == 0 and not unnamed:
        lines.append(_missing_label(label, counts, source))
    if invalid and not skip_invalid:
        lines.append(
            f"{source}: {count(len(invalid), 'invalid document')} (skip_invalid drops them):"
        )
        lines.extend(f"  {error}" for error in invalid)
    if not lines and not documents:
        skipped = f" ({len(invalid)} invalid ones skipped)" if invalid else ""
        lines.append(f"{source}: no documents{skipped}")
    if lines:
        raise InvalidDataError("\n".join(lines))
    return documents, invalid
