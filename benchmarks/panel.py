"""The label panel: unclf against the best baseline of every label with enough documents.

Run: python benchmarks/panel.py [--data ../shared/data] [--folds 3] [--seeds 0]
    [--min-documents 30] [--corpora upr,cuad] [--sizes full,10] [--jobs 2]
    [--param guard=False ...] [--json panel.json] [--markdown panel.md]

Every label of ``upr-dev`` and ``cuad-dev`` that at least ``--min-documents`` documents carry
is one task. Each is cross-validated by document folds (the same folds for every label and
method), trained on the whole training part ("full") and on 10 documents drawn from it (at
least one with a target, as ``unclf learning-curve`` draws). Every baseline of
``unclf.baselines`` runs on the same folds; a label's *lead* is unclf's hit@1 minus that of
its best baseline in the same run, so a method that wins on a few labels and loses on others
shows it. Documents without the label's target measure abstention (share not marked).

It is fast enough to run after every change: documents are parsed once and cached (under
``--cache``, keyed by the data file and the segmenter's code), every label of a fold shares
one featurization (``unclf.model.fit_labels``) and one TF-IDF vectorization per baseline, and
the folds run in ``--jobs`` processes.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import json
import pickle
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

import unclf.segmenter
from unclf.baselines import default_baselines, rank_labels
from unclf.evaluation import _draw
from unclf.metrics import hits, score_document
from unclf.model import TargetSelector, document_folds, fit_labels, parse_documents
from unclf.model import rank_labels as rank_model_labels


def load(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def cache_path(data: Path, corpus: str, cache_dir: Path) -> Path:
    source = data / f"{corpus}-dev.jsonl.gz"
    key = hashlib.sha256(source.read_bytes())
    for module in sorted(Path(unclf.segmenter.__file__).parent.glob("*.py")):
        key.update(module.read_bytes())
    return cache_dir / f"{corpus}-{key.hexdigest()[:16]}.pickle"


def parsed_corpus(data: Path, corpus: str, cache_dir: Path) -> Path:
    """Parse a corpus once and keep it (a benchmark's own cache of its own output)."""
    path = cache_path(data, corpus, cache_dir)
    if not path.exists():
        docs = load(data / f"{corpus}-dev.jsonl.gz")
        t0 = time.perf_counter()
        parsed = list(parse_documents([d["text"] for d in docs], n_jobs=-1))
        print(f"{corpus}: parsed {len(docs)} documents in {time.perf_counter() - t0:.1f}s")
        targets = [[(t["start"], t["end"], t["label"]) for t in d["targets"]] for d in docs]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps((parsed, targets)))
        tmp.replace(path)
    return path


_READ: dict[Path, tuple[list, list]] = {}


def read_parsed(path: Path) -> tuple[list, list]:
    """The parsed documents and their (start, end, label) targets, read once per process."""
    if path not in _READ:
        _READ[path] = pickle.loads(path.read_bytes())
    return _READ[path]


def panel_labels(targets: list, min_documents: int) -> list[str]:
    counts = Counter(label for spans in targets for label in {t[2] for t in spans})
    return sorted(label for label, n in counts.items() if n >= min_documents)


def spans_of(targets: list, label: str) -> list[list[tuple[int, int]]]:
    return [[(s, e) for s, e, name in spans if name == label] for spans in targets]


def run_fold(
    path: Path, labels: list[str], folds: int, seed: int, k: int, size: int | None, params: dict
) -> dict:
    """Every label and method on fold ``k``: hits and abstentions per test document."""
    parsed, targets = read_parsed(path)
    train, test = document_folds([d.text for d in parsed], folds, seed)[k]
    by_label = {label: spans_of(targets, label) for label in labels}
    # Multi mode marks more paragraphs but orders them as single mode does: one fit gives both.
    params = {"mode": "multi", **params}
    selector = TargetSelector(random_state=seed, **params)
    # Per label, its training documents: the whole training part, or a draw of ``size``.
    draws = {
        label: train
        if size is None
        else _draw(train, by_label[label], size, np.random.default_rng([seed, 0, k]))
        for label in labels
    }
    test_docs = [parsed[i] for i in test]
    rankings: dict[str, dict[str, list]] = {}  # method -> label -> per test doc ranked spans
    abstained: dict[str, list[bool]] = {}
    t0 = time.perf_counter()
    if size is None:
        train_docs = [parsed[i] for i in train]
        models = fit_labels(
            selector, train_docs, {label: [by_label[label][i] for i in train] for label in labels}
        )
        ranked = list(rank_model_labels(models, test_docs))
        chosen = {label: models[label].ranking_ for label in labels}
    else:
        ranked = [{} for _ in test]
        chosen = {}
        for label in labels:
            model = TargetSelector(random_state=seed, **{"target_name": label, **params}).fit(
                [parsed[i] for i in draws[label]], [by_label[label][i] for i in draws[label]]
            )
            chosen[label] = model.ranking_
            for r, doc in zip(ranked, model.rank(test_docs), strict=True):
                r[label] = doc
    seconds = time.perf_counter() - t0
    rankings["unclf"] = {
        label: [[(p.paragraph.start, p.paragraph.end) for p in r[label].paragraphs] for r in ranked]
        for label in labels
    }
    abstained = {label: [not r[label].targets for r in ranked] for label in labels}
    for name, baseline in default_baselines().items():
        if size is None:
            train_docs = [parsed[i] for i in train]
            rankings[name] = rank_labels(
                baseline,
                train_docs,
                {label: [by_label[label][i] for i in train] for label in labels},
                test_docs,
            )
        else:
            rankings[name] = {}
            for label in labels:
                docs = [parsed[i] for i in draws[label]]
                spans = {label: [by_label[label][i] for i in draws[label]]}
                rankings[name].update(rank_labels(baseline, docs, spans, test_docs))
    out = {"labels": {}, "unclf_seconds": seconds}
    for label in labels:
        gold = [by_label[label][i] for i in test]
        # Several targets per document: the paragraphs unclf marks, against the plain
        # classifier's top n, n the mean number of target paragraphs of a training document.
        per_doc = [
            sum(bool(hits(p.start, p.end, by_label[label][i])) for p in parsed[i].paragraphs)
            for i in draws[label]
            if by_label[label][i]
        ]
        top_n = max(1, round(float(np.mean(per_doc))))
        marked = {
            "unclf": [
                [(p.paragraph.start, p.paragraph.end) for p in r[label].targets] for r in ranked
            ],
            "tfidf-lr": [spans[:top_n] for spans in rankings["tfidf-lr"][label]],
        }
        hit_lists = {
            method: [
                score_document(r, g).hit_at_1
                for r, g in zip(rankings[method][label], gold, strict=True)
                if g
            ]
            for method in rankings
        }
        out["labels"][label] = {
            "hits": hit_lists,
            "abstained": [a for a, g in zip(abstained[label], gold, strict=True) if not g],
            "unmarked_with_target": [a for a, g in zip(abstained[label], gold, strict=True) if g],
            "ranking": chosen[label],
            "marked": {method: marking(spans, gold) for method, spans in marked.items()},
        }
    return out


def marking(marked: list[list[tuple[int, int]]], gold: list[list[tuple[int, int]]]) -> list:
    """Marked paragraphs, those holding a target, targets, and targets held: summed."""
    counts = np.zeros(4, dtype=np.int64)
    for spans, targets in zip(marked, gold, strict=True):
        held = [hits(s, e, targets) for s, e in spans]
        counts += [
            len(spans),
            sum(map(bool, held)),
            len(targets),
            len({t for h in held for t in h}),
        ]
    return counts.tolist()


def f1_of(counts: np.ndarray) -> dict:
    marked, right, targets, found = counts
    precision = right / marked if marked else 0.0
    recall = found / targets if targets else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def summarize_panel(fold_results: list[dict], labels: list[str]) -> dict:
    """Per label: hit@1 of every method over all test documents, the best baseline, the lead."""
    rows = {}
    for label in labels:
        hits: dict[str, list[float]] = {}
        abstained: list[bool] = []
        unmarked: list[bool] = []
        rankings = Counter()
        marks: dict[str, np.ndarray] = {}
        for result in fold_results:
            entry = result["labels"][label]
            for method, counts in entry["marked"].items():
                marks[method] = marks.get(method, 0) + np.asarray(counts)
            for method, values in entry["hits"].items():
                hits.setdefault(method, []).extend(values)
            abstained += entry["abstained"]
            unmarked += entry["unmarked_with_target"]
            rankings[entry["ranking"]] += 1
        hit1 = {method: float(np.mean(values)) for method, values in hits.items()}
        baselines = {m: v for m, v in hit1.items() if m != "unclf"}
        best = max(baselines, key=baselines.get)
        rows[label] = {
            "unclf": hit1["unclf"],
            "best_baseline": best,
            "best_baseline_hit@1": baselines[best],
            "lead": hit1["unclf"] - baselines[best],
            "hit@1": hit1,
            "documents": len(hits["unclf"]),
            "without_target": len(abstained),
            "abstained": int(sum(abstained)),
            "unmarked_with_target": int(sum(unmarked)),
            "stacked_share": rankings["stacked"] / max(sum(rankings.values()), 1),
            "several_targets": {method: f1_of(counts) for method, counts in marks.items()},
        }
    leads = [r["lead"] for r in rows.values()]
    without = sum(r["without_target"] for r in rows.values())
    return {
        "labels": rows,
        "mean_lead": float(np.mean(leads)),
        "worst_label": min(rows, key=lambda label: rows[label]["lead"]),
        "worst_lead": float(min(leads)),
        "below": int(sum(lead < 0 for lead in leads)),
        "below_by_more_than_0.02": int(sum(lead < -0.02 for lead in leads)),
        "mean_unclf": float(np.mean([r["unclf"] for r in rows.values()])),
        "mean_best_baseline": float(np.mean([r["best_baseline_hit@1"] for r in rows.values()])),
        "several_targets_f1": {
            method: float(np.mean([r["several_targets"][method]["f1"] for r in rows.values()]))
            for method in ("unclf", "tfidf-lr")
        },
        "abstention_rate": sum(r["abstained"] for r in rows.values()) / without
        if without
        else float("nan"),
        # What abstaining costs: documents holding a target in which nothing is marked.
        "marked_with_target": 1
        - sum(r["unmarked_with_target"] for r in rows.values())
        / sum(r["documents"] for r in rows.values()),
    }


def parse_param(option: str) -> tuple[str, object]:
    key, _, value = option.partition("=")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def markdown(summary: dict) -> str:
    lines = []
    for setting, corpora in summary.items():
        lines.append(f"\n### {setting}\n")
        lines.append(
            "| collection | labels | unclf mean hit@1 | best baseline mean | mean lead | "
            "worst label (lead) | labels below | below by > 0.02 | abstained without target | "
            "marked with target | several targets F1, unclf / tfidf-lr top n |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for corpus, s in corpora.items():
            lines.append(
                f"| {corpus} | {len(s['labels'])} | {s['mean_unclf']:.3f} | "
                f"{s['mean_best_baseline']:.3f} | {s['mean_lead']:+.3f} | {s['worst_label']} "
                f"({s['worst_lead']:+.3f}) | {s['below']} | {s['below_by_more_than_0.02']} | "
                f"{s['abstention_rate']:.0%} | {s['marked_with_target']:.0%} | "
                f"{s['several_targets_f1']['unclf']:.3f} / "
                f"{s['several_targets_f1']['tfidf-lr']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "unclf-panel")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seeds", default="0", help="fold splits, e.g. 0,1,2")
    parser.add_argument("--min-documents", type=int, default=30)
    parser.add_argument("--corpora", default="upr,cuad")
    parser.add_argument(
        "--sample",
        type=float,
        default=1.0,
        help="a seeded random share of each collection's labels, for quick comparisons",
    )
    parser.add_argument("--sizes", default="full,10", help="full and/or training sizes")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        type=parse_param,
        help="a TargetSelector parameter, e.g. guard=False",
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"panel: no benchmark data at {args.data}")
    params = dict(args.param)
    seeds = [int(s) for s in args.seeds.split(",")]
    sizes = [None if s == "full" else int(s) for s in args.sizes.split(",")]
    corpora = args.corpora.split(",")
    paths = {c: parsed_corpus(args.data, c, args.cache) for c in corpora}
    labels = {c: panel_labels(read_parsed(paths[c])[1], args.min_documents) for c in corpora}
    if args.sample < 1.0:
        rng = np.random.default_rng(0)
        labels = {
            c: sorted(rng.choice(names, max(1, round(args.sample * len(names))), replace=False))
            for c, names in labels.items()
        }
    units = [
        (c, seed, k, size)
        for size in sizes
        for c in corpora
        for seed in seeds
        for k in range(args.folds)
    ]
    t0 = time.perf_counter()
    results = Parallel(n_jobs=args.jobs, verbose=0)(
        delayed(run_fold)(paths[c], labels[c], args.folds, seed, k, size, params)
        for c, seed, k, size in units
    )
    elapsed = time.perf_counter() - t0
    summary: dict = {}
    for c in corpora:
        for size in sizes:
            setting = "full data" if size is None else f"{size} training documents"
            mine = [r for u, r in zip(units, results, strict=True) if u[0] == c and u[3] == size]
            summary.setdefault(setting, {})[c] = summarize_panel(mine, labels[c])
    for setting, by_corpus in summary.items():
        print(f"\n== {setting} ==")
        for c, s in by_corpus.items():
            for label, row in sorted(s["labels"].items(), key=lambda x: x[1]["lead"]):
                print(
                    f"{c:5s} {label[:42]:42s} unclf {row['unclf']:.3f} "
                    f"{row['best_baseline']:>17s} {row['best_baseline_hit@1']:.3f} "
                    f"lead {row['lead']:+.3f} stacked {row['stacked_share']:.0%}"
                )
    print(markdown(summary))
    print(f"params {params}; folds {args.folds}, seeds {seeds}; {elapsed:.0f}s")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "params": {k: repr(v) for k, v in params.items()},
                    "seconds": elapsed,
                    "summary": summary,
                },
                indent=1,
            )
        )
    if args.markdown:
        args.markdown.write_text(markdown(summary))


if __name__ == "__main__":
    main()
