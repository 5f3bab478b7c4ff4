"""What abstaining costs: documents without a target left unmarked against documents with one
that lose their mark, for several ways of setting the abstention threshold.

Run: python benchmarks/abstention.py [--data ../shared/data] [--sizes full,10] [--seeds 0]
    [--scores scores.pickle] [--markdown abstention.md]

The panel's labels, folds and draws (``benchmarks/panel.py``). Every model is fitted once; the
scores its threshold is learned from (each training document's best paragraph, scored out of
fold) and each test document's best score are kept (``--scores`` saves them; given an existing
file, only the rules are replayed). Each rule then sets a threshold from the training scores
alone and is judged on the test documents: the share of those without the target left unmarked
(*abstained*), of those with one still marked (*marked*), and of those marked on a paragraph
holding a target (*marked right*). ``accuracy`` is the model's own rule (checked against it);
the last row sets each label's threshold knowing its test documents, 90% of those without
the target left unmarked: what this score allows at best.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np
import panel  # the benchmark script beside this one: its corpora, labels and draws
from joblib import Parallel, delayed
from sklearn.metrics import roc_auc_score

import unclf.model.selector as selector_module
from unclf.evaluation import _draw
from unclf.metrics import score_document
from unclf.model import TargetSelector, document_folds, fit_labels
from unclf.model.decisions import thresholds


def run_fold(path: Path, labels: list[str], seed: int, k: int, size: int | None) -> dict:
    """Per label: the training best scores and targets, the model's threshold, and each test
    document's best score, whether it holds a target and whether the first choice is one."""
    learned = []

    def recording(probability, labels_, offsets):
        learned.append((probability.copy(), labels_.copy(), offsets.copy()))
        return thresholds(probability, labels_, offsets)

    selector_module.thresholds = recording  # the selector's own call, recorded
    parsed, targets = panel.read_parsed(path)
    train, test = document_folds([d.text for d in parsed], 3, seed)[k]
    by_label = {label: panel.spans_of(targets, label) for label in labels}
    if size is None:
        models = fit_labels(
            TargetSelector(random_state=seed, mode="multi"),
            [parsed[i] for i in train],
            {label: [by_label[label][i] for i in train] for label in labels},
        )
        recorded = dict(zip(labels, learned, strict=True))
    else:
        models, recorded = {}, {}
        for label in labels:
            draw = _draw(train, by_label[label], size, np.random.default_rng([seed, 0, k]))
            models[label] = TargetSelector(random_state=seed, mode="multi", target_name=label)
            models[label].fit([parsed[i] for i in draw], [by_label[label][i] for i in draw])
            recorded[label] = learned[-1]
    out = {}
    for label, model in models.items():
        tested = []
        for ranked, i in zip(model.rank([parsed[j] for j in test]), test, strict=True):
            gold = by_label[label][i]
            spans = [(p.paragraph.start, p.paragraph.end) for p in ranked.paragraphs]
            best = max((p.score for p in ranked.paragraphs), default=0.0)
            tested.append((best, bool(gold), bool(gold) and score_document(spans, gold).hit_at_1))
        out[label] = {
            "training": best_per_document(*recorded[label]),
            "threshold": model.abstain_threshold_,
            "test": np.array(tested, dtype=float),
        }
    return out


def best_per_document(
    probability: np.ndarray, labels: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n = len(offsets) - 1
    best = np.array([probability[offsets[i] : offsets[i + 1]].max(initial=0.0) for i in range(n)])
    held = np.array([labels[offsets[i] : offsets[i + 1]].any() for i in range(n)], dtype=bool)
    return best, held


def accuracy(best: np.ndarray, held: np.ndarray) -> float:
    """The model's own rule (``unclf.model.decisions.thresholds``), given one row per document:
    most training documents decided right, or, with no document lacking a target, all but the
    lowest ``UNSEEN_MISS_RATE`` of them marked."""
    return thresholds(best, held.astype(np.int64), np.arange(len(best) + 1))[0]


def _one_class_as_the_model(rule):
    """A rule that needs training documents without a target; without any, the model's."""

    def with_fallback(best: np.ndarray, held: np.ndarray) -> float:
        return accuracy(best, held) if held.all() else rule(best, held)

    with_fallback.__doc__ = rule.__doc__
    return with_fallback


@_one_class_as_the_model
def balanced(best: np.ndarray, held: np.ndarray) -> float:
    """Documents with and without a target weigh the same, however many of each."""
    candidates = np.unique(np.concatenate([[0.0], best]))
    right = [np.mean(best[held] >= t) + np.mean(best[~held] < t) for t in candidates]
    i = int(np.argmax(right))
    return float((candidates[i - 1] + candidates[i]) / 2) if i > 0 else 0.0  # as the model


def false_marks(share: float):
    @_one_class_as_the_model
    def rule(best: np.ndarray, held: np.ndarray) -> float:
        """Leave unmarked all but ``share`` of the training documents without a target."""
        return float(np.quantile(best[~held], 1 - share))

    return rule


RULES = {
    "accuracy (unclf)": accuracy,
    "balanced accuracy": balanced,
    "10% false marks": false_marks(0.10),
    "20% false marks": false_marks(0.20),
}


def judge(units: list[dict]) -> dict[str, tuple[float, float, float]]:
    """Per rule: abstained, marked, marked right, pooled over labels and folds."""
    rows = {}
    for name, rule in [*RULES.items(), ("set on the test documents for 90% abstained", None)]:
        counts = np.zeros(5)
        for out in units:
            for entry in out.values():
                score, held, right = entry["test"].T
                held = held.astype(bool)
                if rule is None:
                    if held.all() or not (~held).any():
                        continue
                    threshold = np.quantile(score[~held], 0.9)
                    marked = score > threshold
                else:
                    threshold = rule(*entry["training"])
                    if rule is accuracy:
                        assert np.isclose(threshold, entry["threshold"]), "not the model's rule"
                    marked = score >= threshold
                counts += [
                    np.sum(~marked & ~held),
                    np.sum(~held),
                    np.sum(marked & held),
                    np.sum(marked & (right > 0)),
                    np.sum(held),
                ]
        rows[name] = (counts[0] / counts[1], counts[2] / counts[4], counts[3] / counts[4])
    return rows


def separation(units: list[dict]) -> float:
    """How well the best score tells documents with the target from those without: the area
    under the ROC curve, mean over labels and folds with at least 5 of each."""
    areas = []
    for out in units:
        for entry in out.values():
            score, held = entry["test"][:, 0], entry["test"][:, 1].astype(bool)
            if held.sum() >= 5 and (~held).sum() >= 5:
                areas.append(roc_auc_score(held, score))
    return float(np.mean(areas))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "unclf-panel")
    parser.add_argument("--sizes", default="full,10")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--scores", type=Path, help="keep the scores here, or replay them")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    if args.scores and args.scores.exists():
        results = pickle.loads(args.scores.read_bytes())
    else:
        if not args.data.exists():
            sys.exit(f"abstention: no benchmark data at {args.data}")
        sizes = [None if s == "full" else int(s) for s in args.sizes.split(",")]
        seeds = [int(s) for s in args.seeds.split(",")]
        paths = {c: panel.parsed_corpus(args.data, c, args.cache) for c in ("upr", "cuad")}
        labels = {c: panel.panel_labels(panel.read_parsed(p)[1], 30) for c, p in paths.items()}
        units = [(c, s, k, z) for z in sizes for c in paths for s in seeds for k in range(3)]
        outs = Parallel(n_jobs=args.jobs)(
            delayed(run_fold)(paths[c], labels[c], s, k, z) for c, s, k, z in units
        )
        results = [(c, z, out) for (c, _, _, z), out in zip(units, outs, strict=True)]
        if args.scores:
            args.scores.write_bytes(pickle.dumps(results))
    lines = [
        "| training documents | collection | threshold | abstained without target | "
        "marked with target | marked right |",
        "|---|---|---|---|---|---|",
    ]
    for size in dict.fromkeys(z for _, z, _ in results):
        for corpus in dict.fromkeys(c for c, _, _ in results):
            units = [out for c, z, out in results if c == corpus and z == size]
            for name, (abstained, marked, right) in judge(units).items():
                lines.append(
                    f"| {'all' if size is None else size} | {corpus} | {name} | {abstained:.0%} | "
                    f"{marked:.0%} | {right:.0%} |"
                )
    lines += ["", "| training documents | collection | best score's ROC area |", "|---|---|---|"]
    for size in dict.fromkeys(z for _, z, _ in results):
        for corpus in dict.fromkeys(c for c, _, _ in results):
            units = [out for c, z, out in results if c == corpus and z == size]
            lines.append(
                f"| {'all' if size is None else size} | {corpus} | {separation(units):.2f} |"
            )
    table = "\n".join(lines) + "\n"
    print(table)
    if args.markdown:
        args.markdown.write_text(table)


if __name__ == "__main__":
    main()
