"""Shared fixtures: one model trained on the invented examples, for the whole test session."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from unclf.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "examples.jsonl"


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``unclf train`` on the examples, once: the model file and what the command printed."""
    path = tmp_path_factory.mktemp("trained-examples") / "model.unclf"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["train", str(EXAMPLES), "--model-out", str(path)])
    assert code == 0, err.getvalue()
    return path, out.getvalue()
