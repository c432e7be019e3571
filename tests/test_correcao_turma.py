"""`automatiza turma criar`, the roster, and the cohort commands from the command line (with the real
exercise of module 00, graded end to end)."""

from __future__ import annotations

import csv
import shutil
import stat

import nbformat
import pytest
from conftest import ROOT
from nbgrader.api import Gradebook

from automatiza import cli
from automatiza.correcao import amostras, turma

EXERCISE = "00-primeira-entrega"


def test_roster_accepts_semicolons_latin1_and_accents(tmp_path):
    path = tmp_path / "alunos.csv"
    path.write_bytes(
        "Matrícula;Nome completo;E-mail;Órgão\nm1;Ana Lúcia;ana@pbh.gov.br;PBH\n\nm2;Zé;;\n".encode("latin-1")
    )
    students = turma.read_roster(path)
    assert students == [turma.Student("m1", "Ana Lúcia", "ana@pbh.gov.br", "PBH"), turma.Student("m2", "Zé")]
    assert students[0].first_last == ("Ana", "Lúcia")


def test_roster_problems_are_listed_in_portuguese(tmp_path):
    path = tmp_path / "alunos.csv"
    path.write_text("id,nome,email\nx y,A,b\nz,,c@d.br\nz,E,e@f.br\n")
    with pytest.raises(turma.CohortError) as info:
        turma.read_roster(path)
    message = str(info.value)
    assert "linha 2: id 'x y' inválido" in message and "e-mail 'b' inválido" in message
    assert "linha 3: falta o nome" in message and "linha 4: o id 'z' repete o da linha 3" in message
    path.write_text("nome,email\nA,a@b.br\n")
    with pytest.raises(turma.CohortError, match="faltam as colunas id"):
        turma.read_roster(path)


def test_cohort_must_stay_outside_the_repository(tmp_path, capsys):
    roster = tmp_path / "alunos.csv"
    roster.write_text("id,nome\na,Ana\n")
    code = cli.main(
        ["--raiz", str(ROOT), "turma", "criar", str(ROOT / "build" / "turma"), "--alunos", str(roster)]
    )
    assert code == cli.USAGE
    assert "não pode ficar dentro do repositório" in capsys.readouterr().err
    assert not (ROOT / "build" / "turma").exists()


def test_commands_need_a_course_folder(tmp_path, capsys):
    assert cli.main(["--raiz", str(ROOT), "corrigir", EXERCISE, "--turma", str(tmp_path)]) == cli.SETUP
    assert "não parece uma pasta de curso do nbgrader" in capsys.readouterr().err
    assert cli.main(["--raiz", str(ROOT), "notas", "--turma", str(tmp_path / "nada")]) == cli.SETUP


@pytest.mark.lento
def test_create_grade_and_export_with_the_real_exercise(tmp_path, capsys):
    if not (ROOT / "exercises" / EXERCISE / f"{EXERCISE}.ipynb").exists():
        pytest.skip(f"o exercício {EXERCISE} ainda não existe no repositório")
    repo = tmp_path / "repo"
    (repo / "curriculum").mkdir(parents=True)
    shutil.copy(ROOT / "curriculum" / "programa.yml", repo / "curriculum" / "programa.yml")
    shutil.copytree(ROOT / "exercises" / EXERCISE, repo / "exercises" / EXERCISE)
    roster = tmp_path / "alunos.csv"
    roster.write_text(
        "id,nome,email,instituicao\nana,Ana Souza,ana@pbh.gov.br,PBH Obras\nbeto,Beto Lima,,PBH\n"
    )
    folder = tmp_path / "turma"

    assert cli.main(["--raiz", str(repo), "turma", "criar", str(folder), "--alunos", str(roster)]) == cli.OK
    out = capsys.readouterr().out
    assert "2 aluno(s) importado(s)" in out and EXERCISE in out
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (folder / "source").resolve() == (repo / "exercises").resolve()
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    released = folder / "release" / EXERCISE / f"{EXERCISE}.ipynb"
    assert released.exists()
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}", "automatiza-mg") as gb:
        ana = gb.find_student("ana")
        assert (ana.first_name, ana.last_name, ana.email) == ("Ana", "Souza", "ana@pbh.gov.br")
        assert gb.find_assignment(EXERCISE).max_score == 3

    source = nbformat.read(repo / "exercises" / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    release = nbformat.read(released, as_version=4)
    for student, kind in (("ana", "certa"), ("beto", "intocada")):
        target = folder / "submitted" / student / EXERCISE
        target.mkdir(parents=True)
        nbformat.write(
            amostras.submission(source, release, kind, __import__("random").Random(1)),
            target / f"{EXERCISE}.ipynb",
        )
    assert (
        cli.main(["--raiz", str(repo), "corrigir", EXERCISE, "--turma", str(folder), "--jobs", "2"]) == cli.OK
    )
    summary = capsys.readouterr().out
    assert "ana" in summary and "3/3" in summary and "isolamento:" in summary

    assert cli.main(["--raiz", str(repo), "devolutiva", EXERCISE, "--turma", str(folder)]) == cli.OK
    assert (folder / "feedback" / "ana" / EXERCISE / f"{EXERCISE}.html").exists()
    output = tmp_path / "notas.csv"
    assert cli.main(["--raiz", str(repo), "notas", "--turma", str(folder), "--saida", str(output)]) == cli.OK
    rows = list(csv.DictReader(output.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert {(r["aluno"], r["instituicao"], r["nota"]) for r in rows} == {
        ("ana", "PBH Obras", "3"),
        ("beto", "PBH", "0"),
    }
    assert (
        cli.main(["--raiz", str(repo), "notas", "--turma", str(folder), "--tarefa", "nao-existe"])
        == cli.USAGE
    )
