"""The label panel benchmark counts what cross-validation counts, on the same folds."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from unclf.documents import read_labelled
from unclf.evaluation import cross_validate
from unclf.model import parse_documents

ROOT = Path(__file__).resolve().parent.parent
LABEL = "regional cooperation"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    docs, errors = read_labelled(ROOT / "data" / "examples.jsonl")
    assert not errors
    parsed = list(parse_documents([d.text for d in docs]))
    targets = [[(t.start, t.end, t.label) for t in d.targets] for d in docs]
    path = tmp_path_factory.mktemp("panel") / "examples.pickle"
    path.write_bytes(pickle.dumps((parsed, targets)))
    return path, parsed, targets


def test_panel_hit_at_1_is_cross_validation_s_for_the_model_and_every_baseline(
    corpus, benchmark_script
):
    panel = benchmark_script("panel")
    path, parsed, targets = corpus
    assert panel.panel_labels(targets, 20) == [LABEL] and panel.panel_labels(targets, 23) == []
    folds = [panel.run_fold(path, [LABEL], 3, 0, k, None, {}) for k in range(3)]
    summary = panel.summarize_panel(folds, [LABEL])
    row = summary["labels"][LABEL]
    spans = panel.spans_of(targets, LABEL)
    cv = cross_validate(parsed, spans, folds=3, seed=0)
    assert row["unclf"] == pytest.approx(cv.summary["hit@1"])
    for name, result in cv.baselines.items():
        assert row["hit@1"][name] == pytest.approx(result["hit@1"])
    best = max(cv.baselines, key=lambda name: cv.baselines[name]["hit@1"])
    assert row["lead"] == pytest.approx(cv.summary["hit@1"] - cv.baselines[best]["hit@1"])
    assert row["without_target"] == sum(1 for s in spans if not s)
    assert 0 <= row["unmarked_with_target"] <= row["documents"]
    assert summary["marked_with_target"] == 1 - row["unmarked_with_target"] / row["documents"]
    assert summary["below"] == int(row["lead"] < 0)


def test_marking_counts_marked_right_targets_and_targets_found(benchmark_script):
    panel = benchmark_script("panel")
    marked = [[(0, 10), (20, 30)], [], [(5, 8)]]
    gold = [[(0, 10), (40, 50)], [(0, 4)], []]
    # Document 1: two marked, one right, 2 targets, 1 found; 2: a target missed; 3: a false mark.
    assert panel.marking(marked, gold) == [3, 1, 3, 1]
    scores = panel.f1_of(np.array([3, 1, 3, 1]))
    assert scores["precision"] == pytest.approx(1 / 3) and scores["recall"] == pytest.approx(1 / 3)
