"""The ``unclf`` command: segment, train, predict, evaluate, cv, learning-curve, review.

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
from functools import partial
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TextIO

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
from unclf.review.ordering import DEFAULT_ORDER, ORDERS
from unclf.words import count

if TYPE_CHECKING:
    from unclf.model import RankedDocument

EXIT_OK, EXIT_SOME_FAILED, EXIT_CANNOT_RUN = 0, 1, 2
_BATCH = 64
# The label of targets that name none, when no --label names them.
_UNNAMED_LABEL = "target"


def _searched(label: str) -> str:
    """What the model searches for, in words: the label's name, none for the placeholder."""
    return "" if label == _UNNAMED_LABEL else label


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
    _check_folder(path)
    with ExitStack() as stack:
        try:
            handle = stack.enter_context(atomic_open(path))
        except OSError as e:
            raise UsageError(f"{path}: cannot write output: {e.strerror or e}") from None
        yield handle


def _check_folder(path: str) -> None:
    """The one message for an output whose folder does not exist, whichever option names it."""
    parent = Path(path).parent
    if not parent.is_dir():
        raise UsageError(f"{path}: cannot write there: no folder {str(parent)!r}")


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
    from tqdm import tqdm

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


def _as_language(texts: list[str], language: str | None) -> list:
    """The texts segmented and tokenized as ``language`` (--language); without it, as they
    are, and each is read as the language it is written in."""
    if language is None:
        return texts
    from unclf.segmenter import parse_many

    return list(parse_many(texts, language=language))


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
        out.write(f"# {doc.id}: {count(len(paragraphs), 'paragraph')}\n")
        for p in paragraphs:
            number = f"{p.number}. " if p.number else ""
            out.write(f"[{p.index}] ({p.kind}, {p.start}-{p.end}) {number}{p.text}\n")
        out.write("\n")

    segment = partial(segment_many, language=args.language)
    return _stream(args, _each(segment, args.debug), write)


# --- train ----------------------------------------------------------------------------------


def _load_labelled(args: argparse.Namespace) -> list[LabelledDocument]:
    labels = args.label or []
    try:
        docs, skipped = read_labelled(
            args.data,
            label=labels[0] if len(labels) == 1 else None,
            skip_invalid=args.skip_invalid,
        )
    except InvalidDataError as e:
        # The reader names its Python keyword; on the command line it is the option.
        raise UsageError(
            str(e).replace("(skip_invalid drops them)", "(--skip-invalid drops them)")
        ) from None
    for error in skipped:
        _report(error)
    if skipped:
        print(f"unclf: skipped {count(len(skipped), 'invalid document')}", file=sys.stderr)
    return docs


def _labels_of(docs: list[LabelledDocument]) -> Counter[str]:
    """Per label, the documents that have a target of it, or have it as a whole."""
    return Counter(
        label for d in docs for label in ({t.label for t in d.targets} - {None}) | set(d.labels)
    )


class _Tasks(NamedTuple):
    """Labelled documents and what to learn from them: per paragraph label, each document's
    target spans; per document label, whether each document has it."""

    docs: list[LabelledDocument]
    spans: dict[str, list[list[tuple[int, int]]]]
    document: dict[str, list[bool]]


def _labelled_tasks(args: argparse.Namespace, need_targets: bool = True) -> _Tasks:
    """The labels to learn and their documents.

    The labels: those of ``--label``; with ``--all-labels`` every label with at least
    ``--min-documents`` documents; else the data's only label ("target" when its targets
    name none). A label that some target names is a paragraph label; else, one that documents
    carry in ``labels`` is a label of the whole document. Targets without a label belong to the
    one label learnt, and to none of several (said on stderr). ``need_targets``: a label
    without a target is an error (to learn it; an evaluation may measure abstention alone)."""
    docs = _load_labelled(args)
    counts = _labels_of(docs)
    labels: list[str] = list(dict.fromkeys(args.label or []))
    if getattr(args, "all_labels", False):
        labels = [label for label, n in counts.most_common() if n >= args.min_documents]
        if not labels:
            raise UsageError(
                f"{args.data}: no label has {args.min_documents} or more documents "
                f"({describe_labels(counts) or 'no target names a label'}); "
                "lower --min-documents"
            )
    elif not labels:
        if len(counts) > 1:
            choose = (
                "one with --label"
                if not hasattr(args, "all_labels")
                else ("with --label (several allowed) or --all-labels")
            )
            raise UsageError(
                f"{args.data}: the data has several labels, choose {choose} "
                f"({describe_labels(counts)})"
            )
        labels = list(counts) or [_UNNAMED_LABEL]
    missing = [label for label in labels if label != _UNNAMED_LABEL and not counts[label]]
    if missing and need_targets:
        raise UsageError(
            f"{args.data}: no document has label {missing[0]!r}; labels in the file: "
            f"{describe_labels(counts) or 'none'}"
        )
    unnamed = sum(1 for d in docs for t in d.targets if t.label is None)
    if unnamed and len(labels) > 1:
        print(
            f"unclf: warning: left out {count(unnamed, 'target')} without a label: with several "
            "labels, each target needs its own",
            file=sys.stderr,
        )
    paragraph_labels = {t.label for d in docs for t in d.targets}
    document_labels = {label for d in docs for label in d.labels}
    whole = [
        label for label in labels if label in document_labels and label not in paragraph_labels
    ]
    by_label = {
        label: [
            [
                (t.start, t.end)
                for t in d.targets
                if t.label == label or (t.label is None and len(labels) == 1)
            ]
            for d in docs
        ]
        for label in labels
        if label not in whole
    }
    for label, targets in by_label.items():
        if need_targets and not any(targets):
            raise UsageError(f"{args.data}: no document has a target labelled {label!r}")
    by_document = {label: [label in d.labels for d in docs] for label in whole}
    for label, has in by_document.items():
        if need_targets and all(has):
            raise UsageError(
                f"{args.data}: every document has label {label!r}; documents without it are "
                "needed to learn it"
            )
    return _Tasks(docs, by_label, by_document)


def _one_task(args: argparse.Namespace) -> tuple[list[LabelledDocument], list[list]]:
    """The documents and their targets for the one label a command learns."""
    if args.label and len(set(args.label)) > 1:
        raise UsageError(f"{args.command} learns one label at a time; give --label once")
    tasks = _labelled_tasks(args)
    if tasks.document:
        raise UsageError(
            f"{args.data}: {next(iter(tasks.document))!r} is a label of whole documents; "
            f"{args.command} measures paragraph labels"
        )
    [(label, targets)] = tasks.spans.items()
    args.label = [label]
    return tasks.docs, targets


def cmd_train(args: argparse.Namespace) -> int:
    from unclf.document_labels import DocumentLabeler
    from unclf.model import UNSEEN_MISS_RATE, TargetSelector, fit_labels, parse_documents
    from unclf.persistence import data_fingerprint, document_fingerprints, save_model

    _check_writable(args.model_out)
    _check_not_an_input(args.model_out, [args.data], "--model-out")
    docs, by_label, by_document = _labelled_tasks(args)
    selector = TargetSelector(
        mode=args.mode,
        n_jobs=args.jobs,
        random_state=args.seed,
        target_name="" if set(by_label) == {_UNNAMED_LABEL} else None,  # else each its own
    )
    texts = _as_language([d.text for d in docs], args.language)
    parsed = list(parse_documents(texts, progress=True, total=len(docs), n_jobs=args.jobs))
    try:
        models = fit_labels(selector, parsed, by_label, progress=True) if by_label else {}
        labelers = {
            label: DocumentLabeler(random_state=args.seed).fit(parsed, has)
            for label, has in by_document.items()
        }
    except ValueError as e:
        raise UsageError(f"{args.data}: {e}") from None
    all_targets = [
        [(s, e, label) for label, targets in by_label.items() for s, e in targets[i]]
        + [(-1, -1, label) for label, has in by_document.items() if has[i]]
        for i in range(len(docs))
    ]
    metadata = save_model(
        {**models, **labelers},
        args.model_out,
        training_data=str(args.data),
        data_fingerprint=data_fingerprint(
            (d.id, d.text, all_targets[i]) for i, d in enumerate(docs)
        ),
        training_documents=sorted(set(document_fingerprints(d.text for d in docs))),
    )
    without_negatives = [label for label, m in models.items() if m.n_documents_without_target_ == 0]
    if without_negatives:
        which = "" if len(models) == 1 else f" of {_names(without_negatives)}"
        print(
            f"unclf: note: every training document has a target{which}, so none shows what a "
            "document without one looks like; a document is left unmarked when its best "
            "paragraph scores below the threshold that the lowest "
            f"{UNSEEN_MISS_RATE:.0%} of the training documents fall under. Label some "
            "documents without a target to learn this instead.",
            file=sys.stderr,
        )
    for label, model in models.items():
        if model.documents_with_unheld_targets_:
            ids = [docs[i].id for i in model.documents_with_unheld_targets_]
            shown = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
            print(
                f"unclf: warning: {_for_label(label, models)}{count(len(ids), 'document')} with a "
                f"target that no paragraph holds (it is learned from nowhere): {shown}",
                file=sys.stderr,
            )
    saved = f"saved to {args.model_out} (data {metadata['data_fingerprint'][:12]})"
    if len(models) == 1 and not labelers:
        [(label, model)] = models.items()
        print(f"trained on {count(len(docs), 'document')} {_label_summary(label, model)}; {saved}")
        return EXIT_OK
    print(
        f"trained {len(models) + len(labelers)} labels on {count(len(docs), 'document')}, mode "
        f"{args.mode}; {saved}"
    )
    for label, model in models.items():
        print(f"  {label!r}: {_label_summary(label, model, with_label=False)}")
    for label, labeler in labelers.items():
        print(
            f"  {label!r}: a label of whole documents, on {labeler.n_documents_with_label_} of "
            f"the {count(len(docs), 'document')}"
        )
    return EXIT_OK


def _names(labels: list[str], shown: int = 5) -> str:
    names = ", ".join(repr(label) for label in labels[:shown])
    return names + (f" and {len(labels) - shown} more" if len(labels) > shown else "")


def _for_label(label: str, models: dict) -> str:
    return f"{label!r}: " if len(models) > 1 else ""


def _label_summary(label: str, model, with_label: bool = True) -> str:
    """What a trained selector learnt, in a line."""
    with_target = model.n_documents_ - model.n_documents_without_target_
    return (
        f"({with_target} with a target, {count(model.n_target_paragraphs_, 'target paragraph')})"
        + (f" for label {label!r}" if with_label else "")
        + f"; mode {model.mode}, abstain below {model.abstain_threshold_:.2f}"
        f"{_ranking_note(model.ranking_)}"
        f"{_first_mention_note(model.lead_ratio_, model.passes_lead_ins_)}"
        f"{_kinds_note(model.target_kinds_)}"
    )


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
    if target.is_dir():
        raise UsageError(f"{path}: is a folder, not {what}")
    _check_folder(path)
    try:
        with tempfile.TemporaryFile(dir=target.parent):
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


def _chosen_labels(args: argparse.Namespace, models: dict, model_path: str | None) -> list[str]:
    """The model's labels that ``--label`` picks (all of them without it)."""
    if not args.label:
        return list(models)
    unknown = [label for label in args.label if label not in models]
    if unknown:
        raise UsageError(
            f"{model_path or 'the model'}: has no label {unknown[0]!r}; its labels: "
            f"{_names(list(models), shown=20)}"
        )
    return list(dict.fromkeys(args.label))


def _answer_record(doc: Document, label: str, answer, top_k: int) -> dict:
    """The JSONL record of a document's answer for a label: its paragraphs best first (a
    paragraph label), or whether it has the label, how sure, and the paragraph that weighed
    most (a label of whole documents)."""
    from unclf.document_labels import DocumentDecision

    if isinstance(answer, DocumentDecision):
        evidence = answer.evidence
        return {
            "id": doc.id,
            "label": label,
            "has_label": answer.has_label,
            "score": round(answer.score, 6),
            "evidence": None
            if evidence is None
            else {k: getattr(evidence, k) for k in ("index", "start", "end", "text")}
            | _on_pages(doc, evidence.start, evidence.end),
        }
    shown = answer.paragraphs[:top_k] if top_k else answer.paragraphs
    return {
        "id": doc.id,
        "label": label,
        "paragraphs": [_paragraph_fields(s, doc) for s in shown],
    }


def _paragraph_fields(scored, doc: Document) -> dict:
    p = scored.paragraph
    return {
        "index": p.index,
        "start": p.start,
        "end": p.end,
        "score": round(scored.score, 6),
        "text": p.text,
        "is_target": scored.is_target,
    } | _on_pages(doc, p.start, p.end)


_CSV_COLUMNS = ("id", "label", "index", "page", "start", "end", "score", "is_target", "text")


def cmd_predict(args: argparse.Namespace) -> int:
    if args.engine != "dask" and (args.workers or args.scheduler):
        raise UsageError("--workers and --scheduler need --engine dask")
    if args.workers and args.scheduler:
        raise UsageError(
            "--workers starts a local cluster; --scheduler uses an existing one: give one of them"
        )
    if args.by_paragraph and args.top_k:
        raise UsageError("--by-paragraph lists the paragraphs marked for any label; drop --top-k")
    if args.by_paragraph and args.format == "csv":
        raise UsageError("--by-paragraph writes JSONL or text; drop --format csv")
    models, _, data = _load(args.model)
    labels = _chosen_labels(args, models, args.model)
    if not args.model:
        print(f"unclf: using the model {_model_path(None)} ({_names(labels)})", file=sys.stderr)
    csv_header = [args.format == "csv"]

    def write(out: TextIO, doc: Document, result: dict[str, RankedDocument]) -> None:
        if args.by_paragraph:
            _write_by_paragraph(out, doc, result, args.format)
        elif args.format == "text":
            _write_targets_text(out, doc, result, args.top_k)
        elif args.format == "csv":
            _write_csv(out, doc, result, args.top_k, csv_header)
        else:
            for label, answer in result.items():
                record = _answer_record(doc, label, answer, args.top_k)
                out.write(json.dumps(record, ensure_ascii=False) + "\n")

    also_read = [args.model] if args.model else []
    if args.engine == "local":
        from unclf.document_labels import predict_labels

        chosen = {label: models[label] for label in labels}
        return _stream(
            args,
            _each(
                lambda texts: predict_labels(chosen, _as_language(texts, args.language)), args.debug
            ),
            write,
            also_read=also_read,
        )
    if args.language:
        raise UsageError(
            "--language works with the local engine; on Dask each document is read as the "
            "language it is written in"
        )
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
                DaskEngine(data, labels=labels, workers=args.workers, scheduler=args.scheduler)
            )
        except OSError as e:
            where = (
                f"the Dask scheduler at {args.scheduler}"
                if args.scheduler
                else "a local Dask cluster"
            )
            raise UsageError(f"cannot start or reach {where}: {e}") from None
        return _stream(args, _texts(engine.rank_batches), write, also_read=also_read)


def _write_targets_text(
    out: TextIO, doc: Document, result: dict[str, RankedDocument], top_k: int
) -> None:
    """A document's suggestions for a reader: per label, the marked paragraphs (or the
    ``top_k`` best, marked or not)."""
    from unclf.document_labels import DocumentDecision

    out.write(f"# {doc.id}\n")
    for label, ranked in result.items():
        if isinstance(ranked, DocumentDecision):
            verdict = "yes" if ranked.has_label else "no"
            out.write(f"  {label} (the whole document): {verdict}, score {ranked.score:.2f}\n")
            if ranked.evidence is not None:
                out.write(f"  weighed most: [{ranked.evidence.index}] {ranked.evidence.text}\n")
            out.write("\n")
            continue
        shown = ranked.paragraphs[:top_k] if top_k else ranked.targets
        if not shown:
            if not ranked.paragraphs:
                out.write(f"  {label}: no paragraph found (the document has none)\n\n")
                continue
            best = ranked.paragraphs[0]
            page = _on_pages(doc, best.paragraph.start, best.paragraph.end).get("page")
            on_page = f" on page {page}" if page is not None else ""
            note = f" (best paragraph [{best.paragraph.index}]{on_page} scored {best.score:.2f})"
            out.write(f"  {label}: no paragraph found{note}\n\n")
            continue
        for s in shown:
            p = s.paragraph
            number = f"{p.number}. " if p.number else ""
            mark = "" if s.is_target else ", not marked"
            page = _on_pages(doc, p.start, p.end).get("page")
            out.write(
                f"  {label}: [{p.index}] score {s.score:.2f}{mark}, "
                + (f"page {page}, " if page is not None else "")
                + f"{_location(doc.text, p.start)}-{p.end}"
                + (f", under {p.section!r}" if p.section else "")
                + "\n"
            )
            out.write(f"  {number}{p.text}\n\n")


def _write_csv(
    out: TextIO,
    doc: Document,
    result: dict[str, RankedDocument],
    top_k: int,
    header: list[bool],
) -> None:
    """One row per document, label and marked paragraph (or each of the ``top_k`` best); a
    row with no paragraph where none is marked, so that every document and label shows."""
    import csv

    writer = csv.writer(out, lineterminator="\n")
    if header[0]:
        writer.writerow(_CSV_COLUMNS)
        header[0] = False
    from unclf.document_labels import DocumentDecision

    for label, ranked in result.items():
        if isinstance(ranked, DocumentDecision):  # the paragraph that weighed most
            p = ranked.evidence
            where = (
                ["", "", "", "", ""]
                if p is None
                else [
                    p.index,
                    _on_pages(doc, p.start, p.end).get("page", ""),
                    p.start,
                    p.end,
                    p.text,
                ]
            )
            score = round(ranked.score, 6)
            writer.writerow([doc.id, label, *where[:4], score, ranked.has_label, where[4]])
            continue
        shown = ranked.paragraphs[:top_k] if top_k else ranked.targets
        if not shown:
            writer.writerow([doc.id, label, "", "", "", "", "", False, ""])
        for s in shown:
            f = _paragraph_fields(s, doc)
            writer.writerow([doc.id, label, *(f.get(c, "") for c in _CSV_COLUMNS[2:])])


def _write_by_paragraph(
    out: TextIO, doc: Document, result: dict[str, RankedDocument], fmt: str
) -> None:
    """Each paragraph marked for some label, with the labels it is marked for."""
    from unclf.document_labels import DocumentDecision

    marked: dict[int, tuple] = {}
    whole = [
        {"label": label, "score": round(d.score, 6)}
        for label, d in result.items()
        if isinstance(d, DocumentDecision) and d.has_label
    ]
    for label, ranked in result.items():
        if isinstance(ranked, DocumentDecision):
            continue
        for s in ranked.targets:
            _, labels = marked.setdefault(s.paragraph.index, (s.paragraph, []))
            labels.append({"label": label, "score": round(s.score, 6)})
    rows = [marked[i] for i in sorted(marked)]
    if fmt == "jsonl":
        paragraphs = [
            {"index": p.index, "start": p.start, "end": p.end, "text": p.text, "labels": labels}
            | _on_pages(doc, p.start, p.end)
            for p, labels in rows
        ]
        record = {"id": doc.id, "labels": whole, "paragraphs": paragraphs}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    out.write(f"# {doc.id}\n")
    if whole:
        names = ", ".join(f"{x['label']} ({x['score']:.2f})" for x in whole)
        out.write(f"  the whole document: {names}\n\n")
    if not rows:
        out.write("  no paragraph marked for any label\n\n")
    for p, labels in rows:
        names = ", ".join(f"{x['label']} ({x['score']:.2f})" for x in labels)
        out.write(f"  [{p.index}] {_location(doc.text, p.start)}-{p.end}: {names}\n")
        out.write(f"  {p.text}\n\n")


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
            f"{count(summary['documents_without_target'], 'document')} without a target"
        )


def _nan_to_none(summary: dict) -> dict:
    """No document with a target leaves the means undefined: null, as JSON has no NaN."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in summary.items()}


def _mean_of(rows: Iterable[dict], keys: tuple[str, ...]) -> dict:
    """The mean of each figure over the rows where it is defined."""
    rows = list(rows)
    mean = {}
    for key in keys:
        values = [r[key] for r in rows if not math.isnan(r[key])]
        mean[key] = sum(values) / len(values) if values else float("nan")
    return mean


def _print_document_labels(
    args: argparse.Namespace, whole: dict[str, dict], summaries: dict[str, dict]
) -> None:
    """``evaluate`` with labels of whole documents: their figures, then the paragraph labels'."""
    if args.json:
        _json_out(
            {
                "labels": {label: _nan_to_none(s) for label, s in summaries.items()},
                "document_labels": {label: _nan_to_none(s) for label, s in whole.items()},
            }
        )
        return
    width = max(len(label) for label in whole) + 2
    print(
        f"{'label of whole documents':{width}s} documents  with it  accuracy  precision  "
        "recall    F1"
    )
    for label, s in whole.items():
        print(
            f"{label:{width}s} {s['documents']:9d}  {s['with_label']:7d}  {_show(s['accuracy'])}"
            f"     {_show(s['precision'])}   {_show(s['recall'])}  {_show(s['f1'])}"
        )
    for label, s in summaries.items():
        print(
            f"{label!r}: hit@1 {_show(s['hit@1'])}, MRR {_show(s['mrr'])}, recall@5 "
            f"{_show(s['recall@5'])} over {count(s['documents'], 'document')} with a target"
        )


def cmd_evaluate(args: argparse.Namespace) -> int:
    from unclf.document_labels import DocumentLabeler
    from unclf.evaluation import document_label_summary
    from unclf.model import parse_documents, rank_labels, ranking_summary

    models, metadata, _ = _load(args.model)
    if args.all_labels:
        args.label = list(models)
    elif not args.label:
        if len(models) > 1:
            raise UsageError(
                f"{args.model}: the model has {len(models)} labels; choose with --label "
                "(several allowed) or --all-labels"
            )
        args.label = list(models)
    elif len(models) > 1:  # one label's selector may be tried on another label's data
        _chosen_labels(args, models, args.model)
    args.all_labels = False
    docs, spans, _ = _labelled_tasks(args, need_targets=False)
    _warn_if_trained_on(docs, metadata, args.model)
    chosen = (
        {label: models[label] for label in args.label}
        if len(models) > 1
        else dict.fromkeys(args.label, next(iter(models.values())))
    )
    selectors = {k: m for k, m in chosen.items() if not isinstance(m, DocumentLabeler)}
    parsed = list(parse_documents(_as_language([d.text for d in docs], args.language)))
    ranked = list(rank_labels(selectors, parsed)) if selectors else []
    summaries = {
        label: ranking_summary((r[label] for r in ranked), spans.get(label, [[]] * len(docs)))
        for label in selectors
    }
    whole = {
        label: document_label_summary(
            [d.score for d in m.decide(parsed)], [label in d.labels for d in docs]
        )
        for label, m in chosen.items()
        if isinstance(m, DocumentLabeler)
    }
    if whole:
        _print_document_labels(args, whole, summaries)
        return EXIT_OK
    if len(summaries) == 1:
        [(label, summary)] = summaries.items()
        if args.json:
            _json_out(_nan_to_none({**summary, "label": label}))
            return EXIT_OK
        print(f"label {label!r}: {count(summary['documents'], 'document')} with a target")
        print(f"  hit@1     {_show(summary['hit@1'])}")
        print(f"  MRR       {_show(summary['mrr'])}")
        print(f"  recall@5  {_show(summary['recall@5'])}")
        print(
            f"  chosen paragraph, median chars {_show(summary['chosen_chars_median'], '.0f')} "
            f"(gold {_show(summary['gold_chars_median'], '.0f')})"
        )
        _print_abstained(summary)
        return EXIT_OK
    mean = _mean_of(summaries.values(), ("hit@1", "mrr", "recall@5"))
    if args.json:
        _json_out(
            {
                "labels": {label: _nan_to_none(s) for label, s in summaries.items()},
                "mean": _nan_to_none(mean),
            }
        )
        return EXIT_OK
    width = max(len(label) for label in summaries) + 2
    print(f"{'label':{width}s} documents  hit@1    MRR  recall@5  abstained")
    for label, s in summaries.items():
        abstained = (
            f"{s['abstained_without_target']}/{s['documents_without_target']}"
            if s["documents_without_target"]
            else "-"
        )
        print(
            f"{label:{width}s} {s['documents']:9d}  {_show(s['hit@1'])}  {_show(s['mrr'])}  "
            f"   {_show(s['recall@5'])}  {abstained:>9s}"
        )
    print(
        f"{'mean of ' + str(len(summaries)) + ' labels':{width}s} {'':9s}  "
        f"{_show(mean['hit@1'])}  {_show(mean['mrr'])}     {_show(mean['recall@5'])}"
    )
    return EXIT_OK


def _warn_if_trained_on(docs: list[LabelledDocument], metadata: dict, model: str) -> None:
    """Figures on the documents a model learnt from say how well it remembers them, not how it
    does on new ones: say so when the model file's fingerprints of its training documents
    (one per text) find some of them here."""
    from unclf.persistence import document_fingerprints

    trained_on = set(metadata.get("training_documents", ()))
    seen = sum(f in trained_on for f in document_fingerprints(d.text for d in docs))
    if seen:
        which = "all" if seen == len(docs) else f"{seen} of the {len(docs)}"
        print(
            f"unclf: warning: {which} documents evaluated were used to train {model}: its "
            "figures on them are higher than on documents it has not seen; evaluate on other "
            "documents, or measure with `unclf cv`",
            file=sys.stderr,
        )


# --- cv, learning-curve ----------------------------------------------------------------------


def cmd_cv(args: argparse.Namespace) -> int:
    from unclf.evaluation import cross_validate
    from unclf.report import render_report

    if args.report:
        _check_writable(args.report, "a report file")
        _check_not_an_input(args.report, [args.data], "--report")
    docs, by_label, by_document = _labelled_tasks(args)
    if len(by_label) + len(by_document) > 1 or by_document:
        if args.report:
            raise UsageError("--report shows one paragraph label's documents; give --label once")
        return _cv_labels(args, docs, by_label, by_document)
    [(label, targets)] = by_label.items()
    args.label = label
    cv = _cross_validation(
        cross_validate, args, docs, targets, ids=[d.id for d in docs], target_name=_searched(label)
    )
    if args.report:
        title = f"unclf cross-validation: {args.label}"
        with _output(args.report) as out:
            layouts = {d.id: d.layout for d in docs if d.layout is not None}
            out.write(render_report(cv, title, layouts))
    if args.json:
        _json_out(cv.to_dict())
        return EXIT_OK
    s = cv.summary

    print(
        f"{count(len(docs), 'document')}, {args.folds} folds, seed {args.seed}: hit@1 over the "
        f"{count(s['documents'], 'document')} with a target"
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
    beaten_by = [(name, b["hit@1"]) for name, b in ranked if b["hit@1"] > s["hit@1"]]
    if beaten_by:
        which = ", ".join(f"{name} ({_show(hit)})" for name, hit in beaten_by)
        print(
            f"  note: a baseline finds more targets than unclf on these documents: {which} "
            f"against unclf's {_show(s['hit@1'])} (hit@1); see the 95% interval before "
            "choosing it"
        )
    print(
        f"  marked paragraphs: precision {_show(s['precision'])}, recall {_show(s['recall'])}, "
        f"F1 {_show(s['f1'])}"
    )
    bands = [
        f"{b['scores']}: {_show(b['hit@1'])} ({count(b['documents'], 'document')})"
        for b in s["hit@1_by_score"]
    ]
    print(f"  hit@1 by the chosen paragraph's score: {', '.join(bands)}")
    _print_abstained(s)
    if args.report:
        print(f"  {count(len(cv.misses), 'missed document')}: see {args.report}")
    return EXIT_OK


def _cross_validation(
    function: Callable, args: argparse.Namespace, docs: list[LabelledDocument], targets, **more
):
    """``function`` (one of unclf.evaluation's) over the documents with the command's settings."""
    try:
        return function(
            [d.text for d in docs],
            targets,
            folds=args.folds,
            seed=args.seed,
            mode=args.mode,
            progress=True,
            **more,
        )
    except ValueError as e:
        raise UsageError(f"{args.data}: {e}") from None


def _cv_labels(
    args: argparse.Namespace,
    docs: list[LabelledDocument],
    by_label: dict[str, list],
    by_document: dict[str, list[bool]],
) -> int:
    """``cv`` of several labels: a row per label (unclf against its best baseline) and the mean;
    labels of whole documents against a TF-IDF document classifier."""
    from unclf.evaluation import cross_validate_document_labels, cross_validate_labels

    whole = {}
    if by_document:
        try:
            whole = cross_validate_document_labels(
                [d.text for d in docs], by_document, folds=args.folds, seed=args.seed, progress=True
            )
        except ValueError as e:
            raise UsageError(f"{args.data}: {e}") from None
    if not by_label:
        return _print_cv_document_labels(args, whole)
    rows = _cross_validation(cross_validate_labels, args, docs, by_label)
    lead = {
        label: r["unclf"]["hit@1"] - r["baselines"][r["best_baseline"]]["hit@1"]
        for label, r in rows.items()
    }
    mean = _mean_of(
        [
            {"hit@1": r["unclf"]["hit@1"], "best": r["baselines"][r["best_baseline"]]["hit@1"]}
            for r in rows.values()
        ],
        ("hit@1", "best"),
    )
    if args.json:
        _json_out(
            {
                "labels": {
                    label: {
                        "unclf": _nan_to_none(r["unclf"]),
                        "baselines": {n: _nan_to_none(b) for n, b in r["baselines"].items()},
                        "best_baseline": r["best_baseline"],
                    }
                    for label, r in rows.items()
                },
                "mean": _nan_to_none(mean),
                "document_labels": _document_rows_json(whole),
                "settings": {"n_folds": args.folds, "seed": args.seed, "mode": args.mode},
            }
        )
        return EXIT_OK
    width = max(len(label) for label in rows) + 2
    print(
        f"{count(len(docs), 'document')}, {args.folds} folds, seed {args.seed}: hit@1 over each "
        "label's documents with a target, against the best of the baselines on the same folds"
    )
    print(f"{'label':{width}s} documents  unclf  best baseline             lead")
    for label, r in rows.items():
        best = r["best_baseline"]
        print(
            f"{label:{width}s} {r['unclf']['documents']:9d}  {_show(r['unclf']['hit@1'])}  "
            f"{best:18s} {_show(r['baselines'][best]['hit@1'])}  {_show(lead[label], '+.3f')}"
        )
    below = [label for label, value in lead.items() if value < 0]
    print(
        f"{'mean of ' + str(len(rows)) + ' labels':{width}s} {'':9s}  {_show(mean['hit@1'])}  "
        f"{'':18s} {_show(mean['best'])}  {_show(mean['hit@1'] - mean['best'], '+.3f')}"
    )
    if below:
        which = ", ".join(f"{label!r} ({rows[label]['best_baseline']})" for label in below[:5])
        more = f" and {len(below) - 5} more" if len(below) > 5 else ""
        print(
            f"  note: a baseline finds more targets than unclf on {count(len(below), 'label')}: "
            f"{which}{more}"
        )
    if whole:
        _print_cv_document_labels(args, whole)
    return EXIT_OK


def _document_rows_json(whole: dict[str, dict]) -> dict:
    return {
        label: {name: _nan_to_none(s) for name, s in by_method.items()}
        for label, by_method in whole.items()
    }


def _print_cv_document_labels(args: argparse.Namespace, whole: dict[str, dict]) -> int:
    """Labels of whole documents: unclf against a TF-IDF document classifier, same folds."""
    if args.json:
        _json_out({"document_labels": _document_rows_json(whole)})
        return EXIT_OK
    width = max(len(label) for label in whole) + 2
    print(
        f"labels of whole documents, {args.folds} folds: accuracy and F1 of unclf and of a "
        "TF-IDF + logistic regression document classifier"
    )
    print(f"{'label':{width}s} documents  with it  unclf acc.   F1   tfidf-lr acc.   F1")
    for label, r in whole.items():
        u, b = r["unclf"], r["tfidf-lr"]
        print(
            f"{label:{width}s} {u['documents']:9d}  {u['with_label']:7d}  {_show(u['accuracy'])}"
            f"     {_show(u['f1'])}   {_show(b['accuracy'])}          {_show(b['f1'])}"
        )
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
    docs, targets = _one_task(args)
    curve = _cross_validation(
        learning_curve,
        args,
        docs,
        targets,
        sizes=args.sizes,
        repeats=args.repeats,
        target_name=_searched(args.label[0]),
    )
    if args.plot:
        plot_learning_curve(curve, args.plot, f"Learning curve: {args.label[0]}")
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


def _language(value: str) -> str:
    from unclf.languages import rules_for

    try:
        return rules_for(value).code
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _jobs(value: str) -> int:
    """joblib's convention: a count of processes, or -1 for every core (-2 all but one)."""
    number = _whole_number(value)
    if number == 0:
        raise argparse.ArgumentTypeError("must not be 0 (-1: every core)")
    return number


def _label_options(p: argparse.ArgumentParser, several: bool = True) -> None:
    """``--label`` (and, where a command learns several at once, ``--all-labels``)."""
    if not several:
        p.add_argument(
            "--label",
            action="append",
            help="the target label (required if the data has several)",
        )
        return
    p.add_argument(
        "--label",
        action="append",
        help="a target label; repeat it for several (required if the data has several "
        "and --all-labels is not given)",
    )
    p.add_argument(
        "--all-labels",
        action="store_true",
        help="every label of the data with at least --min-documents documents",
    )
    p.add_argument(
        "--min-documents",
        type=_positive,
        default=10,
        metavar="N",
        help="with --all-labels: the documents a label needs at least (default 10)",
    )


def _mode_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--mode",
        choices=("single", "multi"),
        default="single",
        help="single: one target per document; multi: every paragraph above threshold",
    )


def _seed_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--seed",
        type=_non_negative,  # what numpy's random generators take
        default=0,
        help="seed of the document folds (default 0): same seed, same result",
    )


def _skip_invalid_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="use the valid documents and report the others (default: stop, naming each "
        "invalid document)",
    )


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
    language_help = (
        "the documents' language: en, fr, es, ru, ar, zh (or English, French, ...); "
        "default: each document's own, told from its text"
    )

    p = sub.add_parser("segment", help="split documents into paragraphs")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help=inputs_help)
    p.add_argument("--output", "-o", help="output file (default: stdout)")
    p.add_argument(
        "--format",
        choices=("jsonl", "text"),
        default="jsonl",
        help="jsonl: a line per document with its paragraphs and offsets; text: for reading",
    )
    p.add_argument("--language", type=_language, help=language_help)
    p.set_defaults(run=cmd_segment)

    p = sub.add_parser("train", help="learn the target paragraph from labelled documents")
    p.add_argument("data", help="labelled JSONL/CSV/Parquet: id, text, targets")
    _label_options(p)
    p.add_argument("--model-out", required=True, help="where to write the model file")
    _mode_option(p)
    _seed_option(p)
    p.add_argument(
        "--jobs",
        type=_jobs,
        default=-1,
        help="processes parsing the documents and fitting the folds, or the labels, side by "
        "side (-1: all cores)",
    )
    _skip_invalid_option(p)
    p.add_argument("--language", type=_language, help=language_help)
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
    p.add_argument(
        "--label",
        action="append",
        help="a label of the model to find; repeat it for several (default: all of them)",
    )
    p.add_argument(
        "--format",
        choices=("jsonl", "text", "csv"),
        default="jsonl",
        help="jsonl: a line per document and label; text: for reading; csv: a row per document, "
        "label and marked paragraph",
    )
    p.add_argument(
        "--by-paragraph",
        action="store_true",
        help="per document, each paragraph marked for some label with its labels",
    )
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
    p.add_argument("--language", type=_language, help=language_help)
    p.set_defaults(run=cmd_predict)

    p = sub.add_parser("evaluate", help="hit@1, MRR and recall@5 of a model on labelled data")
    p.add_argument("data", help="labelled JSONL/CSV/Parquet: id, text, targets")
    p.add_argument("--model", required=True, help="model file")
    p.add_argument(
        "--label",
        action="append",
        help="a label to evaluate; repeat it for several (default: the model's only label)",
    )
    p.add_argument("--all-labels", action="store_true", help="evaluate every label of the model")
    _skip_invalid_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--language", type=_language, help=language_help)
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("cv", help="cross-validate the model and the baselines on labelled data")
    p.add_argument("data", help="labelled JSONL/CSV/Parquet: id, text, targets")
    _label_options(p)
    p.add_argument("--folds", type=_folds, default=5, help="document folds (default 5)")
    _mode_option(p)
    _seed_option(p)
    _skip_invalid_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--report", metavar="FILE.html", help="write the error report here")
    p.set_defaults(run=cmd_cv)

    p = sub.add_parser("learning-curve", help="hit@1 against the number of training documents")
    p.add_argument("data", help="labelled JSONL/CSV/Parquet: id, text, targets")
    _label_options(p, several=False)
    p.add_argument("--sizes", type=_sizes, required=True, help="training sizes, e.g. 5,10,20,50")
    p.add_argument("--folds", type=_folds, default=5, help="document folds (default 5)")
    p.add_argument("--repeats", type=_positive, default=1, help="fold splits to repeat (default 1)")
    _mode_option(p)
    _seed_option(p)
    _skip_invalid_option(p)
    p.add_argument("--plot", metavar="FILE.png", help="write the plot here (PNG)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_learning_curve)

    p = sub.add_parser("review", help="label, review and correct suggestions in the browser")
    p.add_argument("inputs", nargs="+", metavar="COLLECTION", help=inputs_help)
    p.add_argument("--model", help="model whose suggestions to review (default: none yet)")
    p.add_argument("--labels", default="labels.jsonl", help="answers file (default: labels.jsonl)")
    p.add_argument("--label", help="the label to answer (default: the model's, else 'target')")
    p.add_argument("--model-out", help="where a retrained model goes (default: beside --labels)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=_positive, default=8765, help="port (default: 8765)")
    p.add_argument(
        "--order",
        choices=ORDERS,
        default=DEFAULT_ORDER,
        help=f"order of the documents to review (default: {DEFAULT_ORDER}; measured: README)",
    )
    p.set_defaults(run=cmd_review)
    return parser


def cmd_review(args: argparse.Namespace) -> int:
    from unclf.review.serve import ReviewSetupError, open_session, serve

    try:
        session = open_session(
            args.inputs, args.labels, args.label, args.model, args.model_out, args.order
        )
        serve(session, args.host, args.port)
    except ReviewSetupError as e:
        raise UsageError(str(e)) from None
    return EXIT_OK


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
