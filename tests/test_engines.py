"""``unclf predict --engine dask``: the local engine's output, in order, from a Dask cluster."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import unclf.cli.common
from unclf.cli import main

LABEL = "regional cooperation"

pytest.importorskip("distributed")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def corpus(tmp_path: Path) -> list[str]:
    """Inputs of every kind, with unreadable ones between readable ones."""
    texts = [json.loads(line)["text"] for line in (REPO / "data" / "examples.jsonl").open()]
    jsonl = tmp_path / "docs.jsonl"
    lines = [json.dumps({"id": f"doc-{i}", "text": t}) for i, t in enumerate(texts)]
    lines.insert(5, '{"id": "broken", "text": ')
    lines.insert(9, json.dumps({"id": "no-paragraphs", "text": "12\n\n"}))
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [str(REPO / "data" / "unlabelled"), str(tmp_path / "missing.txt"), str(jsonl)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_dask_matches_local_in_order(
    corpus: list[str],
    trained_model: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Many batches in flight, finishing in any order.
    monkeypatch.setattr(unclf.cli.common, "BATCH", 3)
    model = str(trained_model[0])
    local = run(capsys, "predict", *corpus, "--model", model)
    dask = run(capsys, "predict", *corpus, "--model", model, "--engine", "dask", "--workers", "2")
    assert dask == local
    code, out, err = local
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert len(records) == 3 + 1 + 24 + 2
    assert [r["id"] for r in records[4:8]] == ["doc-0", "doc-1", "doc-2", "doc-3"]
    assert "missing.txt" in records[3]["id"] and "error" in records[3]
    assert "malformed JSON" in records[9]["error"]
    assert records[13] == {"id": "no-paragraphs", "label": LABEL, "paragraphs": []}
    assert len(err.splitlines()) == 2


def test_dask_engine_not_installed(
    corpus: list[str],
    trained_model: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    monkeypatch.delitem(sys.modules, "unclf.engines", raising=False)
    code, out, err = run(
        capsys, "predict", *corpus, "--model", str(trained_model[0]), "--engine", "dask"
    )
    assert (code, out) == (2, "")
    assert err == "unclf: error: --engine dask needs Dask distributed: pip install 'unclf[dask]'\n"


@pytest.mark.parametrize(
    "options",
    [
        ["--workers", "2"],
        ["--scheduler", "tcp://127.0.0.1:1"],
        ["--engine", "dask", "--workers", "2", "--scheduler", "tcp://x:1"],
    ],
)
def test_cluster_options_need_the_dask_engine_and_one_cluster(
    options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "predict", str(REPO / "data" / "unlabelled"), *options)
    assert (code, out) == (2, "")
    assert err.startswith("unclf: error: --workers") and err.count("\n") == 1
