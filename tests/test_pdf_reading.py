"""Reading PDFs faster must not move a character: the text and line boxes of PDFs the test
writes itself are compared with those recorded from the reader as it was."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fpdf import FPDF

from unclf.documents.labelling import letter_finder
from unclf.formats.pdf import read_pdf
from unclf.segmenter import paragraph_pipeline, segment, segment_many

TEXT = (
    "the State party should strengthen its national institutions and adopt measures to protect "
    "the rights of minorities and migrants in line with its obligations under the Convention"
)


def words(seed: int, count: int) -> str:
    vocabulary = TEXT.split(" ")
    return " ".join(vocabulary[(seed * 5 + k) % len(vocabulary)] for k in range(count))


def write_pages(path: Path) -> None:
    """Furniture on every page, numbered paragraphs over a page break, a bold heading, a
    footnote under a rule, a two-column cover and a row with a page number far right."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=25)
    for page in range(1, 4):
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        pdf.cell(0, 5, "A/HRC/99/1", new_x="LMARGIN", new_y="NEXT")
        if page == 1:
            pdf.set_font("Helvetica", size=10)
            pdf.set_xy(15, 25)
            pdf.multi_cell(80, 5, words(1, 60), align="L")
            pdf.set_xy(115, 25)
            pdf.multi_cell(80, 5, words(2, 60), align="L")
        pdf.set_font("Helvetica", style="B", size=13)
        pdf.cell(0, 8, f"Chapter {page}", new_x="LMARGIN", new_y="NEXT")
        for n in range(1, 6):
            pdf.set_font("Helvetica", size=11)
            pdf.multi_cell(0, 5, f"{page}.{n}. {words(page * n, 45 + 7 * n)}.", align="L")
            pdf.ln(3)
        pdf.cell(60, 5, "Name", new_x="RIGHT")
        pdf.cell(0, 5, "Share", align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(-40)
        pdf.set_font("Helvetica", size=7)
        pdf.cell(0, 4, "_______________", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 4, f"{page} See the note of page {page}.", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(-15)
        pdf.set_font("Helvetica", size=9)
        pdf.cell(0, 5, f"GE.09-1461{page}", new_x="RIGHT")
        pdf.cell(0, 5, str(page), align="R")
    pdf.output(str(path))


def digest(text: str, lines: tuple) -> str:
    rows = [
        [line.start, line.end, line.page]
        + [round(v, 2) for v in (line.left, line.top, line.right, line.bottom)]
        for line in lines
    ]
    return hashlib.sha256(json.dumps([text, rows]).encode()).hexdigest()[:16]


def test_reading_gives_the_recorded_text_and_boxes(tmp_path: Path) -> None:
    path = tmp_path / "pages.pdf"
    write_pages(path)
    text, layout = read_pdf(path)
    assert "A/HRC/99/1" not in text and "GE.09" not in text
    assert digest(text, layout.lines) == "c567a713c42e21cf"


def test_segmenting_without_a_pipeline_gives_the_pipeline_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "pages.pdf"
    write_pages(path)
    texts = [read_pdf(path)[0], "1. One.\n\n2. Two, on\nthree lines\nof text.", ""]
    assert list(segment_many(texts)) == list(segment_many(texts, paragraph_pipeline("en")))


def test_a_note_under_a_rule_mid_page_ends_at_a_gap(tmp_path: Path) -> None:
    """A filing that prints two of its pages on one PDF page: the note under the rule of the
    first ends at the gap, and the body after it reads on in place."""
    path = tmp_path / "filing.pdf"
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    before, after = f"1. {words(1, 40)}.", f"2. {words(2, 40)}."
    pdf.multi_cell(0, 5, before, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.cell(0, 5, "____________________", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, "* Certain information on this page has been omitted.", new_x="LMARGIN")
    pdf.ln(20)
    pdf.multi_cell(0, 5, after, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    text, _ = read_pdf(path)
    assert text.index(before[:30]) < text.index(after[:30]) < text.index("* Certain")


def test_target_found_when_a_table_ends_it_in_another_order() -> None:
    text = (
        "Intro.\n\n5.3 For the year the share shall be decreased to the corresponding share:\n"
        "Share of procurement\nBetween 60% and 79%\n9%\n80% or greater\n8%\n\n5.4 Next."
    )
    target = (
        "For the year the share shall be decreased to the corresponding share: Share of "
        "procurement Between 60% and 79% 80% or greater 9% 8%"
    )
    start, end = letter_finder(text)(target)
    assert text[start:].startswith("For the year") and end <= text.index("5.4")
    assert end - start >= 0.7 * len(target)


def test_target_found_around_a_mark_in_the_margin() -> None:
    text = (
        "8. Tournaments\n\nIn each and every calendar year of this Agreement, the consultant "
        "shall achieve a satisfactory record of play in a\nA.\n\nminimum of ten events on "
        "the tour in a calendar year, or he shall repay an amount per event."
    )
    target = text[text.index("In each") :].replace("\nA.\n", "")
    start, end = letter_finder(text)(target)
    assert (start, end) == (text.index("In each"), text.index("per event") + len("per event"))


def test_a_sentence_past_a_full_line_stays_one_paragraph(tmp_path: Path) -> None:
    """A clause in capitals wraps over full lines that hold fewer characters than the lines of
    the other clauses: its lines are full, its sentence runs on, it is one paragraph."""
    path = tmp_path / "clauses.pdf"
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    clauses = [f"Section {n}. Notices. {words(n, 60)}." for n in range(1, 4)]
    clauses.append(
        "Section 4. Governing Law. THIS AGREEMENT SHALL BE GOVERNED BY AND CONSTRUED IN "
        "ACCORDANCE WITH THE LAWS OF THE STATE OF NEW YORK, WITHOUT REFERENCE TO ITS CONFLICT "
        "OF LAW PROVISIONS, AND THE OBLIGATIONS, RIGHTS AND REMEDIES OF THE PARTIES HEREUNDER "
        "SHALL BE DETERMINED IN ACCORDANCE WITH SUCH LAWS."
    )
    clauses.append(f"Section 5. Counterparts. {words(5, 50)}.")
    for clause in clauses:
        pdf.multi_cell(0, 5, clause, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.output(str(path))
    text, _ = read_pdf(path)
    paragraphs = segment(text)
    assert [" ".join(p.text.split()) for p in paragraphs] == clauses


def test_a_hyphen_before_a_capital_at_a_full_line_end_is_the_words_own(tmp_path: Path) -> None:
    path = tmp_path / "hyphen.pdf"
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    filler = "1. Intensify its efforts to ensure that"
    while pdf.get_string_width(f"{filler} the Afro- Peruvian") < pdf.epw:  # a full line
        filler += " all"
    pdf.cell(0, 5, f"{filler} the Afro-", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, "Peruvian community fully enjoy their rights (Trinidad and Tobago);")
    pdf.output(str(path))
    text, _ = read_pdf(path)
    assert "Afro-Peruvian community" in text
    assert len(segment(text)) == 1
