"""The ``unclf`` command: segment, train, predict, evaluate, cv, learning-curve.

Only argument handling, reading and writing live here; every decision is made by the library.
Exit status: 0 every document done, 1 some documents failed (the others are written) or the
reader of the output went away, 2 the command could not run, 130 interrupted (Ctrl-C). Expected
failures print one line, never a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import unclf
from unclf.documents import (
    Document,
    DocumentError,
    InvalidDataError,
    LabelledDocument,
    describe_labels,
    read_documents,
    read_labelled,
)
from unclf.files import atomic_open
from unclf.formats import EXTENSIONS

if TYPE_CHECKING:
    from unclf.model import RankedDocument

EXIT_OK, EXIT_SOME_FAILED, EXIT_CANNOT_RUN = 0, 1, 2
_BATCH = 64


class UsageError(Exception):
    """The command cannot run; the message says why, in one line."""


# --- output ---------------------------------------------------------------------------------


@contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    """stdout, or a file that appears complete or not at all (written aside, then renamed)."""
    if path is None or path == "-":
        if sys.stdout is None:  # started with stdout closed (``>&-``)
            raise UsageError("stdout is closed; give an output file with --output")
        yield sys.stdout
        return
    if Path(path).is_dir():
        raise UsageError(f"{path}: is a folder, not an output file")
    with ExitStack() as stack:
        try:
            handle = stack.enter_context(atomic_open(path))
        except OSError as e:
            raise UsageError(f"{path}: cannot write output: {e.strerror or e}") from None
        yield handle


def _check_not_an_input(output: str | None, inputs: Iterable[str], option: str) -> None:
    """Refuse an output that would replace an input: the run would end by destroying it."""
    if output is None or output == "-":
        return
    out = Path(output)
    for item in inputs:
        source = Path(item)
        try:
            if item == "-" or not source.exists():
                continue
        except OSError:  # an input that cannot be looked at is the reader's error to report
            continue
        if source.is_dir():  # a document written into a folder being read would become one
            inside = Path(os.path.realpath(out)).is_relative_to(os.path.realpath(source))
            clash = inside and out.suffix.lower() in (".txt", *EXTENSIONS)
        else:
            clash = out.exists() and os.path.samefile(out, source)
        if clash:
            raise UsageError(f"{output}: {option} would overwrite the input {item}")


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def _report(error: DocumentError) -> None:
    print(f"unclf: {error}", file=sys.stderr)


def _error_id(error: DocumentError) -> str:
    """The document's id; a record without one is named after where it is, as the reader does."""
    if error.id is not None:
        return error.id
    return error.source if error.line is None else f"{error.source}:{error.line}"


def _error_record(error: DocumentError) -> dict:
    return {"id": _error_id(error), "error": str(error), "paragraphs": []}


def _batches(items: Iterable[Document | DocumentError]) -> Iterator[list]:
    items = iter(items)
    while batch := list(islice(items, _BATCH)):
        yield batch


_LINE_BREAK = re.compile(r"\r\n?|\n")  # as the segmenter reads lines: old Mac text has only \r


def _location(text: str, offset: int) -> str:
    line = len(_LINE_BREAK.findall(text, 0, offset)) + 1
    return f"line {line}, chars {offset}"


def _on_pages(doc: Document, start: int, end: int) -> dict:
    """``page`` and ``boxes`` of a paragraph of a PDF; nothing for other documents."""
    if doc.layout is None or not doc.layout.has_pages:
        return {}
    return {"page": doc.layout.page(start, end), "boxes": doc.layout.boxes(start, end)}


# --- segment --------------------------------------------------------------------------------


def _process(process: Callable[[list[str]], Iterable], docs: list[Document], debug: bool) -> list:
    """Results of ``process`` for ``docs``; should it fail on a document (a bug), that one
    document becomes an error and the others still get their results."""
    try:
        return list(process([d.text for d in docs]))
    except Exception:
        if debug:
            raise
    results: list = []
    for doc in docs:
        try:
            [result] = process([doc.text])
            results.append(result)
        except Exception as e:
            results.append(
                DocumentError(
                    doc.id, doc.source, None, f"internal error ({_one_line(e)}); please report it"
                )
            )
    return results


def _each(
    process: Callable[[list[str]], Iterable], debug: bool
) -> Callable[[Iterable[list[Document]]], Iterator[list]]:
    """The local engine: ``process`` one batch after the other, a failure contained to its
    document."""
    return lambda batches: (_process(process, docs, debug) for docs in batches)


def _texts(
    process: Callable[[Iterable[list[str]]], Iterable[Iterable]],
) -> Callable[[Iterable[list[Document]]], Iterable[Iterable]]:
    """Adapt an engine that takes batches of texts to batches of documents."""
    return lambda batches: process([d.text for d in docs] for docs in batches)


def _stream(
    args: argparse.Namespace,
    run: Callable[[Iterable[list[Document]]], Iterable[Iterable]],
    write: Callable[[TextIO, Document, object], None],
    *,
    also_read: Iterable[str] = (),
) -> int:
    """Feed ``run`` the readable documents batch by batch (it yields each batch's results, in
    order) and write every input's result in order; unreadable documents are reported and
    written as error records. Only the batches ``run`` has not answered yet are held.

    The documents done are counted on stderr when it is a terminal (the total is not known
    before a stream ends)."""
    from tqdm.auto import tqdm

    _check_not_an_input(args.output, [*args.inputs, *also_read], "--output")
    failed = 0
    waiting: deque[list] = deque()

    def documents() -> Iterator[list[Document]]:
        for batch in _batches(read_documents(args.inputs)):
            waiting.append(batch)
            yield [d for d in batch if isinstance(d, Document)]

    done = tqdm(desc=args.command, unit="doc", disable=None, leave=False)
    with _output(args.output) as out, done:
        for batch_results in run(documents()):
            batch = waiting.popleft()
            results = iter(batch_results)
            for item in batch:
                if isinstance(item, Document):
                    result = next(results)
                    if not isinstance(result, DocumentError):
                        write(out, item, result)
                        continue
                    item = result
                failed += 1
                with tqdm.external_write_mode():
                    _report(item)
                if args.format == "jsonl":
                    out.write(json.dumps(_error_record(item), ensure_ascii=False) + "\n")
                else:
                    out.write(f"# {_error_id(item)}\n  error: {item.message}\n\n")
            done.update(len(batch))
    return EXIT_SOME_FAILED if failed else EXIT_OK


def cmd_segment(args: argparse.Namespace) -> int:
    from unclf.segmenter import segment_many

    def write(out: TextIO, doc: Document, paragraphs: list) -> None:
        if args.format == "jsonl":
            # The record the segment command promises; a paragraph's section (a heading's text,
            # repeated on every paragraph under it) is in predict's text format and the library.
            fields = [
                {k: v for k, v in p.to_dict().items() if k != "section"}
                | _on_pages(doc, p.start, p.end)
                for p in paragraphs
            ]
            record: dict = {"id": doc.id, "paragraphs": fields}
            if doc.layout is not None:  # offsets index the text extracted from the file
                record["text"] = doc.text
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        out.write(f"# {doc.id}: {len(paragraphs)} paragraphs\n")
        for p in paragraphs:
            number = f"{p.number}. " if p.number else ""
            out.write(f"[{p.index}] ({p.kind}, {p.start}-{p.end}) {number}{p.text}\n")
        out.write("\n")

    return _stream(args, _each(segment_many, args.debug), write)


# --- train ----------------------------------------------------------------------------------


def _load_labelled(args: argparse.Namespace) -> list[LabelledDocument]:
    try:
        docs, skipped = read_labelled(args.data, label=args.label, skip_invalid=args.skip_invalid)
    except InvalidDataError as e:
        # The reader names its Python keyword; on the command line it is the option.
        raise UsageError(
            str(e).replace("(skip_invalid drops them)", "(--skip-invalid drops them)")
        ) from None
    for error in skipped:
        _report(error)
    if skipped:
        print(f"unclf: skipped {len(skipped)} invalid documents", file=sys.stderr)
    if args.label is None:
        labels = Counter(label for d in docs for label in {t.label for t in d.targets} - {None})
        if len(labels) > 1:
            raise UsageError(
                f"{args.data}: the data has several labels, choose one with --label "
                f"({describe_labels(labels)})"
            )
    return docs


def _labelled_task(args: argparse.Namespace) -> tuple[list[LabelledDocument], list[list]]:
    docs = _load_labelled(args)
    targets = [[(t.start, t.end) for t in d.targets] for d in docs]
    if not any(targets):
        raise UsageError(
            f"{args.data}: no document has a target"
            + (f" labelled {args.label!r}" if args.label else "")
        )
    return docs, targets


def cmd_train(args: argparse.Namespace) -> int:
    from unclf.model import UNSEEN_MISS_RATE, TargetSelector
    from unclf.persistence import data_fingerprint, save_model

    _check_writable(args.model_out)
    _check_not_an_input(args.model_out, [args.data], "--model-out")
    docs, targets = _labelled_task(args)
    with_target = sum(1 for t in targets if t)
    model = TargetSelector(mode=args.mode, n_jobs=args.jobs, random_state=args.seed)
    try:
        model.fit([d.text for d in docs], targets, progress=True)
    except ValueError as e:
        raise UsageError(f"{args.data}: {e}") from None
    if model.n_documents_without_target_ == 0:
        print(
            "unclf: note: every training document has a target, so none shows what a document "
            "without one looks like; a document is left unmarked when its best paragraph scores "
            f"below {model.abstain_threshold_:.2f}, as the lowest {UNSEEN_MISS_RATE:.0%} of the "
            "training documents do. Label some documents without a target to learn this instead.",
            file=sys.stderr,
        )
    if model.documents_with_unheld_targets_:
        ids = [docs[i].id for i in model.documents_with_unheld_targets_]
        shown = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
        print(
            f"unclf: warning: {len(ids)} documents have a target that no paragraph holds "
            f"(it is learned from nowhere): {shown}",
            file=sys.stderr,
        )
    label = args.label or next((t.label for d in docs for t in d.targets if t.label), None)
    metadata = save_model(
        model,
        args.model_out,
        label=label,
        training_data=str(args.data),
        data_fingerprint=data_fingerprint((d.id, d.text, targets[i]) for i, d in enumerate(docs)),
    )
    print(
        f"trained on {len(docs)} documents ({with_target} with a target, "
        f"{model.n_target_paragraphs_} target paragraphs) for label {label!r}; "
        f"mode {model.mode}, abstain below {model.abstain_threshold_:.2f}"
        f"{_ranking_note(model.ranking_)}"
        f"{_first_mention_note(model.lead_ratio_, model.passes_lead_ins_)}"
        f"{_kinds_note(model.target_kinds_)}; "
        f"saved to {args.model_out} (data {metadata['data_fingerprint'][:12]})"
    )
    return EXIT_OK


def _ranking_note(ranking: str) -> str:
    if ranking == "plain":
        return (
            ", ranked by its words alone (they found clearly more targets in held-out "
            "documents than the full model)"
        )
    return ""


def _kinds_note(target_kinds: tuple[str, ...]) -> str:
    from unclf.segmenter import KINDS

    ruled_out = [kind for kind in KINDS if kind not in target_kinds]
    return f", never first: {' or '.join(ruled_out)}" if ruled_out else ""


def _first_mention_note(lead_ratio: float, passes_lead_ins: bool) -> str:
    if lead_ratio >= 1.0:
        return ""
    passing = ", lead-ins passed over" if passes_lead_ins else ""
    return f", an earlier paragraph goes first within {lead_ratio:.1f}x of the best{passing}"


def _check_writable(path: str, what: str = "a model file") -> None:
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise UsageError(f"{path}: is a folder, not {what}")
    if not parent.is_dir():
        raise UsageError(f"{path}: cannot write there: no folder {str(parent)!r}")
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as e:
        raise UsageError(f"{path}: cannot write there: {e.strerror or e}") from None


# --- predict --------------------------------------------------------------------------------


def _model_path(path: str | None) -> Path:
    from unclf.persistence import default_model_path

    model_path = Path(path) if path else default_model_path()
    if not model_path.exists():
        if path:
            hint = ""
        elif os.environ.get("UNCLF_MODEL"):
            hint = " (named by UNCLF_MODEL)"
        else:
            hint = " (the default model; pass --model, or set UNCLF_MODEL)"
        raise UsageError(f"{model_path}: no such model file{hint}")
    return model_path


def _load(path: str | None):
    """The model, its metadata and the file's bytes (for workers: the same model)."""
    from unclf.persistence import ModelFileError, load_model_bytes, read_model_file

    path = _model_path(path)
    try:
        data = read_model_file(path)
        return (*load_model_bytes(data, str(path)), data)
    except ModelFileError as e:
        raise UsageError(str(e)) from None


def cmd_predict(args: argparse.Namespace) -> int:
    if args.engine != "dask" and (args.workers or args.scheduler):
        raise UsageError("--workers and --scheduler need --engine dask")
    if args.workers and args.scheduler:
        raise UsageError(
            "--workers starts a local cluster; --scheduler uses an existing one: give one of them"
        )
    model, metadata, data = _load(args.model)

    def write(out: TextIO, doc: Document, result: RankedDocument) -> None:
        if args.format == "text":
            _write_targets_text(out, doc, result, metadata.get("label"))
            return
        shown = result.paragraphs[: args.top_k] if args.top_k else result.paragraphs
        fields = [
            {
                "index": s.paragraph.index,
                "start": s.paragraph.start,
                "end": s.paragraph.end,
                "score": round(s.score, 6),
                "text": s.paragraph.text,
                "is_target": s.is_target,
            }
            | _on_pages(doc, s.paragraph.start, s.paragraph.end)
            for s in shown
        ]
        out.write(json.dumps({"id": doc.id, "paragraphs": fields}, ensure_ascii=False) + "\n")

    also_read = [args.model] if args.model else []
    if args.engine == "local":
        return _stream(args, _each(model.rank, args.debug), write, also_read=also_read)
    try:
        from unclf.engines import DaskEngine
    except ImportError as e:
        if not (e.name or "").startswith(("dask", "distributed")):
            raise
        raise UsageError(
            "--engine dask needs Dask distributed: pip install 'unclf[dask]'"
        ) from None
    with ExitStack() as stack:
        try:
            engine = stack.enter_context(
                DaskEngine(data, workers=args.workers, scheduler=args.scheduler)
            )
        except OSError as e:
            where = (
                f"the Dask scheduler at {args.scheduler}"
                if args.scheduler
                else "a local Dask cluster"
            )
            raise UsageError(f"cannot start or reach {where}: {e}") from None
        return _stream(args, _texts(engine.rank_batches), write, also_read=also_read)


def _write_targets_text(out: TextIO, doc: Document, result, label: str | None) -> None:
    out.write(f"# {doc.id}\n")
    if not result.targets:
        best = result.paragraphs[0] if result.paragraphs else None
        note = ""
        if best is not None:
            page = _on_pages(doc, best.paragraph.start, best.paragraph.end).get("page")
            on_page = f" on page {page}" if page is not None else ""
            note = f" (best paragraph [{best.paragraph.index}]{on_page} scored {best.score:.2f})"
        out.write(f"  no {label or 'target'} paragraph found{note}\n\n")
        return
    for s in result.targets:
        p = s.paragraph
        number = f"{p.number}. " if p.number else ""
        page = _on_pages(doc, p.start, p.end).get("page")
        out.write(
            f"  [{p.index}] score {s.score:.2f}, "
            + (f"page {page}, " if page is not None else "")
            + f"{_location(doc.text, p.start)}-{p.end}"
            + (f", under {p.section!r}" if p.section else "")
            + "\n"
        )
        out.write(f"  {number}{p.text}\n\n")


# --- evaluate -------------------------------------------------------------------------------


def _json_out(value: dict) -> None:
    print(json.dumps(value, indent=2, allow_nan=False))


def _show(value: float | None, spec: str = ".3f") -> str:
    """A figure for a person; "n/a" where it is undefined (no document with a target)."""
    return "n/a" if value is None or math.isnan(value) else format(value, spec)


def _print_abstained(summary: dict) -> None:
    if summary["documents_without_target"]:
        print(
            f"  abstained on {summary['abstained_without_target']} of "
            f"{summary['documents_without_target']} documents without a target"
        )


def cmd_evaluate(args: argparse.Namespace) -> int:
    model, metadata, _ = _load(args.model)
    if args.label is None:
        args.label = metadata.get("label")
    docs = _load_labelled(args)
    summary = model.evaluate(
        [d.text for d in docs], [[(t.start, t.end) for t in d.targets] for d in docs]
    )
    summary["label"] = args.label
    if args.json:
        # No document with a target leaves the means undefined: null, as JSON has no NaN.
        _json_out(
            {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in summary.items()}
        )
        return EXIT_OK
    print(f"label {args.label!r}: {summary['documents']} documents with a target")
    print(f"  hit@1     {_show(summary['hit@1'])}")
    print(f"  MRR       {_show(summary['mrr'])}")
    print(f"  recall@5  {_show(summary['recall@5'])}")
    print(
        f"  chosen paragraph, median chars {_show(summary['chosen_chars_median'], '.0f')} "
        f"(gold {_show(summary['gold_chars_median'], '.0f')})"
    )
    _print_abstained(summary)
    return EXIT_OK


# --- cv, learning-curve ----------------------------------------------------------------------


def cmd_cv(args: argparse.Namespace) -> int:
    from unclf.evaluation import cross_validate
    from unclf.report import render_report

    if args.report:
        _check_writable(args.report, "a report file")
        _check_not_an_input(args.report, [args.data], "--report")
    docs, targets = _labelled_task(args)
    try:
        cv = cross_validate(
            [d.text for d in docs],
            targets,
            ids=[d.id for d in docs],
            folds=args.folds,
            seed=args.seed,
            mode=args.mode,
            progress=True,
        )
    except ValueError as e:
        raise UsageError(f"{args.data}: {e}") from None
    if args.report:
        title = f"unclf cross-validation: {args.label or Path(args.data).name}"
        with _output(args.report) as out:
            layouts = {d.id: d.layout for d in docs if d.layout is not None}
            out.write(render_report(cv, title, layouts))
    if args.json:
        _json_out(cv.to_dict())
        return EXIT_OK
    s = cv.summary

    print(
        f"{len(docs)} documents, {args.folds} folds, seed {args.seed}: hit@1 over the "
        f"{s['documents']} documents with a target"
    )
    print(
        f"  {'unclf':24s} hit@1 {_show(s['hit@1'])} (95% interval {_show(s['hit@1_ci95'][0])}"
        f"-{_show(s['hit@1_ci95'][1])}, fold std {_show(s['hit@1_fold_std'])})  "
        f"MRR {_show(s['mrr'])}  recall@5 {_show(s['recall@5'])}"
    )
    ranked = sorted(
        cv.baselines.items(), key=lambda kv: (math.isnan(kv[1]["hit@1"]), -kv[1]["hit@1"])
    )
    for name, b in ranked:
        print(
            f"  {name:24s} hit@1 {_show(b['hit@1'])}  MRR {_show(b['mrr'])}  "
            f"recall@5 {_show(b['recall@5'])}"
        )
    print(
        f"  marked paragraphs: precision {_show(s['precision'])}, recall {_show(s['recall'])}, "
        f"F1 {_show(s['f1'])}"
    )
    bands = [
        f"{b['scores']}: {_show(b['hit@1'])} ({b['documents']} documents)"
        for b in s["hit@1_by_score"]
    ]
    print(f"  hit@1 by the chosen paragraph's score: {', '.join(bands)}")
    _print_abstained(s)
    if args.report:
        print(f"  {len(cv.misses)} missed documents: see {args.report}")
    return EXIT_OK


def _sizes(value: str) -> list[int]:
    try:
        sizes = sorted({int(v) for v in value.split(",") if v.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {value!r}"
        ) from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"sizes must be 1 or more: {value!r}")
    return sizes


def cmd_learning_curve(args: argparse.Namespace) -> int:
    from unclf.evaluation import learning_curve
    from unclf.report import plot_learning_curve

    if args.plot:
        _check_writable(args.plot, "an image file")
        _check_not_an_input(args.plot, [args.data], "--plot")
    docs, targets = _labelled_task(args)
    try:
        curve = learning_curve(
            [d.text for d in docs],
            targets,
            args.sizes,
            folds=args.folds,
            repeats=args.repeats,
            seed=args.seed,
            mode=args.mode,
            progress=True,
        )
    except ValueError as e:
        raise UsageError(f"{args.data}: {e}") from None
    if args.plot:
        plot_learning_curve(
            curve, args.plot, f"Learning curve: {args.label or Path(args.data).name}"
        )
    if args.json:
        _json_out(curve)
        return EXIT_OK
    best = curve["best_baseline"]
    print(
        f"hit@1 on held-out documents, mean ± std over {args.folds} folds x {args.repeats} "
        f"repeats (best baseline: {best})"
    )
    for p in curve["points"]:
        m, b = p["model"], p["baselines"][best]
        print(
            f"  {p['size']:5d} documents: unclf {m['mean']:.3f} ± {m['std']:.3f}   "
            f"{best} {b['mean']:.3f} ± {b['std']:.3f}"
        )
    if args.plot:
        print(f"plot: {args.plot}")
    return EXIT_OK


# --- entry point ----------------------------------------------------------------------------


def _whole_number(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = _whole_number(value)
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, got {number}")
        return number

    return parse


_non_negative, _positive, _folds = _at_least(0), _at_least(1), _at_least(2)


def _jobs(value: str) -> int:
    """joblib's convention: a count of processes, or -1 for every core (-2 all but one)."""
    number = _whole_number(value)
    if number == 0:
        raise argparse.ArgumentTypeError("must not be 0 (-1: every core)")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unclf", description="Find the target paragraph of UN documents."
    )
    parser.add_argument("--version", action="version", version=f"unclf {unclf.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    inputs_help = (
        ".txt, .pdf, .docx or .html files, folders of them, JSONL/CSV/Parquet with id and text,"
        " or - for stdin"
    )

    p = sub.add_parser("segment", help="split documents into paragraphs")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help=inputs_help)
    p.add_argument("--output", "-o", help="output file (default: stdout)")
    p.add_argument("--format", choices=("jsonl", "text"), default="jsonl")
    p.set_defaults(run=cmd_segment)

    p = sub.add_parser("train", help="learn the target paragraph from labelled documents")
    p.add_argument("data", help="labelled JSONL/CSV/Parquet: id, text, targets")
    p.add_argument("--label", help="the target label to learn (required if the data has several)")
    p.add_argument("--model-out", required=True, help="where to write the model file")
    p.add_argument(
        "--mode",
        choices=("single", "multi"),
        default="single",
        help="single: one target per document; multi: every paragraph above threshold",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--jobs",
        type=_jobs,
        default=-1,
        help="processes parsing the documents and fitting the folds side by side (-1: all cores)",
    )
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="train on the valid documents and report the others",
    )
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("predict", help="find the target paragraph(s) of new documents")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help=inputs_help)
    p.add_argument(
        "--model",
        help="model file (default: $UNCLF_MODEL, else the example "
        "model models/default.unclf of the source checkout)",
    )
    p.add_argument("--output", "-o", help="output file (default: stdout)")
    p.add_argument(
        "--top-k", type=_non_negative, default=0, help="keep the K best paragraphs (0: all)"
    )
    p.add_argument("--format", choices=("jsonl", "text"), default="jsonl")
    p.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="dask: spread the documents over a Dask cluster (pip install 'unclf[dask]')",
    )
    p.add_argument(
        "--workers",
        type=_positive,
        metavar="N",
        help="with --engine dask: start a local cluster of N worker processes "
        "(default: one per CPU)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --engine dask: use the existing cluster at ADDRESS "
        "(e.g. tcp://host:8786); its workers need unclf installed",
    )
    p.set_defaults(run=cmd_predict)

    p = sub.add_parser("evaluate", help="hit@1, MRR and recall@5 of a model on labelled data")
    p.add_argument("data", help="labelled JSONL/CSV/Parquet: id, text, targets")
    p.add_argument("--model", required=True, help="model file")
    p.add_argument("--label", help="label to evaluate (default: the model's)")
    p.add_argument("--skip-invalid", action="store_true")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("cv", help="cross-validate the model and the baselines on labelled data")
    p.add_argument("data", help="labelled JSONL/CSV/Parquet: id, text, targets")
    p.add_argument("--label", help="the target label (required if the data has several)")
    p.add_argument("--folds", type=_folds, default=5, help="document folds (default 5)")
    p.add_argument("--mode", choices=("single", "multi"), default="single")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-invalid", action="store_true")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--report", metavar="FILE.html", help="write the error report here")
    p.set_defaults(run=cmd_cv)

    p = sub.add_parser("learning-curve", help="hit@1 against the number of training documents")
    p.add_argument("data", help="labelled JSONL/CSV/Parquet: id, text, targets")
    p.add_argument("--label", help="the target label (required if the data has several)")
    p.add_argument("--sizes", type=_sizes, required=True, help="training sizes, e.g. 5,10,20,50")
    p.add_argument("--folds", type=_folds, default=5, help="document folds (default 5)")
    p.add_argument("--repeats", type=_positive, default=1, help="fold splits to repeat (default 1)")
    p.add_argument("--mode", choices=("single", "multi"), default="single")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-invalid", action="store_true")
    p.add_argument("--plot", metavar="FILE.png", help="write the plot here (PNG)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_learning_curve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Scoped, so that calling main() in-process leaves the caller's warning settings alone.
    with warnings.catch_warnings():
        if not args.debug:
            warnings.simplefilter("ignore", FutureWarning)
        warnings.showwarning = lambda message, *_, **__: print(
            f"unclf: warning: {message}", file=sys.stderr
        )
        try:
            return args.run(args)
        except UsageError as e:
            if args.debug:
                raise
            print(f"unclf: error: {e}", file=sys.stderr)
            return EXIT_CANNOT_RUN
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            # The reader went away (``| head``): stop quietly, and keep Python from
            # complaining again when it flushes stdout at exit.
            with suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_SOME_FAILED
        except OSError as e:  # e.g. the disk filled up while writing the output
            if args.debug:
                raise
            where = f"{e.filename}: " if e.filename else ""
            print(f"unclf: error: {where}{e.strerror or e}", file=sys.stderr)
            return EXIT_CANNOT_RUN
        except Exception as e:  # a bug: still one line; --debug shows where
            if args.debug:
                raise
            print(
                f"unclf: error: internal error ({_one_line(e)}); please report it, "
                "--debug shows the traceback",
                file=sys.stderr,
            )
            return EXIT_CANNOT_RUN


if __name__ == "__main__":
    sys.exit(main())
