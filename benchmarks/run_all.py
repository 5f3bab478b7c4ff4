"""Run every benchmark and write the results as markdown, with the date, machine and commands.

Run: python benchmarks/run_all.py [--data ../shared/data] [--jobs 2] [--readme]

Order, so that timings are not disturbed by the other runs: the segmentation benchmark alone
(its speed is a ratio measured in the same run), then the target tasks as one process per
corpus (UPR, CUAD) side by side (``--jobs`` at a time; their hit@1 does not depend on load),
then the training/prediction speed alone, then ``benchmarks/throughput.py`` alone if it exists.
The learning curve of UPR Minorities runs in the same pool as the target tasks and is drawn to
``learning-curve.png`` beside the output. The full run takes about 50 minutes on 2 cores;
``--seeds 0,1,2`` adds a table of every task on three fold splits (each further split about 55
minutes more; the other tables stay those of the first). ``--tasks upr:Minorities --folds 2
--skip-small --skip-speed --skip-segmentation --curve-sizes 3,6`` is a quick check of the runner
itself.

The markdown goes to ``--output`` (default benchmarks/results.md); with ``--readme`` it also
replaces the part of benchmarks/README.md (or of the file given) between the two
``benchmark-results`` marker comments, so that a quick check of the runner touches no README.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from targets import SMALL_TASKS, parse_seeds, parse_tasks  # noqa: E402  (the benchmark script beside this one)

START, END = "<!-- benchmark-results:start -->", "<!-- benchmark-results:end -->"
README = HERE / "README.md"  # the benchmarks' README holds the marked part
IMAGE = "@@learning-curve.png@@"  # replaced by the plot's path relative to each output file
CURVE_LABEL = "Minorities"


def run(command: list[str], log: Path) -> str:
    """Run a benchmark script from the repository root; its stdout, or exit with its log."""
    shown = " ".join(shlex.quote(c) for c in command)
    print(f"$ {shown}", flush=True)
    with open(log, "w", encoding="utf-8") as err:
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
    if done.returncode != 0:
        sys.exit(f"run_all: failed ({done.returncode}): {shown}\n{log.read_text()[-2000:]}")
    return done.stdout


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = names[0] if names else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = re.search(r"^MemTotal:\s*(\d+)", meminfo.read_text(), re.M)
        memory = f", {int(kb.group(1)) / 1024**2:.0f} GB" if kb else ""
    return (
        f"{platform.platform()}, {cpu}, {os.cpu_count()} CPUs{memory}; Python "
        f"{platform.python_version()}, spaCy {version('spacy')}, scikit-learn "
        f"{version('scikit-learn')}"
    )


def commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" (with uncommitted changes)" if git("status", "--porcelain", "-uno") else "")


def f3(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:.3f}"


def signed(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:+.3f}"


def segmentation_section(results: dict) -> list[str]:
    lines = [
        "### Segmentation",
        "",
        "`unsc-segmentation-dev`, paragraph F1 (letters and digits of a predicted paragraph "
        "equal a gold paragraph's):",
        "",
        "| layout | precision | recall | F1 |",
        "|---|---|---|---|",
    ]
    for layout in ("clean", "pdf", "flat"):
        r = results[layout]
        lines.append(f"| {layout} | {r['precision']:.4f} | {r['recall']:.4f} | **{r['f1']:.4f}** |")
    s = results["speed"]
    lines += [
        "",
        f"Speed, ratios from one run on the same texts: segmenting runs at "
        f"**{s['ratio_to_tokenizer']:.2f}x** the throughput of spaCy's blank-English tokenizer "
        f"({s['segmenter_chars_per_s'] / 1e6:.1f} against {s['tokenizer_chars_per_s'] / 1e6:.1f} "
        f"Mchar/s); ten documents joined into one take **{s['time_10x_document_vs_one']:.1f}x** "
        "the time of one (10.0 = linear).",
        "",
    ]
    return lines


def targets_section(tasks: dict, small: dict, folds: int, seeds: list[int]) -> list[str]:
    names = sorted({b for r in tasks.values() for b in r["baselines"]})
    lines = [
        "### Finding the target",
        "",
        f"{folds}-fold document-grouped cross-validation (seed {seeds[0]}); the model and every "
        "baseline trained and tested on the same folds in the same run. hit@1, MRR and "
        "recall@5 over the documents that have a target of the label; the interval is the 95% "
        "Wilson interval of hit@1; *reference* is the data README's baseline (TF-IDF + "
        "logistic regression per paragraph over naive blank-line/number splitting); the last "
        "column is the median length in characters of the chosen paragraph against the gold "
        "span.",
        "",
        "| task | docs | unclf hit@1 | 95% interval | reference hit@1 | difference | best "
        "baseline | unclf MRR | unclf recall@5 | chosen / gold chars |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in tasks.items():
        u, ref = r["unclf"], r["baseline"]
        best = max(r["baselines"], key=lambda b: r["baselines"][b]["hit@1"])
        low, high = u["hit@1_ci95"]
        lines.append(
            f"| {name} | {u['documents']} | **{f3(u['hit@1'])}** | {f3(low)}-{f3(high)} | "
            f"{f3(ref['hit@1'])} | {signed(u['hit@1'] - ref['hit@1'])} | {best} "
            f"{f3(r['baselines'][best]['hit@1'])} | {f3(u['mrr'])} | {f3(u['recall@5'])} | "
            f"{u['chosen_chars_median']:.0f} / {u['gold_chars_median']:.0f} |"
        )
    if tasks:
        ours = sum(r["unclf"]["hit@1"] for r in tasks.values()) / len(tasks)
        theirs = sum(r["baseline"]["hit@1"] for r in tasks.values()) / len(tasks)
        # Four decimals: the goal is a difference of 0.07, and 0.0698 must not print as 0.070.
        lines.append(
            f"| **mean** | | **{ours:.4f}** | | {theirs:.4f} | {ours - theirs:+.4f} | | | | |"
        )
    if tasks:
        bands = [b["scores"] for b in next(iter(tasks.values()))["unclf"]["hit@1_by_score"]]
        lines += [
            "",
            "How far to trust a suggestion: hit@1 of the documents whose chosen paragraph "
            "scored in each band (documents in brackets):",
            "",
            "| task | " + " | ".join(f"score {b}" for b in bands) + " |",
            "|---|" + "---|" * len(bands),
        ]
        for name, r in tasks.items():
            cells = [
                f"{f3(b['hit@1'])} ({b['documents']})" if b["documents"] else "- (0)"
                for b in r["unclf"]["hit@1_by_score"]
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Every baseline's hit@1 on the same folds:",
        "",
        "| task | unclf | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for name, r in tasks.items():
        cells = [f3(r["baselines"][b]["hit@1"]) if b in r["baselines"] else "" for b in names]
        lines.append(f"| {name} | **{f3(r['unclf']['hit@1'])}** | " + " | ".join(cells) + " |")
    if small:
        lines += [
            "",
            "Trained on only 10 documents (drawn from each fold's training part, at least one "
            "with a target), tested on the fold:",
            "",
            "| task | unclf hit@1 | reference hit@1 | difference |",
            "|---|---|---|---|",
        ]
        for name, r in small.items():
            u, ref = r["unclf"]["hit@1"], r["baseline"]["hit@1"]
            lines.append(f"| {name} | **{f3(u)}** | {f3(ref)} | {signed(u - ref)} |")
    lines.append("")
    if len(seeds) > 1:
        lines += splits_section(tasks, small, folds, seeds)
    return lines


def splits_section(tasks: dict, small: dict, folds: int, seeds: list[int]) -> list[str]:
    """hit@1 of unclf and the reference on each fold split, and the mean over the splits."""
    head = " | ".join(f"seed {s}" for s in seeds)
    lines = [
        f"The same cross-validation on {len(seeds)} fold splits (seeds {', '.join(map(str, seeds))}"
        f"; the tables above are seed {seeds[0]}'s): unclf / reference hit@1, and the difference "
        "averaged over the splits. One split settles a difference only to about +-0.02.",
        "",
        f"| task | {head} | mean difference |",
        "|---|" + "---|" * (len(seeds) + 1),
    ]

    def row(name: str, splits: list[dict]) -> str:
        cells = [f"{f3(s['unclf'])} / {f3(s['baseline'])}" for s in splits]
        mean = sum(s["unclf"] - s["baseline"] for s in splits) / len(splits)
        shown = "n/a" if mean != mean else f"{mean:+.4f}"
        return f"| {name} | " + " | ".join(cells) + f" | {shown} |"

    for name, r in tasks.items():
        lines.append(row(name, r["splits"]))
    means = [
        {
            "unclf": sum(r["splits"][j]["unclf"] for r in tasks.values()) / len(tasks),
            "baseline": sum(r["splits"][j]["baseline"] for r in tasks.values()) / len(tasks),
        }
        for j in range(len(seeds))
    ]
    lines.append(row("**mean**", means))
    for name, r in small.items():
        lines.append(row(f"{name}, 10 documents", r["splits"]))
    lines.append("")
    return lines


def curve_section(curve: dict, folds: int) -> list[str]:
    best = curve["best_baseline"]
    lines = [
        f"### Learning curve: upr:{CURVE_LABEL}",
        "",
        f"hit@1 on the held-out fold against the number of training documents drawn from the "
        f"other {folds - 1} folds (mean ± standard deviation over the {folds} folds), for unclf "
        f"and the best baseline over all sizes ({best}):",
        "",
        f"![learning curve]({IMAGE})",
        "",
        f"| training documents | unclf hit@1 | {best} hit@1 |",
        "|---|---|---|",
    ]
    for p in curve["points"]:
        m, b = p["model"], p["baselines"][best]
        lines.append(
            f"| {p['size']} | **{f3(m['mean'])}** ± {f3(m['std'])} | {f3(b['mean'])} ± "
            f"{f3(b['std'])} |"
        )
    lines.append("")
    return lines


def speed_section(speed: dict) -> list[str]:
    return [
        "### Training and prediction speed",
        "",
        f"Training on the 136 UPR dev documents, from raw text: "
        f"**{speed['train_seconds_upr_136']:.0f} s**. Predicting them takes "
        f"{speed['predict_seconds']:.1f} s against {speed['segment_seconds']:.1f} s to segment "
        f"them: predict throughput is **{speed['predict_vs_segment_throughput']:.2f}x** segment "
        "throughput.",
        "",
    ]


def replace_marked(text: str, block: str) -> str:
    """``text`` with the part between the marker comments replaced by ``block``."""
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{block}{END}{after}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--seeds", type=parse_seeds, default=[0], help="fold splits, e.g. 0,1,2 (see targets.py)"
    )
    parser.add_argument("--tasks", help="comma-separated corpus:label list (default: all 8)")
    parser.add_argument("--jobs", type=int, default=2, help="target processes side by side")
    parser.add_argument("--skip-segmentation", action="store_true")
    parser.add_argument("--skip-small", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-curve", action="store_true")
    parser.add_argument("--curve-sizes", default="5,10,20,50", help="learning-curve sizes")
    parser.add_argument("--output", type=Path, default=HERE / "results.md")
    parser.add_argument(
        "--readme",
        type=Path,
        nargs="?",
        const=README,
        help="also put the tables into the marked part of this file (benchmarks/README.md)",
    )
    args = parser.parse_args()

    data = args.data.resolve()
    tasks = parse_tasks(args.tasks)
    seeds = args.seeds
    curve_png = (args.output.parent / "learning-curve.png").resolve()
    if args.readme and END not in args.readme.read_text(encoding="utf-8").partition(START)[2]:
        sys.exit(f"run_all: {args.readme} has no {START} ... {END} markers")
    python = sys.executable
    started = time.perf_counter()
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    measured_commit = commit()  # before this run writes its own outputs into the tree
    commands: list[str] = []
    body: list[str] = []
    # Kept after the run: every script's JSON output and stderr log, in case a step fails.
    tmp = Path(tempfile.mkdtemp(prefix="unclf-bench-"))
    print(f"raw results and logs: {tmp}", flush=True)

    def command(*parts: str) -> list[str]:
        commands.append(" ".join(shlex.quote(p) for p in parts))
        return [python, *parts]

    if not args.skip_segmentation:
        out = run(
            command("benchmarks/segmentation.py", "--data", str(data), "--json"),
            tmp / "segmentation.log",
        )
        (tmp / "segmentation.json").write_text(out)
        body += segmentation_section(json.loads(out))

    groups: dict[str, list[str]] = {}
    for corpus, label in tasks:
        groups.setdefault(corpus, []).append(f"{corpus}:{label}")
    jobs = []
    for corpus, names in groups.items():
        extra = ["--skip-small"] if args.skip_small else []
        jobs.append(
            (
                command(
                    "benchmarks/targets.py",
                    "--data",
                    str(data),
                    "--folds",
                    str(args.folds),
                    "--seeds",
                    ",".join(map(str, seeds)),
                    "--tasks",
                    ",".join(names),
                    "--skip-speed",
                    *extra,
                    "--json",
                    str(tmp / f"{corpus}.json"),
                ),
                tmp / f"{corpus}.log",
                tmp / f"{corpus}.json",
            )
        )
    # The learning curve measures hit@1 only, so it shares the pool with the target tasks.
    curve_job = []
    if not args.skip_curve:
        curve_job.append(
            (
                command(
                    "-m",
                    "unclf.cli",
                    "learning-curve",
                    str(data / "upr-dev.jsonl.gz"),
                    "--label",
                    CURVE_LABEL,
                    "--sizes",
                    args.curve_sizes,
                    "--folds",
                    str(args.folds),
                    "--seed",
                    str(seeds[0]),
                    "--plot",
                    str(curve_png),
                    "--json",
                ),
                tmp / "curve.log",
                tmp / "curve.json",
            )
        )
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        outputs = list(pool.map(lambda job: run(job[0], job[1]), jobs + curve_job))
    if curve_job:
        (tmp / "curve.json").write_text(outputs[-1])
    task_results, small = {}, {}
    for _, _, path in jobs:
        result = json.loads(path.read_text())
        task_results.update(result["tasks"])
        small.update(result["small"])
    order = [f"{c}:{label}" for c, label in tasks]
    small_order = [f"{c}:{label}" for c, label in SMALL_TASKS]
    if task_results:
        body += targets_section(
            {n: task_results[n] for n in order},
            {n: small[n] for n in small_order if n in small},
            args.folds,
            seeds,
        )

    if curve_job:
        body += curve_section(json.loads(outputs[-1]), args.folds)

    if not args.skip_speed:
        path = tmp / "speed.json"
        run(
            command(
                "benchmarks/targets.py",
                "--data",
                str(data),
                "--seeds",
                str(seeds[0]),
                "--tasks",
                "none",
                "--skip-small",
                "--json",
                str(path),
            ),
            tmp / "speed.log",
        )
        body += speed_section(json.loads(path.read_text())["speed"])

    throughput = HERE / "throughput.py"
    if throughput.exists() and not args.skip_throughput:
        out = run(command("benchmarks/throughput.py", "--data", str(data)), tmp / "throughput.log")
        body += [
            "### Throughput (`benchmarks/throughput.py`)",
            "",
            "```",
            out.strip(),
            "```",
            "",
        ]

    minutes = (time.perf_counter() - started) / 60
    head = [
        f"Measured {date} on {machine()}; unclf at commit {measured_commit}; the whole run took "
        f"{minutes:.0f} min. Commands, from the repository root (target tasks of one corpus "
        f"per process, {args.jobs} side by side, the timings alone):",
        "",
        "```bash",
        *[f"python {c}" for c in commands],
        "```",
        "",
    ]
    block = "\n".join(head + body).rstrip() + "\n"

    def placed(where: Path) -> str:
        """The block with the plot's path relative to the file that carries it."""
        return block.replace(IMAGE, os.path.relpath(curve_png, where.resolve().parent))

    args.output.write_text("# unclf benchmark results\n\n" + placed(args.output), encoding="utf-8")
    print(f"wrote {args.output}")
    if args.readme:
        text = args.readme.read_text(encoding="utf-8")
        args.readme.write_text(replace_marked(text, placed(args.readme)), encoding="utf-8")
        print(f"updated {args.readme}")


if __name__ == "__main__":
    main()
