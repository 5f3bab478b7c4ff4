"""Does the review order pay? A simulated reviewer answers with the gold labels.

Run: python benchmarks/review.py [--data ../shared/data] [--tasks upr:Minorities,...]
    [--seeds 0,1,2] [--answers 10,20,40] [--batch 5] [--start 5] [--held-out 100] [--pool 100]
    [--jobs 1] [--json review.json]

Per task and seed, the documents are split once: a third (at most ``--held-out``) is held out,
and of the rest at most ``--pool`` documents are the pool the reviewer works through (the
model ranks the whole pool after every batch: the cost of the run). Both orders start from the
same ``--start`` random documents (at least one with a target). *Uncertainty*, as ``unclf
review`` orders its list: the model is retrained every ``--batch`` answers and the reviewer
answers next the ``--batch`` pool documents whose best paragraph stands least above the second
(``unclf.review.ordering``). *Random*: the pool in a random order. After 10, 20 and 40 answers
a model trained on the answered documents is scored on the held-out documents (hit@1 over those
with a target). Reported: the mean over seeds and the spread (standard deviation).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from unclf.documents import read_labelled
from unclf.model import TargetSelector, parse_documents
from unclf.review.ordering import most_uncertain_first

TASKS = {"upr:Minorities": "upr-dev.jsonl.gz", "cuad:Governing Law": "cuad-dev.jsonl.gz"}


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


def _fit(docs, targets, answered: list[int]) -> TargetSelector:
    return TargetSelector(random_state=0).fit(
        [docs[i] for i in answered], [targets[i] for i in answered]
    )


def _hit_at_1(model: TargetSelector, docs, targets, held_out: list[int]) -> float:
    with_target = [i for i in held_out if targets[i]]
    return model.evaluate([docs[i] for i in with_target], [targets[i] for i in with_target])[
        "hit@1"
    ]


def _start(pool: list[int], targets, size: int, rng: np.random.Generator) -> list[int]:
    """``size`` random pool documents, at least one with a target (a model needs one)."""
    while True:
        start = [int(i) for i in rng.choice(pool, size, replace=False)]
        if any(targets[i] for i in start):
            return start


def simulate(
    docs,
    targets,
    seed: int,
    answers: list[int],
    batch: int,
    start: int,
    held_out_max: int,
    pool_max: int,
) -> dict[str, dict[int, float]]:
    rng = np.random.default_rng(seed)
    order = [int(i) for i in rng.permutation(len(docs))]
    n_held = min(held_out_max, len(docs) // 3)
    held_out, pool = order[:n_held], order[n_held:][:pool_max]
    first = _start(pool, targets, start, rng)
    rest = [i for i in pool if i not in first]

    scores: dict[str, dict[int, float]] = {"random": {}, "uncertainty": {}}
    shuffled = first + [int(i) for i in rng.permutation(rest)]
    for n in answers:
        scores["random"][n] = _hit_at_1(_fit(docs, targets, shuffled[:n]), docs, targets, held_out)

    answered, waiting = list(first), list(rest)
    while len(answered) < max(answers):
        model = _fit(docs, targets, answered)
        if len(answered) in answers:
            scores["uncertainty"][len(answered)] = _hit_at_1(model, docs, targets, held_out)
        rankings = dict(zip(map(str, waiting), model.rank(docs[i] for i in waiting), strict=True))
        chosen = most_uncertain_first([str(i) for i in waiting], rankings)[:batch]
        take = min(batch, max(answers) - len(answered))
        answered += [int(i) for i in chosen[:take]]
        print(f"  seed {seed}: {len(answered)} answers", file=sys.stderr, flush=True)
        waiting = [i for i in waiting if str(i) not in chosen[:take]]
    scores["uncertainty"][max(answers)] = _hit_at_1(
        _fit(docs, targets, answered), docs, targets, held_out
    )
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--answers", default="10,20,40")
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--start", type=int, default=5)
    parser.add_argument("--held-out", type=int, default=100, help="at most this many held out")
    parser.add_argument("--pool", type=int, default=100, help="at most this many to review")
    parser.add_argument("--jobs", type=int, default=1, help="seeds run side by side")
    parser.add_argument("--json", type=Path, help="write every score here")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    answers = [int(n) for n in args.answers.split(",")]
    if any(n % args.batch or n < args.start for n in answers):
        parser.error("every --answers count must be a multiple of --batch and >= --start")

    results = {}
    for task in args.tasks.split(","):
        label = task.split(":", 1)[1]
        began = time.time()
        labelled, _ = read_labelled(args.data / TASKS[task], label=label)
        docs = _Parsed([d.text for d in labelled])
        targets = [[(t.start, t.end) for t in d.targets] for d in labelled]
        runs = Parallel(n_jobs=args.jobs)(
            delayed(simulate)(
                docs, targets, seed, answers, args.batch, args.start, args.held_out, args.pool
            )
            for seed in seeds
        )
        for seed, run in zip(seeds, runs, strict=True):
            print(f"{task} seed {seed}: {run}", file=sys.stderr, flush=True)
        results[task] = {
            order: {
                n: {
                    "mean": float(np.mean([r[order][n] for r in runs])),
                    "std": float(np.std([r[order][n] for r in runs])),
                    "runs": [r[order][n] for r in runs],
                }
                for n in answers
            }
            for order in ("uncertainty", "random")
        }
        results[task]["seconds"] = round(time.time() - began)

    print("| task | order | " + " | ".join(f"hit@1 after {n} answers" for n in answers) + " |")
    print("|---|---|" + "---|" * len(answers))
    for task, result in results.items():
        for order in ("uncertainty", "random"):
            cells = [
                f"{result[order][n]['mean']:.3f} ± {result[order][n]['std']:.3f}" for n in answers
            ]
            print(f"| {task} | {order} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "settings": vars(args) | {"data": str(args.data), "json": str(args.json)},
                    "results": results,
                },
                indent=2,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
