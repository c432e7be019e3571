"""SIGTERM ends `automatiza corrigir` cleanly at any moment: from the first instant (while Python and the
zygote are still starting) to the middle of the grading, nothing keeps running, no scratch folder is left,
no submission is saved half graded and the same command afterwards grades everything."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from correcao_apoio import (
    SOLUCOES,
    TAREFA,
    by_student,
    copy_course,
    corrigir_command,
    grade,
    make_course,
    solved,
    submit,
)

pytestmark = pytest.mark.lento

STUDENTS = [f"aluno{i}" for i in range(8)]


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = make_course(tmp_path_factory.mktemp("sinais") / "curso")
    for student in STUDENTS:
        submit(root, student, solved(root))
    return root


def _processes_using(marker: str) -> list[int]:
    """Processes whose environment mentions `marker` (the run's TMPDIR: the zygote's HOME is inside it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0, 4.0])
def test_sigterm_stops_cleanly_and_the_rerun_finishes(course, tmp_path, delay, request):
    root = copy_course(course, tmp_path / "curso")
    scratch = Path(tempfile.mkdtemp(prefix="sinal-", dir="/tmp"))  # short: the kernels' sockets live in it
    request.addfinalizer(lambda: shutil.rmtree(scratch, ignore_errors=True))
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONUNBUFFERED": "1"}
    command = corrigir_command(root, 2)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=120)  # a loaded machine: kernels and zygote stop in turn
    # 143: killed before the handler exists (nothing started yet); 130: stopped by the handler; 0: it finished
    assert process.returncode in (0, 130, -signal.SIGTERM), err
    assert "Traceback" not in err, err
    deadline = time.monotonic() + 10
    while _processes_using(str(scratch)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_using(str(scratch)) == [], "sobrou processo do corretor depois do SIGTERM"
    # the uid lock files stay by design (an flock, shared by every run on the machine); nothing else may stay
    leftovers = [p.name for p in scratch.iterdir() if not p.name.startswith("automatiza-corretor-uids-")]
    assert leftovers == [], "sobrou pasta temporária do corretor"
    results = by_student(grade(root, isolated=False))
    assert {student: results[student].score for student in STUDENTS} == dict.fromkeys(STUDENTS, 7)


def test_a_run_stopped_during_a_cell_saves_nothing_of_that_submission(course, tmp_path):
    """Stopped while a learner's cell runs, the grader must not save that submission with the cell counted
    as a dead kernel (nbclient turns the cancellation into `DeadKernelError`): nothing of it is saved and the
    next run gives the full score. Deterministic: the cell announces itself with a file, then the run
    stops."""
    from automatiza.grading import coursedir, grader

    root = copy_course(course, tmp_path / "curso")
    for student in STUDENTS[1:]:
        shutil.rmtree(root / "submitted" / student)
    marker = tmp_path / "celula-comecou"
    announce = f"import pathlib, time\npathlib.Path({str(marker)!r}).touch()\ntime.sleep(2)\n"
    slow = announce + SOLUCOES["q2-resposta"]
    submit(root, STUDENTS[0], solved(root, q2_resposta=slow))

    async def stop_during_the_cell():
        run = asyncio.create_task(
            grader.Grader(coursedir.load(root), TAREFA, jobs=1, progress=False, isolated=False).run()
        )
        while not marker.exists() and not run.done():
            await asyncio.sleep(0.02)
        run.cancel()
        return await run

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(stop_during_the_cell())
    assert not (root / "autograded" / STUDENTS[0]).exists()
    result = by_student(grade(root, isolated=False))[STUDENTS[0]]
    assert result.status != grader.SKIPPED, "a entrega interrompida foi salva como corrigida"
    assert result.score == 7
