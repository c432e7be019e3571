"""Every exercise, graded by a real nbgrader autograde: the solution gets full marks, the untouched
student version gets zero, and the grader does not crash."""

from __future__ import annotations

import shutil

import pytest
from conftest import ROOT
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI

from automatiza.paths import Project, put_python_tools_on_path
from automatiza.release import nbgrader_config

pytestmark = pytest.mark.lento
ASSIGNMENTS = [m.tarefa.nome for m in Project.at(ROOT).curriculum().written if m.tarefa]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_full_marks_untouched_zero(project, tmp_path, assignment):
    put_python_tools_on_path()
    shutil.copytree(project.exercises / assignment, tmp_path / "source" / assignment)
    api = NbGraderAPI(config=nbgrader_config(tmp_path))
    result = api.generate_assignment(assignment)
    assert result["success"], result.get("error")

    submissions = {
        "gabarito": tmp_path / "source" / assignment,
        "intocado": tmp_path / "release" / assignment,
    }
    for student, folder in submissions.items():
        shutil.copytree(folder, tmp_path / "submitted" / student / assignment)
        result = api.autograde(assignment, student)
        assert result["success"], f"o corretor falhou para {student}: {result.get('error')}"

    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        solution = gb.find_submission(assignment, "gabarito")
        untouched = gb.find_submission(assignment, "intocado")
        assert solution.max_code_score > 0
        assert solution.code_score == solution.max_code_score, "a solução não tirou a nota máxima"
        assert untouched.score == 0, f"a versão de estudante sem mudanças tirou {untouched.score}"
        total = sum(
            m.tarefa.pontos for m in project.curriculum().written if m.tarefa and m.tarefa.nome == assignment
        )
        assert solution.max_score == total
