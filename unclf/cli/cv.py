"""``unclf cv`` and ``unclf learning-curve``: the model and the baselines measured on the same
document folds."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from unclf.cli.common import (
    EXIT_OK,
    UsageError,
    check_not_an_input,
    check_writable,
    figure,
    mean_of,
    nan_to_none,
    output_file,
    print_abstained,
    print_json,
    searched,
)
from unclf.cli.inputs import labelled_tasks, one_task
from unclf.documents import (
    LabelledDocument,
)
from unclf.words import count


def cmd_cv(args: argparse.Namespace) -> int:
    from unclf.evaluation import cross_validate
    from unclf.report import render_report

    if args.report:
        check_writable(args.report, "a report file")
        check_not_an_input(args.report, [args.data], "--report")
    docs, by_label, by_document = labelled_tasks(args)
    if len(by_label) + len(by_document) > 1 or by_document:
        if args.report:
            raise UsageError("--report shows one paragraph label's documents; give --label once")
        return _cv_labels(args, docs, by_label, by_document)
    [(label, targets)] = by_label.items()
    args.label = label
    cv = _cross_validation(
        cross_validate, args, docs, targets, ids=[d.id for d in docs], target_name=searched(label)
    )
    if args.report:
        title = f"unclf cross-validation: {args.label}"
        with output_file(args.report) as out:
            layouts = {d.id: d.layout for d in docs if d.layout is not None}
            out.write(render_report(cv, title, layouts))
    if args.json:
        print_json(cv.to_dict())
        return EXIT_OK
    s = cv.summary

    print(
        f"{count(len(docs), 'document')}, {args.folds} folds, seed {args.seed}: hit@1 over the "
        f"{count(s['documents'], 'document')} with a target"
    )
    print(
        f"  {'unclf':24s} hit@1 {figure(s['hit@1'])} (95% interval {figure(s['hit@1_ci95'][0])}"
        f"-{figure(s['hit@1_ci95'][1])}, fold std {figure(s['hit@1_fold_std'])})  "
        f"MRR {figure(s['mrr'])}  recall@5 {figure(s['recall@5'])}"
    )
    ranked = sorted(
        cv.baselines.items(), key=lambda kv: (math.isnan(kv[1]["hit@1"]), -kv[1]["hit@1"])
    )
    for name, b in ranked:
        print(
            f"  {name:24s} hit@1 {figure(b['hit@1'])}  MRR {figure(b['mrr'])}  "
            f"recall@5 {figure(b['recall@5'])}"
        )
    beaten_by = [(name, b["hit@1"]) for name, b in ranked if b["hit@1"] > s["hit@1"]]
    if beaten_by:
        which = ", ".join(f"{name} ({figure(hit)})" for name, hit in beaten_by)
        print(
            f"  note: a baseline finds more targets than unclf on these documents: {which} "
            f"against unclf's {figure(s['hit@1'])} (hit@1); see the 95% interval before "
            "choosing it"
        )
    print(
        f"  marked paragraphs: precision {figure(s['precision'])}, recall {figure(s['recall'])}, "
        f"F1 {figure(s['f1'])}"
    )
    bands = [
        f"{b['scores']}: {figure(b['hit@1'])} ({count(b['documents'], 'document')})"
        for b in s["hit@1_by_score"]
    ]
    print(f"  hit@1 by the chosen paragraph's score: {', '.join(bands)}")
    print_abstained(s)
    if args.report:
        print(f"  {count(len(cv.misses), 'missed document')}: see {args.report}")
    return EXIT_OK


def _cross_validation(
    function: Callable, args: argparse.Namespace, docs: list[LabelledDocument], targets, **more
):
    """``function`` (one of unclf.evaluation's) over the documents with the command's settings."""
    try:
        return function(
            [d.text for d in docs],
            targets,
            folds=args.folds,
            seed=args.seed,
            mode=args.mode,
            progress=True,
            **more,
        )
    except ValueError as e:
        raise UsageError(f"{args.data}: {e}") from None


def _cv_labels(
    args: argparse.Namespace,
    docs: list[LabelledDocument],
    by_label: dict[str, list],
    by_document: dict[str, list[bool]],
) -> int:
    """``cv`` of several labels: a row per label (unclf against its best baseline) and the mean;
    labels of whole documents against a TF-IDF document classifier."""
    from unclf.evaluation import cross_validate_document_labels, cross_validate_labels

    whole = {}
    if by_document:
        try:
            whole = cross_validate_document_labels(
                [d.text for d in docs], by_document, folds=args.folds, seed=args.seed, progress=True
            )
        except ValueError as e:
            raise UsageError(f"{args.data}: {e}") from None
    if not by_label:
        return _print_cv_document_labels(args, whole)
    rows = _cross_validation(cross_validate_labels, args, docs, by_label)
    lead = {
        label: r["unclf"]["hit@1"] - r["baselines"][r["best_baseline"]]["hit@1"]
        for label, r in rows.items()
    }
    mean = mean_of(
        [
            {"hit@1": r["unclf"]["hit@1"], "best": r["baselines"][r["best_baseline"]]["hit@1"]}
            for r in rows.values()
        ],
        ("hit@1", "best"),
    )
    if args.json:
        print_json(
            {
                "labels": {
                    label: {
                        "unclf": nan_to_none(r["unclf"]),
                        "baselines": {n: nan_to_none(b) for n, b in r["baselines"].items()},
                        "best_baseline": r["best_baseline"],
                    }
                    for label, r in rows.items()
                },
                "mean": nan_to_none(mean),
                "document_labels": _document_rows_json(whole),
                "settings": {"n_folds": args.folds, "seed": args.seed, "mode": args.mode},
            }
        )
        return EXIT_OK
    width = max(len(label) for label in rows) + 2
    print(
        f"{count(len(docs), 'document')}, {args.folds} folds, seed {args.seed}: hit@1 over each "
        "label's documents with a target, against the best of the baselines on the same folds"
    )
    print(f"{'label':{width}s} documents  unclf  best baseline             lead")
    for label, r in rows.items():
        best = r["best_baseline"]
        print(
            f"{label:{width}s} {r['unclf']['documents']:9d}  {figure(r['unclf']['hit@1'])}  "
            f"{best:18s} {figure(r['baselines'][best]['hit@1'])}  {figure(lead[label], '+.3f')}"
        )
    below = [label for label, value in lead.items() if value < 0]
    print(
        f"{'mean of ' + str(len(rows)) + ' labels':{width}s} {'':9s}  {figure(mean['hit@1'])}  "
        f"{'':18s} {figure(mean['best'])}  {figure(mean['hit@1'] - mean['best'], '+.3f')}"
    )
    if below:
        which = ", ".join(f"{label!r} ({rows[label]['best_baseline']})" for label in below[:5])
        more = f" and {len(below) - 5} more" if len(below) > 5 else ""
        print(
            f"  note: a baseline finds more targets than unclf on {count(len(below), 'label')}: "
            f"{which}{more}"
        )
    if whole:
        _print_cv_document_labels(args, whole)
    return EXIT_OK


def _document_rows_json(whole: dict[str, dict]) -> dict:
    return {
        label: {name: nan_to_none(s) for name, s in by_method.items()}
        for label, by_method in whole.items()
    }


def _print_cv_document_labels(args: argparse.Namespace, whole: dict[str, dict]) -> int:
    """Labels of whole documents: unclf against a TF-IDF document classifier, same folds."""
    if args.json:
        print_json({"document_labels": _document_rows_json(whole)})
        return EXIT_OK
    width = max(len(label) for label in whole) + 2
    print(
        f"labels of whole documents, {args.folds} folds: accuracy and F1 of unclf and of a "
        "TF-IDF + logistic regression document classifier"
    )
    print(f"{'label':{width}s} documents  with it  unclf acc.   F1   tfidf-lr acc.   F1")
    for label, r in whole.items():
        u, b = r["unclf"], r["tfidf-lr"]
        print(
            f"{label:{width}s} {u['documents']:9d}  {u['with_label']:7d}  {figure(u['accuracy'])}"
            f"     {figure(u['f1'])}   {figure(b['accuracy'])}          {figure(b['f1'])}"
        )
    return EXIT_OK


def cmd_learning_curve(args: argparse.Namespace) -> int:
    from unclf.evaluation import learning_curve
    from unclf.report import folds_in_words, plot_learning_curve

    if args.plot:
        check_writable(args.plot, "an image file")
        check_not_an_input(args.plot, [args.data], "--plot")
    docs, targets = one_task(args)
    curve = _cross_validation(
        learning_curve,
        args,
        docs,
        targets,
        sizes=args.sizes,
        repeats=args.repeats,
        target_name=searched(args.label[0]),
    )
    if args.plot:
        plot_learning_curve(curve, args.plot, f"Learning curve: {args.label[0]}")
    if args.json:
        print_json(curve)
        return EXIT_OK
    best = curve["best_baseline"]
    print(
        f"hit@1 on held-out documents, mean ± std over {folds_in_words(args.folds, args.repeats)}"
        f" (best baseline: {best})"
    )
    for p in curve["points"]:
        m, b = p["model"], p["baselines"][best]
        print(
            f"  {p['size']:5d} documents: unclf {m['mean']:.3f} ± {m['std']:.3f}   "
            f"{best} {b['mean']:.3f} ± {b['std']:.3f}"
        )
    if args.plot:
        print(f"plot: {args.plot}")
    return EXIT_OK
