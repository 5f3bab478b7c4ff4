"""Target-paragraph benchmark: unclf vs the reference baseline, same folds, same run.

Run: python benchmarks/targets.py [--data ../shared/data] [--folds 5] [--seeds 0,1,2]
    [--tasks upr:Minorities,...]

Document-grouped K-fold cross-validation (every document is tested once, by a model that never
saw it; unclf.evaluation.cross_validate) on the 8 dev tasks, with every baseline on the same
folds ("baseline" is the data README's reference, TF-IDF + logistic regression over naive
splitting); then the small-data setting (10 training documents drawn from each fold's training
part) on UPR Minorities and CUAD Parties; then training and prediction speed.

With several ``--seeds`` every task is cross-validated once per fold split (the documents dealt
into other folds): the detailed results are those of the first split, and ``splits`` holds
hit@1 of unclf and the reference on each, because one split settles a difference only to about
+-0.02.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np

from unclf.baselines import REFERENCE
from unclf.evaluation import cross_validate
from unclf.model import TargetSelector
from unclf.segmenter import parse_many, segment_many

TASKS = [
    ("upr", "Minorities"),
    ("upr", "Racial discrimination"),
    ("upr", "Death penalty"),
    ("upr", "Technical assistance and cooperation"),
    ("cuad", "Governing Law"),
    ("cuad", "Parties"),
    ("cuad", "Agreement Date"),
    ("cuad", "Audit Rights"),
]
SMALL_TASKS = [("upr", "Minorities"), ("cuad", "Parties")]


def parse_tasks(option: str | None) -> list[tuple[str, str]]:
    """``--tasks``: None for the 8 dev tasks, "none" for none, else "corpus:label,..."."""
    if option is None:
        return list(TASKS)
    if option == "none":
        return []
    return [tuple(t.split(":", 1)) for t in option.split(",")]


def load(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def spans_for(doc: dict, label: str) -> list[tuple[int, int]]:
    return [(t["start"], t["end"]) for t in doc["targets"] if t["label"] == label]


def run_task(
    parsed, targets, label: str, folds: int, seed: int, train_size: int | None = None
) -> dict:
    """The model and every baseline on the same document folds (unclf.evaluation)."""
    cv = cross_validate(
        parsed, targets, folds=folds, seed=seed, train_size=train_size, target_name=label
    )
    return {"unclf": cv.summary, "baseline": cv.baselines[REFERENCE], "baselines": cv.baselines}


def run_splits(
    parsed, targets, label: str, folds: int, seeds: list[int], train_size: int | None = None
) -> dict:
    """``run_task`` on the first seed's folds, and hit@1 on every seed's folds."""
    runs = [run_task(parsed, targets, label, folds, seed, train_size) for seed in seeds]
    splits = [
        {"seed": seed, "unclf": r["unclf"]["hit@1"], "baseline": r["baseline"]["hit@1"]}
        for seed, r in zip(seeds, runs, strict=True)
    ]
    return {**runs[0], "splits": splits}


def parse_seeds(option: str) -> list[int]:
    """``--seeds``: "0" or "0,1,2", distinct non-negative integers."""
    try:
        seeds = [int(s) for s in option.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers like 0,1,2, got {option!r}") from None
    if len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"expected distinct seeds >= 0, got {option!r}")
    return seeds


def _splits_line(splits: list[dict]) -> str:
    return ", ".join(
        f"seed {s['seed']} {s['unclf']:.3f}/{s['baseline']:.3f} ({s['unclf'] - s['baseline']:+.3f})"
        for s in splits
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--seeds",
        type=parse_seeds,
        default=[0],
        help="fold splits, e.g. 0,1,2 (default 0; the first in detail)",
    )
    parser.add_argument(
        "--tasks", help="comma-separated corpus:label list (default: the 8 dev tasks; none: none)"
    )
    parser.add_argument("--skip-small", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    tasks = parse_tasks(args.tasks)
    seeds = args.seeds
    corpora = {}
    for corpus in sorted({c for c, _ in tasks} | ({"upr"} if not args.skip_speed else set())):
        docs = load(args.data / f"{corpus}-dev.jsonl.gz")
        t0 = time.perf_counter()
        parsed = list(parse_many([d["text"] for d in docs]))
        print(f"{corpus}: {len(docs)} documents parsed in {time.perf_counter() - t0:.1f}s")
        corpora[corpus] = (docs, parsed)

    results = {"tasks": {}, "small": {}}
    print(
        f"\n{'task':45s} {'unclf hit@1':>11s} {'base hit@1':>10s} {'unclf MRR':>9s} "
        f"{'unclf R@5':>9s} {'chosen/gold chars':>17s}"
    )
    for corpus, label in tasks:
        docs, parsed = corpora[corpus]
        targets = [spans_for(d, label) for d in docs]
        t0 = time.perf_counter()
        result = run_splits(parsed, targets, label, args.folds, seeds)
        ours, theirs = result["unclf"], result["baseline"]
        name = f"{corpus}:{label}"
        # Seconds for the task on every split.
        results["tasks"][name] = {**result, "seconds": time.perf_counter() - t0}
        print(
            f"{name:45s} {ours['hit@1']:11.3f} {theirs['hit@1']:10.3f} {ours['mrr']:9.3f} "
            f"{ours['recall@5']:9.3f} {ours['chosen_chars_median']:8.0f}/"
            f"{ours['gold_chars_median']:.0f}",
            flush=True,
        )
        if len(seeds) > 1:
            print(f"{'':45s} by split: {_splits_line(result['splits'])}", flush=True)
    if results["tasks"]:
        mean_ours = np.mean([r["unclf"]["hit@1"] for r in results["tasks"].values()])
        mean_base = np.mean([r["baseline"]["hit@1"] for r in results["tasks"].values()])
        results["mean_hit@1"] = {"unclf": mean_ours, "baseline": mean_base}
        print(f"{'mean':45s} {mean_ours:11.3f} {mean_base:10.3f}")
        if len(seeds) > 1:
            by_split = [
                {
                    "seed": seed,
                    "unclf": np.mean([r["splits"][j]["unclf"] for r in results["tasks"].values()]),
                    "baseline": np.mean(
                        [r["splits"][j]["baseline"] for r in results["tasks"].values()]
                    ),
                }
                for j, seed in enumerate(seeds)
            ]
            results["mean_hit@1"]["splits"] = by_split
            print(f"{'mean':45s} by split: {_splits_line(by_split)}")

    if not args.skip_small:
        print("\nTrained on 10 documents (drawn from each fold's training part):")
        for corpus, label in SMALL_TASKS:
            if corpus not in corpora:
                continue
            docs, parsed = corpora[corpus]
            targets = [spans_for(d, label) for d in docs]
            result = run_splits(parsed, targets, label, args.folds, seeds, train_size=10)
            ours, theirs = result["unclf"], result["baseline"]
            results["small"][f"{corpus}:{label}"] = result
            print(f"{corpus + ':' + label:45s} {ours['hit@1']:11.3f} {theirs['hit@1']:10.3f}")
            if len(seeds) > 1:
                print(f"{'':45s} by split: {_splits_line(result['splits'])}", flush=True)

    if not args.skip_speed:
        docs, _ = corpora["upr"]
        texts = [d["text"] for d in docs]
        targets = [spans_for(d, "Minorities") for d in docs]
        t0 = time.perf_counter()
        # As `unclf train` does: the training folds side by side on all cores.
        model = TargetSelector(n_jobs=-1, random_state=seeds[0]).fit(texts, targets)
        train_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in segment_many(texts):
            pass
        segment_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in model.rank(texts):
            pass
        predict_seconds = time.perf_counter() - t0
        results["speed"] = {
            "train_seconds_upr_136": train_seconds,
            "segment_seconds": segment_seconds,
            "predict_seconds": predict_seconds,
            "predict_vs_segment_throughput": segment_seconds / predict_seconds,
        }
        print(
            f"\ntrain on {len(texts)} UPR documents (from text): {train_seconds:.1f}s; "
            f"segment {segment_seconds:.1f}s, predict {predict_seconds:.1f}s -> predict "
            f"throughput {segment_seconds / predict_seconds:.2f}x segment throughput"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
