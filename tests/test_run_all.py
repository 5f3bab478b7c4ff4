"""The benchmark runner's markdown, from the shapes the benchmark scripts really produce."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unclf.baselines import FirstParagraph
from unclf.documents import read_labelled
from unclf.evaluation import learning_curve
from unclf.model import parse_documents

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "data" / "examples.jsonl"


@pytest.fixture(scope="module")
def examples() -> tuple[list, list]:
    docs, _ = read_labelled(EXAMPLES, label="regional cooperation")
    return list(parse_documents([d.text for d in docs])), [
        [(t.start, t.end) for t in d.targets] for d in docs
    ]


def test_target_and_curve_tables(examples, benchmark_script) -> None:
    run_all, targets = benchmark_script("run_all"), benchmark_script("targets")
    parsed, spans = examples
    # Through JSON, as the runner reads the scripts' output (NaN survives as NaN).
    task = json.loads(
        json.dumps(targets.run_task(parsed, spans, "regional cooperation", folds=3, seed=0))
    )
    lines = run_all.targets_section({"ex:a": task}, {"ex:a": task}, folds=3, seeds=[0])
    row = next(line for line in lines if line.startswith("| ex:a | 22 |"))
    assert f"**{task['unclf']['hit@1']:.3f}**" in row
    assert f"{task['baseline']['hit@1']:.3f}" in row
    assert any(line.startswith("| **mean** |") for line in lines)
    # The goal is a mean difference of 0.07: 0.0698 must not round to it.
    close = json.loads(json.dumps(task))
    close["unclf"]["hit@1"], close["baseline"]["hit@1"] = 0.8939, 0.8241
    mean = next(
        line
        for line in run_all.targets_section({"ex:a": close}, {}, folds=3, seeds=[0])
        if line.startswith("| **mean** |")
    )
    assert "+0.0698" in mean
    header = next(line for line in lines if line.startswith("| task | unclf | "))
    assert all(name in header for name in task["baselines"])
    assert "| task | score 0.0-0.5 | score 0.5-0.8 | score 0.8-1.0 |" in lines
    bands = task["unclf"]["hit@1_by_score"]
    band_row = next(line for line in lines if line.startswith("| ex:a | ") and "(" in line)
    assert all(f"({b['documents']})" in band_row for b in bands)

    curve = learning_curve(parsed, spans, [3], folds=3, baselines={"first": FirstParagraph()})
    text = "\n".join(run_all.curve_section(curve, folds=3))
    assert run_all.IMAGE in text and "| 3 | **" in text and "first hit@1" in text


def test_fold_splits_table(examples, benchmark_script) -> None:
    run_all, targets = benchmark_script("run_all"), benchmark_script("targets")
    parsed, spans = examples
    task = json.loads(
        json.dumps(targets.run_splits(parsed, spans, "regional cooperation", folds=3, seeds=[0, 1]))
    )
    single = targets.run_task(parsed, spans, "regional cooperation", folds=3, seed=1)
    # The first seed in detail, every seed's hit@1 in ``splits``.
    assert task["unclf"]["hit@1"] == task["splits"][0]["unclf"]
    assert task["splits"][1] == {
        "seed": 1,
        "unclf": single["unclf"]["hit@1"],
        "baseline": single["baseline"]["hit@1"],
    }
    one = run_all.targets_section({"ex:a": task}, {}, folds=3, seeds=[0])
    assert not any("fold splits" in line for line in one)
    lines = run_all.targets_section({"ex:a": task}, {"ex:a": task}, folds=3, seeds=[0, 1])
    header = lines.index("| task | seed 0 | seed 1 | mean difference |")
    splits = task["splits"]
    mean = sum(s["unclf"] - s["baseline"] for s in splits) / 2
    row = next(line for line in lines[header:] if line.startswith("| ex:a | "))
    assert row.endswith(f" | {mean:+.4f} |")
    assert f"{splits[1]['unclf']:.3f} / {splits[1]['baseline']:.3f}" in row
    assert any(line.startswith("| ex:a, 10 documents |") for line in lines[header:])
    assert any(line.startswith("| **mean** |") for line in lines[header:])


def test_segmentation_and_speed_paragraphs(benchmark_script) -> None:
    run_all = benchmark_script("run_all")
    layout = {"precision": 0.99, "recall": 0.98, "f1": 0.985}
    segmentation = {
        "clean": layout,
        "pdf": layout,
        "flat": layout,
        "speed": {
            "time_10x_document_vs_one": 10.1,
            "tokenizer_chars_per_s": 2e7,
            "segmenter_chars_per_s": 1e7,
            "ratio_to_tokenizer": 0.5,
        },
    }
    text = "\n".join(run_all.segmentation_section(segmentation))
    assert "| pdf | 0.9900 | 0.9800 | **0.9850** |" in text and "**0.50x**" in text
    speed = {
        "train_seconds_upr_136": 42.0,
        "segment_seconds": 8.0,
        "predict_seconds": 10.0,
        "predict_vs_segment_throughput": 0.8,
    }
    assert "**0.80x**" in "\n".join(run_all.speed_section(speed))


def test_marked_part_of_the_benchmarks_readme(benchmark_script) -> None:
    run_all = benchmark_script("run_all")
    # The runner writes into the benchmarks' README, which holds the markers once each.
    assert run_all.README == ROOT / "benchmarks" / "README.md"
    readme = run_all.README.read_text(encoding="utf-8")
    assert readme.count(run_all.START) == 1 and readme.count(run_all.END) == 1
    assert readme.index(run_all.START) < readme.index(run_all.END)
    text = f"# Title\n\nbefore\n\n{run_all.START}\nold table\n{run_all.END}\n\nafter\n"
    replaced = run_all.replace_marked(text, "new table\n")
    assert replaced == f"# Title\n\nbefore\n\n{run_all.START}\nnew table\n{run_all.END}\n\nafter\n"
    assert run_all.replace_marked(replaced, "new table\n") == replaced
