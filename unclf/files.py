"""Output files that appear complete or not at all.

A model, a report, a plot or the JSONL of a long prediction run is written to a temporary file
in the same folder and renamed over the target when the writing ends without an error, so an
interrupted run never leaves half a file where a good one was.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_open"]


# The suffix of the hidden files that ``atomic_open`` writes before they take their names.
TEMPORARY_SUFFIX = ".tmp"


@contextmanager
def atomic_open(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """A handle (``"w"``: UTF-8 text, ``"wb"``: bytes) whose content replaces ``path`` when the
    block ends; on an error the file is as it was.

    The file gets the permissions an ordinary new file would (or keeps those of the file it
    replaces), not the 0600 of the temporary file. A device or pipe (``/dev/null``) is written
    to as it is: renaming over it would replace it with a file.
    """
    path = Path(path)
    encoding = None if "b" in mode else "utf-8"
    if path.exists() and not path.is_file() and not path.is_dir():
        with open(path, mode, encoding=encoding) as handle:
            yield handle
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent)
    try:
        with open(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _file_mode(path: Path) -> int:
    """The mode a replaced file keeps, or what a new file gets under the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)  # the only portable way to read it; set straight back
        os.umask(umask)
        return 0o666 & ~umask
