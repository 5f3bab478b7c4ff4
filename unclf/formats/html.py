"""An HTML page's text, read with the standard library's ``html.parser``: it is lenient with the
broken markup of saved web pages, needs no dependency, and is all a page of paragraphs needs.

Block elements (``p``, ``li``, ``h1``-``h6``, ``div``, table cells...) become blank-line separated
blocks; ``br`` a line break; white space inside a block is folded as a browser shows it (kept in
``pre``); scripts, styles and the page head are not text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from unclf.formats import UnreadableFileError, join_blocks

__all__ = ["read_html"]

_BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "body", "caption", "dd", "div", "dl", "dt"}
    | {"figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header"}
    | {"hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul"}
)
_HIDDEN = frozenset({"head", "script", "style", "template", "noscript", "svg", "title"})
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []
        self.hidden = 0
        self.pre = 0

    def _close_block(self) -> None:
        text = "".join(self.current)
        lines = [line if self.pre else " ".join(line.split()) for line in text.split("\n")]
        self.blocks.append("\n".join(line for line in lines if line.strip()))
        self.current = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.current.append("\n")
        elif tag in _BLOCKS:
            self._close_block()
            self.pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in _BLOCKS:
            self._close_block()
            self.pre = max(self.pre - (tag == "pre"), 0)

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.current.append(data if self.pre else data.replace("\n", " "))


def read_html(path: Path) -> str:
    """The page's text as blank-line separated blocks. The bytes are read as the page's
    ``<meta charset>`` says, else UTF-8 (bad bytes replaced)."""
    data = path.read_bytes()
    declared = _CHARSET.search(data[:4096])
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        markup = data.decode(encoding, errors="replace")
    except LookupError:
        markup = data.decode("utf-8", errors="replace")
    parser = _Text()
    parser.feed(markup.removeprefix("\ufeff"))
    parser.close()
    parser._close_block()
    text = join_blocks(parser.blocks)
    if not text.strip():
        raise UnreadableFileError("no text in the web page")
    return text
