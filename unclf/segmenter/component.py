"""The spaCy component ``unclf_paragraphs``: paragraphs in ``doc.spans["paragraphs"]`` and
``doc._.paragraphs``, and the scorer that ``nlp.evaluate`` runs for it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples
from spacy.util import registry

from unclf.segmenter.blocks import Segmenter
from unclf.segmenter.paragraph import KINDS, Paragraph

TEXT_KEY = "unclf.text"

# Viewer/platform text that is never part of the document.
DEFAULT_INTERFACE_PATTERNS: tuple[str, ...] = (
    r"Select target paragraph\s*\d*",
    r"Type Classification:",
)


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
        self._segmenter = Segmenter(self.interface_patterns, language)
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


def component_of(nlp: Language) -> ParagraphSegmenter:
    for _, component in nlp.pipeline:
        if isinstance(component, ParagraphSegmenter):
            return component
    raise ValueError("the pipeline has no unclf_paragraphs component")
