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

Modules, in the order the text goes through them: ``languages`` (what differs between the six
UN languages) and ``grammar`` (those rules compiled into line patterns); ``mac_roman`` (the
character-set repair); ``pieces`` (pass 1: lines -> pieces); ``numbering`` (paragraph markers
and numbers), ``boundaries`` (whether a piece starts a paragraph) and ``blocks`` (pass 2:
pieces -> paragraphs); ``component`` (the spaCy component) and ``pipeline`` (the functions
below, and the tokens the model reads).
"""

from unclf.segmenter.component import (
    DEFAULT_INTERFACE_PATTERNS,
    ParagraphSegmenter,
    make_paragraph_scorer,
    make_paragraph_segmenter,
    score_paragraphs,
)
from unclf.segmenter.mac_roman import repair_mac_roman
from unclf.segmenter.paragraph import KINDS, Paragraph
from unclf.segmenter.pipeline import (
    ParsedDocument,
    find_paragraphs,
    paragraph_pipeline,
    parse_list,
    parse_many,
    segment,
    segment_many,
)

__all__ = [
    "DEFAULT_INTERFACE_PATTERNS",
    "KINDS",
    "Paragraph",
    "ParagraphSegmenter",
    "ParsedDocument",
    "find_paragraphs",
    "make_paragraph_scorer",
    "make_paragraph_segmenter",
    "paragraph_pipeline",
    "parse_list",
    "parse_many",
    "repair_mac_roman",
    "score_paragraphs",
    "segment",
    "segment_many",
]
