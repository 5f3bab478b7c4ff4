"""Pass 1: a text's lines -> content *pieces* (a line, or the part of a flattened line between
two inline paragraph starts), with page furniture and interface text left out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from unclf.segmenter.grammar import (
    FLAT_LINE_MIN_CHARS,
    FLAT_LINE_SPLIT_CHARS,
    GAP_START,
    LEADING_FURNITURE,
    LINE,
    NUMBERED,
    RUNNING_LINE_CHARS,
    Grammar,
)


@dataclass(slots=True)
class Piece:
    start: int
    end: int
    line: int  # index of the source line
    # kind of inline start ("num", "clause", "dotless", "sec", "pre", "quote", "head", "gap")
    inline: str | None
    number: str | None = None  # the number an inline start of NUMBERED announces


def has_blank_line(gap: str) -> bool:
    return gap.count("\n") + gap.count("\r") - gap.count("\r\n") >= 2


def running_lines(
    text: str, lines: list[re.Match], blank_before: list[bool], statement_ends: str
) -> set[int]:
    """Starts of the running headers and footers that no pattern knows: a short line standing
    alone between blank lines that recurs, identical, at least 3 times over at least half of
    the text, like "Source: ACME CORP, 10-K, 3/1/2019" on every page of a contract taken from
    EDGAR. A sentence end rules a line out (a repeated line of text is no header)."""
    starts: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        start, end = line.span()
        if not RUNNING_LINE_CHARS[0] <= end - start <= RUNNING_LINE_CHARS[1]:
            continue
        if text[end - 1] in statement_ends or not any(c.isalpha() for c in line.group()):
            continue
        alone_before = i == 0 or blank_before[i]
        alone_after = i + 1 == len(lines) or blank_before[i + 1]
        if alone_before and alone_after:
            starts.setdefault(" ".join(line.group().split()), []).append(start)
    return {
        start
        for found in starts.values()
        if len(found) >= 3 and found[-1] - found[0] >= len(text) / 2
        for start in found
    }


def infer_line_width(lengths: list[int]) -> float:
    """Line width of a hard-wrapped page; infinite when lines are not wrapped."""
    if len(lengths) < 5:
        return float("inf")
    ordered = sorted(lengths)
    width = ordered[int(0.9 * (len(ordered) - 1))]
    median = ordered[len(ordered) // 2]
    # Hard-wrapped text has most lines near the wrap width; unwrapped text has ragged lines.
    if width > 200 or median < 0.6 * width:
        return float("inf")
    return float(width)


def line_pieces(
    text: str,
    start: int,
    end: int,
    line_index: int,
    few_lines: bool,
    opened_by: str | None,
    grammar: Grammar,
    pieces: list[Piece],
) -> None:
    """The pieces of one line (or of one part of a line between wide gaps). Only
    flattened text hides every kind of paragraph start inside a line (a text of a few lines,
    or a line too long to be one paragraph); numbered clauses run together anywhere."""
    length = end - start
    numbers_only = few_lines is False and length < FLAT_LINE_SPLIT_CHARS
    # Chinese says in a line what takes English three, and a space after its punctuation
    # marks a joint wherever it is: a short line is searched too.
    if length <= FLAT_LINE_MIN_CHARS and not grammar.rules.space_separates:
        pieces.append(Piece(start, end, line_index, opened_by, None))
        return
    cut, cut_kind, cut_number = start, opened_by, None
    operative = False  # past paragraph 1: preambular openings are behind
    for m in grammar.inline_start.finditer(text, start + 1, end):
        kind = m.lastgroup
        before = text[m.start() - 1]
        if kind == "pre" and operative:
            continue
        if numbers_only:
            if kind not in ("num", "dotless") or before not in grammar.sentence_ends:
                continue
            word = text[max(start, m.start() - 12) : m.start()].rsplit(None, 1)[-1:]
            if word and word[0].rstrip(".").lower() in grammar.rules.abbreviations:
                continue  # "general recommendation No. 19. The Committee"
            kind = "clause" if kind == "num" else kind
        if kind == "num" and before not in grammar.before_number and not before.isalpha():
            continue
        number = m.group("num" if kind == "clause" else kind) if kind in NUMBERED else None
        operative = operative or (kind == "num" and number == "1")
        pieces.append(Piece(cut, m.start(), line_index, cut_kind, cut_number))
        cut, cut_kind, cut_number = m.start() + 1, kind, number
    pieces.append(Piece(cut, end, line_index, cut_kind, cut_number))


def strip_line(
    text: str, start: int, end: int, interface: re.Pattern | None, grammar: Grammar
) -> tuple[int, int]:
    """Remove interface text and page furniture glued to the ends of a line."""
    if interface is not None:
        for m in interface.finditer(text, start, end):
            if m.end() >= end:
                end = m.start()
            elif m.start() <= start:
                start = m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
    if end - start > 40:
        m = LEADING_FURNITURE.match(text, start, end)
        if m is not None:
            start = m.end()
        if end - start > FLAT_LINE_MIN_CHARS and text[end - 1].isdigit():
            m = grammar.trailing_page_number.search(text, max(start, end - 8), end)
            if m is not None:
                end = m.start() + 1
    return start, end


def pieces_of(
    text: str, interface: re.Pattern | None, grammar: Grammar
) -> tuple[list[Piece], list[bool], list[int]]:
    """Content pieces; per line, whether a blank line precedes it and its content length."""
    pieces: list[Piece] = []
    line_length: list[int] = []
    few_lines = text.count("\n") + text.count("\r") <= 6
    gaps = "   " in text or "\t" in text  # most texts have no wide gap: skip the search
    lines = list(LINE.finditer(text))
    ends = [0, *(line.end() for line in lines)]
    blank_before = [has_blank_line(text[ends[i] : line.start()]) for i, line in enumerate(lines)]
    running = running_lines(text, lines, blank_before, grammar.statement_ends)
    for line_index, line in enumerate(lines):
        start, end = line.span()
        if interface is not None or end - start > 40:
            start, end = strip_line(text, start, end, interface, grammar)
        line_length.append(end - start)
        if line.start() in running or (
            end - start <= 40
            and (start >= end or grammar.furniture_line.fullmatch(text, start, end) is not None)
        ):
            continue  # page furniture: in no paragraph, and it does not end one
        cut, opened_by = start, None
        for wide in GAP_START.finditer(text, start, end) if gaps else ():
            line_pieces(text, cut, wide.start(), line_index, few_lines, opened_by, grammar, pieces)
            cut, opened_by = wide.end(), "gap"
        line_pieces(text, cut, end, line_index, few_lines, opened_by, grammar, pieces)
    return pieces, blank_before, line_length
