"""An HTML page's text, read with the standard library's ``html.parser``: it is lenient with the
broken markup of saved web pages, needs no dependency, and is all a page of paragraphs needs.

Block elements (``p``, ``li``, ``h1``-``h6``, ``div``, table cells...) become blank-line separated
blocks; ``br`` a line break; white space inside a block is folded as a browser shows it (kept in
``pre``); scripts, styles and the page head are not text.
"""

from __future__ import annotations

import codecs
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
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
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
    """The page's text as blank-line separated blocks (the bytes read as :func:`_encoding`
    says, bad bytes replaced)."""
    data = path.read_bytes()
    skip, encoding = _encoding(data)
    try:
        markup = data[skip:].decode(encoding, errors="replace")
    except UnicodeError:  # a codec that cannot replace ("idna"): read as UTF-8
        markup = data[skip:].decode("utf-8", errors="replace")
    parser = _Text()
    parser.feed(markup)
    parser.close()
    parser._close_block()
    text = join_blocks(parser.blocks)
    if not text.strip():
        raise UnreadableFileError("no text in the web page")
    return text


def _encoding(data: bytes) -> tuple[int, str]:
    """How many bytes of mark to skip and the encoding to read the rest in: by the byte-order
    mark (Word saves a "Unicode" web page as UTF-16 with one), else as UTF-16 where nearly
    every other byte of the start is a NUL (markup in UTF-16 without the mark: its tags and
    spaces are ASCII), else as the page's ``<meta charset>`` says where that names a text
    encoding (a UTF-16 one cannot be true of the bytes it was read from: browsers take it for
    UTF-8), else UTF-8."""
    for mark, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return len(mark), encoding
    head = data[:4096]
    utf16 = _utf16_without_mark(head)
    if utf16 is not None:
        return 0, utf16
    declared = _CHARSET.search(head)
    encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    try:
        text_encoding = codecs.lookup(encoding)._is_text_encoding  # not "base64", "rot13"
    except LookupError:
        text_encoding = False
    if not text_encoding or encoding.startswith("utf-16"):
        return 0, "utf-8"
    return 0, encoding


def _utf16_without_mark(head: bytes) -> str | None:
    """UTF-16's byte order when most of the odd (little-endian) or even (big-endian) bytes of
    ``head`` are NULs, as in markup written in UTF-16 without a byte-order mark."""
    if b"\0" not in head:
        return None
    for order, nuls in (("utf-16-le", head[1::2]), ("utf-16-be", head[::2])):
        if nuls.count(0) > 0.9 * len(nuls):
            return order
    return None
