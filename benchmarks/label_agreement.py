"""How consistently were the dev tasks labelled? A ceiling that no model can pass.

Run: python benchmarks/label_agreement.py [--data ../shared/data] [--threshold 0.5,0.7]

For every target paragraph, its near-duplicates in *other* documents (cosine similarity of
the paragraphs' own TF-IDF words at least the threshold; country names and numbers make
exact repeats rare): what share of them did the annotators also mark? If a recommendation
worded almost like a tagged one is left untagged half of the time, a model that picks it is
counted wrong half of the time, however well it reads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from unclf.features import ParagraphFeaturizer, document_offsets
from unclf.model import paragraph_labels
from unclf.segmenter import parse_many

sys.path.insert(0, str(Path(__file__).parent))
from targets import TASKS, load, spans_for  # the benchmark script beside this one


def agreement(words, labels: np.ndarray, document: np.ndarray, threshold: float) -> dict:
    """Near-duplicates (in other labelled documents) of each target, and how many are targets."""
    targets = np.flatnonzero(labels == 1)
    similar = also = 0
    for start in range(0, len(targets), 256):
        rows = targets[start : start + 256]
        similarity = (words[rows] @ words.T).toarray()
        for row, i in zip(similarity, rows, strict=True):
            near = np.flatnonzero((row >= threshold) & (document != document[i]))
            similar += len(near)
            also += int(labels[near].sum())
    return {"near_duplicates": similar, "also_targets": also}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--threshold", default="0.5,0.7")
    args = parser.parse_args()
    thresholds = [float(t) for t in args.threshold.split(",")]

    header = " | ".join(f"near-duplicates >= {t} | also marked" for t in thresholds)
    print(f"| task | target paragraphs | share of all paragraphs marked | {header} |")
    print("|---|---|---|" + "---|---|" * len(thresholds))
    for corpus in dict.fromkeys(c for c, _ in TASKS):
        docs = load(args.data / f"{corpus}-dev.jsonl.gz")
        parsed = list(parse_many([d["text"] for d in docs]))
        words = ParagraphFeaturizer().fit(parsed).own_words(parsed)
        offsets = document_offsets(parsed)
        for _, label in (t for t in TASKS if t[0] == corpus):
            targets = [spans_for(raw, label) for raw in docs]
            labels, _ = paragraph_labels(parsed, targets)
            labelled = np.array([bool(spans) for spans in targets])
            # Only documents that were labelled for this task can disagree with a target.
            rows = np.flatnonzero(np.repeat(labelled, np.diff(offsets)))
            document = np.repeat(np.arange(len(docs)), np.diff(offsets))[rows]
            cells = []
            for threshold in thresholds:
                found = agreement(words[rows], labels[rows], document, threshold)
                if found["near_duplicates"]:
                    share = found["also_targets"] / found["near_duplicates"]
                    cells.append(f"{found['near_duplicates']} | **{share:.2f}**")
                else:
                    cells.append("0 | -")
            base = labels[rows].mean()
            print(f"| {corpus}:{label} | {labels.sum()} | {base:.3f} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
