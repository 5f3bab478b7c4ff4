"""Bad input, hostile files and crashes, across every command: one clear line, the right exit
status, nothing lost, nothing executed. Also kill -9 during writes, determinism, and fuzzing."""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import zipfile
from contextlib import suppress
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import skops.io as sio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import records, run  # the CLI-runner helpers shared by the CLI tests
from test_persistence import TouchOnRestore

import unclf.cli
import unclf.cli.inputs
import unclf.cli.options
import unclf.model.document_labels
import unclf.segmenter
from unclf.cli import main
from unclf.documents import Document, DocumentError, InvalidDataError, read_documents, read_labelled
from unclf.persistence import load_model

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "data" / "examples.jsonl"
UNLABELLED = REPO / "data" / "unlabelled"
DEFAULT_MODEL = REPO / "models" / "default.unclf"
LABEL = "regional cooperation"
TEXT = "1. The Council met in Geneva.\n\n2. It asked for a report next year.\n"
COMMANDS = ("segment", "predict")  # the commands that read documents and write records


def stream(command: str, model: Path, *argv: object) -> list[object]:
    """The argv of a document command; predict gets a model."""
    return [command, *argv, *(["--model", model] if command == "predict" else [])]


def assert_cannot_run(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    assert err.startswith("unclf: error: ") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, err


def assert_one_error_line_each(err: str, *names: str) -> None:
    lines = [line for line in err.splitlines() if not line.startswith("unclf: warning: ")]
    assert len(lines) == len(names), err
    for line, name in zip(lines, names, strict=True):
        assert line.startswith("unclf: ") and name in line, line
    assert "Traceback" not in err


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def examples() -> list[dict]:
    return [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def model(trained_model: tuple[Path, str]) -> Path:
    return trained_model[0]


# --- documents that cannot be read: an error record each, the others written, exit 1 ----------


@pytest.mark.parametrize("command", COMMANDS)
def test_jsonl_bad_records_are_errors_and_the_rest_is_written(
    command: str, model: Path, tmp_path: Path, capsys
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"id": "good-1", "text": TEXT}),
                "[1, 2]",
                json.dumps({"id": "number", "text": 5}),
                json.dumps({"text": TEXT}),  # no id: named after its line
                json.dumps({"id": "no text"}),
                '{"id": "deep", "text": ' + "[" * 100_000 + "]" * 100_000 + "}",
                '{"id": ' + "9" * 5000 + ', "text": "x"}',
                json.dumps({"id": "line\nbreak", "text": ""}),
                json.dumps({"id": "good-2", "text": TEXT}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, *stream(command, model, path))
    assert code == 1
    got = records(out)
    assert [r["id"] for r in got] == [
        "good-1",
        f"{path}:2",
        "number",
        f"{path}:4",
        "no text",
        f"{path}:6",
        f"{path}:7",
        "line\nbreak",
        "good-2",
    ]
    assert [("error" in r) for r in got] == [
        False,
        True,
        True,
        False,
        True,
        True,
        True,
        True,
        False,
    ]
    assert all(r["paragraphs"] == [] for r in got if "error" in r)
    assert got[0]["paragraphs"] and got[3]["paragraphs"] and got[8]["paragraphs"]
    # One line each, even for an id with a line break in it.
    assert_one_error_line_each(
        err,
        f"{path}:2",
        f"{path}:3",
        f"{path}:5",
        f"{path}:6",
        f"{path}:7",
        f"{path}:8: line\\nbreak",
    )


def test_csv_rows_with_too_many_fields_are_errors_in_place(
    model: Path, tmp_path: Path, capsys
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        'id,text\na,"1. Spans\ntwo lines."\nb,1. One,too many\nc,1. Fine.\nd,1. Also,too,many\n',
        encoding="utf-8",
    )
    for command in COMMANDS:
        code, out, err = run(capsys, *stream(command, model, path))
        assert code == 1
        got = records(out)
        assert [r["id"] for r in got] == ["a", f"{path}:3", "c", f"{path}:5"]
        assert "expected 2 fields, saw 3" in got[1]["error"] and got[2]["paragraphs"]
        assert_one_error_line_each(err, f"{path}:3", f"{path}:5")


def test_csv_without_text_column(model: Path, tmp_path: Path, capsys) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,body\na,1. Text.\n", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text(TEXT, encoding="utf-8")
    for command in COMMANDS:
        code, out, err = run(capsys, *stream(command, model, path, good))
        assert code == 1
        got = records(out)
        assert [r["id"] for r in got] == [str(path), str(good)]
        assert "no 'text' column (columns: id, body)" in got[0]["error"] and got[1]["paragraphs"]
        assert_one_error_line_each(err, str(path))
    code, out, err = run(capsys, "train", path, "--model-out", tmp_path / "m.unclf")
    assert_cannot_run(code, out, err, str(path), "no 'text' or 'file' column")


@pytest.mark.parametrize("damage", ["random", "truncated"])
def test_corrupt_parquet(damage: str, model: Path, tmp_path: Path, capsys) -> None:
    good = tmp_path / "good.parquet"
    pd.DataFrame({"id": ["a"], "text": [TEXT]}).to_parquet(good)
    bad = tmp_path / "bad.parquet"
    data = good.read_bytes()
    bad.write_bytes(os.urandom(len(data)) if damage == "random" else data[: len(data) // 2])
    for command in COMMANDS:
        code, out, err = run(capsys, *stream(command, model, bad, good))
        assert code == 1
        got = records(out)
        assert [r["id"] for r in got] == [str(bad), "a"]
        assert got[0]["error"].startswith(f"{bad}: cannot read") and got[1]["paragraphs"]
        assert_one_error_line_each(err, str(bad))
    for command, extra in (
        ("train", ["--model-out", tmp_path / "m.unclf"]),
        ("evaluate", ["--model", model]),
    ):
        code, out, err = run(capsys, command, bad, *extra)
        assert_cannot_run(code, out, err, str(bad), "cannot read")


def test_binary_file_under_any_document_extension_is_one_error(
    model: Path, tmp_path: Path, capsys
) -> None:
    blob = bytes(range(256)) * 40
    names = ["blob.txt", "blob.jsonl", "blob.csv"]
    for name in names:
        (tmp_path / name).write_bytes(blob)
    code, out, err = run(capsys, "segment", *(tmp_path / n for n in names))
    assert code == 1
    got = records(out)
    assert [r["id"] for r in got] == [str(tmp_path / n) for n in names]
    assert all("binary file (NUL bytes)" in r["error"] for r in got)
    assert_one_error_line_each(err, *names)
    code, out, err = run(capsys, "train", tmp_path / "blob.jsonl", "--model-out", tmp_path / "m")
    assert_cannot_run(code, out, err, "blob.jsonl: binary file")


def test_unreadable_file_in_a_folder(
    model: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text(TEXT, encoding="utf-8")
    (folder / "d.txt").symlink_to(tmp_path / "gone.txt")  # vanished before it was read
    read_bytes = Path.read_bytes

    def locked(self: Path) -> bytes:  # chmod 000 does not stop root, so say it like the OS
        if self.name == "b.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", locked)
    for command in COMMANDS:
        code, out, err = run(capsys, *stream(command, model, folder))
        assert code == 1
        got = records(out)
        assert [Path(r["id"]).name for r in got] == ["a.txt", "b.txt", "c.txt", "d.txt"]
        assert "permission denied" in got[1]["error"] and "no such file" in got[3]["error"]
        assert got[0]["paragraphs"] and got[2]["paragraphs"]
        assert_one_error_line_each(err, "b.txt", "d.txt")


def test_input_under_a_folder_that_cannot_be_searched(
    model: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a.txt", "c.txt"):
        (tmp_path / name).write_text(TEXT, encoding="utf-8")
    hidden = tmp_path / "locked" / "b.txt"
    stat = Path.stat

    def refused(self: Path, **kwargs):  # what stat says under a folder without search rights
        if self.parent.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return stat(self, **kwargs)

    monkeypatch.setattr(Path, "stat", refused)
    inputs = [tmp_path / "a.txt", hidden, tmp_path / "c.txt"]
    for command in COMMANDS:
        output = tmp_path / f"{command}.jsonl"
        code, out, err = run(capsys, *stream(command, model, *inputs, "-o", output))
        assert code == 1 and out == ""
        got = records(output.read_text(encoding="utf-8"))
        assert [Path(r["id"] or r["file"]).name for r in got] == ["a.txt", "b.txt", "c.txt"]
        assert "permission denied" in got[1]["error"]
        assert got[0]["paragraphs"] and got[2]["paragraphs"]
        assert_one_error_line_each(err, "b.txt")
    code, out, err = run(
        capsys, "train", tmp_path / "locked" / "d.jsonl", "--model-out", tmp_path / "m"
    )
    assert_cannot_run(code, out, err, "ermission denied")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_by_its_mode(tmp_path: Path, capsys) -> None:
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    locked = tmp_path / "b.txt"
    locked.write_text(TEXT, encoding="utf-8")
    locked.chmod(0)
    code, out, err = run(capsys, "segment", tmp_path)
    assert code == 1
    assert [("error" in r) for r in records(out)] == [False, True]
    assert_one_error_line_each(err, "b.txt")


def test_same_file_given_twice_is_read_once(
    model: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    doc = folder / "a.txt"
    doc.write_text(TEXT, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for command in COMMANDS:
        code, out, err = run(capsys, *stream(command, model, "docs/a.txt", "docs/./a.txt", "docs"))
        assert code == 0
        assert [r["id"] for r in records(out)] == ["docs/a.txt"]
        assert err.splitlines() == [
            "unclf: warning: docs/./a.txt: given more than once; read once",
            "unclf: warning: docs/a.txt: given more than once; read once",
        ]


@pytest.mark.parametrize("name", ["a.jsonl", "a.csv", "a.txt"])
def test_byte_order_marks_are_not_text(name: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / name
    body = {
        "a.jsonl": json.dumps({"id": "x", "text": TEXT}) + "\n",
        "a.csv": 'id,text\nx,"' + TEXT + '"\n',
        "a.txt": TEXT,
    }[name]
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    code, out, err = run(capsys, "segment", path)
    assert (code, err) == (0, "")
    [record] = records(out)
    assert record["id"] == ("x" if name != "a.txt" else str(path))
    first = record["paragraphs"][0]
    assert TEXT[first["start"] : first["end"]].startswith("1. The Council")


def test_nul_escaped_in_json_text_is_text(tmp_path: Path, capsys) -> None:
    text = "1. Before\u0000after.\n\n2. Next.\n"
    path = write_jsonl(tmp_path / "a.jsonl", [{"id": "x", "text": text}])
    code, out, _ = run(capsys, "segment", path)
    assert code == 0
    for p in records(out)[0]["paragraphs"]:
        assert 0 <= p["start"] < p["end"] <= len(text)


@pytest.mark.parametrize("command", COMMANDS)
def test_lone_surrogate_escape_is_replaced_with_a_warning(
    command: str, model: Path, tmp_path: Path, capsys
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        '{"id": "s\\ud800", "text": "1. Half a pair: \\udc00 here.\\n\\n2. Next."}\n'
        '{"id": "pair", "text": "1. A whole pair \\ud83d\\ude00 is fine."}\n',
        encoding="utf-8",
    )
    target = tmp_path / "out.jsonl"
    code, _out, err = run(capsys, *stream(command, model, path, "-o", target))
    assert code == 0
    [line] = err.splitlines()
    assert line.startswith(f"unclf: warning: {path}: line 1: lone surrogate")
    got = records(target.read_text(encoding="utf-8"))  # valid UTF-8, valid JSON
    assert [r["id"] for r in got] == ["s\ufffd", "pair"]
    text = "1. Half a pair: \ufffd here.\n\n2. Next."
    for p in got[0]["paragraphs"]:
        assert text[p["start"] : p["end"]].strip().endswith(p["text"][-3:])


@pytest.mark.parametrize("name", ["a.txt", "a.jsonl", "a.csv", "-"])
def test_text_that_is_not_utf8_is_read_as_windows_1252_with_a_warning(
    name: str, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "1. Le Conseil s'est réuni à Genève.\n\n2. Il a décidé.\n"
    body = {
        "a.txt": text,
        "-": text,
        "a.jsonl": json.dumps({"id": "x", "text": text}, ensure_ascii=False) + "\n",
        "a.csv": 'id,text\nx,"' + text + '"\n',
    }[name]
    data = body.encode("latin-1")  # what a Windows export may hand over
    if name == "-":
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        path = "-"
    else:
        path = tmp_path / name
        path.write_bytes(data)
    code, out, err = run(capsys, "segment", path)
    assert code == 0
    [line] = err.splitlines()
    assert line.startswith(f"unclf: warning: {path}") and "read as Windows-1252" in line
    [record] = records(out)
    assert [text[p["start"] : p["end"]].split()[0] for p in record["paragraphs"]] == ["1.", "2."]
    assert "réuni à Genève" in record["paragraphs"][0]["text"]


@pytest.mark.parametrize("command", COMMANDS)
def test_stdin_closed(command: str, model: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    for stdin in (None, io.StringIO()):
        if stdin is not None:
            stdin.close()
        monkeypatch.setattr(sys, "stdin", stdin)
        code, out, err = run(capsys, *stream(command, model, "-"))
        assert code == 1
        assert records(out) == [{"id": "-", "error": "-: stdin is closed", "paragraphs": []}]
        assert err == "unclf: -: stdin is closed\n"


# --- a document with no paragraphs is an answer -------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_document_without_paragraphs_is_an_answer(
    command: str, model: Path, tmp_path: Path, capsys
) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl", [{"id": "page", "text": "12\n"}, {"id": "real", "text": TEXT}]
    )
    code, out, err = run(capsys, *stream(command, model, path))
    assert (code, err) == (0, "")
    got = records(out)
    assert got[0] == {
        "id": "page",
        "paragraphs": [],
        **({"label": LABEL} if command == "predict" else {}),
    }
    assert got[1]["paragraphs"]
    code, out, err = run(capsys, *stream(command, model, path, "--format", "text"))
    assert (code, err) == (0, "")
    assert out.startswith("# page")


def test_evaluate_with_a_document_without_paragraphs(model: Path, tmp_path: Path, capsys) -> None:
    rows = [*examples()[:3], {"id": "page", "text": "12\n", "targets": ["12"]}]
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    code, out, err = run(capsys, "evaluate", path, "--model", model, "--json")
    assert code == 0, err
    assert json.loads(out)["documents"] == 4


# --- the command cannot run: one line, exit 2, before any work --------------------------------


def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the command starts reading documents or training data."""

    def fail(*args: object, **kwargs: object) -> None:
        pytest.fail("the command started work before checking its output")

    monkeypatch.setattr(unclf.cli.inputs, "read_documents", fail)
    monkeypatch.setattr(unclf.cli.inputs, "read_labelled", fail)


def output_option(command: str) -> str:
    return "--model-out" if command == "train" else "--output"


def first_input(command: str) -> list[object]:
    return [EXAMPLES] if command == "train" else [UNLABELLED]


@pytest.mark.parametrize("command", ["segment", "predict", "train"])
@pytest.mark.parametrize("where", ["missing folder", "read-only folder", "a file's child"])
def test_unwritable_output_fails_before_any_work(
    command: str, where: str, model: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    target = {
        "missing folder": tmp_path / "no" / "out",
        "read-only folder": locked / "out",
        "a file's child": Path(__file__) / "out",
    }[where]
    if where == "read-only folder":
        mkstemp = tempfile.mkstemp

        def refuse(*args: object, dir: object = None, **kwargs: object):
            if Path(str(dir)) == locked:
                raise PermissionError(13, "Permission denied", str(dir))
            return mkstemp(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
        monkeypatch.setattr(tempfile, "TemporaryFile", lambda dir: refuse(dir=dir))
    no_work(monkeypatch)
    argv = [command, *first_input(command), output_option(command), target]
    code, out, err = run(capsys, *argv, *(["--model", model] if command == "predict" else []))
    assert_cannot_run(code, out, err, str(target))
    assert list(locked.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes whatever a folder's mode")
def test_output_in_a_read_only_folder_by_its_mode(tmp_path: Path, capsys) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, out, err = run(capsys, "segment", UNLABELLED, "-o", locked / "out.jsonl")
    assert_cannot_run(code, out, err, "ermission denied")


@pytest.mark.parametrize(
    "case",
    [
        "the input file",
        "a hard link to it",
        "a .txt in the input folder",
        "the model",
        "the training data",
        "the cross-validated data",
        "the learning curve's data",
    ],
)
def test_output_that_would_overwrite_an_input_is_refused(
    case: str, model: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text(TEXT, encoding="utf-8")
    data = tmp_path / "data.jsonl"
    data.write_bytes(EXAMPLES.read_bytes())
    mine = tmp_path / "model.unclf"
    mine.write_bytes(model.read_bytes())
    os.link(doc, tmp_path / "link.txt")
    argv = {
        "the input file": ["segment", doc, "-o", f"{tmp_path}/./doc.txt"],
        "a hard link to it": ["segment", doc, "-o", tmp_path / "link.txt"],
        "a .txt in the input folder": ["segment", tmp_path, "-o", tmp_path / "new.txt"],
        "the model": ["predict", doc, "--model", mine, "-o", mine],
        "the training data": ["train", data, "--model-out", data],
        "the cross-validated data": ["cv", data, "--report", data],
        "the learning curve's data": ["learning-curve", data, "--sizes", "5", "--plot", data],
    }[case]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    no_work(monkeypatch)
    code, out, err = run(capsys, *argv)
    assert_cannot_run(code, out, err, "would overwrite the input")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_output_next_to_inputs_is_fine(tmp_path: Path, capsys) -> None:
    (tmp_path / "doc.txt").write_text(TEXT, encoding="utf-8")
    code, _, err = run(capsys, "segment", tmp_path, "-o", tmp_path / "out.jsonl")
    assert (code, err) == (0, "")
    assert [r["id"] for r in records((tmp_path / "out.jsonl").read_text())] == [
        str(tmp_path / "doc.txt")
    ]


def test_usage_errors_exit_2_without_traceback(capsys) -> None:
    for argv in (
        [],
        ["predict"],
        ["train", str(EXAMPLES)],
        ["train", str(EXAMPLES), "--model-out", "m.unclf", "--jobs", "0"],
        ["cv", str(EXAMPLES), "--folds", "1"],
        ["learning-curve", str(EXAMPLES), "--sizes", "5", "--repeats", "0"],
        ["segment", "x", "--format", "xml"],
        ["nonsense"],
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert "usage: unclf" in err and "Traceback" not in err


# --- model files: refused in one line by every command that loads one --------------------------


class TouchOnLoad:
    """Unpickling this runs ``Path.touch(marker)``: it stands for any code in a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def model_parts(path: Path) -> tuple[bytes, bytes]:
    with zipfile.ZipFile(path) as z:
        return z.read("metadata.json"), z.read("model.skops")


def model_zip(path: Path, metadata: bytes | str, payload: bytes) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", metadata)
        z.writestr("model.skops", payload)
    return path


def with_member(payload: bytes, name: str, data: bytes) -> bytes:
    """A skops file with one member replaced."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(payload)) as src, zipfile.ZipFile(buffer, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, data if info.filename == name else src.read(info))
    return buffer.getvalue()


def pickled_npy(obj: object) -> bytes:
    """A .npy file holding an object array: numpy pickles it, and np.load(allow_pickle=True)
    would run its code."""
    buffer = io.BytesIO()
    array = np.empty(1, dtype=object)
    array[0] = obj
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def bad_model(case: str, model: Path, tmp_path: Path, marker: Path) -> tuple[Path, str]:
    """A model file that must be refused, and a word the refusal must contain."""
    metadata, payload = model_parts(model)
    meta = json.loads(metadata)
    path = tmp_path / "bad.unclf"
    if case == "a folder":
        path.mkdir()
        return path, "is a folder, not a model file"
    if case == "a device":
        return Path("/dev/zero"), "not a regular file"
    if case == "empty":
        path.write_bytes(b"")
        return path, "empty file"
    if case == "pickle":
        path.write_bytes(pickle.dumps(TouchOnLoad(marker)))
        return path, "pickle"
    if case == "pickle as model.skops":
        return model_zip(path, metadata, pickle.dumps(TouchOnLoad(marker))), "damaged"
    if case == "pickle in a .npy member":
        npy = next(n for n in zipfile.ZipFile(io.BytesIO(payload)).namelist() if n.endswith(".npy"))
        evil = with_member(payload, npy, pickled_npy(TouchOnLoad(marker)))
        return model_zip(path, metadata, evil), "damaged"
    if case == "untrusted type":
        class_name = f"{TouchOnRestore.__module__}.{TouchOnRestore.__qualname__}"
        return model_zip(path, metadata, sio.dumps(TouchOnRestore(marker))), class_name
    if case == "metadata not JSON":
        return model_zip(path, b"{not json", payload), "damaged"
    if case == "metadata with a string version":
        return model_zip(path, json.dumps({**meta, "format_version": "2"}), payload), "retrain"
    if case == "metadata without versions":
        meta.pop("scikit_learn_version")
        return model_zip(path, json.dumps(meta), payload), "retrain"
    if case == "truncated":
        data = model.read_bytes()
        path.write_bytes(data[: len(data) * 2 // 3])
        return path, "not an unclf model file"
    raise AssertionError(case)


MODEL_CASES = [
    "a folder",
    "a device",
    "empty",
    "pickle",
    "pickle as model.skops",
    "pickle in a .npy member",
    "untrusted type",
    "metadata not JSON",
    "metadata with a string version",
    "metadata without versions",
    "truncated",
]


@pytest.mark.parametrize("case", MODEL_CASES)
def test_bad_model_files_are_refused_by_every_command(
    case: str, model: Path, tmp_path: Path, capsys
) -> None:
    marker = tmp_path / "code-ran"
    path, needle = bad_model(case, model, tmp_path, marker)
    for argv in (["predict", UNLABELLED, "--model", path], ["evaluate", EXAMPLES, "--model", path]):
        code, out, err = run(capsys, *argv)
        assert_cannot_run(code, out, err, str(path), needle)
    assert not marker.exists()


@pytest.mark.parametrize("how", ["npy", "skops"])
def test_the_payloads_are_live(how: str, tmp_path: Path) -> None:
    """Guard for the test above: numpy, or skops trusting every type, would run the code."""
    marker = tmp_path / "code-ran"
    if how == "npy":
        np.load(io.BytesIO(pickled_npy(TouchOnLoad(marker))), allow_pickle=True)
    else:
        payload = sio.dumps(TouchOnRestore(marker))
        sio.loads(payload, trusted=sio.get_untrusted_types(data=payload))
    assert marker.exists()


# --- training data: every offender named; --skip-invalid trains on the rest ------------------


def offending_data(tmp_path: Path, n_good: int = 19) -> Path:
    """``n_good`` valid documents, then five invalid ones: one of each problem."""
    rows = examples()
    bad = [dict(r) for r in rows[:5]]
    bad[0]["targets"] = [{"start": 0, "end": len(bad[0]["text"]) + 1, "label": LABEL}]
    bad[1]["targets"] = [{"start": 10, "end": 10, "label": LABEL}]
    bad[2]["targets"] = ["a sentence that is in no document"]
    bad[3]["id"] = rows[5]["id"]
    bad[4] = "not a record"
    return write_jsonl(tmp_path / "data.jsonl", rows[5 : 5 + n_good] + bad)


def test_invalid_training_data_names_every_offender(tmp_path: Path, capsys) -> None:
    n = 19
    data = offending_data(tmp_path, n)
    for command, extra in (
        ("train", ["--model-out", tmp_path / "m.unclf"]),
        ("evaluate", ["--model", DEFAULT_MODEL]),
    ):
        code, out, err = run(capsys, command, data, *extra)
        assert code == 2 and out == "" and "Traceback" not in err
        lines = err.splitlines()
        assert lines[0] == (
            f"unclf: error: {data}: 5 invalid documents (--skip-invalid drops them):"
        )
        assert [line.split(": ")[0].strip() for line in lines[1:]] == [
            f"{data}:{n + k}" for k in range(1, 6)
        ]
        assert "end > text length" in lines[1] and "start >= end" in lines[2]
        assert "is not in the text" in lines[3] and "duplicate id (first on line 1)" in lines[4]
        assert "not an object" in lines[5]
        assert not (tmp_path / "m.unclf").exists()


def test_skip_invalid_trains_on_the_rest_and_says_how_many(tmp_path: Path, capsys) -> None:
    data = offending_data(tmp_path, 4)
    code, out, err = run(
        capsys, "train", data, "--model-out", tmp_path / "m.unclf", "--skip-invalid"
    )
    assert code == 1, err  # done, but not with every document
    assert "unclf: skipped 5 invalid documents" in err
    assert err.count(f"unclf: {data}:") == 5
    assert "trained on 4 documents" in out
    load_model(tmp_path / "m.unclf")


def test_unknown_label_lists_the_labels_even_with_skip_invalid(tmp_path: Path, capsys) -> None:
    code, out, err = run(
        capsys,
        "train",
        offending_data(tmp_path),
        "--label",
        "nope",
        "--model-out",
        tmp_path / "m.unclf",
        "--skip-invalid",
    )
    assert_cannot_run(code, out, err, "no document has label 'nope'", repr(LABEL))


# --- a crash on one document is contained; an unexpected error is one line --------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_a_crash_on_one_document_spares_the_others(
    command: str, model: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = unclf.segmenter if command == "segment" else unclf.model.document_labels
    name = "segment_many" if command == "segment" else "predict_labels"
    real = getattr(owner, name)

    def fragile(*args: object, **kwargs: object):
        texts = list(args[-1])  # predict_labels takes (models, texts)
        if any("POISON" in t for t in texts):
            raise RuntimeError("boom")
        return real(*args[:-1], texts, **kwargs)

    monkeypatch.setattr(owner, name, fragile)
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"id": "a", "text": TEXT},
            {"id": "bad", "text": "1. POISON here.\n"},
            {"id": "c", "text": TEXT},
        ],
    )
    code, out, err = run(capsys, *stream(command, model, path))
    assert code == 1
    got = records(out)
    assert [r["id"] for r in got] == ["a", "bad", "c"]
    assert "internal error (RuntimeError: boom)" in got[1]["error"]
    assert got[0]["paragraphs"] and got[2]["paragraphs"]
    assert_one_error_line_each(err, f"{path}: bad: internal error")
    with pytest.raises(RuntimeError, match="boom"):
        main([str(a) for a in ["--debug", *stream(command, model, path)]])


def test_an_unexpected_error_is_one_line(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(args: object) -> int:
        raise KeyError("surprise")

    monkeypatch.setattr(unclf.cli.options, "cmd_segment", broken)
    code, out, err = run(capsys, "segment", UNLABELLED)
    assert_cannot_run(code, out, err, "internal error (KeyError: 'surprise')", "--debug")
    with pytest.raises(KeyError):
        main(["--debug", "segment", str(UNLABELLED)])


# --- kill -9: the output is complete or absent, never partial ---------------------------------

# Runs the command; with UNCLF_TEST_STALL set, the write stalls at the fsync just before the
# rename (all bytes written, the file not yet in place): the moment a kill hurts most.
HARNESS = """
import os, sys, time
if os.environ.get("UNCLF_TEST_STALL"):
    def stall(fd):
        print("STALL", file=sys.stderr, flush=True)
        time.sleep(120)
    os.fsync = stall
import unclf.model.labels
fit_labels_on_rows = unclf.model.labels._fit_labels_on_rows
def announced(*args, **kwargs):  # progress bars stay off in a log: say when fitting starts
    print("FITTING", file=sys.stderr, flush=True)
    return fit_labels_on_rows(*args, **kwargs)
unclf.model.labels._fit_labels_on_rows = announced
from unclf.cli import main
sys.exit(main(sys.argv[1:]))
"""


def start(argv: list[object], log: Path, stall: bool = False) -> subprocess.Popen:
    env = {**os.environ, "UNCLF_TEST_STALL": "1" if stall else ""}
    return subprocess.Popen(
        [sys.executable, "-c", HARNESS, *map(str, argv)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )


def temporary_files(folder: Path, name: str) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(f".{name}.")]


def test_kill_9_leaves_outputs_complete_or_absent(tmp_path: Path) -> None:
    rows = examples()
    small = write_jsonl(tmp_path / "small.jsonl", rows[:8])
    # Big enough to be killed while still at work: several output batches, many training docs.
    big = write_jsonl(
        tmp_path / "big.jsonl", [{**r, "id": f"{r['id']}-{k}"} for k in range(8) for r in rows]
    )
    few = write_jsonl(tmp_path / "few.jsonl", rows[:6])
    old = b'{"id": "old", "paragraphs": []}\n'
    cases = {  # name -> (command, data, stall before the rename, content before, kill when)
        # Killed while training, and while output is written (part of it in the temp file).
        "train-fitting": ("train", big, False, None, "FITTING"),
        "predict-writing": ("predict", big, False, old, "output"),
        # Killed with every byte written, the file not yet renamed into place.
        "predict-at-rename": ("predict", small, True, None, "STALL"),
        "train-at-rename": ("train", few, True, DEFAULT_MODEL.read_bytes(), "STALL"),
    }
    runs = {}
    try:
        for name, (command, data, stall, previous, _) in cases.items():
            folder = tmp_path / name
            folder.mkdir()
            target = folder / ("out.jsonl" if command == "predict" else "m.unclf")
            if previous is not None:
                target.write_bytes(previous)
            argv = (
                ["predict", data, "--model", DEFAULT_MODEL, "--output", target]
                if command == "predict"
                else ["train", data, "--model-out", target]
            )
            runs[name] = (start(argv, folder / "stderr", stall), folder / "stderr", target)

        def moment_came(name: str) -> bool:
            _, log, target = runs[name]
            if cases[name][4] == "output":
                return any(
                    p.stat().st_size > 0 for p in temporary_files(target.parent, target.name)
                )
            return cases[name][4] in log.read_text()

        # Watch them all at once: each is killed as soon as its moment comes.
        waiting = set(cases)
        deadline = time.monotonic() + 240
        while waiting:
            for name in sorted(waiting):
                process, log, target = runs[name]
                if not moment_came(name):
                    assert process.poll() is None, f"{name} ended first: {log.read_text()}"
                    continue
                if cases[name][2]:  # stalled: the whole output is in the temporary file
                    [tmp] = temporary_files(target.parent, target.name)
                    if cases[name][0] == "predict":
                        got = records(tmp.read_text(encoding="utf-8"))
                        assert len(got) == 8 and all(r["paragraphs"] for r in got)
                    else:
                        with zipfile.ZipFile(tmp) as z:
                            assert z.testzip() is None
                process.send_signal(signal.SIGKILL)
                assert process.wait(timeout=30) == -signal.SIGKILL
                previous = cases[name][3]
                if previous is None:
                    assert not target.exists(), name
                else:
                    assert target.read_bytes() == previous, name
                waiting.remove(name)
            assert time.monotonic() < deadline, f"timed out waiting for {waiting}"
            time.sleep(0.02)
    finally:
        for process, _, _ in runs.values():
            if process.poll() is None:
                process.kill()
                process.wait()


# --- determinism ------------------------------------------------------------------------------


def state_differences(a: object, b: object, path: str = "model") -> list[str]:
    """Where two fitted objects differ, attribute by attribute."""
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} != {type(b).__name__}"]
    if isinstance(a, np.ndarray):
        same = a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        return [] if same else [path]
    if sp.issparse(a):
        return [] if a.shape == b.shape and (a != b).nnz == 0 else [path]
    if isinstance(a, dict):
        if set(a) != set(b):
            return [f"{path}: keys differ"]
        return [d for k in a for d in state_differences(a[k], b[k], f"{path}[{k!r}]")]
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return [f"{path}: lengths differ"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in state_differences(x, y, f"{path}[{i}]")
        ]
    if hasattr(a, "__dict__") and not isinstance(a, type):
        return state_differences(vars(a), vars(b), path)
    return [] if a == b else [f"{path}: {a!r} != {b!r}"[:200]]


def _train_in_subprocess(model_out: Path, hash_seed: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            HARNESS,
            "train",
            str(EXAMPLES),
            "--model-out",
            str(model_out),
            "--seed",
            "0",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def test_training_is_deterministic(tmp_path: Path) -> None:
    """The same data and seed trained in two processes with different hash seeds (so set and
    dict orders change): the same fitted state and the same scores. Both run in fresh processes
    because an in-process cluster (tests/test_engines.py) may change the BLAS thread count,
    which moves the last bit of floating-point sums."""
    first, again = tmp_path / "first.unclf", tmp_path / "again.unclf"
    _train_in_subprocess(first, "4242")
    _train_in_subprocess(again, "4243")
    (a, meta_a), (b, meta_b) = load_model(first), load_model(again)
    a, b = a[LABEL], b[LABEL]
    assert state_differences(a, b) == []
    assert meta_a["data_fingerprint"] == meta_b["data_fingerprint"]
    texts = [p.read_text(encoding="utf-8") for p in sorted(UNLABELLED.glob("*.txt"))]
    scores = [[(s.paragraph.index, s.score) for s in r.paragraphs] for r in a.rank(texts)]
    assert scores == [[(s.paragraph.index, s.score) for s in r.paragraphs] for r in b.rank(texts)]
    assert all(scores)


def test_state_differences_notices_changes(trained_model: tuple[Path, str]) -> None:
    """Guard for the test above: the comparison notices a change in the fitted state."""
    a, b = load_model(trained_model[0])[0][LABEL], load_model(trained_model[0])[0][LABEL]
    assert state_differences(a, b) == []
    b.abstain_threshold_ = a.abstain_threshold_ + 1e-12
    b.featurizer_.__dict__[next(k for k in vars(b.featurizer_) if k.endswith("_"))] = None
    assert len(state_differences(a, b)) == 2


# --- fuzzing the loaders and the segmenter ----------------------------------------------------

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
records_st = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=10) | st.integers() | json_values,
        # Any code point, lone surrogates too: json.dumps writes them as \\ud800 escapes.
        "text": st.text(st.characters(exclude_categories=()), max_size=200) | json_values,
        "targets": json_values,
    },
)
lines_st = st.lists(
    records_st.map(json.dumps)
    | json_values.map(json.dumps)
    | st.text(max_size=40).map(lambda s: s.replace("\n", " ").replace("\r", " ")),
    max_size=8,
)


def check_stream(items: list, source: str) -> None:
    for item in items:
        assert isinstance(item, Document | DocumentError)
        if isinstance(item, DocumentError):
            assert "\n" not in str(item) and "\r" not in str(item)
            assert str(item).startswith(source)
        else:
            assert isinstance(item.id, str) and isinstance(item.text, str) and item.text.strip()


def read_all(path: Path) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(read_documents([path]))


@FUZZ
@given(lines=lines_st)
def test_fuzz_jsonl_lines(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        items = read_all(path)
        check_stream(items, str(path))
        # Every line that holds a record is one item, in order (unless the file is rejected
        # as a whole: a JSON array, or nothing in it).
        whole_file = [i for i in items if isinstance(i, DocumentError) and i.line is None]
        if not whole_file:
            assert len(items) == sum(1 for line in lines if line.strip())
        texts = parsed_texts(lines)
        assert all(item.text in texts for item in items if isinstance(item, Document))


def parsed_texts(lines: list[str]) -> set[str]:
    """The texts of the lines that are JSON objects, lone surrogates replaced."""
    texts = set()
    for line in lines:
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict) and isinstance(value.get("text"), str):
            texts.add("".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value["text"]))
    return texts


@FUZZ
@given(
    rows=st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=4), max_size=8),
    header=st.sampled_from(["id,text", "text", "id,text,extra", "id,body"]),
)
def test_fuzz_csv(rows: list[list[str]], header: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        body = "\n".join(
            ",".join(json.dumps(f) if k % 2 else f for k, f in enumerate(row)) for row in rows
        )
        path.write_text(header + "\n" + body + "\n", encoding="utf-8")
        check_stream(read_all(path), str(path))


@FUZZ
@given(
    data=st.binary(max_size=2000),
    name=st.sampled_from(["f.txt", "f.jsonl", "f.jsonl.gz", "f.csv", "f.parquet"]),
    compress=st.booleans(),
)
def test_fuzz_random_bytes_files(data: bytes, name: str, compress: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(gzip.compress(data) if compress and name.endswith(".gz") else data)
        check_stream(read_all(path), str(path))


@FUZZ
@given(data=st.binary(max_size=2000), name=st.sampled_from(["f.jsonl", "f.csv", "f.parquet"]))
def test_fuzz_random_bytes_labelled(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                docs, _ = read_labelled(path, skip_invalid=True)
        except InvalidDataError as e:
            assert str(e).startswith(str(path))
        else:
            for doc in docs:
                assert all(0 <= t.start < t.end <= len(doc.text) for t in doc.targets)


@FUZZ
@given(rows=st.lists(records_st, max_size=6), label=st.none() | st.text(max_size=5))
def test_fuzz_labelled_records(rows: list[dict], label: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                docs, skipped = read_labelled(path, label=label, skip_invalid=True)
        except InvalidDataError as e:
            assert str(e).startswith(str(path))
            return
        assert len(docs) + len(skipped) == len(rows)
        assert len({d.id for d in docs}) == len(docs)
        for doc in docs:
            assert all(0 <= t.start < t.end <= len(doc.text) for t in doc.targets)
            assert all(t.label in (None, label) for t in doc.targets) or label is None


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=3000))
def test_fuzz_segmenter_on_random_bytes(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    paragraphs = unclf.segmenter.segment(text)
    previous_end = 0
    for i, p in enumerate(paragraphs):
        assert p.index == i
        assert previous_end <= p.start < p.end <= len(text)
        previous_end = p.end


# --- outputs that are not files: written to as they are, never replaced ------------------------


def drain(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    """Read a FIFO in the background, as the other end of a pipe would."""
    got: list[bytes] = []

    def read() -> None:
        with fifo.open("rb") as f:
            got.append(f.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


def unblock(fifo: Path, thread: threading.Thread) -> None:
    """Let a reader that nobody wrote to finish (the test has failed by then)."""
    if thread.is_alive():
        with suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.mark.parametrize("command", ["segment", "train"])
def test_output_to_a_pipe_is_written_not_replaced(command: str, tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    thread, got = drain(fifo)
    try:
        if command == "segment":
            (tmp_path / "doc.txt").write_text(TEXT, encoding="utf-8")
            code, _, err = run(capsys, "segment", tmp_path / "doc.txt", "-o", fifo)
        else:
            code, _, err = run(
                capsys,
                "train",
                write_jsonl(tmp_path / "d.jsonl", examples()[:6]),
                "--model-out",
                fifo,
            )
        thread.join(timeout=60)
    finally:
        unblock(fifo, thread)
    assert code == 0, err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    [data] = got
    if command == "segment":
        assert records(data.decode("utf-8"))[0]["paragraphs"]
    else:
        assert zipfile.is_zipfile(io.BytesIO(data))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_stdout_closed(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    code = main(["segment", str(UNLABELLED)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == "unclf: error: stdout is closed; give an output file with --output\n"


def test_debug_shows_the_traceback_of_an_expected_error(tmp_path: Path) -> None:
    with pytest.raises(unclf.cli.UsageError, match="no such model file"):
        main(["--debug", "predict", str(UNLABELLED), "--model", str(tmp_path / "none.unclf")])


def test_interrupted_run_leaves_no_output(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object):
        raise KeyboardInterrupt

    monkeypatch.setattr(unclf.segmenter, "segment_many", interrupted)
    target = tmp_path / "out.jsonl"
    code, out, _ = run(capsys, "segment", UNLABELLED, "-o", target)
    assert (code, out) == (130, "")
    assert list(tmp_path.iterdir()) == []
