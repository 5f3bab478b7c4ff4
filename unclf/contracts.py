"""What scikit-learn asks of an estimator, for unclf's estimators of documents.

scikit-learn's tools (``clone``, ``GridSearchCV``, ``parametrize_with_checks``) read an
estimator's tags to know what it takes, and expect a failed ``fit`` to leave no half-fitted
model behind. unclf's estimators take documents: texts (or parsed documents), never a 2-D
array of numbers, and a bare string is one text where a sequence of them belongs.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import TypeVar

from sklearn.utils import Tags

from unclf.segmenter import ParsedDocument

__all__ = [
    "DocumentEstimatorMixin",
    "check_document",
    "check_documents",
    "check_fit_input",
    "fitted_at_end",
]

_Fit = TypeVar("_Fit", bound=Callable)


class DocumentEstimatorMixin:
    """Tags of an estimator whose ``X`` is a sequence of documents, not a 2-D array."""

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def check_documents(X: object) -> None:
    """Refuse one text given where a sequence of documents belongs: iterated, a string is its
    characters, and each would be answered as a document of one letter."""
    if isinstance(X, str | bytes):
        raise ValueError(
            "X must be a sequence of documents, not one string; wrap a single text in a list: "
            "[text]"
        )


def check_fit_input(estimator: object, X: object, y: object) -> None:
    """What every ``fit`` refuses before it reads the documents: one string as ``X``, and no
    ``y`` (in scikit-learn's words, so that its tools recognise the error)."""
    check_documents(X)
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None"
        )


def check_document(item: object) -> None:
    """Refuse what is neither a text nor a parsed document (a row of numbers, None)."""
    if not isinstance(item, str | ParsedDocument):
        raise TypeError(
            f"a document must be a text (str) or a ParsedDocument, got {type(item).__name__}"
        )


def _fitted_names(estimator: object) -> list[str]:
    """scikit-learn's convention (``check_is_fitted``): fitted attributes end with "_"."""
    return [n for n in vars(estimator) if n.endswith("_") and not n.startswith("__")]


def fitted_at_end(fit: _Fit) -> _Fit:
    """Run ``fit`` on a copy and give the estimator the fitted attributes only once it
    succeeds: a fit that fails (bad data, Ctrl-C) leaves an unfitted estimator, never a
    mixture of old and new state that ``check_is_fitted`` would take for a model."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        for name in _fitted_names(self):
            delattr(self, name)
        work = copy.copy(self)  # the same parameter objects; fit must not change them
        fit(work, *args, **kwargs)
        for name in _fitted_names(work):
            setattr(self, name, getattr(work, name))
        return self

    return wrapper  # type: ignore[return-value]
