"""Why the model chose a paragraph: the words and the features that weighed most.

Words: the model's plain scorer (TF-IDF of the paragraph's words and word pairs, logistic
regression) gives each word a weight; a word's part in the paragraph's score is its TF-IDF
value times that weight. English function words ("the", "of the") are not shown: they can
weigh where a label's paragraphs share a turn of phrase, but tell a reader nothing.

Features: where the paragraph is ranked by the stacked ranker, each of its inputs (scores of
the other scorers, the similarity to the targets seen in training, where the paragraph sits
and what it mentions) counts as its standardised value times the ranker's weight. Both are
exact parts of a linear score, not an approximation of one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from unclf.features import LAYOUT_FEATURES
from unclf.model import TargetSelector
from unclf.model.scorers import view_scores
from unclf.segmenter import ParsedDocument

__all__ = ["Explanation", "explain"]

_TOP = 8
_VIEW_WORDS = {
    "all": "everything it holds",
    "words": "its words",
    "chars": "the forms of its words",
    "context": "its heading and neighbours",
}
_AGAINST = (
    "against the document's best",
    "against the best other paragraph",
    "against the document's mean",
    "as ranked in the document",
)
_LAYOUT_WORDS = {
    "relative_position": "where it sits in the document",
    "relative_position_from_end": "how far it is from the end",
    "log_chars": "its length",
    "log_chars_vs_document_median": "its length against the document's usual",
    "has_number": "it is numbered",
    "number_depth": "the depth of its number",
    "has_section": "it sits under a heading",
    "ends_with_colon": "it ends with a colon",
    "ends_with_semicolon": "it ends with a semicolon",
}


@dataclass(frozen=True, slots=True)
class Explanation:
    """``words``: (word or word pair, weight), strongest first; ``features``: (what, weight),
    by size of the weight; positive weights speak for the paragraph, negative against."""

    words: list[tuple[str, float]]
    features: list[tuple[str, float]]


def explain(model: TargetSelector, doc: ParsedDocument, position: int) -> Explanation:
    """What weighed most for paragraph ``position`` (its place in ``doc.paragraphs``)."""
    return Explanation(_words(model, doc, position), _features(model, doc, position))


def _words(model: TargetSelector, doc: ParsedDocument, position: int) -> list[tuple[str, float]]:
    plain = model.scorers_[-1]
    if plain is None:  # trained on documents that all or none hold a target: no word weighs
        return []
    row = model.paragraph_tfidf_.transform([doc.paragraphs[position].text]).tocoo()
    weights = row.data * plain.coef_[0][row.col]
    vocabulary = model.paragraph_tfidf_.get_feature_names_out()
    found = []
    for i in np.argsort(-weights):
        term = str(vocabulary[row.col[i]])
        if weights[i] <= 0 or len(found) == _TOP:
            break
        if not set(term.split()) <= ENGLISH_STOP_WORDS:  # "of the" tells a reader nothing
            found.append((term, float(weights[i])))
    return found


def _feature_names(model: TargetSelector) -> list[str]:
    scorers = [f"what {_VIEW_WORDS[model.views[i]]} say" for i, _ in model._scorer_plan()]
    for k, (i, weighted) in enumerate(model._scorer_plan()):
        if weighted:
            scorers[k] = f"what {_VIEW_WORDS[model.views[i]]} say, telling words counted more"
    scorers.append("what its words alone say")
    similarity = [
        "likeness to the average target",
        "likeness to the nearest target",
        "likeness to the 3 nearest targets",
    ]
    return [
        *scorers,
        *(f"{name}, {against}" for name in scorers for against in _AGAINST),
        *similarity,
        *(f"{name}, {against}" for name in similarity[:2] for against in _AGAINST),
        "holds words of the label's name",
        "its heading holds words of the label's name",
        *(f"holds words of the label's name, {against}" for against in _AGAINST),
        *(_LAYOUT_WORDS.get(name, name.replace("_", " ")) for name in LAYOUT_FEATURES),
        "the document's length",
        "the score of the paragraph before",
        "the score of the paragraph after",
    ]


def _features(model: TargetSelector, doc: ParsedDocument, position: int) -> list[tuple[str, float]]:
    if model.ranking_ != "stacked" or isinstance(model.ranker_, float):
        return []
    rows = model._rows_of([doc])
    inputs = model._stage_two_inputs(rows, view_scores(model.scorers_, rows.views))
    scaler, ranker = model.ranker_[0], model.ranker_[-1]
    parts = scaler.transform(inputs[[position]])[0] * ranker.coef_[0]
    names = _feature_names(model)
    if len(names) != len(parts):
        names = [f"feature {k + 1}" for k in range(len(parts))]
    order = np.argsort(-np.abs(parts))[:_TOP]
    return [(names[k], float(parts[k])) for k in order]
