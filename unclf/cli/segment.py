"""``unclf segment``: documents -> their paragraphs."""

from __future__ import annotations

import argparse
import json
from functools import partial
from typing import TextIO

from unclf.cli.common import on_pages, place_in_words
from unclf.cli.inputs import each_batch, stream
from unclf.documents import (
    Document,
)
from unclf.words import count


def cmd_segment(args: argparse.Namespace) -> int:
    from unclf.segmenter import segment_many

    def write(out: TextIO, doc: Document, paragraphs: list) -> None:
        if args.format == "jsonl":
            # The record the segment command promises; a paragraph's section (a heading's text,
            # repeated on every paragraph under it) is in predict's text format and the library.
            fields = [
                {k: v for k, v in p.to_dict().items() if k != "section"}
                | on_pages(doc, p.start, p.end)
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
            place = place_in_words(p.index, len(paragraphs))
            out.write(f"{place} ({p.kind}, {p.start}-{p.end}) {number}{p.text}\n")
        out.write("\n")

    segment = partial(segment_many, language=args.language)
    return stream(args, each_batch(segment, args.debug), write)
