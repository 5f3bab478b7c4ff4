"""What commands read: documents streamed in batches (a failure contained to its document),
labelled data turned into one task per label, and model files."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple, TextIO

from unclf.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    UNNAMED_LABEL,
    UsageError,
    check_not_an_input,
    error_id,
    error_record,
    in_batches,
    one_line,
    output_file,
    quoted_names,
    report_error,
)
from unclf.documents import (
    Document,
    DocumentError,
    InvalidDataError,
    LabelledDocument,
    describe_labels,
    read_documents,
    read_labelled,
)
from unclf.words import count


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
                    doc.id, doc.source, None, f"internal error ({one_line(e)}); please report it"
                )
            )
    return results


def each_batch(
    process: Callable[[list[str]], Iterable], debug: bool
) -> Callable[[Iterable[list[Document]]], Iterator[list]]:
    """The local engine: ``process`` one batch after the other, a failure contained to its
    document."""
    return lambda batches: (_process(process, docs, debug) for docs in batches)


def of_texts(
    process: Callable[[Iterable[list[str]]], Iterable[Iterable]],
) -> Callable[[Iterable[list[Document]]], Iterable[Iterable]]:
    """Adapt an engine that takes batches of texts to batches of documents."""
    return lambda batches: process([d.text for d in docs] for docs in batches)


def stream(
    args: argparse.Namespace,
    run: Callable[[Iterable[list[Document]]], Iterable[Iterable]],
    write: Callable[[TextIO, Document, object], None],
    *,
    also_read: Iterable[str] = (),
    write_error: Callable[[TextIO, DocumentError], None] | None = None,
) -> int:
    """Feed ``run`` the readable documents batch by batch (it yields each batch's results, in
    order) and write every input's result in order; unreadable documents are reported and
    written as error records (``write_error``; by default a JSON record or a text block, as
    ``args.format`` says). Only the batches ``run`` has not answered yet are held.

    The documents done are counted on stderr when it is a terminal (the total is not known
    before a stream ends)."""
    from tqdm import tqdm

    check_not_an_input(args.output, [*args.inputs, *also_read], "--output")
    failed = 0
    waiting: deque[list] = deque()

    def documents() -> Iterator[list[Document]]:
        for batch in in_batches(read_documents(args.inputs)):
            waiting.append(batch)
            yield [d for d in batch if isinstance(d, Document)]

    done = tqdm(desc=args.command, unit="doc", disable=None, leave=False)
    with output_file(args.output) as out, done:
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
                    report_error(item)
                if write_error is not None:
                    write_error(out, item)
                elif args.format == "jsonl":
                    out.write(json.dumps(error_record(item), ensure_ascii=False) + "\n")
                else:
                    out.write(f"# {error_id(item)}\n  error: {item.message}\n\n")
            done.update(len(batch))
    return EXIT_SOME_FAILED if failed else EXIT_OK


def as_language(texts: list[str], language: str | None) -> list:
    """The texts segmented and tokenized as ``language`` (--language); without it, as they
    are, and each is read as the language it is written in."""
    if language is None:
        return texts
    from unclf.segmenter import parse_many

    return list(parse_many(texts, language=language))


def load_labelled(args: argparse.Namespace) -> list[LabelledDocument]:
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
        report_error(error)
    args.skipped_documents = len(skipped)
    if skipped:
        print(f"unclf: skipped {count(len(skipped), 'invalid document')}", file=sys.stderr)
    return docs


def labels_of(docs: list[LabelledDocument]) -> Counter[str]:
    """Per label, the documents that have a target of it, or have it as a whole."""
    return Counter(
        label for d in docs for label in ({t.label for t in d.targets} - {None}) | set(d.labels)
    )


class Tasks(NamedTuple):
    """Labelled documents and what to learn from them: per paragraph label, each document's
    target spans; per document label, whether each document has it."""

    docs: list[LabelledDocument]
    spans: dict[str, list[list[tuple[int, int]]]]
    document: dict[str, list[bool]]


def labelled_tasks(args: argparse.Namespace, need_targets: bool = True) -> Tasks:
    """The labels to learn and their documents.

    The labels: those of ``--label``; with ``--all-labels`` every label with at least
    ``--min-documents`` documents; else the data's only label ("target" when its targets
    name none). A label that some target names is a paragraph label; else, one that documents
    carry in ``labels`` is a label of the whole document. Targets without a label belong to the
    one label learnt, and to none of several (said on stderr). ``need_targets``: a label
    without a target is an error (to learn it; an evaluation may measure abstention alone)."""
    docs = load_labelled(args)
    counts = labels_of(docs)
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
        labels = list(counts) or [UNNAMED_LABEL]
    unnamed = sum(1 for d in docs for t in d.targets if t.label is None)
    # With one label asked, the targets that name none are its.
    missing = [
        label
        for label in labels
        if label != UNNAMED_LABEL and not counts[label] and not (unnamed and len(labels) == 1)
    ]
    if missing and need_targets:
        raise UsageError(
            f"{args.data}: no document has label {missing[0]!r}; labels in the file: "
            f"{describe_labels(counts) or 'none'}"
        )
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
    return Tasks(docs, by_label, by_document)


def one_task(args: argparse.Namespace) -> tuple[list[LabelledDocument], list[list]]:
    """The documents and their targets for the one label a command learns."""
    if args.label and len(set(args.label)) > 1:
        raise UsageError(f"{args.command} learns one label at a time; give --label once")
    tasks = labelled_tasks(args)
    if tasks.document:
        raise UsageError(
            f"{args.data}: {next(iter(tasks.document))!r} is a label of whole documents; "
            f"{args.command} measures paragraph labels"
        )
    [(label, targets)] = tasks.spans.items()
    args.label = [label]
    return tasks.docs, targets


def model_path_of(path: str | None) -> Path:
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


def load_models(path: str | None):
    """The model, its metadata and the file's bytes (for workers: the same model)."""
    from unclf.persistence import ModelFileError, load_model_bytes, read_model_file

    path = model_path_of(path)
    try:
        data = read_model_file(path)
        return (*load_model_bytes(data, str(path)), data)
    except ModelFileError as e:
        raise UsageError(str(e)) from None


def chosen_labels(args: argparse.Namespace, models: dict, model_path: str | None) -> list[str]:
    """The model's labels that ``--label`` picks (all of them without it)."""
    if not args.label:
        return list(models)
    unknown = [label for label in args.label if label not in models]
    if unknown:
        raise UsageError(
            f"{model_path or 'the model'}: has no label {unknown[0]!r}; its labels: "
            f"{quoted_names(list(models), shown=20)}"
        )
    return list(dict.fromkeys(args.label))
