"""unclf: find the target paragraph of UN documents."""

from importlib.metadata import PackageNotFoundError, version

from unclf.model import TargetSelector
from unclf.segmenter import Paragraph, find_paragraphs, segment, segment_many

try:
    __version__ = version("unclf")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "Paragraph",
    "TargetSelector",
    "__version__",
    "find_paragraphs",
    "segment",
    "segment_many",
]
