"""Model files: round trip, metadata, refusing pickles and untrusted types, damage, writes."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import pickle
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import joblib
import pytest
import sklearn
import skops.io as sio
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

import unclf
import unclf.persistence
from unclf.documents import read_labelled
from unclf.files import atomic_open
from unclf.model import TargetSelector
from unclf.persistence import (
    FORMAT_VERSION,
    ModelFileError,
    data_fingerprint,
    load_model,
    save_model,
)

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "data" / "examples.jsonl"
UNLABELLED = REPO / "data" / "unlabelled"
LABEL = "regional cooperation"


@pytest.fixture(scope="module")
def model_file(trained_model: tuple[Path, str]) -> Path:
    return trained_model[0]


@pytest.fixture(scope="module")
def loaded(model_file: Path) -> tuple[dict[str, TargetSelector], dict]:
    return load_model(model_file)


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def parts(path: Path) -> tuple[dict, bytes]:
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("metadata.json")), z.read("model.skops")


def write_model_zip(path: Path, metadata: object, payload: bytes) -> Path:
    """A model file put together the way save_model does it."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", json.dumps(metadata))
        z.writestr("model.skops", payload)
    return path


def refusal(path: Path) -> str:
    """Why load_model refuses ``path``, with the path itself cut out of the message."""
    with pytest.raises(ModelFileError) as error:
        load_model(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    return message.removeprefix(f"{path}: ")


def rankings(models: dict[str, TargetSelector]) -> list[list[tuple[int, float, bool]]]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(UNLABELLED.glob("*.txt"))]
    return [
        [(s.paragraph.index, s.score, s.is_target) for s in ranked.paragraphs]
        for ranked in models[LABEL].rank(texts)
    ]


# --- round trip and metadata ------------------------------------------------------------------


def test_round_trip_gives_the_same_rankings(loaded, tmp_path: Path) -> None:
    model, metadata = loaded
    again = tmp_path / "again.unclf"
    saved = save_model(model, again, training_data=metadata["training_data"])
    reloaded, reloaded_metadata = load_model(again)
    assert reloaded is not model and list(reloaded) == [LABEL]
    before, after = rankings(model), rankings(reloaded)
    assert after == before
    assert all(doc and doc[0][2] for doc in before)  # one target per document, ranked first
    assert reloaded_metadata == saved
    assert reloaded[LABEL].get_params()["mode"] == model[LABEL].mode == "single"


def test_the_plain_vocabulary_is_stored_as_one_string(loaded, tmp_path: Path) -> None:
    model, _ = loaded
    vocabulary = model[LABEL].paragraph_tfidf_.vocabulary_
    saved = tmp_path / "again.unclf"
    save_model(model, saved)
    with zipfile.ZipFile(io.BytesIO(parts(saved)[1])) as inner:
        schema = inner.read("schema.json").decode()
    # A dict is written with a JSON entry (its "__class__" and more) per term.
    assert len(vocabulary) > 1000 > schema.count('"__class__"')
    assert load_model(saved)[0][LABEL].paragraph_tfidf_.vocabulary_ == vocabulary


def test_metadata(loaded, model_file: Path) -> None:
    _, metadata = loaded
    assert metadata["format"] == "unclf-model"
    assert metadata["format_version"] == FORMAT_VERSION
    assert metadata["unclf_version"] == unclf.__version__
    assert metadata["scikit_learn_version"] == sklearn.__version__
    for key in ("skops_version", "spacy_version", "created"):
        assert metadata[key]
    assert list(metadata["labels"]) == [LABEL]
    assert metadata["n_documents"] == 24
    assert metadata["labels"][LABEL]["n_documents_without_target"] == 2
    assert metadata["labels"][LABEL]["ranking"] in ("plain", "stacked")
    assert metadata["training_data"] == str(EXAMPLES)
    docs, _ = read_labelled(EXAMPLES, label=LABEL)
    expected = data_fingerprint(
        (d.id, d.text, [(t.start, t.end, LABEL) for t in d.targets]) for d in docs
    )
    assert metadata["data_fingerprint"] == expected
    assert parts(model_file)[0] == metadata


def test_data_fingerprint() -> None:
    records = [("a", "Some text.", [(0, 4)]), ("b", "Other text.", [])]
    reference = data_fingerprint(records)
    assert len(reference) == 64 and int(reference, 16) >= 0
    assert data_fingerprint(reversed(records)) == reference
    assert data_fingerprint([("a", "Some text.", [(0, 5)]), records[1]]) != reference
    assert data_fingerprint([("a", "Some text!", [(0, 4)]), records[1]]) != reference
    assert data_fingerprint([("c", "Some text.", [(0, 4)]), records[1]]) != reference
    assert data_fingerprint(records[:1]) != reference


def test_save_model_refuses_an_unfitted_model(tmp_path: Path) -> None:
    with pytest.raises(NotFittedError):
        save_model({LABEL: TargetSelector()}, tmp_path / "m.unclf")
    with pytest.raises(ValueError, match="no model"):
        save_model({}, tmp_path / "m.unclf")
    assert list(tmp_path.iterdir()) == []


# --- pickles are never opened -----------------------------------------------------------------


class TouchOnUnpickle:
    """Unpickling this runs ``Path.touch(marker)``: a stand-in for arbitrary code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _dump(how: str, obj: object, path: Path) -> None:
    if how == "pickle":
        path.write_bytes(pickle.dumps(obj))
    elif how == "joblib":
        joblib.dump(obj, path)
    else:
        joblib.dump(obj, path, compress=3)


@pytest.mark.parametrize("how", ["pickle", "joblib", "joblib-compressed"])
def test_the_pickle_payloads_are_live(how: str, tmp_path: Path) -> None:
    """Guard for the next test: loading these files the usual way would run the code."""
    marker = tmp_path / "ran"
    _dump(how, TouchOnUnpickle(marker), tmp_path / "payload")
    if how == "pickle":
        pickle.loads((tmp_path / "payload").read_bytes())
    else:
        joblib.load(tmp_path / "payload")
    assert marker.exists()


@pytest.mark.parametrize("name", ["model.unclf", "x.skops", "x.pkl"])
@pytest.mark.parametrize("how", ["pickle", "joblib", "joblib-compressed"])
def test_pickle_and_joblib_files_are_refused_unopened(how: str, name: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / name
    _dump(how, TouchOnUnpickle(marker), path)
    assert "pickle/joblib file, which unclf never loads" in refusal(path)
    assert not marker.exists()


# --- skops files with types nobody vouched for ------------------------------------------------


class TouchOnRestore:
    """skops restores plain objects through ``__setstate__``: restoring this runs code."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __setstate__(self, state: dict) -> None:
        Path(state["marker"]).touch()
        self.__dict__.update(state)


UNTRUSTED_NAME = f"{TouchOnRestore.__module__}.{TouchOnRestore.__qualname__}"


@pytest.mark.parametrize("where", ["inside the model", "the whole payload", "a function"])
def test_untrusted_types_are_refused(where: str, loaded, model_file: Path, tmp_path: Path) -> None:
    model = loaded[0][LABEL]
    metadata, _ = parts(model_file)
    marker = tmp_path / "ran"
    if where == "a function":
        evil = TargetSelector(**model.get_params())
        evil.__dict__.update({k: v for k, v in model.__dict__.items() if k.endswith("_")})
        evil.hook_ = os.system
        payload, untrusted = sio.dumps({LABEL: evil}), os.system.__module__ + ".system"
    else:
        if where == "inside the model":
            evil = TargetSelector(**model.get_params())
            evil.__dict__.update({k: v for k, v in model.__dict__.items() if k.endswith("_")})
            evil.extra_ = TouchOnRestore(marker)
        else:
            evil = TouchOnRestore(marker)
        payload, untrusted = sio.dumps({LABEL: evil}), UNTRUSTED_NAME
        # Guard: trusting everything in it would run the code.
        sio.loads(payload, trusted=sio.get_untrusted_types(data=payload))
        assert marker.exists()
        marker.unlink()
    path = write_model_zip(tmp_path / "evil.unclf", metadata, payload)
    message = refusal(path)
    assert message.startswith("refusing to load untrusted types: ")
    assert untrusted in message
    assert not marker.exists()


def test_trusted_object_that_is_not_a_model(model_file: Path, tmp_path: Path) -> None:
    metadata, _ = parts(model_file)
    path = write_model_zip(tmp_path / "other.unclf", metadata, sio.dumps(LogisticRegression()))
    assert refusal(path) == "holds a LogisticRegression, not selectors by label"


# --- damaged files ----------------------------------------------------------------------------


def test_truncated_file_is_refused(model_file: Path, tmp_path: Path) -> None:
    data = model_file.read_bytes()
    for size in (0, 10, len(data) // 2, len(data) - 10):
        path = tmp_path / f"cut-{size}.unclf"
        path.write_bytes(data[:size])
        assert "not an unclf model file" in refusal(path)


def test_flipped_bytes_are_refused_cleanly(model_file: Path, tmp_path: Path) -> None:
    data = model_file.read_bytes()
    path = tmp_path / "flipped.unclf"
    refused = 0
    positions = sorted({*range(0, len(data), len(data) // 40), len(data) - 30})
    for position in positions:
        damaged = bytearray(data)
        damaged[position : position + 16] = bytes(
            b ^ 0x5A for b in damaged[position : position + 16]
        )
        path.write_bytes(bytes(damaged))
        try:
            model, _ = load_model(path)
        except ModelFileError as e:
            refused += 1
            assert "\n" not in str(e)
            assert str(e).startswith(f"{path}: ")
        else:  # bytes the zip format does not check (timestamps, say) may be harmless
            assert isinstance(model[LABEL], TargetSelector)
    assert refused >= len(positions) - 3


def test_missing_member_or_bad_metadata(model_file: Path, tmp_path: Path) -> None:
    metadata, payload = parts(model_file)
    only_metadata = tmp_path / "a.unclf"
    with zipfile.ZipFile(only_metadata, "w") as z:
        z.writestr("metadata.json", json.dumps(metadata))
    cases = {
        only_metadata: "damaged",
        write_model_zip(tmp_path / "b.unclf", ["not", "a", "dict"], payload): "not an unclf",
        write_model_zip(tmp_path / "c.unclf", {**metadata, "format": "x"}, payload): "not an unclf",
    }
    for path, message in cases.items():
        assert message in refusal(path)


# --- versions ---------------------------------------------------------------------------------


def _other_minor(version: str) -> str:
    major, minor = version.split(".")[:2]
    return f"{major}.{int(minor) + 1}.0"


@pytest.mark.parametrize(
    "change",
    [
        {"format_version": FORMAT_VERSION + 1},
        {"scikit_learn_version": _other_minor(sklearn.__version__)},
        {"scikit_learn_version": "0.24.2"},
    ],
)
def test_incompatible_model_says_retrain(change: dict, model_file: Path, tmp_path: Path) -> None:
    metadata, payload = parts(model_file)
    path = write_model_zip(tmp_path / "old.unclf", {**metadata, **change}, payload)
    message = refusal(path)
    assert "retrain it with `unclf train`" in message
    assert str(next(iter(change.values()))) in message


def test_other_scikit_learn_patch_release_is_accepted(model_file: Path, tmp_path: Path) -> None:
    metadata, payload = parts(model_file)
    major_minor = ".".join(sklearn.__version__.split(".")[:2])
    path = write_model_zip(
        tmp_path / "patch.unclf", {**metadata, "scikit_learn_version": f"{major_minor}.99"}, payload
    )
    model, _ = load_model(path)
    assert isinstance(model[LABEL], TargetSelector)


# --- atomic writes and permissions --------------------------------------------------------


def atomic_write(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as out:
        out.write(data)


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_new_files_follow_the_umask(mask: int, loaded, tmp_path: Path) -> None:
    model, _ = loaded
    with umask(mask):
        atomic_write(tmp_path / "plain.bin", b"data")
        save_model(model, tmp_path / "m.unclf")
    expected = 0o666 & ~mask
    assert stat.S_IMODE((tmp_path / "plain.bin").stat().st_mode) == expected
    assert stat.S_IMODE((tmp_path / "m.unclf").stat().st_mode) == expected
    assert (tmp_path / "plain.bin").read_bytes() == b"data"


def test_replacing_a_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    path.chmod(0o640)
    with umask(0o022):
        atomic_write(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.parametrize("failing", ["fsync", "replace"])
@pytest.mark.parametrize("existing", [False, True])
def test_failed_write_leaves_nothing_behind(
    failing: str, existing: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.unclf"
    if existing:
        path.write_bytes(b"previous model")

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError, match="No space"):
        atomic_write(path, b"x" * 100_000)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == (["m.unclf"] if existing else [])
    if existing:
        assert path.read_bytes() == b"previous model"


def test_oversized_member_is_refused(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with zipfile.ZipFile(model_file) as z:  # the metadata fits, the model does not
        limit = z.getinfo("metadata.json").file_size
    monkeypatch.setattr(unclf.persistence, "_MAX_MEMBER_BYTES", limit)
    message = refusal(model_file)
    assert message.startswith(f"model.skops unpacks to more than {limit} bytes")


def stale_copy(models: dict[str, TargetSelector]) -> dict[str, TargetSelector]:
    """The model as an older unclf might leave it: a featurizer whose fitted state is unknown."""
    stale = copy.deepcopy(models)
    for model in stale.values():
        for name in [k for k in vars(model.featurizer_) if k.endswith("_")]:
            delattr(model.featurizer_, name)
    return stale


def test_a_file_that_holds_one_bare_selector_is_refused(
    loaded, model_file: Path, tmp_path: Path
) -> None:
    models, _ = loaded
    metadata, _ = parts(model_file)
    path = write_model_zip(tmp_path / "bare.unclf", metadata, sio.dumps(models[LABEL]))
    assert refusal(path) == "holds a TargetSelector, not selectors by label"


def test_model_that_cannot_rank_says_retrain(loaded, model_file: Path, tmp_path: Path) -> None:
    model, _ = loaded
    metadata, _ = parts(model_file)
    path = write_model_zip(tmp_path / "stale.unclf", metadata, sio.dumps(stale_copy(model)))
    message = refusal(path)
    assert message.startswith(f"this model does not work with unclf {unclf.__version__}")
    assert message.endswith("retrain it with `unclf train`")
