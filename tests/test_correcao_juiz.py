"""The trusted judge grades like nbgrader: every exercise's catalog cohort (the solution, the untouched
student version and every catalogued wrong answer), graded by `automatiza corrigir` (isolated, test cells
in the judge), gets the same points in every autograded cell as the real `nbgrader autograde` gave it.

nbgrader's run is the one `test_exercicios` already needs (`conftest.catalogs`, once per session); this test
adds only our grader's run over the same submissions: by default the solution, the untouched version and the
first wrong answer of each test cell (every test cell seen passing and failing, about a third of the catalog,
to keep CI short); with AUTOMATIZA_EQUIVALENCIA_COMPLETA=1, every submission of the catalog.
"""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import ROOT
from correcao_apoio import isolation_missing

from automatiza import catalog
from automatiza.paths import Project, put_python_tools_on_path
from automatiza.release import nbgrader_config

ASSIGNMENTS = [m.tarefa.nome for m in Project.at(ROOT).curriculum().written if m.tarefa]
FULL = os.environ.get("AUTOMATIZA_EQUIVALENCIA_COMPLETA") == "1"


def _chosen(expected: catalog.AssignmentResult) -> list[str]:
    """The submissions to grade (see the module docstring)."""
    if FULL:
        return list(expected.cells)
    first: dict[str, str] = {}
    for result in expected.entries:
        first.setdefault(result.entry.tests, result.entry.student)
    return [catalog.SOLUTION, catalog.UNTOUCHED, *first.values()]


def _course_like(result: catalog.AssignmentResult, target):
    """A fresh course with the cohort's submissions (nbgrader's gradebook and outputs left behind)."""
    from automatiza.grading.nbgrader_api import NbGraderAPI

    assert result.workdir is not None
    for part in ("source", "submitted"):
        shutil.copytree(result.workdir / part, target / part)
    config = nbgrader_config(target)
    config.Execute.timeout = 300  # as catalog.grade gives nbgrader
    (target / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(target)!r}\n"
        f"c.ClearSolutions.code_stub = {dict(config.ClearSolutions.code_stub)!r}\n"
        f"c.ClearSolutions.text_stub = {config.ClearSolutions.text_stub!r}\n"
        "c.Execute.timeout = 300\n"
    )
    put_python_tools_on_path()
    generated = NbGraderAPI(config=config).generate_assignment(result.assignment, force=True, create=True)
    assert generated["success"], generated.get("error") or generated.get("log")
    return target


@pytest.mark.lento
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_same_points_as_nbgrader(catalogs, assignment, tmp_path):
    from automatiza.grading import coursedir, grader
    from automatiza.grading.sandbox import isolation

    expected = catalogs[assignment]
    assert expected.cells, expected.problems
    root = _course_like(expected, tmp_path / "curso")
    chosen = _chosen(expected)
    try:
        report = grader.grade(coursedir.load(root), assignment, jobs=2, progress=False, students=chosen)
    except isolation.IsolationUnavailable as exc:
        isolation_missing(str(exc))
    ours = {
        r.student: {c["celula"]: c["pontos"] for c in r.cells if c["celula"] in expected.cells[r.student]}
        for r in report.results
    }
    assert set(ours) == set(chosen), sorted(set(chosen) ^ set(ours))
    different = {
        student: (points, ours.get(student))
        for student, points in expected.cells.items()
        if student in chosen and ours.get(student) != points
    }
    assert not different, f"pontos diferentes do nbgrader (nbgrader, corrigir): {different}"
    solution = expected.cells[catalog.SOLUTION]
    assert all(points for points in solution.values()), solution
    assert not any(expected.cells[catalog.UNTOUCHED].values())
