"""Paragraph numbers: the marker that opens a piece ("12.", "(a)", "III.", "•") and whether one
number continues the numbering of another."""

from __future__ import annotations

import re

# Marker group -> marker kind; numbers and sections are kept as written, lettered items in
# brackets ("a)" -> "(a)"), bullets have none.
_MARKER_KINDS = {
    "num": "num",
    "dash": "num",
    "section": "section",
    "paren": "list",
    "half": "list",
    "dashitem": "list",
    "quoteditem": "list",
    "bullet": "bullet",
}


def parse_marker(
    text: str, pos: int, end: int, marker: re.Pattern
) -> tuple[str | None, str | None, int]:
    """Number, marker kind ("num", "list", "section", "bullet") and marker end of a piece."""
    m = marker.match(text, pos, end)
    if m is None:
        return None, None, pos
    group = m.lastgroup  # each alternative of the pattern has one group
    kind = _MARKER_KINDS[group]
    if kind == "bullet":
        return None, kind, m.end()
    found = m.group(group)
    return (f"({found})" if kind == "list" and group != "quoteditem" else found), kind, m.end()


def continues(number: str, previous: str | None) -> bool:
    """Whether ``number`` is the next item after ``previous`` in one numbered list: the next at
    its level (11.8 -> 11.9, up to 3 on), at a level above (11.8 -> 12, 12.1), or the first
    below it (12 -> 12.1). Stricter than ``follows``, for numbers inside a line."""
    if previous is None:
        return False
    parts, before = number.split("."), previous.split(".")
    if not all(p.isdigit() for p in parts + before):
        return False
    n, b = [int(p) for p in parts], [int(p) for p in before]
    if n[: len(b)] == b:
        return len(n) > len(b) and all(x == 1 for x in n[len(b) :])
    for level in range(min(len(n), len(b))):
        if n[:level] != b[:level]:
            break
        gap = n[level] - b[level]
        if 0 < gap <= (3 if level == len(b) - 1 else 1):
            return all(x == 1 for x in n[level + 1 :])
    return False


def follows(number: str, previous: str | None, max_gap: int = 3) -> bool:
    """Whether ``number`` plausibly continues the numbering after ``previous``."""
    if previous is None or number == "1":
        return True
    head, _, last = number.rpartition(".")
    prev_head, _, prev_last = previous.rpartition(".")
    if head != prev_head or not last.isdigit() or not prev_last.isdigit():
        return head != "" and head.isdigit() and last in {"1", "01"}
    return 0 < int(last) - int(prev_last) <= max_gap


LEADING_NUMBER = re.compile(r"(\d{1,3}(?:\.\d{1,3})+)\.?\s")


def leading_number(clean: str) -> str | None:
    """A multi-level number opening the text ("155.124 Intensify"), marker or not."""
    match = LEADING_NUMBER.match(clean)
    return match.group(1) if match else None


def in_sequence(previous: str | None, number: str | None, following: str | None) -> bool:
    """Whether three multi-level numbers count up by one under the same head."""
    return counts_on(previous, number) and counts_on(number, following)


def counts_on(number: str | None, following: str | None) -> bool:
    """Whether ``following`` is the multi-level number after ``number`` ("136.9", "136.10")."""
    if not (number and following):
        return False
    head, _, last = number.rpartition(".")
    following_head, _, following_last = following.rpartition(".")
    return bool(head) and head == following_head and int(following_last) - int(last) == 1
