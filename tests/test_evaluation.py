"""Cross-validation, baselines, learning curve and the error report, on the invented examples."""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from unclf.baselines import REFERENCE, FirstParagraph, default_baselines
from unclf.cli import main
from unclf.documents import read_labelled
from unclf.evaluation import (
    CrossValidation,
    DocumentOutcome,
    ParagraphView,
    cross_validate,
    learning_curve,
)
from unclf.formats import Layout, Line
from unclf.metrics import hits
from unclf.model import TargetSelector, document_folds, parse_documents
from unclf.report import plot_learning_curve, render_report

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "examples.jsonl"
LABEL = "regional cooperation"


@pytest.fixture(scope="module")
def task() -> tuple[list, list, list[str]]:
    docs, _ = read_labelled(EXAMPLES, label=LABEL)
    parsed = list(parse_documents([d.text for d in docs]))
    return parsed, [[(t.start, t.end) for t in d.targets] for d in docs], [d.id for d in docs]


@pytest.fixture(scope="module")
def cv(task) -> CrossValidation:
    parsed, targets, ids = task
    return cross_validate(parsed, targets, ids=ids, folds=3, seed=0)


# --- folds ----------------------------------------------------------------------------------


def test_folds_partition_the_documents_and_keep_duplicates_together() -> None:
    texts = [f"document {i}" for i in range(10)] + ["document 3", "document 7"]
    splits = document_folds(texts, 4, seed=1)
    tested = np.concatenate([test for _, test in splits])
    assert sorted(tested) == list(range(len(texts)))  # every document tested exactly once
    for train, test in splits:
        assert not set(train) & set(test)
        assert len(train) + len(test) == len(texts)
        # A duplicate sits in the same fold as its twin, never on the other side.
        assert {texts[i] for i in train}.isdisjoint({texts[i] for i in test})
    again = document_folds(texts, 4, seed=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, again, strict=True))
    other = document_folds(texts, 4, seed=2)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(splits, other, strict=True))


@pytest.mark.parametrize("n_folds", [1, 4])
def test_folds_refuse_impossible_splits(n_folds: int) -> None:
    with pytest.raises(ValueError, match="folds"):
        document_folds(["a", "b", "b", "c"], n_folds)


def test_no_document_is_trained_on_in_the_fold_that_tests_it(task, monkeypatch) -> None:
    parsed, targets, ids = task
    trained_on: list[set[str]] = []
    original_fit = TargetSelector.fit

    def spy(self, X, y, progress=False):
        trained_on.append({d.text for d in X})
        return original_fit(self, X, y, progress)

    monkeypatch.setattr(TargetSelector, "fit", spy)
    result = cross_validate(parsed, targets, ids=ids, folds=3, seed=5, baselines={})
    by_id = {i: d.text for i, d in zip(ids, parsed, strict=True)}
    assert len(trained_on) == 3
    assert sorted(d.id for d in result.documents) == sorted(ids)
    for outcome in result.documents:
        assert by_id[outcome.id] not in trained_on[outcome.fold]


# --- cross-validation -----------------------------------------------------------------------


def test_same_seed_same_numbers(task, cv) -> None:
    parsed, targets, ids = task
    again = cross_validate(parsed, targets, ids=ids, folds=3, seed=0)
    assert json.dumps(again.to_dict()) == json.dumps(cv.to_dict())


def test_json_has_the_promised_keys(cv) -> None:
    data = json.loads(json.dumps(cv.to_dict(), allow_nan=False))
    for key in ("hit@1", "mrr", "recall@5", "precision", "recall", "f1", "abstention_rate"):
        assert key in data
    assert len(data["folds"]) == 3
    assert set(data["baselines"]) == set(default_baselines())
    assert all(0.0 <= b["hit@1"] <= 1.0 for b in data["baselines"].values())
    assert all(set(f["baselines"]) == set(default_baselines()) for f in data["folds"])
    assert sum(f["test_documents"] for f in data["folds"]) == data["settings"]["documents"]


def test_summary_agrees_with_the_documents(task, cv) -> None:
    _, targets, _ = task
    with_target = [d for d in cv.documents if d.hit is not None]
    assert cv.summary["documents"] == len(with_target) == sum(1 for t in targets if t)
    assert cv.summary["hit@1"] == pytest.approx(np.mean([d.hit for d in with_target]))
    assert len(cv.misses) == sum(1 for d in with_target if not d.hit)
    without = [d for d in cv.documents if d.hit is None]
    assert cv.summary["abstained_without_target"] == sum(d.marked == 0 for d in without)
    low, high = cv.summary["hit@1_ci95"]
    assert low <= cv.summary["hit@1"] <= high
    bands = cv.summary["hit@1_by_score"]
    assert sum(b["documents"] for b in bands) == len(with_target)
    band_hits = sum(b["hit@1"] * b["documents"] for b in bands if b["documents"])
    assert band_hits == pytest.approx(sum(d.hit for d in with_target))


def test_first_paragraph_baseline_is_scored_like_the_model(task, cv) -> None:
    parsed, targets, _ = task
    expected = np.mean(
        [
            bool(hits(d.paragraphs[0].start, d.paragraphs[0].end, t))
            for d, t in zip(parsed, targets, strict=True)
            if t
        ]
    )
    assert cv.baselines["first-paragraph"]["hit@1"] == pytest.approx(expected)


def test_a_fold_without_training_target_is_refused(task) -> None:
    parsed, targets, _ = task
    only_one = [t if i == 0 else [] for i, t in enumerate(targets)]
    with pytest.raises(ValueError, match="has a target"):
        cross_validate(parsed, only_one, folds=3, baselines={})


def test_train_size_draws_from_the_training_part(task) -> None:
    parsed, targets, _ = task
    result = cross_validate(
        parsed, targets, folds=3, train_size=4, baselines={"first": FirstParagraph()}
    )
    assert [f["train_documents"] for f in result.folds] == [4, 4, 4]
    with pytest.raises(ValueError, match="training size 17"):
        cross_validate(parsed, targets, folds=3, train_size=17, baselines={})


# --- learning curve -------------------------------------------------------------------------


def test_learning_curve_shape_and_plot(task, tmp_path: Path) -> None:
    parsed, targets, _ = task
    baselines = {"first-paragraph": FirstParagraph(), REFERENCE: default_baselines()[REFERENCE]}
    curve = learning_curve(parsed, targets, [3, 6], folds=3, repeats=2, baselines=baselines)
    json.dumps(curve, allow_nan=False)
    assert [p["size"] for p in curve["points"]] == [3, 6]
    for point in curve["points"]:
        for spread in [point["model"], *point["baselines"].values()]:
            assert len(spread["draws"]) == 3 * 2
            assert spread["min"] <= spread["mean"] <= spread["max"]
    assert curve["best_baseline"] == max(
        baselines, key=lambda n: np.mean([p["baselines"][n]["mean"] for p in curve["points"]])
    )
    png = tmp_path / "curve.png"
    plot_learning_curve(curve, png, "test")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- report ---------------------------------------------------------------------------------


class _Articles(HTMLParser):
    """Text of each <article>, split by its gold and chosen columns."""

    def __init__(self) -> None:
        super().__init__()
        self.articles: list[dict] = []
        self.column: str | None = None
        self.tables = 0
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        self.tags.append(tag)
        cls = dict(attrs).get("class", "")
        if tag == "article":
            self.articles.append({"class": cls, "id": dict(attrs)["id"], "gold": "", "chosen": ""})
        if tag == "div" and cls in ("gold", "chosen"):
            self.column = cls
        if tag == "table":
            self.tables += 1

    def handle_data(self, data: str) -> None:
        if self.column and self.articles:
            self.articles[-1][self.column] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self.column = None


def test_report_shows_every_missed_document_side_by_side(cv) -> None:
    page = render_report(cv, "examples")
    parser = _Articles()
    parser.feed(page)
    assert parser.tables == 4
    assert f"{cv.summary['hit@1']:.3f}" in page
    for band in cv.summary["hit@1_by_score"]:
        assert f"<td>{band['scores']}</td><td>{band['documents']}</td>" in page
    missed = [a for a in parser.articles if a["class"] == "miss"]
    assert [a["id"] for a in missed] == [f"doc-{d.id}" for d in cv.misses]
    assert missed, "the examples give at least one miss with 3 folds"
    for article, doc in zip(missed, cv.misses, strict=True):
        assert doc.chosen.text in article["chosen"]
        assert f"score {doc.chosen.score:.3f}" in article["chosen"]
        for g in doc.gold:
            assert g.text in article["gold"]
            assert f"paragraph {g.index + 1} of {doc.n_paragraphs}" in article["gold"]


def one_document(doc: DocumentOutcome) -> CrossValidation:
    """A cross-validation of one missed document, for what the report makes of it."""
    summary = {
        "hit@1": 0.0, "mrr": 0.0, "recall@5": 0.0, "documents": 1, "chosen_chars_median": 20.0,
        "gold_chars_median": 10.0, "hit@1_ci95": [0.0, 0.79], "hit@1_fold_std": math.nan,
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "documents_without_target": 0,
        "abstained_without_target": 0,
        "hit@1_by_score": [{"scores": "0.0-1.0", "documents": 1, "hit@1": 0.0}],
    }  # fmt: skip
    settings = {"n_folds": 2, "seed": 0, "mode": "single", "documents": 1}
    return CrossValidation(summary, [], {}, settings, [doc])


def test_report_escapes_document_text() -> None:
    view = ParagraphView(0, 0, 20, "<script>x()</script>", "<b>S</b>", 0.5, 0, True)
    doc = DocumentOutcome("<id>", 0, 3, 60, False, view, (), ("<i>gold</i>",), 1, 0, 1, 0)
    page = render_report(one_document(doc), "t")
    parser = _Articles()
    parser.feed(page)
    assert "script" not in parser.tags and "i" not in parser.tags
    assert "<script>x()</script>" in parser.articles[0]["chosen"]
    assert "<i>gold</i>" in parser.articles[0]["gold"]


def test_report_gives_the_page_of_a_pdf_paragraph() -> None:
    view = ParagraphView(1, 20, 40, "Gold text.", None, 0.5, 0, True)
    doc = DocumentOutcome("r.pdf", 0, 3, 60, False, view, (view,), (), 1, 0, 1, 0)
    layout = Layout((Line(0, 19, 1, 0, 0, 10, 10), Line(20, 40, 2, 0, 0, 10, 10)))
    page = render_report(one_document(doc), "t", {"r.pdf": layout})
    assert "page 2 · paragraph 2 of 3" in page
    assert "page 2" not in render_report(one_document(doc), "t")


# --- command line ---------------------------------------------------------------------------


def test_cv_command_json_and_report(tmp_path: Path, capsys) -> None:
    report = tmp_path / "errors.html"
    code = main(["cv", str(EXAMPLES), "--folds", "3", "--json", "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    assert {"hit@1", "mrr", "recall@5", "folds", "baselines"} <= set(data)
    assert data["settings"]["seed"] == 0
    parser = _Articles()
    parser.feed(report.read_text(encoding="utf-8"))
    assert len([a for a in parser.articles if a["class"] == "miss"]) == round(
        data["documents"] * (1 - data["hit@1"])
    )


def test_cv_says_plainly_which_baseline_beats_unclf(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import unclf.evaluation

    assert main(["cv", str(EXAMPLES), "--folds", "2", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    beaten_by = {n for n, b in figures["baselines"].items() if b["hit@1"] > figures["hit@1"]}
    assert beaten_by  # on these 24 documents and 2 folds, longest-paragraph finds more
    assert main(["cv", str(EXAMPLES), "--folds", "2"]) == 0
    [note] = [
        line
        for line in capsys.readouterr().out.splitlines()
        if "a baseline finds more targets than unclf" in line
    ]
    named = {name for name in figures["baselines"] if f" {name} (" in note}
    assert named == beaten_by

    def best_unclf(*args, **kwargs):
        cv = cross_validate(*args, **kwargs)
        cv.summary["hit@1"] = 1.0
        return cv

    monkeypatch.setattr(unclf.evaluation, "cross_validate", best_unclf)
    assert main(["cv", str(EXAMPLES), "--folds", "2"]) == 0
    assert "a baseline finds more targets" not in capsys.readouterr().out


def test_learning_curve_command(tmp_path: Path, capsys) -> None:
    png = tmp_path / "lc.png"
    code = main(
        ["learning-curve", str(EXAMPLES), "--sizes", "4", "--folds", "3", "--plot", str(png)]
    )
    out = capsys.readouterr().out
    assert code == 0 and png.stat().st_size > 0
    assert "4 documents: unclf" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["learning-curve", str(EXAMPLES), "--sizes", "5,99", "--folds", "3"], "training size"),
        (["cv", str(EXAMPLES), "--report", "no-such-folder/errors.html"], "cannot write there"),
        (["learning-curve", str(EXAMPLES), "--sizes", "5", "--plot", "no-such/c.png"], "no folder"),
    ],
)
def test_impossible_settings_are_one_line(argv: list[str], message: str, capsys) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_baselines_rank_many_labels_as_they_rank_one():
    from sklearn.base import clone

    from unclf.baselines import TfidfLogistic, TfidfSimilarity, rank_labels
    from unclf.documents import read_labelled
    from unclf.model import parse_documents

    docs, _ = read_labelled(Path(__file__).resolve().parents[1] / "data" / "examples.jsonl")
    parsed = list(parse_documents([d.text for d in docs]))
    first = [[(t.start, t.end) for t in d.targets][:1] for d in docs]
    every = [[(t.start, t.end) for t in d.targets] for d in docs]
    for baseline in (TfidfLogistic(), TfidfLogistic(naive=True), TfidfSimilarity()):
        together = rank_labels(
            baseline, parsed[:15], {"a": first[:15], "b": every[:15]}, parsed[15:]
        )
        for name, targets in (("a", first), ("b", every)):
            alone = clone(baseline).fit(parsed[:15], targets[:15])
            assert together[name] == [alone.rank(doc) for doc in parsed[15:]]
