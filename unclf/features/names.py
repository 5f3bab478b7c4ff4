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
    looked for, their distinct words (maximal runs of word characters) and which paragraphs
    hold each. A name's pattern starts at a word's start and stays within the word, so it
    matches a paragraph exactly where it matches one of the paragraph's words: tried once per
    distinct word, not searched for in every paragraph. Listing the words costs about three
    searches (0.54 s against 0.25 s on the 136 UPR reports' paragraphs), so the first two
    patterns, as many as most names have, are searched for; many labels' names are tried on
    the words (about a seventh of the time for the 50 UPR labels: 2.4 s against 17 s in a
    profile)."""

    _SEARCHED = 2  # patterns searched for before the words are listed

    def __init__(self, paragraphs: Sequence[str]) -> None:
        self.paragraphs = paragraphs
        self._searches = 0
        self._words: list[str] | None = None
        self._held: sp.csr_matrix | None = None

    def __len__(self) -> int:
        return len(self.paragraphs)

    def holding(self, pattern: str) -> np.ndarray:
        """Per paragraph, whether ``pattern`` (anchored at a word's start) matches in it."""
        if self._searches < self._SEARCHED:
            self._searches += 1
            search = re.compile(pattern).search
            return np.fromiter(
                (search(t) is not None for t in self.paragraphs), bool, len(self.paragraphs)
            )
        if self._words is None:
            self._list_words()
        match = re.compile(pattern).match
        matched = np.fromiter((match(w) is not None for w in self._words), bool, len(self._words))
        return self._held @ matched.astype(np.int32) > 0

    def _list_words(self) -> None:
        index: dict[str, int] = {}
        columns: list[int] = []
        indptr = [0]
        for text in self.paragraphs:
            columns.extend([index.setdefault(w, len(index)) for w in set(_WORD_RUN.findall(text))])
            indptr.append(len(columns))
        self._words = list(index)
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
