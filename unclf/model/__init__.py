"""Features -> scores -> decisions: learn which paragraph of a document is the target.

Two stages, both scikit-learn models:

1. linear *scorers* over the sparse paragraph features, one per view (own words; character
   n-grams; section and neighbours), a second one over the own words scaled by each column's
   naive-Bayes log-count ratio (NBSVM), which lets a few targets' telling words count for more,
   and the *plain scorer*, scikit-learn's TF-IDF + logistic regression over the paragraph text
   (the ``tfidf-lr`` baseline). They say how target-like each paragraph is on its own, and its
   cosine similarity to the training targets (to their mean, to the nearest one, to the three
   nearest) says how close it is to the targets seen so far (``scorers``);
2. a *ranker* (logistic regression) sees those scores relative to the rest of the same
   document ("the most target-like of its document"), plus layout and mentions (the first
   paragraph to name a date or a company), and outputs a calibrated probability that the
   paragraph is a target (``ranker``).

The ranker and the decision thresholds (``decisions``) are trained on out-of-fold scores
(document-grouped folds inside the training set), so they learn how the scorer behaves on
documents it has not seen, which is the situation at prediction time. On the same folds the
plain scorer alone replaces the ranker where it finds clearly more targets (``guard``).

``inputs`` parses documents and gathers what both stages read; ``selector`` holds
:class:`TargetSelector`, which runs it all; ``labels`` fits and ranks several labels over
documents featurized once; ``document_labels`` learns labels of whole documents.
"""

from unclf.model.decisions import UNSEEN_MISS_RATE
from unclf.model.inputs import document_folds, paragraph_labels, parse_documents
from unclf.model.labels import fit_labels, rank_labels
from unclf.model.selector import (
    MODES,
    RANKINGS,
    RankedDocument,
    ScoredParagraph,
    TargetSelector,
    ranking_summary,
)

__all__ = [
    "MODES",
    "RANKINGS",
    "UNSEEN_MISS_RATE",
    "RankedDocument",
    "ScoredParagraph",
    "TargetSelector",
    "document_folds",
    "fit_labels",
    "paragraph_labels",
    "parse_documents",
    "rank_labels",
    "ranking_summary",
]
