"""A Word (.docx) file's text, read with python-docx: one block per paragraph, in the order of
the body (paragraphs and tables), a table cell's paragraphs in reading order."""

from __future__ import annotations

import zipfile
from pathlib import Path

from unclf.formats import UnreadableFileError, join_blocks

__all__ = ["read_docx"]


def read_docx(path: Path) -> str:
    """The paragraphs of the document's body, blank-line separated. Headers, footers and
    comments are not body text and are left out."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    from lxml.etree import XMLSyntaxError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, XMLSyntaxError, KeyError, ValueError) as exc:
        if isinstance(exc, PackageNotFoundError) and not path.exists():
            raise FileNotFoundError(str(path)) from None
        raise UnreadableFileError(
            "damaged Word file, or not a .docx (a .doc? save it as .docx)"
        ) from None
    blocks: list[str] = []

    def add(items) -> None:
        for item in items:
            if isinstance(item, Paragraph):
                blocks.append(item.text)
            elif isinstance(item, Table):
                for row in item.rows:
                    for cell in row.cells:
                        add(cell.iter_inner_content())

    add(document.iter_inner_content())
    text = join_blocks([b.replace("\r", "\n") for b in blocks])
    if not text.strip():
        raise UnreadableFileError("no text in the Word file")
    return text
