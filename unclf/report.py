"""What a person reads: the error report of a cross-validation and the learning-curve plot.

The report is one self-contained HTML page (no scripts, no external files): the overall figures
on top, then every missed document with the gold and the chosen paragraph side by side, their
scores, ranks and where they sit in the document. Text is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

from unclf.evaluation import CrossValidation, DocumentOutcome, ParagraphView
from unclf.files import atomic_open
from unclf.formats import Layout
from unclf.words import count

__all__ = ["plot_learning_curve", "render_report"]

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.model td { font-weight: bold; }
article { border-top: 2px solid #999; margin-top: 1.5em; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5em; }
.gold h4 { color: #1a7f37; } .chosen h4 { color: #b35900; }
.meta { color: #555; font-size: 0.9em; margin: 0.2em 0; }
blockquote { margin: 0.3em 0 1em; padding: 0.4em 0.8em; background: #f6f6f6; }
.bar { position: relative; height: 8px; background: #e8e8e8; margin: 0.4em 0; }
.bar span { position: absolute; top: -3px; width: 3px; height: 14px; }
.bar .g { background: #1a7f37; } .bar .c { background: #b35900; }
"""


def _number(value: float, spec: str = ".3f") -> str:
    return "n/a" if value is None or math.isnan(value) else format(value, spec)


def _row(cells: Sequence[str], cls: str = "", header: bool = False) -> str:
    tag = "th" if header else "td"
    attr = f' class="{cls}"' if cls else ""
    return f"<tr{attr}>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"


def _figures(cv: CrossValidation) -> str:
    s = cv.summary
    low, high = s["hit@1_ci95"]
    rows = [
        _row(
            ["method", "hit@1", "95% interval", "MRR", "recall@5", "chosen / gold chars"], "", True
        ),
        _row(
            [
                "unclf (model)",
                _number(s["hit@1"]),
                f"{_number(low)} to {_number(high)}",
                _number(s["mrr"]),
                _number(s["recall@5"]),
                f"{_number(s['chosen_chars_median'], '.0f')} / "
                f"{_number(s['gold_chars_median'], '.0f')}",
            ],
            "model",
        ),
    ]
    ranked = sorted(cv.baselines.items(), key=lambda kv: -_sortable(kv[1]["hit@1"]))
    for name, b in ranked:
        rows.append(
            _row(
                [
                    f"baseline: {escape(name)}",
                    _number(b["hit@1"]),
                    "",
                    _number(b["mrr"]),
                    _number(b["recall@5"]),
                    f"{_number(b['chosen_chars_median'], '.0f')} / "
                    f"{_number(b['gold_chars_median'], '.0f')}",
                ]
            )
        )
    decisions = [
        _row(["decisions", "precision", "recall", "F1", "abstained without target"], "", True),
        _row(
            [
                "paragraphs marked as target",
                _number(s["precision"]),
                _number(s["recall"]),
                _number(s["f1"]),
                f"{s['abstained_without_target']} of {s['documents_without_target']}",
            ]
        ),
    ]
    bands = [_row(["chosen paragraph's score", "documents", "hit@1"], "", True)]
    bands += [
        _row([b["scores"], str(b["documents"]), _number(b["hit@1"])]) for b in s["hit@1_by_score"]
    ]
    folds = [_row(["fold", "train docs", "test docs", "hit@1", "MRR", "recall@5"], "", True)]
    for f in cv.folds:
        folds.append(
            _row(
                [
                    str(f["fold"] + 1),
                    str(f["train_documents"]),
                    str(f["test_documents"]),
                    _number(f["hit@1"]),
                    _number(f["mrr"]),
                    _number(f["recall@5"]),
                ]
            )
        )
    return (
        f'<section id="overall"><h2>Overall</h2>'
        f"<p>hit@1 over the {count(s['documents'], 'document')} with a target; the interval is "
        "where hit@1 would plausibly fall on other documents like these (Wilson, 95%); across "
        f"folds it varies by {_number(s['hit@1_fold_std'])} (standard deviation).</p>"
        f'<table class="figures">{"".join(rows)}</table>'
        f'<table class="decisions">{"".join(decisions)}</table>'
        f"<p>What a score is worth: hit@1 of the documents whose chosen paragraph scored in "
        f"each band.</p>"
        f'<table class="bands">{"".join(bands)}</table>'
        f'<table class="folds">{"".join(folds)}</table></section>'
    )


def _sortable(value: float) -> float:
    return -math.inf if value is None or math.isnan(value) else value


def _where(p: ParagraphView, doc: DocumentOutcome, layout: Layout | None) -> str:
    share = 100 * p.start / doc.text_length if doc.text_length else 0.0
    page = layout.page(p.start, p.end) if layout is not None else None
    on_page = f"page {page} · " if page is not None else ""
    section = f" · under “{escape(p.section)}”" if p.section else ""
    marked = " · marked as target" if p.is_target else ""
    return (
        f'<p class="meta">{on_page}paragraph {p.index + 1} of {doc.n_paragraphs} · '
        f"chars {p.start}–{p.end} "
        f"({share:.0f}% into the document) · ranked {p.rank + 1} · score {p.score:.3f}"
        f"{section}{marked}</p><blockquote>{escape(p.text)}</blockquote>"
    )


def _bar(doc: DocumentOutcome) -> str:
    def mark(p: ParagraphView, cls: str) -> str:
        left = 100 * p.start / doc.text_length if doc.text_length else 0.0
        return f'<span class="{cls}" style="left:{left:.1f}%"></span>'

    marks = [mark(g, "g") for g in doc.gold]
    if doc.chosen is not None:
        marks.append(mark(doc.chosen, "c"))
    title = "where gold (green) and chosen (orange) sit in the document"
    return f'<div class="bar" title="{title}">{"".join(marks)}</div>'


def _document(doc: DocumentOutcome, cls: str, layout: Layout | None) -> str:
    gold = "".join(_where(g, doc, layout) for g in doc.gold)
    gold += "".join(
        f'<p class="meta">a target no paragraph holds:</p><blockquote>{escape(t)}</blockquote>'
        for t in doc.unheld
    )
    if not gold:
        gold = '<p class="meta">no target in this document</p>'
    chosen = _where(doc.chosen, doc, layout) if doc.chosen else '<p class="meta">no paragraph</p>'
    if doc.abstained and doc.targets:
        chosen = '<p class="meta">the model abstained (best score below its threshold)</p>' + chosen
    return (
        f'<article class="{cls}" id="doc-{escape(doc.id)}"><h3>{escape(doc.id)} '
        f"<small>(fold {doc.fold + 1})</small></h3>{_bar(doc)}"
        f'<div class="pair"><div class="gold"><h4>Gold</h4>{gold}</div>'
        f'<div class="chosen"><h4>Chosen</h4>{chosen}</div></div></article>'
    )


def render_report(
    cv: CrossValidation,
    title: str = "unclf cross-validation",
    layouts: Mapping[str, Layout] | None = None,
) -> str:
    """The whole page as a string; ``layouts`` (by document id) give the page of a paragraph
    of a PDF."""
    layouts = layouts or {}
    settings = cv.settings
    misses, alarms = cv.misses, cv.false_alarms
    with_target = sum(1 for d in cv.documents if d.hit is not None)
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{count(settings["documents"], "document")}, {settings["n_folds"]} folds '
        f"(documents with the same text share a fold), seed {settings['seed']}, mode "
        f"{escape(str(settings['mode']))}; every document was tested by a model that did not "
        "see it in training.</p>",
        _figures(cv),
        f'<section id="misses"><h2>Missed documents: {len(misses)} of {with_target}</h2>'
        "<p>The model's top paragraph holds no target. Gold on the left, the model's choice on "
        "the right.</p>",
        *(_document(d, "miss", layouts.get(d.id)) for d in misses),
        "</section>",
        f'<section id="false-alarms"><h2>False alarms: {len(alarms)} of '
        f"{count(len(cv.documents) - with_target, 'document')} without a target</h2>",
        *(_document(d, "false-alarm", layouts.get(d.id)) for d in alarms),
        "</section></body></html>",
    ]
    return "\n".join(parts)


def folds_in_words(n_folds: int, repeats: int) -> str:
    """ "3 folds", "3 folds, drawn 2 times": how a learning curve's points were measured."""
    return f"{n_folds} folds" + ("" if repeats == 1 else f", drawn {repeats} times")


def plot_learning_curve(curve: dict, path: str | Path, title: str = "") -> None:
    """hit@1 against training documents for the model and the best baseline: the mean as a
    line, one standard deviation as a band, every draw as a dot. Written as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [p["size"] for p in curve["points"]]
    series = [("unclf (model)", [p["model"] for p in curve["points"]], "#1f5fa8")]
    best = curve["best_baseline"]
    if best is not None:
        series.append(
            (f"best baseline: {best}", [p["baselines"][best] for p in curve["points"]], "#b35900")
        )
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for label, points, colour in series:
        mean = [_nan(p["mean"]) for p in points]
        std = [_nan(p["std"]) for p in points]
        ax.plot(sizes, mean, marker="o", color=colour, label=label)
        ax.fill_between(
            sizes,
            [max(m - s, 0.0) for m, s in zip(mean, std, strict=True)],
            [min(m + s, 1.0) for m, s in zip(mean, std, strict=True)],
            color=colour,
            alpha=0.18,
        )
        for size, p in zip(sizes, points, strict=True):
            draws = [_nan(d) for d in p["draws"]]
            ax.scatter([size] * len(draws), draws, color=colour, s=9, alpha=0.45)
    settings = curve["settings"]
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.minorticks_off()
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(
        f"training documents ({folds_in_words(settings['n_folds'], settings['repeats'])}; "
        "line: mean, band: ±1 std, dots: draws)"
    )
    ax.set_ylabel("hit@1 on held-out documents")
    ax.set_title(title or "Learning curve", loc="left")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    with atomic_open(path, "wb") as out:
        fig.savefig(out, format="png")
    plt.close(fig)


def _nan(value: float | None) -> float:
    return math.nan if value is None else value
