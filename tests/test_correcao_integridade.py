"""Test integrity: cheats that defeated the in-kernel guard (issue 9) no longer change a score, because the
course's checks are judged by the grader, outside the learner's kernel (`automatiza.grading.checks`).

Every cheating submission below answers the attacked question wrongly; before, each one got its points. The
honest ones keep theirs, and a learner's code that prints its caller's source (linecache, inspect, In) never
gets hidden-test text into the graded notebook (which the feedback is made from).
"""

from __future__ import annotations

import json

import nbformat
import pytest
from correcao_apoio import TAREFA, by_student, grade_isolated, make_course, solved, submit

from automatiza.grading import checks

pytestmark = pytest.mark.lento

WRONG_AREA = "def area_circulo(raio):\n    return 0"
NEUTER = "c.diferenca.__code__ = (lambda *a, **k: None).__code__"  # every in-kernel comparison passes
CHEATS = {
    # q3 wrong: 2 (q1) + 3 (q2) + 0 (q3) = 5; each cheat got 7 when the checks ran in the kernel
    "gancho_de_auditoria": (
        "import sys, automatiza.checagem as c\n"
        "def gancho(evento, args):\n"
        "    if evento == 'exec':\n"
        f"        {NEUTER}\n"
        "sys.addaudithook(gancho)\n" + WRONG_AREA
    ),
    "thread_via_exec": (
        "exec('import threading, time, automatiza.checagem as c\\n'\n"
        "     'def f():\\n'\n"
        "     '    while True:\\n'\n"
        f"     '        {NEUTER}\\n'\n"
        "     '        time.sleep(0.0005)\\n'\n"
        "     'threading.Thread(target=f, daemon=True).start()', {})\n" + WRONG_AREA
    ),
    "forja_o_guarda": (
        "import hashlib, hmac, json, automatiza.checagem as c, automatiza.grading.sandbox.guard as g\n"
        "def restaurar(nonce, ligacoes):\n"
        f"    {NEUTER}\n"
        "    token = hmac.new(g._snapshot.key, (nonce + '[]').encode(), hashlib.sha256).hexdigest()\n"
        "    return json.dumps({'restaurado': [], 'token': token})\n"
        "g.restaurar = restaurar\n"
        "g.avaliar = lambda p: json.dumps([{'t': 'bool', 'v': True}] * len(json.loads(p)))\n" + WRONG_AREA
    ),
}
FRAME_READER = """import sys
def dobro(x):
    quadro = sys._getframe(1)
    while quadro is not None:
        if 'esperado' in quadro.f_locals:
            return quadro.f_locals['esperado']
        quadro = quadro.f_back
    return 0
"""
PRINTS_ITS_CALLER = """import inspect, linecache
def dobro(x):
    for quadro in inspect.stack():  # the cells' code (IPython names them ipykernel_<pid>/<n>.py)
        if "ipykernel_" in quadro.filename or quadro.filename.startswith("<"):
            print(''.join(linecache.getlines(quadro.filename)))
    print(In)
    return 2 * x
dobro(1)  # prints its own cell: the learner's prints do reach the output
"""
# fragments of the hidden tests' source (their success lines, "✅ ... (oculto): correto.", are the checks' own
# messages, as nbgrader prints them too)
HONEST_PROCESSES = """import multiprocessing, os, tempfile
with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:  # TMPDIR
    f.write("x")
with open("/tmp/rascunho.txt", "w") as f:  # the kernel's own /tmp
    f.write("x")
with multiprocessing.Pool(2) as pool:  # semaphores in /dev/shm, processes in its PID namespace
    assert kernels.map(abs, [-1, -2]) == [1, 2]
def dobro(x):
    return 2 * x
"""
HIDDEN = ("BEGIN HIDDEN", "((0,), 0)", "(-3,), -6", "round(area_circulo(2), 4)", "dica='use strip()'")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("curso"))
    submit(root, "certa", solved(root))
    for name, code in CHEATS.items():
        submit(root, name, solved(root, q3_resposta=code))
    submit(root, "le_o_quadro", solved(root, q2_resposta=FRAME_READER))
    submit(root, "imprime_o_teste", solved(root, q2_resposta=PRINTS_ITS_CALLER))
    submit(
        root, "dataframe", solved(root, q3_resposta="import math\ndef area_circulo(raio):\n    return [1]")
    )
    submit(root, "honesta_com_processos", solved(root, q2_resposta=HONEST_PROCESSES))
    report = grade_isolated(root)
    return root, by_student(report)


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_cheats_with_hooks_threads_and_a_forged_guard_do_not_score(graded, cheat):
    _, results = graded
    assert results["certa"].score == 7
    assert results[cheat].score == 5, (cheat, results[cheat].notes)


def test_reading_expected_values_from_caller_frames_does_not_score(graded):
    _, results = graded
    assert results["le_o_quadro"].score == 4, results["le_o_quadro"].notes  # q2 (3 points) lost


def test_hidden_tests_never_reach_the_learner_output(graded):
    root, results = graded
    assert results["imprime_o_teste"].score == 7
    nb = nbformat.read(root / "autograded" / "imprime_o_teste" / TAREFA / f"{TAREFA}.ipynb", as_version=4)
    printed = json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False)
    assert "import inspect, linecache" in printed, "a entrega deveria ter impresso o que achou"
    for text in HIDDEN:
        assert text not in printed, text


def test_honest_tempfile_tmp_and_multiprocessing_grade_as_usual(graded):
    _, results = graded
    assert results["honesta_com_processos"].score == 7, results["honesta_com_processos"].notes


def test_wrong_type_gets_the_friendly_message(graded):
    root, results = graded
    assert results["dataframe"].score == 5
    nb = nbformat.read(root / "autograded" / "dataframe" / TAREFA / f"{TAREFA}.ipynb", as_version=4)
    q3 = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q3-testes")
    assert q3.outputs[-1].ename == "TypeError" or "❌" in q3.outputs[-1].evalue


def test_plan_accepts_the_course_shapes_and_refuses_the_rest():
    cell = (
        "confira_que('f' in globals(), 'Não encontrei f.')\n"
        "confira_funcao(f, [((1,), 2)], o_que='f')\n"
        "### BEGIN HIDDEN TESTS\n"
        "def _ocultos():\n"
        "    from automatiza.checagem import confira_funcao\n"
        "    confira_funcao(f, [((3,), 6)], o_que='f (oculto)', dica='dobre')\n"
        "_ocultos()\n"
        "del _ocultos\n"
        "### END HIDDEN TESTS"
    )
    found = checks.plan(cell)
    assert [c.kind for c in found] == ["confira_que", "confira_funcao", "confira_funcao"]
    assert "6" not in " ".join(checks.requests(found))  # expected values stay in the grader
    for other in (
        "for i in range(3):\n    confira(f(i), 2 * i, o_que='f')",
        "confira(f(1), g(1), o_que='f')",
    ):
        with pytest.raises(checks.Unsupported):
            checks.plan(other)


def test_untrusted_answers_are_data_only():
    with pytest.raises(checks.BadAnswer):
        checks.answers('[{"t": "int", "v": "7"}]', 1)
    with pytest.raises(checks.BadAnswer):
        checks.answers("[1, 2]", 1)
    (answer,) = checks.answers('[{"t": "outro", "tipo": "DataFrame"}]', 1)
    assert answer.value != 3.1416 and answer.value != [1]  # an opaque value equals nothing


def test_audit_hooks_are_refused_in_the_kernel_too(tmp_path, monkeypatch):
    """Test cells of other shapes still run in the kernel: there, a learner cannot add an audit hook (it
    would patch again after the guard on every exec)."""
    monkeypatch.setattr(checks, "plan", lambda source: (_ for _ in ()).throw(checks.Unsupported("teste")))
    root = make_course(tmp_path / "curso")
    submit(root, "gancho", solved(root, q3_resposta=CHEATS["gancho_de_auditoria"]))
    submit(root, "certa", solved(root))
    results = by_student(grade_isolated(root))
    assert results["certa"].score == 7
    assert results["gancho"].score == 5, results["gancho"].notes
