"""The abstention benchmark replays the model's own threshold rule beside the others."""

from __future__ import annotations

import numpy as np
import pytest

from unclf.model.decisions import thresholds


def test_accuracy_is_the_model_s_rule_and_false_marks_leaves_its_share(benchmark_script):
    abstention = benchmark_script("abstention")
    rng = np.random.default_rng(0)
    sizes = rng.integers(3, 9, size=40)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    probability = rng.random(offsets[-1])
    labels = np.zeros(offsets[-1], dtype=np.int64)
    labels[offsets[:-1][:25]] = 1  # 25 documents with a target, 15 without
    best, held = abstention.best_per_document(probability, labels, offsets)
    assert held.sum() == 25
    assert abstention.accuracy(best, held) == pytest.approx(
        thresholds(probability, labels, offsets)[0]
    )
    threshold = abstention.false_marks(0.2)(best, held)
    assert np.mean(best[~held] > threshold) == pytest.approx(0.2, abs=1 / 15)


def test_judge_pools_abstained_marked_and_marked_right(benchmark_script):
    abstention = benchmark_script("abstention")
    # Two documents with a target (best 0.9 right, 0.3 wrong), two without (0.8, 0.1).
    test = np.array([[0.9, 1, 1], [0.3, 1, 0], [0.8, 0, 0], [0.1, 0, 0]], dtype=float)
    training = (np.array([0.9, 0.6, 0.2]), np.array([True, True, False]))
    unit = {"label": {"training": training, "threshold": 0.4, "test": test}}
    rows = abstention.judge([unit])
    # accuracy puts the threshold midway between 0.2 and 0.6: 0.4.
    assert rows["accuracy (unclf)"] == pytest.approx((0.5, 0.5, 0.5))
