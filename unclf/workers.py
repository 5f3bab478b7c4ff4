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

__all__ = [
    "PARENT_CHECK_SECONDS",
    "WORKERS_PAY_FROM_CHARACTERS",
    "ending_with_this_process",
    "processes_worth_starting",
]

# How often a worker looks for its parent: a thread waking once a second costs nothing.
PARENT_CHECK_SECONDS = 1.0
# Starting worker processes costs about 4 s on two cores (each imports spaCy and
# scikit-learn). Training one label on UPR reports in this process against two workers: 2.2 s
# against 6.9 s for 0.7 million characters, 6.5 against 7.7 s for 3.4 million, 10.6 against
# 8.9 s for 5.1 million (benchmarks/experiments.md).
WORKERS_PAY_FROM_CHARACTERS = 4_000_000


def processes_worth_starting(n_jobs: int | None, characters: int) -> int | None:
    """``n_jobs`` for work on ``characters`` of text (times the labels trained on it); but
    "all cores" (a negative ``n_jobs``) stays in this process where starting workers would
    cost more than they save. A number of processes asked for is kept."""
    if n_jobs is not None and n_jobs < 0 and characters < WORKERS_PAY_FROM_CHARACTERS:
        return 1
    return n_jobs


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
