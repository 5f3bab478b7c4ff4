"""Text that is not UTF-8: read as Windows-1252 (Latin-1 for the bytes it lacks), or with its
damaged bytes replaced, with a warning naming the file."""

from __future__ import annotations

import codecs
import io
import re
import warnings
from pathlib import Path
from typing import BinaryIO

# Bytes that are not UTF-8 are most likely from Windows (Windows-1252: "é" is one byte, E9);
# the few bytes that Windows-1252 leaves undefined (81, 8D, 8F, 90, 9D) are Latin-1's.
_LEGACY_NAMES = {"cp1252": "Windows-1252", "latin-1": "Latin-1"}
_NON_ASCII_LETTER = re.compile("[^\x00-\x7f\ufffd]")


def _legacy_encoding(data: bytes) -> str | None:
    """The legacy encoding of bytes that are not UTF-8, or None where they are UTF-8 with a
    few damaged bytes (some of their accented letters are well-formed UTF-8): read as
    Windows-1252, those letters would turn into two characters each."""
    if _NON_ASCII_LETTER.search(data.decode("utf-8", errors="replace")):
        return None
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


class Decoder:
    """UTF-8; text that is not is read as the likeliest legacy encoding, damaged UTF-8 with its
    bad bytes replaced by U+FFFD; either way with one warning per file, never rejected. One
    character per byte in a legacy encoding, so that offsets into the text stay valid."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.warned = False

    def __call__(self, data: bytes, where: str = "") -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = _legacy_encoding(data)
            self.warn(where, encoding)
            return data.decode(encoding or "utf-8", errors="replace")

    def warn(self, where: str = "", encoding: str | None = None) -> None:
        if self.warned:
            return
        self.warned = True
        if encoding is None:
            message = "bytes that are not valid UTF-8 were replaced with U+FFFD"
        else:
            message = (
                f"not UTF-8: read as {_LEGACY_NAMES[encoding]}, the likeliest encoding; check "
                "its accented letters"
            )
        warnings.warn(f"{self.source}{where}: {message}", UnicodeWarning, stacklevel=2)


def csv_encoding(path: Path) -> str | None:
    """A CSV file's legacy encoding (see :func:`_legacy_encoding`), None for UTF-8 (damaged
    or not), from the first part that is not UTF-8: pandas decodes the file itself."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen_utf8 = False
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            try:
                seen_utf8 = seen_utf8 or not decoder.decode(chunk).isascii()
            except UnicodeDecodeError:
                return None if seen_utf8 else _legacy_encoding(chunk)
    return None


class Utf8Check(io.RawIOBase):
    """Passes bytes through, noting whether they are valid UTF-8 (pandas decodes them itself)."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.invalid = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = self._raw.readinto(buffer)
        if not self.invalid:
            try:
                self._decoder.decode(bytes(memoryview(buffer)[:n]), final=n == 0)
            except UnicodeDecodeError:
                self.invalid = True
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()
