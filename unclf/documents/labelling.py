"""Labelling: where a labelled document's targets sit. A target given as text is found in the
document's text (:func:`whitespace_finder`, :func:`letter_finder`); a target ``(start, end)`` is
held by the paragraph that holds at least half of it (:func:`align_targets`)."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import TYPE_CHECKING

from unclf.metrics import holds

if TYPE_CHECKING:
    from unclf.segmenter import Paragraph

__all__ = ["align_targets", "letter_finder", "whitespace_finder"]


def _target_pattern(target: str) -> re.Pattern[str] | None:
    words = target.split()
    return re.compile(r"\s+".join(re.escape(w) for w in words)) if words else None


def _letters_and_digits(text: str, keep: str = "") -> tuple[str, list[int]]:
    """The text's letters and digits (and the characters in ``keep``), case-folded and
    compatibility-normalised (a ligature ``ﬁ`` is ``fi``), with the offset of the character
    each comes from."""
    letters: list[str] = []
    offsets: list[int] = []
    for offset, char in enumerate(text):
        if char in keep:
            letters.append(char)
            offsets.append(offset)
        elif char.isalnum():
            for letter in unicodedata.normalize("NFKC", char).casefold():
                if letter.isalnum():
                    letters.append(letter)
                    offsets.append(offset)
    return "".join(letters), offsets


_ANCHOR = 20  # letters and digits at each end of a target that anchor it across a page break


def letter_finder(text: str) -> Callable[[str], tuple[int, int] | None]:
    """Finds a target string in a text extracted from a file by its letters and digits alone,
    so line breaks, hyphens at a line end and spacing may differ; the first occurrence.

    A target that runs over a page break may hold the page's running header, footer or number,
    which the extracted text leaves out; one that ends in a table may list its cells in another
    order; a mark in the margin (``A.``) may sit inside it. Such a target is found by 20 letters
    and digits near its start and 20 near its end (its first and last, else the nearest that
    are found, starting in its first 30% and ending in its last 30%), in order, with 70% to
    120% of its letters and digits from the one to the other. A character the labelled file
    lost (U+FFFD, ``l�se-majesté``) stands for any one letter."""
    letters, offsets = _letters_and_digits(text)

    def find(target: str) -> tuple[int, int] | None:
        key = _letters_and_digits(target, keep="\ufffd")[0]
        if not key.strip("\ufffd"):
            return None
        if "\ufffd" in key:
            found = re.search(re.escape(key).replace("\ufffd", "."), letters)
            return found and (offsets[found.start()], offsets[found.end() - 1] + 1)
        index = letters.find(key)
        if index >= 0:
            return offsets[index], offsets[index + len(key) - 1] + 1
        if len(key) < 3 * _ANCHOR:
            return None
        shifts = range(0, int(0.3 * len(key)) + 1, _ANCHOR // 4)
        for skip in shifts:
            head = key[skip : skip + _ANCHOR]
            index = letters.find(head)
            while index >= 0:
                for cut in shifts:
                    tail = key[len(key) - cut - _ANCHOR : len(key) - cut]
                    end = letters.find(tail, index + _ANCHOR, index + int(1.2 * len(key)))
                    if end >= 0 and end + _ANCHOR - index >= 0.7 * len(key):
                        return offsets[index], offsets[end + _ANCHOR - 1] + 1
                index = letters.find(head, index + 1)
        return None

    return find


def whitespace_finder(text: str) -> Callable[[str], tuple[int, int] | None]:
    """Finds a target string in a text as given; only whitespace may differ."""

    def find(target: str) -> tuple[int, int] | None:
        pattern = _target_pattern(target)
        found = pattern.search(text) if pattern is not None else None
        return None if found is None else found.span()

    return find


def align_targets(
    paragraphs: Sequence[Paragraph], targets: Sequence[tuple[int, int]]
) -> tuple[list[int], list[tuple[int, int]]]:
    """Positions of the paragraphs that hold a target, and the targets no paragraph holds;
    targets are ``(start, end)`` pairs, as the model and :mod:`unclf.metrics` take them.

    A paragraph holds a target when it contains at least half of the span's characters
    (``[start, end)`` overlap), so a span that strays a few characters into the next paragraph
    still goes to the right one; an empty span is held by none.
    """
    order = sorted(range(len(paragraphs)), key=lambda i: (paragraphs[i].start, paragraphs[i].end))
    starts = [paragraphs[i].start for i in order]
    # Running maximum of the ends: sorted even if paragraphs overlap, so bisect stays right.
    reach = list(accumulate((paragraphs[i].end for i in order), max))
    held: set[int] = set()
    unheld: list[tuple[int, int]] = []
    for target in targets:
        start, end = target
        found = False
        if end > start:
            first = bisect.bisect_right(reach, start)
            stop = bisect.bisect_left(starts, end)
            for j in range(first, stop):
                paragraph = paragraphs[order[j]]
                if holds(paragraph.start, paragraph.end, start, end):
                    held.add(order[j])
                    found = True
        if not found:
            unheld.append(target)
    return sorted(held), unheld
