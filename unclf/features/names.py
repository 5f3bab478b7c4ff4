"""A label's name as evidence: its rarer words, looked for in the paragraphs."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

_NAME_WORD = re.compile(r"[^\W\d_]{2,}")
_WORD_RUN = re.compile(r"\w+")


class ParagraphWords:
    """Where a name's words are looked for: paragraphs, and once several patterns have been
    looked for, their distinct words (maximal runs of word characters), joined by line breaks,
    and which paragraphs hold each. A name's pattern starts at a word's start and stays within
    the word, so it matches a paragraph exactly where it matches one of the paragraph's words:
    one scan of the distinct words, each met once, not a search in every paragraph (where a
    common stem such as "right" would match many times). Listing the words costs about three
    searches (0.54 s against 0.25 s on the 136 UPR reports' paragraphs), so the first two
    patterns, as many as most names have, are searched for. What a pattern matches is kept:
    a label's name is looked for when it is weighed and again when it is matched, and many
    labels share words."""

    _SEARCHED = 2  # patterns searched for before the words are listed

    def __init__(self, paragraphs: Sequence[str]) -> None:
        self.paragraphs = paragraphs
        self._found: dict[str, np.ndarray] = {}
        self._words: str | None = None
        self._word_starts: np.ndarray | None = None
        self._held: sp.csr_matrix | None = None

    def __len__(self) -> int:
        return len(self.paragraphs)

    def holding(self, pattern: str) -> np.ndarray:
        """Per paragraph, whether ``pattern`` (anchored at a word's start) matches in it
        (read-only: kept for the next caller)."""
        found = self._found.get(pattern)
        if found is None:
            found = self._holding(re.compile(pattern))
            found.flags.writeable = False
            self._found[pattern] = found
        return found

    def _holding(self, pattern: re.Pattern) -> np.ndarray:
        if self._words is None and len(self._found) < self._SEARCHED:
            search = pattern.search
            return np.fromiter(
                (search(t) is not None for t in self.paragraphs), bool, len(self.paragraphs)
            )
        if self._words is None:
            self._list_words()
        starts = [m.start() for m in pattern.finditer(self._words)]
        matched = np.zeros(len(self._word_starts), dtype=np.int32)
        matched[np.searchsorted(self._word_starts, starts, side="right") - 1] = 1
        return self._held @ matched > 0

    def _list_words(self) -> None:
        index: dict[str, int] = {}
        columns: list[int] = []
        indptr = [0]
        for text in self.paragraphs:
            columns.extend([index.setdefault(w, len(index)) for w in set(_WORD_RUN.findall(text))])
            indptr.append(len(columns))
        self._words = "\n".join(index)
        lengths = np.fromiter((len(w) + 1 for w in index), np.int64, len(index))
        self._word_starts = np.cumsum(lengths) - lengths
        self._held = sp.csr_matrix(
            (np.ones(len(columns), dtype=np.int32), columns, indptr),
            shape=(len(self.paragraphs), len(index)),
        )


def name_words(name: str | None, paragraphs: ParagraphWords) -> list[tuple[str, float]]:
    """The words of what is searched (a label's name, such as "Governing Law"), each as a
    pattern of its stem ("govern", "law") weighed by how rare it is among ``paragraphs``: what
    a reader knows before the first example, so it counts most where targets are few. A word
    in most paragraphs ("rights" in a human-rights report) weighs next to nothing."""
    n = len(paragraphs)
    words = []
    for word in dict.fromkeys(_NAME_WORD.findall((name or "").lower())):
        if len(word) <= 4:  # short words and acronyms whole, or plural: "laws", "HIV", "IP"
            pattern = rf"(?i)(?<!\w){re.escape(word)}(?:e?s)?(?!\w)"
        else:  # a stem: "disappear" for "disappearances", "govern" for "governing"
            pattern = rf"(?i)(?<!\w){re.escape(word[: max(4, -(-len(word) * 3 // 5))])}"
        found = paragraphs.holding(pattern).sum()
        weight = float(np.log((n + 1) / (found + 1)))
        if weight > 0:
            words.append((pattern, weight))
    return words


def name_matches(paragraphs: ParagraphWords, words: Sequence[tuple[str, float]]) -> np.ndarray:
    """Per paragraph, the weighed share of the name's words it holds (0 without a name)."""
    out = np.zeros(len(paragraphs))
    for pattern, weight in words:
        out += weight * paragraphs.holding(pattern)
    total = sum(weight for _, weight in words)
    return out / total if total else out
