"""A tiny invented collection for the review app's tests: reports whose target paragraph (label
"Water") is the one on drinking water and sanitation, placed differently in each report."""

from __future__ import annotations

import json
import random
from pathlib import Path

LABEL = "Water"
_TOPICS = {
    "education": [
        "The Committee recommends that the State party increase enrolment in primary schools "
        "and train more teachers in rural districts.",
        "Schools in the northern provinces lack textbooks; the State party should fund the "
        "printing of new school books.",
    ],
    "health": [
        "The State party should strengthen primary health care and extend vaccination "
        "campaigns to remote communities.",
        "Maternal mortality remains high; hospitals need midwives and emergency obstetric care.",
    ],
    "housing": [
        "Forced evictions continue in the capital; the State party should provide adequate "
        "alternative housing before any eviction.",
        "Informal settlements grow quickly and the housing programme should reach them.",
    ],
    "elections": [
        "The electoral commission should be independent, and observers should have access to "
        "every polling station.",
        "Candidates of the opposition were prevented from holding rallies during the campaign.",
    ],
    "budget": [
        "The Committee notes the budget allocated to social protection and asks for figures "
        "on its execution.",
        "Public spending on social services fell during the reporting period.",
    ],
}
_WATER = [
    "Ensure access to safe drinking water and sanitation for all, in particular in rural areas "
    "and informal settlements.",
    "The State party should extend its water supply and sanitation services, so that every "
    "household has safe drinking water.",
    "Take measures to provide clean drinking water, sanitation and hygiene in schools and "
    "health centres.",
    "Invest in water and sanitation infrastructure so that the right to safe drinking water is "
    "respected.",
    "Improve the quality of drinking water and the sanitation of villages far from the capital.",
    "Guarantee access to drinking water and sanitation to people living in poverty.",
    "Expand sanitation networks and the supply of safe drinking water in the provinces.",
    "Protect water sources and ensure that the sanitation of the poorest districts improves.",
]


def _reports(n_documents: int) -> tuple[list[dict], dict[str, int]]:
    """``n_documents`` report records and, by id, the position of each one's target paragraph
    (the water paragraph)."""
    rng = random.Random(7)
    records, targets = [], {}
    for k in range(n_documents):
        paragraphs = [rng.choice(options) for options in _TOPICS.values()]
        at = rng.randrange(len(paragraphs) + 1)
        paragraphs.insert(at, _WATER[k % len(_WATER)])
        title = f"Concluding observations on the report of Ruritania ({k + 1})"
        doc_id = f"report-{k + 1:02d}"
        text = title + "\n\n" + "\n\n".join(f"{n}. {p}" for n, p in enumerate(paragraphs, 1))
        records.append({"id": doc_id, "text": text + "\n"})
        targets[doc_id] = at + 1  # the title is paragraph 0
    return records, targets


def write_collection(folder: Path, n_documents: int = 8) -> tuple[Path, dict[str, int]]:
    """A JSONL collection of ``n_documents`` reports and, by id, the position of each one's
    target paragraph (the water paragraph)."""
    records, targets = _reports(n_documents)
    path = folder / "collection.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path, targets


def write_pdf_collection(folder: Path, n_documents: int = 2) -> tuple[Path, dict[str, int]]:
    """The first ``n_documents`` reports as PDF files in ``folder/pdfs`` (a title in bold, then
    numbered paragraphs set apart) and, by id (the file's path), the target's position."""
    from fpdf import FPDF

    records, targets = _reports(n_documents)
    pdfs = folder / "pdfs"
    pdfs.mkdir()
    by_path = {}
    for record in records:
        title, *paragraphs = record["text"].strip().split("\n\n")
        pdf = FPDF(format="A4")
        pdf.set_auto_page_break(True, margin=25)
        pdf.add_page()
        pdf.set_font("Helvetica", style="B", size=14)
        pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(5)
        path = pdfs / f"{record['id']}.pdf"
        pdf.output(str(path))
        by_path[str(path)] = targets[record["id"]]
    return pdfs, by_path
