"""Throughput and memory at scale: three ratios, measured in one run.

Run: python benchmarks/throughput.py [--data ../shared/data] [--repeat 2] [--memory-docs 128]
                                     [--large-mb 30] [--skip-train] [--skip-large] [--json]

Speed, in this process, over the same texts (all UPR, CUAD and UNSC dev documents): spaCy's
blank-English tokenizer (``nlp.pipe``), segmenting (``segment_many``, what ``unclf segment``
runs) and predicting (``TargetSelector.rank`` of models/default.unclf, what ``unclf predict``
runs). The three are timed in turn ``--repeat`` times and the best of each is kept (the first
pass warms spaCy's caches), so the ratios do not depend on the machine and little on its load.

Memory, in subprocesses (peak resident set of each, from ``os.wait4`` in a small launcher):
- ``unclf predict`` on a JSONL of N documents (every k-th dev document) and on 4N (the same
  documents four times over, with distinct ids): the streaming path end to end; and, for
  comparison, on 4N different documents (every k/4-th), where new words also fill the
  featurizer's bounded n-gram cache and larger documents may come;
- ``unclf train --label "Governing Law"`` on all UPR + CUAD dev documents together (the UPR
  reports hold no target of that CUAD label: they teach the model to abstain): time and peak;
- ``unclf segment`` and ``unclf predict`` on one document of ``--large-mb`` MB (dev texts
  joined by blank lines): time, peak memory and exit status.

The JSON (``--json``) has this shape (seconds, megabytes; a skipped part is null):
{"texts": {"documents", "characters"},
 "seconds": {"tokenizer", "segment", "predict"},
 "ratios": {"segment_vs_tokenizer", "predict_vs_segment", "memory_4x_vs_1x"},
 "targets": {"segment_vs_tokenizer": 0.4, "predict_vs_segment": 0.5, "memory_4x_vs_1x": 1.3},
 "memory": {"documents_1x", "peak_mb_1x", "peak_mb_4x", "peak_mb_4x_distinct"},
 "train": {"documents", "paragraphs", "label", "seconds", "peak_mb", "exit"},
 "large_document": {"megabytes", "segment": {"seconds", "peak_mb", "exit"},
                    "predict": {"seconds", "peak_mb", "exit"}},
 "load": {"before": [1, 5, 15 min], "after": [...]}}
The first two ratios must be at least their target, the memory ratio at most its target.
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
from pathlib import Path

import spacy

from unclf.model import rank_labels
from unclf.persistence import default_model_path, load_model
from unclf.segmenter import segment_many

CORPORA = ("upr-dev", "cuad-dev", "unsc-segmentation-dev")
TRAIN_LABEL = "Governing Law"
TARGETS = {"segment_vs_tokenizer": 0.4, "predict_vs_segment": 0.5, "memory_4x_vs_1x": 1.3}


def load(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def timed(run) -> float:
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


# A small launcher starts the command and reports its peak: a child forked straight from this
# process would report this process's own (large) peak, which Linux carries over on exec.
_LAUNCH = (
    "import os, sys\n"
    "argv = [sys.executable, '-m', 'unclf.cli', *sys.argv[1:]]\n"
    "_, status, usage = os.wait4(os.posix_spawn(sys.executable, argv, os.environ), 0)\n"
    "print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))\n"
)


def child(argv: list[str]) -> dict:
    """Run ``unclf *argv`` (output to a file): wall seconds, peak resident MB, exit status."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCH, *argv], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - t0
    peak_kb, code = (int(v) for v in done.stdout.split()[-2:])
    if code != 0:
        print(f"  `unclf {argv[0]}` exited {code}: {done.stderr[-300:]}", file=sys.stderr)
    return {"seconds": seconds, "peak_mb": peak_kb / 1024, "exit": code}


def write_jsonl(path: Path, records) -> None:
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def speed(texts: list[str], repeat: int) -> tuple[dict, list[int]]:
    """Best seconds of the tokenizer, segmenting and predicting; paragraphs per text."""
    tokenizer = spacy.blank("en")
    models, _ = load_model(default_model_path())
    best = {"tokenizer": float("inf"), "segment": float("inf"), "predict": float("inf")}
    paragraphs: list[int] = []
    for _ in range(repeat):  # interleaved, so that a burst of load hits all three alike
        best["tokenizer"] = min(best["tokenizer"], timed(lambda: list(tokenizer.pipe(texts))))
        t0 = time.perf_counter()
        paragraphs = [len(p) for p in segment_many(texts)]
        best["segment"] = min(best["segment"], time.perf_counter() - t0)
        best["predict"] = min(
            best["predict"], timed(lambda: sum(1 for _ in rank_labels(models, texts)))
        )
    return best, paragraphs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--memory-docs", type=int, default=128)
    parser.add_argument("--large-mb", type=float, default=30.0)
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    say = (lambda *a: print(*a, file=sys.stderr, flush=True)) if args.json else print

    load_before = list(os.getloadavg())
    corpora = {name: load(args.data / f"{name}.jsonl.gz") for name in CORPORA}
    docs = [d for name in CORPORA for d in corpora[name]]
    texts = [d["text"] for d in docs]
    chars = sum(len(t) for t in texts)
    say(f"{len(texts)} documents, {chars / 1e6:.1f} M characters; load {load_before}")

    seconds, paragraphs = speed(texts, args.repeat)
    ratios = {
        "segment_vs_tokenizer": seconds["tokenizer"] / seconds["segment"],
        "predict_vs_segment": seconds["segment"] / seconds["predict"],
    }
    say(
        f"tokenizer {seconds['tokenizer']:.1f}s, segment {seconds['segment']:.1f}s, "
        f"predict {seconds['predict']:.1f}s"
    )

    result: dict = {"texts": {"documents": len(texts), "characters": chars}, "seconds": seconds}
    with tempfile.TemporaryDirectory(prefix="unclf-throughput-") as tmp:
        tmp = Path(tmp)
        step = max(1, len(docs) // args.memory_docs)
        sample = docs[::step][: args.memory_docs]
        write_jsonl(tmp / "1x.jsonl", ({"id": d["id"], "text": d["text"]} for d in sample))
        write_jsonl(
            tmp / "4x.jsonl",
            ({"id": f"{d['id']}#{k}", "text": d["text"]} for k in range(4) for d in sample),
        )
        distinct = docs[:: max(1, step // 4)][: 4 * len(sample)]
        write_jsonl(
            tmp / "4x-distinct.jsonl", ({"id": d["id"], "text": d["text"]} for d in distinct)
        )
        peak = {}
        for name in ("1x", "4x", "4x-distinct"):
            run = child(["predict", str(tmp / f"{name}.jsonl"), "-o", str(tmp / "out.jsonl")])
            peak[name] = run["peak_mb"]
            say(
                f"predict {name} ({len(sample)} documents x{name[0]}): {run['seconds']:.1f}s, "
                f"peak {run['peak_mb']:.0f} MB"
            )
        ratios["memory_4x_vs_1x"] = peak["4x"] / peak["1x"]
        result["memory"] = {
            "documents_1x": len(sample),
            "peak_mb_1x": peak["1x"],
            "peak_mb_4x": peak["4x"],
            "peak_mb_4x_distinct": peak["4x-distinct"],
        }

        result["train"] = None
        if not args.skip_train:
            labelled = corpora["upr-dev"] + corpora["cuad-dev"]
            write_jsonl(tmp / "train.jsonl", labelled)
            run = child(
                [
                    "train",
                    str(tmp / "train.jsonl"),
                    "--label",
                    TRAIN_LABEL,
                    "--model-out",
                    str(tmp / "model.unclf"),
                ]
            )
            result["train"] = {
                "documents": len(labelled),
                "paragraphs": sum(paragraphs[: len(labelled)]),  # docs' order
                "label": TRAIN_LABEL,
                **run,
            }
            say(
                f"train on {len(labelled)} documents ({result['train']['paragraphs']} "
                "paragraphs): "
                f"{run['seconds']:.1f}s, peak {run['peak_mb']:.0f} MB"
            )

        result["large_document"] = None
        if not args.skip_large:
            parts, size, k = [], 0, 0
            while size < args.large_mb * 1e6:
                parts.append(texts[k % len(texts)])
                size += len(parts[-1]) + 2
                k += 1
            large = tmp / "large.txt"
            large.write_text("\n\n".join(parts), encoding="utf-8")
            del parts
            megabytes = large.stat().st_size / 1e6
            result["large_document"] = {"megabytes": megabytes}
            for command in ("segment", "predict"):
                run = child([command, str(large), "-o", str(tmp / "out.jsonl")])
                result["large_document"][command] = run
                say(
                    f"{command} one {megabytes:.0f} MB document: {run['seconds']:.1f}s, "
                    f"peak {run['peak_mb']:.0f} MB, exit {run['exit']}"
                )

    result["ratios"] = ratios
    result["targets"] = TARGETS
    result["load"] = {"before": load_before, "after": list(os.getloadavg())}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"segment / tokenizer throughput  {ratios['segment_vs_tokenizer']:.2f}  (target >= 0.4)")
    print(f"predict / segment throughput    {ratios['predict_vs_segment']:.2f}  (target >= 0.5)")
    print(f"peak memory 4x / 1x documents   {ratios['memory_4x_vs_1x']:.2f}  (target <= 1.3)")
    print(f"load average before {load_before}, after {result['load']['after']}")


if __name__ == "__main__":
    main()
