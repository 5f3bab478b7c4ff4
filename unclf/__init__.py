"""unclf: find the target paragraph of UN documents."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from unclf.model import TargetSelector
    from unclf.segmenter import Paragraph, find_paragraphs, segment, segment_many

try:
    __version__ = version("unclf")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

# Loaded on first use, so that a process that only segments (a worker parsing documents) does
# not import scikit-learn and SciPy: 1.3 s of the 2.6 s of `import unclf`.
_HOME = {
    "Paragraph": "unclf.segmenter",
    "TargetSelector": "unclf.model",
    "find_paragraphs": "unclf.segmenter",
    "segment": "unclf.segmenter",
    "segment_many": "unclf.segmenter",
}

__all__ = [
    "Paragraph",
    "TargetSelector",
    "__version__",
    "find_paragraphs",
    "segment",
    "segment_many",
]


def __getattr__(name: str) -> object:
    if name not in _HOME:
        raise AttributeError(f"module 'unclf' has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])
