"""Shared fixtures: one model trained on the invented examples, for the whole test session."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from unclf.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "data" / "examples.jsonl"


@pytest.fixture(scope="session")
def benchmark_script() -> Callable[[str], ModuleType]:
    """Imports a script of ``benchmarks/`` by name. The scripts import their siblings, so the
    folder is on the path while one loads."""

    def load(name: str) -> ModuleType:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        try:
            spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
        finally:
            sys.path.remove(str(ROOT / "benchmarks"))

    return load


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``unclf train`` on the examples, once: the model file and what the command printed."""
    path = tmp_path_factory.mktemp("trained-examples") / "model.unclf"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["train", str(EXAMPLES), "--model-out", str(path)])
    assert code == 0, err.getvalue()
    return path, out.getvalue()
