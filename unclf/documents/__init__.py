"""Documents at the edge of the pipeline: reading them (``readers``: files, folders, stdin, JSON
lines, CSV, Parquet; ``encoding``: text that is not UTF-8; PDF, Word and HTML files through
:mod:`unclf.formats`), reading labelled data (``labelled``), and labelling: where a labelled
document's targets sit in its text and its paragraphs (``labelling``). ``records`` holds what
they give."""

from unclf.documents.labelled import describe_labels, read_labelled
from unclf.documents.labelling import align_targets
from unclf.documents.readers import read_documents
from unclf.documents.records import (
    Document,
    DocumentError,
    InvalidDataError,
    LabelledDocument,
    TargetSpan,
)

__all__ = [
    "Document",
    "DocumentError",
    "InvalidDataError",
    "LabelledDocument",
    "TargetSpan",
    "align_targets",
    "describe_labels",
    "read_documents",
    "read_labelled",
]
