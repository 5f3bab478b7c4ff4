"""Text from a Mac file read as Windows-1252, read again as Mac Roman."""

from __future__ import annotations

import re

__all__ = ["repair_mac_roman"]


def _mac_roman_table() -> dict[int, str]:
    """Each character that Windows-1252 (or Latin-1, where it has none) makes of a byte
    -> the character Mac Roman makes of it."""
    table = {}
    for byte in range(0x80, 0x100):
        try:
            read_as = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:
            read_as = chr(byte)
        table[ord(read_as)] = bytes([byte]).decode("mac_roman")
    return table


_MAC_ROMAN = _mac_roman_table()
# What only Mac Roman read as Windows-1252 writes: an apostrophe inside a word ("StateÕs",
# "dÕIvoire") or a closing quote after one ("planÓ."); "PIÑON" and "Òscar" are left alone.
_MAC_ROMAN_SIGNS = re.compile(r"[a-z]Õ[a-z]|[a-z]Ó(?![^\W\d_])")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def repair_mac_roman(text: str) -> str:
    """``text`` read again as Mac Roman where it shows the signs of a Mac file read as
    Windows-1252 (all 136 UPR dev reports: "AfghanistanÕs", "ÒNational planÓ", "¥" for a
    bullet); otherwise ``text`` itself. One character for one, so offsets stay valid."""
    if ("Õ" in text or "Ó" in text) and _MAC_ROMAN_SIGNS.search(text):
        # Only the runs of non-ASCII characters: 4x faster than translating the whole text.
        return _NON_ASCII.sub(lambda run: run.group().translate(_MAC_ROMAN), text)
    return text
