"""Many labels in one model: trained side by side, predicted in one pass, evaluated per label."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
import skops.io as sio
from test_cli import assert_cannot_run, records, run

from unclf.cli import main
from unclf.model import TargetSelector, fit_labels, rank_labels
from unclf.model.document_labels import DocumentLabeler
from unclf.persistence import load_model
from unclf.segmenter import segment

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "data" / "examples.jsonl"
UNLABELLED = REPO / "data" / "unlabelled"
LABEL = "regional cooperation"
OPENING = "opening"  # a second label the tests make: a report's paragraph 1


def with_opening_label() -> list[dict]:
    """The examples with a second label on each document's paragraph numbered 1."""
    rows = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        [first] = [p for p in segment(row["text"]) if p.number == "1"]
        row["targets"].append({"start": first.start, "end": first.end, "label": OPENING})
    return rows


@pytest.fixture(scope="module")
def two_labels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("labels") / "two-labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in with_opening_label()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def two_label_model(two_labels: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = tmp_path_factory.mktemp("labels-model") / "two.unclf"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        argv = ["train", str(two_labels), "--label", LABEL, "--label", OPENING]
        code = main([*argv, "--model-out", str(model)])
    assert code == 0
    assert "trained 2 labels on 24 documents" in out.getvalue()
    return model


def spans_of(rows: list[dict], label: str) -> list[list[tuple[int, int]]]:
    return [[(t["start"], t["end"]) for t in r["targets"] if t["label"] == label] for r in rows]


def test_labels_learnt_together_rank_as_labels_learnt_alone() -> None:
    rows = with_opening_label()
    texts = [r["text"] for r in rows]
    together = fit_labels(
        TargetSelector(n_jobs=2),
        texts,
        {label: spans_of(rows, label) for label in (LABEL, OPENING)},
    )
    assert together[LABEL].featurizer_ is together[OPENING].featurizer_
    new = [p.read_text(encoding="utf-8") for p in sorted(UNLABELLED.glob("*.txt"))]
    ranked = list(rank_labels(together, new))
    for label in (LABEL, OPENING):
        alone = TargetSelector(target_name=label).fit(texts, spans_of(rows, label))
        expected = [r.paragraphs for r in alone.rank(new)]
        got = [r[label].paragraphs for r in ranked]
        assert [[s.paragraph for s in r] for r in got] == [
            [s.paragraph for s in r] for r in expected
        ]
        scores = [s.score for r in got for s in r]
        assert scores == pytest.approx([s.score for r in expected for s in r], abs=1e-9)


def test_each_label_searches_its_own_name_unless_given_one() -> None:
    rows = with_opening_label()
    texts = [r["text"] for r in rows]
    targets = {label: spans_of(rows, label) for label in (LABEL, OPENING)}
    named = fit_labels(TargetSelector(), texts, targets)
    assert {label: m.target_name for label, m in named.items()} == {L: L for L in targets}
    assert named[LABEL].name_words_  # its words, weighed by their rarity
    unnamed = fit_labels(TargetSelector(target_name=""), texts, targets)
    assert all(m.target_name == "" and m.name_words_ == [] for m in unnamed.values())


def test_a_label_without_a_target_is_named() -> None:
    rows = with_opening_label()
    with pytest.raises(ValueError, match="'nothing': no paragraph holds a target"):
        fit_labels(
            TargetSelector(),
            [r["text"] for r in rows],
            {LABEL: spans_of(rows, LABEL), "nothing": [[] for _ in rows]},
        )


def test_model_file_holds_a_selector_per_label(two_label_model: Path) -> None:
    models, metadata = load_model(two_label_model)
    assert list(models) == list(metadata["labels"]) == [LABEL, OPENING]
    assert models[LABEL].featurizer_ is models[OPENING].featurizer_
    # Written once, with the first selector: skops held a copy per reference while saving.
    with zipfile.ZipFile(two_label_model) as z:
        payload = z.read("model.skops")
    stored = sio.loads(payload, trusted=sio.get_untrusted_types(data=payload))
    assert hasattr(stored[LABEL], "featurizer_") and not hasattr(stored[OPENING], "featurizer_")


def test_predict_writes_a_line_per_document_and_label(two_label_model: Path, capsys) -> None:
    code, out, err = run(capsys, "predict", UNLABELLED, "--model", two_label_model)
    assert (code, err) == (0, "")
    got = records(out)
    assert [r["label"] for r in got] == [LABEL, OPENING] * 3
    assert [r["id"] for r in got[::2]] == [r["id"] for r in got[1::2]]
    # Paragraph 1 of each document is the opening; the regional-cooperation one is elsewhere.
    for label_record, opening_record in zip(got[::2], got[1::2], strict=True):
        [opening] = [p for p in opening_record["paragraphs"] if p["is_target"]]
        [regional] = [p for p in label_record["paragraphs"] if p["is_target"]]
        assert opening["text"].startswith(("The present", "In its", "The Special"))
        assert opening["index"] != regional["index"]

    code, out, _ = run(
        capsys, "predict", UNLABELLED, "--model", two_label_model, "--label", OPENING
    )
    assert code == 0 and [r["label"] for r in records(out)] == [OPENING] * 3


def test_predict_refuses_a_label_the_model_lacks(two_label_model: Path, capsys) -> None:
    code, out, err = run(
        capsys, "predict", UNLABELLED, "--model", two_label_model, "--label", "Minorities"
    )
    assert_cannot_run(code, out, err, "has no label 'Minorities'", repr(OPENING))


def test_text_and_csv_group_by_document(two_label_model: Path, capsys) -> None:
    code, out, _ = run(
        capsys, "predict", UNLABELLED, "--model", two_label_model, "--format", "text"
    )
    assert code == 0
    blocks = out.split("# ")[1:]
    assert len(blocks) == 3
    for block in blocks:
        assert re.search(rf"  {LABEL}: \d+(st|nd|rd|th) of \d+ paragraphs, ", block), block
        assert re.search(rf"  {OPENING}: \d+(st|nd|rd|th) of \d+ paragraphs, ", block), block

    code, out, _ = run(capsys, "predict", UNLABELLED, "--model", two_label_model, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 6
    assert [r["label"] for r in rows] == [LABEL, OPENING] * 3
    assert all(r["is_target"] == "True" and r["text"] for r in rows)
    assert [r["number"] for r in rows if r["label"] == OPENING] == ["1"] * 3  # as the text shows

    code, out, _ = run(
        capsys, "predict", UNLABELLED, "--model", two_label_model, "--format", "csv", "--top-k", "2"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 12


def test_by_paragraph_lists_each_paragraphs_labels(two_label_model: Path, capsys) -> None:
    code, out, _ = run(capsys, "predict", UNLABELLED, "--model", two_label_model, "--by-paragraph")
    assert code == 0
    got = records(out)
    assert len(got) == 3
    for record in got:
        labels = sorted(x["label"] for p in record["paragraphs"] for x in p["labels"])
        assert labels == sorted([LABEL, OPENING])
        indexes = [p["index"] for p in record["paragraphs"]]
        assert indexes == sorted(indexes)
    code, out, _ = run(
        capsys,
        "predict",
        UNLABELLED,
        "--model",
        two_label_model,
        "--by-paragraph",
        "--format",
        "text",
    )
    assert code == 0
    for record, block in zip(got, out.split("# ")[1:], strict=True):
        places = re.findall(r"\n  (\d+)(?:st|nd|rd|th) of \d+ paragraphs, line \d+", block)
        assert [int(n) - 1 for n in places] == [p["index"] for p in record["paragraphs"]]
    code, out, _ = run(
        capsys, "predict", UNLABELLED, "--model", two_label_model, "--by-paragraph", "--top-k", "2"
    )
    assert code == 2


def test_evaluate_every_label(two_label_model: Path, two_labels: Path, capsys) -> None:
    code, out, err = run(capsys, "evaluate", two_labels, "--model", two_label_model)
    assert_cannot_run(code, out, err, "the model has 2 labels", "--all-labels")
    code, out, _ = run(
        capsys, "evaluate", two_labels, "--model", two_label_model, "--all-labels", "--json"
    )
    summary = json.loads(out)
    assert code == 0 and list(summary["labels"]) == [LABEL, OPENING]
    assert summary["mean"]["hit@1"] == pytest.approx(
        (summary["labels"][LABEL]["hit@1"] + summary["labels"][OPENING]["hit@1"]) / 2
    )
    code, out, _ = run(capsys, "evaluate", two_labels, "--model", two_label_model, "--all-labels")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4 and lines[-1].startswith("mean of 2 labels")


def test_train_all_labels_and_the_minimum(two_labels: Path, tmp_path: Path, capsys) -> None:
    code, out, err = run(
        capsys, "train", two_labels, "--all-labels", "--min-documents", "25",
        "--model-out", tmp_path / "m.unclf",
    )  # fmt: skip
    assert_cannot_run(code, out, err, "no label has 25 or more documents", "--min-documents")
    code, out, err = run(
        capsys, "train", two_labels, "--all-labels", "--min-documents", "23",
        "--model-out", tmp_path / "m.unclf",
    )  # fmt: skip
    assert code == 0, err
    assert list(load_model(tmp_path / "m.unclf")[0]) == [OPENING]  # 24 documents; LABEL 22


def test_unnamed_targets_with_several_labels_are_reported(tmp_path: Path, capsys) -> None:
    rows = with_opening_label()
    rows[0]["targets"].append(rows[0]["text"][:40])  # a string target: no label
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, _, err = run(
        capsys, "cv", data, "--all-labels", "--folds", "2", "--json", "--min-documents", "20"
    )
    assert code == 0
    assert "left out 1 target without a label" in err


def test_cv_every_label(two_labels: Path, capsys) -> None:
    code, out, _ = run(capsys, "cv", two_labels, "--all-labels", "--folds", "2")
    assert code == 0
    lines = out.splitlines()
    assert any(line.startswith(LABEL) for line in lines)
    assert any(line.startswith(OPENING) for line in lines)
    assert any(line.startswith("mean of 2 labels") for line in lines)
    code, out, err = run(capsys, "cv", two_labels, "--all-labels", "--report", "r.html")
    assert_cannot_run(code, out, err, "--report shows one paragraph label's documents")


# --- labels of whole documents ----------------------------------------------------------------

WATER = "The mission visited the {town} water plant and asked for daily testing of the supply."
FILLER = [
    "The Working Group met officials of the Ministry of Justice in {town}.",
    "It thanks the Government for its cooperation during the preparation of the report.",
    "The present report covers the period from January to December.",
    "Civil society organizations in {town} shared information with the mission.",
    "The Committee held three sessions during the period under review.",
]
TOWNS = ["Lorvik", "Ambera", "Tessin", "Varlo", "Queda", "Mornay", "Ilsk", "Padra"]


def water_documents(n: int) -> list[dict]:
    """Invented reports; every other one has a paragraph on water, its document label."""
    rows = []
    for i in range(n):
        town = TOWNS[i % len(TOWNS)]
        paragraphs = [f.format(town=town) for f in FILLER]
        if i % 2 == 0:
            paragraphs.insert(1 + i % 4, WATER.format(town=town))
        text = "\n\n".join(f"{k}. {p}" for k, p in enumerate(paragraphs, 1)) + "\n"
        rows.append({"id": f"r{i}", "text": text, "labels": ["water"] if i % 2 == 0 else []})
    return rows


def test_document_labeler_learns_a_label_of_whole_documents() -> None:
    rows = water_documents(40)
    labeler = DocumentLabeler().fit(
        [r["text"] for r in rows[:30]], [bool(r["labels"]) for r in rows[:30]]
    )
    decisions = labeler.decide([r["text"] for r in rows[30:]])
    assert [d.has_label for d in decisions] == [bool(r["labels"]) for r in rows[30:]]
    for decision in decisions:
        if decision.has_label:  # the paragraph that says so is the evidence
            assert "water plant" in decision.evidence.text


def test_document_labeler_refuses_one_class_and_one_string() -> None:
    with pytest.raises(ValueError, match="documents with the label and documents without"):
        DocumentLabeler().fit(["1. A.\n", "1. B.\n"], [True, True])
    with pytest.raises(ValueError, match="not one string"):
        DocumentLabeler().fit("1. A.\n\n2. B.\n", [True, False])


def test_document_labels_are_read_in_every_form(tmp_path: Path) -> None:
    from unclf.documents import InvalidDataError, read_labelled

    data = tmp_path / "d.jsonl"
    data.write_text(
        json.dumps({"id": "a", "text": "1. A.\n", "labels": ["x", "y"]})
        + "\n"
        + json.dumps({"id": "b", "text": "1. B.\n", "labels": "x"})
        + "\n"
        + json.dumps({"id": "c", "text": "1. C.\n", "labels": '["y"]'})
        + "\n",
        encoding="utf-8",
    )
    docs, _ = read_labelled(data)
    assert [d.labels for d in docs] == [("x", "y"), ("x",), ("y",)]
    data.write_text(json.dumps({"id": "a", "text": "1. A.\n", "labels": [1]}) + "\n")
    with pytest.raises(InvalidDataError, match="a: labels must be a list of label names"):
        read_labelled(data)


def test_commands_with_a_label_of_whole_documents(tmp_path: Path, capsys) -> None:
    rows = water_documents(30)
    data = tmp_path / "water.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows[:24]), encoding="utf-8")
    new = tmp_path / "new.jsonl"
    new.write_text("".join(json.dumps(r) + "\n" for r in rows[24:]), encoding="utf-8")
    model = tmp_path / "water.unclf"
    code, out, err = run(capsys, "train", data, "--all-labels", "--model-out", model)
    assert code == 0, err
    assert isinstance(load_model(model)[0]["water"], DocumentLabeler)

    code, out, _ = run(capsys, "predict", new, "--model", model)
    got = records(out)
    assert code == 0 and [r["label"] for r in got] == ["water"] * 6
    assert [r["has_label"] for r in got] == [bool(r["labels"]) for r in rows[24:]]
    assert all(0 <= r["score"] <= 1 and r["evidence"]["text"] for r in got)

    code, out, _ = run(capsys, "predict", new, "--model", model, "--format", "text")
    assert code == 0 and out.count("water (the whole document): yes") == 3
    # No label ranks every paragraph, so their number is unknown: the place alone.
    assert len(re.findall(r"\n  weighed most \(\d+(st|nd|rd|th) paragraph\): \w", out)) == 6, out

    code, out, _ = run(capsys, "predict", new, "--model", model, "--by-paragraph")
    assert code == 0 and [bool(r["labels"]) for r in records(out)] == [True, False] * 3

    code, out, _ = run(capsys, "evaluate", new, "--model", model, "--json")
    assert code == 0 and json.loads(out)["document_labels"]["water"]["accuracy"] == 1.0

    code, out, _ = run(capsys, "cv", data, "--all-labels", "--folds", "3", "--json")
    summary = json.loads(out)["document_labels"]["water"]
    assert code == 0 and set(summary) == {"unclf", "tfidf-lr"}
    assert summary["unclf"]["documents"] == 24
