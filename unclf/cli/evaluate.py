"""``unclf evaluate``: a model's hit@1, MRR and recall@5 on labelled documents."""

from __future__ import annotations

import argparse
import sys

from unclf.cli.common import (
    EXIT_OK,
    UsageError,
    figure,
    mean_of,
    nan_to_none,
    print_abstained,
    print_json,
)
from unclf.cli.inputs import as_language, chosen_labels, labelled_tasks, load_models
from unclf.documents import (
    LabelledDocument,
)
from unclf.words import count


def _print_document_labels(
    args: argparse.Namespace, whole: dict[str, dict], summaries: dict[str, dict]
) -> None:
    """``evaluate`` with labels of whole documents: their figures, then the paragraph labels'."""
    if args.json:
        print_json(
            {
                "labels": {label: nan_to_none(s) for label, s in summaries.items()},
                "document_labels": {label: nan_to_none(s) for label, s in whole.items()},
            }
        )
        return
    width = max(len(label) for label in whole) + 2
    print(
        f"{'label of whole documents':{width}s} documents  with it  accuracy  precision  "
        "recall    F1"
    )
    for label, s in whole.items():
        print(
            f"{label:{width}s} {s['documents']:9d}  {s['with_label']:7d}  {figure(s['accuracy'])}"
            f"     {figure(s['precision'])}   {figure(s['recall'])}  {figure(s['f1'])}"
        )
    for label, s in summaries.items():
        print(
            f"{label!r}: hit@1 {figure(s['hit@1'])}, MRR {figure(s['mrr'])}, recall@5 "
            f"{figure(s['recall@5'])} over {count(s['documents'], 'document')} with a target"
        )


def cmd_evaluate(args: argparse.Namespace) -> int:
    from unclf.evaluation import document_label_summary
    from unclf.model import parse_documents, rank_labels, ranking_summary
    from unclf.model.document_labels import DocumentLabeler

    models, metadata, _ = load_models(args.model)
    if args.all_labels:
        args.label = list(models)
    elif not args.label:
        if len(models) > 1:
            raise UsageError(
                f"{args.model}: the model has {len(models)} labels; choose with --label "
                "(several allowed) or --all-labels"
            )
        args.label = list(models)
    elif len(models) > 1:  # one label's selector may be tried on another label's data
        chosen_labels(args, models, args.model)
    args.all_labels = False
    docs, spans, _ = labelled_tasks(args, need_targets=False)
    _warn_if_trained_on(docs, metadata, args.model)
    chosen = (
        {label: models[label] for label in args.label}
        if len(models) > 1
        else dict.fromkeys(args.label, next(iter(models.values())))
    )
    selectors = {k: m for k, m in chosen.items() if not isinstance(m, DocumentLabeler)}
    parsed = list(parse_documents(as_language([d.text for d in docs], args.language)))
    ranked = list(rank_labels(selectors, parsed)) if selectors else []
    summaries = {
        label: ranking_summary((r[label] for r in ranked), spans.get(label, [[]] * len(docs)))
        for label in selectors
    }
    whole = {
        label: document_label_summary(
            [d.score for d in m.decide(parsed)], [label in d.labels for d in docs]
        )
        for label, m in chosen.items()
        if isinstance(m, DocumentLabeler)
    }
    if whole:
        _print_document_labels(args, whole, summaries)
        return EXIT_OK
    if len(summaries) == 1:
        [(label, summary)] = summaries.items()
        if args.json:
            print_json(nan_to_none({**summary, "label": label}))
            return EXIT_OK
        print(f"label {label!r}: {count(summary['documents'], 'document')} with a target")
        print(f"  hit@1     {figure(summary['hit@1'])}")
        print(f"  MRR       {figure(summary['mrr'])}")
        print(f"  recall@5  {figure(summary['recall@5'])}")
        print(
            f"  chosen paragraph, median chars {figure(summary['chosen_chars_median'], '.0f')} "
            f"(gold {figure(summary['gold_chars_median'], '.0f')})"
        )
        print_abstained(summary)
        return EXIT_OK
    mean = mean_of(summaries.values(), ("hit@1", "mrr", "recall@5"))
    if args.json:
        print_json(
            {
                "labels": {label: nan_to_none(s) for label, s in summaries.items()},
                "mean": nan_to_none(mean),
            }
        )
        return EXIT_OK
    width = max(len(label) for label in summaries) + 2
    print(f"{'label':{width}s} documents  hit@1    MRR  recall@5  abstained")
    for label, s in summaries.items():
        abstained = (
            f"{s['abstained_without_target']}/{s['documents_without_target']}"
            if s["documents_without_target"]
            else "-"
        )
        print(
            f"{label:{width}s} {s['documents']:9d}  {figure(s['hit@1'])}  {figure(s['mrr'])}  "
            f"   {figure(s['recall@5'])}  {abstained:>9s}"
        )
    print(
        f"{'mean of ' + str(len(summaries)) + ' labels':{width}s} {'':9s}  "
        f"{figure(mean['hit@1'])}  {figure(mean['mrr'])}     {figure(mean['recall@5'])}"
    )
    return EXIT_OK


def _warn_if_trained_on(docs: list[LabelledDocument], metadata: dict, model: str) -> None:
    """Figures on the documents a model learnt from say how well it remembers them, not how it
    does on new ones: say so when the model file's fingerprints of its training documents
    (one per text) find some of them here."""
    from unclf.persistence import document_fingerprints

    trained_on = set(metadata.get("training_documents", ()))
    seen = sum(f in trained_on for f in document_fingerprints(d.text for d in docs))
    if seen:
        which = "all" if seen == len(docs) else f"{seen} of the {len(docs)}"
        print(
            f"unclf: warning: {which} documents evaluated were used to train {model}: its "
            "figures on them are higher than on documents it has not seen; evaluate on other "
            "documents, or measure with `unclf cv`",
            file=sys.stderr,
        )
