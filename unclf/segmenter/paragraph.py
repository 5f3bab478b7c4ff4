"""What the segmenter gives: a paragraph as a reader sees it, with offsets into the original."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "Paragraph"]

KINDS = ("paragraph", "heading", "list_item")


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph as a reader sees it; ``start``/``end`` index the original text."""

    index: int
    start: int
    end: int
    text: str
    number: str | None
    kind: str
    section: str | None

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "number": self.number,
            "kind": self.kind,
            "section": self.section,
        }
