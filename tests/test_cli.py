"""The ``unclf`` command, in-process: output formats, exit codes 0/1/2, files and stdin."""

from __future__ import annotations

import copy
import io
import json
import os
import pickle
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import unclf
import unclf.persistence
from unclf.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "data" / "examples.jsonl"
UNLABELLED = REPO / "data" / "unlabelled"
LABEL = "regional cooperation"
# data/README.md: the number of the one regional-cooperation paragraph of each document.
EXPECTED_TARGET_NUMBER = {
    "peaceful-assembly-pdf.txt": "4",
    "statelessness-flat.txt": "5",
    "water-sanitation-belmira-clean.txt": "6",
}

DOC = (
    "A/HRC/99/1\r\n\r\nI. Opening\r\n\r\n"
    "1. The panel met in Genève and agreed — after some debate — on a plan 😀.\r\n\r\n"
    "2. It asked the secretariat to report back next year.\r\n"
)


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def records(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def assert_cannot_run(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.startswith("unclf: error: ")
    assert err.count("\n") == 1 and err.endswith("\n"), err
    for needle in needles:
        assert needle in err


def normal_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@pytest.fixture(scope="module")
def model(trained_model: tuple[Path, str]) -> Path:
    return trained_model[0]


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "b-binary.txt").write_bytes(b"1. Looks like text\x00\x01\x02 but is not.")
    (folder / "c-empty.txt").write_bytes(b"")
    (folder / "a-good.txt").write_text(DOC, encoding="utf-8", newline="")
    return folder


@pytest.fixture
def jsonl_with_bad_line(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"id": "first", "text": "1. One thing.\n\n2. Another thing.\n"})
        + "\n"
        + '{"id": "broken", "text": \n'
        + json.dumps({"id": "third", "text": "1. A last thing.\n"})
        + "\n",
        encoding="utf-8",
    )
    return path


# --- the installed console script -------------------------------------------------------------


def test_console_script_version_and_help() -> None:
    script = Path(sys.executable).parent / "unclf"
    assert script.exists(), "the unclf console script is not installed in this environment"
    argvs = [["--version"]] + [[c, "--help"] for c in ("segment", "train", "predict", "evaluate")]
    procs = [
        subprocess.Popen(
            [str(script), *a], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for a in argvs
    ]
    results = [(p.communicate(timeout=60), p.returncode) for p in procs]
    (version_out, version_err), version_code = results[0]
    assert version_code == 0, version_err
    assert version_out.strip() == f"unclf {unclf.__version__}"
    for argv, ((out, err), code) in zip(argvs[1:], results[1:], strict=True):
        assert code == 0, err
        assert out.startswith(f"usage: unclf {argv[0]}")
        assert "Traceback" not in err


# --- segment ----------------------------------------------------------------------------------


def test_segment_jsonl_fields_and_exact_offsets(tmp_path: Path, capsys) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(DOC.encode("utf-8"))
    code, out, err = run(capsys, "segment", path)
    assert (code, err) == (0, "")
    [record] = records(out)
    assert set(record) == {"id", "paragraphs"}
    assert record["id"] == str(path)
    paragraphs = record["paragraphs"]
    assert [p["number"] for p in paragraphs if p["number"]] == ["I", "1", "2"]
    previous_end = 0
    for i, p in enumerate(paragraphs):
        assert set(p) == {"index", "start", "end", "text", "number", "kind"}
        assert p["index"] == i
        assert previous_end <= p["start"] < p["end"] <= len(DOC)
        previous_end = p["end"]
        if p["number"]:
            assert DOC[p["start"] : p["end"]].startswith(p["number"] + ".")
    one = next(p for p in paragraphs if p["number"] == "1")
    # Offsets are in characters of the text as stored: \r\n kept, é and 😀 one character each.
    assert DOC[one["start"] : one["end"]].rstrip() == (
        "1. The panel met in Genève and agreed — after some debate — on a plan 😀."
    )


def test_segment_text_format(tmp_path: Path, capsys) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(DOC.encode("utf-8"))
    code, out, _ = run(capsys, "segment", path, "--format", "text")
    assert code == 0
    _, out_jsonl, _ = run(capsys, "segment", path)
    n = len(records(out_jsonl)[0]["paragraphs"])
    assert out.startswith(f"# {path}: {n} paragraphs\n")
    # The place is said in words, counted from 1, as predict says it: "[1]" beside "1. The
    # panel..." read as two conflicting numbers. JSONL keeps its 0-based index.
    assert out.splitlines()[1:4] == [
        "1st of 3 paragraphs (heading, 14-24) I. Opening",
        "2nd of 3 paragraphs (paragraph, 28-100) 1. The panel met in Genève and agreed — after "
        "some debate — on a plan 😀.",
        "3rd of 3 paragraphs (paragraph, 104-157) 2. It asked the secretariat to report back "
        "next year.",
    ]
    assert [p["index"] for p in records(out_jsonl)[0]["paragraphs"]] == [0, 1, 2]
    assert not out.lstrip().startswith("{")


def test_segment_stdin_plain_text_and_jsonl(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(DOC.encode("utf-8"))))
    code, out, _ = run(capsys, "segment", "-")
    assert code == 0
    [record] = records(out)
    assert record["id"] == "-"
    assert any(DOC[p["start"] : p["end"]].startswith("2.") for p in record["paragraphs"])

    lines = "".join(json.dumps({"id": f"d{i}", "text": f"1. Item {i}.\n"}) + "\n" for i in range(3))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines.encode("utf-8"))))
    code, out, _ = run(capsys, "segment", "-")
    assert code == 0
    assert [r["id"] for r in records(out)] == ["d0", "d1", "d2"]


def test_segment_output_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(DOC.encode("utf-8"))
    target = tmp_path / "out.jsonl"
    code, out, err = run(capsys, "segment", path, "--output", target)
    assert (code, out, err) == (0, "", "")
    _, to_stdout, _ = run(capsys, "segment", path)
    assert target.read_text(encoding="utf-8") == to_stdout
    assert stat.S_IMODE(target.stat().st_mode) == normal_mode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.txt", "out.jsonl"]


def test_segment_some_documents_fail(mixed_folder: Path, tmp_path: Path, capsys) -> None:
    missing = tmp_path / "missing.txt"
    code, out, err = run(capsys, "segment", mixed_folder, missing)
    assert code == 1
    got = records(out)
    assert [r["id"] for r in got] == [
        str(mixed_folder / "a-good.txt"),
        str(mixed_folder / "b-binary.txt"),
        str(mixed_folder / "c-empty.txt"),
        str(missing),
    ]
    assert "error" not in got[0] and got[0]["paragraphs"]
    for failed in got[1:]:
        assert failed["error"] and failed["paragraphs"] == []
    assert "binary" in got[1]["error"] and "empty" in got[2]["error"]
    lines = err.splitlines()
    assert len(lines) == 3
    for line, name in zip(lines, ("b-binary.txt", "c-empty.txt", "missing.txt"), strict=True):
        assert line.startswith("unclf: ") and name in line
    assert "Traceback" not in err


def test_segment_some_documents_fail_output_file(
    mixed_folder: Path, tmp_path: Path, capsys
) -> None:
    target = tmp_path / "out.jsonl"
    code, out, err = run(capsys, "segment", mixed_folder, "-o", target)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 2
    got = records(target.read_text(encoding="utf-8"))
    assert [("error" in r) for r in got] == [False, True, True]


def test_segment_text_format_lists_failures_in_order(mixed_folder: Path, capsys) -> None:
    code, out, _ = run(capsys, "segment", mixed_folder, "--format", "text")
    assert code == 1
    headers = [line for line in out.splitlines() if line.startswith("# ")]
    assert [h.split(":")[0][2:] for h in headers] == [
        str(mixed_folder / n) for n in ("a-good.txt", "b-binary.txt", "c-empty.txt")
    ]
    assert "error: binary file" in out.split(headers[1], 1)[1].splitlines()[1]


def test_segment_jsonl_malformed_line(jsonl_with_bad_line: Path, capsys) -> None:
    code, out, err = run(capsys, "segment", jsonl_with_bad_line)
    assert code == 1
    got = records(out)
    assert [r["id"] for r in got] == ["first", f"{jsonl_with_bad_line}:2", "third"]
    assert [bool(r["paragraphs"]) for r in got] == [True, False, True]
    assert "malformed JSON" in got[1]["error"] and "error" not in got[2]
    [line] = err.splitlines()
    assert f"{jsonl_with_bad_line}:2" in line and "malformed JSON" in line


@pytest.mark.parametrize("where", ["no-such-folder/out.jsonl", "."])
def test_segment_unwritable_output(where: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "doc.txt"
    path.write_text("1. Text.\n", encoding="utf-8")
    code, out, err = run(capsys, "segment", path, "-o", tmp_path / where)
    assert_cannot_run(code, out, err, str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.txt"]


# --- train / predict / evaluate ---------------------------------------------------------------


def test_train_reports_what_it_learned(trained_model: tuple[Path, str]) -> None:
    path, log = trained_model
    assert "trained on 24 documents (22 with a target" in log
    assert repr(LABEL) in log and str(path) in log
    assert stat.S_IMODE(path.stat().st_mode) == normal_mode()
    assert "abstain below " in log and "abstain below 0.00" not in log  # 2 without a target
    assert "every document" not in log


def test_train_says_in_words_a_model_that_never_abstains(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where the documents without a target score like those with one, the threshold that
    # decides best on them is 0: "abstain below 0.00" said nothing.
    import unclf.model.selector

    learnt = unclf.model.selector.thresholds
    monkeypatch.setattr(unclf.model.selector, "thresholds", lambda *a: (0.0, learnt(*a)[1]))
    data = tmp_path / "eight.jsonl"
    data.write_text("".join(EXAMPLES.read_text(encoding="utf-8").splitlines(True)[:8]))
    code, out, err = run(capsys, "train", data, "--model-out", tmp_path / "m.unclf")
    assert code == 0, err
    assert "mode single, marks a paragraph in every document" in out
    assert "abstain below" not in out
    assert (
        "unclf: note: the model will mark a paragraph in every document: the best paragraph of "
        "the 1 training document without a target scored too high to tell it apart from the "
        "documents with one. Label more documents without the target"
    ) in err


def test_train_says_when_one_document_holds_the_targets(tmp_path: Path, capsys) -> None:
    import json

    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()[:8]
    records_ = [json.loads(line) for line in lines]
    for r in records_[1:]:
        r["targets"] = []
    data = tmp_path / "one.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records_), encoding="utf-8")
    code, out, err = run(capsys, "train", data, "--model-out", tmp_path / "m.unclf")
    assert code == 0, err
    assert "(1 with a target" in out
    assert "counted equally (one document holds the targets" in out


@pytest.mark.parametrize(
    ("abstain", "threshold", "said"),
    [
        (True, 0.3, "abstain below 0.30"),
        (True, 0.004, "marks a paragraph in every document"),
        (True, 0.0, "marks a paragraph in every document"),
        (False, 0.3, "marks a paragraph in every document"),
    ],
)
def test_train_says_when_the_model_abstains(abstain: bool, threshold: float, said: str) -> None:
    from types import SimpleNamespace

    from unclf.cli.train import _abstention

    assert _abstention(SimpleNamespace(abstain=abstain, abstain_threshold_=threshold)) == said


def test_help_answers_without_loading_the_model_libraries() -> None:
    """``unclf --help`` answers at once: spaCy, scikit-learn and skops (seconds to import)
    load only for a command that needs them."""
    probe = (
        "import sys, unclf.cli; "
        "print(sorted(m for m in ('spacy', 'sklearn', 'skops', 'scipy') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


def test_predict_jsonl_best_first(model: Path, capsys) -> None:
    code, out, err = run(capsys, "predict", UNLABELLED, "--model", model)
    assert (code, err) == (0, "")
    got = records(out)
    files = sorted(UNLABELLED.glob("*.txt"))
    assert [r["id"] for r in got] == [str(f) for f in files]
    for record, file in zip(got, files, strict=True):
        text = file.read_text(encoding="utf-8")
        paragraphs = record["paragraphs"]
        assert len(paragraphs) > 5
        for p in paragraphs:
            assert set(p) == {"index", "number", "start", "end", "score", "text", "is_target"}
            assert 0.0 <= p["score"] <= 1.0
            assert 0 <= p["start"] < p["end"] <= len(text)
        scores = [p["score"] for p in paragraphs]
        assert scores == sorted(scores, reverse=True)
        assert sorted(p["index"] for p in paragraphs) == list(range(len(paragraphs)))
        assert [p["is_target"] for p in paragraphs] == [True] + [False] * (len(paragraphs) - 1)
        best = paragraphs[0]
        assert re.match(
            rf"{EXPECTED_TARGET_NUMBER[file.name]}\.\s", text[best["start"] : best["end"]]
        )


def test_predict_top_k(model: Path, capsys) -> None:
    _, full, _ = run(capsys, "predict", UNLABELLED, "--model", model)
    code, out, _ = run(capsys, "predict", UNLABELLED, "--model", model, "--top-k", 2)
    assert code == 0
    for short, long in zip(records(out), records(full), strict=True):
        assert short["paragraphs"] == long["paragraphs"][:2]
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(UNLABELLED), "--model", str(model), "--top-k", "-1"])
    assert exit_info.value.code == 2
    assert "--top-k" in capsys.readouterr().err


def test_predict_text_format(model: Path, capsys) -> None:
    path = UNLABELLED / "water-sanitation-belmira-clean.txt"
    text = path.read_text(encoding="utf-8")
    _, out_jsonl, _ = run(capsys, "predict", path, "--model", model)
    paragraphs = records(out_jsonl)[0]["paragraphs"]
    best = paragraphs[0]
    code, out, _ = run(capsys, "predict", path, "--model", model, "--format", "text")
    assert code == 0
    assert out.startswith(f"# {path}\n")
    line = text.count("\n", 0, best["start"]) + 1
    # The place is said in words, counted from 1: "[13]" beside "6. ..." read as two numbers.
    place = re.search(r": (\d+)(?:st|nd|rd|th) of (\d+) paragraphs, score", out)
    assert place, out
    assert (int(place[1]), int(place[2])) == (best["index"] + 1, len(paragraphs))
    assert (
        f"paragraphs, score {best['score']:.2f}, line {line}, chars {best['start']}-{best['end']}"
    ) in out
    assert f"[{best['index']}]" not in out
    assert best["text"] in out


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_spreadsheet_of_target_texts_trains_the_label_named(
    suffix: str, tmp_path: Path, capsys
) -> None:
    import pandas as pd

    rows = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    table = pd.DataFrame(
        {
            "id": [r["id"] for r in rows],
            "text": [r["text"] for r in rows],
            # A cell that is not JSON is one target: a sentence copied from the paragraph.
            "targets": [
                " ".join(r["text"][t["start"] : t["end"]].split()[:12]) if r["targets"] else ""
                for r in rows
                for t in r["targets"][:1] or [None]
            ],
        }
    )
    path = tmp_path / f"labels{suffix}"
    table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path)
    model = tmp_path / "named.unclf"
    code, out, err = run(capsys, "train", path, "--label", "Governing Law", "--model-out", model)
    assert code == 0, err
    assert "for label 'Governing Law'" in out
    assert list(unclf.persistence.load_model(model)[0]) == ["Governing Law"]


def test_training_without_a_document_lacking_the_target_says_what_that_means(
    tmp_path: Path, capsys
) -> None:
    rows = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    held = tmp_path / "held.jsonl"
    held.write_text("".join(json.dumps(r) + "\n" for r in rows if r["targets"]), "utf-8")
    code, _, err = run(capsys, "train", held, "--model-out", tmp_path / "m.unclf")
    assert code == 0
    assert "every training document has a target; the model leaves a document unmarked" in err
    assert 'Label a few documents without a target to teach it when to say "none here".' in err


def test_predict_text_format_shows_the_top_k(model: Path, capsys) -> None:
    _, out_jsonl, _ = run(capsys, "predict", UNLABELLED, "--model", model, "--top-k", 3)
    code, out, _ = run(
        capsys, "predict", UNLABELLED, "--model", model, "--format", "text", "--top-k", 3
    )
    assert code == 0
    shown = re.findall(r"(\d+)(?:st|nd|rd|th) of \d+ paragraphs, score (\d\.\d\d)", out)
    expected = [
        (str(p["index"] + 1), f"{p['score']:.2f}")
        for record in records(out_jsonl)
        for p in record["paragraphs"]
    ]
    assert shown == expected and len(shown) == 3 * len(records(out_jsonl))


@pytest.mark.parametrize(
    ("index", "total", "place"),
    [
        (0, 40, "1st of 40 paragraphs"),
        (1, 40, "2nd of 40 paragraphs"),
        (2, 40, "3rd of 40 paragraphs"),
        (3, 40, "4th of 40 paragraphs"),
        (10, 40, "11th of 40 paragraphs"),
        (11, 40, "12th of 40 paragraphs"),
        (12, 40, "13th of 40 paragraphs"),
        (20, 40, "21st of 40 paragraphs"),
        (111, 140, "112th of 140 paragraphs"),
        (121, 140, "122nd of 140 paragraphs"),
        (4, None, "5th paragraph"),
    ],
)
def test_text_format_says_a_paragraphs_place_in_words(
    index: int, total: int | None, place: str
) -> None:
    from unclf.cli.common import place_in_words

    assert place_in_words(index, total) == place


def test_text_format_when_the_model_abstains_names_the_best_by_its_place() -> None:
    from unclf.cli.predict import _write_targets_text
    from unclf.documents import Document
    from unclf.model import RankedDocument
    from unclf.model.selector import ScoredParagraph
    from unclf.segmenter import Paragraph

    text = "Opening\n\n1. First.\n\n2. Second."
    paragraphs = [
        Paragraph(0, 0, 7, "Opening", None, "heading", None),
        Paragraph(1, 9, 18, "First.", "1", "paragraph", "Opening"),
        Paragraph(2, 20, 30, "Second.", "2", "paragraph", "Opening"),
    ]
    scored = [ScoredParagraph(paragraphs[i], score, False) for i, score in ((2, 0.2), (1, 0.1))]
    scored.append(ScoredParagraph(paragraphs[0], 0.0, False))
    out = io.StringIO()
    _write_targets_text(out, Document("d", text, "d.txt"), {LABEL: RankedDocument(scored)}, 0)
    assert out.getvalue() == (
        f"# d\n  {LABEL}: no paragraph found (the best, the 3rd of 3 paragraphs, scored 0.20)\n\n"
    )
    out = io.StringIO()
    _write_targets_text(out, Document("d", text, "d.txt"), {LABEL: RankedDocument(scored)}, 1)
    assert out.getvalue() == (
        f"# d\n  {LABEL}: 3rd of 3 paragraphs, score 0.20, not marked, line 5, chars 20-30, "
        "under 'Opening'\n  2. Second.\n\n"
    )


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_predict_text_format_counts_lines_of_any_ending(
    newline: str, model: Path, tmp_path: Path, capsys
) -> None:
    text = (UNLABELLED / "water-sanitation-belmira-clean.txt").read_text(encoding="utf-8")
    unix = tmp_path / "unix.txt"
    unix.write_bytes(text.encode())
    other = tmp_path / "other.txt"
    other.write_bytes(text.replace("\n", newline).encode())
    _, out, _ = run(capsys, "predict", unix, other, "--model", model, "--format", "text")
    lines = re.findall(r"score [\d.]+, (line \d+),", out)
    assert len(lines) == 2 and lines[0] == lines[1] and lines[0] != "line 1", out


def test_predict_stdin(model: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    path = UNLABELLED / "statelessness-flat.txt"
    _, from_file, _ = run(capsys, "predict", path, "--model", model)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(path.read_bytes())))
    code, out, _ = run(capsys, "predict", "-", "--model", model)
    assert code == 0
    [record] = records(out)
    assert record["id"] == "-"
    assert record["paragraphs"] == records(from_file)[0]["paragraphs"]


def test_predict_some_documents_fail(
    model: Path, mixed_folder: Path, jsonl_with_bad_line: Path, tmp_path: Path, capsys
) -> None:
    target = tmp_path / "out.jsonl"
    missing = tmp_path / "missing.txt"
    code, out, err = run(
        capsys,
        "predict",
        mixed_folder,
        missing,
        jsonl_with_bad_line,
        "--model",
        model,
        "-o",
        target,
    )
    assert code == 1 and out == ""
    got = records(target.read_text(encoding="utf-8"))
    assert [r["id"] for r in got] == [
        str(mixed_folder / "a-good.txt"),
        str(mixed_folder / "b-binary.txt"),
        str(mixed_folder / "c-empty.txt"),
        str(missing),
        "first",
        f"{jsonl_with_bad_line}:2",
        "third",
    ]
    assert [("error" in r) for r in got] == [False, True, True, True, False, True, False]
    assert all(r["paragraphs"] == [] for r in got if "error" in r)
    assert all(r["paragraphs"] for r in got if "error" not in r)
    lines = err.splitlines()
    assert len(lines) == 4
    for line, name in zip(
        lines, ("b-binary.txt", "c-empty.txt", "missing.txt", "in.jsonl:2"), strict=True
    ):
        assert name in line
    assert "Traceback" not in err


def test_predict_csv_gives_a_document_that_fails_a_row_with_why(
    model: Path, mixed_folder: Path, capsys
) -> None:
    import csv
    import io

    code, out, _ = run(capsys, "predict", mixed_folder, "--model", model, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 1
    assert [Path(r["id"]).name for r in rows] == ["a-good.txt", "b-binary.txt", "c-empty.txt"]
    assert rows[0]["error"] == "" and rows[0]["label"] == LABEL
    assert rows[1]["error"].startswith("binary file") and rows[1]["label"] == ""
    assert rows[2]["error"] == "empty file"


def test_evaluate(model: Path, capsys) -> None:
    code, out, err = run(capsys, "evaluate", EXAMPLES, "--model", model, "--json")
    assert code == 0, err
    assert f"all documents evaluated were used to train {model}" in err
    summary = json.loads(out)
    for key in ("hit@1", "mrr", "recall@5"):
        assert 0.0 <= summary[key] <= 1.0
    assert summary["hit@1"] <= summary["mrr"] <= summary["recall@5"]
    assert summary["hit@1"] >= 0.9  # the training data itself
    assert summary["documents"] == 22 and summary["label"] == LABEL
    code, out, _ = run(capsys, "evaluate", EXAMPLES, "--model", model)
    assert code == 0
    assert f"hit@1     {summary['hit@1']:.3f}" in out and "MRR" in out and "recall@5" in out


def test_evaluate_without_targets_is_valid_json(model: Path, tmp_path: Path, capsys) -> None:
    # The only document with a target is invalid and skipped: the means are undefined.
    data = tmp_path / "negatives.jsonl"
    data.write_text(
        json.dumps({"id": "n", "text": "1. Nothing here.\n\n2. Still nothing.\n"})
        + "\n"
        + json.dumps(
            {
                "id": "bad",
                "text": "1. Short.\n",
                "targets": [{"start": 0, "end": 999, "label": LABEL}],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "evaluate", data, "--model", model, "--json", "--skip-invalid")
    assert code == 1  # one document left out
    assert "used to train" not in err  # documents the model has not seen
    summary = json.loads(out, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
    assert summary["hit@1"] is None and summary["documents"] == 0


# --- the default model ------------------------------------------------------------------------


def test_predict_uses_unclf_model_env(model: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    path = UNLABELLED / "statelessness-flat.txt"
    _, explicit, _ = run(capsys, "predict", path, "--model", model)
    monkeypatch.setenv("UNCLF_MODEL", str(model))
    assert unclf.persistence.default_model_path() == model
    code, out, err = run(capsys, "predict", path)
    assert (code, err) == (0, f"unclf: using the model {model} ('{LABEL}')\n")
    assert out == explicit


def test_default_model_path_without_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UNCLF_MODEL", raising=False)
    assert unclf.persistence.default_model_path() == REPO / "models" / "default.unclf"
    monkeypatch.setenv("UNCLF_MODEL", "")
    assert unclf.persistence.default_model_path() == REPO / "models" / "default.unclf"


def test_predict_missing_default_model(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = tmp_path / "gone.unclf"
    monkeypatch.delenv("UNCLF_MODEL", raising=False)
    monkeypatch.setattr(unclf.persistence, "default_model_path", lambda: gone)
    code, out, err = run(capsys, "predict", UNLABELLED)
    assert_cannot_run(code, out, err, str(gone), "--model", "UNCLF_MODEL")

    monkeypatch.undo()
    monkeypatch.setenv("UNCLF_MODEL", str(gone))
    code, out, err = run(capsys, "predict", UNLABELLED)
    assert_cannot_run(code, out, err, str(gone), "UNCLF_MODEL")


# --- the command cannot run: exit 2, one line, no traceback --------------------------------


def test_predict_missing_model(tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, "predict", UNLABELLED, "--model", tmp_path / "nope.unclf")
    assert_cannot_run(code, out, err, "nope.unclf")


class _TouchOnLoad:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_predict_refuses_pickle_model(tmp_path: Path, capsys) -> None:
    marker = tmp_path / "marker"
    bad = tmp_path / "model.unclf"
    bad.write_bytes(pickle.dumps(_TouchOnLoad(marker)))
    code, out, err = run(capsys, "predict", UNLABELLED, "--model", bad)
    assert_cannot_run(code, out, err, str(bad), "pickle")
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_predict_refuses_damaged_model(damage: str, model: Path, tmp_path: Path, capsys) -> None:
    data = bytearray(model.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        middle = len(data) // 2
        data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    bad = tmp_path / "bad.unclf"
    bad.write_bytes(bytes(data))
    code, out, err = run(capsys, "predict", UNLABELLED, "--model", bad)
    assert_cannot_run(code, out, err, str(bad))


def test_predict_refuses_stale_model(model: Path, tmp_path: Path, capsys) -> None:
    """Like a model file from before a change to the fitted state: loads, cannot predict."""
    from unclf.persistence import load_model, save_model

    trained, metadata = load_model(model)
    stale = copy.deepcopy(trained)
    for name in [k for k in vars(stale[LABEL].featurizer_) if k.endswith("_")]:
        delattr(stale[LABEL].featurizer_, name)
    bad = tmp_path / "stale.unclf"
    save_model(stale, bad, training_data=metadata["training_data"])
    code, out, err = run(capsys, "predict", UNLABELLED, "--model", bad)
    assert_cannot_run(code, out, err, str(bad), "retrain")


@pytest.mark.parametrize("where", ["no-such-folder/m.unclf", "."])
def test_train_unwritable_model_out(where: str, tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, "train", EXAMPLES, "--model-out", tmp_path / where)
    assert_cannot_run(code, out, err, str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_train_without_targets(tmp_path: Path, capsys) -> None:
    data = tmp_path / "negatives.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"n{i}", "text": f"1. Plain text {i}.\n"}) + "\n" for i in range(3)
        ),
        encoding="utf-8",
    )
    code, out, err = run(capsys, "train", data, "--model-out", tmp_path / "m.unclf")
    assert_cannot_run(code, out, err, str(data), "no document has a target")
    assert not (tmp_path / "m.unclf").exists()


def test_train_empty_data(tmp_path: Path, capsys) -> None:
    data = tmp_path / "empty.jsonl"
    data.write_bytes(b"")
    code, out, err = run(capsys, "train", data, "--model-out", tmp_path / "m.unclf")
    assert_cannot_run(code, out, err, str(data))


def test_train_invalid_data_names_the_option(
    jsonl_with_bad_line: Path, tmp_path: Path, capsys
) -> None:
    code, out, err = run(capsys, "train", jsonl_with_bad_line, "--model-out", tmp_path / "m")
    assert code == 2 and out == "" and "Traceback" not in err
    assert "--skip-invalid" in err and f"{jsonl_with_bad_line}:2" in err


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_unknown_label_lists_the_labels(command: str, model: Path, tmp_path: Path, capsys) -> None:
    extra = ["--model-out", tmp_path / "m.unclf"] if command == "train" else ["--model", model]
    code, out, err = run(capsys, command, EXAMPLES, "--label", "no such label", *extra)
    assert_cannot_run(code, out, err, "'no such label'", repr(LABEL))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("command", ["segment", "predict"])
def test_documents_done_are_counted_on_a_terminal_only(
    command: str, model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = [command, str(UNLABELLED), "-o", str(tmp_path / "out.jsonl")]
    argv += ["--model", str(model)] if command == "predict" else []
    for terminal in (False, True):
        err = Terminal() if terminal else io.StringIO()
        monkeypatch.setattr(sys, "stderr", err)
        assert main(argv) == 0
        assert (f"{command}: " in err.getvalue()) == terminal, err.getvalue()


def test_data_with_several_labels_needs_label(tmp_path: Path, capsys) -> None:
    text = "1. The first paragraph.\n\n2. The second paragraph."
    rows = [("a", ["x", "y"]), ("b", ["x"]), ("c", [])]
    data = tmp_path / "data.jsonl"
    data.write_text(
        "".join(
            json.dumps(
                {"id": i, "text": text, "targets": [{"start": 0, "end": 5, "label": x} for x in xs]}
            )
            + "\n"
            for i, xs in rows
        ),
        encoding="utf-8",
    )
    code, out, err = run(capsys, "train", data, "--model-out", tmp_path / "m.unclf")
    assert_cannot_run(
        code, out, err, "choose with --label (several allowed) or --all-labels ('x' (2), 'y' (1))"
    )


def test_output_write_failure_is_one_line(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "doc.txt"
    path.write_text("1. Text.\n", encoding="utf-8")

    def full(*args: object) -> None:
        raise OSError(28, "No space left on device", str(tmp_path / "out.jsonl"))

    monkeypatch.setattr(os, "replace", full)
    code, out, err = run(capsys, "segment", path, "-o", tmp_path / "out.jsonl")
    assert_cannot_run(code, out, err, "No space left on device", "out.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.txt"]


# --- the options, as a newcomer reads them ----------------------------------------------------


def _subcommands() -> dict:
    import argparse

    from unclf.cli import build_parser

    [sub] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return sub.choices


def test_every_option_has_help_text() -> None:
    missing = [
        f"{name} {' '.join(a.option_strings) or a.dest}"
        for name, parser in _subcommands().items()
        for a in parser._actions
        if not a.help
    ]
    assert not missing


@pytest.mark.parametrize("option", ["--mode", "--skip-invalid", "--seed"])
def test_an_option_shared_by_commands_means_the_same_in_each(option: str) -> None:
    found = {
        name: (a.choices, a.default, a.type, a.help, type(a))
        for name, parser in _subcommands().items()
        for a in parser._actions
        if option in a.option_strings
    }
    assert len(found) >= 3 and len(set(found.values())) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["segment", EXAMPLES, "-o", "{missing}/out.jsonl"],
        ["predict", EXAMPLES, "--model", "{model}", "-o", "{missing}/out.jsonl"],
        ["train", EXAMPLES, "--model-out", "{missing}/m.unclf"],
        ["cv", EXAMPLES, "--report", "{missing}/errors.html"],
    ],
    ids=lambda argv: argv[0],
)
def test_one_message_for_a_missing_output_folder(
    argv: list, model: Path, tmp_path: Path, capsys
) -> None:
    missing = tmp_path / "no-such-folder"
    argv = [str(a).format(missing=missing, model=model) for a in argv]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.endswith(f": cannot write there: no folder {str(missing)!r}\n")


def test_one_paragraph_is_not_paragraphs(tmp_path: Path, capsys) -> None:
    path = tmp_path / "one.txt"
    path.write_text("A single short paragraph.\n", encoding="utf-8")
    code, out, _ = run(capsys, "segment", path, "--format", "text")
    assert code == 0
    assert f"# {path}: 1 paragraph\n" in out


def test_a_negative_seed_is_refused_before_anything_runs(capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["cv", str(EXAMPLES), "--seed", "-1"])
    assert stopped.value.code == 2
    assert "--seed: must be 0 or more, got -1" in capsys.readouterr().err


def test_train_searches_the_label_name_not_the_placeholder(tmp_path: Path, capsys) -> None:
    from unclf.persistence import load_model

    rows = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines()][:8]
    unnamed = tmp_path / "unnamed.jsonl"
    unnamed.write_text(
        "".join(
            json.dumps(
                {
                    "id": r["id"],
                    "text": r["text"],
                    "targets": [r["text"][t["start"] : t["end"]] for t in r["targets"]],
                }
            )
            + "\n"
            for r in rows
        ),
        encoding="utf-8",
    )
    cases = (
        (unnamed, [], "target", ""),
        (unnamed, ["--label", LABEL], LABEL, LABEL),  # --label names the unnamed targets
        (EXAMPLES, ["--label", LABEL], LABEL, LABEL),
    )
    for k, (data, label, name, searched) in enumerate(cases):
        out_model = tmp_path / f"{k}.unclf"
        code, _, err = run(capsys, "train", data, *label, "--model-out", out_model)
        assert code == 0, err
        [(got, model)] = load_model(out_model)[0].items()
        assert (got, model.target_name) == (name, searched)
