"""PDF, Word and HTML files in: small files the tests write themselves (fpdf2, python-docx)."""

from __future__ import annotations

import json
import re
import zipfile
from difflib import SequenceMatcher
from pathlib import Path

import docx
import pypdfium2 as pdfium
import pytest
from fpdf import FPDF

from unclf.cli import main
from unclf.documents import Document, DocumentError, read_documents, read_labelled
from unclf.formats import Layout, Line, UnreadableFileError, read_file
from unclf.formats.pdf import read_pdf
from unclf.segmenter import segment

SYMBOL = "A/HRC/99/1"
WORDS = " ".join(
    (
        "the State party should strengthen its national institutions and adopt measures to",
        "protect the rights of minorities and migrants in line with its obligations under the",
        "Convention while ensuring adequate resources for the implementation of the plan",
    )
).split(" ")


def sentence(seed: int, words: int = 60) -> str:
    """Distinct text for paragraph ``seed``: a rotation of the word list, with its number."""
    rotated = [WORDS[(seed * 7 + k) % len(WORDS)] for k in range(words)]
    return f"{' '.join(rotated).capitalize()} (case {seed})."


class Report(FPDF):
    """A UN-style report: the symbol on top of every page, the page number at the foot."""

    def header(self) -> None:
        self.set_font("Helvetica", size=9)
        self.cell(0, 5, SYMBOL, new_x="LMARGIN", new_y="NEXT")
        self.ln(6)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=9)
        self.cell(0, 5, str(self.page_no()), align="C")


def write_report(path: Path, paragraphs: int = 14, footnote: str | None = None) -> list[str]:
    """A report of numbered paragraphs over pages; returns the paragraphs' text."""
    pdf = Report(format="A4")
    pdf.set_auto_page_break(True, margin=25)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.cell(0, 8, "I. Introduction", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    texts = []
    for n in range(1, paragraphs + 1):
        text = f"{n}. {sentence(n, 50 + 9 * (n % 4))}"
        texts.append(text)
        pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        if footnote and n == 3:
            y = pdf.get_y()
            pdf.set_y(-35)
            pdf.set_font("Helvetica", size=7)
            pdf.cell(0, 4, "_______________", new_x="LMARGIN", new_y="NEXT")
            pdf.cell(0, 4, footnote, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=11)
            pdf.set_y(y)
    pdf.output(str(path))
    return texts


def letters(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def boxed_text(path: Path, boxes: list[dict]) -> str:
    """The text PDFium finds inside the boxes."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        found = []
        for box in boxes:
            page = pdf[box["page"] - 1]
            height = page.get_height()
            found.append(
                page.get_textpage().get_text_bounded(
                    box["left"] - 0.5,
                    height - box["top"] - box["height"] - 0.5,
                    box["left"] + box["width"] + 0.5,
                    height - box["top"] + 0.5,
                )
            )
        return "".join(found)
    finally:
        pdf.close()


# --- PDF ------------------------------------------------------------------------------------


def test_pdf_paragraphs_without_page_furniture(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    texts = write_report(path)
    text, layout = read_pdf(path)
    assert SYMBOL not in text
    pages = {line.page for line in layout.lines}
    assert len(pages) >= 2 and pages == set(range(1, max(pages) + 1))
    for number in pages:  # no page number alone on a line
        assert not re.search(rf"(?m)^\s*{number}\s*$", text)
    paragraphs = segment(text)
    assert paragraphs[0].kind == "heading"
    numbered = [p for p in paragraphs if p.kind != "heading"]
    assert [p.number for p in numbered] == [str(n) for n in range(1, len(texts) + 1)]
    for p, expected in zip(numbered, texts, strict=True):
        assert letters(p.text) == letters(expected.split(" ", 1)[1])


def test_pdf_boxes_hold_the_paragraph(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    write_report(path)
    text, layout = read_pdf(path)
    across_pages = 0
    for p in segment(text):
        boxes = layout.boxes(p.start, p.end)
        assert layout.page(p.start, p.end) == boxes[0]["page"]
        assert all(set(b) == {"page", "left", "top", "width", "height"} for b in boxes)
        across_pages += len({b["page"] for b in boxes}) > 1
        wanted = letters(text[p.start : p.end])
        held = letters(boxed_text(path, boxes))
        matched = sum(m.size for m in SequenceMatcher(None, wanted, held).get_matching_blocks())
        assert matched >= 0.98 * len(wanted), p.text
        # ... and little else: a box is its lines, not the page
        assert len(held) <= 1.3 * len(wanted) + 10
    assert across_pages >= 1, "a paragraph runs over a page break: one box on each page"


def test_pdf_footnote_follows_the_body(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    note = "1 See the report of the Special Rapporteur on minority issues."
    write_report(path, footnote=note)
    text, _ = read_pdf(path)
    assert text.rstrip().endswith(note)
    assert "____" not in text
    last = segment(text)[-1]
    assert last.text == note


def test_pdf_two_columns_read_left_column_first(tmp_path: Path) -> None:
    path = tmp_path / "columns.pdf"
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    left, right = sentence(1, 70), sentence(2, 70)
    # The right column is written first: the order on the page decides, not the file's.
    pdf.set_xy(110, 20)
    pdf.multi_cell(85, 5, right, align="L")
    pdf.set_xy(15, 20)
    pdf.multi_cell(85, 5, left, align="L")
    pdf.output(str(path))
    text, _ = read_pdf(path)
    paragraphs = segment(text)
    assert [letters(p.text) for p in paragraphs] == [letters(left), letters(right)]


def test_pdf_heading_by_size_and_weight_is_its_own_block(tmp_path: Path) -> None:
    path = tmp_path / "heading.pdf"
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=13)
    pdf.cell(0, 6, "Cooperation with regional organizations", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 5, sentence(3), align="L")
    pdf.output(str(path))
    text, _ = read_pdf(path)
    assert text.startswith("Cooperation with regional organizations\n\n")


def test_pdf_without_text_encrypted_or_damaged_is_unreadable(tmp_path: Path) -> None:
    scanned = tmp_path / "scanned.pdf"
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 50, style="F")
    pdf.output(str(scanned))
    encrypted = tmp_path / "locked.pdf"
    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 5, "Confidential.")
    pdf.output(str(encrypted))
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    for path, reason in (
        (scanned, "no text layer: scanned?"),
        (encrypted, "encrypted PDF"),
        (damaged, "damaged PDF"),
    ):
        with pytest.raises(UnreadableFileError, match=re.escape(reason)):
            read_file(path)


def test_layout_cuts_a_line_the_span_covers_in_part() -> None:
    layout = Layout((Line(0, 10, 1, 100.0, 50.0, 200.0, 60.0), Line(11, 21, 2, 100, 70, 200, 80)))
    [box] = layout.boxes(5, 10)
    assert box == {"page": 1, "left": 150.0, "top": 50.0, "width": 50.0, "height": 10.0}
    assert [b["page"] for b in layout.boxes(0, 21)] == [1, 2]
    assert layout.page(12, 15) == 2
    assert Layout().boxes(0, 5) == [] and not Layout().has_pages


# --- Word and HTML --------------------------------------------------------------------------


def test_docx_paragraphs_and_tables_in_order(tmp_path: Path) -> None:
    path = tmp_path / "letter.docx"
    document = docx.Document()
    document.add_heading("Recommendations", level=1)
    document.add_paragraph("1. Ratify the Convention.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Norland"
    table.cell(0, 1).text = "Accepted"
    document.add_paragraph("2. Adopt a national plan\non minorities.")
    document.save(str(path))
    text, layout = read_file(path)
    assert text == (
        "Recommendations\n\n1. Ratify the Convention.\n\nNorland\n\nAccepted\n\n"
        "2. Adopt a national plan\non minorities."
    )
    assert not layout.has_pages
    (tmp_path / "old.docx").write_bytes(b"not a zip file")
    with pytest.raises(UnreadableFileError, match="damaged Word file"):
        read_file(tmp_path / "old.docx")


def test_docx_with_damaged_xml_is_unreadable(tmp_path: Path) -> None:
    whole = tmp_path / "whole.docx"
    document = docx.Document()
    document.add_paragraph("1. A Word paragraph.")
    document.save(str(whole))
    cut = tmp_path / "cut.docx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(cut, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = data[: len(data) // 2]  # not well-formed XML any more
            target.writestr(item, data)
    with pytest.raises(UnreadableFileError, match="damaged Word file"):
        read_file(cut)


def test_a_reader_failing_on_one_file_loses_no_other(tmp_path: Path, monkeypatch) -> None:
    """Whatever a reader library raises on a file is that file's error."""
    import unclf.formats.html

    def fails(path: Path) -> str:
        raise RuntimeError("parser state\nbroken")

    monkeypatch.setattr(unclf.formats.html, "read_html", fails)
    (tmp_path / "a.html").write_text("<p>1. A web paragraph.</p>", encoding="utf-8")
    (tmp_path / "b.txt").write_text("1. A text paragraph.", encoding="utf-8")
    items = {Path(item.source).name: item for item in read_documents([tmp_path])}
    assert isinstance(items["b.txt"], Document)
    assert isinstance(items["a.html"], DocumentError)
    assert items["a.html"].message == "cannot read: parser state broken"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("<p>Caf\u00e9 \u0434\u0430</p>".encode("utf-16"), "Café да"),  # Word's "Unicode" page
        ("<p>Caf\u00e9</p>".encode("utf-16-be"), "Café"),  # UTF-16 without the mark
        (b'<meta charset="utf-16"><p>Caf\xc3\xa9</p>', "Café"),  # a UTF-16 label on UTF-8 bytes
        (b'<meta charset="windows-1252"><p>Caf\xe9</p>', "Café"),
        (b'<meta charset="no-such-code"><p>Caf\xc3\xa9</p>', "Café"),
        (b'<meta charset="base64"><p>Caf\xc3\xa9</p>', "Café"),  # a codec, not a text encoding
        (b'<meta charset="idna"><p>Caf\xc3\xa9</p>', "Café"),
        (b"\xef\xbb\xbf<p>Caf\xc3\xa9</p>", "Café"),
    ],
)
def test_html_encodings_read_as_browsers_read_them(
    tmp_path: Path, data: bytes, expected: str
) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(data)
    text, _ = read_file(path)
    assert text.startswith(expected)


def test_html_blocks_without_scripts_or_styles(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Viewer</title><style>p {color: red}</style></head><body>"
        "<nav><a href='/'>Home</a></nav><h2>Introduction</h2>"
        "<p>1. The   report\ncovers <b>two</b> years.</p><script>track()</script>"
        "<ul><li>first item</li><li>second<br>line</li></ul><pre>a  b\n c</pre>"
        "<p>Caf&eacute; &amp; more</p></body></html>",
        encoding="utf-8",
    )
    text, _ = read_file(path)
    assert text == (
        "Home\n\nIntroduction\n\n1. The report covers two years.\n\nfirst item\n\n"
        "second\nline\n\na  b\n c\n\nCafé & more"
    )


# --- folders, labelled files, commands ------------------------------------------------------


def make_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    write_report(folder / "report.pdf", paragraphs=6)
    document = docx.Document()
    document.add_paragraph("1. A Word paragraph.")
    document.save(str(folder / "letter.docx"))
    (folder / "page.htm").write_text("<p>1. A web paragraph.</p>", encoding="utf-8")
    (folder / "notes.txt").write_text("1. A text paragraph.", encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 nothing more")
    (folder / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    return folder


def test_folder_every_file_read_or_reported(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    items = {Path(item.source).name: item for item in read_documents([folder])}
    assert sorted(items) == sorted(p.name for p in folder.iterdir())
    assert isinstance(items["broken.pdf"], DocumentError)
    assert "damaged PDF" in items["broken.pdf"].message
    assert isinstance(items["sheet.xlsx"], DocumentError)
    assert "unknown file type" in items["sheet.xlsx"].message
    for name in ("report.pdf", "letter.docx", "page.htm", "notes.txt"):
        assert isinstance(items[name], Document)
    assert items["report.pdf"].layout.has_pages
    assert items["notes.txt"].layout is None


def test_segment_command_writes_text_pages_and_boxes(tmp_path: Path, capsys) -> None:
    folder = make_folder(tmp_path)
    code = main(["segment", str(folder)])
    captured = capsys.readouterr()
    assert code == 1
    records = {Path(r["id"]).name: r for r in map(json.loads, captured.out.splitlines())}
    assert len(records) == 6
    assert "broken.pdf" in captured.err and "sheet.xlsx" in captured.err
    assert records["broken.pdf"]["error"] and records["broken.pdf"]["paragraphs"] == []
    pdf = records["report.pdf"]
    assert SYMBOL not in pdf["text"]
    for p in pdf["paragraphs"]:  # offsets index the text returned beside them
        assert letters(pdf["text"][p["start"] : p["end"]]).endswith(letters(p["text"]))
        assert p["page"] == p["boxes"][0]["page"]
    html = records["page.htm"]
    assert html["text"] == "1. A web paragraph." and "page" not in html["paragraphs"][0]
    assert "text" not in records["notes.txt"]


def write_hyphenated(path: Path) -> None:
    """A page whose second paragraph breaks "mea-" / "sures" at a line end."""
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in (
        "1. The Working Group held its session in Geneva.",
        "",
        "2. Recommended that the State take effective mea-",
        "sures to protect   the rights of minorities (Norland);",
    ):
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def test_labelled_records_naming_a_file(tmp_path: Path) -> None:
    write_hyphenated(tmp_path / "a.pdf")
    labelled = tmp_path / "labelled.jsonl"
    records = [
        {
            "id": "a",
            "file": "a.pdf",
            "targets": [
                {"text": "take effective measures to protect the rights", "label": "Minorities"},
                "the Working Group",
            ],
        },
        {"id": "b", "file": "a.pdf", "targets": [{"text": "not in it", "label": "Minorities"}]},
        {"id": "c", "file": "missing.pdf", "targets": []},
    ]
    labelled.write_text("\n".join(map(json.dumps, records)) + "\n", encoding="utf-8")
    docs, invalid = read_labelled(labelled, label="Minorities", skip_invalid=True)
    [doc] = docs
    [plain, target] = doc.targets  # by position
    assert doc.text[plain.start : plain.end] == "The Working Group" and plain.label is None
    assert target.label == "Minorities"
    assert doc.text[target.start : target.end].startswith("take effective mea-\nsures")
    assert doc.layout.has_pages
    assert [e.id for e in invalid] == ["b", "c"]
    assert "'not in it' is not in the text" in invalid[0].message
    assert "file missing.pdf: no such file" in invalid[1].message


def test_predict_text_shows_the_page(tmp_path: Path, trained_model, capsys) -> None:
    model, _ = trained_model
    write_report(tmp_path / "report.pdf", paragraphs=8)
    report = str(tmp_path / "report.pdf")
    code = main(["predict", "--model", str(model), report, "--format", "text"])
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"\bpage [12]\b", out), out
    code = main(["predict", "--model", str(model), report])
    [record] = map(json.loads, capsys.readouterr().out.splitlines())
    assert all(p["boxes"] and p["page"] >= 1 for p in record["paragraphs"])
