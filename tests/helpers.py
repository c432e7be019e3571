"""Small builders shared by the tests."""

from __future__ import annotations

from pathlib import Path

import nbformat


def make_notebook(path: Path, *cells: str) -> Path:
    """A python3 notebook whose code cells are `cells`."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
