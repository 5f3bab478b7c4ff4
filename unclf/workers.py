"""Worker processes that end with the command that started them.

joblib's worker processes (loky) wait for work on a pipe from the process that started them.
When that process is killed outright (SIGKILL: the out-of-memory killer, ``kill -9``) nobody
tells them: after a ``train`` was killed, its two workers and their resource trackers were
still there 44 minutes later, each holding its memory. Each worker here watches its parent and
ends itself once the parent is gone; the trackers then see their pipes close and end too.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from joblib import parallel_config
from joblib.parallel import BACKENDS, get_active_backend

__all__ = ["PARENT_CHECK_SECONDS", "ending_with_this_process"]

# How often a worker looks for its parent: a thread waking once a second costs nothing.
PARENT_CHECK_SECONDS = 1.0


def _watch_parent(parent: int) -> None:
    """Run in each new worker (loky's initializer): end the worker once ``parent`` is gone
    (the worker is then adopted by another process, so its parent id changes)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="unclf-parent-watch", daemon=True).start()


@contextmanager
def ending_with_this_process() -> Iterator[None]:
    """joblib's ``Parallel`` calls inside start workers that end when this process ends, however
    it ends. A backend the caller chose (threads, Dask) is left as it is."""
    backend, _ = get_active_backend()
    if not isinstance(backend, BACKENDS["loky"]):
        yield
        return
    with parallel_config(backend="loky", initializer=_watch_parent, initargs=(os.getpid(),)):
        yield
