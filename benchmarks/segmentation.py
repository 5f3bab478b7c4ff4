"""Segmentation benchmark: paragraph F1 per layout on unsc-segmentation-dev, the seeds, speed.

Run: python benchmarks/segmentation.py [--data ../shared/data] [--errors N]
F1 counts a predicted paragraph as right when its letters and digits equal a gold paragraph's
(the data README's definition). Speed is a ratio against spaCy's blank-English tokenizer over
the same texts in the same run, so it does not depend on the machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

import spacy

from unclf.segmenter import segment_many


def letters_digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def paragraph_f1(gold: list[str], predicted: list[str]) -> tuple[int, int, int]:
    """True positives, number predicted, number gold (multiset match)."""
    remaining = Counter(gold)
    hits = 0
    for p in predicted:
        if remaining[p] > 0:
            remaining[p] -= 1
            hits += 1
    return hits, len(predicted), len(gold)


def load(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def time_per_char(run, texts: list[str], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        run(texts)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--errors", type=int, default=0, help="print N wrong documents per layout")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    docs = load(args.data / "unsc-segmentation-dev.jsonl.gz")
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    shown: Counter = Counter()
    texts = [d["text"] for d in docs]
    for d, paragraphs in zip(docs, segment_many(texts), strict=True):
        text = d["text"]
        gold = [letters_digits(text[p["start"] : p["end"]]) for p in d["paragraphs"]]
        pred = [letters_digits(text[p.start : p.end]) for p in paragraphs]
        tp, n_pred, n_gold = paragraph_f1(gold, pred)
        c = counts[d["layout"]]
        c[0] += tp
        c[1] += n_pred
        c[2] += n_gold
        if args.errors and (tp < n_gold or tp < n_pred) and shown[d["layout"]] < args.errors:
            shown[d["layout"]] += 1
            print(f"== {d['id']}: tp={tp} pred={n_pred} gold={n_gold}")
            gold_set = set(gold)
            pred_set = set(pred)
            for p in paragraphs:
                if letters_digits(text[p.start : p.end]) not in gold_set:
                    print("  PRED", repr(text[p.start : p.end][:160]))
            for p in d["paragraphs"]:
                if letters_digits(text[p["start"] : p["end"]]) not in pred_set:
                    print("  GOLD", repr(text[p["start"] : p["end"]][:160]))

    results = {}
    for layout, (tp, n_pred, n_gold) in sorted(counts.items()):
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        results[layout] = {"precision": precision, "recall": recall, "f1": f1}

    # Speed: the same texts through spaCy's blank tokenizer and through our pipeline.
    tokenizer = spacy.blank("en")
    speed_texts = texts
    t_tok = time_per_char(lambda ts: list(tokenizer.pipe(ts, batch_size=32)), speed_texts)
    t_seg = time_per_char(lambda ts: list(segment_many(ts, batch_size=32)), speed_texts)
    chars = sum(len(t) for t in speed_texts)
    # Scaling: ten documents one by one against the same ten joined into one 10x document.
    group = [t for t in texts if t][:10]
    long_text = "\n\n".join(group)
    t_short = time_per_char(lambda ts: list(segment_many(ts)), group, repeat=5)
    t_long = time_per_char(lambda ts: list(segment_many(ts)), [long_text], repeat=5)
    scale = t_long / t_short
    results["speed"] = {
        "time_10x_document_vs_one": 10 * scale,
        "tokenizer_chars_per_s": chars / t_tok,
        "segmenter_chars_per_s": chars / t_seg,
        "ratio_to_tokenizer": t_tok / t_seg,
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for layout in ("clean", "pdf", "flat"):
        r = results[layout]
        print(f"{layout:6s} P={r['precision']:.4f} R={r['recall']:.4f} F1={r['f1']:.4f}")
    s = results["speed"]
    print(
        f"speed: segmenter {s['segmenter_chars_per_s'] / 1e6:.2f} Mchar/s, tokenizer "
        f"{s['tokenizer_chars_per_s'] / 1e6:.2f} Mchar/s, ratio {s['ratio_to_tokenizer']:.2f}; "
        f"ten documents joined into one take {s['time_10x_document_vs_one']:.1f}x the time of "
        "one of them (10.0 = linear)"
    )


if __name__ == "__main__":
    main()
