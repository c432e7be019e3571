"""Bookkeeping of `automatiza corrigir`: a submission's gradebook rows are one unit, one run per cohort at a
time, and a JSON report with every submission's points per cell, events and duration."""

from __future__ import annotations

import json

import pytest
from correcao_apoio import TAREFA, by_student, grade, make_course, solved, submit
from nbgrader.api import MissingEntry

from automatiza.grading import coursedir, grader

pytestmark = pytest.mark.lento


def test_a_submission_is_saved_whole_or_not_at_all(tmp_path, monkeypatch):
    """A failure after nbgrader created the submission row (as a kill would be) leaves no row behind: before,
    `update_or_create_submission` committed on its own and a half-saved submission stayed in the gradebook."""
    root = make_course(tmp_path / "curso")
    submit(root, "certa", solved(root))
    submit(root, "quebra", solved(root))
    original = grader.Grader._save_rows

    def crash_after_rows(self, student, executed, zero):
        outputs = original(self, student, executed, zero)
        if student == "quebra":
            raise RuntimeError("simula uma queda no meio da gravação")
        return outputs

    monkeypatch.setattr(grader.Grader, "_save_rows", crash_after_rows)
    results = by_student(grade(root, isolated=False))
    assert results["certa"].score == 7
    assert results["quebra"].status == grader.ERROR
    with coursedir.load(root).gradebook() as gb:
        gb.find_submission(TAREFA, "certa")
        with pytest.raises(MissingEntry):
            gb.find_submission(TAREFA, "quebra")
    assert not (root / "autograded" / "quebra").exists()


def test_two_runs_on_one_cohort_are_refused(tmp_path):
    root = make_course(tmp_path / "curso")
    submit(root, "certa", solved(root))
    course = coursedir.load(root)
    course.private.mkdir(mode=0o700, exist_ok=True)
    holder = grader.Grader(course, TAREFA, progress=False)._lock_cohort()
    try:
        with pytest.raises(grader.GradingBusy, match="outra correção já está rodando nesta turma"):
            grade(root, isolated=False)
        assert not (root / "autograded").exists()
    finally:
        import os

        os.close(holder)
    assert by_student(grade(root, isolated=False))["certa"].score == 7  # free again once released


def test_json_report_per_submission_and_cell(tmp_path):
    root = make_course(tmp_path / "curso")
    submit(root, "certa", solved(root))
    submit(root, "parcial", solved(root, q2_resposta="def dobro(x):\n    return x + 2"))
    report = grade(root, isolated=False)
    path = root / "relatorios" / f"correcao-{TAREFA}.json"
    assert report.json_path == path and str(path) in report.summary()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["tarefa"] == TAREFA
    assert data["isolamento"]["sem_isolamento"] is True and data["isolamento"]["completo"] is False
    entries = {e["aluno"]: e for e in data["entregas"]}
    assert entries["certa"]["nota"] == 7 and entries["parcial"]["nota"] == 4
    cells = {c["celula"]: c for c in entries["parcial"]["celulas"]}
    assert cells["q2-testes"]["situacao"] == "errada" and cells["q2-testes"]["maximo"] == 3
    assert cells["q1-testes"]["situacao"] == "certa" and cells["q1-testes"]["pontos"] == 2
    assert cells["q4-texto"]["situacao"] == "correcao_manual"
    assert entries["parcial"]["segundos"] > 0 and isinstance(entries["parcial"]["eventos"], list)


def test_a_long_tmpdir_still_grades(tmp_path, monkeypatch):
    """Kernel sockets live in the run's scratch folder; under a TMPDIR too long for a Unix socket address the
    folder goes to /tmp instead of every kernel failing with "File name too long"."""
    import tempfile

    root = make_course(tmp_path / "curso")
    submit(root, "certa", solved(root))
    long_tmp = tmp_path / ("uma-pasta-temporaria-com-um-nome-bem-comprido-" * 2)
    long_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long_tmp))
    assert by_student(grade(root, isolated=False))["certa"].score == 7
