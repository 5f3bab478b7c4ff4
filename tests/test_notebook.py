"""The walkthrough notebook runs from top to bottom on a small setting, so that it cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"
SHARED = ROOT.parent / "shared"


def test_a_kernel_imports_unclf_without_a_warning() -> None:
    # tqdm.auto warned (TqdmWarning: IProgress not found) in every notebook without
    # ipywidgets; progress bars are for terminals only, so unclf uses tqdm's plain bars.
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import warnings\nwarnings.simplefilter('always')\n"
                "import unclf, unclf.cli, unclf.evaluation, unclf.model"
            )
        ]
    )
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    [cell] = notebook.cells
    assert not [o.get("text", o) for o in cell.outputs]


def test_the_dev_install_can_open_the_notebook() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert KernelSpecManager().get_kernel_spec(notebook.metadata.kernelspec.name)
    # `jupyter notebook notebooks/walkthrough.ipynb`, as the dev install provides it
    version = subprocess.run(
        [sys.executable, "-m", "notebook", "--version"], capture_output=True, text=True
    )
    assert version.returncode == 0, version.stderr


def test_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code
    assert all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.skipif(
    not (SHARED / "data" / "upr-dev.jsonl.gz").exists() or not (SHARED / "seeds").is_dir(),
    reason="needs the benchmark data and seeds in ../shared",
)
def test_walkthrough_executes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The kernel inherits the environment: the small setting the first cell reads, and a
    # temporary folder of the test's own for the plot and the report.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("UNCLF_SHARED", str(SHARED))
    monkeypatch.setenv("UNCLF_NB_DOCUMENTS", "12")
    monkeypatch.setenv("UNCLF_NB_FOLDS", "2")
    monkeypatch.setenv("UNCLF_NB_SIZES", "3,6")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    text = "".join(o.get("text", "") for o in outputs)
    assert "unclf hit@1" in text and "missed documents" in text
    assert "TqdmWarning" not in text and "IProgress" not in text
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the learning curve
    assert list(tmp_path.glob("unclf-walkthrough-*/errors.html"))
