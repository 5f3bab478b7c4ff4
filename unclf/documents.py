"""Reading documents at the edge of the pipeline: files, folders and stdin -> documents.

Everything downstream indexes into a document's text, so the text is kept exactly as stored: no
newline translation, no stripping (only a leading UTF-8 byte order mark is dropped: it is
encoding, not text). Readers stream - JSON lines line by line, CSV in pandas chunks, Parquet in
record batches - so a corpus is never held in memory. A document that cannot be read becomes a
:class:`DocumentError` in the stream, in input order, and the other documents carry on.

Record numbers in errors: JSON lines report the line; CSV the row as a spreadsheet shows it (the
header is row 1); Parquet the row counted from 1.
"""

from __future__ import annotations

import bisect
import codecs
import gzip
import io
import json
import os
import re
import sys
import unicodedata
import warnings
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, chain
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

from unclf.formats import EXTENSIONS, Layout, UnreadableFileError, read_file
from unclf.metrics import holds

if TYPE_CHECKING:
    from unclf.segmenter import Paragraph

__all__ = [
    "Document",
    "DocumentError",
    "InvalidDataError",
    "LabelledDocument",
    "TargetSpan",
    "align_targets",
    "describe_labels",
    "read_documents",
    "read_labelled",
]

_FORMATS = {
    ".txt": "txt",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}
_KNOWN = ".txt, .pdf, .docx, .html, .htm, .jsonl, .jsonl.gz, .json, .csv or .parquet"
_KNOWN_IN_FOLDER = ".txt, .pdf, .docx, .html or .htm"
_KNOWN_LABELLED = ".jsonl, .jsonl.gz, .json, .csv or .parquet"
# What a damaged file raises from the readers (pyarrow's errors derive from these too). Caught
# per file, so one bad file becomes a DocumentError instead of ending the stream.
_READ_ERRORS = (OSError, EOFError, ValueError, NotImplementedError, zlib.error)
_BINARY_PROBE = 8192  # bytes of a .txt file searched for NUL
_BATCH_ROWS = 256  # CSV chunk / Parquet batch size; UN documents run to 100 KB each
_MAX_LABELS_SHOWN = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # would break an error's line
_SURROGATE = re.compile("[\ud800-\udfff]")  # a lone one cannot be written as UTF-8


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
    """Characters ``[start, end)`` of a document's text; ``label`` None means the task's label."""

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


# --- reading raw records ----------------------------------------------------------------------


@dataclass(slots=True)
class _Record:
    line: int
    fields: dict


# Bytes that are not UTF-8 are most likely from Windows (Windows-1252: "é" is one byte, E9);
# the few bytes that Windows-1252 leaves undefined (81, 8D, 8F, 90, 9D) are Latin-1's.
_LEGACY_NAMES = {"cp1252": "Windows-1252", "latin-1": "Latin-1"}
_NON_ASCII_LETTER = re.compile("[^\x00-\x7f\ufffd]")


def _legacy_encoding(data: bytes) -> str | None:
    """The legacy encoding of bytes that are not UTF-8, or None where they are UTF-8 with a
    few damaged bytes (some of their accented letters are well-formed UTF-8): read as
    Windows-1252, those letters would turn into two characters each."""
    if _NON_ASCII_LETTER.search(data.decode("utf-8", errors="replace")):
        return None
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


class _Decoder:
    """UTF-8; text that is not is read as the likeliest legacy encoding, damaged UTF-8 with its
    bad bytes replaced by U+FFFD; either way with one warning per file, never rejected. One
    character per byte in a legacy encoding, so that offsets into the text stay valid."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.warned = False

    def __call__(self, data: bytes, where: str = "") -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = _legacy_encoding(data)
            self.warn(where, encoding)
            return data.decode(encoding or "utf-8", errors="replace")

    def warn(self, where: str = "", encoding: str | None = None) -> None:
        if self.warned:
            return
        self.warned = True
        if encoding is None:
            message = "bytes that are not valid UTF-8 were replaced with U+FFFD"
        else:
            message = (
                f"not UTF-8: read as {_LEGACY_NAMES[encoding]}, the likeliest encoding; check "
                "its accented letters"
            )
        warnings.warn(f"{self.source}{where}: {message}", UnicodeWarning, stacklevel=2)


def _csv_encoding(path: Path) -> str | None:
    """A CSV file's legacy encoding (see :func:`_legacy_encoding`), None for UTF-8 (damaged
    or not), from the first part that is not UTF-8: pandas decodes the file itself."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen_utf8 = False
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            try:
                seen_utf8 = seen_utf8 or not decoder.decode(chunk).isascii()
            except UnicodeDecodeError:
                return None if seen_utf8 else _legacy_encoding(chunk)
    return None


class _Utf8Check(io.RawIOBase):
    """Passes bytes through, noting whether they are valid UTF-8 (pandas decodes them itself)."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.invalid = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self._raw.readinto(buffer)
        if not self.invalid:
            try:
                self._decoder.decode(bytes(memoryview(buffer)[:n]), final=n == 0)
            except UnicodeDecodeError:
                self.invalid = True
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _format(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith((".jsonl.gz", ".json.gz")):
        return "jsonl.gz"
    return _FORMATS.get(path.suffix.lower())


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file (moved or deleted while reading?)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return f"cannot read: {_one_line(str(exc)) or type(exc).__name__}"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "array", str: "string"}.get(type(value), type(value).__name__)


def _has_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, list):
        return any(map(_has_surrogate, value))
    return isinstance(value, dict) and any(map(_has_surrogate, chain(value, value.values())))


def _without_surrogates(value: object) -> object:
    """JSON strings with a lone surrogate escape (``"\\ud800"``), which no UTF-8 output can hold,
    with it replaced by U+FFFD: one character for one, so offsets stay valid."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def _jsonl_records(lines: Iterable[str], source: str) -> Iterator[_Record | DocumentError]:
    first = True
    warned = False
    for number, line in enumerate(lines, 1):
        if number == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        was_first, first = first, False
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            if was_first and line.lstrip().startswith("["):
                yield DocumentError(
                    None, source, None, "a JSON array; expected JSON lines (one object per line)"
                )
                return
            yield DocumentError(
                None, source, number, f"malformed JSON: {exc.msg} (column {exc.colno})"
            )
            continue
        except (ValueError, RecursionError) as exc:  # a 5000-digit number, deep nesting
            yield DocumentError(
                None,
                source,
                number,
                f"malformed JSON: {_one_line(str(exc)) or 'nested too deeply'}",
            )
            continue
        if "\\u" in line and _has_surrogate(value):
            value = _without_surrogates(value)
            if not warned:
                warned = True
                warnings.warn(
                    f"{source}: line {number}: lone surrogate escapes (\\ud800-\\udfff)"
                    " were replaced with U+FFFD",
                    UnicodeWarning,
                    stacklevel=2,
                )
        if not isinstance(value, dict):
            yield DocumentError(
                None, source, number, f"record is a JSON {_json_type(value)}, not an object"
            )
            continue
        yield _Record(number, value)


def _binary_lines(path: Path, gz: bool, decode: _Decoder) -> Iterator[str]:
    with gzip.open(path, "rb") if gz else open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            yield decode(raw, f": line {number}")


def _csv_records(
    path: Path, source: str, columns: tuple[str, ...], decode: _Decoder
) -> Iterator[_Record | DocumentError]:
    """Rows in chunks. A quote that is never closed makes the rest of the file one field, which
    pandas refuses as a whole chunk: that chunk is then read again row by row, so the rows
    before the quote are kept and the file's error comes after them."""
    from pandas.errors import ParserError

    done = [0, 1]  # chunks read and handed on, and the last row
    encoding = _csv_encoding(path)
    if encoding is not None:
        decode.warn(encoding=encoding)
    try:
        yield from _csv_pass(path, source, columns, decode, encoding, done, 0, _BATCH_ROWS)
    except ParserError:
        skip, done = done[0], [0, 1]
        try:
            yield from _csv_pass(path, source, columns, decode, encoding, done, skip, 1)
        except ParserError as exc:
            why = (
                "a quote is never closed"
                if "EOF inside string" in str(exc)
                else _one_line(str(exc))
            )
            yield DocumentError(None, source, None, f"cannot read after row {done[1]}: {why}")


def _csv_pass(
    path: Path,
    source: str,
    columns: tuple[str, ...],
    decode: _Decoder,
    encoding: str | None,
    done: list[int],
    skip: int,
    size: int,
) -> Iterator[_Record | DocumentError]:
    """The records after the first ``skip`` chunks (read but not handed on), ``size`` rows at
    a time; rows with the wrong number of fields are errors in their place. ``done`` counts
    the chunks and the rows read. ``encoding``: a legacy one (None: UTF-8)."""
    import pandas as pd

    # newline="" keeps \r\n inside quoted fields; na_filter=False keeps a text of "NA" as text.
    with (
        open(path, "rb") as raw,
        io.TextIOWrapper(
            io.BufferedReader(check := _Utf8Check(raw)),
            encoding=encoding or "utf-8-sig",
            errors="replace",
            newline="",
        ) as handle,
        pd.read_csv(
            handle, chunksize=_BATCH_ROWS, dtype=str, na_filter=False, on_bad_lines="warn"
        ) as reader,
    ):
        row = 1  # the header
        bad: dict[int, str] = {}  # rows with the wrong number of fields: skipped by pandas
        while (
            chunk := _next_chunk(reader, _BATCH_ROWS if done[0] < skip else size, bad)
        ) is not None:
            handing_on = done[0] >= skip
            if check.invalid:
                decode.warn()
            if "text" not in chunk.columns:
                yield DocumentError(
                    None, source, None, f"no 'text' column (columns: {', '.join(chunk.columns)})"
                )
                return
            present = [c for c in columns if c in chunk.columns]
            for fields in chunk[present].to_dict("records"):
                row += 1
                while row in bad:
                    why = bad.pop(row)
                    if handing_on:
                        yield DocumentError(None, source, row, f"malformed CSV row: {why}")
                    row += 1
                if handing_on:
                    yield _Record(row, fields)
            done[0], done[1] = done[0] + 1, row
        for number in sorted(bad):
            yield DocumentError(None, source, number, f"malformed CSV row: {bad[number]}")
        if check.invalid:
            decode.warn()


def _next_chunk(reader, size: int, bad: dict[int, str]):
    """The next ``size`` CSV rows or None, noting in ``bad`` the rows pandas skipped (it says
    so only in a warning: "Skipping line 7: expected 2 fields, saw 3")."""
    from pandas.errors import ParserWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ParserWarning)
        try:
            chunk = reader.get_chunk(size)
        except StopIteration:
            chunk = None
    for warning in caught:
        skipped = re.findall(r"Skipping line (\d+): ([^\n]*)", str(warning.message))
        if issubclass(warning.category, ParserWarning) and skipped:
            bad.update((int(number), why) for number, why in skipped)
        else:  # anything else, or a message pandas words differently, is passed on as it is
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return chunk


def _parquet_records(
    path: Path, source: str, columns: tuple[str, ...], decode: _Decoder
) -> Iterator[_Record | DocumentError]:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as parquet:
        names = parquet.schema_arrow.names
        if "text" not in names:
            yield DocumentError(
                None, source, None, f"no 'text' column (columns: {', '.join(names)})"
            )
            return
        present = [c for c in columns if c in names]
        row = 0
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=present):
            for fields in batch.to_pylist():
                row += 1
                if isinstance(fields.get("text"), bytes):  # a binary column: decode it here
                    fields["text"] = decode(fields["text"], f": row {row}")
                yield _Record(row, fields)


def _is_binary(path: Path) -> bool:
    """NUL bytes near the start: no JSON line or CSV text has them raw, binary files soon do."""
    with open(path, "rb") as handle:
        return b"\0" in handle.read(_BINARY_PROBE)


def _records(
    path: Path, source: str, fmt: str, columns: tuple[str, ...]
) -> Iterator[_Record | DocumentError]:
    """Records of a JSON lines, CSV or Parquet file; a damaged file ends in a DocumentError."""
    try:
        problem = (
            "empty file"
            if path.stat().st_size == 0
            else "binary file (NUL bytes); expected UTF-8 text"
            if fmt in ("jsonl", "csv") and _is_binary(path)
            else None
        )
    except OSError as exc:
        problem = _reason(exc)
    if problem is not None:
        yield DocumentError(None, source, None, problem)
        return
    decode = _Decoder(source)
    if fmt == "csv":
        items = _csv_records(path, source, columns, decode)
    elif fmt == "parquet":
        items = _parquet_records(path, source, columns, decode)
    else:
        items = _jsonl_records(_binary_lines(path, fmt == "jsonl.gz", decode), source)
    produced = False
    try:
        for item in items:
            produced = True
            yield item
    except _READ_ERRORS as exc:
        yield DocumentError(None, source, None, _reason(exc))
        return
    if not produced:
        yield DocumentError(None, source, None, "no records")


def _record_id(record: _Record, source: str) -> tuple[str | None, str | None]:
    """(id, problem); a record without an id is named after where it is."""
    value = record.fields.get("id")
    if value is None or value == "":
        return f"{source}:{record.line}", None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None, f"id is a {_json_type(value)}, not a string"
    return str(value), None


def _text_problem(fields: dict) -> str | None:
    if "text" not in fields or fields["text"] is None:
        return "no text"
    text = fields["text"]
    if not isinstance(text, str):
        return f"text is a {_json_type(text)}, not a string"
    if not text.strip():
        return "text is empty" if not text else "text is blank"
    return None


# --- read_documents ---------------------------------------------------------------------------


def read_documents(
    inputs: Iterable[str | Path], *, stdin: TextIO | None = None
) -> Iterator[Document | DocumentError]:
    """Documents of every input, streamed in order; unreadable ones come as DocumentError.

    An input is a ``.txt`` file (one document, id = the path), a ``.pdf``, ``.docx``,
    ``.html`` or ``.htm`` file (one document of its extracted text, with its ``layout``), a
    folder (every such file below it, sorted; any other file is an error), a
    ``.jsonl``/``.jsonl.gz``/``.json`` lines file, ``.csv`` or ``.parquet`` with
    columns ``id`` and ``text``, or ``-`` for stdin (JSON lines when it starts with ``{``, else
    one plain-text document with id ``-``). An input named twice (the same file, however
    spelled, or a file inside a folder also given) is read once, with a warning.
    """
    if isinstance(inputs, str | Path):
        inputs = [inputs]
    seen: set[str] = set()  # inputs read so far: the same file named twice is read once
    for item in inputs:
        source = os.fspath(item)
        if source == "-":
            if _first_time("-", source, seen):
                yield from _read_stdin(sys.stdin if stdin is None else stdin)
            continue
        path = Path(source)
        try:  # under a folder that cannot be searched, even asking is refused
            is_folder, exists = path.is_dir(), path.exists()
        except OSError as exc:
            yield DocumentError(None, source, None, _reason(exc))
            continue
        if is_folder:
            if _first_time(os.path.realpath(path), source, seen):
                yield from _read_folder(path, seen)
        elif not exists:
            yield DocumentError(None, source, None, "no such file or directory")
        elif _first_time(os.path.realpath(path), source, seen):
            yield from _read_file(path, source)


def _first_time(key: str, source: str, seen: set[str]) -> bool:
    """Whether an input is new; a repeated one is skipped with a warning, not read twice."""
    if key in seen:
        warnings.warn(f"{source}: given more than once; read once", stacklevel=3)
        return False
    seen.add(key)
    return True


def _read_folder(folder: Path, seen: set[str]) -> Iterator[Document | DocumentError]:
    """Every file below the folder is read or reported; hidden files (a name starting with a
    dot: ``.DS_Store``, editors' backups) are not documents and are passed over."""
    # A dangling link is listed too: it becomes an error record, not a silent gap.
    files = sorted(
        p
        for p in folder.rglob("*")
        if not any(part.startswith(".") for part in p.relative_to(folder).parts) and not p.is_dir()
    )
    if not files:
        yield DocumentError(None, os.fspath(folder), None, "no documents in the folder")
    for path in files:
        source = os.fspath(path)
        if not _first_time(os.path.realpath(path), source, seen):
            continue
        suffix = path.suffix.lower()
        if suffix == ".txt":
            yield _read_txt(path, source)
        elif suffix in EXTENSIONS:
            yield _read_extracted(path, source)
        else:
            yield DocumentError(
                source, source, None, f"unknown file type; expected {_KNOWN_IN_FOLDER}"
            )


def _read_file(path: Path, source: str) -> Iterator[Document | DocumentError]:
    fmt = _format(path)
    if path.suffix.lower() in EXTENSIONS:
        yield _read_extracted(path, source)
    elif fmt is None:
        yield DocumentError(None, source, None, f"unknown file type; expected {_KNOWN}")
    elif fmt == "txt":
        yield _read_txt(path, source)
    else:
        for record in _records(path, source, fmt, ("id", "text")):
            yield record if isinstance(record, DocumentError) else _document(record, source)


def _read_txt(path: Path, source: str) -> Document | DocumentError:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return DocumentError(source, source, None, _reason(exc))
    if not data:
        return DocumentError(source, source, None, "empty file")
    if b"\0" in data[:_BINARY_PROBE]:  # UTF-8 text has no NUL; binary files soon do
        return DocumentError(source, source, None, "binary file (NUL bytes); expected UTF-8 text")
    text = _Decoder(source)(data.removeprefix(codecs.BOM_UTF8))
    if not text.strip():
        return DocumentError(source, source, None, "text is blank")
    return Document(source, text, source)


def _read_extracted(path: Path, source: str) -> Document | DocumentError:
    """A PDF, Word or HTML file as a document of its extracted text."""
    try:
        text, layout = read_file(path)
    except UnreadableFileError as exc:
        return DocumentError(source, source, None, str(exc))
    except OSError as exc:
        return DocumentError(source, source, None, _reason(exc))
    return Document(source, text, source, layout)


def _document(record: _Record, source: str) -> Document | DocumentError:
    doc_id, problem = _record_id(record, source)
    problem = problem or _text_problem(record.fields)
    if problem is not None:
        return DocumentError(doc_id, source, record.line, problem)
    assert doc_id is not None
    return Document(doc_id, record.fields["text"], source)


def _read_stdin(stream: TextIO | None) -> Iterator[Document | DocumentError]:
    if stream is None or stream.closed:  # started with stdin closed (``<&-``)
        yield DocumentError("-", "-", None, "stdin is closed")
        return
    try:
        yield from _stdin_documents(stream)
    except OSError as exc:
        yield DocumentError("-", "-", None, _reason(exc))


def _stdin_documents(stream: TextIO) -> Iterator[Document | DocumentError]:
    # The binary layer, when there is one, sees \r\n and bad bytes as they are.
    raw = getattr(stream, "buffer", None)
    decode = _Decoder("-")
    lines: Iterator[str] = (
        (decode(line, f": line {n}") for n, line in enumerate(raw, 1))
        if raw is not None
        else iter(stream)
    )
    head: list[str] = []
    for line in lines:
        head.append(line.removeprefix("\ufeff") if not head else line)
        if head[-1].strip():
            break
    if not head or not head[-1].strip():
        yield DocumentError("-", "-", None, "empty input")
        return
    if head[-1].lstrip().startswith("{"):
        for record in _jsonl_records(chain(head, lines), "-"):
            yield record if isinstance(record, DocumentError) else _document(record, "-")
    else:
        text = "".join(chain(head, lines))
        if "\0" in text[:_BINARY_PROBE]:
            yield DocumentError("-", "-", None, "binary input (NUL bytes); expected UTF-8 text")
        else:
            yield Document("-", text, "-")


# --- read_labelled ----------------------------------------------------------------------------


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


def _target_pattern(target: str) -> re.Pattern[str] | None:
    words = target.split()
    return re.compile(r"\s+".join(re.escape(w) for w in words)) if words else None


def _short(text: str, limit: int = 60) -> str:
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _letters_and_digits(text: str, keep: str = "") -> tuple[str, list[int]]:
    """The text's letters and digits (and the characters in ``keep``), case-folded and
    compatibility-normalised (a ligature ``ﬁ`` is ``fi``), with the offset of the character
    each comes from."""
    letters: list[str] = []
    offsets: list[int] = []
    for offset, char in enumerate(text):
        if char in keep:
            letters.append(char)
            offsets.append(offset)
        elif char.isalnum():
            for letter in unicodedata.normalize("NFKC", char).casefold():
                if letter.isalnum():
                    letters.append(letter)
                    offsets.append(offset)
    return "".join(letters), offsets


_ANCHOR = 20  # letters and digits at each end of a target that anchor it across a page break


def _letter_finder(text: str) -> Callable[[str], tuple[int, int] | None]:
    """Finds a target string in a text extracted from a file by its letters and digits alone,
    so line breaks, hyphens at a line end and spacing may differ; the first occurrence.

    A target that runs over a page break may hold the page's running header, footer or number,
    which the extracted text leaves out; one that ends in a table may list its cells in another
    order; a mark in the margin (``A.``) may sit inside it. Such a target is found by 20 letters
    and digits near its start and 20 near its end (its first and last, else the nearest that
    are found, starting in its first 30% and ending in its last 30%), in order, with 70% to
    120% of its letters and digits from the one to the other. A character the labelled file
    lost (U+FFFD, ``l�se-majesté``) stands for any one letter."""
    letters, offsets = _letters_and_digits(text)

    def find(target: str) -> tuple[int, int] | None:
        key = _letters_and_digits(target, keep="\ufffd")[0]
        if not key.strip("\ufffd"):
            return None
        if "\ufffd" in key:
            found = re.search(re.escape(key).replace("\ufffd", "."), letters)
            return found and (offsets[found.start()], offsets[found.end() - 1] + 1)
        index = letters.find(key)
        if index >= 0:
            return offsets[index], offsets[index + len(key) - 1] + 1
        if len(key) < 3 * _ANCHOR:
            return None
        shifts = range(0, int(0.3 * len(key)) + 1, _ANCHOR // 4)
        for skip in shifts:
            head = key[skip : skip + _ANCHOR]
            index = letters.find(head)
            while index >= 0:
                for cut in shifts:
                    tail = key[len(key) - cut - _ANCHOR : len(key) - cut]
                    end = letters.find(tail, index + _ANCHOR, index + int(1.2 * len(key)))
                    if end >= 0 and end + _ANCHOR - index >= 0.7 * len(key):
                        return offsets[index], offsets[end + _ANCHOR - 1] + 1
                index = letters.find(head, index + 1)
        return None

    return find


def _whitespace_finder(text: str) -> Callable[[str], tuple[int, int] | None]:
    """Finds a target string in a text as given; only whitespace may differ."""

    def find(target: str) -> tuple[int, int] | None:
        pattern = _target_pattern(target)
        found = pattern.search(text) if pattern is not None else None
        return None if found is None else found.span()

    return find


def _parse_targets(
    value: object,
    text: str | None,
    find: Callable[[str], tuple[int, int] | None] | None = None,
) -> tuple[list[TargetSpan], list[str]]:
    """Spans and problems of a record's ``targets``; the range checks need a valid text.
    Target strings (plain, or ``{"text", "label"}``) are looked up with ``find``, by default
    whitespace-insensitively in ``text``."""
    if find is None and text is not None:
        find = _whitespace_finder(text)
    if value is None:
        return [], []
    if isinstance(value, str):
        if not value.strip():
            return [], []
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return [], ["targets is not JSON (expected a list of spans or strings)"]
    if not isinstance(value, list):
        return [], [f"targets is a {_json_type(value)}, not a list"]
    spans: list[TargetSpan] = []
    problems: list[str] = []
    for k, target in enumerate(value, 1):
        label = target.get("label") if isinstance(target, dict) else None
        if label is not None and not isinstance(label, str):
            problems.append(f"target {k}: label is a {_json_type(label)}, not a string")
            continue
        if isinstance(target, dict) and "start" not in target and "text" in target:
            target = target["text"]
            if not isinstance(target, str):
                problems.append(f"target {k}: text is a {_json_type(target)}, not a string")
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
                f"target {k} is a {_json_type(target)}, "
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
    fmt = _format(path)
    try:
        is_folder, exists = path.is_dir(), path.exists()
    except OSError as exc:
        yield DocumentError(None, source, None, _reason(exc))
        return
    if source == "-" or is_folder or fmt in (None, "txt"):
        yield DocumentError(None, source, None, f"expected a file ending in {_KNOWN_LABELLED}")
        return
    if not exists:
        yield DocumentError(None, source, None, "no such file")
        return
    columns = ("id", "text", "targets", "labels", "file", "answered")
    for record in _records(path, source, fmt, columns):
        if isinstance(record, DocumentError):
            yield record
            continue
        doc_id, id_problem = _record_id(record, source)
        layout = find = None
        if record.fields.get("file") and not record.fields.get("text"):
            text, layout, text_problem = _file_text(path.parent, record.fields["file"])
            if text is not None:
                find = _letter_finder(text)
        else:
            text_problem = _text_problem(record.fields)
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
        return None, None, f"file is a {_json_type(name)}, not a string"
    path = folder / name
    if path.suffix.lower() not in (*EXTENSIONS, ".txt"):
        return None, None, f"file {name}: unknown file type; expected {_KNOWN_IN_FOLDER}"
    read = _read_txt if path.suffix.lower() == ".txt" else _read_extracted
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
    unanswered = 0
    for item in _labelled_items(path):
        if isinstance(item, DocumentError):
            (fatal if item.line is None else invalid).append(item)
            continue
        counts.update({s.label for s in item.spans if s.label is not None} | set(item.labels))
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
            f"{source}: {unanswered} document(s) not answered{for_label} left out",
            stacklevel=2,
        )
    lines = [str(error) for error in fatal]
    if label is not None and not fatal and counts[label] == 0:
        lines.append(_missing_label(label, counts, source))
    if invalid and not skip_invalid:
        lines.append(f"{source}: {len(invalid)} invalid document(s) (skip_invalid drops them):")
        lines.extend(f"  {error}" for error in invalid)
    if not lines and not documents:
        skipped = f" ({len(invalid)} invalid ones skipped)" if invalid else ""
        lines.append(f"{source}: no documents{skipped}")
    if lines:
        raise InvalidDataError("\n".join(lines))
    return documents, invalid


# --- targets -> paragraphs --------------------------------------------------------------------


def align_targets(
    paragraphs: Sequence[Paragraph], targets: Sequence[TargetSpan]
) -> tuple[list[int], list[TargetSpan]]:
    """Positions of the paragraphs that hold a target, and the targets no paragraph holds.

    A paragraph holds a target when it contains at least half of the span's characters
    (``[start, end)`` overlap), so a span that strays a few characters into the next paragraph
    still goes to the right one; an empty span is held by none.
    """
    order = sorted(range(len(paragraphs)), key=lambda i: (paragraphs[i].start, paragraphs[i].end))
    starts = [paragraphs[i].start for i in order]
    # Running maximum of the ends: sorted even if paragraphs overlap, so bisect stays right.
    reach = list(accumulate((paragraphs[i].end for i in order), max))
    held: set[int] = set()
    unheld: list[TargetSpan] = []
    for target in targets:
        found = False
        if target.end > target.start:
            first = bisect.bisect_right(reach, target.start)
            stop = bisect.bisect_left(starts, target.end)
            for j in range(first, stop):
                paragraph = paragraphs[order[j]]
                if holds(paragraph.start, paragraph.end, target.start, target.end):
                    held.add(order[j])
                    found = True
        if not found:
            unheld.append(target)
    return sorted(held), unheld
