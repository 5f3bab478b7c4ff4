"""Raw UN document text -> the paragraphs a reader sees, with exact offsets.

The text arrives hard-wrapped from PDFs, flattened onto one line by web viewers, or clean,
sometimes with its punctuation garbled by the wrong character set ("StateÕs", see
:func:`repair_mac_roman`).
One pass splits it into line *pieces* (a line, or the part of a flattened line between two
inline paragraph starts); a second pass decides for each piece whether it starts a new
paragraph, is page furniture (running headers, page numbers), or is interface text glued on by
the viewer. Offsets always point into the text exactly as given; cleaned text is separate.

The same logic runs as the spaCy component ``unclf_paragraphs`` (results in
``doc.spans["paragraphs"]`` and ``doc._.paragraphs``) and behind :func:`segment`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, partial
from itertools import groupby, pairwise

import numpy
import spacy
from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LOWER
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples
from spacy.util import registry

from unclf.languages import LanguageRules, detect_language, rules_for

__all__ = [
    "DEFAULT_INTERFACE_PATTERNS",
    "Paragraph",
    "ParagraphSegmenter",
    "ParsedDocument",
    "find_paragraphs",
    "make_paragraph_segmenter",
    "paragraph_pipeline",
    "parse_many",
    "repair_mac_roman",
    "score_paragraphs",
    "segment",
    "segment_many",
]

KINDS = ("paragraph", "heading", "list_item")
TEXT_KEY = "unclf.text"

# Viewer/platform text that is never part of the document.
DEFAULT_INTERFACE_PATTERNS: tuple[str, ...] = (
    r"Select target paragraph\s*\d*",
    r"Type Classification:",
)


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph as a reader sees it; ``start``/``end`` index the original text."""

    index: int
    start: int
    end: int
    text: str
    number: str | None
    kind: str
    section: str | None

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "number": self.number,
            "kind": self.kind,
            "section": self.section,
        }


# --- line-level patterns -------------------------------------------------------------------

_LINE = re.compile(r"\S(?:[^\r\n]*\S)?")
_SYMBOL = r"[A-Z]{1,3}(?:/[A-Z0-9][A-Za-z0-9.\-]*)+(?:\s*\(\d{4}\))?"
# Running header at the start of a flattened line.
_LEADING_FURNITURE = re.compile(rf"{_SYMBOL}(?:\s+[Pp]age\s+\d{{1,4}})?\s+(?=\S)")
# A wide gap inside a line after a sentence end, before what can start a paragraph: where a
# viewer or converter turned line breaks into runs of spaces (contracts from EDGAR). Not
# before "And": there the gap joins two party names ("WIDGETS, INC.   And   FENWICK LTD.").
_GAP_START = re.compile(r'(?<=[.;:!?)”"])[ \t]{3,}(?!(?:And|AND)\s)(?=[\dA-Z(“"]|[a-z]{1,3}[.)]\s)')
_JOINING_ONLY_MAX_CHARS = 24  # longer pieces are never only joining words: skip the regex
_WORD = re.compile(r"\S+")
_HYPHEN_BREAK = re.compile(r"(?<=[a-z])-\s*\n\s*(?=[a-z])")
# Characters that may stand before a paragraph number inside a line, besides a language's
# sentence ends and commas.
_BEFORE_NUMBER = ')”"*'
# Quotes and brackets that may close a statement but say nothing of how it ends.
_CLOSERS = "”\")»’'"


@dataclass(frozen=True)
class _Grammar:
    """A language's rules (:mod:`unclf.languages`) compiled into the patterns the segmenter
    runs: one per language, built once."""

    rules: LanguageRules
    # A paragraph marker at the start of a piece: "12.", "129.90.", "(a)", "a)", "III.",
    # "C.", "•", and the language's own ("1 -").
    marker: re.Pattern
    # Inline paragraph starts inside a line (flattened text): a number or section marker
    # after a sentence end, a multi-level number without its dot after a sentence end ("...
    # LAWS. 11.9 Arbitration."), a short heading run into the numbered paragraph after it
    # ("... rights. Legal framework 12. The State"), a preambular opening after a comma, an
    # opening quote after a sentence end; in Chinese any space after a comma or a full stop.
    # The pattern starts with the space so the regex engine can skip ahead; what must
    # precede the space is checked on the few matches.
    inline_start: re.Pattern
    furniture_line: re.Pattern
    trailing_page_number: re.Pattern  # a flattened line's page number after a sentence end
    joining_only: re.Pattern
    sentence_ends: str  # what ends a statement, closing quotes included
    statement_ends: str  # the punctuation that ends a paragraph (".;:!?," in English)
    closing: str  # what ends a document's last sentence (".!?;" in English)
    before_number: str


@cache
def _grammar(code: str) -> _Grammar:
    rules = rules_for(code)
    letters = rules.item_letters
    extra = f"|{rules.extra_number}" if rules.extra_number else ""
    marker = re.compile(
        r"(?:(?P<num>\d{1,3}(?:\.\d{1,3})*)\."
        rf"|\((?P<paren>[{letters}]{{1,2}}|[ivxlc]{{1,7}}|[IVXLC]{{1,7}}|\d{{1,2}})\)"
        rf"|(?P<half>[{letters}]{{1,2}})\)"
        r"|(?P<section>[IVXL]{1,6}|[A-Z])\."
        rf"{extra}"
        r"|(?P<bullet>[•●▪◦\-–]))(?=\s|$)"
    )
    commas = re.escape(rules.commas)
    ends = re.escape(rules.sentence_ends.rstrip(_CLOSERS))
    first = r"\S" if rules.space_separates else rf"[\d{rules.opening_letter}]"
    if rules.inline_item:
        first = rf"(?:{first}|{rules.inline_item})"
    spaced = rf"|(?<=[{ends}{commas}] )(?P<space>(?=\S))" if rules.space_separates else ""
    # A list item that the language sets apart, after the statement or clause before it ("؛
    # (ب) ...").
    item = (
        rf"|(?<=[{ends}{commas}] )(?P<item>(?=(?:{rules.inline_item}) ))"
        if rules.inline_item
        else ""
    )
    # After a preambular paragraph's comma, inside a closing quote or not ('Elections,”').
    after_comma = rf"(?:(?<=[{commas}] )|(?<=[{commas}][”\"»] ))"
    operative = rf"|{after_comma}(?P<op>(?={rules.operative}))" if rules.operative else ""
    # Not after a colon: what a colon announces is quoted in the same paragraph.
    quoted = re.escape(rules.sentence_ends.rstrip(_CLOSERS).replace(":", ""))
    inline_start = re.compile(
        rf" (?={first})(?:(?=(?P<num>\d{{1,3}}(?:\.\d{{1,3}})*){rules.number_then})"
        r"|(?<=[.;:!?] )(?=(?P<dotless>\d{1,3}(?:\.\d{1,3})+) [A-Z][a-z])"
        rf"|(?<=[.;:!?] )(?=(?P<sec>[IVXL]{{1,6}}|[A-Z])\.\s+[{rules.capitals}])"
        r"|(?<=[.;:!?,] )(?P<head>(?=[A-Z][^.;:,“”()\d]{2,80}? \d{1,3}\.\s+[A-Z]))"
        rf"|{after_comma}(?P<pre>(?={rules.inline_preamble_start.pattern})){operative}"
        rf"|(?<=[{quoted}] )(?P<quote>(?=[“\"])){spaced}{item})"
    )
    pages = "|".join(re.escape(word) for word in rules.page_words if word != "page")
    own_pages = rf"|(?i:{pages})\.?\s*\d{{1,4}}" if pages else ""
    furniture_line = re.compile(
        rf"(?:{_SYMBOL}(?:\s+[Pp]age\s+\d{{1,4}})?|[A-Z]/[A-Z]{{2,5}}"
        r"|\d{1,4}|\d{1,3}\s*/\s*\d{1,3}|[Pp]age\s+\d{1,4}(?:\s+of\s+\d{1,4})?|-\s*\d{1,4}\s*-"
        rf"|GE\.\d{{2}}-\d{{4,6}}(?:\s*\([A-Z]\))?{own_pages})"
    )
    statement_ends = rules.sentence_ends.strip(_CLOSERS) + rules.commas
    return _Grammar(
        rules=rules,
        marker=marker,
        inline_start=inline_start,
        furniture_line=furniture_line,
        trailing_page_number=re.compile(rf"[{ends}]\s+\d{{1,4}}$"),
        joining_only=re.compile(rules.joining_only, re.IGNORECASE),
        sentence_ends=rules.sentence_ends,
        statement_ends=statement_ends,
        closing="".join(c for c in statement_ends if c not in ":" + rules.commas),
        before_number=rules.sentence_ends + rules.commas + _BEFORE_NUMBER,
    )


_HEADING_MAX_CHARS = 200
_RUNNING_LINE_CHARS = (8, 100)
_FLAT_LINE_MIN_CHARS = 160
# A line this long holds several paragraphs only when it was flattened; numbered clauses run
# together in shorter lines too ("... the termination. 13. The Distributor ..."), so a shorter
# line (over _FLAT_LINE_MIN_CHARS) is searched for numbers after a sentence end only.
_FLAT_LINE_SPLIT_CHARS = 2000
# Inline starts that announce a number: "num" and "sec" in flattened text; "clause" (a number
# with its dot) and "dotless" where a list goes on inside a line.
_NUMBERED = frozenset(["num", "sec", "clause", "dotless"])
_INLINE_HEADING_MAX_CHARS = 250


@dataclass(slots=True)
class _Piece:
    start: int
    end: int
    line: int  # index of the source line
    # kind of inline start ("num", "clause", "dotless", "sec", "pre", "quote", "head", "gap")
    inline: str | None
    number: str | None = None  # the number an inline start of _NUMBERED announces


@dataclass(slots=True)
class _Block:
    start: int
    end: int
    pieces: list[tuple[int, int]]
    number: str | None
    marker_end: int  # end offset of the marker, == start when there is none
    marker_kind: str | None
    opened_by: str | None  # the inline start kind that opened the block, if any


def _is_terminal(text: str, grammar: _Grammar) -> bool:
    return bool(text) and text[-1] in grammar.sentence_ends


def _leaves_open(text: str, grammar: _Grammar) -> bool:
    """Whether a line ends on a joining word, or is nothing but one: it leaves its statement
    open, whatever blank lines, capitals or sentence ends follow. A cover page spreads one
    statement over short lines ("by and between" / "Nuance Inc." / "and" / "Cerence Inc."), and
    a page edge cuts a sentence after "Ministry of". Not after a comma, semicolon or colon ("(a)
    to pay the fee; and"), where the list goes on in a paragraph of its own; "or" alone between
    two options is no joining word either."""
    if not text[-1:].isalpha():
        return False
    words = text.rsplit(None, 1)
    if words[-1].lower() not in grammar.rules.joining_words:
        return False
    if len(words) == 1:
        return words[0].lower() != "or"
    return words[0][-1] not in ",;:"


def _has_blank_line(gap: str) -> bool:
    return gap.count("\n") + gap.count("\r") - gap.count("\r\n") >= 2


def _running_lines(
    text: str, lines: list[re.Match], blank_before: list[bool], statement_ends: str
) -> set[int]:
    """Starts of the running headers and footers that no pattern knows: a short line standing
    alone between blank lines that recurs, identical, at least 3 times over at least half of
    the text, like "Source: ACME CORP, 10-K, 3/1/2019" on every page of a contract taken from
    EDGAR. A sentence end rules a line out (a repeated line of text is no header)."""
    starts: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        start, end = line.span()
        if not _RUNNING_LINE_CHARS[0] <= end - start <= _RUNNING_LINE_CHARS[1]:
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


def _infer_line_width(lengths: list[int]) -> float:
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


# Marker group -> marker kind; numbers and sections are kept as written, lettered items in
# brackets ("a)" -> "(a)"), bullets have none.
_MARKER_KINDS = {
    "num": "num",
    "dash": "num",
    "section": "section",
    "paren": "list",
    "half": "list",
    "dashitem": "list",
    "quoteditem": "list",
    "bullet": "bullet",
}


def _parse_marker(
    text: str, pos: int, end: int, marker: re.Pattern
) -> tuple[str | None, str | None, int]:
    """Number, marker kind ("num", "list", "section", "bullet") and marker end of a piece."""
    m = marker.match(text, pos, end)
    if m is None:
        return None, None, pos
    group = m.lastgroup  # each alternative of the pattern has one group
    kind = _MARKER_KINDS[group]
    if kind == "bullet":
        return None, kind, m.end()
    found = m.group(group)
    return (f"({found})" if kind == "list" and group != "quoteditem" else found), kind, m.end()


def _continues(number: str, previous: str | None) -> bool:
    """Whether ``number`` is the next item after ``previous`` in one numbered list: the next at
    its level (11.8 -> 11.9, up to 3 on), at a level above (11.8 -> 12, 12.1), or the first
    below it (12 -> 12.1). Stricter than ``_follows``, for numbers inside a line."""
    if previous is None:
        return False
    parts, before = number.split("."), previous.split(".")
    if not all(p.isdigit() for p in parts + before):
        return False
    n, b = [int(p) for p in parts], [int(p) for p in before]
    if n[: len(b)] == b:
        return len(n) > len(b) and all(x == 1 for x in n[len(b) :])
    for level in range(min(len(n), len(b))):
        if n[:level] != b[:level]:
            break
        gap = n[level] - b[level]
        if 0 < gap <= (3 if level == len(b) - 1 else 1):
            return all(x == 1 for x in n[level + 1 :])
    return False


def _follows(number: str, previous: str | None, max_gap: int = 3) -> bool:
    """Whether ``number`` plausibly continues the numbering after ``previous``."""
    if previous is None or number == "1":
        return True
    head, _, last = number.rpartition(".")
    prev_head, _, prev_last = previous.rpartition(".")
    if head != prev_head or not last.isdigit() or not prev_last.isdigit():
        return head != "" and head.isdigit() and last in {"1", "01"}
    return 0 < int(last) - int(prev_last) <= max_gap


def _line_pieces(
    text: str,
    start: int,
    end: int,
    line_index: int,
    few_lines: bool,
    opened_by: str | None,
    grammar: _Grammar,
    pieces: list[_Piece],
) -> None:
    """The pieces of one line (or of one part of a line between wide gaps). Only
    flattened text hides every kind of paragraph start inside a line (a text of a few lines,
    or a line too long to be one paragraph); numbered clauses run together anywhere."""
    length = end - start
    numbers_only = few_lines is False and length < _FLAT_LINE_SPLIT_CHARS
    # Chinese says in a line what takes English three, and a space after its punctuation
    # marks a joint wherever it is: a short line is searched too.
    if length <= _FLAT_LINE_MIN_CHARS and not grammar.rules.space_separates:
        pieces.append(_Piece(start, end, line_index, opened_by, None))
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
        number = m.group("num" if kind == "clause" else kind) if kind in _NUMBERED else None
        operative = operative or (kind == "num" and number == "1")
        pieces.append(_Piece(cut, m.start(), line_index, cut_kind, cut_number))
        cut, cut_kind, cut_number = m.start() + 1, kind, number
    pieces.append(_Piece(cut, end, line_index, cut_kind, cut_number))


class _Segmenter:
    def __init__(self, interface_patterns: Iterable[str], language: str | None = None) -> None:
        # None: each text's language is told from the text (see detect_language).
        self.language = None if language is None else rules_for(language).code
        patterns = list(interface_patterns)
        self.interface = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
        # Searched one by one: each pattern alone starts with a literal the regex engine can
        # skip ahead to, which their alternation does not.
        self._interface_probes = [re.compile(p) for p in patterns]

    # -- pass 1: lines and pieces ----------------------------------------------------------

    def _strip_line(
        self, text: str, start: int, end: int, interface: bool, grammar: _Grammar
    ) -> tuple[int, int]:
        """Remove interface text and page furniture glued to the ends of a line."""
        if interface:
            for m in self.interface.finditer(text, start, end):
                if m.end() >= end:
                    end = m.start()
                elif m.start() <= start:
                    start = m.end()
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
        if end - start > 40:
            m = _LEADING_FURNITURE.match(text, start, end)
            if m is not None:
                start = m.end()
            if end - start > _FLAT_LINE_MIN_CHARS and text[end - 1].isdigit():
                m = grammar.trailing_page_number.search(text, max(start, end - 8), end)
                if m is not None:
                    end = m.start() + 1
        return start, end

    def _pieces(
        self, text: str, interface: bool, grammar: _Grammar
    ) -> tuple[list[_Piece], list[bool], list[int]]:
        """Content pieces; per line, whether a blank line precedes it and its content length."""
        pieces: list[_Piece] = []
        line_length: list[int] = []
        few_lines = text.count("\n") + text.count("\r") <= 6
        gaps = "   " in text or "\t" in text  # most texts have no wide gap: skip the search
        lines = list(_LINE.finditer(text))
        ends = [0, *(line.end() for line in lines)]
        blank_before = [
            _has_blank_line(text[ends[i] : line.start()]) for i, line in enumerate(lines)
        ]
        running = _running_lines(text, lines, blank_before, grammar.statement_ends)
        for line_index, line in enumerate(lines):
            start, end = line.span()
            if interface or end - start > 40:
                start, end = self._strip_line(text, start, end, interface, grammar)
            line_length.append(end - start)
            if line.start() in running or (
                end - start <= 40
                and (start >= end or grammar.furniture_line.fullmatch(text, start, end) is not None)
            ):
                continue  # page furniture: in no paragraph, and it does not end one
            cut, opened_by = start, None
            for wide in _GAP_START.finditer(text, start, end) if gaps else ():
                _line_pieces(
                    text, cut, wide.start(), line_index, few_lines, opened_by, grammar, pieces
                )
                cut, opened_by = wide.end(), "gap"
            _line_pieces(text, cut, end, line_index, few_lines, opened_by, grammar, pieces)
        return pieces, blank_before, line_length

    # -- pass 2: pieces -> blocks ------------------------------------------------------------

    def _starts_block(
        self,
        text: str,
        piece: _Piece,
        prev: _Piece,
        block: _Block,
        marker: tuple[str | None, str | None, int],
        blank: bool,
        width: float,
        line_length: int,
        last_number: str | None,
        grammar: _Grammar,
    ) -> bool:
        prev_text = text[prev.start : prev.end]
        terminal = _is_terminal(prev_text, grammar) or prev_text[-1:] in grammar.rules.commas
        block_is_marker_only = block.marker_end >= block.end
        number, marker_kind, marker_end = marker

        if piece.inline is not None:
            if block_is_marker_only:
                return False  # "C." then "Building thematic expertise": one heading
            if piece.inline in ("pre", "op", "quote", "head", "gap", "space", "item"):
                return True
            if piece.inline == "sec":
                heading = text[marker_end : piece.end]
                return len(heading) <= _INLINE_HEADING_MAX_CHARS and not _is_terminal(
                    heading, grammar
                )
            assert number is not None
            if piece.inline in ("clause", "dotless"):  # a list goes on, not "4.1 Million"
                return terminal and _continues(number, last_number)
            if terminal and _follows(number, last_number, max_gap=10):
                return True
            # After a word: the next number, the first number after a heading, or the first
            # number of the document unless the word refers to it ("paragraph 1.").
            if last_number is not None:
                return _follows(number, last_number)
            if block.marker_kind == "section" or block.opened_by == "head":
                return not _is_terminal(prev_text, grammar)
            reference_words = grammar.rules.reference_words
            return number == "1" and prev_text.rsplit(None, 1)[-1].lower() not in reference_words

        if block_is_marker_only:  # "12." alone on its line takes the next line, unless numbered
            return marker_kind == "num" or (marker_kind is not None and marker_end >= piece.end)
        if marker_kind == "section" and _leaves_open(prev_text, grammar):
            return False  # "by and between" then "F. Hoffmann-La Roche Ltd": an initial
        if marker_kind is not None:
            alone = marker_end >= piece.end
            if marker_kind == "num" and not (alone or terminal or blank):
                return last_number is not None and _follows(number, last_number)
            return alone or terminal or blank or marker_kind == "bullet"
        if _leaves_open(prev_text, grammar) or (
            piece.end - piece.start <= _JOINING_ONLY_MAX_CHARS
            and grammar.joining_only.fullmatch(text, piece.start, piece.end)
        ):
            return False
        rules = grammar.rules
        if rules.space_separates:  # Chinese: a character is a word, no space before it
            next_word_length = 1
        else:
            next_word = _WORD.match(text, piece.start, piece.end)
            next_word_length = next_word.end() - next_word.start() if next_word else 0
        short = line_length + 1 + next_word_length < 0.92 * width
        # A preambular opening after a preambular paragraph's end: "Recalling", "Rappelant",
        # and in Russian, which opens them in lower case, "ссылаясь". Where the line before
        # is full, only an opening that seldom continues a paragraph ("..., включая").
        opening = rules.preamble_start if blank or short else rules.inline_preamble_start
        if prev_text[-1:] in rules.commas + ";" and opening.match(text, piece.start):
            return True
        first = text[piece.start]
        if blank:
            return not (first.islower() and not _is_terminal(prev_text, grammar))
        if first.islower():
            return False
        if not rules.has_case and prev_text[-1:] not in grammar.statement_ends:
            return False  # "警力上限为2" / "101人": a line broken inside a sentence
        if short:
            return True  # the previous line is short: it ended its paragraph
        return _is_terminal(prev_text, grammar) and first in '“"'

    def find(self, text: str) -> list[Paragraph]:
        return self.find_readable(repair_mac_roman(text))

    def find_readable(self, text: str) -> list[Paragraph]:
        """``find`` of a text that :func:`repair_mac_roman` has seen already."""
        # Interface text is rare: look for it once, and only then in every line.
        interface = any(probe.search(text) for probe in self._interface_probes)
        grammar = _grammar(self.language or detect_language(text))
        pieces, blank_before, line_length = self._pieces(text, interface, grammar)
        if not pieces:
            return []
        width = _infer_line_width([line_length[line] for line in {p.line for p in pieces}])

        blocks: list[_Block] = []
        block: _Block | None = None
        last_number: str | None = None
        for k, piece in enumerate(pieces):
            marker = _parse_marker(text, piece.start, piece.end, grammar.marker)
            if piece.inline in ("num", "clause", "sec"):
                marker = (piece.number, "section" if piece.inline == "sec" else "num", marker[2])
            elif piece.inline == "dotless":
                assert piece.number is not None
                marker = (piece.number, "num", piece.start + len(piece.number))
            if block is None:
                new = True
            else:
                prev = pieces[k - 1]
                blank = piece.line != prev.line and (
                    blank_before[piece.line]
                    or any(blank_before[line] for line in range(prev.line + 1, piece.line))
                )
                new = self._starts_block(
                    text,
                    piece,
                    prev,
                    block,
                    marker,
                    blank,
                    width,
                    line_length[prev.line],
                    last_number,
                    grammar,
                )
            if new:
                number, marker_kind, marker_end = marker
                if marker_kind is None:
                    marker_end = piece.start
                block = _Block(
                    piece.start, piece.end, [], number, marker_end, marker_kind, piece.inline
                )
                blocks.append(block)
                if marker_kind == "num":
                    last_number = number
                elif (
                    marker_kind is None
                    and (opening := _LEADING_NUMBER.match(text, piece.start))
                    and (last_number is None or _continues(opening.group(1), last_number))
                ):
                    last_number = opening.group(1)  # "11.8 Governing Law.", not "1.5 million"
            assert block is not None
            block.pieces.append((piece.start, piece.end))
            block.end = piece.end
        return self._paragraphs(text, blocks, interface, grammar)

    def _clean(self, text: str, block: _Block, interface: bool, grammar: _Grammar) -> str:
        if len(block.pieces) == 1 and not interface:
            return " ".join(text[block.marker_end : block.end].split())
        parts = []
        for start, end in block.pieces:
            start = max(start, block.marker_end)
            if start < end:
                parts.append(text[start:end])
        joined = "\n".join(parts)
        if "-\n" in joined:
            keep = grammar.rules.keep_hyphen_before
            joined = _HYPHEN_BREAK.sub(partial(_repair_hyphen, keep=keep), joined)
        if interface:
            joined = self.interface.sub(" ", joined)
        return " ".join(joined.split())

    def _paragraphs(
        self, text: str, blocks: list[_Block], interface: bool, grammar: _Grammar
    ) -> list[Paragraph]:
        cleaned = [(block, self._clean(text, block, interface, grammar)) for block in blocks]
        cleaned = [(b, c) for b, c in cleaned if any(ch.isalnum() for ch in c)]
        # Interface text glued after the document: short trailing lines that end no sentence.
        while len(cleaned) > 1:
            block, clean = cleaned[-1]
            if block.marker_kind == "num" or len(clean) >= 60 or clean[-1] in grammar.closing:
                break
            cleaned.pop()
        kinds = [_kind(block, clean, grammar.statement_ends) for block, clean in cleaned]
        numbers = [block.number or _leading_number(clean) for block, clean in cleaned]
        for i in range(1, len(cleaned) - 1):
            # "123.30 ...;" / "123.31 Adopt strategies (Egypt)" / "123.32 ...;": an item of the
            # list that lost its closing punctuation, not a heading.
            if (
                kinds[i] == "heading"
                and kinds[i - 1] == kinds[i + 1] == "paragraph"
                and _in_sequence(numbers[i - 1], numbers[i], numbers[i + 1])
            ):
                kinds[i] = "paragraph"
        paragraphs = []
        section = None
        for index, ((block, clean), kind) in enumerate(zip(cleaned, kinds, strict=True)):
            number = block.number
            opening = _LEADING_NUMBER.match(clean) if block.marker_kind is None else None
            if opening is not None:
                # "136.1 Ratify ..." / "136.2 Accede ...": numbered without the closing dot
                # that a marker has, the number of a list all the same.
                around = numbers[max(index - 1, 0) : index + 2]
                if any(_counts_on(a, b) for a, b in pairwise(around)):
                    number, clean = opening.group(1), clean[opening.end() :].lstrip()
            paragraphs.append(
                Paragraph(index, block.start, block.end, clean, number, kind, section)
            )
            if kind == "heading":  # the paragraphs after it sit under it
                section = f"{number}. {clean}" if number else clean
        return paragraphs


def _repair_hyphen(match: re.Match, keep: frozenset[str]) -> str:
    """A hyphen at a line end goes, unless a joining word follows ("troop- and police-")."""
    following = match.string[match.end() :].split(None, 1)
    word = following[0].rstrip(",.;:") if following else ""
    return "- " if word in keep else ""


_LEADING_NUMBER = re.compile(r"(\d{1,3}(?:\.\d{1,3})+)\.?\s")


def _leading_number(clean: str) -> str | None:
    """A multi-level number opening the text ("155.124 Intensify"), marker or not."""
    match = _LEADING_NUMBER.match(clean)
    return match.group(1) if match else None


def _in_sequence(previous: str | None, number: str | None, following: str | None) -> bool:
    """Whether three multi-level numbers count up by one under the same head."""
    return _counts_on(previous, number) and _counts_on(number, following)


def _counts_on(number: str | None, following: str | None) -> bool:
    """Whether ``following`` is the multi-level number after ``number`` ("136.9", "136.10")."""
    if not (number and following):
        return False
    head, _, last = number.rpartition(".")
    following_head, _, following_last = following.rpartition(".")
    return bool(head) and head == following_head and int(following_last) - int(last) == 1


def _kind(block: _Block, clean: str, statement_ends: str) -> str:
    if block.marker_kind in ("list", "bullet"):
        return "list_item"
    if clean.rstrip("”\"’'")[-1:] in statement_ends:
        return "paragraph"
    words = clean.count(" ") + 1
    limit = {"section": 30, "num": 8, None: 15}[block.marker_kind]
    return "heading" if words <= limit and len(clean) <= _HEADING_MAX_CHARS else "paragraph"


# --- spaCy component and plain API -----------------------------------------------------------

# The paragraphs are kept on the Doc as plain tuples, which msgpack can write: a Doc must
# survive ``to_bytes``, ``DocBin(store_user_data=True)`` and ``nlp.pipe(n_process=2)``.
_PARAGRAPHS_KEY = "unclf_paragraphs"


def _doc_paragraphs(doc: Doc) -> list[Paragraph] | None:
    rows = doc.user_data.get(_PARAGRAPHS_KEY)
    return None if rows is None else [Paragraph(*row) for row in rows]


def _register_extension() -> None:
    """``doc._.paragraphs``, registered by the first component made rather than at import, so
    that importing unclf changes nothing in spaCy; another package's extension of that name
    is an error, not silently replaced."""
    if not Doc.has_extension("paragraphs"):
        Doc.set_extension("paragraphs", getter=_doc_paragraphs)
    elif Doc.get_extension("paragraphs")[2] is not _doc_paragraphs:
        raise ValueError(
            "Doc._.paragraphs is already registered by another package; the unclf_paragraphs "
            "component cannot share it"
        )


def score_paragraphs(examples: Iterable[Example], *, spans_key: str, **kwargs) -> dict:
    """Precision, recall and F1 of the predicted paragraphs against the reference ones in
    ``doc.spans[spans_key]``: a paragraph counts when its tokens are exactly a reference
    paragraph's, whatever its kind (``spans_{spans_key}_p``, ``_r``, ``_f``)."""
    kwargs.setdefault("attr", f"spans_{spans_key}")
    kwargs.setdefault("labeled", False)
    kwargs.setdefault("allow_overlap", True)
    kwargs.setdefault("getter", lambda doc, _: doc.spans.get(spans_key, []))
    kwargs.setdefault("has_annotation", lambda doc: spans_key in doc.spans)
    return Scorer.score_spans(examples, **kwargs)


@registry.scorers("unclf.paragraph_scorer.v1")
def make_paragraph_scorer() -> Callable[..., dict]:
    return score_paragraphs


class ParagraphSegmenter:
    """spaCy component: paragraphs in ``doc.spans[spans_key]`` and ``doc._.paragraphs``."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        spans_key: str,
        interface_patterns: list[str],
        language: str | None = None,
        scorer: Callable[..., dict] | None = score_paragraphs,
    ) -> None:
        _register_extension()
        self.name = name
        self.spans_key = spans_key
        self.interface_patterns = list(interface_patterns)
        self._segmenter = _Segmenter(self.interface_patterns, language)
        self.language = self._segmenter.language
        self.scorer = scorer

    def score(self, examples: Iterable[Example], **kwargs) -> dict:
        """What ``nlp.evaluate`` reports for the component: see :func:`score_paragraphs`."""
        validate_examples(examples, "ParagraphSegmenter.score")
        if self.scorer is None:
            return {}
        return self.scorer(examples, spans_key=self.spans_key, **kwargs)

    def __call__(self, doc: Doc) -> Doc:
        # doc.text is rebuilt token by token; segment_many hands the original text over instead.
        text = doc.user_data.get(TEXT_KEY)
        paragraphs = self._segmenter.find(doc.text if text is None else text)
        doc.user_data[_PARAGRAPHS_KEY] = [
            (p.index, p.start, p.end, p.text, p.number, p.kind, p.section) for p in paragraphs
        ]
        if not paragraphs or len(doc) == 0:
            doc.spans[self.spans_key] = []
            return doc
        # Token spans that cover each paragraph's characters (what alignment_mode="expand"
        # gives), found for all paragraphs at once instead of a scan per paragraph.
        token_starts = doc.to_array("IDX")
        starts = numpy.searchsorted(token_starts, [p.start for p in paragraphs], "right") - 1
        ends = numpy.searchsorted(token_starts, [p.end for p in paragraphs], "left")
        labels = {kind: doc.vocab.strings.add(kind) for kind in KINDS}
        doc.spans[self.spans_key] = [
            Span(doc, s, e, label=labels[p.kind])
            for p, s, e in zip(
                paragraphs, numpy.maximum(starts, 0).tolist(), ends.tolist(), strict=True
            )
        ]
        return doc


@Language.factory(
    "unclf_paragraphs",
    assigns=["doc.spans", "doc._.paragraphs"],
    default_config={
        "spans_key": "paragraphs",
        "interface_patterns": list(DEFAULT_INTERFACE_PATTERNS),
        "language": None,
        "scorer": {"@scorers": "unclf.paragraph_scorer.v1"},
    },
    # For the default spans_key, as spaCy's span_ruler gives them.
    default_score_weights={
        "spans_paragraphs_f": 1.0,
        "spans_paragraphs_p": 0.0,
        "spans_paragraphs_r": 0.0,
    },
)
def make_paragraph_segmenter(
    nlp: Language,
    name: str,
    spans_key: str,
    interface_patterns: list[str],
    language: str | None = None,
    scorer: Callable[..., dict] | None = score_paragraphs,
) -> ParagraphSegmenter:
    """``language``: "en", "fr", "es", "ru", "ar", "zh" (or "French", ...); None (null in a
    config): each text's own, told from the text. ``scorer``: what ``nlp.evaluate`` reports
    (paragraph precision, recall and F1)."""
    return ParagraphSegmenter(nlp, name, spans_key, interface_patterns, language, scorer)


def find_paragraphs(
    text: str,
    interface_patterns: Iterable[str] = DEFAULT_INTERFACE_PATTERNS,
    language: str | None = None,
) -> list[Paragraph]:
    """Segment without spaCy's tokenizer; the component calls the same code. ``language``
    None: the text's own, told from the text."""
    return _Segmenter(interface_patterns, language).find(text)


@cache
def paragraph_pipeline(language: str = "en") -> Language:
    """``spacy.blank(language)`` with the paragraph segmenter of that language, built once
    per process and language. Chinese is tokenized into characters (spaCy's own "char"
    segmenter, which needs no download)."""
    code = rules_for(language).code
    nlp = spacy.blank(code)
    nlp.add_pipe("unclf_paragraphs", config={"language": code})
    return nlp


def segment(text: str, nlp: Language | None = None, language: str | None = None) -> list[Paragraph]:
    """Paragraphs of one text, with offsets into ``text`` as given."""
    return next(segment_many([text], nlp, language=language))


def _by_language(
    texts: Iterable[str], language: str | None
) -> Iterator[tuple[Language, Iterator[str]]]:
    """Runs of consecutive texts of one language, each with its language's pipeline: the
    language given, or each text's own."""
    if language is not None:
        yield paragraph_pipeline(language), iter(texts)
        return
    for code, run in groupby(texts, key=detect_language):
        yield paragraph_pipeline(code), run


def segment_many(
    texts: Iterable[str],
    nlp: Language | None = None,
    batch_size: int = 32,
    language: str | None = None,
) -> Iterator[list[Paragraph]]:
    """Paragraphs of many texts, streamed in batches through ``nlp.pipe``.

    A pipeline the caller passes (a trained one, with its own components and settings) runs as
    it is configured, tokens and all. Without one, each text goes to the segmenter of
    :func:`paragraph_pipeline` of ``language``, or of its own language when that is None,
    without the tokens that pipeline would make and throw away (most of the time); its
    paragraphs are the same. A text longer than ``nlp.max_length`` is segmented without making
    a ``Doc`` of it (spaCy needs about 70 bytes per character for one); its paragraphs are the
    same.
    """
    if nlp is None:
        for pipeline, run in _by_language(texts, language):
            yield from map(_component(pipeline)._segmenter.find, run)
    else:
        yield from _segment_with(nlp, texts, batch_size)


def _segment_with(
    nlp: Language, texts: Iterable[str], batch_size: int
) -> Iterator[list[Paragraph]]:
    find = _component(nlp)._segmenter.find
    for long, group in groupby(texts, key=lambda text: len(text) > nlp.max_length):
        if long:
            yield from (find(text) for text in group)
            continue
        for doc in nlp.pipe(_tokenized(nlp, group), batch_size=batch_size, n_process=1):
            yield doc._.paragraphs
            doc.user_data.pop(TEXT_KEY, None)


@dataclass(frozen=True, slots=True, eq=False)
class ParsedDocument:
    """What the model needs of a document, kept as arrays so the ``Doc`` can be let go.

    ``token_ids`` are spaCy's hashed lower-case forms of the word tokens inside paragraphs
    (punctuation and whitespace dropped), ``token_paragraph`` the paragraph position of each,
    ``words`` the distinct lower-case forms and ``token_word`` each token's position in it.
    ``language`` is the code of the language it was segmented and tokenized as.
    """

    text: str
    paragraphs: list[Paragraph]
    token_ids: numpy.ndarray
    token_paragraph: numpy.ndarray
    words: list[str]
    token_word: numpy.ndarray
    language: str = "en"


def parse_many(
    texts: Iterable[str], nlp: Language | None = None, language: str | None = None
) -> Iterator[ParsedDocument]:
    """Segment and tokenize many texts, one at a time.

    Without ``nlp``, each text goes through :func:`paragraph_pipeline` of ``language``, or of
    its own language when that is None, so that its words are its language's tokens. The
    segmenter sees each text whole; the tokenizer sees it in chunks of about ``_CHUNK_CHARS``
    cut where whitespace ends, which gives the same tokens (spaCy splits on whitespace first)
    and keeps memory bounded for documents of any length. A token belongs to the paragraphs as
    the component's spans align them (``alignment_mode="expand"``).
    """
    runs = [(nlp, iter(texts))] if nlp is not None else _by_language(texts, language)
    for pipeline, run in runs:
        segmenter = _component(pipeline)._segmenter
        for text in run:
            readable = repair_mac_roman(text)
            code = segmenter.language or detect_language(readable)
            paragraphs = segmenter.find_readable(readable)
            yield _parse(pipeline, text, readable, paragraphs, code)


def _component(nlp: Language) -> ParagraphSegmenter:
    for _, component in nlp.pipeline:
        if isinstance(component, ParagraphSegmenter):
            return component
    raise ValueError("the pipeline has no unclf_paragraphs component")


def _mac_roman_table() -> dict[int, str]:
    """Each character that Windows-1252 (or Latin-1, where it has none) makes of a byte
    -> the character Mac Roman makes of it."""
    table = {}
    for byte in range(0x80, 0x100):
        try:
            read_as = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:
            read_as = chr(byte)
        table[ord(read_as)] = bytes([byte]).decode("mac_roman")
    return table


_MAC_ROMAN = _mac_roman_table()
# What only Mac Roman read as Windows-1252 writes: an apostrophe inside a word ("StateÕs",
# "dÕIvoire") or a closing quote after one ("planÓ."); "PIÑON" and "Òscar" are left alone.
_MAC_ROMAN_SIGNS = re.compile(r"[a-z]Õ[a-z]|[a-z]Ó(?![^\W\d_])")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def repair_mac_roman(text: str) -> str:
    """``text`` read again as Mac Roman where it shows the signs of a Mac file read as
    Windows-1252 (all 136 UPR dev reports: "AfghanistanÕs", "ÒNational planÓ", "¥" for a
    bullet); otherwise ``text`` itself. One character for one, so offsets stay valid."""
    if ("Õ" in text or "Ó" in text) and _MAC_ROMAN_SIGNS.search(text):
        # Only the runs of non-ASCII characters: 4x faster than translating the whole text.
        return _NON_ASCII.sub(lambda run: run.group().translate(_MAC_ROMAN), text)
    return text


# Tokenizing in chunks: spaCy needs about 70 bytes per character for a Doc.
_CHUNK_CHARS = 100_000
_WHITESPACE_END = re.compile(r"(?<=\s)\S")
# Lone surrogates (from "\ud800" escapes) cannot be encoded, so spaCy's tokenizer fails on
# them; it sees U+FFFD instead, one character for one, so that offsets stay the same.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _tokenizable(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


def _chunks(text: str, size: int) -> Iterator[tuple[int, int]]:
    """Spans of ``text`` of about ``size`` characters, each cut where whitespace ends."""
    start = 0
    while start < len(text):
        cut = _WHITESPACE_END.search(text, start + size) if len(text) - start > size else None
        end = cut.start() if cut is not None else len(text)
        yield start, end
        start = end


def _parse(
    nlp: Language, text: str, readable: str, paragraphs: list[Paragraph], language: str
) -> ParsedDocument:
    """``text``'s paragraphs and word tokens; ``readable`` is it as :func:`repair_mac_roman`
    reads it, the same length, and is what gets tokenized."""
    none = numpy.zeros(0, dtype=numpy.int32)
    empty = numpy.zeros(0, dtype=numpy.uint64)
    if not paragraphs:
        return ParsedDocument(text, [], empty, none, [], none, language)
    first = numpy.array([p.start for p in paragraphs], dtype=numpy.int64)
    last = numpy.array([p.end for p in paragraphs], dtype=numpy.int64)
    ids, owners = [], []
    for low, high in _chunks(readable, _CHUNK_CHARS):
        tokens = nlp.tokenizer(_tokenizable(readable[low:high]))
        attrs = tokens.to_array([IDX, LOWER, IS_PUNCT, IS_SPACE])
        if len(attrs) == 0:
            continue
        starts = attrs[:, 0].astype(numpy.int64) + low
        # A paragraph's span starts at the token that holds its first character; the spans
        # of paragraphs starting in other chunks start before or after all of these tokens.
        here = (first >= low) & (first < high)
        holder = numpy.maximum(numpy.searchsorted(starts, first, "right") - 1, 0)
        span_start = numpy.where(here, starts[holder], first)
        owner = numpy.searchsorted(span_start, starts, "right") - 1
        keep = (owner >= 0) & (attrs[:, 2] == 0) & (attrs[:, 3] == 0)
        keep &= starts < last[numpy.maximum(owner, 0)]
        ids.append(attrs[keep, 1])
        owners.append(owner[keep].astype(numpy.int32))
    token_ids = numpy.concatenate(ids) if ids else numpy.zeros(0, dtype=numpy.uint64)
    if len(token_ids) == 0:
        return ParsedDocument(text, paragraphs, token_ids, none, [], none, language)
    distinct, token_word = numpy.unique(token_ids, return_inverse=True)
    strings = nlp.vocab.strings
    return ParsedDocument(
        text,
        paragraphs,
        token_ids,
        numpy.concatenate(owners),
        [strings[int(h)] for h in distinct],
        token_word.astype(numpy.int32),
        language,
    )


def _tokenized(nlp: Language, texts: Iterable[str]) -> Iterator[Doc]:
    for text in texts:
        doc = nlp.make_doc(_tokenizable(text))
        doc.user_data[TEXT_KEY] = text
        yield doc
