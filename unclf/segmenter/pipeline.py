"""The plain API over the component: :func:`segment` and :func:`segment_many` give the
paragraphs of texts; :func:`parse_many` also tokenizes them into what the model reads."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import groupby

import numpy
import spacy
from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, LOWER
from spacy.language import Language
from spacy.strings import StringStore
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.vocab import Vocab

from unclf.segmenter.blocks import Segmenter
from unclf.segmenter.component import DEFAULT_INTERFACE_PATTERNS, TEXT_KEY, component_of
from unclf.segmenter.languages import detect_language, rules_for
from unclf.segmenter.mac_roman import repair_mac_roman
from unclf.segmenter.paragraph import Paragraph


def find_paragraphs(
    text: str,
    interface_patterns: Iterable[str] = DEFAULT_INTERFACE_PATTERNS,
    language: str | None = None,
) -> list[Paragraph]:
    """Segment without spaCy's tokenizer; the component calls the same code. ``language``
    None: the text's own, told from the text."""
    return Segmenter(interface_patterns, language).find(text)


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
            yield from map(component_of(pipeline)._segmenter.find, run)
    else:
        yield from _segment_with(nlp, texts, batch_size)


def _segment_with(
    nlp: Language, texts: Iterable[str], batch_size: int
) -> Iterator[list[Paragraph]]:
    find = component_of(nlp)._segmenter.find
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
        segmenter = component_of(pipeline)._segmenter
        for text in run:
            readable = repair_mac_roman(text)
            code = segmenter.language or detect_language(readable)
            paragraphs = segmenter.find_readable(readable)
            yield _parse(pipeline, text, readable, paragraphs, code)


def parse_list(texts: list[str]) -> list[ParsedDocument]:
    """:func:`parse_many`, whole: a job for a worker process, which imports no more than the
    segmenter needs."""
    return list(parse_many(texts))


# Tokenizing in chunks: spaCy needs about 70 bytes per character for a Doc.
_CHUNK_CHARS = 100_000
_WHITESPACE_END = re.compile(r"(?<=\s)\S")
# Lone surrogates (from "\ud800" escapes) cannot be encoded, so spaCy's tokenizer fails on
# them; it sees U+FFFD instead, one character for one, so that offsets stay the same.
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRETCH = re.compile(r"\S+")


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


class _StretchTokens:
    """spaCy's tokens of each stretch of text between whitespace, found once per process.

    spaCy's tokenizer splits on whitespace first and then tokenizes each stretch on its own,
    so a text's tokens are its stretches' tokens. Its own cache of stretches stops filling
    for the rest of a text after the first special case ("e.g.", "Mr."), which nearly every
    document has: the 136 UPR reports took 24 s to tokenize in one process, 1.3 million
    stretches of which 27,000 differ. Kept here instead, up to ``size`` stretches.

    The stretches are tokenized by a copy of the tokenizer (the same rules) whose vocabulary
    computes only the lower-case form and punctuation of a new word, all that is read of it:
    the twenty other attributes of spaCy's words cost a fifth of the parse. The lower-case
    forms are spelled in its ``strings``."""

    def __init__(self, tokenizer: Tokenizer, size: int = 200_000) -> None:
        self.tokenizer = tokenizer
        getters = tokenizer.vocab.lex_attr_getters
        self._lean = Tokenizer(
            Vocab(lex_attr_getters={a: getters[a] for a in (LOWER, IS_PUNCT) if a in getters}),
            rules=tokenizer.rules,
            prefix_search=tokenizer.prefix_search,
            suffix_search=tokenizer.suffix_search,
            infix_finditer=tokenizer.infix_finditer,
            token_match=tokenizer.token_match,
            url_match=tokenizer.url_match,
            faster_heuristics=tokenizer.faster_heuristics,
        )
        self.strings = self._lean.vocab.strings
        self.size = size
        self.index: dict[str, int] = {}
        self.tokens: list[numpy.ndarray] = []  # per stretch: start, lower form, punctuation
        # One parse at a time: the cache (and spaCy's tokenizer) would be changed by two
        # threads at once (the review server ranks and retrains in two).
        self._lock = threading.Lock()

    def __call__(self, text: str) -> numpy.ndarray:
        """Every token of ``text`` but whitespace: start, lower-case id, punctuation (0/1)."""
        with self._lock:
            return self._tokens_of(text)

    def _tokens_of(self, text: str) -> numpy.ndarray:
        if len(self.index) > self.size:
            self.index.clear()
            self.tokens.clear()
        stretches = _STRETCH.findall(text)
        if not stretches:
            return numpy.zeros((0, 3), dtype=numpy.uint64)
        ids = list(map(self.index.get, stretches))
        new = list(dict.fromkeys(stretches[k] for k, i in enumerate(ids) if i is None))
        for batch in _batches(new, _CHUNK_CHARS):
            for stretch, tokens in zip(batch, self._tokenize(batch), strict=True):
                self.index[stretch] = len(self.tokens)
                self.tokens.append(tokens)
        if new:
            ids = list(map(self.index.get, stretches))
        used, which = numpy.unique(numpy.array(ids, dtype=numpy.int64), return_inverse=True)
        pool = numpy.concatenate([self.tokens[i] for i in used])
        sizes = numpy.array([len(self.tokens[i]) for i in used], dtype=numpy.int64)
        first = numpy.cumsum(sizes) - sizes
        counts = sizes[which]
        stretch_of_token = numpy.repeat(numpy.arange(len(ids)), counts)
        within = numpy.arange(counts.sum()) - numpy.repeat(numpy.cumsum(counts) - counts, counts)
        tokens = pool[first[which][stretch_of_token] + within]
        tokens[:, 0] += _stretch_starts(text)[stretch_of_token]
        return tokens

    def _tokenize(self, stretches: list[str]) -> list[numpy.ndarray]:
        """Each stretch's tokens (start in it, lower-case id, punctuation), from one call of
        the tokenizer on the stretches joined by spaces: a spaCy ``Doc`` per stretch cost a
        tenth of the parse. The tokenizer splits on the spaces first, so the tokens are the
        same; a token that would span a space (none is known) sends them one by one."""
        lengths = numpy.array([len(s) for s in stretches], dtype=numpy.int64)
        starts = numpy.cumsum(lengths + 1) - (lengths + 1)
        found = self._lean(_tokenizable(" ".join(stretches))).to_array(
            [IDX, LENGTH, LOWER, IS_PUNCT]
        )
        begin, size = found[:, 0].astype(numpy.int64), found[:, 1].astype(numpy.int64)
        which = numpy.searchsorted(starts, begin, "right") - 1
        if (begin + size > starts[which] + lengths[which]).any():
            return [
                self._lean(_tokenizable(s)).to_array([IDX, LOWER, IS_PUNCT]).astype(numpy.uint64)
                for s in stretches
            ]
        tokens = found[:, [0, 2, 3]].astype(numpy.uint64)
        tokens[:, 0] = begin - starts[which]
        cuts = numpy.searchsorted(which, numpy.arange(1, len(stretches)))
        return numpy.split(tokens, cuts)


def _batches(stretches: list[str], size: int) -> Iterator[list[str]]:
    """``stretches`` in runs of about ``size`` characters (spaCy's ``Doc`` of them stays small)."""
    batch: list[str] = []
    characters = 0
    for stretch in stretches:
        batch.append(stretch)
        characters += len(stretch) + 1
        if characters >= size:
            yield batch
            batch, characters = [], 0
    if batch:
        yield batch


# Whether a code point is whitespace as ``str.isspace`` and the regular expressions say;
# every whitespace character is below U+3001.
_IS_SPACE = numpy.array([chr(c).isspace() for c in range(0x3001)])


def _stretch_starts(text: str) -> numpy.ndarray:
    """Where each stretch of text between whitespace starts, as ``_STRETCH`` finds them."""
    codes = numpy.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=numpy.uint32)
    space = _IS_SPACE[numpy.minimum(codes, 0x3000)] & (codes <= 0x3000)
    after_space = numpy.concatenate([[True], space[:-1]])
    return numpy.flatnonzero(~space & after_space).astype(numpy.uint64)


_STRETCH_TOKENS: dict[int, _StretchTokens] = {}


def _tokens(nlp: Language, readable: str) -> Iterator[tuple[int, int, numpy.ndarray, StringStore]]:
    """The tokens of ``readable`` but whitespace (start, lower-case id, punctuation), in
    pieces: (where the piece starts and ends, its tokens, where their lower-case forms are
    spelled). A tokenizer other than spaCy's rule-based one (Chinese) sees the text in chunks
    of about ``_CHUNK_CHARS``, which give the same tokens and keep memory bounded for
    documents of any length."""
    if type(nlp.tokenizer) is Tokenizer:
        key = id(nlp.tokenizer)
        if key not in _STRETCH_TOKENS or _STRETCH_TOKENS[key].tokenizer is not nlp.tokenizer:
            if len(_STRETCH_TOKENS) >= 8:
                _STRETCH_TOKENS.clear()
            _STRETCH_TOKENS[key] = _StretchTokens(nlp.tokenizer)
        stretch_tokens = _STRETCH_TOKENS[key]
        yield 0, len(readable), stretch_tokens(readable), stretch_tokens.strings
        return
    for low, high in _chunks(readable, _CHUNK_CHARS):
        attrs = nlp.tokenizer(_tokenizable(readable[low:high])).to_array(
            [IDX, LOWER, IS_PUNCT, IS_SPACE]
        )
        attrs = attrs[attrs[:, 3] == 0, :3] if len(attrs) else numpy.zeros((0, 3), numpy.uint64)
        attrs[:, 0] += numpy.uint64(low)
        yield low, high, attrs, nlp.vocab.strings


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
    strings = nlp.vocab.strings
    for low, high, attrs, spelled in _tokens(nlp, readable):
        strings = spelled
        if len(attrs) == 0:
            continue
        starts = attrs[:, 0].astype(numpy.int64)
        # A paragraph's span starts at the token that holds its first character; the spans
        # of paragraphs starting in other pieces start before or after all of these tokens.
        here = (first >= low) & (first < high)
        holder = numpy.maximum(numpy.searchsorted(starts, first, "right") - 1, 0)
        span_start = numpy.where(here, starts[holder], first)
        owner = numpy.searchsorted(span_start, starts, "right") - 1
        keep = (owner >= 0) & (attrs[:, 2] == 0)
        keep &= starts < last[numpy.maximum(owner, 0)]
        ids.append(attrs[keep, 1])
        owners.append(owner[keep].astype(numpy.int32))
    token_ids = numpy.concatenate(ids) if ids else numpy.zeros(0, dtype=numpy.uint64)
    if len(token_ids) == 0:
        return ParsedDocument(text, paragraphs, token_ids, none, [], none, language)
    distinct, token_word = numpy.unique(token_ids, return_inverse=True)
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
