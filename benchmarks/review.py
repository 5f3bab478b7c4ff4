"""Does the review order pay? A simulated reviewer answers with the gold labels.

Run: python benchmarks/review.py [--data ../shared/data] [--tasks upr:Minorities,...]
    [--seeds 0,1,2] [--orders least-sure,warm-start,...] [--answers 10,20,40] [--batch 5]
    [--start 5] [--jobs 1] [--runs runs.jsonl] [--table-only]

Per task and seed, the documents are split once: a third (at most the task's ``held_out``) is
held out, and of the rest at most ``pool`` documents are the collection the reviewer works
through. Every order starts from the same ``--start`` random documents (at least one with a
target). *random*: the pool in a random order. Each other order of ``unclf.review.ordering``
(as ``unclf review --order`` puts its list): the model is retrained every ``--batch`` answers
(and at each count measured) and the reviewer answers next the first documents of the list in
that order. After
10, 20 and 40 answers a model trained on the answered documents is scored on the held-out
documents (hit@1 over those with a target). Each (task, seed) run is appended to ``--runs`` as
it ends, so a long run can be read half done (``--table-only``). Reported: the mean over seeds,
and for each order its difference from random on the same seeds with a 95% t-interval.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from scipy import stats

from unclf.documents import read_labelled
from unclf.model import TargetSelector, parse_documents
from unclf.review.ordering import ORDERS, WARM_START, put_in_order, typicality

# file, at most this many documents held out, at most this many in the pool under review
TASKS = {
    "upr:Minorities": ("upr-dev.jsonl.gz", 100, 100),
    "cuad:Governing Law": ("cuad-dev.jsonl.gz", 60, 90),
}
MODEL_ORDERS = [o for o in ORDERS if o != "random"]


class _Parsed:
    """Documents parsed when first used: a split needs only its held-out part and its pool."""

    def __init__(self, texts: list[str]) -> None:
        self.texts, self.cache = texts, {}

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i: int):
        if i not in self.cache:
            self.cache[i] = next(parse_documents([self.texts[i]]))
        return self.cache[i]


class _Run:
    """One task and seed: the split, and models fitted on sets of answers, each set once (the
    orders share the random start, and ``warm-start`` the random order's first answers)."""

    def __init__(self, docs, targets, held_out: list[int], label: str) -> None:
        self.docs, self.targets, self.held_out, self.label = docs, targets, held_out, label
        self.scores: dict[frozenset, float] = {}
        self.models: dict[frozenset, TargetSelector] = {}  # the last two fitted

    def fit(self, answered: list[int]) -> TargetSelector:
        key = frozenset(answered)
        if key not in self.models:
            self.models = dict(list(self.models.items())[-1:])
            self.models[key] = TargetSelector(random_state=0, target_name=self.label).fit(
                [self.docs[i] for i in answered], [self.targets[i] for i in answered]
            )
        return self.models[key]

    def hit_at_1(self, answered: list[int]) -> float:
        key = frozenset(answered)
        if key not in self.scores:
            with_target = [i for i in self.held_out if self.targets[i]]
            self.scores[key] = self.fit(answered).evaluate(
                [self.docs[i] for i in with_target], [self.targets[i] for i in with_target]
            )["hit@1"]
        return self.scores[key]


def _start(pool: list[int], targets, size: int, rng: np.random.Generator) -> list[int]:
    """``size`` random pool documents, at least one with a target (a model needs one)."""
    while True:
        start = [int(i) for i in rng.choice(pool, size, replace=False)]
        if any(targets[i] for i in start):
            return start


def simulate(
    task: str,
    docs,
    targets,
    seed: int,
    orders: list[str],
    answers: list[int],
    batch: int,
    start: int,
    runs_file: Path | None,
) -> dict:
    _, held_out_max, pool_max = TASKS[task]
    rng = np.random.default_rng(seed)
    order = [int(i) for i in rng.permutation(len(docs))]
    n_held = min(held_out_max, len(docs) // 3)
    held_out, pool = order[:n_held], order[n_held:][:pool_max]
    first = _start(pool, targets, start, rng)
    rest = [i for i in pool if i not in first]
    shuffled = first + [int(i) for i in rng.permutation(rest)]
    run = _Run(docs, targets, held_out, task.split(":", 1)[1])
    typical = typicality({i: docs.texts[i] for i in pool})

    scores: dict[str, dict[int, float]] = {
        "random": {n: run.hit_at_1(shuffled[:n]) for n in answers}
    }
    # What each order gave the reviewer to answer: the share of documents holding a target.
    with_target = {"random": float(np.mean([bool(targets[i]) for i in shuffled[: max(answers)]]))}
    first_picks: dict = {}
    for name in orders:
        began = time.time()
        # Answers before the model's order is used: the start, or a longer random warm start.
        answered = shuffled[: max(start, WARM_START if name == "warm-start" else 0)]
        scores[name] = {n: run.hit_at_1(shuffled[:n]) for n in answers if n <= len(answered)}
        while len(answered) < max(answers):
            model = run.fit(answered)
            if len(answered) in answers:
                scores[name][len(answered)] = run.hit_at_1(answered)
            waiting = [i for i in pool if i not in set(answered)]
            rankings = dict(zip(waiting, model.rank(docs[i] for i in waiting), strict=True))
            listed = put_in_order(
                name, waiting, rankings, answered=len(answered), typical=typical, seed=seed
            )
            if len(answered) == start and not first_picks:
                first_picks = _first_picks(shuffled, waiting, rankings, targets, typical, seed)
            # A batch ends at the next count measured, so every order is measured there.
            upto = min(n for n in answers if n > len(answered))
            answered += listed[: min(batch, upto - len(answered))]
        scores[name][max(answers)] = run.hit_at_1(answered)
        with_target[name] = float(np.mean([bool(targets[i]) for i in answered]))
        print(
            f"  {task} seed {seed} {name}: {scores[name]} ({time.time() - began:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    result = {
        "task": task,
        "seed": seed,
        "held_out_with_target": sum(1 for i in held_out if targets[i]),
        "held_out": len(held_out),
        "pool": len(pool),
        "scores": scores,
        "with_target": with_target,
        "first_picks": first_picks,
    }
    if runs_file is not None:
        with open(runs_file, "a", encoding="utf-8") as out:
            fcntl.flock(out, fcntl.LOCK_EX)
            out.write(json.dumps(result) + "\n")
    return result


def _first_picks(shuffled, waiting, rankings, targets, typical, seed: int) -> dict:
    """The first 10 documents each order asks for after the random start, when the model knows
    only the start: how many hold a target, and how typical of the pool they are (mean
    typicality over the pool's mean: below 1, outliers)."""
    start = len(shuffled) - len(waiting)
    picks = {"random": shuffled[start : start + 10]}
    for name in ("least-sure", "density", "most-likely"):
        picks[name] = put_in_order(name, waiting, rankings, typical=typical, seed=seed)[:10]
    pool_mean = np.mean(list(typical.values()))
    return {
        name: {
            "with_target": float(np.mean([bool(targets[i]) for i in ids])),
            "typicality": float(np.mean([typical[i] for i in ids]) / pool_mean),
        }
        for name, ids in picks.items()
    }


def _interval(differences: list[float]) -> str:
    """Mean difference and its 95% t-interval over seeds."""
    d = np.asarray(differences)
    if len(d) < 2:
        return f"{d.mean():+.3f}"
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return f"{d.mean():+.3f} [{d.mean() - half:+.3f}, {d.mean() + half:+.3f}]"


def table(runs: list[dict], answers: list[int]) -> str:
    """Mean hit@1 per order, and each order's difference from random on the same seeds."""
    lines = [
        "| task (seeds) | order | "
        + " | ".join(f"hit@1 after {n} answers (vs random, 95% interval)" for n in answers)
        + " | answered documents with a target |",
        "|---|---|" + "---|" * (len(answers) + 1),
    ]
    for task in TASKS:
        mine = [r for r in runs if r["task"] == task]
        if not mine:
            continue
        seeds = ",".join(str(r["seed"]) for r in sorted(mine, key=lambda r: r["seed"]))
        for name in ORDERS:
            have = [r for r in mine if name in r["scores"]]
            if not have:
                continue
            cells = []
            for n in answers:
                mean = np.mean([r["scores"][name][str(n)] for r in have])
                if name == "random":
                    cells.append(f"{mean:.3f}")
                else:
                    diff = [r["scores"][name][str(n)] - r["scores"]["random"][str(n)] for r in have]
                    cells.append(f"{mean:.3f} ({_interval(diff)})")
            cells.append(f"{np.mean([r['with_target'][name] for r in have]):.2f}")
            label = f"{task} ({seeds})" if name == "random" else ""
            if len(have) != len(mine):
                name = f"{name} (seeds {','.join(str(r['seed']) for r in have)})"
            lines.append(f"| {label} | {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| task | first 10 asked for after the start | with a target | typicality (pool = 1) |",
        "|---|---|---|---|",
    ]
    for task in TASKS:
        mine = [r["first_picks"] for r in runs if r["task"] == task and r.get("first_picks")]
        for name in mine[0] if mine else ():
            share = np.mean([m[name]["with_target"] for m in mine])
            typical = np.mean([m[name]["typicality"] for m in mine])
            lines.append(f"| {task} ({len(mine)} seeds) | {name} | {share:.2f} | {typical:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--orders", default=",".join(MODEL_ORDERS))
    parser.add_argument("--answers", default="10,20,40")
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--start", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1, help="runs (task, seed) side by side")
    parser.add_argument("--runs", type=Path, help="append each run's scores here (JSON lines)")
    parser.add_argument("--table-only", action="store_true", help="the table of --runs")
    args = parser.parse_args()
    answers = [int(n) for n in args.answers.split(",")]
    if args.table_only:  # a (task, seed) run twice in the file counts once
        runs = list(
            {
                (r["task"], r["seed"]): r
                for r in map(json.loads, args.runs.read_text().splitlines()[::-1])
            }.values()
        )
        print(table(runs, answers))
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    orders = args.orders.split(",")
    unknown = [o for o in orders if o not in MODEL_ORDERS]
    if unknown:
        parser.error(f"unknown order {unknown[0]!r}; one of {', '.join(MODEL_ORDERS)}")
    if min(answers) < args.start:
        parser.error("every --answers count must be >= --start")

    data = {}
    for task in args.tasks.split(","):
        labelled, _ = read_labelled(args.data / TASKS[task][0], label=task.split(":", 1)[1])
        data[task] = (
            _Parsed([d.text for d in labelled]),
            [[(t.start, t.end) for t in d.targets] for d in labelled],
        )
    # Seed by seed, the tasks taking turns: a run stopped early has both tasks on the same seeds.
    jobs = [(task, seed) for seed in seeds for task in data]
    runs = Parallel(n_jobs=args.jobs)(
        delayed(simulate)(
            task, *data[task], seed, orders, answers, args.batch, args.start, args.runs
        )
        for task, seed in jobs
    )
    print(table(json.loads(json.dumps(runs)), answers))


if __name__ == "__main__":
    main()
