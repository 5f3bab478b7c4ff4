"""Segmentation benchmark: paragraph F1 per language and layout on the unsc-segmentation sets,
and speed.

Run: python benchmarks/segmentation.py [--data ../shared/data] [--errors N] [--json]
[--languages english,french,...]

F1 counts a predicted paragraph as right when its letters and digits (of any script) equal a
gold paragraph's (the data README's definition). Every text is segmented as the language told
from its text, as ``unclf segment`` does. Each cell is also given on two halves of the
resolutions (by a hash of the resolution's symbol): rules tuned on one half that hold on the
other are not fitted to the documents. Speed is a ratio against spaCy's blank-English tokenizer
over the same texts in the same run, and each language's segmenting throughput a ratio to
English's in the same run, so neither depends on the machine.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

import spacy

from unclf.segmenter import segment_many

LAYOUTS = ("clean", "pdf", "flat")
LANGUAGES = ("english", "french", "spanish", "russian", "arabic", "chinese")


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


def data_file(data: Path, language: str) -> Path:
    name = "" if language == "english" else f"{language}-"
    return data / f"unsc-segmentation-{name}dev.jsonl.gz"


def half(document_id: str) -> int:
    """0 or 1 by a hash of the resolution's symbol ("S/RES/2514"), the same in every layout."""
    return int(hashlib.md5(document_id.split("#")[0].encode()).hexdigest(), 16) % 2


def time_per_char(run, texts: list[str], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        run(texts)
        best = min(best, time.perf_counter() - t0)
    return best


def scores(counts: list[int]) -> dict:
    tp, n_pred, n_gold = counts
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def evaluate(docs: list[dict], errors: int) -> dict:
    """Precision, recall and F1 per layout, and F1 on each half of the resolutions."""
    counts: dict[tuple[str, int | None], list[int]] = defaultdict(lambda: [0, 0, 0])
    shown: Counter = Counter()
    texts = [d["text"] for d in docs]
    for d, paragraphs in zip(docs, segment_many(texts), strict=True):
        text = d["text"]
        gold = [letters_digits(text[p["start"] : p["end"]]) for p in d["paragraphs"]]
        pred = [letters_digits(text[p.start : p.end]) for p in paragraphs]
        tp, n_pred, n_gold = paragraph_f1(gold, pred)
        for key in ((d["layout"], None), (d["layout"], half(d["id"]))):
            c = counts[key]
            c[0] += tp
            c[1] += n_pred
            c[2] += n_gold
        if errors and (tp < n_gold or tp < n_pred) and shown[d["layout"]] < errors:
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
    for layout in LAYOUTS:
        if (layout, None) in counts:
            results[layout] = scores(counts[layout, None])
            results[layout]["f1_halves"] = [scores(counts[layout, h])["f1"] for h in (0, 1)]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--errors", type=int, default=0, help="print N wrong documents per layout")
    parser.add_argument("--languages", default=",".join(LANGUAGES), help="comma-separated")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    languages = [name for name in args.languages.split(",") if data_file(args.data, name).exists()]
    if "english" not in languages:
        parser.error(f"{data_file(args.data, 'english')} is needed: speeds are ratios to it")
    docs = {name: load(data_file(args.data, name)) for name in languages}
    per_language = {name: evaluate(docs[name], args.errors) for name in languages}
    # English at the top level, as the runner and earlier results read it.
    results: dict = {layout: per_language["english"][layout] for layout in LAYOUTS}

    # Speed: the same texts through spaCy's blank tokenizer and through our pipeline.
    texts = [d["text"] for d in docs["english"]]
    tokenizer = spacy.blank("en")
    t_tok = time_per_char(lambda ts: list(tokenizer.pipe(ts, batch_size=32)), texts)
    chars = sum(len(t) for t in texts)
    # Each language's segmenting speed (its own tokenizer included), against English's: in
    # characters per second, and in time for the same resolutions (Chinese says in one
    # character what takes English three or four, so characters alone misjudge it).
    throughput, same_resolutions = {}, {}
    english_ids = {d["id"] for d in docs["english"] if d["id"].count("/") == 2}
    for name in languages:
        language_texts = [d["text"] for d in docs[name]]
        seconds = time_per_char(lambda ts: list(segment_many(ts, batch_size=32)), language_texts)
        throughput[name] = sum(len(t) for t in language_texts) / seconds
        common = english_ids & {d["id"] for d in docs[name]}
        same_resolutions[name] = [
            time_per_char(
                lambda ts: list(segment_many(ts, batch_size=32)),
                [d["text"] for d in docs[language] if d["id"] in common],
                repeat=2,
            )
            for language in ("english", name)
        ]
    # Scaling: ten documents one by one against the same ten joined into one 10x document.
    group = [t for t in texts if t][:10]
    long_text = "\n\n".join(group)
    t_short = time_per_char(lambda ts: list(segment_many(ts)), group, repeat=5)
    t_long = time_per_char(lambda ts: list(segment_many(ts)), [long_text], repeat=5)
    results["speed"] = {
        "time_10x_document_vs_one": 10 * t_long / t_short,
        "tokenizer_chars_per_s": chars / t_tok,
        "segmenter_chars_per_s": throughput["english"],
        "ratio_to_tokenizer": throughput["english"] / (chars / t_tok),
    }
    results["languages"] = {
        name: {
            **per_language[name],
            "segmenter_chars_per_s": throughput[name],
            "speed_ratio_to_english": throughput[name] / throughput["english"],
            "same_resolutions_speed_ratio_to_english": same_resolutions[name][0]
            / same_resolutions[name][1],
        }
        for name in languages
    }
    others = [per_language[name][layout]["f1"] for name in languages[1:] for layout in LAYOUTS]
    if others:
        results["other_languages"] = {"mean_f1": sum(others) / len(others), "min_f1": min(others)}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        "language  "
        + "  ".join(f"{layout:>22s}" for layout in LAYOUTS)
        + "  speed/English (chars, same resolutions)"
    )
    for name in languages:
        row = results["languages"][name]
        cells = [
            f"{row[layout]['f1']:.4f} ({row[layout]['f1_halves'][0]:.3f}/"
            f"{row[layout]['f1_halves'][1]:.3f})"
            for layout in LAYOUTS
        ]
        print(
            f"{name:8s}  "
            + "  ".join(f"{c:>22s}" for c in cells)
            + f"  {row['speed_ratio_to_english']:.2f}x, "
            f"{row['same_resolutions_speed_ratio_to_english']:.2f}x"
        )
    print("(F1 over all resolutions, then on each half of them)")
    if others:
        summary = results["other_languages"]
        print(
            f"other languages: mean F1 {summary['mean_f1']:.4f}, lowest {summary['min_f1']:.4f} "
            f"over {len(others)} cells"
        )
    s = results["speed"]
    print(
        f"speed: segmenter {s['segmenter_chars_per_s'] / 1e6:.2f} Mchar/s, tokenizer "
        f"{s['tokenizer_chars_per_s'] / 1e6:.2f} Mchar/s, ratio {s['ratio_to_tokenizer']:.2f}; "
        f"ten documents joined into one take {s['time_10x_document_vs_one']:.1f}x the time of "
        "one of them (10.0 = linear)"
    )


if __name__ == "__main__":
    main()
