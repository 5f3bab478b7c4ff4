"""``unclf train``: labelled documents -> a model file."""

from __future__ import annotations

import argparse
import sys

from unclf.cli.common import (
    EXIT_OK,
    UNNAMED_LABEL,
    UsageError,
    check_not_an_input,
    check_writable,
    quoted_names,
)
from unclf.cli.inputs import as_language, labelled_tasks
from unclf.words import count


def cmd_train(args: argparse.Namespace) -> int:
    from unclf.model import UNSEEN_MISS_RATE, TargetSelector, fit_labels, parse_documents
    from unclf.model.document_labels import DocumentLabeler
    from unclf.model.inputs import text_characters
    from unclf.persistence import data_fingerprint, document_fingerprints, save_model
    from unclf.workers import processes_worth_starting

    check_writable(args.model_out)
    check_not_an_input(args.model_out, [args.data], "--model-out")
    docs, by_label, by_document = labelled_tasks(args)
    selector = TargetSelector(
        mode=args.mode,
        n_jobs=args.jobs,
        random_state=args.seed,
        target_name="" if set(by_label) == {UNNAMED_LABEL} else None,  # else each its own
    )
    texts = as_language([d.text for d in docs], args.language)
    # Parsed here only for labels of whole documents too, which read the same parses; else
    # the selectors parse the texts and let the parses go before their fits (111 MB of what
    # was live at the fits on the 460 UPR and CUAD documents).
    parsed = (
        list(
            parse_documents(
                texts,
                progress=True,
                total=len(docs),
                n_jobs=processes_worth_starting(args.jobs, text_characters(texts)),
            )
        )
        if by_document
        else texts
    )
    try:
        models = fit_labels(selector, parsed, by_label, progress=True) if by_label else {}
        labelers = {
            label: DocumentLabeler(random_state=args.seed).fit(parsed, has)
            for label, has in by_document.items()
        }
    except ValueError as e:
        raise UsageError(f"{args.data}: {e}") from None
    all_targets = [
        [(s, e, label) for label, targets in by_label.items() for s, e in targets[i]]
        + [(-1, -1, label) for label, has in by_document.items() if has[i]]
        for i in range(len(docs))
    ]
    metadata = save_model(
        {**models, **labelers},
        args.model_out,
        training_data=str(args.data),
        data_fingerprint=data_fingerprint(
            (d.id, d.text, all_targets[i]) for i, d in enumerate(docs)
        ),
        training_documents=sorted(set(document_fingerprints(d.text for d in docs))),
    )
    without_negatives = [label for label, m in models.items() if m.n_documents_without_target_ == 0]
    if without_negatives:
        which = "" if len(models) == 1 else f" of {quoted_names(without_negatives)}"
        print(
            f"unclf: note: every training document has a target{which}; the model leaves a "
            "document unmarked only where its best paragraph scores lower than in "
            f"{1 - UNSEEN_MISS_RATE:.0%} of them. Label a few documents without a target to "
            'teach it when to say "none here".',
            file=sys.stderr,
        )
    for label, model in models.items():
        if model.abstain and _never_abstains(model) and model.n_documents_without_target_:
            n = model.n_documents_without_target_
            print(
                f"unclf: note: {_for_label(label, models)}the model will mark a paragraph in "
                f"every document: the best {'paragraph' if n == 1 else 'paragraphs'} of the "
                f"{count(n, 'training document')} without a target scored too high to tell "
                f"{'it' if n == 1 else 'them'} apart from the documents with one. Label more "
                "documents without the target so that it learns when to leave a document "
                "unmarked.",
                file=sys.stderr,
            )
        if model.documents_with_unheld_targets_:
            ids = [docs[i].id for i in model.documents_with_unheld_targets_]
            shown = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
            print(
                f"unclf: warning: {_for_label(label, models)}{count(len(ids), 'document')} with a "
                f"target that no paragraph holds (it is learned from nowhere): {shown}",
                file=sys.stderr,
            )
    saved = f"saved to {args.model_out} (data {metadata['data_fingerprint'][:12]})"
    if len(models) == 1 and not labelers:
        [(label, model)] = models.items()
        print(f"trained on {count(len(docs), 'document')} {_label_summary(label, model)}; {saved}")
        return EXIT_OK
    print(
        f"trained {len(models) + len(labelers)} labels on {count(len(docs), 'document')}, mode "
        f"{args.mode}; {saved}"
    )
    for label, model in models.items():
        print(f"  {label!r}: {_label_summary(label, model, with_label=False)}")
    for label, labeler in labelers.items():
        print(
            f"  {label!r}: a label of whole documents, on {labeler.n_documents_with_label_} of "
            f"the {count(len(docs), 'document')}"
        )
    return EXIT_OK


def _for_label(label: str, models: dict) -> str:
    return f"{label!r}: " if len(models) > 1 else ""


def _label_summary(label: str, model, with_label: bool = True) -> str:
    """What a trained selector learnt, in a line."""
    with_target = model.n_documents_ - model.n_documents_without_target_
    return (
        f"({with_target} with a target, {count(model.n_target_paragraphs_, 'target paragraph')})"
        + (f" for label {label!r}" if with_label else "")
        + f"; mode {model.mode}, {_abstention(model)}"
        f"{_ranking_note(model.ranking_)}"
        f"{_first_mention_note(model.lead_ratio_, model.passes_lead_ins_)}"
        f"{_kinds_note(model.target_kinds_)}"
    )


# An abstention threshold below this leaves unmarked only a document whose best paragraph
# scores under 0.005, as good as none; "abstain below 0.00" would say nothing.
_NEVER_ABSTAINS = 0.005


def _never_abstains(model) -> bool:
    return not model.abstain or model.abstain_threshold_ < _NEVER_ABSTAINS


def _abstention(model) -> str:
    """When the model leaves a document unmarked, in words."""
    if _never_abstains(model):
        return "marks a paragraph in every document"
    return f"abstain below {model.abstain_threshold_:.2f}"


def _ranking_note(ranking: str) -> str:
    if ranking == "plain":
        return (
            ", ranked by its words alone (they found clearly more targets in held-out "
            "documents than the full model)"
        )
    if ranking == "equal":
        return (
            ", ranked by its words, its likeness to the target and the label's name counted "
            "equally (one document holds the targets: too few to learn more)"
        )
    return ""


def _kinds_note(target_kinds: tuple[str, ...]) -> str:
    from unclf.segmenter import KINDS

    ruled_out = [kind for kind in KINDS if kind not in target_kinds]
    return f", never first: {' or '.join(ruled_out)}" if ruled_out else ""


def _first_mention_note(lead_ratio: float, passes_lead_ins: bool) -> str:
    if lead_ratio >= 1.0:
        return ""
    passing = ", lead-ins passed over" if passes_lead_ins else ""
    return f", an earlier paragraph goes first within {lead_ratio:.1f}x of the best{passing}"
