"""The command line: each option defined once, and the parser of every command."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import unclf
from unclf.cli.cv import cmd_cv, cmd_learning_curve
from unclf.cli.evaluate import cmd_evaluate
from unclf.cli.predict import cmd_predict
from unclf.cli.review import cmd_review
from unclf.cli.segment import cmd_segment
from unclf.cli.train import cmd_train
from unclf.review.ordering import DEFAULT_ORDER, ORDERS


def _whole_number(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = _whole_number(value)
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, got {number}")
        return number

    return parse


_non_negative, _positive, _folds = _at_least(0), _at_least(1), _at_least(2)


def _language(value: str) -> str:
    from unclf.segmenter.languages import rules_for

    try:
        return rules_for(value).code
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _jobs(value: str) -> int:
    """joblib's convention: a count of processes, or -1 for every core (-2 all but one)."""
    number = _whole_number(value)
    if number == 0:
        raise argparse.ArgumentTypeError("must not be 0 (-1: every core)")
    return number


def _label_options(p: argparse.ArgumentParser, several: bool = True) -> None:
    """``--label`` (and, where a command learns several at once, ``--all-labels``)."""
    if not several:
        p.add_argument(
            "--label",
            action="append",
            help="the target label (required if the data has several)",
        )
        return
    p.add_argument(
        "--label",
        action="append",
        help="a target label; repeat it for several (required if the data has several "
        "and --all-labels is not given)",
    )
    p.add_argument(
        "--all-labels",
        action="store_true",
        help="every label of the data with at least --min-documents documents",
    )
    p.add_argument(
        "--min-documents",
        type=_positive,
        default=10,
        metavar="N",
        help="with --all-labels: the documents a label needs at least (default 10)",
    )


def _mode_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--mode",
        choices=("single", "multi"),
        default="single",
        help="single: one target per document; multi: every paragraph above threshold",
    )


def _seed_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--seed",
        type=_non_negative,  # what numpy's random generators take
        default=0,
        help="seed of the random draws (the document folds, inside training too; default 0): "
        "same seed, same result",
    )


def _skip_invalid_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="use the valid documents and report the others, exit status 1 (default: stop, "
        "naming each invalid document)",
    )
    p.set_defaults(skipped_documents=0)  # how many --skip-invalid left out (load_labelled)


_INPUTS_HELP = (
    ".txt, .pdf, .docx or .html files, folders of them, JSONL/CSV/Parquet with id and text,"
    " or - for stdin"
)


def _inputs_argument(p: argparse.ArgumentParser, metavar: str = "INPUT") -> None:
    p.add_argument("inputs", nargs="+", metavar=metavar, help=_INPUTS_HELP)


def _data_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "data", help="labelled JSONL/CSV/Parquet: id, text (or file), targets (see README)"
    )


def _output_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", "-o", help="output file (default: stdout)")


def _language_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--language",
        type=_language,
        help="the documents' language: en, fr, es, ru, ar, zh (or English, French, ...); "
        "default: each document's own, told from its text",
    )


def _json_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _folds_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--folds", type=_folds, default=5, help="document folds (default 5)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unclf", description="Find the target paragraph of UN documents."
    )
    parser.add_argument("--version", action="version", version=f"unclf {unclf.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("segment", help="split documents into paragraphs")
    _inputs_argument(p)
    _output_option(p)
    p.add_argument(
        "--format",
        choices=("jsonl", "text"),
        default="jsonl",
        help="jsonl (default): a line per document with its paragraphs and offsets; text: for "
        "reading",
    )
    _language_option(p)
    p.set_defaults(run=cmd_segment)

    p = sub.add_parser("train", help="learn the target paragraph from labelled documents")
    _data_argument(p)
    _label_options(p)
    p.add_argument("--model-out", required=True, help="where to write the model file")
    _mode_option(p)
    _seed_option(p)
    p.add_argument(
        "--jobs",
        type=_jobs,
        default=-1,
        help="processes parsing the documents and fitting the folds, or the labels, side by "
        "side (default -1: all cores, where the documents are long enough to pay for "
        "starting them)",
    )
    _skip_invalid_option(p)
    _language_option(p)
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("predict", help="find the target paragraph(s) of new documents")
    _inputs_argument(p)
    p.add_argument(
        "--model",
        help="model file (default: $UNCLF_MODEL, else the example "
        "model models/default.unclf of the source checkout)",
    )
    _output_option(p)
    p.add_argument(
        "--top-k",
        type=_non_negative,
        default=0,
        help="show the K best paragraphs, marked or not (default 0: every paragraph in JSON "
        "lines, the marked ones in text and CSV)",
    )
    p.add_argument(
        "--label",
        action="append",
        help="a label of the model to find; repeat it for several (default: all of them)",
    )
    p.add_argument(
        "--format",
        choices=("jsonl", "text", "csv"),
        default="jsonl",
        help="jsonl (default): a line per document and label; text: for reading; csv: a row per "
        "document, label and marked paragraph",
    )
    p.add_argument(
        "--by-paragraph",
        action="store_true",
        help="per document, each paragraph marked for some label with its labels",
    )
    p.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="dask: spread the documents over a Dask cluster (pip install 'unclf[dask]')",
    )
    p.add_argument(
        "--workers",
        type=_positive,
        metavar="N",
        help="with --engine dask: start a local cluster of N worker processes "
        "(default: one per CPU)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --engine dask: use the existing cluster at ADDRESS "
        "(e.g. tcp://host:8786); its workers need unclf installed",
    )
    _language_option(p)
    p.set_defaults(run=cmd_predict)

    p = sub.add_parser("evaluate", help="hit@1, MRR and recall@5 of a model on labelled data")
    _data_argument(p)
    p.add_argument("--model", required=True, help="model file")
    p.add_argument(
        "--label",
        action="append",
        help="a label to evaluate; repeat it for several (default: the model's only label)",
    )
    p.add_argument("--all-labels", action="store_true", help="evaluate every label of the model")
    _skip_invalid_option(p)
    _json_option(p)
    _language_option(p)
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("cv", help="cross-validate the model and the baselines on labelled data")
    _data_argument(p)
    _label_options(p)
    _folds_option(p)
    _mode_option(p)
    _seed_option(p)
    _skip_invalid_option(p)
    _json_option(p)
    p.add_argument("--report", metavar="FILE.html", help="write the error report here")
    p.set_defaults(run=cmd_cv)

    p = sub.add_parser("learning-curve", help="hit@1 against the number of training documents")
    _data_argument(p)
    _label_options(p, several=False)
    p.add_argument("--sizes", type=_sizes, required=True, help="training sizes, e.g. 5,10,20,50")
    _folds_option(p)
    p.add_argument("--repeats", type=_positive, default=1, help="fold splits to repeat (default 1)")
    _mode_option(p)
    _seed_option(p)
    _skip_invalid_option(p)
    p.add_argument("--plot", metavar="FILE.png", help="write the plot here (PNG)")
    _json_option(p)
    p.set_defaults(run=cmd_learning_curve)

    p = sub.add_parser("review", help="label, review and correct suggestions in the browser")
    _inputs_argument(p, metavar="COLLECTION")
    p.add_argument("--model", help="model whose suggestions to review (default: none yet)")
    p.add_argument("--labels", default="labels.jsonl", help="answers file (default: labels.jsonl)")
    p.add_argument("--label", help="the label to answer (default: the model's, else 'target')")
    p.add_argument("--model-out", help="where a retrained model goes (default: beside --labels)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=_positive, default=8765, help="port (default: 8765)")
    p.add_argument(
        "--order",
        choices=ORDERS,
        default=DEFAULT_ORDER,
        help=(
            f"order of the documents to review (default: {DEFAULT_ORDER}; how each order "
            "fared: benchmarks/README.md)"
        ),
    )
    p.set_defaults(run=cmd_review)
    return parser


def _sizes(value: str) -> list[int]:
    try:
        sizes = sorted({int(v) for v in value.split(",") if v.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {value!r}"
        ) from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"sizes must be 1 or more: {value!r}")
    return sizes
