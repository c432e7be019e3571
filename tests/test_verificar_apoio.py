"""`verificar` and the notebooks a lesson runs (module 12's robot) or writes under build/."""

from __future__ import annotations

import shutil

import nbformat

from automatiza import cli

ROBOT = "notebooks/12-notebook-robo/relatorio_municipio.ipynb"


def _copy_course(project, tmp_path):
    root = tmp_path / "curso"
    for folder in ("curriculum", "notebooks", "exercises"):
        shutil.copytree(project.root / folder, root / folder, ignore=shutil.ignore_patterns("build"))
    return root


def test_robot_notebook_is_the_lessons_support_and_build_output_is_ignored(project, tmp_path, capsys):
    root = _copy_course(project, tmp_path)
    assert (root / ROBOT).is_file()
    executed = root / "notebooks" / "build" / "robo-12" / "execucoes" / "relatorio_perdoes.ipynb"
    executed.parent.mkdir(parents=True)
    nb = nbformat.read(root / ROBOT, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="Perdões: 10 convênios\n")]
    nb.cells[1].execution_count = 1
    nbformat.write(nb, executed)  # what a robot run leaves behind: outputs, under git-ignored build/
    assert cli.main(["--raiz", str(root), "verificar"]) == cli.OK, capsys.readouterr().out
    capsys.readouterr()

    nbformat.write(nb, root / ROBOT)  # the support notebook itself is committed, so it must be clean
    stray = root / "notebooks" / "rascunhos" / "teste.ipynb"
    stray.parent.mkdir()
    shutil.copy(executed, stray)
    assert cli.main(["--raiz", str(root), "verificar"]) == cli.FAILED
    out = capsys.readouterr().out
    assert "relatorio_municipio.ipynb: células com saídas" in out
    assert "rascunhos/teste.ipynb: notebook fora do programa" in out
    assert "build" not in out
