"""Model files that are safe to share: loading one never runs code from it.

A model file is a zip holding ``metadata.json`` (format, versions, training summary) and
``model.skops``: a model per label (``{label: TargetSelector or DocumentLabeler}``; the
selectors of labels learnt together share one featurizer, stored once) in skops' format,
which rebuilds objects from a declarative schema. Before anything is rebuilt, every type named
in the file must be one skops trusts by default (scikit-learn, NumPy, SciPy) or on
:data:`TRUSTED_TYPES`; a pickle or joblib file is refused without being opened as one. A
file of another format version or scikit-learn minor version, or whose model cannot rank a
two-paragraph probe, is refused with a call to retrain.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import sklearn
import skops
import skops.io as sio
import spacy
from sklearn.utils.validation import check_is_fitted

import unclf
from unclf.files import atomic_open
from unclf.model import TargetSelector
from unclf.model.document_labels import DocumentLabeler, LabelModel, predict_labels

__all__ = [
    "FORMAT_VERSION",
    "TRUSTED_TYPES",
    "ModelFileError",
    "data_fingerprint",
    "default_model_path",
    "document_fingerprints",
    "load_model",
    "load_model_bytes",
    "read_model_file",
    "save_model",
]

FORMAT = "unclf-model"
FORMAT_VERSION = 17
# The project's own classes that a model file may contain; nothing else outside skops' defaults.
TRUSTED_TYPES = (
    "unclf.features.text.ParagraphFeaturizer",
    "unclf.features.text.PlainTfidf",
    "unclf.model.selector.TargetSelector",
    "unclf.model.document_labels.DocumentLabeler",
    "scipy.sparse._csr.csr_matrix",  # the training targets' word vectors: data, not code
)
_METADATA = "metadata.json"
_MODEL = "model.skops"
# A document every working model can rank.
_PROBE = "1. A short paragraph.\n\n2. Another short paragraph.\n"
# Largest member unpacked from a model file: a crafted one must not exhaust memory (zip bomb).
_MAX_MEMBER_BYTES = 2 * 1024**3


class ModelFileError(Exception):
    """A model file that cannot or must not be loaded."""


def data_fingerprint(records: Iterable[tuple[str, str, Iterable[tuple[int, int]]]]) -> str:
    """SHA-256 over (id, text, target spans) of the training documents, order-independent."""
    digests = sorted(
        hashlib.sha256(json.dumps([i, t, sorted(map(list, s))]).encode()).hexdigest()
        for i, t, s in records
    )
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def document_fingerprints(texts: Iterable[str]) -> list[str]:
    """Per document, the start of the SHA-256 of its text: enough to tell that an evaluation
    reads a model's training documents (64 bits: no two of millions of texts share one by
    chance), while a model file holds no word of them."""
    return [hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest()[:16] for t in texts]


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def _looks_pickled(data: bytes) -> bool:
    """A pickle (protocol 2+), or joblib's zlib, gzip, bz2, lzma or xz compressed pickle."""
    return (
        data[:1] == b"\x80"
        or (data[:1] == b"\x78" and data[1:2] in (b"\x01", b"\x5e", b"\x9c", b"\xda"))
        or data.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x5d\x00\x00"))
    )


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _label_summary(model: LabelModel) -> dict:
    if isinstance(model, DocumentLabeler):
        return {"of": "documents", "n_documents_with_label": model.n_documents_with_label_}
    return {
        "of": "paragraphs",
        "n_documents_without_target": model.n_documents_without_target_,
        "n_target_paragraphs": model.n_target_paragraphs_,
        "ranking": model.ranking_,
        "abstain_threshold": round(float(model.abstain_threshold_), 6),
    }


def save_model(models: Mapping[str, LabelModel], path: str | Path, **summary: object) -> dict:
    """Save fitted models, one per label (a paragraph label's selector, a document label's
    labeler), with their versions and training summary; returns the metadata."""
    if not models:
        raise ValueError("no model to save")
    for model in models.values():
        check_is_fitted(model)
    selectors = [m for m in models.values() if isinstance(m, TargetSelector)]
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "unclf_version": unclf.__version__,
        "scikit_learn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "spacy_version": spacy.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_documents": next(iter(models.values())).n_documents_,
        "mode": selectors[0].mode if selectors else None,
        "language": getattr(selectors[0], "language_", None) if selectors else None,
        "labels": {label: _label_summary(model) for label, model in models.items()},
        **summary,
    }
    with (
        atomic_open(path, "wb") as out,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z,
    ):
        z.writestr(_METADATA, json.dumps(metadata, indent=2))
        z.writestr(_MODEL, sio.dumps(_stored_once(models)))
    return metadata


# What the selectors of labels learnt together share; written with the first of them only.
_SHARED = ("featurizer_", "paragraph_tfidf_")


def _stored_once(models: Mapping[str, LabelModel]) -> dict[str, LabelModel]:
    """The models with the shared featurizer kept on the first selector only: skops held a
    copy of its state in memory for every selector referring to it (saving the 50 UPR labels
    of 30+ documents peaked at 15.6 GB, against 1.0 GB for one label), though it wrote it once."""
    first = next((m for m in models.values() if isinstance(m, TargetSelector)), None)
    stored = {}
    for label, model in models.items():
        if (
            isinstance(model, TargetSelector)
            and model is not first
            and model.featurizer_ is first.featurizer_
        ):
            model = copy.copy(model)
            for name in _SHARED:
                delattr(model, name)
        stored[label] = model
    return stored


def _share_again(models: dict[str, LabelModel]) -> None:
    """Give the selectors saved without the shared featurizer the first selector's."""
    selectors = [m for m in models.values() if isinstance(m, TargetSelector)]
    first = next((m for m in selectors if hasattr(m, "featurizer_")), None)
    for model in selectors:
        if first is not None and not hasattr(model, "featurizer_"):
            for name in _SHARED:
                setattr(model, name, getattr(first, name))


def load_model(path: str | Path) -> tuple[dict[str, LabelModel], dict]:
    """Load a model file, refusing anything that is not a compatible, trusted unclf model:
    its selector per label, and its metadata."""
    return load_model_bytes(read_model_file(path), str(path))


def read_model_file(path: str | Path) -> bytes:
    """A model file's content, read once: what is loaded here is what is sent to workers."""
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, not a model file")
    if path.exists() and not path.is_file():  # /dev/zero or a pipe would never end
        raise ModelFileError(f"{path}: not a regular file, not a model file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelFileError(f"{path}: cannot read model file: {e.strerror or e}") from None
    return data


def load_model_bytes(
    data: bytes, path: str = "<model bytes>"
) -> tuple[dict[str, LabelModel], dict]:
    """:func:`load_model` of a model file's content (e.g. shipped to a worker); ``path`` names
    it in errors."""
    if not data:
        raise ModelFileError(f"{path}: empty file, not an unclf model file")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        hint = (
            " (it looks like a pickle/joblib file, which unclf never loads)"
            if (_looks_pickled(data))
            else ""
        )
        raise ModelFileError(f"{path}: not an unclf model file{hint}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in (_METADATA, _MODEL):
                if z.getinfo(name).file_size > _MAX_MEMBER_BYTES:
                    raise ModelFileError(
                        f"{path}: {name} unpacks to more than "
                        f"{_MAX_MEMBER_BYTES} bytes; refusing it"
                    )
            metadata = json.loads(z.read(_METADATA))
            payload = z.read(_MODEL)
    except ModelFileError:
        raise
    # A damaged zip fails in many ways: BadZipFile (bad CRC), zlib.error, KeyError (a mangled
    # name), NotImplementedError (a mangled compression method), UnicodeDecodeError, ...
    except Exception as e:
        raise ModelFileError(
            f"{path}: damaged or not an unclf model file ({_one_line(e)})"
        ) from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not an unclf model file")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format {metadata.get('format_version')} was written by unclf "
            f"{metadata.get('unclf_version')}; this unclf reads format {FORMAT_VERSION}: "
            "retrain it with `unclf train`"
        )
    trained_with = str(metadata.get("scikit_learn_version", "?"))
    if _minor(trained_with) != _minor(sklearn.__version__):
        raise ModelFileError(
            f"{path}: trained with scikit-learn {trained_with}, this is {sklearn.__version__}; "
            "retrain it with `unclf train`"
        )
    try:
        untrusted = set(sio.get_untrusted_types(data=payload)) - set(TRUSTED_TYPES)
        if untrusted:
            raise ModelFileError(
                f"{path}: refusing to load untrusted types: {', '.join(sorted(untrusted))}"
            )
        model = sio.loads(payload, trusted=list(TRUSTED_TYPES))
    except ModelFileError:
        raise
    except Exception as e:  # a damaged payload can fail anywhere inside skops
        raise ModelFileError(f"{path}: damaged model file ({_one_line(e)})") from None
    if (
        not isinstance(model, dict)
        or not model
        or not all(
            isinstance(k, str) and isinstance(v, (TargetSelector, DocumentLabeler))
            for k, v in model.items()
        )
    ):
        raise ModelFileError(f"{path}: holds a {type(model).__name__}, not selectors by label")
    _share_again(model)
    # The format version only changes when someone remembers to bump it; a model whose fitted
    # state this code no longer understands must fail here, in one line, not mid-prediction.
    try:
        next(predict_labels(model, [_PROBE]))
    except Exception as e:
        raise ModelFileError(
            f"{path}: this model does not work with unclf {unclf.__version__} "
            f"({_one_line(e)}); retrain it with `unclf train`"
        ) from None
    return model, metadata


def default_model_path() -> Path:
    """``$UNCLF_MODEL``, else ``models/default.unclf`` of the source checkout."""
    env = os.environ.get("UNCLF_MODEL")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "models" / "default.unclf"
