"""Isolation and failure modes of `automatiza corrigir`, each with a crafted submission.

Escape attempts (reading the sources with the solutions, another student's files, the gradebook, writing the
gradebook or outside the kernel's folder, the network) are denied; monkeypatching does not defeat the tests;
an infinite loop costs its cell, a dead kernel keeps the points already earned, and broken, empty, renamed or
missing notebooks get a clear pt-BR line while the run goes on. Where the machine cannot isolate, the grader
refuses (tested with the probe refused) and these tests skip with the reason, except under
AUTOMATIZA_EXIGIR_ISOLAMENTO=1 (.ci/run, as root and as a regular user), where a skip is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import nbformat
import pytest
from correcao_apoio import (
    TAREFA,
    answer,
    by_student,
    grade,
    grade_isolated,
    isolation_missing,
    make_course,
    solved,
    student_version,
    submit,
)

from automatiza.grading.sandbox import isolation

pytestmark = pytest.mark.lento

SPY = """
import glob, os, socket
aqui = os.getcwd()
base = os.path.dirname(os.path.dirname(aqui))
alvos = {{
    "fonte": "{root}/source/{tarefa}/{tarefa}.ipynb",
    "outro_aluno": "{root}/submitted/vitima/{tarefa}/{tarefa}.ipynb",
    "banco": "{root}/gradebook.db",
    "repositorio": "{repo}/exercises",
    "casa": os.path.expanduser("~root") + "/.bashrc",
}}
achados = {{}}
for nome, alvo in alvos.items():
    try:
        if os.path.isdir(alvo):
            os.listdir(alvo)
        else:
            open(alvo, "rb").read(1)
        achados[nome] = "LEU"
    except OSError as erro:
        achados[nome] = type(erro).__name__
vizinhos = [p for p in glob.glob(base + "/k*/trabalho/*") if not p.startswith(aqui)]
for numero in range(1, 40):
    try:
        open(f"{{base}}/k{{numero}}/trabalho/dados.txt").read()
        if not f"{{base}}/k{{numero}}/trabalho".startswith(aqui):
            vizinhos.append(numero)
    except OSError:
        pass
achados["outros_kernels"] = "LEU" if vizinhos else "negado"
try:
    open("{root}/gradebook.db", "ab").write(b"x")
    achados["escrever_banco"] = "ESCREVEU"
except OSError as erro:
    achados["escrever_banco"] = type(erro).__name__
try:
    open("/tmp/automatiza-fuga.txt", "w").write("x")
    achados["escrever_fora"] = "ESCREVEU"
except OSError as erro:
    achados["escrever_fora"] = type(erro).__name__
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3).close()
    achados["rede"] = "CONECTOU"
except OSError as erro:
    achados["rede"] = type(erro).__name__
achados["usuario"] = os.getuid()
achados["processos"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
achados["dev"] = sorted(os.listdir("/dev"))
try:
    os.kill(1, 0)
    achados["init_do_sistema"] = "VISIVEL" if os.getpid() != 1 else "eu"
except OSError as erro:
    achados["init_do_sistema"] = type(erro).__name__
print("ACHADOS", achados)
numero = "1500.01.0023123/2024-08"
"""

CHEATS = {
    # the answers are wrong: without the guard every patched test would pass
    "troca_funcoes": (
        "import automatiza.checagem as c, builtins\n"
        "c.confira = c.confira_funcao = lambda *a, **k: None\n"
        "confira = confira_funcao = lambda *a, **k: None\n"
        "builtins.round = lambda *a: 3.1416\n"
        "numero = 1"
    ),
    "transforma_celulas": (
        "get_ipython().input_transformers_post.append(\n"
        "    lambda linhas: ['pass\\n'] if any('confira' in l for l in linhas) else linhas)\n"
        "numero = 1"
    ),
    "esconde_erros": (
        "ip = get_ipython()\n"
        "ip.set_custom_exc((BaseException,), lambda *a, **k: None)\n"
        "import ipykernel.zmqshell as z\n"
        "z.ZMQInteractiveShell._showtraceback = lambda *a, **k: None\n"
        "ip.showtraceback = lambda *a, **k: None\n"
        "numero = 1"
    ),
    "thread_e_evento": (
        "import threading, time, automatiza.checagem as c\n"
        "def f():\n"
        "    while True:\n"
        "        c.confira = c.confira_funcao = lambda *a, **k: None\n"
        "        time.sleep(0.0005)\n"
        "threading.Thread(target=f, daemon=True).start()\n"
        "nada = lambda *a, **k: None\n"
        "get_ipython().events.register('pre_run_cell', lambda *a: setattr(c, 'confira', nada))\n"
        "numero = 1"
    ),
    "troca_codigo": (
        "import automatiza.checagem as c, sys\n"
        "c.diferenca.__code__ = (lambda obtido, esperado, o_que, dica='': None).__code__\n"
        "sys.settrace(lambda *a: None)\n"
        "numero = 1"
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("curso"))
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    submit(root, "vitima", solved(root))
    submit(root, "espiao", solved(root, q1_resposta=SPY.format(root=root, tarefa=TAREFA, repo=repo)))
    for name, code in CHEATS.items():
        submit(root, name, answer(student_version(root), "q1-resposta", code))
    submit(
        root,
        "honesto_com_monkeypatch",
        solved(
            root,
            q3_resposta=(
                "import math\nmath.pi = 3  # mexe em math, mas a resposta usa o valor certo\n"
                "def area_circulo(raio):\n    return 3.141592653589793 * raio ** 2"
            ),
        ),
    )
    submit(root, "laco", solved(root, q2_resposta="def dobro(x):\n    return 2 * x\nwhile True:\n    pass"))
    submit(
        root,
        "teimoso",
        solved(
            root,
            q2_resposta=(
                "import time\ndef dobro(x):\n    return 2 * x\nwhile True:\n"
                "    try:\n        time.sleep(10)\n"
                "    except KeyboardInterrupt:\n        pass"
            ),
        ),
    )
    submit(root, "morre", solved(root, q2_resposta="import os\nos._exit(3)"))
    submit(
        root,
        "memoria",
        solved(root, q2_resposta="x = bytearray(20 * 1024 ** 3)\ndef dobro(x):\n    return 2 * x"),
    )
    submit(
        root,
        "enxurrada",
        solved(
            root,
            q1_resposta=(
                "numero = '1500.01.0023123/2024-08'\nfor i in range(10 ** 8):\n    print('x' * 200)"
            ),
        ),
    )
    submit(root, "quebrado", raw=b'{"cells": [ {')
    submit(root, "vazio", raw=b"")
    submit(root, "renomeado", solved(root), name="Untitled.ipynb")
    (root / "submitted" / "sem_notebook" / TAREFA).mkdir(parents=True)
    if os.path.exists("/tmp/automatiza-fuga.txt"):
        os.remove("/tmp/automatiza-fuga.txt")
    report = grade_isolated(root)
    return root, report, by_student(report)


def _findings(root, student):
    nb = nbformat.read(root / "autograded" / student / TAREFA / f"{TAREFA}.ipynb", as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and "ACHADOS" in output.get("text", ""):
                line = next(x for x in output["text"].splitlines() if x.startswith("ACHADOS"))
                return eval(line.split(" ", 1)[1])  # a dict literal printed by the submission
    raise AssertionError("a entrega espiã não imprimiu o que achou")


def test_the_run_goes_on_and_reports_isolation(graded):
    _, report, results = graded
    assert report.ok, report.summary()
    assert len(results) == 17
    assert report.plan.full and report.plan.isolated, report.plan
    assert report.plan.userns == (os.geteuid() != 0)
    summary = report.summary()
    for part in ("usuário sem privilégios", "sistema de arquivos restrito", "processos isolados", "sem rede"):
        assert part in summary, summary
    assert "SEM ISOLAMENTO" not in summary
    assert results["vitima"].score == 7


def test_runs_as_unprivileged_user(graded):
    root, report, _ = graded
    found = _findings(root, "espiao")
    assert found["usuario"] != 0
    if os.geteuid() == 0:
        assert isolation.UID_RANGE[0] <= found["usuario"] < isolation.UID_RANGE[1], found["usuario"]
    else:
        assert found["usuario"] == isolation.INNER_UID


def test_sees_only_its_own_processes_and_devices(graded):
    root, _, _ = graded
    found = _findings(root, "espiao")
    assert found["processos"] == [1], found["processos"]  # the kernel is PID 1 of its own namespace
    assert found["init_do_sistema"] == "eu"
    assert set(found["dev"]) <= {
        "null",
        "zero",
        "full",
        "random",
        "urandom",
        "tty",
        "fd",
        "stdin",
        "stdout",
        "stderr",
        "shm",
    }, found["dev"]


def test_escape_attempts_are_denied(graded):
    root, report, results = graded
    found = _findings(root, "espiao")
    for target in ("fonte", "outro_aluno", "banco", "escrever_banco", "outros_kernels", "casa"):
        assert found[target] not in ("LEU", "ESCREVEU"), (target, found)
    assert results["espiao"].score == 7, "a espiã respondeu certo e deveria levar os pontos"


def test_private_file_system_view(graded):
    root, report, _ = graded
    found = _findings(root, "espiao")
    assert found["repositorio"] == "FileNotFoundError", "as soluções do repositório não deveriam ser visíveis"
    # /tmp is the kernel's own tmpfs: writing works (honest code uses it) and nothing reaches the machine's
    assert found["escrever_fora"] == "ESCREVEU"
    assert not os.path.exists("/tmp/automatiza-fuga.txt")


def test_no_network(graded):
    root, report, _ = graded
    assert _findings(root, "espiao")["rede"] != "CONECTOU"
    assert "sem rede" in report.level


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_monkeypatching_does_not_defeat_the_tests(graded, cheat):
    _, _, results = graded
    result = results[cheat]
    assert result.score == 0, f"{cheat}: {result.score} ponto(s) com respostas erradas; {result.notes}"
    assert any("guarda desfez" in note or "ambiente de correção" in note for note in result.notes), (
        result.notes
    )


def test_no_false_alarm_for_honest_code(graded):
    _, _, results = graded
    assert results["vitima"].notes == []
    assert results["honesto_com_monkeypatch"].score == 7


def test_infinite_loop_costs_only_its_cell(graded):
    _, _, results = graded
    assert results["laco"].score == 7  # dobro was defined before the loop; the tests still pass
    assert any("passou do tempo limite e foi interrompida" in n for n in results["laco"].notes)
    teimoso = results["teimoso"]
    assert teimoso.score == 4, teimoso.notes  # q2 lost (its answer never finished), q1 and q3 kept
    assert any("passou do tempo e não parou" in n for n in teimoso.notes)


def test_dead_kernel_keeps_points_and_says_why(graded):
    root, _, results = graded
    morre = results["morre"]
    assert morre.score == 4, morre.notes  # q1 before the crash and q3 after a new kernel
    assert any("o kernel parou na célula 'q2-resposta'" in n and "código 3" in n for n in morre.notes)
    nb = nbformat.read(root / "autograded" / "morre" / TAREFA / f"{TAREFA}.ipynb", as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("ename") == "KernelParou"]
    assert errors


def test_memory_and_output_limits(graded):
    root, _, results = graded
    assert results["memoria"].score == 4  # MemoryError in its answer: that question only
    nb = nbformat.read(root / "autograded" / "memoria" / TAREFA / f"{TAREFA}.ipynb", as_version=4)
    assert any(o.get("ename") == "MemoryError" for c in nb.cells for o in c.get("outputs", []))
    assert results["enxurrada"].score == 7
    size = (root / "autograded" / "enxurrada" / TAREFA / f"{TAREFA}.ipynb").stat().st_size
    assert size < 2 * 1024 * 1024


def test_broken_empty_renamed_and_missing_notebooks(graded):
    _, _, results = graded
    expected = {
        "quebrado": "não é um notebook válido",
        "vazio": "está vazio",
        "renomeado": "há Untitled.ipynb: renomeie para",
        "sem_notebook": f"{TAREFA}.ipynb não foi entregue",
    }
    for student, text in expected.items():
        assert results[student].score == 0
        assert results[student].status == "avisos"
        assert any(text in note for note in results[student].notes), results[student].notes


def test_probe_refused_means_no_grading(tmp_path, monkeypatch):
    """Where the OS refuses namespaces (a container without CAP_SYS_ADMIN, Ubuntu's AppArmor rule), the probe
    says what failed and the plan is not usable: the grader refuses with a pt-BR explanation."""

    def refuse(flags):
        raise PermissionError(1, "unshare: Operation not permitted")

    monkeypatch.setattr(isolation, "unshare", refuse)
    folder = tmp_path / "sonda"
    folder.mkdir()
    uid = os.geteuid()
    if uid == 0:
        uids, lock = isolation.reserve_uids(str(tmp_path))
        uid = uids[0]
        os.chown(folder, uid, uid)
    wanted = isolation.Plan.wanted(keep=tuple(isolation.python_paths()), secrets=(str(tmp_path),))
    plan = isolation.probe(wanted, uid, str(folder))
    assert not plan.full
    assert any("Operation not permitted" in w for w in plan.warnings), plan.warnings
    message = isolation.unavailable_message(plan)
    assert "não corrige" in message and "Operation not permitted" in message
    assert "--sem-isolamento" in message


def test_grader_refuses_when_the_plan_is_not_full(tmp_path, monkeypatch):
    """Fail closed: whatever the probe lacked, no learner code runs and nothing is written."""
    root = make_course(tmp_path / "curso")
    submit(root, "certa", solved(root))
    monkeypatch.setattr(isolation.Plan, "full", property(lambda self: False))
    with pytest.raises(isolation.IsolationUnavailable, match="--sem-isolamento"):
        grade(root)
    assert not (root / "autograded").exists()
    from automatiza.grading import coursedir

    with coursedir.load(root).gradebook() as gb:
        assert [s.student.id for s in gb.find_assignment(TAREFA).submissions] == []


def test_same_points_without_isolation(tmp_path):
    """Isolation changes where the code runs, never the points; --sem-isolamento is recorded."""
    root = make_course(tmp_path / "curso")
    submit(root, "certa", solved(root))
    submit(root, "parcial", solved(root, q2_resposta="def dobro(x):\n    return x + 2"))
    report = grade(root, isolated=False)
    results = by_student(report)
    assert (results["certa"].score, results["parcial"].score) == (7, 4)
    assert not report.plan.isolated
    assert "SEM ISOLAMENTO (--sem-isolamento)" in report.summary()


def _corrigir_in_a_container(root, setup: str) -> subprocess.CompletedProcess:
    """`corrigir` as root of a fresh user namespace that maps one uid only (as in a rootless container)."""
    if shutil.which("unshare") is None:
        isolation_missing("o comando unshare (util-linux) não está instalado")
    command = (
        f"{setup}{sys.executable} -m automatiza.grading corrigir {TAREFA} --turma {root} --jobs 1; "
        "echo codigo=$?"
    )
    return subprocess.run(
        ["unshare", "--user", "--map-root-user", "sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_root_without_a_uid_range_isolates_with_a_user_namespace(tmp_path):
    root = make_course(tmp_path / "curso")
    submit(root, "certa", solved(root))
    done = _corrigir_in_a_container(root, "")
    if "Operation not permitted" in done.stderr and "codigo=" not in done.stdout:
        isolation_missing(done.stderr[-500:])
    assert "codigo=0" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
    assert "usuário sem privilégios (namespace de usuário)" in done.stdout


def test_no_user_namespaces_left_means_a_clear_refusal(tmp_path):
    root = make_course(tmp_path / "curso")
    submit(root, "certa", solved(root))
    done = _corrigir_in_a_container(root, "echo 0 > /proc/sys/user/max_user_namespaces && ")
    if "codigo=" not in done.stdout:
        isolation_missing(done.stderr[-500:])
    assert "codigo=3" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
    assert "não consegue isolar o código dos alunos" in done.stderr
    assert "--sem-isolamento" in done.stderr and "user.max_user_namespaces" in done.stderr
    assert not (root / "autograded").exists()
