"""``unclf review``: open the collection, the labels file and the model, then serve the app."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from unclf.documents import Document, DocumentError, read_documents
from unclf.model import TargetSelector
from unclf.review.ordering import DEFAULT_ORDER
from unclf.review.session import ReviewSession
from unclf.review.store import LabelsFileError, LabelStore

__all__ = ["ReviewSetupError", "open_session", "serve"]

DEFAULT_LABEL = "target"


class ReviewSetupError(Exception):
    """The review cannot start; the message says why, in one line."""


def open_session(
    collection: Sequence[str],
    labels: str,
    label: str | None = None,
    model_path: str | None = None,
    model_out: str | None = None,
    order: str = DEFAULT_ORDER,
) -> ReviewSession:
    """The collection's readable documents (the others named on stderr), the answers so far
    and the model. The label is ``label``, else the model's, else "target"."""
    from unclf.persistence import ModelFileError, load_model

    inputs = {os.path.realpath(c) for c in collection}
    for path, what in ((labels, "--labels"), (model_out, "--model-out")):
        if path is not None and os.path.realpath(path) in inputs:
            raise ReviewSetupError(f"{what} {path} is one of the documents to review")
    documents: dict[str, Document] = {}
    for item in read_documents(collection):
        if isinstance(item, DocumentError):
            print(f"unclf: warning: {item}; not shown for review", file=sys.stderr)
        else:  # an id given twice (the reader warns): the first is shown
            documents.setdefault(item.id, item)
    if not documents:
        raise ReviewSetupError(f"{', '.join(collection)}: no readable documents to review")
    model, trained_on = None, ()
    if model_path is not None:
        try:
            models, metadata = load_model(model_path)
        except ModelFileError as e:
            raise ReviewSetupError(str(e)) from None
        label, model = _label_model(models, label, model_path)
        trained_on = metadata.get("training_documents", ())
    label = label or DEFAULT_LABEL
    try:
        store = LabelStore(labels)
    except (LabelsFileError, OSError) as e:
        raise ReviewSetupError(f"{labels}: {getattr(e, 'strerror', None) or e}") from None
    return ReviewSession(
        list(documents.values()), store, label, model, model_out, order, trained_on
    )


def _label_model(models: dict, label: str | None, path: str) -> tuple[str, TargetSelector]:
    """The label to review and its selector: ``label`` (the model's only one without it). A
    model of one label may start the review of another, until it is retrained."""
    if label is None:
        if len(models) > 1:
            raise ReviewSetupError(
                f"{path}: the model has {len(models)} labels; choose one with --label "
                f"({', '.join(map(repr, models))})"
            )
        [label] = models
    if label not in models and len(models) == 1:
        [model] = models.values()
        models = {label: model}
    if label not in models:
        raise ReviewSetupError(
            f"{path}: has no label {label!r}; its labels: {', '.join(map(repr, models))}"
        )
    if not isinstance(models[label], TargetSelector):
        raise ReviewSetupError(
            f"{path}: {label!r} is a label of whole documents; review finds paragraphs"
        )
    return label, models[label]


def serve(session: ReviewSession, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve until Ctrl+C; the labels file is tidied (one line per document) on the way out.
    Raises ReviewSetupError when the address cannot be listened on (a port in use)."""
    import uvicorn

    from unclf.review.app import LOCAL_HOSTS, create_app

    try:  # said in one line here rather than in the server's log
        with socket.create_server((host, port)):
            pass
    except OSError as e:
        raise ReviewSetupError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    app = create_app(session, hosts=(*LOCAL_HOSTS, host))
    shown = f"[{host}]" if ":" in host else host
    print(
        f"unclf review: {len(session.documents)} documents, label {session.label!r}, answers in "
        f"{Path(session.store.path)}; open http://{shown}:{port}/ (Ctrl+C stops)",
        file=sys.stderr,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
