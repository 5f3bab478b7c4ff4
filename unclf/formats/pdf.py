"""A PDF's text layer, read with PDFium, laid out as a reader sees the pages.

PDFium gives each page's text line by line with the lines' boxes, font sizes and weights. From
where the lines sit the reader decides, page by page:

- *page furniture*: a line among the first or last two rows of a page that recurs at the top or
  bottom of at least a quarter of the pages (``A/HRC/12/9``, ``Source: ACME CORP, 10-K``), or
  recurs there with the page's number in it (``MFW Doc 12 Page 3 of 61``), or that is a page
  number, a ``GE.09-14614`` job number or a document symbol there. It is left out of the text;
- *footnotes*: the lines below a ``____`` separator, or the smaller-type lines at the foot of a
  page that start with a note mark. They follow the body, after the last page, so a paragraph
  cut at the page edge reads on;
- *columns*: rows split by a wide gap (a cover page's ``General Assembly`` beside ``Distr.:
  General``) are read column by column;
- *blocks*: a blank line goes where a reader sees a new block: a gap wider than the document's
  line spacing, a change of size or weight (headings), or a short line that ends a sentence
  (a paragraph's last line), also at a page break.
"""

from __future__ import annotations

import ctypes
import re
import statistics
import struct
from collections import Counter
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from operator import attrgetter
from pathlib import Path

from unclf.formats import Layout, Line, UnreadableFileError

__all__ = ["read_pdf"]

# PDFium joins a line that ends in a hyphen to the next and marks the hyphen U+FFFE: it ends
# the line here, and is read as the hyphen it is.
_LINE = re.compile(r"[^\r\n\ufffe]+\ufffe?")
_EDGE_ROWS = 2  # rows at the top and at the bottom of a page that may be furniture
_EDGE_BAND = 0.07  # ... and any line this close to the top or bottom edge (share of height)
_RECURRING_SHARE = 0.25  # a line recurring on this share of the pages is running furniture
_COLUMN_GAP = 3.0  # a gap this many line heights wide inside a row separates columns
_SMALL_TYPE = 0.9  # footnote type: smaller than this share of the body's
# A line wider than this many font sizes per character may hold a gap; one narrower than the
# other bound does not run from its first character to its last (a note mark set apart).
_WIDE_LINE, _NARROW_LINE = 1.0, 0.25
_CONTROL_CHAR = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\ufffe]")
_CONTROL = str.maketrans({**{i: " " for i in range(32) if i not in (10, 13)}, 2: "-", 0xFFFE: "-"})
_FURNITURE = re.compile(
    r"(?i:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?"  # 3, Page 3, 3 of 12, 3/12
    r"|-\s*\d{1,4}\s*-|[ivxlc]{1,6}"  # - 3 -, iv
    r"|GE\.\d{2}-\d{4,6}.*"  # UN job number
    r"|\*\d{5,}\*"  # its bar code's text
    r"|[A-Z]{1,3}(?:/[A-Z0-9][A-Za-z0-9.\-]*)+(?:\s+(?i:page)\s+\d{1,4})?"  # A/HRC/12/9 page 2
    r"|_{3,}(?:\s+_{3,})*"  # rules and initials blanks
)
_NOTE_MARK = re.compile(r"[\d*†‡§a-z]{1,3}\b|[*†‡§]")
_SEPARATOR = re.compile(r"_{5,}")
_SENTENCE_END = ".;:!?"
_FIRST_WORD = re.compile(r"\s*(\S*)")


@dataclass(slots=True)
class _Segment:
    """A line of a page, or the part of it in one column."""

    page: int
    text: str
    left: float
    top: float
    right: float
    bottom: float
    size: float
    bold: bool

    @property
    def height(self) -> float:
        return self.bottom - self.top


_TOP, _LEFT = attrgetter("top"), attrgetter("left")
_FOUND = struct.Struct("14f").unpack_from


def _open(path: Path):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message or "security" in message:
            raise UnreadableFileError("encrypted PDF: it needs a password to open") from None
        if "file" in message and "not found" in message:
            raise FileNotFoundError(str(path)) from None
        why = re.search(r"PDFium: ([^)]*)", str(exc))
        detail = f" ({why.group(1).lower()})" if why else ""
        raise UnreadableFileError(f"damaged PDF, or not a PDF{detail}") from None


def read_pdf(path: Path) -> tuple[str, Layout]:
    """The extracted text of a PDF (furniture out, footnotes after the body, blank lines between
    blocks) and the box of each of its lines."""
    import pypdfium2 as pdfium

    pdf = _open(path)
    try:
        pages = []
        for number in range(len(pdf)):
            page = pdf[number]
            try:
                pages.append(_page_segments(page, number + 1))
            finally:
                page.close()
    except pdfium.PdfiumError as exc:
        raise UnreadableFileError(f"damaged PDF ({exc})") from None
    finally:
        pdf.close()
    if not any(s.text.strip() for segments in pages for s in segments):
        raise UnreadableFileError("no text layer: scanned? (read it with OCR first)")
    _drop_furniture(pages)
    return _assemble(pages)


def _page_segments(page, number: int) -> list[_Segment]:
    """The page's lines in reading order (rows top to bottom, column by column).

    A line's box joins the loose boxes (the font's full height) of its first and last
    characters; its size is that of its first character's font, its weight that of its last
    (``106.1.`` in regular type before a recommendation in bold): a few calls to PDFium per
    line, not one per character. Only a line wider than its characters could fill is measured
    further, for a gap between columns."""

    height = page.get_height()
    textpage = page.get_textpage()
    handle = textpage.raw
    # The first and the last characters' boxes (FS_RECTF: left, top, right, bottom) and the
    # first one's matrix (FS_MATRIX: a, b, c, d, e, f) side by side, read in one go.
    found_boxes = (ctypes.c_float * 14)()
    first_ref, last_ref = ctypes.byref(found_boxes), ctypes.byref(found_boxes, 16)
    matrix_ref = ctypes.byref(found_boxes, 32)
    char_box, font_size, char_matrix, font_weight, _ = _text_calls()
    try:
        found = textpage.get_text_range()
        text = found.translate(_CONTROL) if _CONTROL_CHAR.search(found) else found
        segments: list[_Segment] = []
        append = segments.append
        for match in _LINE.finditer(found):
            line = match.group()
            stripped = line.strip()
            if not stripped:
                continue
            start = match.start() + len(line) - len(line.lstrip())
            end = start + len(stripped)
            char_box(handle, start, first_ref)
            char_box(handle, end - 1, last_ref)
            char_matrix(handle, start, matrix_ref)
            left, top, right, bottom, left2, top2, right2, bottom2, _, _, c, d, _, _ = _FOUND(
                found_boxes
            )
            size = font_size(handle, start) * abs(complex(c, d))
            bold = font_weight(handle, end - 1) >= 600
            # min() and max() of the two boxes' sides, ties to the first as they break them
            if left2 < left:
                left = left2
            if bottom2 < bottom:
                bottom = bottom2
            if right2 > right:
                right = right2
            if top2 > top:
                top = top2
            width = (right - left) / (size or 1.0) / (end - start)
            pieces = (
                ((start, end, (left, bottom, right, top)),)
                if _NARROW_LINE <= width <= _WIDE_LINE
                else _columns(textpage, text, start, end, size)
            )
            for piece_start, piece_end, (left, bottom, right, top) in pieces:
                append(
                    _Segment(
                        number,
                        text[piece_start:piece_end],
                        left,
                        height - top,
                        right,
                        height - bottom,
                        size,
                        bold,
                    )
                )
    finally:
        textpage.close()
    return _reading_order(segments)


@cache
def _text_calls() -> tuple:
    """PDFium's calls for a character's loose box, font size, matrix and weight, and for a
    text rectangle, taking their arguments as they are: the bindings' own check and conversion
    of each argument cost twice the call, and these are made for every line."""
    import pypdfium2.raw as raw

    def bare(function, result=ctypes.c_int):
        return ctypes.cast(function, ctypes.CFUNCTYPE(result))

    return (
        bare(raw.FPDFText_GetLooseCharBox),
        bare(raw.FPDFText_GetFontSize, ctypes.c_double),
        bare(raw.FPDFText_GetMatrix),
        bare(raw.FPDFText_GetFontWeight),
        bare(raw.FPDFText_GetRect),
    )


def _union(boxes) -> tuple[float, float, float, float]:
    lefts, bottoms, rights, tops = zip(*boxes, strict=True)
    return min(lefts), min(bottoms), max(rights), max(tops)


def _columns(textpage, text: str, start: int, end: int, size: float) -> list:
    """The parts of a line whose first and last characters do not span it as its characters
    would: ``(start, end, box)`` of each part, cut where a gap of several line heights separates
    them (two columns side by side, a page number far right). PDFium's text rectangles show
    the line's extent and whether there is such a gap; only then are characters measured one by
    one."""
    import pypdfium2.raw as raw

    rects = sorted(_rects(textpage, start, end))
    if not rects:
        return []
    if all(b[0] - a[2] < _COLUMN_GAP * size for a, b in pairwise(rects)):
        return [(start, end, _union(rects))]

    pieces: list[list] = []  # start, end, and the union of the characters' boxes
    piece: list = []
    previous_right = None
    gap = _COLUMN_GAP * size
    char, handle = raw.FS_RECTF(), textpage.raw
    char_ref = ctypes.byref(char)
    char_box = _text_calls()[0]
    for index in range(start, end):
        if text[index].isspace():
            continue
        char_box(handle, index, char_ref)
        left, bottom, right, top = char.left, char.bottom, char.right, char.top
        if previous_right is None or left - previous_right >= gap:
            piece = [index, index + 1, left, bottom, right, top]
            pieces.append(piece)
        else:  # min() and max() as _union takes them, ties to the first
            piece[1] = index + 1
            if left < piece[2]:
                piece[2] = left
            if bottom < piece[3]:
                piece[3] = bottom
            if right > piece[4]:
                piece[4] = right
            if top > piece[5]:
                piece[5] = top
        previous_right = right
    return [(a, b, (left, bottom, right, top)) for a, b, left, bottom, right, top in pieces]


def _rects(textpage, start: int, end: int) -> list[tuple[float, float, float, float]]:
    """PDFium's text rectangles of characters ``[start, end)``: ``(left, bottom, right, top)``
    (``PdfTextPage.get_rect`` of each, with one set of buffers)."""
    import pypdfium2 as pdfium

    count = textpage.count_rects(start, end - start)
    sides = [ctypes.c_double() for _ in range(4)]
    left, top, right, bottom = (ctypes.byref(side) for side in sides)
    get_rect, handle = _text_calls()[4], textpage.raw
    rects = []
    for index in range(count):
        if not get_rect(handle, index, left, top, right, bottom):
            raise pdfium.PdfiumError("Failed to get rectangle.")
        rects.append((sides[0].value, sides[3].value, sides[2].value, sides[1].value))
    return rects


def _reading_order(segments: list[_Segment]) -> list[_Segment]:
    """Rows top to bottom; where rows are split by a gutter that no line crosses, and the lines
    on either side are lines of text (a third of the text's width or more, not a table's
    cells), the left column first, then the right, for as long as the gutter lasts."""
    segments.sort(key=_TOP)
    text_width = max((s.right for s in segments), default=0.0) - min(
        (s.left for s in segments), default=0.0
    )
    rows: list[list[_Segment]] = []
    row: list[_Segment] = []
    row_bottom = 0.0
    for segment in segments:
        top, bottom = segment.top, segment.bottom
        if row and top < row_bottom - 0.5 * (bottom - top):
            row.append(segment)
            if bottom > row_bottom:
                row_bottom = bottom
        else:
            row = [segment]
            rows.append(row)
            row_bottom = bottom
    ordered: list[_Segment] = []
    index = 0
    while index < len(rows):
        if len(rows[index]) == 1:  # no gutter in a row of one line
            ordered.append(rows[index][0])
            index += 1
            continue
        row = sorted(rows[index], key=_LEFT)
        gutter = _gutter(row)
        if gutter is None:
            ordered.extend(row)
            index += 1
            continue
        region = [row]
        index += 1
        while index < len(rows) and not any(s.left < gutter < s.right for s in rows[index]):
            region.append(rows[index])
            index += 1
        cells = [s for r in region for s in r]
        left = [s for s in cells if s.right <= gutter]
        right = [s for s in cells if s.left >= gutter]
        if _text_lines(left, text_width) and _text_lines(right, text_width):
            ordered.extend(left)
            ordered.extend(right)
        else:
            ordered.extend(s for r in region for s in sorted(r, key=_LEFT))
    return ordered


def _text_lines(column: list[_Segment], text_width: float) -> bool:
    widths = sorted(s.right - s.left for s in column)
    return len(widths) >= 3 and widths[len(widths) // 2] >= text_width / 3


def _gutter(row: list[_Segment]) -> float | None:
    """The middle of the widest gap between the parts of a row, if it parts columns."""
    if len(row) < 2:
        return None
    gap, left, right = max((b.left - a.right, a.right, b.left) for a, b in pairwise(row))
    return (left + right) / 2 if gap >= _COLUMN_GAP * row[0].height else None


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _counts_pages(occurrences: list[tuple[int, str]]) -> bool:
    """Whether a line that recurs with other figures carries the page number: from one page
    where it stands to the next, one of its figures advances as the pages do, on at least 80%
    of the steps (``Page 3 of 12``, ``12 | Page``), unlike a heading that opens several pages
    (``ARTICLE 5``)."""
    steps = [
        (later - page, [int(b) - int(a) for a, b in zip(figures, later_figures, strict=True)])
        for (page, figures), (later, later_figures) in pairwise(
            sorted((page, re.findall(r"\d+", text)) for page, text in occurrences)
        )
    ]
    positions = len(steps[0][1]) if steps else 0
    return any(
        sum(advance[i] == pages for pages, advance in steps) >= 0.8 * len(steps)
        for i in range(positions)
    )


def _edge_segments(segments: list[_Segment], page_height: float) -> list[_Segment]:
    if not segments:
        return []
    tops = sorted({s.top for s in segments})
    first_rows, last_rows = tops[:_EDGE_ROWS], tops[-_EDGE_ROWS:]
    return [
        s
        for s in segments
        if s.top in first_rows
        or s.top in last_rows
        or s.bottom < _EDGE_BAND * page_height
        or s.top > (1 - _EDGE_BAND) * page_height
    ]


def _drop_furniture(pages: list[list[_Segment]]) -> None:
    """Remove running headers and footers, page numbers and job numbers from every page."""
    page_height = max((s.bottom for p in pages for s in p), default=0.0)
    edges = [_edge_segments(p, page_height) for p in pages]
    needed = max(2, _RECURRING_SHARE * len(pages))
    same = Counter(text for e in edges for text in {s.text.strip() for s in e})
    alike: dict[str, list[tuple[int, str]]] = {}
    for edge in edges:
        for text in {s.text.strip() for s in edge}:
            alike.setdefault(_key(text), []).append((edge[0].page, text))
    running = {text for text, n in same.items() if n >= needed}
    running |= {
        text
        for occurrences in alike.values()
        if len(occurrences) >= max(3, needed) and _counts_pages(occurrences)
        for _, text in occurrences
    }
    for page, edge in zip(pages, edges, strict=True):
        furniture = {
            id(s) for s in edge if s.text.strip() in running or _FURNITURE.fullmatch(s.text.strip())
        }
        page[:] = [s for s in page if id(s) not in furniture]


def _body_size(pages: list[list[_Segment]]) -> float:
    """The font size (to a tenth) of most of the characters; of sizes as frequent, the first
    met."""
    by_size: dict[float, int] = {}  # characters by exact size, in the order first met
    for page in pages:
        for s in page:
            by_size[s.size] = by_size.get(s.size, 0) + len(s.text)
    weights: Counter[float] = Counter()
    for size, characters in by_size.items():
        weights[round(size, 1)] += characters
    return weights.most_common(1)[0][0] if weights else 0.0


def _split_notes(page: list[_Segment], body_size: float) -> tuple[list, list]:
    """The page's body and its footnotes (the separator rule itself is dropped). The notes
    under a rule end at a gap wider than a line: what follows is body again (a page of a
    filing that prints several of its pages on one, a note at the foot of each)."""
    lower = [i for i, s in enumerate(page) if "_____" in s.text and _SEPARATOR.fullmatch(s.text)]
    if lower and len(page) > 1 and page[lower[-1]].top > page[0].top:
        cut = lower[-1]
        below = [s for s in page[cut + 1 :] if s.top > page[cut].top]
        for index, (line, following) in enumerate(pairwise(below), 1):
            if following.top - line.bottom > line.height:
                below = below[:index]
                break
        if below:
            notes = {id(s) for s in below}
            return page[:cut] + [s for s in page[cut + 1 :] if id(s) not in notes], below
    cut = len(page)
    while cut > 0 and page[cut - 1].size < _SMALL_TYPE * body_size:
        cut -= 1
    if 0 < cut < len(page) and _NOTE_MARK.match(page[cut].text):
        return page[:cut], page[cut:]
    return page, []


def _assemble(pages: list[list[_Segment]]) -> tuple[str, Layout]:
    body_size = _body_size(pages)
    body: list[_Segment] = []
    notes: list[list[_Segment]] = []
    for page in pages:
        text, footnotes = _split_notes(page, body_size)
        body.extend(text)
        if footnotes:
            notes.append(footnotes)
    gaps = [
        b.top - a.bottom
        for a, b in pairwise(body)
        if a.page == b.page and b.top > a.top and b.top - a.bottom > -1
    ]
    heights = [s.height for s in body] or [1.0]
    line_height = statistics.median(heights)
    wide_gap = (statistics.median(gaps) if gaps else 0.0) + 0.6 * line_height
    rights: dict[int, list[float]] = {}
    for segment in body:
        rights.setdefault(segment.page, []).append(segment.right)
    right_edge = {page: statistics.quantiles(r * 2, n=10)[-1] for page, r in rights.items()}
    note_starts = {id(page[0]) for page in notes}

    parts: list[str] = []
    lines: list[Line] = []
    length = 0
    previous: _Segment | None = None
    for segment in [*body, *(s for page in notes for s in page)]:
        text = segment.text
        if previous is not None:
            separator = (
                "\n\n"
                if id(segment) in note_starts
                else _separator(previous, segment, wide_gap, line_height, right_edge)
            )
            parts.append(separator)
            length += len(separator)
        parts.append(text)
        end = length + len(text)
        lines.append(
            Line(
                length, end, segment.page, segment.left, segment.top, segment.right, segment.bottom
            )
        )
        length = end
        previous = segment
    return "".join(parts), Layout(tuple(lines))


def _separator(
    previous: _Segment,
    segment: _Segment,
    wide_gap: float,
    line_height: float,
    right_edge: dict[int, float],
) -> str:
    """A blank line where a reader sees a new block; a space where a sentence runs on past a
    full line (the next word would not have fitted on it), so that the line break is not taken
    for a paragraph's end; else a line break, for the segmenter to weigh."""
    last = previous.text[-1]
    right = previous.right
    edge = right_edge.get(previous.page, right)
    sentence_end = last in _SENTENCE_END
    ends_short = sentence_end and right < edge - 2 * line_height
    if segment.page != previous.page or segment.top < previous.top:  # next page or column
        if ends_short:
            return "\n\n"
    elif (
        ends_short
        or segment.top - previous.bottom > wide_gap
        or previous.bold != segment.bold
        or abs(previous.size - segment.size) > 0.15 * max(previous.size, segment.size)
    ):
        return "\n\n"
    # A line break inside a block: after a full line that ends inside a sentence, a space;
    # nothing after a hyphen before a capital (``Afro-`` / ``Peruvian``: the hyphen of the
    # word, not a break inside it). Else a line break: after a sentence end, after a line that
    # is not full, and after a hyphen before a small letter (``mea-`` / ``sures``), which the
    # segmenter joins across the break.
    if sentence_end:
        return "\n"
    char_width = (right - previous.left) / len(previous.text)
    next_word = _FIRST_WORD.match(segment.text)
    word_length = next_word.end(1) - next_word.start(1)
    if right + char_width * (word_length + 2) < edge:
        return "\n"
    if last == "-":
        return "" if next_word.group(1)[:1].isupper() else "\n"
    return " "
