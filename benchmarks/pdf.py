"""The same tasks from the official PDFs: extraction speed, boxes, page furniture, hit@1.

Run: python benchmarks/pdf.py [--data ../shared/data] [--parts speed,boxes,furniture,hits]
    [--limit N] [--folds 5] [--seed 0] [--jobs 2] [--corpora upr,cuad] [--out results.json]

- bare, paragraphs: only the work, nothing printed, for timing whole processes from outside
  (``farm-bench --vs 'python benchmarks/pdf.py --parts bare' -- python benchmarks/pdf.py
  --parts paragraphs``): PDFium's bare text extraction of the files, or their paragraphs
  (reading and segmenting). The bare run imports neither unclf's model nor spaCy.

- speed: seconds to read every PDF with unclf (text, furniture out, line boxes) and to get its
  paragraphs (reading + segmenting), against PDFium's bare text extraction (every page's
  ``get_text_range``) of the same files; throughput is the ratio of the times.
- boxes: for every paragraph of every PDF, the text PDFium finds inside the paragraph's boxes
  (``get_text_bounded``) against the paragraph's letters and digits, in order: the share of all
  letters and digits found, and the share of paragraphs with at least 98% found.
- furniture: on the UPR reports, paragraphs that hold a ``GE.`` job number, a ``Page 3`` line
  or the report's symbol (``A/HRC/12/9``, the most frequent symbol of its bare text, printed on
  every page), this one counted apart on the cover page, where it is also the document's title
  block.
- hits: hit@1 on UPR Minorities and Racial discrimination and CUAD Governing Law and Parties,
  K-fold over the documents that have a PDF, the folds of the text benchmark
  (``document_folds`` of the texts): text-trained model on the text, text-trained model on the
  PDFs, PDF-trained model on the PDFs. A PDF's targets are found in its extracted text by their
  letters and digits (unclf's reader of labelled files).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from difflib import SequenceMatcher
from itertools import pairwise
from pathlib import Path

import pypdfium2 as pdfium

TASKS = {"upr": ["Minorities", "Racial discrimination"], "cuad": ["Governing Law", "Parties"]}
_SYMBOL = re.compile(r"A/HRC/(?:WG\.6/)?\d+/[A-Z0-9]+(?:/Add\.\d+)?")
_JOB = re.compile(r"GE\.\d{2}-\d{4,6}")
_PAGE_LINE = re.compile(r"(?m)^\s*Page \d{1,3}\s*$")


def load(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def pdf_files(data: Path, limit: int | None) -> list[Path]:
    files = []
    for corpus in ("upr", "cuad"):
        records = load(data / f"{corpus}-pdf-dev.jsonl.gz")[:limit]
        files += [data / r["file"] for r in records]
    return files


def bare_text(path: Path) -> str:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return "\f".join(pdf[n].get_textpage().get_text_range() for n in range(len(pdf)))
    finally:
        pdf.close()


def speed(files: list[Path]) -> dict:
    from unclf.formats.pdf import read_pdf
    from unclf.segmenter import segment_many

    for path in files:  # both timings read the files from the page cache
        path.read_bytes()
    clocks = {"s": time.perf_counter, "cpu_s": time.process_time}
    marks = [{name: clock() for name, clock in clocks.items()}]
    for path in files:
        bare_text(path)
    marks.append({name: clock() for name, clock in clocks.items()})
    texts = [read_pdf(path)[0] for path in files]
    marks.append({name: clock() for name, clock in clocks.items()})
    for _ in segment_many(texts):
        pass
    marks.append({name: clock() for name, clock in clocks.items()})
    result: dict = {"files": len(files)}
    # Wall seconds count the waits of a busy machine too; CPU seconds (process time) do not.
    for name in clocks:
        bare, read, segmenting = (b[name] - a[name] for a, b in pairwise(marks))
        result |= {
            f"bare_pdfium_{name}": round(bare, 2),
            f"unclf_read_{name}": round(read, 2),
            f"unclf_segment_{name}": round(segmenting, 2),
            f"read_throughput_vs_bare_{name}": round(bare / read, 3),
            f"paragraphs_throughput_vs_bare_{name}": round(bare / (read + segmenting), 3),
        }
    return result


def letters(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def boxes(files: list[Path]) -> dict:
    from unclf.formats.pdf import read_pdf
    from unclf.segmenter import segment_many

    total = found = paragraphs = good = 0
    worst: list[tuple[float, str, int]] = []
    extracted = [read_pdf(path) for path in files]
    for path, (text, layout), paragraphs_of in zip(
        files, extracted, segment_many(text for text, _ in extracted), strict=True
    ):
        pdf = pdfium.PdfDocument(str(path))
        pages: dict[int, tuple] = {}
        try:
            for p in paragraphs_of:
                wanted = letters(text[p.start : p.end])
                if not wanted:
                    continue
                inside = []
                for box in layout.boxes(p.start, p.end):
                    if box["page"] not in pages:
                        page = pdf[box["page"] - 1]
                        pages[box["page"]] = (page.get_textpage(), page.get_height())
                    textpage, height = pages[box["page"]]
                    inside.append(
                        textpage.get_text_bounded(
                            box["left"] - 0.5,
                            height - box["top"] - box["height"] - 0.5,
                            box["left"] + box["width"] + 0.5,
                            height - box["top"] + 0.5,
                        )
                    )
                held = letters("".join(inside))
                matcher = SequenceMatcher(None, wanted, held, autojunk=False)
                share_found = sum(b.size for b in matcher.get_matching_blocks())
                total += len(wanted)
                found += share_found
                paragraphs += 1
                good += share_found >= 0.98 * len(wanted)
                worst.append((share_found / len(wanted), path.name, p.index))
        finally:
            pdf.close()
    worst.sort()
    return {
        "paragraphs": paragraphs,
        "letters_found_share": round(found / total, 4),
        "paragraphs_98pct_share": round(good / paragraphs, 4),
        "worst": [(round(s, 3), name, index) for s, name, index in worst[:10]],
    }


def furniture(data: Path, limit: int | None) -> dict:
    from unclf.formats.pdf import read_pdf
    from unclf.segmenter import segment_many

    records = load(data / "upr-pdf-dev.jsonl.gz")[:limit]
    files = [data / r["file"] for r in records]
    extracted = [read_pdf(path) for path in files]
    counts: Counter[str] = Counter()
    for path, (_, layout), paragraphs in zip(
        files, extracted, segment_many(text for text, _ in extracted), strict=True
    ):
        pages = bare_text(path).split("\f")
        symbol = Counter(_SYMBOL.findall("".join(pages))).most_common(1)[0][0]
        counts["reports"] += 1
        counts["pages"] += len(pages)
        counts["pages_with_job_number_in_bare_text"] += sum(bool(_JOB.search(p)) for p in pages)
        counts["pages_with_report_symbol_in_bare_text"] += sum(symbol in p for p in pages)
        for p in paragraphs:
            counts["paragraphs"] += 1
            counts["paragraphs_with_job_number"] += bool(_JOB.search(p.text))
            counts["paragraphs_with_page_line"] += bool(_PAGE_LINE.search(p.text))
            if symbol in p.text:
                on_cover = layout.page(p.start, p.end) == 1
                counts[f"paragraphs_with_report_symbol_{'cover' if on_cover else 'later'}"] += 1
    return dict(counts)


def hits(
    data: Path, limit: int | None, folds: int, seed: int, jobs: int, corpora: list[str]
) -> dict:
    from unclf.documents import read_labelled
    from unclf.model import TargetSelector, document_folds, fit_labels
    from unclf.segmenter import parse_many

    results = {}
    for corpus in corpora:
        labels = TASKS[corpus]
        by_id = {d["id"]: d for d in load(data / f"{corpus}-dev.jsonl.gz")}
        pdf_docs, invalid = read_labelled(data / f"{corpus}-pdf-dev.jsonl.gz", skip_invalid=True)
        pdf_docs = pdf_docs[:limit]
        text_docs = [by_id[d.id] for d in pdf_docs]
        text_targets = {
            label: [
                [(t["start"], t["end"]) for t in d["targets"] if t["label"] == label]
                for d in text_docs
            ]
            for label in labels
        }
        pdf_targets = {
            label: [[(t.start, t.end) for t in d.targets if t.label == label] for d in pdf_docs]
            for label in labels
        }
        text_parsed = list(parse_many(d["text"] for d in text_docs))
        pdf_parsed = list(parse_many(d.text for d in pdf_docs))
        pooled = {label: {"text/text": [], "text/pdf": [], "pdf/pdf": []} for label in labels}
        splits = document_folds([d["text"] for d in text_docs], folds, seed)
        for fold, (train, test) in enumerate(splits, 1):
            print(f"{corpus}: fold {fold} of {folds}", file=sys.stderr, flush=True)
            selector = TargetSelector(n_jobs=jobs, random_state=seed)
            on_text = fit_labels(
                selector,
                [text_parsed[i] for i in train],
                {label: [text_targets[label][i] for i in train] for label in labels},
            )
            on_pdf = fit_labels(
                selector,
                [pdf_parsed[i] for i in train],
                {label: [pdf_targets[label][i] for i in train] for label in labels},
            )
            for label in labels:
                for name, model, docs, targets in (
                    ("text/text", on_text[label], text_parsed, text_targets[label]),
                    ("text/pdf", on_text[label], pdf_parsed, pdf_targets[label]),
                    ("pdf/pdf", on_pdf[label], pdf_parsed, pdf_targets[label]),
                ):
                    summary = model.evaluate([docs[i] for i in test], [targets[i] for i in test])
                    pooled[label][name].append((summary["hit@1"], summary["documents"]))
        for label in labels:
            row = {"documents": len(pdf_docs), "pdf_records_skipped": len(invalid)}
            for name, folds_seen in pooled[label].items():
                documents = sum(n for _, n in folds_seen)
                row[f"hit@1 {name}"] = round(
                    sum(h * n for h, n in folds_seen if n) / max(documents, 1), 3
                )
                row["documents_with_target"] = documents
            results[f"{corpus}:{label}"] = row
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--parts", default="speed,boxes,furniture,hits")
    parser.add_argument("--limit", type=int, help="the first N PDFs of each corpus")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--corpora", default="upr,cuad", help="for hits: upr, cuad or both")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    parts = args.parts.split(",")
    files = pdf_files(args.data, args.limit)
    results: dict = {"settings": {k: str(v) for k, v in vars(args).items()}}
    if "bare" in parts:
        for path in files:
            bare_text(path)
    if "paragraphs" in parts:
        from unclf.formats.pdf import read_pdf
        from unclf.segmenter import segment_many

        for _ in segment_many(read_pdf(path)[0] for path in files):
            pass
    if "speed" in parts:
        results["speed"] = speed(files)
        print(json.dumps(results["speed"]), flush=True)
    if "boxes" in parts:
        results["boxes"] = boxes(files)
        print(json.dumps(results["boxes"]), flush=True)
    if "furniture" in parts:
        results["furniture"] = furniture(args.data, args.limit)
        print(json.dumps(results["furniture"]), flush=True)
    if "hits" in parts:
        corpora = args.corpora.split(",")
        results["hits"] = hits(args.data, args.limit, args.folds, args.seed, args.jobs, corpora)
        print(json.dumps(results["hits"], indent=1), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
