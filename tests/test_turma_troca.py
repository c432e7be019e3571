"""The cohort exchange end to end with the real nbgrader commands: `turma criar` makes the exchange, the
instructor releases, a learner (configured by `automatiza.jupyterlab`) fetches and submits, the instructor
collects, grades, writes feedback that `nbgrader release_feedback` accepts, and the learner fetches it.
A submitter missing from the roster is reported. Runs as any user (several users: test_hub_navegador)."""

from __future__ import annotations

import getpass
import os
import random
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from automatiza import cli, jupyterlab
from automatiza.grading import cohort, samples

EXERCISE = "00-primeira-entrega"
NBGRADER = [sys.executable, "-m", "nbgrader"]


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "curriculum").mkdir(parents=True)
    shutil.copy(ROOT / "curriculum" / "programa.yml", repo / "curriculum" / "programa.yml")
    shutil.copytree(ROOT / "exercises" / EXERCISE, repo / "exercises" / EXERCISE)
    return repo


def _nbgrader(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(NBGRADER + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_exchange_is_created_beside_the_cohort_with_sticky_bit(tmp_path, capsys):
    roster = tmp_path / "alunos.csv"
    roster.write_text("id,nome\nana,Ana\n")
    repo = tmp_path / "repo"
    (repo / "curriculum").mkdir(parents=True)
    shutil.copy(ROOT / "curriculum" / "programa.yml", repo / "curriculum" / "programa.yml")
    (repo / "exercises").mkdir()
    folder = tmp_path / "turmas" / "2026-1"
    assert cli.main(["--raiz", str(repo), "turma", "criar", str(folder), "--alunos", str(roster)]) == cli.OK
    exchange = tmp_path / "turmas" / "2026-1-troca"
    assert stat.S_IMODE(exchange.stat().st_mode) == 0o1777
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert cohort.exchange_of(folder) == exchange
    assert str(exchange) in capsys.readouterr().out


def test_exchange_inside_the_cohort_is_refused(tmp_path, capsys):
    roster = tmp_path / "alunos.csv"
    roster.write_text("id,nome\nana,Ana\n")
    repo = _repo(tmp_path)
    folder = tmp_path / "turma"
    args = ["--raiz", str(repo), "turma", "criar", str(folder), "--alunos", str(roster)]
    assert cli.main([*args, "--troca", str(folder / "troca")]) == cli.USAGE
    assert "não pode ficar dentro da turma" in capsys.readouterr().err
    assert not folder.exists()


def test_unreachable_exchange_is_reported(tmp_path):
    closed = tmp_path / "fechada"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)
    warnings = cohort.make_exchange(closed / "troca", tmp_path / "turma")
    assert warnings and "não consegue chegar" in warnings[0] and str(closed) in warnings[0]


@pytest.mark.lento
def test_release_fetch_submit_collect_grade_and_feedback(tmp_path, capsys):
    repo = _repo(tmp_path)
    roster = tmp_path / "alunos.csv"
    me = getpass.getuser()
    # the roster is keyed by another id (as a MASP would be): the real login is missing from it
    roster.write_text("id,nome,email\nmasp123,Ana Souza,ana@pbh.gov.br\n")
    folder = tmp_path / "turma"
    assert cli.main(["--raiz", str(repo), "turma", "criar", str(folder), "--alunos", str(roster)]) == cli.OK
    exchange = cohort.exchange_of(folder)
    env = dict(os.environ, JUPYTER_DATA_DIR=str(tmp_path / "dados-jupyter"))
    env.pop("JUPYTER_CONFIG_PATH", None)

    released = _nbgrader(["release_assignment", EXERCISE], folder, env)
    assert released.returncode == 0, released.stderr

    workspace = tmp_path / "estudo"
    jupyterlab.prepare(__import__("automatiza.paths").paths.Project.at(repo), workspace, exchange)
    learner = jupyterlab.environment(workspace / jupyterlab.CONFIG, env)
    listed = _nbgrader(["list"], workspace, learner)
    assert EXERCISE in listed.stdout + listed.stderr
    fetched = _nbgrader(["fetch_assignment", EXERCISE], workspace, learner)
    assert fetched.returncode == 0, fetched.stderr
    notebook = workspace / EXERCISE / f"{EXERCISE}.ipynb"
    source = nbformat.read(repo / "exercises" / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    answered = samples.submission(source, nbformat.read(notebook, as_version=4), "certa", random.Random(1))
    nbformat.write(answered, notebook)
    submitted = _nbgrader(["submit", EXERCISE], workspace, learner)
    assert submitted.returncode == 0, submitted.stderr

    # before collecting, the report already sees the submission in the exchange
    report = cohort.check(folder)
    assert me in report.unknown and report.missing[EXERCISE] == ["masp123"]

    collected = _nbgrader(["collect", EXERCISE], folder, env)
    assert collected.returncode == 0, collected.stderr
    assert (folder / "submitted" / me / EXERCISE / "submission_secret.txt").is_file()
    assert cli.main(["--raiz", str(repo), "corrigir", EXERCISE, "--turma", str(folder), "--jobs", "1"]) == 0
    capsys.readouterr()
    assert cli.main(["--raiz", str(repo), "devolutiva", EXERCISE, "--turma", str(folder)]) == cli.OK
    err = capsys.readouterr().err
    assert f"'{me}' entregou {EXERCISE} mas não está em alunos.csv" in err
    assert "masp123" in err
    feedback = folder / "feedback" / me / EXERCISE
    assert (feedback / "submission_secret.txt").read_text() == (
        folder / "submitted" / me / EXERCISE / "submission_secret.txt"
    ).read_text()

    released_fb = _nbgrader(["release_feedback", EXERCISE], folder, env)
    assert released_fb.returncode == 0, released_fb.stderr
    outbound = exchange / "automatiza-mg" / "feedback"
    assert stat.S_IMODE(outbound.stat().st_mode) & 0o007 == 0o001, "ninguém pode listar as devolutivas"
    got = _nbgrader(["fetch_feedback", EXERCISE], workspace, learner)
    assert got.returncode == 0, got.stderr
    pages = list((workspace / EXERCISE / "feedback").glob("*/*.html"))
    assert len(pages) == 1
    text = pages[0].read_text(encoding="utf-8")
    assert "Devolutiva da tarefa" in text and "<strong>3</strong> de 3 ponto(s)" in text

    assert cli.main(["--raiz", str(repo), "turma", "conferir", str(folder)]) == cli.FAILED
    out = capsys.readouterr().out
    assert f"'{me}' entregou" in out and "1 de 1 sem entrega: masp123" in out
