"""Whether a piece starts a new paragraph or goes on with the one before: one decision per
way a paragraph can start (an inline start found inside a line, a marker, a plain line), each
reading the same :class:`Joint`."""

from __future__ import annotations

from dataclasses import dataclass

from unclf.segmenter.grammar import (
    INLINE_HEADING_MAX_CHARS,
    JOINING_ONLY_MAX_CHARS,
    WORD,
    Grammar,
    is_terminal,
    leaves_open,
)
from unclf.segmenter.numbering import continues, follows
from unclf.segmenter.pieces import Piece

__all__ = ["Joint", "starts_block"]

# Inline starts that open a paragraph wherever the pieces pass found them.
_ALWAYS_OPENING = frozenset(["pre", "op", "quote", "head", "gap", "space", "item"])


@dataclass(slots=True)
class Joint:
    """Where a piece meets the paragraph (block) before it."""

    text: str
    piece: Piece
    previous: str  # the text of the piece before
    # The block so far: whether it is only its marker ("12." alone on its line), its kind of
    # marker, and the inline start that opened it.
    block_is_marker_only: bool
    block_marker_kind: str | None
    block_opened_by: str | None
    # The piece's own marker: its number, kind ("num", "list", "section", "bullet") and end.
    number: str | None
    marker_kind: str | None
    marker_end: int
    blank: bool  # a blank line between the two pieces
    width: float  # the page's line width (infinite where lines are not wrapped)
    line_length: int  # the length of the previous piece's line
    last_number: str | None  # the last paragraph number so far
    grammar: Grammar

    @property
    def after_statement(self) -> bool:
        """The piece before ends a sentence, or a clause with a comma."""
        previous = self.previous
        return is_terminal(previous, self.grammar) or previous[-1:] in self.grammar.rules.commas


def starts_block(joint: Joint) -> bool:
    """Whether ``joint.piece`` starts a new paragraph."""
    if joint.block_is_marker_only:
        # "C." then "Building thematic expertise": one heading; "12." alone on its line takes
        # the next line, unless that is numbered.
        return joint.piece.inline is None and _marker_after_marker(joint)
    if joint.piece.inline is not None:
        return _inline_start_opens(joint)
    if joint.marker_kind is not None:
        return _marker_opens(joint)
    return _line_opens(joint)


def _marker_after_marker(joint: Joint) -> bool:
    return joint.marker_kind == "num" or (
        joint.marker_kind is not None and joint.marker_end >= joint.piece.end
    )


def _inline_start_opens(joint: Joint) -> bool:
    """A start found inside a line (flattened text, or numbered clauses run together)."""
    inline = joint.piece.inline
    if inline in _ALWAYS_OPENING:
        return True
    if inline == "sec":
        heading = joint.text[joint.marker_end : joint.piece.end]
        return len(heading) <= INLINE_HEADING_MAX_CHARS and not is_terminal(heading, joint.grammar)
    number = joint.number
    assert number is not None
    if inline in ("clause", "dotless"):  # a list goes on, not "4.1 Million"
        return joint.after_statement and continues(number, joint.last_number)
    return _inline_number_opens(joint, number)


def _inline_number_opens(joint: Joint, number: str) -> bool:
    """A paragraph number inside a flattened line."""
    if joint.after_statement and follows(number, joint.last_number, max_gap=10):
        return True
    # After a word: the next number, the first number after a heading, or the first number of
    # the document unless the word refers to it ("paragraph 1.").
    if joint.last_number is not None:
        return follows(number, joint.last_number)
    if joint.block_marker_kind == "section" or joint.block_opened_by == "head":
        return not is_terminal(joint.previous, joint.grammar)
    reference_words = joint.grammar.rules.reference_words
    return number == "1" and joint.previous.rsplit(None, 1)[-1].lower() not in reference_words


def _marker_opens(joint: Joint) -> bool:
    """A piece that opens with a marker: "12.", "(a)", "C.", "•"."""
    if joint.marker_kind == "section" and leaves_open(joint.previous, joint.grammar):
        return False  # "by and between" then "F. Hoffmann-La Roche Ltd": an initial
    alone = joint.marker_end >= joint.piece.end
    terminal = joint.after_statement
    if joint.marker_kind == "num" and not (alone or terminal or joint.blank):
        return joint.last_number is not None and follows(joint.number, joint.last_number)
    if joint.marker_kind == "section" and _after_short_line(joint) and _heading_like(joint):
        return True  # "Report of the Working Group" then "I. Introduction": a heading each
    return alone or terminal or joint.blank or joint.marker_kind == "bullet"


def _heading_like(joint: Joint) -> bool:
    """Whether the piece after its marker reads as a heading: short, capitalised, and ending
    no sentence or clause ("I. Introduction", not "A. van der Berg, who spoke ...")."""
    heading = joint.text[joint.marker_end : joint.piece.end].strip()
    return (
        0 < len(heading) <= INLINE_HEADING_MAX_CHARS
        and heading[0].isupper()
        and not is_terminal(heading, joint.grammar)
        and heading[-1] not in joint.grammar.rules.commas
    )


def _line_opens(joint: Joint) -> bool:
    """A line without a marker: the line before, its end and its length decide."""
    text, piece, previous, grammar = joint.text, joint.piece, joint.previous, joint.grammar
    if leaves_open(previous, grammar) or _only_joining_words(joint):
        return False
    rules = grammar.rules
    short = _after_short_line(joint)
    # A preambular opening after a preambular paragraph's end: "Recalling", "Rappelant", and in
    # Russian, which opens them in lower case, "ссылаясь". Where the line before is full, only
    # an opening that seldom continues a paragraph ("..., включая").
    opening = rules.preamble_start if joint.blank or short else rules.inline_preamble_start
    if previous[-1:] in rules.commas + ";" and opening.match(text, piece.start):
        return True
    first = text[piece.start]
    if joint.blank:
        return not (first.islower() and not is_terminal(previous, grammar))
    if first.islower():
        return False
    if not rules.has_case and previous[-1:] not in grammar.statement_ends:
        return False  # "警力上限为2" / "101人": a line broken inside a sentence
    if short:
        return True  # the previous line is short: it ended its paragraph
    return is_terminal(previous, grammar) and first in '“"'


def _only_joining_words(joint: Joint) -> bool:
    piece = joint.piece
    return (
        piece.end - piece.start <= JOINING_ONLY_MAX_CHARS
        and joint.grammar.joining_only.fullmatch(joint.text, piece.start, piece.end) is not None
    )


def _after_short_line(joint: Joint) -> bool:
    """Whether the line before ended short of the page's width, with room for this piece's
    first word: a wrapped paragraph would have gone on there."""
    if joint.grammar.rules.space_separates:  # Chinese: a character is a word, no space before it
        next_word_length = 1
    else:
        piece = joint.piece
        next_word = WORD.match(joint.text, piece.start, piece.end)
        next_word_length = next_word.end() - next_word.start() if next_word else 0
    return joint.line_length + 1 + next_word_length < 0.92 * joint.width
