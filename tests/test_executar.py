"""The parallel executor: failures named with their cell, hangs stopped, no port races, reports written."""

from __future__ import annotations

import json
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from helpers import make_notebook

from automatiza import execute

pytestmark = pytest.mark.lento


def test_failure_is_reported_with_its_cell_and_papermill_banner(tmp_path):
    ok = make_notebook(tmp_path / "src" / "ok.ipynb", "x = 2", "print(x * 21)")
    bad = make_notebook(tmp_path / "src" / "falha.ipynb", "total = 10", "total + processo_inexistente", "1")
    results = execute.run_notebooks(
        [ok, bad], tmp_path / "src", tmp_path / "out", jobs=2, timeout=60, progress=False
    )
    assert [r.status for r in results] == [execute.OK, execute.ERROR]
    failed = results[1]
    assert failed.cell == 2 and failed.error.startswith("NameError")
    assert "falha.ipynb" in failed.describe() and "In [2]" in failed.describe()
    executed = nbformat.read(tmp_path / "out" / "falha.ipynb", as_version=4)
    assert "An Exception was encountered" in executed.cells[0].source  # papermill's banner, kept
    output = nbformat.read(tmp_path / "out" / "ok.ipynb", as_version=4)
    assert output.cells[1].outputs[0]["text"] == "42\n"


def test_hanging_notebook_is_stopped_at_the_timeout(tmp_path):
    hang = make_notebook(tmp_path / "trava.ipynb", "import time", "print('começou')", "time.sleep(600)")
    (result,) = execute.run_notebooks([hang], tmp_path, tmp_path / "out", jobs=1, timeout=8, progress=False)
    assert result.status == execute.TIMEOUT
    assert result.seconds < 40
    assert result.cell == 3
    executed = nbformat.read(tmp_path / "out" / "trava.ipynb", as_version=4)
    assert "Execução interrompida na célula In [3]" in executed.cells[0].source
    assert executed.cells[2].outputs[0]["text"] == "começou\n"  # work done before the hang is kept


def test_parallel_kernels_do_not_race_for_ports(tmp_path):
    """Stress run: many short notebooks, all in one folder, with more workers than cores."""
    notebooks = [
        make_notebook(tmp_path / f"n{i:02d}.ipynb", f"valor = {i}", "print(valor * 2)") for i in range(12)
    ]
    results = execute.run_notebooks(
        notebooks, tmp_path, tmp_path / "out", jobs=6, timeout=120, progress=False
    )
    assert [r.status for r in results] == [execute.OK] * 12
    for i in range(12):
        nb = nbformat.read(tmp_path / "out" / f"n{i:02d}.ipynb", as_version=4)
        assert nb.cells[1].outputs[0]["text"] == f"{i * 2}\n"


def test_reports(tmp_path):
    results = [
        execute.NotebookResult("notebooks/a.ipynb", execute.OK, 1.5, "/x/a.ipynb"),
        execute.NotebookResult(
            "exercises/t/b.ipynb", execute.ERROR, 2.0, "/x/b.ipynb", 4, "ValueError: ruim"
        ),
    ]
    execute.write_json(results, tmp_path / "r.json")
    execute.write_junit(results, tmp_path / "r.xml")
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["ok"] is False and data["notebooks"][1]["cell"] == 4
    suite = ET.parse(tmp_path / "r.xml").getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    failure = suite.find("testcase[@name='b.ipynb']/failure")
    assert "In [4]" in failure.get("message") and "ValueError: ruim" in failure.get("message")
    table = execute.format_table(results)
    assert "exercises/t/b.ipynb" in table and "2 notebooks, 1 sem erro" in table


def test_same_outputs_as_papermill(tmp_path):
    """A wide DataFrame (pandas decides its repr when imported: in the zygote it must see a kernel), a
    matplotlib figure (pyplot is imported by the kernel, never by the zygote) and a failing cell."""
    import papermill

    source = make_notebook(
        tmp_path / "src" / "saidas.ipynb",
        "import pandas as pd\nimport matplotlib.pyplot as plt",
        "pd.DataFrame({f'coluna_{i}': [i, i * 2] for i in range(30)})",
        "fig, ax = plt.subplots(figsize=(2, 2))\nax.plot([1, 3, 2])\nplt.show()",
        "import os, sys\nprint(os.getcwd().endswith('src'), '' in sys.path, pd.options.display.max_columns)",
        "1 / 0",
    )
    expected = tmp_path / "papermill.ipynb"
    with pytest.raises(papermill.PapermillExecutionError):
        papermill.execute_notebook(str(source), str(expected), cwd=str(source.parent), progress_bar=False)
    (result,) = execute.run_notebooks([source], tmp_path / "src", tmp_path / "out", jobs=1, progress=False)
    assert result.status == execute.ERROR and result.cell == 5

    def cells(path):
        nb = nbformat.read(path, as_version=4)
        return [(c.cell_type, c.source, c.get("execution_count"), c.get("outputs")) for c in nb.cells]

    ours = cells(tmp_path / "out" / "saidas.ipynb")
    assert ours == cells(expected)
    assert ours[4][3][0]["text"] == "True True 20\n"
    assert "image/png" in ours[3][3][0]["data"]


def test_ipc_kernels_start_where_the_runtime_folder_does_not_exist_yet(request, monkeypatch):
    """The catalogs' nbgrader and module 12's papermill use `IPCKernelManager`: on a fresh account the
    Jupyter runtime folder does not exist, and every kernel died binding its sockets there."""
    import asyncio

    short = Path(tempfile.mkdtemp(prefix="rt-", dir="/tmp"))  # a socket path stops at 107 bytes
    request.addfinalizer(lambda: shutil.rmtree(short, ignore_errors=True))
    runtime = short / "nova-conta" / "runtime"
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))

    async def run_one() -> str:
        manager = execute.IPCKernelManager()
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            reply = await client.execute_interactive("print(6 * 7)", timeout=60, output_hook=outputs.append)
            return reply["content"]["status"]
        finally:
            client.stop_channels()
            await manager.shutdown_kernel(now=True)

    outputs: list[dict] = []
    assert asyncio.run(run_one()) == "ok"
    assert any(m["content"].get("text") == "42\n" for m in outputs)
    assert runtime.is_dir() and (runtime.stat().st_mode & 0o777) == 0o700
