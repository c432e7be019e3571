"""Every exercise graded by the real `nbgrader autograde`, with its catalog of wrong answers as one cohort:
the solution gets full marks, the untouched student version gets zero without crashing the grader, the
points match the program, and every catalogued wrong answer loses points on the question it targets."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from conftest import ROOT

from automatiza import catalog
from automatiza.paths import Project

ASSIGNMENTS = [m.tarefa.nome for m in Project.at(ROOT).curriculum().written if m.tarefa]


@pytest.fixture(scope="session")
def graded(catalogs: dict[str, catalog.AssignmentResult]) -> dict[str, catalog.AssignmentResult]:
    """The catalogs graded by nbgrader (`conftest.catalogs`, shared with `test_correcao_juiz`)."""
    return catalogs


@pytest.mark.lento
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_catalog_of_wrong_answers(graded, assignment):
    result = graded[assignment]
    assert result.ok, catalog.describe(result)
    assert len(result.entries) >= catalog.MIN_ENTRIES_PER_QUESTION


def _catalog_project(tmp_path, *entries: str) -> tuple[Project, str]:
    """A throw-away course with exercise 00 and a catalog made of `entries` (YAML items)."""
    for folder in ("curriculum", "exercises/00-primeira-entrega"):
        shutil.copytree(
            ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("respostas-erradas.yml")
        )
    name = "00-primeira-entrega"
    (tmp_path / "exercises" / name / catalog.CATALOG_FILE).write_text("respostas:\n" + "".join(entries))
    return Project.at(tmp_path, tmp_path / "build"), name


def _entry(question: str, code: str) -> str:
    body = "".join(f"      {line}\n" for line in code.splitlines())
    return f"  - questao: {question}\n    erro: teste\n    codigo: |\n{body}"


def test_catalog_needs_three_entries_per_autograded_question(tmp_path):
    project, name = _catalog_project(tmp_path, _entry("q1", "minha_unidade = ''"))
    problems = catalog.check(project, name)
    nb = nbformat.read(project.assignment_notebooks(name)[0], as_version=4)
    for tests in catalog.autograded_tests(nb):
        assert any(f"'{tests}' tem" in p for p in problems), problems


def test_catalog_rejects_unknown_cells(tmp_path):
    project, name = _catalog_project(tmp_path, _entry("q99", "x = 1"))
    assert any("não tem a célula 'q99-resposta'" in p for p in catalog.check(project, name))


@pytest.mark.lento
def test_wrong_answer_that_keeps_full_marks_fails_the_catalog(tmp_path):
    """The runner itself can fail: an 'error' that is the solution keeps full marks and is reported."""
    source = nbformat.read(next((ROOT / "exercises" / "00-primeira-entrega").glob("*.ipynb")), as_version=4)
    cells = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if "nbgrader" in c.metadata}
    questions = [tests.removesuffix("-testes") for tests in catalog.autograded_tests(source)]
    entries = [_entry(questions[0], cells[f"{questions[0]}-resposta"])]  # the solution itself
    entries += [_entry(q, "raise ValueError('errada')") for q in questions for _ in range(3)]
    project, name = _catalog_project(tmp_path, *entries)
    result = catalog.grade(project, name, tmp_path / "curso")
    assert not result.problems, result.problems
    kept = [r for r in result.entries if not r.caught]
    assert [r.entry.number for r in kept] == [1]
    assert not result.ok and "PASSA COM NOTA MÁXIMA" in catalog.describe(result)
