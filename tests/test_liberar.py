"""Student versions: nbgrader generates them and the leak check compares them with the real source text."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from automatiza import release
from automatiza.paths import Project


def _exercise(path, solution_body: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}

    def cell(source, kind="code", **meta):
        new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        c = new(source)
        c.metadata["nbgrader"] = {
            "schema_version": 3,
            "task": False,
            "grade": False,
            "solution": False,
            "locked": False,
            **meta,
        }
        return c

    nb.cells = [
        cell("# Tarefa\nCalcule o total.", kind="markdown", locked=True, grade_id="intro"),
        cell(
            "def total(valores):\n    ### BEGIN SOLUTION\n" + solution_body + "\n    ### END SOLUTION",
            solution=True,
            grade_id="q1-resposta",
        ),
        cell(
            "assert total([1, 2]) == 3\n### BEGIN HIDDEN TESTS\nassert total([]) == 0, 'lista vazia'\n"
            "### END HIDDEN TESTS",
            grade=True,
            locked=True,
            points=2,
            grade_id="q1-testes",
        ),
        cell(
            "Explique.\n=== BEGIN MARK SCHEME ===\nDê 1 ponto se citar o setor.\n=== END MARK SCHEME ===",
            kind="markdown",
            grade=True,
            solution=True,
            points=1,
            grade_id="q2-reflexao",
        ),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture
def course(tmp_path) -> Project:
    project = Project(root=tmp_path / "curso", build=tmp_path / "build")
    _exercise(
        project.exercises / "t1" / "t1.ipynb", "    soma_parcial = sum(valores)\n    return soma_parcial"
    )
    return project


def test_secret_lines_keep_what_is_also_public():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1\n### BEGIN SOLUTION\nx = 1\ny = segredo()\n### END SOLUTION")
    ]
    assert release.secret_lines(nb) == {"y = segredo()": "solução"}


def test_generated_student_version_has_no_leak(course):
    (student,) = release.generate(course, "t1")
    text = student.read_text(encoding="utf-8")
    assert "ESCREVA SEU CÓDIGO AQUI" in text and "soma_parcial" not in text
    assert release.find_leaks(course.exercises / "t1" / "t1.ipynb", student) == []


def test_planted_leaks_are_caught(course):
    (student,) = release.generate(course, "t1")
    nb = nbformat.read(student, as_version=4)
    nb.cells[1].source += "\n    soma_parcial = sum(valores)"  # a solution line pasted back
    nb.cells[3].source += "\nDê 1 ponto se citar o setor."  # the rubric
    nb.cells[2].source += "\nassert total([]) == 0, 'lista vazia'"  # a hidden test, without markers
    nbformat.write(nb, student)
    leaks = release.find_leaks(course.exercises / "t1" / "t1.ipynb", student)
    assert [(leak.cell, leak.kind) for leak in leaks] == [
        (1, "solução"),
        (2, "teste oculto"),
        (3, "gabarito"),
    ]
    assert "soma_parcial = sum(valores)" in leaks[0].describe()


def test_solution_cell_without_markers_is_all_secret(tmp_path):
    source = tmp_path / "s.ipynb"
    nb = nbformat.v4.new_notebook()
    c = nbformat.v4.new_code_cell("resposta = calcula_prazo(10)")
    c.metadata["nbgrader"] = {
        "solution": True,
        "grade": False,
        "locked": False,
        "grade_id": "r",
        "schema_version": 3,
    }
    nb.cells = [c]
    nbformat.write(nb, source)
    leaked = tmp_path / "l.ipynb"
    nb.cells[0].source = "resposta = calcula_prazo(10)"
    nbformat.write(nb, leaked)
    assert [leak.line for leak in release.find_leaks(source, leaked)] == ["resposta = calcula_prazo(10)"]


@pytest.mark.lento
def test_real_course_releases_without_leaks(project, tmp_path):
    build = Project(root=project.root, build=tmp_path)
    assert release.release_all(build)
    for module in project.curriculum().written:
        released = build.released / module.tarefa.nome
        assert sorted(p.name for p in released.glob("*.ipynb")) == sorted(
            p.name for p in project.assignment_notebooks(module.tarefa.nome)
        )
    # the learner repository for nbgitpuller: every lesson and student version, nothing secret
    learner = build.build / "repositorio-aprendiz"
    for module in project.curriculum().written:
        for lesson in module.licoes:
            assert (learner / lesson).is_file()
        for notebook in project.assignment_notebooks(module.tarefa.nome):
            copy = learner / "exercicios" / module.tarefa.nome / notebook.name
            assert not release.find_leaks(notebook, copy), copy
            assert copy.read_bytes() == (build.released / module.tarefa.nome / notebook.name).read_bytes()
    assert not list(learner.rglob(release.CATALOG)), "o catálogo de respostas erradas fica com quem ensina"
    assert (learner / "notebooks" / "12-notebook-robo" / "relatorio_municipio.ipynb").is_file()
    shutil.rmtree(tmp_path)
