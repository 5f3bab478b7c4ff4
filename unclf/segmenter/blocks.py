"""Pass 2: pieces -> blocks (the paragraphs), each piece either starting a block or joining
the one before; then each block's cleaned text, kind, number and section."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from itertools import pairwise

from unclf.segmenter.boundaries import Joint, starts_block
from unclf.segmenter.grammar import (
    HEADING_MAX_CHARS,
    HYPHEN_BREAK,
    Grammar,
    grammar_for,
)
from unclf.segmenter.languages import detect_language, rules_for
from unclf.segmenter.mac_roman import repair_mac_roman
from unclf.segmenter.numbering import (
    LEADING_NUMBER,
    continues,
    counts_on,
    in_sequence,
    leading_number,
    parse_marker,
)
from unclf.segmenter.paragraph import Paragraph
from unclf.segmenter.pieces import infer_line_width, pieces_of


@dataclass(slots=True)
class _Block:
    start: int
    end: int
    pieces: list[tuple[int, int]]
    number: str | None
    marker_end: int  # end offset of the marker, == start when there is none
    marker_kind: str | None
    opened_by: str | None  # the inline start kind that opened the block, if any


class Segmenter:
    def __init__(self, interface_patterns: Iterable[str], language: str | None = None) -> None:
        # None: each text's language is told from the text (see detect_language).
        self.language = None if language is None else rules_for(language).code
        patterns = list(interface_patterns)
        self.interface = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
        # Searched one by one: each pattern alone starts with a literal the regex engine can
        # skip ahead to, which their alternation does not.
        self._interface_probes = [re.compile(p) for p in patterns]

    def find(self, text: str) -> list[Paragraph]:
        return self.find_readable(repair_mac_roman(text))

    def find_readable(self, text: str) -> list[Paragraph]:
        """``find`` of a text that :func:`repair_mac_roman` has seen already."""
        # Interface text is rare: look for it once, and only then in every line.
        interface = (
            self.interface if any(probe.search(text) for probe in self._interface_probes) else None
        )
        grammar = grammar_for(self.language or detect_language(text))
        pieces, blank_before, line_length = pieces_of(text, interface, grammar)
        if not pieces:
            return []
        width = infer_line_width([line_length[line] for line in {p.line for p in pieces}])

        blocks: list[_Block] = []
        block: _Block | None = None
        last_number: str | None = None
        for k, piece in enumerate(pieces):
            marker = parse_marker(text, piece.start, piece.end, grammar.marker)
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
                new = starts_block(
                    Joint(
                        text,
                        piece,
                        text[prev.start : prev.end],
                        block.marker_end >= block.end,
                        block.marker_kind,
                        block.opened_by,
                        *marker,
                        blank,
                        width,
                        line_length[prev.line],
                        last_number,
                        grammar,
                    )
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
                    and (opening := LEADING_NUMBER.match(text, piece.start))
                    and (last_number is None or continues(opening.group(1), last_number))
                ):
                    last_number = opening.group(1)  # "11.8 Governing Law.", not "1.5 million"
            assert block is not None
            block.pieces.append((piece.start, piece.end))
            block.end = piece.end
        return self._paragraphs(text, blocks, interface, grammar)

    def _clean(
        self, text: str, block: _Block, interface: re.Pattern | None, grammar: Grammar
    ) -> str:
        if len(block.pieces) == 1 and interface is None:
            return " ".join(text[block.marker_end : block.end].split())
        parts = []
        for start, end in block.pieces:
            start = max(start, block.marker_end)
            if start < end:
                parts.append(text[start:end])
        joined = "\n".join(parts)
        if "-\n" in joined:
            keep = grammar.rules.keep_hyphen_before
            joined = HYPHEN_BREAK.sub(partial(_repair_hyphen, keep=keep), joined)
        if interface is not None:
            joined = interface.sub(" ", joined)
        return " ".join(joined.split())

    def _paragraphs(
        self, text: str, blocks: list[_Block], interface: re.Pattern | None, grammar: Grammar
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
        numbers = [block.number or leading_number(clean) for block, clean in cleaned]
        for i in range(1, len(cleaned) - 1):
            # "123.30 ...;" / "123.31 Adopt strategies (Egypt)" / "123.32 ...;": an item of the
            # list that lost its closing punctuation, not a heading.
            if (
                kinds[i] == "heading"
                and kinds[i - 1] == kinds[i + 1] == "paragraph"
                and in_sequence(numbers[i - 1], numbers[i], numbers[i + 1])
            ):
                kinds[i] = "paragraph"
        paragraphs = []
        section = None
        for index, ((block, clean), kind) in enumerate(zip(cleaned, kinds, strict=True)):
            number = block.number
            opening = LEADING_NUMBER.match(clean) if block.marker_kind is None else None
            if opening is not None:
                # "136.1 Ratify ..." / "136.2 Accede ...": numbered without the closing dot
                # that a marker has, the number of a list all the same.
                around = numbers[max(index - 1, 0) : index + 2]
                if any(counts_on(a, b) for a, b in pairwise(around)):
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


def _kind(block: _Block, clean: str, statement_ends: str) -> str:
    if block.marker_kind in ("list", "bullet"):
        return "list_item"
    if clean.rstrip("”\"’'")[-1:] in statement_ends:
        return "paragraph"
    words = clean.count(" ") + 1
    limit = {"section": 30, "num": 8, None: 15}[block.marker_kind]
    return "heading" if words <= limit and len(clean) <= HEADING_MAX_CHARS else "paragraph"


# --- spaCy component and plain API -----------------------------------------------------------

# The paragraphs are kept on the Doc as plain tuples, which msgpack can write: a Doc must
