"""TargetSelector: the scikit-learn contract, decisions, and learning on the invented examples."""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

import unclf.model.inputs
import unclf.model.selector
from unclf.documents import read_labelled
from unclf.features import ParagraphFeaturizer
from unclf.metrics import hits, score_document, summarize
from unclf.model import TargetSelector, parse_documents
from unclf.model.decisions import _first_mention_rule, _target_kinds, clearly_better, thresholds
from unclf.model.ranker import equal_weights, fit_ranker, neighbour_scores, stage_two_features
from unclf.model.scorers import (
    VIEWS,
    StackedScorers,
    TargetSimilarity,
    fit_scorer,
    log_count_ratio,
    similarities,
)
from unclf.segmenter import KINDS, ParsedDocument

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def examples():
    docs, errors = read_labelled(DATA / "examples.jsonl", label="regional cooperation")
    assert not errors
    parsed = list(parse_documents([d.text for d in docs]))
    targets = [[(t.start, t.end) for t in d.targets] for d in docs]
    return parsed, targets


@pytest.fixture(scope="module")
def fitted(examples):
    parsed, targets = examples
    train = slice(0, 18)
    return TargetSelector().fit(parsed[train], targets[train])


def test_parameters_are_stored_untouched_and_clone_works():
    featurizer = ParagraphFeaturizer(n_features=2**12)
    model = TargetSelector(mode="multi", C=2.0, featurizer=featurizer, random_state=3)
    params = model.get_params(deep=False)
    assert params["mode"] == "multi" and params["C"] == 2.0 and params["featurizer"] is featurizer
    copy = clone(model)
    assert copy.get_params()["featurizer__n_features"] == 2**12
    assert copy.featurizer is not featurizer


def test_unfitted_model_refuses_to_predict():
    with pytest.raises(NotFittedError):
        list(TargetSelector().rank(["1. Some text."]))


def test_fit_returns_self_and_rejects_bad_arguments(examples):
    parsed, targets = examples
    model = TargetSelector(n_folds=2)
    assert model.fit(parsed[:6], targets[:6]) is model
    with pytest.raises(ValueError, match="mode"):
        TargetSelector(mode="all").fit(parsed[:6], targets[:6])
    with pytest.raises(ValueError, match="no paragraph holds a target"):
        TargetSelector().fit(parsed[:6], [[] for _ in range(6)])
    with pytest.raises(ValueError, match="target lists"):
        TargetSelector().fit(parsed[:6], targets[:5])
    with pytest.raises(ValueError, match="views"):
        TargetSelector(views=("all", "headings")).fit(parsed[:6], targets[:6])
    with pytest.raises(ValueError, match="at least 2 labelled documents"):
        TargetSelector().fit(parsed[:1], targets[:1])


def test_finds_held_out_targets_and_abstains_without_one(fitted, examples):
    parsed, targets = examples
    held_out = range(18, len(parsed))
    results = []
    for i, ranked in zip(held_out, fitted.rank([parsed[i] for i in held_out]), strict=True):
        scores = [p.score for p in ranked.paragraphs]
        assert scores[1:] == sorted(scores[1:], reverse=True)
        assert scores[0] >= fitted.lead_ratio_ * max(scores)
        assert all(0.0 <= s <= 1.0 for s in scores)
        if targets[i]:
            spans = [(p.paragraph.start, p.paragraph.end) for p in ranked.paragraphs]
            results.append(score_document(spans, targets[i]))
    # Invented data, six held-out documents: the point is that learning happens at all.
    assert summarize(results)["hit@1"] >= 0.8


def test_learns_from_five_documents(examples):
    parsed, targets = examples
    model = TargetSelector().fit(parsed[:5], targets[:5])
    summary = model.evaluate(parsed[5:], targets[5:])
    assert summary["hit@1"] > 0.5  # a random paragraph out of ~15 would give about 0.07


def test_documents_without_targets_teach_abstention(examples):
    parsed, targets = examples
    # The stacked ranker: on these 24 documents the guard may keep the plain scorer, whose
    # scores do not separate the two documents without a target from the others.
    model = TargetSelector(guard=False).fit(parsed, targets)
    assert model.n_documents_without_target_ == sum(1 for t in targets if not t)
    assert model.abstain_threshold_ > 0
    never = clone(model).set_params(abstain=False).fit(parsed, targets)
    blank = list(never.rank(["1. The meeting was opened by the Chair.\n\n2. It was closed."]))
    assert len(blank[0].targets) == 1  # without abstention, some paragraph is always chosen


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("held", [(0, 5), (0, 3, 5, 7)])
def test_inner_folds_deal_out_the_targets_and_keep_copies_together(seed, held):
    # Ten documents of three paragraphs, documents 0 and 1 each copied once at the end.
    texts = [f"document {i}" for i in range(10)] + ["document 0", "document 1"]
    offsets = np.arange(0, 3 * len(texts) + 1, 3)
    labels = np.zeros(offsets[-1], dtype=np.int64)
    for i in {*held, *(10 + j for j in (0, 1) if j in held)}:
        labels[offsets[i] + 1] = 1
    rows = SimpleNamespace(texts=texts, offsets=offsets)
    n_folds, fold_of_row = TargetSelector(n_folds=3, random_state=seed)._inner_folds(rows, labels)
    assert n_folds == min(3, len(held))  # never more folds than documents with a target
    fold_of_doc = fold_of_row[offsets[:-1]]
    assert fold_of_doc[10] == fold_of_doc[0] and fold_of_doc[11] == fold_of_doc[1]
    for k in range(n_folds):  # every fold is trained with a target, and scores some
        assert labels[fold_of_row != k].any()
        assert (fold_of_doc == k).sum() >= 3


def test_abstention_threshold_keeps_every_training_document_it_decides_right():
    # Best scores 0.9 and 0.8 with a target, 0.2 without: any threshold in (0.2, 0.8] is right
    # on all three; one above 0.8 would make the 0.8 document abstain.
    probability = np.array([0.9, 0.1, 0.8, 0.1, 0.2, 0.1])
    labels = np.array([1, 0, 1, 0, 0, 0])
    abstain, _ = thresholds(probability, labels, np.array([0, 2, 4, 6]))
    assert 0.2 < abstain <= 0.8


def test_multi_mode_marks_more_than_one_paragraph_where_several_score_high(examples):
    parsed, targets = examples
    model = TargetSelector(mode="multi").fit(parsed, targets)
    two = [i for i, t in enumerate(targets) if len(t) == 2]
    assert two, "the examples have documents with two targets"
    marked = [len(r.targets) for r in model.rank([parsed[i] for i in two])]
    assert max(marked) >= 2


def test_training_is_deterministic(examples):
    parsed, targets = examples
    a = TargetSelector(random_state=1).fit(parsed[:12], targets[:12])
    b = TargetSelector(random_state=1).fit(parsed[:12], targets[:12])
    ranked_a = [[p.score for p in r.paragraphs] for r in a.rank(parsed[12:])]
    ranked_b = [[p.score for p in r.paragraphs] for r in b.rank(parsed[12:])]
    assert ranked_a == ranked_b


def test_documents_without_paragraphs_are_answers(fitted):
    ranked = list(fitted.rank(["", "   \n", "1. One real paragraph about the African Union."]))
    assert ranked[0].paragraphs == [] and ranked[1].paragraphs == []
    assert len(ranked[2].paragraphs) == 1


def test_hit_needs_half_of_the_target():
    assert hits(0, 10, [(5, 15)]) == [0]
    assert hits(0, 10, [(6, 16)]) == []
    assert score_document([(20, 30), (0, 10)], [(0, 8)]).reciprocal_rank == 0.5
    assert np.isnan(summarize([])["hit@1"])


def test_targets_that_no_paragraph_holds_are_reported(examples):
    parsed, targets = examples
    spread = "1. Alpha text here.\n\n2. Beta text here.\n\n3. Gamma text here."
    model = TargetSelector(n_folds=2).fit([*parsed[:4], spread], [*targets[:4], [(0, len(spread))]])
    assert model.documents_with_unheld_targets_ == [4]


def test_each_view_scores_its_own_blocks_and_the_ranker_weighs_them(examples):
    parsed, targets = examples
    model = TargetSelector(n_folds=2).fit(parsed[:8], targets[:8])
    featurizer = model.featurizer_
    width = len(featurizer.columns_)
    # Every view plain, then the views of log_count_ratio scaled, then the plain TF-IDF's.
    assert len(model.scorers_) == len(model.views) + len(model.log_count_ratio) + 1
    plain = model.scorers_[-1]
    assert plain.coef_.shape[1] == len(model.paragraph_tfidf_.vocabulary_)
    scorers = model.scorers_[: len(model.views)]  # each view plain, first
    width_of = {v: s.coef_.shape[1] for v, s in zip(model.views, scorers, strict=True)}
    for view, scorer_width in width_of.items():  # each view reads its blocks' columns
        blocks = VIEWS[view] or featurizer.blocks
        assert scorer_width == len(featurizer.block_columns(blocks))
    assert sum(w for view, w in width_of.items() if view != "all") == width  # a partition
    read = [*model.views, *model.log_count_ratio]
    for scorer, view in zip(model.scorers_[:-1], read, strict=True):
        assert scorer.coef_.shape[1] == width_of[view]
    single = TargetSelector(n_folds=2, views=("words",), log_count_ratio=()).fit(
        parsed[:8], targets[:8]
    )
    assert len(single.scorers_) == 2 and single.scorers_[0].coef_.shape[1] == width_of["words"]
    with pytest.raises(ValueError, match="log_count_ratio must be a subset of views"):
        TargetSelector(views=("words",), log_count_ratio=("chars",)).fit(parsed[:8], targets[:8])


def test_folds_fitted_in_processes_give_the_same_model(examples):
    parsed, targets = examples
    one = TargetSelector(n_folds=2).fit(parsed[:8], targets[:8])
    two = TargetSelector(n_folds=2, n_jobs=2).fit(parsed[:8], targets[:8])
    for a, b in zip(one.scorers_, two.scorers_, strict=True):
        np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(one.ranker_[-1].coef_, two.ranker_[-1].coef_)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_texts_parsed_in_processes_come_back_the_same_and_in_order(n_jobs, examples, monkeypatch):
    parsed, _ = examples
    every_third = [doc if i % 3 == 0 else doc.text for i, doc in enumerate(parsed)]
    # Whole batches parsed already (16 in processes, 64 in one), before, between and after.
    runs = [*parsed, *parsed, *parsed, parsed[0].text, *parsed, *parsed, *parsed]
    sent: list[int] = []
    parse_list = unclf.model.inputs.parse_list
    monkeypatch.setattr(
        unclf.model.inputs, "parse_list", lambda raw: sent.append(len(raw)) or parse_list(raw)
    )
    for mixed in (every_third, runs, parsed):
        again = list(parse_documents(mixed, n_jobs=n_jobs))
        expected = [doc if isinstance(doc, ParsedDocument) else None for doc in mixed]
        assert len(again) == len(mixed)
        for a, doc, original in zip(again, mixed, expected, strict=True):
            if original is not None:
                assert a is original
            else:
                (b,) = parse_documents([doc])
                assert a.text == b.text and a.paragraphs == b.paragraphs
                np.testing.assert_array_equal(a.token_ids, b.token_ids)
    if n_jobs is None:  # in one process the batches sent can be counted: never an empty one
        assert sent and 0 not in sent


def test_log_count_ratio_favours_the_targets_words_and_is_folded_into_the_scorer():
    # Columns: a word only targets have, one only the others have, one everywhere.
    features = sp.csr_matrix(
        np.array([[1, 0, 1], [1, 0, 1], [0, 1, 1], [0, 1, 1], [0, 1, 1], [0, 1, 1]], np.float32)
    )
    labels = np.array([1, 1, 0, 0, 0, 0], dtype=np.int8)
    ratio = log_count_ratio(features, labels)
    assert ratio[0] > ratio[2] > ratio[1]
    model = TargetSelector(C=1.0)
    scaled = fit_scorer(features, labels, True, model.C, model.random_state)
    reference = LogisticRegression(
        C=1.0, class_weight="balanced", max_iter=300, random_state=0
    ).fit(features @ sp.diags(ratio), labels)
    np.testing.assert_allclose(
        scaled.decision_function(features),
        reference.decision_function(features @ sp.diags(ratio)),
        rtol=1e-5,
    )


def _unit_rows(n_rows: int, n_columns: int, seed: int) -> sp.csr_matrix:
    """Sparse float32 rows of length one, a few words each, some words in most rows."""
    rng = np.random.default_rng(seed)
    dense = rng.random((n_rows, n_columns)) * (rng.random((n_rows, n_columns)) < 0.05)
    dense[:, :3] = rng.random((n_rows, 3))  # words that every row holds: multiplied dense
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    return sp.csr_matrix(dense.astype(np.float32))


def test_similarity_to_many_target_sets_is_each_sets_own_and_does_not_hang_on_rounding():
    words = _unit_rows(300, 400, seed=0)
    sets = [words[[0, 5, 9]], words[[5, 9, 40, 41, 42]], words[[7]], words[[]]]
    together = TargetSimilarity(sets)(words)
    for targets, similarity in zip(sets, together, strict=True):
        assert np.array_equal(similarity, similarities(words, targets))
        reference = np.zeros((300, 3))  # in float64, from the definition
        if targets.shape[0]:
            block = words.toarray().astype(np.float64) @ targets.toarray().T
            mean = targets.toarray().astype(np.float64).mean(axis=0)
            reference[:, 0] = words.toarray() @ (mean / np.linalg.norm(mean))
            reference[:, 1] = block.max(axis=1)
            reference[:, 2] = np.sort(block, axis=1)[:, -3:].mean(axis=1)
        np.testing.assert_allclose(similarity, reference, atol=1e-4)
    # A target's copy is exactly as similar to it as the target, whatever order its words
    # are stored in: the ranker reads ties, not the float32 rounding of a sum.
    shuffled = words.copy()
    for i in range(300):
        lo, hi = shuffled.indptr[i], shuffled.indptr[i + 1]
        order = np.random.default_rng(i).permutation(hi - lo)
        shuffled.indices[lo:hi] = shuffled.indices[lo:hi][order]
        shuffled.data[lo:hi] = shuffled.data[lo:hi][order]
    assert np.array_equal(TargetSimilarity(sets)(shuffled)[1], together[1])
    assert together[1][[5, 9, 40], 1].tolist() == [1.0, 1.0, 1.0]


def test_scorers_of_many_models_score_as_each_model_alone():
    views = [_unit_rows(200, 50, seed=1), _unit_rows(200, 30, seed=2)]
    views.append(views[0])  # a view read by two scorers
    labels = (np.arange(200) % 7 == 0).astype(np.int8)
    fitted = [LogisticRegression().fit(v, labels) for v in views]
    other = [LogisticRegression(C=0.1).fit(v, 1 - labels) for v in views]
    unfitted = [None, None, None]
    for models, scores in zip(
        [fitted, other, unfitted], StackedScorers([fitted, other, unfitted])(views), strict=True
    ):
        expected = [
            np.zeros(200) if m is None else m.decision_function(v)
            for m, v in zip(models, views, strict=True)
        ]
        np.testing.assert_allclose(scores, np.column_stack(expected), rtol=1e-6)


def test_first_mention_rule_is_learned_only_where_annotators_mark_first_mentions():
    # Out-of-fold probabilities of 4 documents of 3 paragraphs, and which paragraph is marked.
    probability = np.array([0.6, 0.1, 0.8] * 4)
    offsets = np.array([0, 3, 6, 9, 12])
    first_marked = np.array([1, 0, 0] * 4, dtype=np.int8)
    best_marked = np.array([0, 0, 1] * 4, dtype=np.int8)
    no_lead_ins = np.zeros(12, dtype=bool)
    assert _first_mention_rule(probability, first_marked, offsets, no_lead_ins) == (0.7, False)
    assert _first_mention_rule(probability, best_marked, offsets, no_lead_ins) == (1.0, False)
    # The rule would win one document and lose none: not enough to switch it on.
    one_lucky = np.array([0.6, 0.1, 0.8] + [0.1, 0.1, 0.8] * 3)
    labels = np.concatenate([first_marked[:3], best_marked[3:]])
    assert _first_mention_rule(one_lucky, labels, offsets, no_lead_ins) == (1.0, False)


def test_first_mention_passes_over_lead_ins_where_that_finds_the_marked_paragraph():
    # 4 documents of a cover line, a lead-in ("... BETWEEN:") and the parties. In the first two
    # the cover line scores close to the best and is marked (a first mention); in the other two
    # it scores low and the parties, the best, are marked.
    probability = np.array([0.7, 0.75, 0.8] * 2 + [0.1, 0.75, 0.8] * 2)
    offsets = np.array([0, 3, 6, 9, 12])
    lead_ins = np.array([False, True, False] * 4)
    labels = np.array([1, 0, 0] * 2 + [0, 0, 1] * 2, dtype=np.int8)
    # Never: 2 hits; ratio 0.7: the cover lines but the lead-ins before the parties, 2 hits;
    # ratio 0.7 passing over lead-ins: all 4.
    assert _first_mention_rule(probability, labels, offsets, lead_ins) == (0.7, True)
    # Where annotators mark the lead-in itself (a date stated in it), it is not passed over.
    date_in_lead_in = np.array([0, 1, 0] * 4, dtype=np.int8)
    assert _first_mention_rule(probability, date_in_lead_in, offsets, lead_ins) == (0.9, False)


def test_an_earlier_paragraph_close_to_the_best_goes_first(fitted, examples):
    model = copy.copy(fitted)
    doc = next(parse_documents(["1. Dated 1 May.\n\n2. Made on 1 May.\n\n3. Signed."]))
    model.lead_ratio_ = 0.7
    ranked = model._decide(doc, np.array([0.6, 0.8, 0.1]))
    assert [p.paragraph.index for p in ranked.paragraphs] == [0, 1, 2]
    assert [p.paragraph.index for p in ranked.targets] == [0]
    ranked = model._decide(doc, np.array([0.3, 0.8, 0.1]))
    assert [p.paragraph.index for p in ranked.paragraphs] == [1, 0, 2]
    model.lead_ratio_ = 1.0
    ranked = model._decide(doc, np.array([0.6, 0.8, 0.1]))
    assert [p.paragraph.index for p in ranked.paragraphs] == [1, 0, 2]
    parsed, targets = examples
    never = TargetSelector(first_mention=False, n_folds=2).fit(parsed[:6], targets[:6])
    assert (never.lead_ratio_, never.passes_lead_ins_) == (1.0, False)


def test_a_lead_in_is_passed_over_unless_it_is_the_best(fitted):
    model = copy.copy(fitted)
    doc = next(parse_documents(["Cover page\n\nMade on 1 May BETWEEN:\n\nACME Ltd and Foo Inc."]))
    model.lead_ratio_, model.passes_lead_ins_ = 0.7, True
    model.target_kinds_ = KINDS  # the cover page is a heading
    ranked = model._decide(doc, np.array([0.1, 0.7, 0.8]))
    assert ranked.paragraphs[0].paragraph.index == 2  # the lead-in does not go first
    ranked = model._decide(doc, np.array([0.6, 0.7, 0.8]))
    assert ranked.paragraphs[0].paragraph.index == 0  # an earlier statement still does
    ranked = model._decide(doc, np.array([0.1, 0.8, 0.7]))
    assert ranked.paragraphs[0].paragraph.index == 1  # the best goes first, lead-in or not
    model.passes_lead_ins_ = False
    ranked = model._decide(doc, np.array([0.1, 0.7, 0.8]))
    assert ranked.paragraphs[0].paragraph.index == 1


def test_a_kind_the_targets_never_are_is_ruled_out_only_on_enough_evidence():
    kinds = np.array([0, 0, 0, 1] * 25)  # a quarter of the paragraphs are headings
    labels = np.zeros(100, dtype=np.int8)
    labels[[0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44]] = 1  # 12 paragraphs, no heading
    # 12 targets marked without regard to kind would hold 3 headings: none is evidence. List
    # items, none of 100, are not ruled out either: nothing says anything of them.
    assert _target_kinds(labels, kinds) == ("paragraph", "list_item")
    # 8 would hold 2: too few to rule headings out.
    labels[[32, 36, 40, 44]] = 0
    assert _target_kinds(labels, kinds) == ("paragraph", "heading", "list_item")
    labels[3] = 1  # one heading marked
    assert "heading" in _target_kinds(labels, kinds)


def test_a_paragraph_of_a_ruled_out_kind_does_not_go_first(fitted):
    model = copy.copy(fitted)
    model.lead_ratio_, model.target_kinds_ = 1.0, ("paragraph",)
    doc = next(parse_documents(["A. AUDIT\n\nThe Buyer may audit the records once a year."]))
    assert [p.kind for p in doc.paragraphs] == ["heading", "paragraph"]
    ranked = model._decide(doc, np.array([0.9, 0.4]))
    assert [p.paragraph.index for p in ranked.paragraphs] == [1, 0]
    assert [p.paragraph.index for p in ranked.targets] == [1]
    model.target_kinds_ = ("paragraph", "heading")
    assert model._decide(doc, np.array([0.9, 0.4])).paragraphs[0].paragraph.index == 0
    # A document with nothing but ruled-out kinds still gets its best paragraph first.
    model.target_kinds_ = ("list_item",)
    assert model._decide(doc, np.array([0.4, 0.9])).paragraphs[0].paragraph.index == 1


def test_neighbour_scores_stay_inside_their_document():
    # Two documents of 3 paragraphs, scores against each document's best, and empty ones.
    relative = np.array([-2.0, 0.0, -1.0, 0.0, -5.0, -1.0])
    offsets = np.array([0, 0, 3, 3, 6, 6])  # empty documents first, between and last
    previous, following = neighbour_scores(relative, offsets)
    # A missing neighbour counts as the document's lowest, not 0, which would claim it was
    # the document's best.
    np.testing.assert_array_equal(previous, [-2, -2, 0, -5, 0, -5])
    np.testing.assert_array_equal(following, [0, -1, -2, -5, -1, -5])


def test_the_ranker_tells_paragraphs_apart_by_their_neighbours():
    # The same scores in two orders: paragraph 2 scores 1.0 in both documents and is equal
    # to its twin in every document-relative feature; only its neighbours differ.
    score = np.array([[5.0, 3.0, 1.0, 0.0, 5.0, 0.0, 1.0, 3.0]] * 4).T
    offsets = np.array([0, 4, 8])
    features = stage_two_features(
        score, np.zeros((8, 3)), np.zeros((8, 2)), np.zeros((8, 2)), offsets
    )
    assert not np.allclose(features[2], features[6])


def test_guard_falls_back_on_the_plain_scorer_only_where_it_is_clearly_better(examples):
    parsed, targets = examples
    guarded = TargetSelector().fit(parsed, targets)
    assert set(guarded.inner_hits_) == {"stacked", "plain"}
    assert guarded.ranking_ in unclf.model.RANKINGS
    assert TargetSelector(guard=False).fit(parsed, targets).ranking_ == "stacked"
    # Same 20 documents: what each ranking found.
    both = np.ones(20, dtype=bool)
    five_more = np.r_[np.ones(15, bool), np.zeros(5, bool)]
    assert clearly_better(both, five_more)
    assert not clearly_better(five_more, both)
    three = np.r_[np.ones(3, bool), np.zeros(17, bool)]
    another_one = np.r_[np.zeros(3, bool), np.ones(1, bool), np.zeros(16, bool)]
    assert not clearly_better(three, another_one)  # 3 against 1: chance
    ten_two = np.r_[np.ones(10, bool), np.zeros(10, bool)]
    two_ten = np.r_[np.zeros(10, bool), np.ones(2, bool), np.zeros(8, bool)]
    assert clearly_better(ten_two, two_ten)  # 10 against 2: 8 >= 2 * sqrt(12)


def test_equal_weights_rank_within_each_document_and_ignore_an_unheld_name():
    offsets = np.array([0, 3, 5])
    score = np.array([[0.0, 2.0], [0.0, 1.0], [0.0, 0.0], [0.0, -1.0], [0.0, 5.0]])
    similarity = np.array([[0.9, 0.9, 0.9], [0.1] * 3, [0.5] * 3, [0.2] * 3, [0.1] * 3])
    unheld = np.zeros((5, 2))
    shares = equal_weights(score, similarity, unheld, offsets)[:, 0]
    # Document 1: paragraph 0 outranks both others on the score and the similarity.
    assert shares[0] == pytest.approx((1 + 1 + 0.5) / 3)
    assert shares[1] == pytest.approx(shares[2])  # each first on one kind of evidence
    assert shares[0] > shares[1]
    # Document 2 is ranked on its own: the score and the similarity disagree, a tie.
    assert shares[3] == pytest.approx(shares[4])
    named = unheld.copy()
    named[4, 0] = 0.3  # the name breaks the tie
    assert equal_weights(score, similarity, named, offsets)[4, 0] > shares[3]


def test_with_one_document_holding_targets_the_evidence_is_weighed_equally(examples):
    parsed, targets = examples
    one = [spans if i == 0 else [] for i, spans in enumerate(targets[:10])]
    model = TargetSelector(target_name="regional cooperation").fit(parsed[:10], one)
    assert model.ranking_ == "equal"
    # The plain scorer, the likeness to the one target and the name still find most targets.
    assert model.evaluate(parsed[10:], targets[10:])["hit@1"] >= 0.6
    two = [spans if i in (0, 1) else [] for i, spans in enumerate(targets[:10])]
    assert TargetSelector().fit(parsed[:10], two).ranking_ in ("stacked", "plain")


def test_plain_ranking_orders_paragraphs_as_the_tfidf_baseline_does(examples):
    from unclf.baselines import TfidfLogistic

    parsed, targets = examples
    model = TargetSelector(first_mention=False).fit(parsed[:18], targets[:18])
    model.ranking_ = "plain"  # as the guard sets it; the calibration is refitted to match
    model.ranker_ = fit_ranker(np.array([[0.0], [1.0]]), np.array([0, 1]), plain=True)
    model.target_kinds_ = KINDS
    baseline = TfidfLogistic().fit(parsed[:18], targets[:18])
    for ranked, doc in zip(model.rank(parsed[18:]), parsed[18:], strict=True):
        assert [(p.paragraph.start, p.paragraph.end) for p in ranked.paragraphs] == baseline.rank(
            doc
        )


def test_without_documents_lacking_a_target_an_unlike_document_is_not_marked(examples):
    parsed, targets = examples
    kept = [i for i, t in enumerate(targets) if t]
    model = TargetSelector().fit([parsed[i] for i in kept], [targets[i] for i in kept])
    assert model.n_documents_without_target_ == 0
    assert model.abstain_threshold_ > 0
    (ranked,) = model.rank(["Another document."])
    assert not ranked.targets
    # ... while most documents like the training ones still are.
    marked = [bool(r.targets) for r in model.rank([parsed[i] for i in kept])]
    assert np.mean(marked) >= 0.9


def test_no_negatives_threshold_gives_up_the_lowest_share_of_training_documents():
    best = np.linspace(0.05, 0.95, 20)
    probability = np.concatenate([[b, 0.01] for b in best])
    labels = np.tile([1, 0], 20)
    offsets = np.arange(0, 41, 2)
    abstain, _ = thresholds(probability, labels, offsets)
    assert abstain == pytest.approx(np.quantile(best, unclf.model.UNSEEN_MISS_RATE))
    assert np.mean(best >= abstain) >= 1 - unclf.model.UNSEEN_MISS_RATE


def test_fit_labels_matches_one_fit_per_label_and_featurizes_once(examples):
    parsed, targets = examples
    other = [t[:1] for t in targets]  # a second "label": the first target of each document
    models = unclf.model.fit_labels(
        TargetSelector(), parsed[:18], {"a": targets[:18], "b": other[:18]}
    )
    assert models["a"].featurizer_ is models["b"].featurizer_
    alone = TargetSelector().fit(parsed[:18], targets[:18])
    together = list(unclf.model.rank_labels(models, parsed[18:]))
    for ranked, single in zip(together, alone.rank(parsed[18:]), strict=True):
        assert [p.paragraph.start for p in ranked["a"].paragraphs] == [
            p.paragraph.start for p in single.paragraphs
        ]
        assert [p.score for p in ranked["a"].paragraphs] == pytest.approx(
            [p.score for p in single.paragraphs]
        )
    with pytest.raises(ValueError, match="'none': no paragraph holds a target"):
        unclf.model.fit_labels(TargetSelector(), parsed[:4], {"none": [[] for _ in range(4)]})
