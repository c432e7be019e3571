"""Limits that add up, per kernel: memory and processes as totals (a cgroup per kernel where the machine
offers one), a fork bomb stopped by the process total without hurting other kernels, and a disk quota on the
kernel's folder (a tmpfs of its own, as root) that fails only the cell that writes past it. Honest code with
multiprocessing.Pool(2), tempfile and /tmp gets exactly the points of a real `nbgrader autograde`.

Where the machine offers cgroups with memory and pids to root (cgroup v2, or v1 as on hybrid machines) and
AUTOMATIZA_EXIGIR_ISOLAMENTO=1, a grader that does not use them is a failure, not a skip."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from correcao_apoio import (
    REQUIRE_ISOLATION,
    TAREFA,
    by_student,
    copy_course,
    grade_isolated,
    make_course,
    solved,
    submit,
)
from nbgrader.apps import NbGraderAPI
from traitlets.config import Config

from automatiza.grading import samples
from automatiza.grading.sandbox import cgroups, isolation
from automatiza.paths import put_python_tools_on_path

pytestmark = pytest.mark.lento

LIMITS = isolation.Limits(memory_mb=1200, processes=64, disk_mb=64)

HONEST = """import multiprocessing, os, tempfile
def _quadrado(n):
    return n * n
with tempfile.TemporaryDirectory() as pasta:
    caminho = os.path.join(pasta, "numeros.txt")
    with open(caminho, "w") as arquivo:
        arquivo.write("1500")
    with open(caminho) as arquivo:
        lido = arquivo.read()
with open("/tmp/automatiza-limites-honesto.txt", "w") as arquivo:
    arquivo.write(lido)
with multiprocessing.Pool(2) as pool:
    total = sum(kernels.map(_quadrado, range(10)))
print("HONESTO", lido, total)
numero = ' 1500.01.0023123/2024-08 '.strip() if total == 285 and lido == "1500" else "errado"
"""

# four children of 400 MB each: 1.6 GB together, under the 1200 MB address-space limit of each process
CHILDREN_MEMORY = """import os, time
filhos = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        codigo = 7
        try:
            bloco = bytearray(400 * 1024 * 1024)
            for i in range(0, len(bloco), 4096):
                bloco[i] = 1
            time.sleep(1)
            codigo = 0
        finally:
            os._exit(codigo)
    filhos.append(pid)
estados = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in filhos]
print("ESTADOS", estados)
assert all(e == 0 for e in estados), estados
def dobro(x):
    return 2 * x
"""

FORK_BOMB = """import os, signal, time
filhos = []
try:
    while len(filhos) < 100000:
        pid = os.fork()
        if pid == 0:
            try:
                time.sleep(30)
            finally:
                os._exit(0)
        filhos.append(pid)
except OSError as erro:
    print("PAROU", len(filhos), type(erro).__name__)
for pid in filhos:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
def dobro(x):
    return 2 * x
"""

# 20 files of 8 MB (each under the 64 MB file limit): 160 MB, past the 64 MB quota of the kernel's folder
DISK = """escritos = 0
for i in range(20):
    with open(f"grande{i}.bin", "wb") as arquivo:
        arquivo.write(b"x" * (8 * 1024 * 1024))
    escritos += 1
print("ESCRITOS", escritos)
def dobro(x):
    return 2 * x
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = make_course(tmp_path_factory.mktemp("curso"))
    submit(base, "vitima", solved(base))
    submit(base, "honesto", solved(base, q1_resposta=HONEST))
    theirs = copy_course(base, base.with_name(base.name + "-nbgrader"))
    ours = base
    submit(ours, "filhos_memoria", solved(ours, q2_resposta=CHILDREN_MEMORY))
    submit(ours, "bomba", solved(ours, q2_resposta=FORK_BOMB))
    submit(ours, "disco", solved(ours, q2_resposta=DISK))
    put_python_tools_on_path()
    config = Config()
    config.CourseDirectory.root = str(theirs)
    config.CourseDirectory.course_id = "curso-teste"
    config.Execute.timeout = 5
    result = NbGraderAPI(config=config).autograde(TAREFA, "*")
    assert result["success"], result.get("error")
    report = grade_isolated(ours, limits=LIMITS, jobs=2)
    if os.path.exists("/tmp/automatiza-limites-honesto.txt"):
        os.remove("/tmp/automatiza-limites-honesto.txt")
    return ours, theirs, report


def _outputs(root: Path, student: str) -> str:
    nb = nbformat.read(root / "autograded" / student / TAREFA / f"{TAREFA}.ipynb", as_version=4)
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") + output.get("evalue", "") + output.get("ename", ""))
    return "\n".join(texts)


def cgroups_offered_to_root() -> bool:
    """Whether this machine lets root make a cgroup with the memory and pids controllers."""
    if os.geteuid() != 0:
        return False
    controller, _ = cgroups.Controller.find(f"automatiza-teste-{os.getpid()}")
    if controller is None:
        return False
    controller.remove()
    return True


def test_report_says_what_holds(graded):
    _, _, report = graded
    plan = report.plan
    print("cgroups:", cgroups.describe_machine(), "| plano:", plan.totals or plan.totals_note)
    limits = report.to_json()["isolamento"]
    assert limits["totais_por_kernel"] == plan.totals
    assert ("somados por kernel" in report.level) == bool(plan.totals)
    if os.geteuid() == 0:
        assert plan.disk_quota and limits["cota_de_disco_mb"] == 64
    if cgroups_offered_to_root():
        assert plan.totals, f"o root pode criar cgroups ({cgroups.describe_machine()}) e o corretor não usou"


def test_honest_pool_tempfile_and_tmp_grade_as_nbgrader(graded):
    ours, theirs, report = graded
    assert "HONESTO 1500 285" in _outputs(ours, "honesto")
    a = samples.scores(f"sqlite:///{theirs / 'gradebook.db'}", "curso-teste", TAREFA)
    b = samples.scores(f"sqlite:///{ours / 'gradebook.db'}", "curso-teste", TAREFA)
    assert a["honesto"]["_total"] == 7
    assert samples.differences(a, {k: b[k] for k in a}) == []


def test_children_memory_is_one_total(graded):
    ours, _, report = graded
    results = by_student(report)
    if not report.plan.totals:
        reason = f"sem cgroup por kernel: {report.plan.totals_note} ({cgroups.describe_machine()})"
        if os.environ.get(REQUIRE_ISOLATION) == "1" and cgroups_offered_to_root():
            pytest.fail(reason)
        # the fallback is per process: each child fits, so nothing stops 1.6 GB in total (README says so)
        pytest.skip(reason)
    assert results["filhos_memoria"].score == 4, results["filhos_memoria"].notes  # q2 only
    assert results["vitima"].score == 7


def test_fork_bomb_stops_at_the_process_total(graded):
    ours, _, report = graded
    results = by_student(report)
    text = _outputs(ours, "bomba")
    line = next(x for x in text.splitlines() if x.startswith("PAROU"))
    created = int(line.split()[1])
    assert created < LIMITS.processes, line
    assert results["bomba"].score == 7  # stopped, not killed: its kernel goes on
    assert results["vitima"].score == 7 and results["honesto"].score == 7


def test_disk_quota_fails_its_own_cell_only(graded):
    ours, _, report = graded
    results = by_student(report)
    text = _outputs(ours, "disco")
    if not report.plan.disk_quota:
        assert os.geteuid() != 0
        # without root the folder has no quota: each file is limited (64 MB), not their sum (README says so)
        assert "ESCRITOS 20" in text and results["disco"].score == 7
        pytest.skip("cota de disco da pasta do kernel só como root")
    assert "No space left on device" in text, text[-2000:]
    assert results["disco"].score == 4, results["disco"].notes  # q2 only: q1 and q3 keep their points
