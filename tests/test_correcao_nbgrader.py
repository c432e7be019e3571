"""`automatiza corrigir` gives nbgrader's results: the points per grade cell of a real `nbgrader autograde`
on the same submissions (edited and deleted test cells included), the same gradebook rows and autograded/
folder; resumable, idempotent, and a killed run loses nothing already saved. Also feedback and exports."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from correcao_apoio import (
    TAREFA,
    answer,
    by_student,
    copy_course,
    corrigir_command,
    grade,
    make_course,
    solved,
    student_version,
    submit,
)
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from traitlets.config import Config

from automatiza.grading import coursedir, export, feedback, samples
from automatiza.paths import put_python_tools_on_path

pytestmark = pytest.mark.lento


def _edited(root: Path) -> nbformat.NotebookNode:
    nb = student_version(root)
    for cell in nb.cells:  # the learner "fixes" a test so that it passes
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q2-testes":
            cell.source = "pass"
    return answer(nb, "q2-resposta", "def dobro(x):\n    return x")


def _deleted(root: Path) -> nbformat.NotebookNode:
    nb = solved(root)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "q3-testes"]
    return nb


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """The same six submissions graded by `nbgrader autograde` and by `automatiza corrigir`."""
    base = make_course(tmp_path_factory.mktemp("curso"))
    submit(base, "certa", solved(base))
    submit(base, "intocada", student_version(base))
    submit(base, "parcial", solved(base, q2_resposta="def dobro(x):\n    return x + 2"))
    submit(base, "quebra", solved(base, q1_resposta="numero = 1 / 0"))
    submit(base, "editou", _edited(base))
    submit(base, "apagou", _deleted(base))
    ours = copy_course(base, base.parent / "automatiza")
    theirs = copy_course(base, base.with_name(base.name + "-nbgrader"))
    put_python_tools_on_path()
    config = Config()
    config.CourseDirectory.root = str(theirs)
    config.CourseDirectory.course_id = "curso-teste"
    config.Execute.timeout = 5
    api = NbGraderAPI(config=config)
    result = api.autograde(TAREFA, "*")  # every student, like `nbgrader autograde TAREFA`
    assert result["success"], result.get("error")
    report = grade(ours)
    return ours, theirs, report


def test_same_points_as_nbgrader_autograde(compared):
    ours, theirs, report = compared
    assert report.ok, report.summary()
    a = samples.scores(f"sqlite:///{theirs / 'gradebook.db'}", "curso-teste", TAREFA)
    b = samples.scores(f"sqlite:///{ours / 'gradebook.db'}", "curso-teste", TAREFA)
    assert len(a) == 6
    assert samples.differences(a, b) == []
    assert a["certa"]["_total"] == 7 and a["intocada"]["_total"] == 0
    assert a["editou"]["q2-testes"] == 0, "a célula de teste editada deveria voltar à original e falhar"
    assert b["apagou"]["q3-testes"] is None or b["apagou"]["q3-testes"] == a["apagou"]["q3-testes"]


def test_same_gradebook_rows_and_autograded_folder(compared):
    ours, theirs, _ = compared
    with (
        Gradebook(f"sqlite:///{theirs / 'gradebook.db'}", "curso-teste") as ga,
        Gradebook(f"sqlite:///{ours / 'gradebook.db'}", "curso-teste") as gb,
    ):
        for student in ("certa", "intocada", "parcial", "quebra", "editou", "apagou"):
            sa, sb = ga.find_submission(TAREFA, student), gb.find_submission(TAREFA, student)
            assert sa.timestamp == sb.timestamp
            assert sa.needs_manual_grade == sb.needs_manual_grade
            assert sa.late_submission_penalty == sb.late_submission_penalty
            na, nb_ = sa.notebooks[0], sb.notebooks[0]
            assert {g.name: (g.auto_score, g.needs_manual_grade) for g in na.grades} == {
                g.name: (g.auto_score, g.needs_manual_grade) for g in nb_.grades
            }
            assert {c.name: c.auto_comment for c in na.comments} == {
                c.name: c.auto_comment for c in nb_.comments
            }
    for student in ("certa", "editou", "apagou"):
        files_a = sorted(p.name for p in (theirs / "autograded" / student / TAREFA).iterdir())
        files_b = sorted(p.name for p in (ours / "autograded" / student / TAREFA).iterdir())
        assert files_a == files_b == ["dados.txt", f"{TAREFA}.ipynb", "timestamp.txt"]
        nb_a = nbformat.read(theirs / "autograded" / student / TAREFA / f"{TAREFA}.ipynb", as_version=4)
        nb_b = nbformat.read(ours / "autograded" / student / TAREFA / f"{TAREFA}.ipynb", as_version=4)
        assert [c.source for c in nb_a.cells] == [c.source for c in nb_b.cells]
        assert [c.metadata.get("nbgrader", {}).get("checksum") for c in nb_a.cells] == [
            c.metadata.get("nbgrader", {}).get("checksum") for c in nb_b.cells
        ]
        assert [[o.output_type for o in c.get("outputs", [])] for c in nb_a.cells] == [
            [o.output_type for o in c.get("outputs", [])] for c in nb_b.cells
        ]
        assert (
            oct((ours / "autograded" / student / TAREFA / f"{TAREFA}.ipynb").stat().st_mode & 0o777)
            == "0o444"
        )


def test_summary_explains_edited_and_deleted_cells(compared):
    _, _, report = compared
    results = by_student(report)
    assert any("'q2-testes' foi alterada" in n for n in results["editou"].notes)
    assert any("'q3-testes' foi apagada" in n for n in results["apagou"].notes)
    assert results["certa"].notes == [] and results["certa"].status == "ok"
    assert "isolamento:" in report.summary()


def test_rerun_skips_graded_and_forcar_regrades(compared):
    ours, _, first = compared
    before = samples.scores(f"sqlite:///{ours / 'gradebook.db'}", "curso-teste", TAREFA)
    again = grade(ours)
    assert {r.status for r in again.results} == {"pulada"}
    assert again.kernels == 0, "uma nova execução sem mudanças não deveria iniciar kernels"
    forced = grade(ours, force=True, students=["certa", "parcial"])
    assert sorted(r.student for r in forced.graded) == ["certa", "parcial"]
    assert samples.scores(f"sqlite:///{ours / 'gradebook.db'}", "curso-teste", TAREFA) == before


def test_newer_submission_is_graded_again(compared):
    ours, _, _ = compared
    submit(ours, "intocada", solved(ours), timestamp="2026-03-05 10:00:00.000000 UTC")
    report = grade(ours)
    assert by_student(report)["intocada"].status == "ok"
    assert by_student(report)["intocada"].score == 7


def test_feedback_shows_messages_never_test_code(compared):
    ours, _, _ = compared
    course = coursedir.load(ours)
    written = feedback.generate(course, TAREFA)
    pages = {p.parts[-3]: p.read_text() for p in written}
    assert set(pages) >= {"certa", "parcial", "editou"}
    page = pages["parcial"]
    assert 'lang="pt-BR"' in page and "Devolutiva da tarefa" in page
    assert "teste oculto" in page and "dobro (casos ocultos) com a entrada 0" in page
    assert (ours / "feedback" / "parcial" / TAREFA / "timestamp.txt").exists()
    source = nbformat.read(ours / "source" / TAREFA / f"{TAREFA}.ipynb", as_version=4)
    secret = set()
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and line.strip():
                secret.add(line.strip())
    for student, text in pages.items():
        assert "HIDDEN TESTS" not in text
        for line in secret:
            assert line not in text and line.replace("'", "&#x27;") not in text, f"{student}: vazou {line}"


def test_grade_exports(compared, tmp_path):
    ours, _, _ = compared
    course = coursedir.load(ours)
    assert export.export(course, "csv", tmp_path / "n.csv") == (6, 1)
    rows = list(csv.reader((tmp_path / "n.csv").read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0][:5] == ["aluno", "nome", "email", "instituicao", "tarefa"]
    certa = next(r for r in rows if r[0] == "certa")
    assert certa[-2:] == ["7", "8"]
    export.export(course, "moodle", tmp_path / "m.csv")
    assert (tmp_path / "m.csv").read_text().splitlines()[0] == f"email,idnumber,{TAREFA}"
    export.export(course, "xlsx", tmp_path / "n.xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "n.xlsx").active
    assert [c.value for c in sheet[1]][-2:] == [TAREFA, "total"]
    values = {row[0].value: row[4].value for row in sheet.iter_rows(min_row=3)}
    assert values["certa"] == 7


def test_late_penalties_as_nbgrader(tmp_path):
    """A course with a due date and nbgrader's 'zero' penalty: the late submissions get the same penalty as
    under `nbgrader autograde` (the penalty is computed from the notebook's score, which `corrigir` saves
    within the same transaction), also when graded again; the export subtracts it."""
    base = make_course(tmp_path / "curso")
    with Gradebook(f"sqlite:///{base / 'gradebook.db'}", "curso-teste") as gb:
        gb.update_or_create_assignment(TAREFA, duedate="2026-03-01 10:00:00 UTC")
    config_file = base / "nbgrader_config.py"
    config_file.write_text(config_file.read_text() + "c.LateSubmissionPlugin.penalty_method = 'zero'\n")
    late = "2026-03-02 10:00:00.000000 UTC"
    submit(base, "certa", solved(base), timestamp=late)
    submit(base, "parcial", solved(base, q2_resposta="def dobro(x):\n    return x + 2"), timestamp=late)
    submit(base, "no-prazo", solved(base), timestamp="2026-02-27 10:00:00.000000 UTC")
    ours = copy_course(base, tmp_path / "automatiza")
    theirs = copy_course(base, tmp_path / "nbgrader")
    put_python_tools_on_path()
    config = Config()
    config.CourseDirectory.root = str(theirs)
    config.CourseDirectory.course_id = "curso-teste"
    config.Execute.timeout = 5
    config.LateSubmissionPlugin.penalty_method = "zero"
    result = NbGraderAPI(config=config).autograde(TAREFA, "*")
    assert result["success"], result.get("error")

    def penalties(root: Path) -> dict:
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "curso-teste") as gb:
            return {
                s: [(n.score, n.late_submission_penalty) for n in gb.find_submission(TAREFA, s).notebooks]
                for s in ("certa", "parcial", "no-prazo")
            }

    expected = penalties(theirs)
    assert expected == {"certa": [(7, 7)], "parcial": [(4, 4)], "no-prazo": [(7, None)]}
    assert grade(ours).ok
    assert penalties(ours) == expected
    assert grade(ours, force=True).ok
    assert penalties(ours) == expected
    rows, _ = export.collect(coursedir.load(ours))
    assert {r.student: (r.raw, r.penalty, r.score) for r in rows} == {
        "certa": (7, 7, 0),
        "parcial": (4, 4, 0),
        "no-prazo": (7, 0, 7),
    }


def test_killed_run_loses_nothing_and_resumes(tmp_path):
    root = make_course(tmp_path / "curso")
    slow = "import time\ntime.sleep(1.5)\nnumero = '1500.01.0023123/2024-08'"
    for number in range(6):
        submit(root, f"aluno{number}", solved(root, q1_resposta=slow))
    command = corrigir_command(root, 1)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((root / "autograded").glob(f"*/{TAREFA}"))) < 2:
        time.sleep(0.2)
    zygotes = [pid for pid in _pids() if _parent(pid) == process.pid]
    kernels = [pid for pid in _pids() if _parent(pid) in zygotes]
    assert zygotes and kernels, "o corretor deveria ter um zigoto com kernels rodando"
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved = sorted(p.parent.name for p in (root / "autograded").glob(f"*/{TAREFA}"))
    assert 2 <= len(saved) < 6, saved
    first = samples.scores(f"sqlite:///{root / 'gradebook.db'}", "curso-teste", TAREFA)
    for student in saved:
        assert first[student]["_total"] == 7
    deadline = time.monotonic() + 10  # the zygote and its kernels die with the grader (parent-death signal)
    while time.monotonic() < deadline and set(zygotes + kernels) & set(_pids()):
        time.sleep(0.2)
    assert not set(zygotes + kernels) & set(_pids())
    report = grade(root)
    statuses = {r.student: r.status for r in report.results}
    assert all(statuses[s] == "pulada" for s in saved)
    assert sum(status == "ok" for status in statuses.values()) == 6 - len(saved)
    final = samples.scores(f"sqlite:///{root / 'gradebook.db'}", "curso-teste", TAREFA)
    assert {s: final[s]["_total"] for s in final} == {f"aluno{n}": 7 for n in range(6)}


def _pids() -> list[int]:
    """Live processes (zombies waiting for a parent that does not reap them do not count)."""
    alive = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state not in ("Z", "X"):
                alive.append(int(entry))
    return alive


def _parent(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next((x for x in status.splitlines() if x.startswith("PPid:")), "PPid: 0")
    return int(line.split()[1])
