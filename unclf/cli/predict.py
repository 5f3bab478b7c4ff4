"""``unclf predict``: documents -> the target paragraph(s) each model label finds, as JSON
lines, text or CSV."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING, TextIO

from unclf.cli.common import (
    UsageError,
    error_id,
    location_of,
    on_pages,
    place_in_words,
    quoted_names,
)
from unclf.cli.inputs import (
    as_language,
    chosen_labels,
    each_batch,
    load_models,
    model_path_of,
    of_texts,
    stream,
)
from unclf.documents import Document, DocumentError

if TYPE_CHECKING:
    from unclf.model import RankedDocument


def _answer_record(doc: Document, label: str, answer, top_k: int) -> dict:
    """The JSONL record of a document's answer for a label: its paragraphs best first (a
    paragraph label), or whether it has the label, how sure, and the paragraph that weighed
    most (a label of whole documents)."""
    from unclf.model.document_labels import DocumentDecision

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
            | on_pages(doc, evidence.start, evidence.end),
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
        "number": p.number,
        "start": p.start,
        "end": p.end,
        "score": round(scored.score, 6),
        "text": p.text,
        "is_target": scored.is_target,
    } | on_pages(doc, p.start, p.end)


_CSV_COLUMNS = (
    "id",
    "label",
    "index",
    "number",
    "page",
    "start",
    "end",
    "score",
    "is_target",
    "text",
    "error",  # why the document could not be read (its only row then)
)


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
    models, _, data = load_models(args.model)
    labels = chosen_labels(args, models, args.model)
    if not args.model:
        print(
            f"unclf: using the model {model_path_of(None)} ({quoted_names(labels)})",
            file=sys.stderr,
        )
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

    def write_error(out: TextIO, error: DocumentError) -> None:
        _write_csv_error(out, error, csv_header)

    errors_as_rows = {"write_error": write_error} if args.format == "csv" else {}
    also_read = [args.model] if args.model else []
    if args.engine == "local":
        from unclf.model.document_labels import predict_labels

        chosen = {label: models[label] for label in labels}
        return stream(
            args,
            each_batch(
                lambda texts: predict_labels(chosen, as_language(texts, args.language)), args.debug
            ),
            write,
            also_read=also_read,
            **errors_as_rows,
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
        return stream(
            args, of_texts(engine.rank_batches), write, also_read=also_read, **errors_as_rows
        )


def _write_targets_text(
    out: TextIO, doc: Document, result: dict[str, RankedDocument], top_k: int
) -> None:
    """A document's suggestions for a reader: per label, the marked paragraphs (or the
    ``top_k`` best, marked or not)."""
    from unclf.model.document_labels import DocumentDecision

    out.write(f"# {doc.id}\n")
    total = _paragraph_count(result)
    for label, ranked in result.items():
        if isinstance(ranked, DocumentDecision):
            verdict = "yes" if ranked.has_label else "no"
            out.write(f"  {label} (the whole document): {verdict}, score {ranked.score:.2f}\n")
            if ranked.evidence is not None:
                place = place_in_words(ranked.evidence.index, total)
                out.write(f"  weighed most ({place}): {ranked.evidence.text}\n")
            out.write("\n")
            continue
        shown = ranked.paragraphs[:top_k] if top_k else ranked.targets
        if not shown:
            if not ranked.paragraphs:
                out.write(f"  {label}: no paragraph found (the document has none)\n\n")
                continue
            best = ranked.paragraphs[0]
            page = on_pages(doc, best.paragraph.start, best.paragraph.end).get("page")
            on_page = f" on page {page}" if page is not None else ""
            place = place_in_words(best.paragraph.index, total)
            note = f" (the best, the {place}{on_page}, scored {best.score:.2f})"
            out.write(f"  {label}: no paragraph found{note}\n\n")
            continue
        for s in shown:
            p = s.paragraph
            number = f"{p.number}. " if p.number else ""
            mark = "" if s.is_target else ", not marked"
            page = on_pages(doc, p.start, p.end).get("page")
            out.write(
                f"  {label}: {place_in_words(p.index, total)}, score {s.score:.2f}{mark}, "
                + (f"page {page}, " if page is not None else "")
                + f"{location_of(doc.text, p.start)}-{p.end}"
                + (f", under {p.section!r}" if p.section else "")
                + "\n"
            )
            out.write(f"  {number}{p.text}\n\n")


def _paragraph_count(result: dict[str, RankedDocument]) -> int | None:
    """How many paragraphs the document has, known from a label that ranks them all (not
    from a label of the whole document)."""
    from unclf.model.document_labels import DocumentDecision

    ranked = (r for r in result.values() if not isinstance(r, DocumentDecision))
    return next((len(r.paragraphs) for r in ranked), None)


def _write_csv(
    out: TextIO,
    doc: Document,
    result: dict[str, RankedDocument],
    top_k: int,
    header: list[bool],
) -> None:
    """One row per document, label and marked paragraph (or each of the ``top_k`` best); a
    row with no paragraph where none is marked, so that every document and label shows."""
    from unclf.model.document_labels import DocumentDecision

    writer = _csv_writer(out, header)
    for label, ranked in result.items():
        if isinstance(ranked, DocumentDecision):  # the paragraph that weighed most
            p = ranked.evidence
            where = (
                {}
                if p is None
                else {
                    "index": p.index,
                    "number": p.number or "",
                    "page": on_pages(doc, p.start, p.end).get("page", ""),
                    "start": p.start,
                    "end": p.end,
                    "text": p.text,
                }
            )
            score, has_label = round(ranked.score, 6), ranked.has_label
            writer.writerow(
                _csv_row(id=doc.id, label=label, score=score, is_target=has_label, **where)
            )
            continue
        shown = ranked.paragraphs[:top_k] if top_k else ranked.targets
        if not shown:
            writer.writerow(_csv_row(id=doc.id, label=label, is_target=False))
        for s in shown:
            f = _paragraph_fields(s, doc) | {"id": doc.id, "label": label}
            writer.writerow(_csv_row(**f | {"number": f["number"] or ""}))


def _write_csv_error(out: TextIO, error: DocumentError, header: list[bool]) -> None:
    """The row of a document that could not be read: its id and why."""
    _csv_writer(out, header).writerow(_csv_row(id=error_id(error), error=error.message))


def _csv_row(**fields: object) -> list:
    """The values of ``_CSV_COLUMNS`` (empty where ``fields`` has none)."""
    return [fields.get(column, "") for column in _CSV_COLUMNS]


def _csv_writer(out: TextIO, header: list[bool]):
    """A CSV writer on ``out``, which writes the header first if it is not written yet."""
    import csv

    writer = csv.writer(out, lineterminator="\n")
    if header[0]:
        writer.writerow(_CSV_COLUMNS)
        header[0] = False
    return writer


def _write_by_paragraph(
    out: TextIO, doc: Document, result: dict[str, RankedDocument], fmt: str
) -> None:
    """Each paragraph marked for some label, with the labels it is marked for."""
    from unclf.model.document_labels import DocumentDecision

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
            | on_pages(doc, p.start, p.end)
            for p, labels in rows
        ]
        record = {"id": doc.id, "labels": whole, "paragraphs": paragraphs}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    total = _paragraph_count(result)
    out.write(f"# {doc.id}\n")
    if whole:
        names = ", ".join(f"{x['label']} ({x['score']:.2f})" for x in whole)
        out.write(f"  the whole document: {names}\n\n")
    if not rows:
        out.write("  no paragraph marked for any label\n\n")
    for p, labels in rows:
        names = ", ".join(f"{x['label']} ({x['score']:.2f})" for x in labels)
        place = place_in_words(p.index, total)
        out.write(f"  {place}, {location_of(doc.text, p.start)}-{p.end}: {names}\n")
        out.write(f"  {p.text}\n\n")
