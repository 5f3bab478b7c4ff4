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

import codecs
import gzip
import io
import json
import os
import re
import sys
import warnings
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TextIO

from unclf.documents.encoding import Decoder, Utf8Check, csv_encoding
from unclf.documents.records import Document, DocumentError
from unclf.files import TEMPORARY_SUFFIX
from unclf.formats import EXTENSIONS, UnreadableFileError, read_file

_FORMATS = {
    ".txt": "txt",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}
_KNOWN = ".txt, .pdf, .docx, .html, .htm, .jsonl, .jsonl.gz, .json, .csv or .parquet"
KNOWN_IN_FOLDER = ".txt, .pdf, .docx, .html or .htm"
# Ids remembered to warn of one given twice: about 100 MB for a million.
_IDS_REMEMBERED = 1_000_000
KNOWN_LABELLED = ".jsonl, .jsonl.gz, .json, .csv or .parquet"
# What a damaged file raises from the readers (pyarrow's errors derive from these too). Caught
# per file, so one bad file becomes a DocumentError instead of ending the stream.
_READ_ERRORS = (OSError, EOFError, ValueError, NotImplementedError, zlib.error)
_BINARY_PROBE = 8192  # bytes of a .txt file searched for NUL
_BATCH_ROWS = 256  # CSV chunk / Parquet batch size; UN documents run to 100 KB each
_SURROGATE = re.compile("[\ud800-\udfff]")  # a lone one cannot be written as UTF-8


# --- reading raw records ----------------------------------------------------------------------


@dataclass(slots=True)
class _Record:
    line: int
    fields: dict


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith((".jsonl.gz", ".json.gz")):
        return "jsonl.gz"
    return _FORMATS.get(path.suffix.lower())


def one_line(text: str) -> str:
    return " ".join(text.split())


def reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return f"cannot read: {one_line(str(exc)) or type(exc).__name__}"


def json_type(value: object) -> str:
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
                f"malformed JSON: {one_line(str(exc)) or 'nested too deeply'}",
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
                None, source, number, f"record is a JSON {json_type(value)}, not an object"
            )
            continue
        yield _Record(number, value)


def _binary_lines(path: Path, gz: bool, decode: Decoder) -> Iterator[str]:
    with gzip.open(path, "rb") if gz else open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            yield decode(raw, f": line {number}")


def _csv_records(
    path: Path, source: str, columns: tuple[str, ...], decode: Decoder
) -> Iterator[_Record | DocumentError]:
    """Rows in chunks. A quote that is never closed makes the rest of the file one field, which
    pandas refuses as a whole chunk: that chunk is then read again row by row, so the rows
    before the quote are kept and the file's error comes after them."""
    from pandas.errors import ParserError

    done = [0, 1]  # chunks read and handed on, and the last row
    encoding = csv_encoding(path)
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
                "a quote is never closed" if "EOF inside string" in str(exc) else one_line(str(exc))
            )
            yield DocumentError(None, source, None, f"cannot read after row {done[1]}: {why}")


def _csv_pass(
    path: Path,
    source: str,
    columns: tuple[str, ...],
    decode: Decoder,
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
            io.BufferedReader(check := Utf8Check(raw)),
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
            if missing := _missing_text(columns, list(chunk.columns)):
                yield DocumentError(None, source, None, missing)
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


def _missing_text(wanted: tuple[str, ...], names: list[str]) -> str | None:
    """Why a table gives no document text: no ``text`` column, nor a ``file`` column where
    the reader takes one (labelled data may name each document's file instead)."""
    if "text" in names or ("file" in wanted and "file" in names):
        return None
    either = "'text' or 'file'" if "file" in wanted else "'text'"
    return f"no {either} column (columns: {', '.join(names)})"


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
    path: Path, source: str, columns: tuple[str, ...], decode: Decoder
) -> Iterator[_Record | DocumentError]:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as parquet:
        names = parquet.schema_arrow.names
        if missing := _missing_text(columns, names):
            yield DocumentError(None, source, None, missing)
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


def read_records(
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
        problem = reason(exc)
    if problem is not None:
        yield DocumentError(None, source, None, problem)
        return
    decode = Decoder(source)
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
        yield DocumentError(None, source, None, reason(exc))
        return
    if not produced:
        yield DocumentError(None, source, None, "no records")


def record_id(record: _Record, source: str) -> tuple[str | None, str | None]:
    """(id, problem); a record without an id is named after where it is."""
    value = record.fields.get("id")
    if value is None or value == "":
        return f"{source}:{record.line}", None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None, f"id is a {json_type(value)}, not a string"
    return str(value), None


def problem_with_text(fields: dict) -> str | None:
    if "text" not in fields or fields["text"] is None:
        return "no text"
    text = fields["text"]
    if not isinstance(text, str):
        return f"text is a {json_type(text)}, not a string"
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
    spelled, or a file inside a folder also given) is read once, with a warning; an id given
    twice (one of the first ``_IDS_REMEMBERED``) is read twice, with a warning.
    """
    if isinstance(inputs, str | Path):
        inputs = [inputs]
    ids: set[str] = set()  # bounded, so that a stream's memory does not grow without end
    for item in _read_inputs(inputs, stdin):
        if isinstance(item, Document):
            if item.id in ids:
                warnings.warn(f"{item.source}: {item.id}: id given twice", stacklevel=2)
            elif len(ids) < _IDS_REMEMBERED:
                ids.add(item.id)
        yield item


def _read_inputs(
    inputs: Iterable[str | Path], stdin: TextIO | None
) -> Iterator[Document | DocumentError]:
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
            yield DocumentError(None, source, None, reason(exc))
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
    dot: ``.DS_Store``, editors' backups) are not documents and are passed over, with a
    warning that counts them."""
    # A dangling link is listed too: it becomes an error record, not a silent gap. Hidden
    # folders (``.git``) are not searched.
    files, hidden, unlisted = [], [], []
    for root, folders, names in os.walk(folder, onerror=unlisted.append):
        hidden += [name for name in folders if name.startswith(".")]
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in names:
            if not name.startswith("."):
                files.append(Path(root, name))
            elif not name.endswith(TEMPORARY_SUFFIX):  # an output being written, maybe ours
                hidden.append(name)
    # A folder below that cannot be listed is reported in its place: its files are not lost.
    unreadable = {Path(error.filename): error for error in unlisted}
    files = sorted([*files, *unreadable])
    if hidden:
        names = ", ".join(sorted(hidden)[:3]) + (", ..." if len(hidden) > 3 else "")
        warnings.warn(
            f"{os.fspath(folder)}: {len(hidden)} hidden file(s) or folder(s) passed over ({names})",
            stacklevel=3,
        )
    if not files:
        yield DocumentError(None, os.fspath(folder), None, "no documents in the folder")
    for path in files:
        source = os.fspath(path)
        if path in unreadable:
            why = reason(unreadable[path])
            yield DocumentError(None, source, None, f"cannot list the folder: {why}")
            continue
        if not _first_time(os.path.realpath(path), source, seen):
            continue
        suffix = path.suffix.lower()
        if suffix == ".txt":
            yield read_txt(path, source)
        elif suffix in EXTENSIONS:
            yield read_extracted(path, source)
        elif file_format(path) is not None:
            yield DocumentError(
                source,
                source,
                None,
                "a file of several documents inside a folder: give it on its own to read them "
                f"(a folder holds documents of {KNOWN_IN_FOLDER})",
            )
        else:
            yield DocumentError(
                source, source, None, f"unknown file type; expected {KNOWN_IN_FOLDER}"
            )


def _read_file(path: Path, source: str) -> Iterator[Document | DocumentError]:
    fmt = file_format(path)
    if path.suffix.lower() in EXTENSIONS:
        yield read_extracted(path, source)
    elif fmt is None:
        yield DocumentError(None, source, None, f"unknown file type; expected {_KNOWN}")
    elif fmt == "txt":
        yield read_txt(path, source)
    else:
        for record in read_records(path, source, fmt, ("id", "text")):
            yield record if isinstance(record, DocumentError) else _document(record, source)


def read_txt(path: Path, source: str) -> Document | DocumentError:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return DocumentError(source, source, None, reason(exc))
    if not data:
        return DocumentError(source, source, None, "empty file")
    if b"\0" in data[:_BINARY_PROBE]:  # UTF-8 text has no NUL; binary files soon do
        return DocumentError(source, source, None, "binary file (NUL bytes); expected UTF-8 text")
    text = Decoder(source)(data.removeprefix(codecs.BOM_UTF8))
    if not text.strip():
        return DocumentError(source, source, None, "text is blank")
    return Document(source, text, source)


def read_extracted(path: Path, source: str) -> Document | DocumentError:
    """A PDF, Word or HTML file as a document of its extracted text."""
    try:
        text, layout = read_file(path)
    except UnreadableFileError as exc:
        return DocumentError(source, source, None, str(exc))
    except OSError as exc:
        return DocumentError(source, source, None, reason(exc))
    return Document(source, text, source, layout)


def _document(record: _Record, source: str) -> Document | DocumentError:
    doc_id, problem = record_id(record, source)
    problem = problem or problem_with_text(record.fields)
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
        yield DocumentError("-", "-", None, reason(exc))


def _stdin_documents(stream: TextIO) -> Iterator[Document | DocumentError]:
    # The binary layer, when there is one, sees \r\n and bad bytes as they are.
    raw = getattr(stream, "buffer", None)
    decode = Decoder("-")
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
