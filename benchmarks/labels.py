"""Many labels in one model: training and prediction time, memory and hit@1 against one by one.

Run: python benchmarks/labels.py [--data ../shared/data] [--parts speed,commands,documents]
[--alone 10] [--json]

On the UPR dev reports, every label with at least ``--min-documents`` documents:
- ``speed``: training them together (``fit_labels``: parsed and featurized once, the labels
  fitted side by side on 2 processes) against training them one by one (``TargetSelector.fit``
  per label, parsing included), in this process, on the training part of a seeded 2/3
  document split. One by one is timed on ``--alone`` labels drawn with the seed (``all``: every
  label) and scaled to all labels by their mean;
- hit@1 of each of those labels on the held-out third, learnt together and learnt alone;
- predicting every label in one pass over all the reports against predicting one label;
- ``commands``: training as a user runs it, on all the reports: one ``unclf train
  --all-labels`` against one ``unclf train --label`` per label (the ``--alone`` labels, scaled
  to all), each command in its own process, and their peak memory (the largest process, as the
  kernel reports it);
- ``documents``: labels of whole documents, "the report has a recommendation of this issue",
  for every label with at least ``--min-documents`` documents with it and without it: accuracy
  and F1 of unclf's document labeler and of a TF-IDF + logistic regression document classifier,
  3-fold document cross-validation, the same folds.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from unclf.evaluation import cross_validate_document_labels
from unclf.model import (
    TargetSelector,
    document_folds,
    fit_labels,
    rank_labels,
    ranking_summary,
)

# Starts ``unclf`` and prints its peak resident kB and exit status: a child forked straight from
# this process would report this process's own (large) peak, which Linux carries over on exec.
_LAUNCH = (
    "import os, sys\n"
    "argv = [sys.executable, '-m', 'unclf.cli', *sys.argv[1:]]\n"
    "_, status, usage = os.wait4(os.posix_spawn(sys.executable, argv, os.environ), 0)\n"
    "print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))\n"
)


def load(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def peak_of(argv: list[str]) -> dict:
    """``unclf *argv`` in its own process: wall seconds and peak resident MB."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCH, *argv], capture_output=True, text=True, check=True
    )
    peak_kb, code = (int(v) for v in done.stdout.split()[-2:])
    if code != 0:
        raise SystemExit(f"unclf {argv[0]} exited {code}: {done.stderr[-500:]}")
    return {"seconds": time.perf_counter() - t0, "peak_mb": peak_kb / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--min-documents", type=int, default=30)
    parser.add_argument("--alone", default="10", help="labels trained one by one, or 'all'")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--parts", default="speed,commands,documents", help="some of speed, commands, documents"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    source = args.data / "upr-dev.jsonl.gz"
    docs = load(source)
    texts = [d["text"] for d in docs]
    counts = Counter(label for d in docs for label in {t["label"] for t in d["targets"]})
    labels = sorted(label for label, n in counts.items() if n >= args.min_documents)
    by_label = {
        label: [[(t["start"], t["end"]) for t in d["targets"] if t["label"] == label] for d in docs]
        for label in labels
    }
    parts = set(args.parts.split(","))
    result: dict = {"labels": len(labels), "documents": len(docs)}
    if "documents" in parts:
        result["document_labels"] = document_labels(texts, by_label, args)
    if "speed" in parts:
        result.update(speed(texts, labels, by_label, args))
    if "commands" in parts:
        result["commands"] = commands(source, labels, drawn(labels, args), args)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    report(result, labels)


def document_labels(texts: list[str], by_label: dict, args: argparse.Namespace) -> dict:
    """Accuracy and F1 per label of whole documents, unclf and tfidf-lr, and their means."""
    has = {label: [bool(spans) for spans in y] for label, y in by_label.items()}
    kept = {
        label: values
        for label, values in has.items()
        if min(sum(values), len(values) - sum(values)) >= args.min_documents
    }
    rows = cross_validate_document_labels(texts, kept, folds=3, seed=args.seed)
    means = {
        method: {
            metric: float(np.mean([r[method][metric] for r in rows.values()]))
            for metric in ("accuracy", "f1")
        }
        for method in ("unclf", "tfidf-lr")
    }
    return {"per_label": rows, "mean": means, "labels": len(rows)}


def drawn(labels: list[str], args: argparse.Namespace) -> list[str]:
    """The labels also trained one by one (``--alone``), drawn with the seed."""
    if args.alone == "all":
        return labels
    rng = np.random.default_rng(args.seed)
    return sorted(
        str(x) for x in rng.choice(labels, min(int(args.alone), len(labels)), replace=False)
    )


def speed(texts: list[str], labels: list[str], by_label: dict, args) -> dict:
    train, test = document_folds(texts, 3, args.seed)[0]
    train_texts, test_texts = [texts[i] for i in train], [texts[i] for i in test]
    train_targets = {label: [y[i] for i in train] for label, y in by_label.items()}
    alone = drawn(labels, args)
    selector = TargetSelector(n_jobs=2, random_state=args.seed)
    print(
        f"{len(labels)} labels with >= {args.min_documents} of {len(texts)} documents; training on "
        f"{len(train)}, testing on {len(test)}; {len(alone)} labels also one by one",
        file=sys.stderr,
    )

    t0 = time.perf_counter()
    together = fit_labels(selector, train_texts, train_targets)
    together_seconds = time.perf_counter() - t0
    ranked = list(rank_labels({label: together[label] for label in alone}, test_texts))
    rows = {}
    for label in alone:
        t0 = time.perf_counter()
        model = TargetSelector(n_jobs=2, random_state=args.seed, target_name=label).fit(
            train_texts, train_targets[label]
        )
        seconds = time.perf_counter() - t0
        gold = [by_label[label][i] for i in test]
        rows[label] = {
            "seconds_alone": seconds,
            "hit@1_alone": model.evaluate(test_texts, gold)["hit@1"],
            "hit@1_together": ranking_summary((r[label] for r in ranked), gold)["hit@1"],
        }
        print(f"  {label}: {rows[label]}", file=sys.stderr)
    alone_seconds = float(np.mean([r["seconds_alone"] for r in rows.values()])) * len(labels)
    differences = [abs(r["hit@1_alone"] - r["hit@1_together"]) for r in rows.values()]

    # Prediction: every label in one pass over all the reports, against one label.
    t0 = time.perf_counter()
    for _ in rank_labels(together, texts):
        pass
    all_predict = time.perf_counter() - t0
    one = {labels[0]: together[labels[0]]}
    t0 = time.perf_counter()
    for _ in rank_labels(one, texts):
        pass
    one_predict = time.perf_counter() - t0

    result = {
        "train_documents": len(train),
        "train_together_seconds": together_seconds,
        "train_one_by_one_seconds_scaled": alone_seconds,
        "train_ratio": together_seconds / alone_seconds,
        "labels_timed_one_by_one": len(alone),
        "hit@1_max_difference": max(differences),
        "per_label": rows,
        "predict_all_labels_seconds": all_predict,
        "predict_one_label_seconds": one_predict,
        "predict_ratio": all_predict / one_predict,
    }
    return result


def commands(source: Path, labels: list[str], alone: list[str], args) -> dict:
    """Training as a user runs it, on all the reports: one ``unclf train --all-labels`` against
    one ``unclf train --label`` per label (the ``alone`` labels, scaled to all), each command in
    its own process, start-up, reading and writing the model file included; and their peak
    memory (against the median one-label command's)."""
    with tempfile.TemporaryDirectory() as tmp:
        common = [str(source), "--jobs", "2", "--seed", str(args.seed)]
        every = ["--all-labels", "--min-documents", str(args.min_documents)]
        many = peak_of(["train", *common, *every, "--model-out", os.path.join(tmp, "all.unclf")])
        print(f"  unclf train --all-labels: {many}", file=sys.stderr)
        one = {}
        for k, label in enumerate(alone):
            model = os.path.join(tmp, f"{k}.unclf")
            one[label] = peak_of(["train", *common, "--label", label, "--model-out", model])
            print(f"  unclf train --label {label!r}: {one[label]}", file=sys.stderr)
    one_seconds = float(np.mean([r["seconds"] for r in one.values()])) * len(labels)
    one_peak = float(np.median([r["peak_mb"] for r in one.values()]))
    return {
        "all_labels": many,
        "one_label": one,
        "one_by_one_seconds_scaled": one_seconds,
        "train_ratio": many["seconds"] / one_seconds,
        "one_label_median_peak_mb": one_peak,
        "memory_ratio": many["peak_mb"] / one_peak,
    }


def report(result: dict, labels: list[str]) -> None:
    if "train_ratio" in result:
        print(
            f"train {len(labels)} labels on {result['train_documents']} documents: together "
            f"{result['train_together_seconds']:.0f} s, one by one "
            f"{result['train_one_by_one_seconds_scaled']:.0f} s (scaled from "
            f"{result['labels_timed_one_by_one']}), ratio {result['train_ratio']:.2f}"
        )
        print(f"hit@1 together vs alone: largest difference {result['hit@1_max_difference']:.3f}")
        print(
            f"predict {result['documents']} documents: all labels "
            f"{result['predict_all_labels_seconds']:.1f} s, one label "
            f"{result['predict_one_label_seconds']:.1f} s, ratio {result['predict_ratio']:.2f}"
        )
    if "commands" in result:
        c = result["commands"]
        print(
            f"unclf train on {result['documents']} documents: --all-labels "
            f"{c['all_labels']['seconds']:.0f} s, one --label per label "
            f"{c['one_by_one_seconds_scaled']:.0f} s (scaled from {len(c['one_label'])}), "
            f"ratio {c['train_ratio']:.2f}"
        )
        print(
            f"peak memory of unclf train: all labels {c['all_labels']['peak_mb']:.0f} MB, "
            f"one label {c['one_label_median_peak_mb']:.0f} MB (median), "
            f"ratio {c['memory_ratio']:.2f}"
        )
    if "document_labels" in result:
        d = result["document_labels"]
        print(f"labels of whole documents ({d['labels']} labels, 3 folds), mean accuracy / F1:")
        for method, m in d["mean"].items():
            print(f"  {method:9s} {m['accuracy']:.3f} / {m['f1']:.3f}")


if __name__ == "__main__":
    main()
