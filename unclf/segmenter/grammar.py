"""A language's rules compiled into the line patterns the segmenter runs, and the limits on
lines and headings that the two passes share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from unclf.segmenter.languages import LanguageRules, rules_for

LINE = re.compile(r"\S(?:[^\r\n]*\S)?")
_SYMBOL = r"[A-Z]{1,3}(?:/[A-Z0-9][A-Za-z0-9.\-]*)+(?:\s*\(\d{4}\))?"
# Running header at the start of a flattened line.
LEADING_FURNITURE = re.compile(rf"{_SYMBOL}(?:\s+[Pp]age\s+\d{{1,4}})?\s+(?=\S)")
# A wide gap inside a line after a sentence end, before what can start a paragraph: where a
# viewer or converter turned line breaks into runs of spaces (contracts from EDGAR). Not
# before "And": there the gap joins two party names ("WIDGETS, INC.   And   FENWICK LTD.").
GAP_START = re.compile(r'(?<=[.;:!?)”"])[ \t]{3,}(?!(?:And|AND)\s)(?=[\dA-Z(“"]|[a-z]{1,3}[.)]\s)')
JOINING_ONLY_MAX_CHARS = 24  # longer pieces are never only joining words: skip the regex
WORD = re.compile(r"\S+")
HYPHEN_BREAK = re.compile(r"(?<=[a-z])-\s*\n\s*(?=[a-z])")
# Characters that may stand before a paragraph number inside a line, besides a language's
# sentence ends and commas.
_BEFORE_NUMBER = ')”"*'
# Quotes and brackets that may close a statement but say nothing of how it ends.
_CLOSERS = "”\")»’'"


@dataclass(frozen=True)
class Grammar:
    """A language's rules (:mod:`unclf.segmenter.languages`) compiled into the patterns the
    segmenter runs: one per language, built once."""

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


# A heading inside a flattened line: a few capitalised words, then a paragraph number.
_HEADING_THEN_NUMBER = r"[A-Z][^.;:,“”()\d]{2,80}? \d{1,3}\.\s+[A-Z]"


@cache
def grammar_for(code: str) -> Grammar:
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
        # A section marker after a sentence end, or before a short heading and the first
        # paragraph's number ("... Secretary-General I. Introduction 1. The present ...").
        rf"|(?:(?<=[.;:!?] )|(?=(?:[IVXL]{{1,6}}|[A-Z])\.\s+{_HEADING_THEN_NUMBER}))"
        rf"(?=(?P<sec>[IVXL]{{1,6}}|[A-Z])\.\s+[{rules.capitals}])"
        rf"|(?<=[.;:!?,] )(?P<head>(?={_HEADING_THEN_NUMBER}))"
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
    return Grammar(
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


HEADING_MAX_CHARS = 200
RUNNING_LINE_CHARS = (8, 100)
FLAT_LINE_MIN_CHARS = 160
# A line this long holds several paragraphs only when it was flattened; numbered clauses run
# together in shorter lines too ("... the termination. 13. The Distributor ..."), so a shorter
# line (over FLAT_LINE_MIN_CHARS) is searched for numbers after a sentence end only.
FLAT_LINE_SPLIT_CHARS = 2000
# Inline starts that announce a number: "num" and "sec" in flattened text; "clause" (a number
# with its dot) and "dotless" where a list goes on inside a line.
NUMBERED = frozenset(["num", "sec", "clause", "dotless"])
INLINE_HEADING_MAX_CHARS = 250


def is_terminal(text: str, grammar: Grammar) -> bool:
    return bool(text) and text[-1] in grammar.sentence_ends


def leaves_open(text: str, grammar: Grammar) -> bool:
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


def has_blank_line(gap: str) -> bool:
    return gap.count("\n") + gap.count("\r") - gap.count("\r\n") >= 2
