"""Limits that add up, per kernel, as root and as a regular user: memory as a total (a cgroup per kernel where
the machine offers one, otherwise a sampled sum that kills the kernel's namespace), a fork bomb stopped by the
process total (RLIMIT_NPROC of the kernel's own uid or user namespace) without hurting other kernels, and a
disk quota on the kernel's folder (a tmpfs: mounted by the zygote as root, by the kernel in its own user
namespace otherwise) that fails only the cell that writes past it. Honest code with multiprocessing.Pool(2),
tempfile and /tmp gets exactly the points of a real `nbgrader autograde`. Nothing here skips: the probe names
each mechanism and fails closed where one does not hold.

Where the machine offers cgroups with memory and pids to root (cgroup v2, or v1 as on hybrid machines), a
grader that does not use them as root is a failure."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from correcao_apoio import (
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
    total = sum(pool.map(_quadrado, range(10)))
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

# the grader's view of the kernel's folder and the sockets folder stay read-only for the kernel (without
# root, its folder is its own tmpfs and these two are the host's: writing there would escape the quota)
ESCAPE_QUOTA = """import os
for alvo in ("../.corretor/trabalho/fora.bin", "../.corretor/fora.bin", "../conexao/fora.bin"):
    try:
        with open(alvo, "ab") as arquivo:
            arquivo.write(b"x")
        print("ESCREVEU", alvo)
    except OSError as erro:
        print("BLOQUEADO", alvo, type(erro).__name__)
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
    # on a loaded machine (CI on 2 cores) four children can take more than the course's 5 s to touch 1.6 GB:
    # here the memory limit, not the cell's time limit, must be what stops them
    with (ours / "nbgrader_config.py").open("a") as config_file:
        config_file.write("c.Execute.timeout = 30\n")
    submit(ours, "filhos_memoria", solved(ours, q2_resposta=CHILDREN_MEMORY))
    submit(ours, "bomba", solved(ours, q2_resposta=FORK_BOMB))
    submit(ours, "disco", solved(ours, q2_resposta=DISK))
    submit(ours, "fuga_da_cota", solved(ours, q2_resposta=ESCAPE_QUOTA))
    (ours / "submitted" / "vitima" / TAREFA / "anexo.csv").write_text("a,b\n1,2\n")  # copied into the kernel
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
    print("nível:", report.level)
    limits = report.to_json()["isolamento"]
    assert limits["totais_por_kernel"] == plan.totals
    if plan.totals:
        assert limits["memoria_total"] == limits["processos_total"] == plan.totals
        assert "somados por kernel" in report.level and not plan.memory_sampling
    else:
        assert plan.memory_sampling and limits["memoria_total"] == "amostragem"
        assert "memória somada por kernel por amostragem" in report.level
        assert limits["processos_total"] == (
            "RLIMIT_NPROC (namespace de usuário)" if plan.userns else "RLIMIT_NPROC (uid reservado)"
        )
        assert "processos somados por kernel" in report.level
    assert limits["cota_de_disco_mb"] == 64
    if os.geteuid() == 0:
        assert plan.disk_quota and not plan.disk_quota_userns and limits["cota_de_disco"] == "tmpfs (root)"
        assert "cota de disco de 64 MB na pasta do kernel (tmpfs do root)" in report.level
    else:
        assert plan.disk_quota_userns and not plan.disk_quota
        assert limits["cota_de_disco"] == "tmpfs (namespace de usuário)"
        assert "64 MB na pasta do kernel (tmpfs no namespace de usuário do kernel)" in report.level
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
    """Four children of 400 MB each fit their own RLIMIT_AS of 1200 MB; together they pass the kernel's total.
    With a cgroup the OOM killer stops one child; without, the sampled sum kills the kernel's namespace."""
    ours, _, report = graded
    results = by_student(report)
    print("filhos_memoria:", results["filhos_memoria"].notes)
    assert results["filhos_memoria"].score == 4, results["filhos_memoria"].notes  # q2 only
    assert results["vitima"].score == 7
    if not report.plan.totals:
        assert report.plan.memory_sampling, report.plan
        notes = " ".join(results["filhos_memoria"].notes)
        assert "memória esgotada" in notes and "soma medida por amostragem" in notes, notes
        assert "acima do limite total de 1200 MB" in notes and "código" not in notes, notes


def test_fork_bomb_stops_at_the_process_total(graded):
    ours, _, report = graded
    results = by_student(report)
    text = _outputs(ours, "bomba")
    line = next(x for x in text.splitlines() if x.startswith("PAROU"))
    print(line)
    created = int(line.split()[1])
    assert created < LIMITS.processes, line
    # only the kernel's own tasks count (its shim, itself and its threads: ipykernel has about ten), not the
    # processes of the instructor's uid
    assert created >= LIMITS.processes - 20, line
    assert results["bomba"].score == 7  # stopped, not killed: its kernel goes on
    assert results["vitima"].score == 7 and results["honesto"].score == 7


def test_disk_quota_fails_its_own_cell_only(graded):
    ours, _, report = graded
    results = by_student(report)
    text = _outputs(ours, "disco")
    assert report.plan.disk_quota or report.plan.disk_quota_userns
    assert "No space left on device" in text, text[-2000:]
    assert "ESCRITOS" not in text
    assert results["disco"].score == 4, results["disco"].notes  # q2 only: q1 and q3 keep their points


def test_the_quota_has_no_way_around(graded):
    """Without root the kernel's folder is its own tmpfs; the grader's folder (a read-only view) and sockets
    folder are the host's: the kernel can write to neither. (As root the whole folder is the quota's tmpfs:
    the sockets folder is inside it and there is no view of the grader's folder.)"""
    ours, _, report = graded
    text = _outputs(ours, "fuga_da_cota")
    assert "ESCREVEU ../.corretor" not in text, text
    if report.plan.disk_quota_userns:
        assert "ESCREVEU" not in text and text.count("BLOQUEADO") == 3, text
        assert "BLOQUEADO ../conexao/fora.bin OSError" in text, text  # read-only file system
    assert by_student(report)["fuga_da_cota"].score == 7


def test_submission_files_reach_the_kernel(graded):
    """The grader hands the submission's files to the kernel (copied in by the kernel without root)."""
    ours, _, _ = graded
    assert (ours / "autograded" / "vitima" / TAREFA / "anexo.csv").read_text() == "a,b\n1,2\n"


def _probe(tmp_path) -> isolation.Plan:
    folder = tmp_path / "sonda"
    folder.mkdir()
    uid = os.geteuid()
    lock = None
    if uid == 0:
        uids, lock = isolation.reserve_uids(str(tmp_path))
        uid = uids[0]
        os.chown(folder, uid, uid)
    try:
        wanted = isolation.Plan.wanted(keep=tuple(isolation.python_paths()), limits=LIMITS)
        return isolation.probe(wanted, uid, str(folder))
    finally:
        if lock is not None:
            lock.close()


def test_probe_names_the_mechanisms(tmp_path):
    plan = _probe(tmp_path)
    assert plan.full, plan.warnings
    assert plan.memory_sampling  # until `probe_totals` finds a cgroup, the sum is sampled
    assert plan.disk_quota_userns == (os.geteuid() != 0)


def test_probe_fails_closed_when_the_sum_misses_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(isolation, "namespace_memory", lambda proc="/proc": 0)
    plan = _probe(tmp_path)
    assert not plan.full
    assert any("soma da memória" in w for w in plan.warnings), plan.warnings


def test_probe_fails_closed_when_the_quota_does_not_hold(tmp_path, monkeypatch):
    if os.geteuid() == 0:  # the zygote mounts the quota: where it cannot, the plan does not claim one
        monkeypatch.setattr(isolation, "quota_folder", lambda *a: (_ for _ in ()).throw(OSError(1, "não")))
        plan = isolation.probe_disk_quota(_probe(tmp_path), str(tmp_path / "cota"))
        assert not plan.disk_quota and "cota de disco só por arquivo" in plan.describe()
        return
    mount = isolation.mount

    def no_tmpfs_on_the_folder(source, target, fstype, flags, data=None):
        if fstype == "tmpfs" and target.endswith("/sonda"):
            return None
        return mount(source, target, fstype, flags, data)

    monkeypatch.setattr(isolation, "mount", no_tmpfs_on_the_folder)
    plan = _probe(tmp_path)
    assert not plan.full and plan.warnings, plan
