"""Where each paragraph sits and what it is: its place in its document, its kind, how it
starts and ends, the heading it sits under, and whether it is the first to name a date or a
company; a small dense array that the second stage reads directly."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from unclf.segmenter import KINDS, ParsedDocument

_MONTH = (  # capitalised, so that "may 2010" is not one
    r"(?-i:(?=[A-Z]))(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?"
    r"|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_YEAR = r"(?:\d{4}(?!\d)|__+)"  # a form's blank counts: "the ___ day of ______, 20__"
# The date forms of contracts and UN documents: "January 29, 2007", "26 September 2019",
# "the 5th day of December 2008", "December 2009", "03/01/05", "2020-04-08"; not a symbol
# such as A/HRC/9/8, a clause number such as 13.1.12, "may 2010" or "June 302010". The
# look-ahead and the test for two digits or a blank, which every date has, make the search 5x
# faster.
_DATE = re.compile(
    r"(?=[\dJFMASONDjfmasond])(?:"
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:\s*,\s*|\s+){_YEAR}"
    rf"|\b\d{{1,2}}(?:\s*(?:st|nd|rd|th))?\s+(?:day\s+of\s+)?{_MONTH},?\s*{_YEAR}"
    rf"|\b{_MONTH},?\s+\d{{4}}(?!\d)"
    r"|(?<![\d/.])(?:\d{1,2}([/-])\d{1,2}\1(?:\d{4}|\d{2})|\d{1,2}\.\d{1,2}\.\d{4})(?![\d/.])"
    r"|\b\d{4}-\d{2}-\d{2}\b"
    rf"|\bday\s+of\s+(?:{_MONTH}|_+),?\s+(?:\d{{2,4}}_*|__+))",
    re.IGNORECASE,
)
# A company named by its legal form: "Acme Trading Ltd", "CURO MANAGEMENT, LLC",
# "Wells Fargo Bank, N.A."; capitalised, so that "limited resources" is not one, and not the
# start of a compound ("Company-wide"). "Company", "Corporation" and "Limited" also count
# where a contract names a party by them ("the Company"): without "Company" CUAD Parties lost
# documents (benchmarks/experiments.md).
_ORGANISATION = re.compile(
    r"\b(?<!\.)(?=[ILCGASNPBp])"  # not the "S.A" of "U.S.A."
    r"(?:Inc|INC|LLC|L\.L\.C|Ltd|LTD|Limited|LIMITED|Corp|CORP|Corporation|CORPORATION"
    r"|Company|COMPANY|GmbH|AG|S\.A|N\.A|L\.P|LLP|PLC|plc|B\.V|N\.V|S\.p\.A|Pty)\b(?!-)"
)
# What a paragraph may mention: the pattern, and a cheap pre-filter that every text with a
# mention passes (every date has two digits in a row or a form's blank).
_MENTIONS = {
    "dates": (_DATE, re.compile(r"\d\d|__")),
    "organisations": (_ORGANISATION, None),
}
_MENTION_COLUMNS = ("", "_first_in_document", "_log_paragraphs_before")  # as _mentions returns
# A paragraph's count stops here: a schedule of 40 delivery dates is not 40 times as much a
# statement of the agreement's date.
_MAX_MENTIONS = 5


LAYOUT_FEATURES = (
    "relative_position",
    "relative_position_from_end",
    "log_index",
    "log_index_from_end",
    "log_chars",
    "log_chars_vs_document_median",
    "has_number",
    "number_depth",
    *(f"kind={kind}" for kind in KINDS),
    "has_section",
    "ends_with_colon",
    "ends_with_semicolon",
    "ends_with_period",
    "starts_lower_case",
    "previous_ends_with_colon",
    *(f"{name}{suffix}" for name in _MENTIONS for suffix in _MENTION_COLUMNS),
)


def document_offsets(docs: Sequence[ParsedDocument]) -> np.ndarray:
    """Row offsets: document ``i`` owns rows ``offsets[i]:offsets[i + 1]``."""
    return np.concatenate([[0], np.cumsum([len(d.paragraphs) for d in docs])]).astype(np.int64)


def heading_rows(docs: Sequence[ParsedDocument]) -> np.ndarray:
    """For each paragraph of the documents, the row of the heading it sits under (-1 if
    none), rows counted over all the documents as ``document_offsets`` counts them."""
    out = np.full(sum(len(d.paragraphs) for d in docs), -1, dtype=np.int64)
    row = 0
    for doc in docs:
        heading = -1
        for paragraph in doc.paragraphs:
            out[row] = heading
            if paragraph.kind == "heading":
                heading = row
            row += 1
    return out


def layout_features(doc: ParsedDocument) -> np.ndarray:
    """Where each paragraph sits in its document, what kind of paragraph it is and what it
    mentions; one column per name in :data:`LAYOUT_FEATURES`."""
    n = len(doc.paragraphs)
    if n == 0:
        return np.zeros((0, len(LAYOUT_FEATURES)))
    index = np.arange(n, dtype=float)
    span = max(n - 1, 1)
    chars = np.array([len(p.text) for p in doc.paragraphs], dtype=float)
    log_chars = np.log1p(chars)
    columns = [
        index / span,
        (n - 1 - index) / span,
        np.log1p(index),
        np.log1p(n - 1 - index),
        log_chars,
        log_chars - np.median(log_chars),
        np.array([p.number is not None for p in doc.paragraphs], dtype=float),
        np.array([p.number.count(".") + 1 if p.number else 0 for p in doc.paragraphs], float),
        *(np.array([p.kind == kind for p in doc.paragraphs], dtype=float) for kind in KINDS),
        np.array([p.section is not None for p in doc.paragraphs], dtype=float),
        *_punctuation(doc),
        *(column for name in _MENTIONS for column in _mentions(doc, *_MENTIONS[name])),
    ]
    return np.column_stack(columns)


def lead_ins(doc: ParsedDocument) -> np.ndarray:
    """Paragraphs ending with a colon: they introduce what follows ("by and between:",
    "Decides:") rather than state it."""
    return np.array([p.text.rstrip().endswith(":") for p in doc.paragraphs], dtype=bool)


def _punctuation(doc: ParsedDocument) -> list[np.ndarray]:
    """How a paragraph ends and starts: a lead-in (see :func:`lead_ins`); list items
    (recommendations, operative paragraphs) end with a semicolon; a paragraph starting in
    lower case continues another."""
    last = [p.text.rstrip()[-1:] for p in doc.paragraphs]
    colon = lead_ins(doc).astype(float)
    return [
        colon,
        np.array([c == ";" for c in last], dtype=float),
        np.array([c == "." for c in last], dtype=float),
        np.array([p.text[:1].islower() for p in doc.paragraphs], dtype=float),
        np.concatenate([[0.0], colon[:-1]]),
    ]


def _mentions(
    doc: ParsedDocument, pattern: re.Pattern, prefilter: re.Pattern | None
) -> list[np.ndarray]:
    """How often a paragraph mentions a date (or a company), whether it is the first of its
    document to, and after how many that do: a contract's date and parties are stated first
    on its cover page and in its opening lines, and a blank spaCy pipeline has no entities."""
    count = np.array(
        [
            min(sum(1 for _ in pattern.finditer(p.text)), _MAX_MENTIONS)
            if prefilter is None or prefilter.search(p.text)
            else 0
            for p in doc.paragraphs
        ],
        dtype=float,
    )
    mentions = count > 0
    before = np.concatenate([[0], np.cumsum(mentions)[:-1]])
    return [count, (mentions & (before == 0)).astype(float), np.log1p(before)]
