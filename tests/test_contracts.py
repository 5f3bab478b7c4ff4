"""The scikit-learn contract of unclf's estimators: parameters validated at fit, tags that say
they read text, no fitted state after a failed fit, and scikit-learn's own checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from unclf.baselines import (
    DocumentTfidfLogistic,
    FirstParagraph,
    LongestParagraph,
    PositionPrior,
    TfidfLogistic,
    TfidfSimilarity,
)
from unclf.documents import read_labelled
from unclf.features import ParagraphFeaturizer
from unclf.model import TargetSelector, fit_labels, parse_documents
from unclf.model.document_labels import DocumentLabeler, predict_labels

DATA = Path(__file__).resolve().parents[1] / "data"

ESTIMATORS = [
    TargetSelector(n_folds=2),
    DocumentLabeler(),
    FirstParagraph(),
    LongestParagraph(),
    PositionPrior(),
    TfidfSimilarity(),
    TfidfLogistic(),
    DocumentTfidfLogistic(),
]


@pytest.fixture(scope="module")
def examples():
    docs, errors = read_labelled(DATA / "examples.jsonl", label="regional cooperation")
    assert not errors
    parsed = list(parse_documents([d.text for d in docs[:8]]))
    return parsed, [[(t.start, t.end) for t in d.targets] for d in docs[:8]]


# --- scikit-learn's checks -------------------------------------------------------------------
# scikit-learn generates its checks only for estimators of 2-D arrays: for one whose tags say
# it reads text, ``parametrize_with_checks`` yields a single check (that it can be cloned). So
# the checks run on a view of each estimator whose tags claim a 2-D array, and each check that
# then cannot apply says why below (imbalanced-learn's way); xfail_strict keeps the reasons
# true: a listed check that passes fails the test.

_NUMBERS = (
    "feeds a 2-D array of numbers; a document is a text, and a row of numbers is refused "
    "with a TypeError naming its type"
)
_FED_NUMBERS = (
    "check_array_api_input",
    "check_classifier_data_not_an_array",
    "check_classifiers_train",
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimator_sparse_array",
    "check_estimator_sparse_matrix",
    "check_estimators_dtypes",
    "check_estimators_empty_data_messages",
    "check_estimators_fit_returns_self",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_estimators_pickle(readonly_memmap=True)",
    "check_f_contiguous_array_estimator",
    "check_fit1d",
    "check_fit2d_1feature",
    "check_fit2d_1sample",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
    "check_supervised_y_2d",
)
_SPARSE = (
    "fitted on a sparse matrix, the estimator refuses it as numbers rather than naming sparse "
    "input: a sparse matrix is no more a document than a dense one"
)
# The document labeler checks its yes-or-no targets before its documents, in its own words.
_YES_OR_NO = {
    "check_classifiers_one_label": (
        "documents of one kind are refused in a documentalist's words ('needs documents with "
        "the label and documents without it'), not with scikit-learn's 'one class'"
    ),
    "check_classifiers_classes": (
        "a label of whole documents is yes or no: targets of three classes are refused"
    ),
    "check_estimator_sparse_tag": _SPARSE,
}


def _expected_failed_checks(estimator) -> dict[str, str]:
    reasons = dict.fromkeys(_FED_NUMBERS, _NUMBERS)
    if isinstance(estimator, DocumentLabeler):  # its y check refuses these numbers first
        del reasons["check_fit1d"]
        return reasons | _YES_OR_NO
    reasons["check_complex_data"] = _NUMBERS
    if not isinstance(estimator, TargetSelector):
        reasons["check_estimator_sparse_tag"] = _SPARSE
    return reasons


def _claiming_a_2d_array(estimator):
    """A copy of ``estimator`` whose tags claim a 2-D array, so that checks are generated."""

    class Checked(type(estimator)):
        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.input_tags.two_d_array, tags.input_tags.string = True, False
            return tags

    Checked.__name__ = Checked.__qualname__ = type(estimator).__name__
    return Checked(**estimator.get_params(deep=False))


# The paragraph rankers share their fit: one fixed rule, one learnt position, one TF-IDF model.
_CHECKED = (
    TargetSelector,
    DocumentLabeler,
    FirstParagraph,
    PositionPrior,
    TfidfLogistic,
    DocumentTfidfLogistic,
)


@parametrize_with_checks(
    [_claiming_a_2d_array(e) for e in ESTIMATORS if type(e) in _CHECKED],
    expected_failed_checks=_expected_failed_checks,
    xfail_strict=True,
)
def test_scikit_learn_checks(estimator, check) -> None:
    check(estimator)


@pytest.mark.parametrize(
    "estimator", [*ESTIMATORS, ParagraphFeaturizer()], ids=lambda e: type(e).__name__
)
def test_parameters_are_validated_at_fit_by_their_constraints(estimator) -> None:
    check_param_validation(type(estimator).__name__, estimator)


@pytest.mark.parametrize("char_ngrams", [(5, 3), (0, 2), (3,), (2.0, 4), (True, 3)])
def test_character_ngrams_are_two_lengths_the_shorter_first(examples, char_ngrams) -> None:
    parsed, _ = examples
    with pytest.raises(ValueError, match="char_ngrams must be"):
        ParagraphFeaturizer(char_ngrams=char_ngrams).fit(parsed)


# --- the contract in unclf's terms --------------------------------------------------------


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_tags_say_the_estimator_reads_text(estimator) -> None:
    tags = get_tags(estimator)
    assert tags.input_tags.string and not tags.input_tags.two_d_array


def test_zero_folds_is_an_error_at_fit_not_two(examples) -> None:
    parsed, targets = examples
    for estimator, y in ((TargetSelector(n_folds=0), targets), (DocumentLabeler(n_folds=0), None)):
        assert estimator.n_folds == 0  # stored untouched: an error at fit, as scikit-learn does
        y = y or [bool(t) for t in targets]
        with pytest.raises(InvalidParameterError, match="'n_folds' parameter"):
            estimator.fit(parsed, y)
    with pytest.raises(InvalidParameterError, match="'n_folds' parameter"):
        fit_labels(TargetSelector(n_folds=1), parsed, {"a": targets})


def test_one_string_is_refused_where_documents_belong(examples) -> None:
    parsed, targets = examples
    text = parsed[0].text
    selector = TargetSelector(n_folds=2).fit(parsed, targets)
    labeler = DocumentLabeler(n_folds=2).fit(parsed, [bool(t) for t in targets])
    for call in (selector.predict, selector.rank, labeler.predict, labeler.decide):
        with pytest.raises(ValueError, match="not one string"):
            list(call(text))
    with pytest.raises(ValueError, match="not one string"):
        next(predict_labels({"a": selector, "b": labeler}, text))
    assert len(selector.predict([text])) == 1  # the same text as a list: one document
    with pytest.raises(ValueError, match="not one string"):
        TargetSelector().fit(text, targets)
    with pytest.raises(ValueError, match="not one string"):
        TfidfLogistic().fit(text, targets)


def test_baselines_read_texts_as_the_model_does(examples) -> None:
    parsed, targets = examples
    texts = [d.text for d in parsed]
    from_texts = TfidfLogistic().fit(texts, targets).rank(texts[0])
    assert from_texts == TfidfLogistic().fit(parsed, targets).rank(parsed[0])


def test_a_failed_fit_leaves_no_fitted_state(examples) -> None:
    parsed, targets = examples
    fitted = TargetSelector(n_folds=2).fit(parsed, targets)
    check_is_fitted(fitted)
    # "no paragraph holds a target" is found after the language and the featurizer are fitted
    with pytest.raises(ValueError, match="no paragraph holds a target"):
        fitted.fit(parsed, [[] for _ in parsed])
    with pytest.raises(NotFittedError):
        check_is_fitted(fitted)
    assert not [name for name in vars(fitted) if name.endswith("_")]

    labeler = DocumentLabeler(n_folds=2).fit(parsed, [bool(t) for t in targets])
    with pytest.raises(TypeError, match="a document must be a text"):
        labeler.fit([*parsed[:-1], None], [bool(t) for t in targets])
    assert not [name for name in vars(labeler) if name.endswith("_")]


def test_fit_does_not_change_the_parameters(examples) -> None:
    parsed, targets = examples
    model = TargetSelector(n_folds=2, views=["words", "chars"], log_count_ratio=["words"])
    before = clone(model).get_params()
    model.fit(parsed, targets)
    assert model.get_params() == before
