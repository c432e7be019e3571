"""Every committed notebook is stored clean and valid."""

from __future__ import annotations

import subprocess

import nbformat
import pytest
from conftest import ROOT

from automatiza.checks import notebook_problems


def _committed_notebooks() -> list[str]:
    out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_there_are_committed_notebooks():
    assert len(_committed_notebooks()) >= 4


@pytest.mark.parametrize("path", _committed_notebooks())
def test_notebook_is_clean(path):
    nb = nbformat.read(ROOT / path, as_version=4)
    nbformat.validate(nb)
    assert notebook_problems(ROOT / path, nb) == []


def test_detects_stored_outputs(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3"}
    cell = nbformat.v4.new_code_cell("1 + 1")
    cell.execution_count = 1
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    nb.cells = [cell]
    (problem,) = notebook_problems(tmp_path / "x.ipynb", nb)
    assert "saídas ou contadores guardados" in problem
