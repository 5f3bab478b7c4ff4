"""Prediction on a Dask distributed cluster, for corpora that outgrow one machine.

The corpus streams through the cluster in batches: at most ``in_flight`` batches are out at
once and their results come back in input order, so memory stays bounded however long the
corpus is, and the output is the local engine's, line for line.

The model travels as its file's bytes and every worker loads it with the safe loader
(:func:`unclf.persistence.load_model_bytes`, the same allow-list as ``load_model``): workers
need no access to the file, and nobody unpickles a model.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from types import TracebackType

from distributed import Client, LocalCluster

from unclf.model.document_labels import LabelModel, predict_labels
from unclf.persistence import load_model_bytes

__all__ = ["DaskEngine"]

# The selectors by label each worker process has loaded, by the SHA-256 of the file's bytes.
_loaded: dict[str, dict[str, LabelModel]] = {}
_loading = threading.Lock()


def _worker_model(data: bytes, digest: str) -> dict[str, LabelModel]:
    with _loading:
        if digest not in _loaded:
            _loaded.clear()
            _loaded[digest] = load_model_bytes(data)[0]
        return _loaded[digest]


def _rank_batch(data: bytes, digest: str, texts: list[str], labels: list[str] | None) -> list[dict]:
    models = _worker_model(data, digest)
    return list(predict_labels(models if labels is None else {k: models[k] for k in labels}, texts))


class DaskEngine:
    """Rank batches of texts on a Dask cluster: a local one of ``workers`` processes, or the
    one whose scheduler is at ``scheduler``; ``labels`` the model's labels to rank for (None:
    all). Use as a context manager."""

    def __init__(
        self,
        model_bytes: bytes,
        labels: list[str] | None = None,
        workers: int | None = None,
        scheduler: str | None = None,
        in_flight: int | None = None,
    ) -> None:
        self.model_bytes = model_bytes
        self.labels = labels
        self.workers = workers
        self.scheduler = scheduler
        self.in_flight = in_flight

    def __enter__(self) -> DaskEngine:
        self._cluster = self._client = None
        try:
            if self.scheduler is None:
                self._cluster = LocalCluster(
                    n_workers=self.workers or os.cpu_count() or 1,
                    threads_per_worker=1,  # tokenizing and featurizing hold the GIL
                    processes=True,
                    dashboard_address="127.0.0.1:0",  # any free port: 8787 may be taken
                    silence_logs=logging.ERROR,
                )
            address = self._cluster if self._cluster is not None else self.scheduler
            self._client = Client(address, timeout="10s")
            self._digest = hashlib.sha256(self.model_bytes).hexdigest()
            self._model = self._client.scatter(self.model_bytes, broadcast=True, hash=False)
            threads = sum(self._client.nthreads().values())
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self._in_flight = self.in_flight or max(2, 2 * threads)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def rank_batches(self, batches: Iterable[list[str]]) -> Iterator[list[dict]]:
        """Each batch's answers for each label (as
        :func:`unclf.model.document_labels.predict_labels` gives them), in the order the batches
        came."""
        pending: deque = deque()
        for texts in batches:
            pending.append(
                self._client.submit(
                    _rank_batch, self._model, self._digest, texts, self.labels, pure=False
                )
            )
            if len(pending) >= self._in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
