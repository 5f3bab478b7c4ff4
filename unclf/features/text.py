"""The sparse features of paragraph text: hashed words and word pairs, the section heading's
and the neighbours' words, the character n-grams of the words; and the plain TF-IDF that the
model's plain scorer and the baselines share."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from numbers import Integral
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from unclf.features.layout import document_offsets, heading_rows
from unclf.segmenter import ParsedDocument

_PAIR_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
# Values of a large block worked on at a time, so that no temporary copy of it is whole.
_VALUES_AT_ONCE = 4_000_000


class PlainTfidf(TfidfVectorizer):
    """scikit-learn's ``TfidfVectorizer``, stored with its vocabulary as one string of terms.
    As a dict, skops wrote a JSON entry for each term: 138 MB of schema for the 241,000 terms
    of the 460 UPR and CUAD documents, which set the peak memory of saving a model (and of
    loading it)."""

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # outside scikit-learn, its own __dict__
        vocabulary = state.pop("vocabulary_", None)
        if vocabulary is not None:  # a term never holds a line break: words joined by spaces
            state["vocabulary_terms_"] = "\n".join(sorted(vocabulary, key=vocabulary.get))
        return state

    def __setstate__(self, state: dict) -> None:
        terms = state.pop("vocabulary_terms_", None)
        if terms is not None:
            state["vocabulary_"] = {t: i for i, t in enumerate(terms.split("\n"))} if terms else {}
        super().__setstate__(state)


def plain_tfidf() -> PlainTfidf:
    """TF-IDF of the words and word pairs of paragraph texts, with scikit-learn's tokenizer:
    what a user would build first, so both the baseline and the model's plain scorer, which
    the model falls back on where its own features do not find more targets."""
    return PlainTfidf(sublinear_tf=True, ngram_range=(1, 2), min_df=2, dtype=np.float32)


def _word_counts(doc: ParsedDocument, n_features: int, pairs: bool) -> sp.csr_matrix:
    """Hashed word (and word pair) counts, one row per paragraph."""
    n = len(doc.paragraphs)
    ids, owner = doc.token_ids, doc.token_paragraph
    cols = [ids % np.uint64(n_features)]
    rows = [owner]
    if pairs and len(ids) > 1:
        same = owner[1:] == owner[:-1]
        pair_ids = ids[:-1][same] * _PAIR_MULTIPLIER + ids[1:][same]
        cols.append(pair_ids % np.uint64(n_features))
        rows.append(owner[1:][same])
    row = np.concatenate(rows)
    col = np.concatenate(cols).astype(np.int64)
    data = np.ones(len(row), dtype=np.float32)
    return sp.csr_matrix((data, (row, col)), shape=(n, n_features))


_NGRAM_CACHE: dict[tuple[str, int, int, int], np.ndarray] = {}
_NGRAM_CACHE_MAX = 500_000


def _word_ngrams(word: str, low: int, high: int, n_features: int) -> np.ndarray:
    """Hashed character n-grams of `` word `` (padded like ``char_wb``); cached per word."""
    key = (word, low, high, n_features)
    cached = _NGRAM_CACHE.get(key)
    if cached is None:
        padded = f" {word} ".encode()
        grams = [
            zlib.crc32(padded[i : i + n]) % n_features
            for n in range(low, high + 1)
            for i in range(max(len(padded) - n + 1, 1))
        ]
        cached = np.array(grams, dtype=np.int64)
        if len(_NGRAM_CACHE) >= _NGRAM_CACHE_MAX:
            _NGRAM_CACHE.clear()
        _NGRAM_CACHE[key] = cached
    return cached


def _char_counts(
    doc: ParsedDocument, ngram_range: tuple[int, int], n_features: int
) -> sp.csr_matrix:
    """Character n-gram counts per paragraph: (paragraph x word) counts @ (word x n-gram)."""
    n = len(doc.paragraphs)
    if not doc.words:
        return sp.csr_matrix((n, n_features), dtype=np.float32)
    low, high = ngram_range
    grams = [_word_ngrams(w, low, high, n_features) for w in doc.words]
    indptr = np.concatenate([[0], np.cumsum([len(g) for g in grams])])
    word_grams = sp.csr_matrix(
        (np.ones(indptr[-1], dtype=np.float32), np.concatenate(grams), indptr),
        shape=(len(doc.words), n_features),
    )
    paragraph_words = sp.csr_matrix(
        (np.ones(len(doc.token_word), dtype=np.float32), (doc.token_paragraph, doc.token_word)),
        shape=(n, len(doc.words)),
    )
    return (paragraph_words @ word_grams).tocsr()


def _gather(matrix: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """``matrix[rows]`` with an empty row wherever ``rows`` is -1."""
    valid = rows >= 0
    picked = matrix[np.where(valid, rows, 0)]
    return sp.diags(valid.astype(np.float32)) @ picked


class ParagraphFeaturizer(TransformerMixin, BaseEstimator):
    """Sparse TF-IDF-weighted word features of a paragraph and of its context.

    Parameters
    ----------
    n_features : hashing space per sparse block.
    word_pairs : add adjacent word pairs to the paragraph's own words.
    section, neighbours : include these blocks.
    char_ngrams : range of character n-gram lengths of the words, None for no such block.
    min_df : keep only columns seen in at least this many training paragraphs; fewer columns
        make the linear model faster to train and smaller to store.
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "word_pairs": ["boolean"],
        "section": ["boolean"],
        "neighbours": ["boolean"],
        "char_ngrams": [tuple, None],  # (low, high): checked by _check_char_ngrams
        "min_df": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_features: int = 2**18,
        word_pairs: bool = True,
        section: bool = True,
        neighbours: bool = True,
        char_ngrams: tuple[int, int] | None = (3, 5),
        min_df: int = 2,
    ) -> None:
        self.n_features = n_features
        self.word_pairs = word_pairs
        self.section = section
        self.neighbours = neighbours
        self.char_ngrams = char_ngrams
        self.min_df = min_df

    def fit(self, docs: Sequence[ParsedDocument], y: object = None) -> ParagraphFeaturizer:
        self.fit_transform_blocks(docs)
        return self

    def fit_transform(self, docs: Sequence[ParsedDocument], y: object = None) -> sp.csr_matrix:
        return sp.hstack(self.fit_transform_blocks(docs)[0], format="csr", dtype=np.float32)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform_blocks(
        self, docs: Sequence[ParsedDocument]
    ) -> tuple[list[sp.csr_matrix], sp.csr_matrix]:
        """``transform_blocks`` of the documents the featurizer is fitted on: the words are
        counted once for both."""
        self._check_char_ngrams()
        counts = self._counts(docs)
        self.idf_ = _idf(counts)
        char_counts = None
        if self.char_ngrams is not None:
            char_counts = self._char_counts(docs)
            self.char_idf_ = _idf(char_counts)
        words = self._tfidf(counts)
        del counts
        blocks = self._blocks(docs, words, char_counts)
        del char_counts
        seen = np.concatenate([_column_counts(b) for b in blocks])
        self.columns_ = np.flatnonzero(seen >= self.min_df)
        return self._kept_columns(blocks), words

    def _check_char_ngrams(self) -> None:
        """What ``_parameter_constraints`` cannot say of ``char_ngrams``: two lengths, the
        shorter first, of at least one character."""
        ngrams = self.char_ngrams
        if ngrams is not None and not (
            len(ngrams) == 2
            and all(isinstance(n, Integral) and not isinstance(n, bool) for n in ngrams)
            and 1 <= ngrams[0] <= ngrams[1]
        ):
            raise ValueError(
                f"char_ngrams must be (low, high) with 1 <= low <= high, or None; got {ngrams!r}"
            )

    def transform(self, docs: Sequence[ParsedDocument]) -> sp.csr_matrix:
        return sp.hstack(self.transform_blocks(docs)[0], format="csr", dtype=np.float32)

    @property
    def blocks(self) -> list[str]:
        """Names of the sparse blocks, in column order."""
        named = [
            ("words", True),
            ("section", self.section),
            ("neighbours", self.neighbours),
            ("chars", self.char_ngrams is not None),
        ]
        return [name for name, present in named if present]

    def block_columns(self, names: Sequence[str]) -> np.ndarray:
        """Positions among the output columns of the named blocks' columns."""
        check_is_fitted(self, "columns_")
        wanted = [i for i, name in enumerate(self.blocks) if name in names]
        return np.flatnonzero(np.isin(self.columns_ // self.n_features, wanted))

    def transform_blocks(
        self, docs: Sequence[ParsedDocument]
    ) -> tuple[list[sp.csr_matrix], sp.csr_matrix]:
        """Each block's kept columns (``transform`` puts them side by side; a model's views
        read one block or two, so that the largest, the character n-grams, is never copied
        into a matrix of all of them), and the own-words block in full (for similarity to
        the targets)."""
        check_is_fitted(self, "columns_")
        words = self.own_words(docs)
        return self._kept_columns(self._blocks(docs, words)), words

    def _kept_columns(self, blocks: list[sp.csr_matrix]) -> list[sp.csr_matrix]:
        """The kept columns (``columns_``) of each block. The first block, the own words, is
        also the caller's (for similarity): its columns are copied. The others are used up:
        their kept columns are taken in their own arrays, so that the largest, the character
        n-grams, is never held twice (it set the peak of training on the 460 UPR and CUAD
        documents)."""
        kept = []
        for k, low in enumerate(range(0, len(blocks) * self.n_features, self.n_features)):
            block = blocks.pop(0)
            columns = self.columns_[
                (self.columns_ >= low) & (self.columns_ < low + self.n_features)
            ]
            kept.append(block[:, columns - low] if k == 0 else _take_columns(block, columns - low))
            del block
        return kept

    def _blocks(
        self,
        docs: Sequence[ParsedDocument],
        own_words: sp.csr_matrix,
        char_counts: sp.csr_matrix | None = None,
    ) -> list[sp.csr_matrix]:
        """The sparse blocks, in the order of ``blocks``, each ``n_features`` wide."""
        blocks = [own_words]
        if self.section or self.neighbours:
            # All documents at once: one document at a time, the sparse products took 0.9 s
            # more of the 4.3 s that the 136 UPR reports' features take.
            words = self._tfidf(
                sp.vstack([_word_counts(d, self.n_features, pairs=False) for d in docs])
            )
            if self.section:
                blocks.append(_gather(words, heading_rows(docs)))
            if self.neighbours:
                blocks.append(_neighbours(words, document_offsets(docs)))
        if self.char_ngrams is not None:
            if char_counts is None:
                char_counts = self._char_counts(docs)
            blocks.append(self._tfidf(char_counts, self.char_idf_))
        return blocks

    def own_words(self, docs: Sequence[ParsedDocument]) -> sp.csr_matrix:
        """The paragraphs' own words as L2-normalised TF-IDF rows (used for similarity too)."""
        check_is_fitted(self, "idf_")
        return self._tfidf(self._counts(docs))

    def _counts(self, docs: Sequence[ParsedDocument]) -> sp.csr_matrix:
        if not docs:
            return sp.csr_matrix((0, self.n_features), dtype=np.float32)
        return sp.vstack([_word_counts(d, self.n_features, self.word_pairs) for d in docs])

    def _char_counts(self, docs: Sequence[ParsedDocument]) -> sp.csr_matrix:
        if not docs:
            return sp.csr_matrix((0, self.n_features), dtype=np.float32)
        return sp.vstack([_char_counts(d, self.char_ngrams, self.n_features) for d in docs])

    def _tfidf(self, counts: sp.csr_matrix, idf: np.ndarray | None = None) -> sp.csr_matrix:
        """Sublinear TF-IDF rows of unit length. ``counts`` is used up: its values are
        overwritten in place, so that the largest block (the character n-grams: 33 M values on
        the 460 UPR and CUAD documents) is never held twice."""
        counts = counts.tocsr()
        counts.sort_indices()  # each row's squares summed in the order of its columns
        idf = self.idf_ if idf is None else idf
        data = counts.data
        np.log1p(data, out=data)
        data *= idf[counts.indices]
        lengths = np.diff(counts.indptr)
        filled = lengths > 0
        norms = np.ones(len(lengths), dtype=np.float32)
        if filled.any():  # the sums scipy's ``sum(axis=1)`` takes, of the rows with a value
            norms[filled] = np.sqrt(np.add.reduceat(data * data, counts.indptr[:-1][filled]))
        norms[norms == 0] = 1.0
        data *= np.repeat((1.0 / norms).astype(np.float32), lengths)
        return counts


def _take_columns(
    matrix: sp.csr_matrix, columns: np.ndarray, step: int = _VALUES_AT_ONCE
) -> sp.csr_matrix:
    """``matrix[:, columns]`` (``columns`` sorted and distinct), made in ``matrix``'s own arrays,
    which it uses up: the values kept are moved to the front, about ``step`` at a time, in the
    order scipy's indexing gives them."""
    n_rows = matrix.shape[0]
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    new_column = np.full(matrix.shape[1], -1, dtype=indices.dtype)
    new_column[columns] = np.arange(len(columns), dtype=indices.dtype)
    kept_indptr = np.zeros_like(indptr)
    written = row = 0
    while row < n_rows:
        # The rows whose values fit in a step, at least one.
        last = np.searchsorted(indptr, indptr[row] + step, side="right") - 1
        end = min(max(last, row + 1), n_rows)
        low, high = indptr[row], indptr[end]
        mapped = new_column[indices[low:high]]
        keep = mapped >= 0
        n_kept = int(np.count_nonzero(keep))
        data[written : written + n_kept] = data[low:high][keep]  # a copy first: no overlap
        indices[written : written + n_kept] = mapped[keep]
        lengths = np.diff(indptr[row : end + 1])
        per_row = np.zeros(end - row, dtype=indptr.dtype)
        filled = lengths > 0
        if filled.any():  # reduceat would give an empty row its next row's first value
            starts = indptr[row:end][filled] - low
            per_row[filled] = np.add.reduceat(keep, starts, dtype=indptr.dtype)
        kept_indptr[row + 1 : end + 1] = written + np.cumsum(per_row)
        written += n_kept
        row = end
    return sp.csr_matrix(
        (data[:written], indices[:written], kept_indptr), shape=(n_rows, len(columns))
    )


def _column_counts(matrix: sp.csr_matrix) -> np.ndarray:
    """How many values each column holds, counted a few million at a time: one count of the
    33 M character n-gram values of the 460 UPR and CUAD documents held their columns twice
    over (as 64-bit integers)."""
    counts = np.zeros(matrix.shape[1], dtype=np.int64)
    for start in range(0, matrix.nnz, _VALUES_AT_ONCE):
        chunk = matrix.indices[start : start + _VALUES_AT_ONCE]
        counts += np.bincount(chunk, minlength=matrix.shape[1])
    return counts


def _idf(counts: sp.csr_matrix) -> np.ndarray:
    """Smoothed inverse document frequency of each column, paragraphs being the documents."""
    document_frequency = _column_counts(counts)
    return (np.log((1 + counts.shape[0]) / (1 + document_frequency)) + 1).astype(np.float32)


def _neighbours(words: sp.csr_matrix, offsets: np.ndarray) -> sp.csr_matrix:
    """Mean of the previous and next paragraph's word rows, within each document."""
    index = np.arange(words.shape[0])
    document = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    first, last = offsets[:-1][document], offsets[1:][document] - 1
    previous = _gather(words, np.where(index > first, index - 1, -1))
    following = _gather(words, np.where(index < last, index + 1, -1))
    return (previous + following) * 0.5
