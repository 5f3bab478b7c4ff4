"""Reading documents: exact text, streaming, per-document errors, labelled data, alignment."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import warnings
from pathlib import Path

import pandas as pd
import pytest

from unclf.documents import (
    Document,
    DocumentError,
    InvalidDataError,
    LabelledDocument,
    TargetSpan,
    align_targets,
    read_documents,
    read_labelled,
)
from unclf.segmenter import Paragraph

CRLF_TEXT = "1. The Council met.\r\n\r\n2. It decided  to act.\r\n"


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def kinds(items: list) -> list[str]:
    return [type(item).__name__ for item in items]


# --- read_documents: plain text -----------------------------------------------------------


def test_txt_keeps_crlf_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(CRLF_TEXT.encode("utf-8"))
    [doc] = read_documents([str(path)])
    assert doc == Document(str(path), CRLF_TEXT, str(path))
    assert doc.text.encode("utf-8") == path.read_bytes()


def test_txt_id_is_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.txt").write_text("Some text.", encoding="utf-8")
    [doc] = read_documents(["./a.txt"])
    assert (doc.id, doc.source) == ("./a.txt", "./a.txt")


def test_single_path_is_not_iterated_character_by_character(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Some text.", encoding="utf-8")
    assert [d.text for d in read_documents(path)] == ["Some text."]


def test_text_that_is_not_utf8_is_read_as_windows_1252_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Café au lait, “Genève”.\r\n".encode("cp1252"))
    with pytest.warns(UnicodeWarning, match="latin.txt: not UTF-8: read as Windows-1252"):
        [doc] = read_documents([path])
    assert doc.text == "Café au lait, “Genève”.\r\n"


def test_bytes_windows_1252_leaves_undefined_are_read_as_latin_1(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes(b"Caf\xe9 \x81.")
    with pytest.warns(UnicodeWarning, match="read as Latin-1"):
        [doc] = read_documents([path])
    assert doc.text == "Café \x81."


def test_damaged_utf8_keeps_its_letters_and_replaces_the_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "damaged.txt"
    path.write_bytes("Genève ".encode() + b"\xff" + " à Paris.".encode())
    with pytest.warns(UnicodeWarning, match="damaged.txt: bytes that are not valid UTF-8"):
        [doc] = read_documents([path])
    assert doc.text == "Genève \ufffd à Paris."


def test_valid_utf8_gives_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "ok.txt"
    path.write_text("Café – “quoted”.", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        [doc] = read_documents([path])
    assert doc.text == "Café – “quoted”."


def test_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfText.")
    [doc] = read_documents([path])
    assert doc.text == "Text."


def test_folder_is_read_recursively_sorted_other_files_reported(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("Z text.", encoding="utf-8")
    (tmp_path / "b" / "a.txt").write_text("A text.", encoding="utf-8")
    (tmp_path / "c.txt").write_text("C text.", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not a document", encoding="utf-8")
    (tmp_path / ".DS_Store").write_bytes(b"\0\0")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref", encoding="utf-8")
    with pytest.warns(
        UserWarning, match=r"2 hidden file\(s\) or folder\(s\) passed over \(.DS_Store, .git\)"
    ):
        *docs, error = list(read_documents([tmp_path]))
    assert [d.id for d in docs] == [
        str(tmp_path / "b" / "a.txt"),
        str(tmp_path / "b" / "z.txt"),
        str(tmp_path / "c.txt"),
    ]
    assert [d.text for d in docs] == ["A text.", "Z text.", "C text."]
    assert isinstance(error, DocumentError)
    assert error.source == str(tmp_path / "notes.md")
    assert "unknown file type" in error.message


def test_a_collection_file_in_a_folder_is_named_for_what_it_is(tmp_path: Path) -> None:
    (tmp_path / "records.jsonl").write_text('{"id": "a", "text": "A."}\n', encoding="utf-8")
    [error] = read_documents([tmp_path])
    assert error.message.startswith("a file of several documents inside a folder: give it on")


def test_an_id_given_twice_is_read_twice_with_a_warning(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text(
        '{"id": "a", "text": "One."}\n{"id": "b", "text": "Two."}\n{"id": "a", "text": "Three."}\n',
        encoding="utf-8",
    )
    with pytest.warns(UserWarning, match="records.jsonl: a: id given twice"):
        docs = list(read_documents([records]))
    assert [d.text for d in docs] == ["One.", "Two.", "Three."]


def test_a_folder_below_that_cannot_be_listed_is_an_error(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a.txt").write_text("A text.", encoding="utf-8")
    (tmp_path / "locked").mkdir()
    scandir = os.scandir

    def refused(path):  # what listing a folder without read rights says
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refused)
    (tmp_path / "z.txt").write_text("Z text.", encoding="utf-8")
    first, error, last = read_documents([tmp_path])  # in the order of their paths
    assert (first.text, last.text) == ("A text.", "Z text.")
    assert error.source == str(tmp_path / "locked")
    assert error.message == "cannot list the folder: permission denied"


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    [error] = read_documents([tmp_path])
    assert isinstance(error, DocumentError)
    assert "no documents in the folder" in error.message


def test_failures_are_errors_in_input_order_and_the_rest_continue(tmp_path: Path) -> None:
    good1 = tmp_path / "good1.txt"
    good1.write_text("First.", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.txt"
    blank.write_text(" \r\n\t\n", encoding="utf-8")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x00\x00\x00IHDR")
    unknown = tmp_path / "doc.odt"
    unknown.write_bytes(b"PK\x03\x04")
    good2 = tmp_path / "good2.txt"
    good2.write_text("Second.", encoding="utf-8")
    inputs = [good1, tmp_path / "missing.txt", empty, blank, binary, unknown, good2]
    items = list(read_documents(inputs))
    assert kinds(items) == ["Document"] + ["DocumentError"] * 5 + ["Document"]
    assert [item.source for item in items] == [str(p) for p in inputs]
    messages = [item.message for item in items[1:-1]]
    assert "no such file" in messages[0]
    assert messages[1] == "empty file"
    assert messages[2] == "text is blank"
    assert "binary" in messages[3]
    assert "unknown file type" in messages[4]
    assert [items[0].text, items[-1].text] == ["First.", "Second."]


def test_stream_is_lazy_and_a_vanished_file_is_an_error(tmp_path: Path) -> None:
    first, second = tmp_path / "1.txt", tmp_path / "2.txt"
    first.write_text("One.", encoding="utf-8")
    second.write_text("Two.", encoding="utf-8")
    stream = read_documents([tmp_path])
    assert next(stream).text == "One."
    second.unlink()  # listed with the folder, gone before it is read
    error = next(stream)
    assert isinstance(error, DocumentError)
    assert error.source == str(second)
    assert "no such file" in error.message


def test_document_error_str() -> None:
    assert str(DocumentError("d1", "a.jsonl", 3, "no text")) == "a.jsonl:3: d1: no text"
    assert str(DocumentError(None, "a.jsonl", 3, "bad")) == "a.jsonl:3: bad"
    assert str(DocumentError(None, "a.csv", None, "empty file")) == "a.csv: empty file"
    assert str(DocumentError("a.txt", "a.txt", None, "empty file")) == "a.txt: empty file"


# --- read_documents: records ----------------------------------------------------------------


def test_jsonl_malformed_line_in_the_middle(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text(
        '{"id": "a", "text": "Alpha."}\n{"id": "b", "text": \n\n{"id": "c", "text": "Gamma."}\n',
        encoding="utf-8",
    )
    items = list(read_documents([path]))
    assert kinds(items) == ["Document", "DocumentError", "Document"]
    assert [items[0].id, items[2].id] == ["a", "c"]
    assert items[1].line == 2
    assert items[1].message.startswith("malformed JSON")
    assert str(items[1]).startswith(f"{path}:2: ")


def test_jsonl_record_problems(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "docs.jsonl",
        [
            {"id": "no-text"},
            {"id": "number", "text": 5},
            {"id": "blank", "text": "  \n"},
            ["not", "an", "object"],
            {"text": "Anonymous."},
            {"id": 7, "text": "Numbered."},
        ],
    )
    items = list(read_documents([path]))
    errors = [(e.id, e.line, e.message) for e in items if isinstance(e, DocumentError)]
    assert errors == [
        ("no-text", 1, "no text"),
        ("number", 2, "text is a number, not a string"),
        ("blank", 3, "text is blank"),
        (None, 4, "record is a JSON array, not an object"),
    ]
    docs = [d for d in items if isinstance(d, Document)]
    assert [(d.id, d.text) for d in docs] == [(f"{path}:5", "Anonymous."), ("7", "Numbered.")]


def test_jsonl_gz_keeps_crlf(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "x", "text": CRLF_TEXT}) + "\r\n")
    [doc] = read_documents([path])
    assert (doc.id, doc.text) == ("x", CRLF_TEXT)


def test_corrupt_gzip_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl.gz"
    path.write_bytes(b"this is not gzip")
    after = tmp_path / "after.txt"
    after.write_text("After.", encoding="utf-8")
    items = list(read_documents([path, after]))
    assert kinds(items) == ["DocumentError", "Document"]
    assert items[0].line is None


def test_jsonl_non_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b'{"id": "a", "text": "Ok."}\n{"id": "b", "text": "Caf\xe9."}\n')
    with pytest.warns(UnicodeWarning, match=r"docs\.jsonl: line 2"):
        docs = list(read_documents([path]))
    assert [d.text for d in docs] == ["Ok.", "Café."]


def test_json_array_file_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "docs.json"
    path.write_text('[\n  {"id": "a", "text": "A."},\n  {"id": "b", "text": "B."}\n]\n')
    [error] = read_documents([path])
    assert isinstance(error, DocumentError)
    assert "JSON array" in error.message and error.line is None


def test_jsonl_with_only_blank_lines_has_no_records(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text("\n\n")
    [error] = read_documents([path])
    assert error.message == "no records"


def test_csv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    frame = pd.DataFrame({"id": ["a", "b", ""], "text": [CRLF_TEXT, "NA", 'Third, "quoted".']})
    frame.to_csv(path, index=False)
    items = list(read_documents([path]))
    assert items == [
        Document("a", CRLF_TEXT, str(path)),
        Document("b", "NA", str(path)),
        Document(f"{path}:4", 'Third, "quoted".', str(path)),
    ]


def test_csv_blank_text_and_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    pd.DataFrame({"id": ["a", "b"], "text": ["", "Fine."]}).to_csv(path, index=False)
    wrong = tmp_path / "wrong.csv"
    pd.DataFrame({"id": ["a"], "body": ["Text."]}).to_csv(wrong, index=False)
    items = list(read_documents([path, wrong]))
    assert kinds(items) == ["DocumentError", "Document", "DocumentError"]
    assert (items[0].id, items[0].line, items[0].message) == ("a", 2, "text is empty")
    assert "no 'text' column" in items[2].message and "body" in items[2].message


def test_csv_non_utf8_warns(tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_bytes(b"id,text\na,Caf\xe9.\n")
    with pytest.warns(UnicodeWarning, match=r"docs\.csv"):
        [doc] = read_documents([path])
    assert doc.text == "Café."


def test_parquet_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "docs.parquet"
    pd.DataFrame({"id": [10, 11], "text": [CRLF_TEXT, "Second."]}).to_parquet(path)
    items = list(read_documents([path]))
    assert items == [Document("10", CRLF_TEXT, str(path)), Document("11", "Second.", str(path))]


def test_parquet_without_id_and_with_missing_text(tmp_path: Path) -> None:
    path = tmp_path / "docs.parquet"
    pd.DataFrame({"text": ["First.", None]}).to_parquet(path)
    items = list(read_documents([path]))
    assert kinds(items) == ["Document", "DocumentError"]
    assert items[0].id == f"{path}:1"
    assert (items[1].line, items[1].message) == (2, "no text")


def test_corrupt_parquet_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "docs.parquet"
    path.write_bytes(b"not parquet at all")
    [error] = read_documents([path])
    assert isinstance(error, DocumentError) and error.line is None


def test_stdin_plain_text_keeps_crlf() -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"\r\n" + CRLF_TEXT.encode()), encoding="utf-8")
    [doc] = read_documents(["-"], stdin=stdin)
    assert doc == Document("-", "\r\n" + CRLF_TEXT, "-")


def test_stdin_jsonl() -> None:
    stdin = io.StringIO('\n  {"id": "a", "text": "A."}\n{"text": "B."}\n')
    docs = list(read_documents(["-"], stdin=stdin))
    assert [(d.id, d.text, d.source) for d in docs] == [("a", "A.", "-"), ("-:3", "B.", "-")]


def test_empty_stdin_is_an_error() -> None:
    [error] = read_documents(["-"], stdin=io.StringIO(" \n"))
    assert isinstance(error, DocumentError) and error.source == "-"


def test_binary_stdin_is_an_error() -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"GIF89a\x00\x01\x02 not text"))
    assert list(read_documents(["-"], stdin=stdin)) == [
        DocumentError("-", "-", None, "binary input (NUL bytes); expected UTF-8 text")
    ]


def test_closed_stdin_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = io.StringIO("1. Text.\n")
    closed.close()
    assert list(read_documents(["-"], stdin=closed)) == [
        DocumentError("-", "-", None, "stdin is closed")
    ]
    monkeypatch.setattr("sys.stdin", None)  # the process was started with stdin closed
    assert list(read_documents(["-"])) == [DocumentError("-", "-", None, "stdin is closed")]


def test_an_input_named_twice_is_read_once_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("1. A.\n", encoding="utf-8")
    (folder / "b.txt").write_text("1. B.\n", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(folder / "b.txt")
    with pytest.warns(UserWarning) as caught:
        items = list(
            read_documents(
                [
                    folder / "a.txt",
                    folder,
                    link,
                    f"{folder}/./a.txt",
                    f"{tmp_path}/../{tmp_path.name}/docs/",
                ]
            )
        )
    assert [d.id for d in items] == [str(folder / "a.txt"), str(folder / "b.txt")]
    assert [str(w.message) for w in caught] == [
        f"{folder / 'a.txt'}: given more than once; read once",
        f"{link}: given more than once; read once",
        f"{folder}/./a.txt: given more than once; read once",
        f"{tmp_path}/../{tmp_path.name}/docs/: given more than once; read once",  # one line
    ]


def test_document_error_is_one_line_whatever_the_id() -> None:
    error = DocumentError("a\nb\rc\x00d\u2028e", "f\n.jsonl", 3, "text is empty")
    assert str(error) == "f\\n.jsonl:3: a\\nb\\rc\\x00d\\u2028e: text is empty"
    assert str(DocumentError("Genève — ok", "x.jsonl", 1, "m")) == "x.jsonl:1: Genève — ok: m"


def test_jsonl_lines_json_cannot_parse_are_errors_of_their_own(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": '
        + "9" * 5000
        + ', "text": "x"}\n'
        + '{"text": '
        + "[" * 100_000
        + "]" * 100_000
        + "}\n"
        + json.dumps({"id": "after", "text": "1. Still read."})
        + "\n",
        encoding="utf-8",
    )
    items = list(read_documents([path]))
    assert kinds(items) == ["DocumentError", "DocumentError", "Document"]
    assert [e.line for e in items[:2]] == [1, 2]
    assert all(e.message.startswith("malformed JSON: ") for e in items[:2])


def test_jsonl_lone_surrogates_become_replacement_characters(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": "a", "text": "x\\ud800y \\ud83d\\ude00 z\\udfff"}\n'
        '{"id": "b\\udc00", "text": "fine"}\n',
        encoding="utf-8",
    )
    with pytest.warns(UnicodeWarning, match="line 1: lone surrogate") as caught:
        a, b = read_documents([path])
    assert len(caught) == 1  # once per file
    assert a.text == "x\ufffdy 😀 z\ufffd" and b.id == "b\ufffd"
    a.text.encode("utf-8")


@pytest.mark.parametrize("name", ["in.jsonl", "in.csv"])
def test_binary_record_file_is_one_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b'{"id": "a", "text": "x"}\n' + bytes(range(256)) * 4)
    assert list(read_documents([path])) == [
        DocumentError(None, str(path), None, "binary file (NUL bytes); expected UTF-8 text")
    ]


def test_csv_rows_with_wrong_field_counts_are_errors_in_order(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    rows = [f"r{i},{i}. Text {i}." for i in range(600)]
    rows[3] += ",extra"
    rows[400] += ",extra,more"
    path.write_text("id,text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas' own warning is turned into the error records
        items = list(read_documents([path]))
    assert len(items) == 600
    errors = [(i, e.line, e.message) for i, e in enumerate(items) if isinstance(e, DocumentError)]
    assert errors == [
        (3, 5, "malformed CSV row: expected 2 fields, saw 3"),
        (400, 402, "malformed CSV row: expected 2 fields, saw 4"),
    ]
    assert [d.id for d in items if isinstance(d, Document)] == [
        f"r{i}" for i in range(600) if i not in (3, 400)
    ]


@pytest.mark.parametrize("where", [5, 400])  # in the first chunk, or in a later one
def test_csv_quote_never_closed_keeps_the_rows_before_it(tmp_path: Path, where: int) -> None:
    path = tmp_path / "in.csv"
    rows = [f"r{i},{i}. Text {i}." for i in range(600)]
    rows[where] = 'bad,"1. A quote that is never closed.'
    rows[2] += ",extra"
    path.write_text("id,text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    items = list(read_documents([path]))
    assert [d.id for d in items if isinstance(d, Document)] == [
        f"r{i}" for i in range(where) if i != 2
    ]
    errors = [(e.line, e.message) for e in items if isinstance(e, DocumentError)]
    assert errors == [
        (4, "malformed CSV row: expected 2 fields, saw 3"),
        (None, f"cannot read after row {where + 1}: a quote is never closed"),
    ]
    assert isinstance(items[-1], DocumentError)
    with pytest.raises(InvalidDataError, match="a quote is never closed"):
        read_labelled(path, skip_invalid=True)  # a broken file is never half-trained on


def test_csv_bad_rows_are_named_in_labelled_data(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text('id,text,targets\na,Some text.,"[""Some""]"\nb,x,[],extra\n', encoding="utf-8")
    with pytest.raises(InvalidDataError, match=rf"{path}:3: malformed CSV row"):
        read_labelled(path)
    docs, skipped = read_labelled(path, skip_invalid=True)
    assert [d.id for d in docs] == ["a"] and [e.line for e in skipped] == [3]


# --- read_labelled --------------------------------------------------------------------------


def test_spans_label_filter_keeps_negatives(tmp_path: Path) -> None:
    text = "Preamble. Operative part. Closing."
    path = write_jsonl(
        tmp_path / "train.jsonl",
        [
            {
                "id": "p",
                "text": text,
                "targets": [
                    {"start": 10, "end": 25, "label": "op"},
                    {"start": 0, "end": 9, "label": "pre"},
                ],
            },
            {"id": "n", "text": text, "targets": [{"start": 0, "end": 9, "label": "pre"}]},
            {"id": "s", "text": text, "targets": ["Closing."]},
        ],
    )
    docs, errors = read_labelled(path, label="op")
    assert errors == []
    assert docs == [
        LabelledDocument("p", text, (TargetSpan(10, 25, "op"),), str(path)),
        LabelledDocument("n", text, (), str(path)),
        LabelledDocument("s", text, (TargetSpan(26, 34, None),), str(path)),
    ]
    everything, _ = read_labelled(path)
    assert everything[0].targets == (TargetSpan(0, 9, "pre"), TargetSpan(10, 25, "op"))


def test_string_targets_found_across_whitespace(tmp_path: Path) -> None:
    text = "Recalls (a) the\r\nprevious  report;\nrecalls (a) the previous report."
    path = write_jsonl(
        tmp_path / "train.jsonl",
        [
            {"id": "d", "text": text, "targets": ["(a) the previous\nreport;"]},
        ],
    )
    [doc], _ = read_labelled(path)
    [span] = doc.targets
    assert text[span.start : span.end] == "(a) the\r\nprevious  report;"
    assert span.label is None


def test_csv_and_parquet_targets_are_json_strings(tmp_path: Path) -> None:
    text = "First part. Second part."
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "text": [text, text],
            "targets": [
                json.dumps([{"start": 12, "end": 24, "label": "x"}]),
                json.dumps(["First"]),
            ],
        }
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    expected = [(TargetSpan(12, 24, "x"),), (TargetSpan(0, 5, None),)]
    for name in ("t.csv", "t.parquet"):
        docs, _ = read_labelled(tmp_path / name)
        assert [d.targets for d in docs] == expected


def test_a_spreadsheet_cell_that_is_not_json_is_one_target(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Preamble.\n\nThe governing law is Ruritanian.", "utf-8")
    text = "First part. Second part [2]."
    pd.DataFrame(
        {
            "id": ["a", "b"],
            "text": [text, ""],
            "file": ["", "a.txt"],
            "targets": ["Second part [2]", "governing law is"],
        }
    ).to_csv(tmp_path / "pasted.csv", index=False)
    first, second = read_labelled(tmp_path / "pasted.csv")[0]
    assert first.targets == (TargetSpan(12, 27, None),)
    assert second.text[second.targets[0].start :].startswith("governing law is")
    # A table naming each document's file needs no text column.
    pd.DataFrame({"file": ["a.txt"], "targets": ["governing law"]}).to_csv(
        tmp_path / "files.csv", index=False
    )
    [doc], _ = read_labelled(tmp_path / "files.csv", label="Governing Law")
    assert [t.label for t in doc.targets] == [None]  # the asked label's, as unclf train reads it
    pd.DataFrame({"id": ["a"], "targets": ["x"]}).to_csv(tmp_path / "none.csv", index=False)
    with pytest.raises(InvalidDataError, match="no 'text' or 'file' column"):
        read_labelled(tmp_path / "none.csv")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "train.jsonl",
        [
            {"id": "neg", "text": "Short.", "targets": [{"start": -1, "end": 3, "label": "x"}]},
            {"id": "long", "text": "Short.", "targets": [{"start": 0, "end": 7, "label": "x"}]},
            {"id": "flip", "text": "Short.", "targets": [{"start": 4, "end": 4, "label": "x"}]},
            {"id": "lost", "text": "Short.", "targets": ["Longer words"]},
            {"id": "ok", "text": "Short.", "targets": [{"start": 0, "end": 6, "label": "x"}]},
            {"id": "ok", "text": "Again.", "targets": []},
        ],
    )
    with pytest.raises(InvalidDataError) as caught:
        read_labelled(path)
    lines = str(caught.value).splitlines()
    offending = [line.strip() for line in lines if line.startswith("  ")]
    assert len(offending) == 5
    assert offending[0].startswith(f"{path}:1: neg: ") and "start < 0" in offending[0]
    assert offending[1].startswith(f"{path}:2: long: ") and "end > text length 6" in offending[1]
    assert offending[2].startswith(f"{path}:3: flip: ") and "start >= end" in offending[2]
    assert offending[3].startswith(f"{path}:4: lost: ") and "not in the text" in offending[3]
    assert offending[4].startswith(f"{path}:6: ok: ") and "duplicate id" in offending[4]


def test_skip_invalid_drops_and_returns_offenders(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "train.jsonl",
        [
            {"id": "good", "text": "Good text.", "targets": ["Good"]},
            {"id": "bad", "text": "Bad text.", "targets": ["missing"]},
            {"id": "good", "text": "Duplicate.", "targets": []},
        ],
    )
    docs, errors = read_labelled(path, skip_invalid=True)
    assert [d.id for d in docs] == ["good"]
    assert [(e.id, e.line) for e in errors] == [("bad", 2), ("good", 3)]


def test_malformed_labelled_record_is_an_offender(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text('{"id": "a", "text": "A.", "targets": []}\n{oops\n', encoding="utf-8")
    with pytest.raises(InvalidDataError, match=r"train\.jsonl:2: malformed JSON"):
        read_labelled(path)
    docs, errors = read_labelled(path, skip_invalid=True)
    assert [d.id for d in docs] == ["a"] and [e.line for e in errors] == [2]


def test_unknown_label_lists_labels_most_common_first(tmp_path: Path) -> None:
    rows = [
        {
            "id": f"d{i}",
            "text": "Some text.",
            "targets": [{"start": 0, "end": 4, "label": f"L{j:02d}"} for j in range(i % 25, 25)],
        }
        for i in range(25)
    ]
    path = write_jsonl(tmp_path / "train.jsonl", rows)
    with pytest.raises(InvalidDataError) as caught:
        read_labelled(path, label="nope", skip_invalid=True)
    message = str(caught.value)
    assert "'nope'" in message
    shown = message.split("labels in the file: ")[1]
    assert shown.startswith("'L24' (25), 'L23' (24)")
    assert "'L05'" in shown and "'L04'" not in shown  # 20 shown
    assert shown.endswith("and 5 more")


def test_no_documents_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(InvalidDataError, match="empty file"):
        read_labelled(empty)
    all_bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "a", "text": " "}])
    with pytest.raises(InvalidDataError, match="no documents"):
        read_labelled(all_bad, skip_invalid=True)


@pytest.mark.parametrize("name", ["folder", "doc.txt", "-", "missing.jsonl"])
def test_labelled_needs_a_record_file(tmp_path: Path, name: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "doc.txt").write_text("Text.", encoding="utf-8")
    path = name if name == "-" else tmp_path / name
    with pytest.raises(InvalidDataError):
        read_labelled(path, skip_invalid=True)


# --- align_targets --------------------------------------------------------------------------


def paragraphs(*bounds: tuple[int, int]) -> list[Paragraph]:
    # index deliberately differs from the position: align_targets returns positions.
    return [
        Paragraph(100 + i, s, e, "", None, "paragraph", None) for i, (s, e) in enumerate(bounds)
    ]


def test_straddling_target_goes_to_the_paragraph_holding_half() -> None:
    paras = paragraphs((0, 10), (12, 30), (30, 40))
    held, unheld = align_targets(paras, [(7, 17)])  # 3 chars vs 5 chars
    assert (held, unheld) == ([1], [])
    held, _ = align_targets(paras, [(5, 19)])  # 5 chars vs 7 chars
    assert held == [1]
    held, _ = align_targets(paras, [(26, 34)])  # exactly half each
    assert held == [1, 2]


def test_target_in_no_paragraph() -> None:
    paras = paragraphs((0, 10), (20, 30), (30, 40), (40, 50))
    gap = (10, 20)
    wide = (15, 50)  # spread over three paragraphs, none holds half
    empty = (5, 5)
    after = (60, 70)
    inside = (2, 8)
    held, unheld = align_targets(paras, [after, gap, inside, wide, empty])
    assert held == [0]
    assert unheld == [after, gap, wide, empty]


def test_align_without_paragraphs_or_targets() -> None:
    assert align_targets([], [(0, 3)]) == ([], [(0, 3)])
    assert align_targets(paragraphs((0, 5)), []) == ([], [])


def test_targets_travel_as_pairs_from_the_reader_to_the_model_and_metrics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reader's ``TargetSpan`` becomes a task's ``(start, end)`` pair once; the model's
    labels and its figures are computed on the pairs, never rebuilding a ``TargetSpan``."""
    from unclf.model import RankedDocument, ScoredParagraph, paragraph_labels, ranking_summary
    from unclf.segmenter import parse_many

    text = "I. Opening\n\n1. The panel met.\n\n2. It asked the secretariat to report back.\n"
    start = text.index("It asked")
    targets = [[(start, start + 20)], []]
    docs = list(parse_many([text, text]))

    def rebuilt(*args, **kwargs):
        raise AssertionError("a target was turned back into a TargetSpan")

    monkeypatch.setattr(TargetSpan, "__init__", rebuilt)
    labels, unheld = paragraph_labels(docs, targets)
    assert labels.tolist() == [0, 0, 1, 0, 0, 0] and unheld == []
    ranked = [
        RankedDocument([ScoredParagraph(p, 1.0 - k / 10, k == 0) for k, p in enumerate(order)])
        for order in ([d.paragraphs[2], *d.paragraphs[:2]] for d in docs)
    ]
    summary = ranking_summary(ranked, targets)
    assert (summary["hit@1"], summary["documents"], summary["documents_without_target"]) == (
        1.0,
        1,
        1,
    )


def test_align_matches_brute_force_on_many_paragraphs() -> None:
    rng = random.Random(7)
    bounds, pos = [], 0
    for _ in range(3000):
        pos += rng.randint(0, 3)
        length = rng.randint(1, 40)
        bounds.append((pos, pos + length))
        pos += length
    paras = paragraphs(*bounds)
    targets = []
    for _ in range(300):
        start = rng.randint(0, pos)
        targets.append((start, start + rng.randint(1, 120)))

    def holds(p: Paragraph, t: tuple[int, int]) -> bool:
        overlap = min(p.end, t[1]) - max(p.start, t[0])
        return overlap > 0 and 2 * overlap >= t[1] - t[0]

    expected_held = sorted({i for i, p in enumerate(paras) for t in targets if holds(p, t)})
    expected_unheld = [t for t in targets if not any(holds(p, t) for p in paras)]
    assert align_targets(paras, targets) == (expected_held, expected_unheld)
