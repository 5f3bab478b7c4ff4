"""How far words can take a flattened resolution: preambular openings after a comma.

Run: python benchmarks/preamble_openings.py [--data ../shared/data] [--languages russian,arabic]

In a resolution flattened onto one line, a preambular paragraph and a clause inside one can
open alike ("..., приветствуя", "..., وإذ يرحب"): lower case in Russian, no capitals in Arabic.
For each language this counts, in the flat layout, the places before the first operative
paragraph where the language's preambular opening follows a comma, and how many of them open a
paragraph. Then it scores paragraph F1 (as benchmarks/segmentation.py does) three ways: the
segmenter as it is; the same paragraphs with every such place decided as the gold paragraphs
do (what a perfect rule for these places would reach); and with every such place a paragraph
start. The gap between the first two is all that better rules for these places could win.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from segmentation import data_file, half, letters_digits, load, paragraph_f1, scores

from unclf.segmenter import segment_many
from unclf.segmenter.languages import detect_language, rules_for


def _operative_start(doc: dict) -> int:
    """Where the first operative paragraph ("1." or "1 -") starts; the text's end if none."""
    text = doc["text"]
    for p in doc["paragraphs"]:
        if re.match(r"1\s?(?:\.|-)\s", text[p["start"] : p["end"]]):
            return p["start"]
    return len(text)


def _spans(text: str, starts: list[int], predicted: dict[int, int]) -> list[str]:
    """Letters and digits of the paragraphs that begin at ``starts``: a predicted paragraph
    keeps its end where the next start is still its next one; any other runs to the next."""
    ordered = sorted(predicted)
    following = dict(zip(ordered, [*ordered[1:], None], strict=True))
    out = []
    for k, start in enumerate(starts):
        after = starts[k + 1] if k + 1 < len(starts) else None
        if start in predicted and following[start] == after:
            end = predicted[start]
        else:
            end = after if after is not None else len(text)
        out.append(letters_digits(text[start:end]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--languages", default="russian,arabic", help="comma-separated")
    args = parser.parse_args()
    for name in args.languages.split(","):
        docs = [d for d in load(data_file(args.data, name)) if d["layout"] == "flat"]
        counts = {k: [0, 0, 0] for k in ("as it is", "these places right", "all split")}
        places = [0, 0]  # not opening a paragraph, opening one
        halves = {k: [[0, 0, 0], [0, 0, 0]] for k in counts}
        for doc, paragraphs in zip(docs, segment_many([d["text"] for d in docs]), strict=True):
            text = doc["text"]
            rules = rules_for(detect_language(text))
            place = re.compile(rf"(?<=[{re.escape(rules.commas)}] )(?={rules.preamble})")
            gold_starts = {p["start"] for p in doc["paragraphs"]}
            found = {m.start() for m in place.finditer(text, 0, _operative_start(doc))}
            for position in found:
                places[position in gold_starts] += 1
            predicted = {p.start: p.end for p in paragraphs}
            gold = [letters_digits(text[p["start"] : p["end"]]) for p in doc["paragraphs"]]
            variants = {
                "as it is": set(predicted),
                "these places right": (set(predicted) - found) | (found & gold_starts),
                "all split": set(predicted) | found,
            }
            for key, starts in variants.items():
                result = paragraph_f1(gold, _spans(text, sorted(starts), predicted))
                for total in (counts[key], halves[key][half(doc["id"])]):
                    for i, value in enumerate(result):
                        total[i] += value
        print(
            f"{name}: {sum(places)} preambular openings after a comma, {places[1]} of them "
            f"open a paragraph ({places[1] / max(sum(places), 1):.0%})"
        )
        for key, total in counts.items():
            f1s = [scores(h)["f1"] for h in halves[key]]
            print(f"  {key:20s} F1 {scores(total)['f1']:.4f} ({f1s[0]:.3f}/{f1s[1]:.3f})")


if __name__ == "__main__":
    main()
