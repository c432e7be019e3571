"""Test integrity: cheats that defeated the in-kernel guard (issue 9) no longer change a score, because test
cells run in the grader, in the trusted judge (`automatiza.grading.judge`), outside the learner's kernel.

Every cheating submission below answers the attacked question wrongly; before, each one got its points. The
honest ones keep theirs, and a learner's code that prints its caller's source (linecache, inspect, In) never
gets hidden-test text into the graded notebook (which the feedback is made from).
"""

from __future__ import annotations

import json

import nbformat
import pytest
from correcao_apoio import TAREFA, by_student, grade_isolated, make_course, solved, submit

from automatiza.grading import judge

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
    # a value that says it equals anything: a float subclass comes back as a handle, never as a float
    "sempre_igual": (
        "class Sempre(float):\n"
        "    def __eq__(self, outro):\n        return True\n"
        "    def __ne__(self, outro):\n        return False\n"
        "    __hash__ = float.__hash__\n"
        "def area_circulo(raio):\n    return Sempre(0)"
    ),
    "forja_o_guarda": (
        "import hashlib, hmac, json, automatiza.checagem as c, automatiza.grading.sandbox.guard as g\n"
        "import automatiza.grading.sandbox.remote as r\n"
        "def restore(nonce, ligacoes):\n"
        f"    {NEUTER}\n"
        "    token = hmac.new(g._snapshot.key, (nonce + '[]').encode(), hashlib.sha256).hexdigest()\n"
        "    return json.dumps({'restaurado': [], 'token': token})\n"
        "g.restore = restore\n"
        "r._encode = lambda valor, depth=0: {'t': 'b', 'v': True}\n" + WRONG_AREA
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
    assert pool.map(abs, [-1, -2]) == [1, 2]
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


def test_only_cells_that_work_with_files_run_in_the_kernel():
    assert not judge.runs_in_kernel("for i in range(3):\n    confira(f(i), 2 * i, o_que='f')")
    assert not judge.runs_in_kernel("t = pd.DataFrame({'a': [1]})\nconfira_que(f(t).equals(t), 'x')")
    assert judge.runs_in_kernel("import tempfile\nwith tempfile.TemporaryDirectory() as d:\n    f(d)")
    assert judge.runs_in_kernel("confira(len(pd.read_csv(arquivo)), 3, o_que='linhas')")


def test_untrusted_answers_are_data_only():
    decoder = judge.Judge(transport=None)  # type: ignore[arg-type]
    for bad in ({"t": "i", "v": "7"}, [1, 2], {"t": "pickle", "v": "cos\nsystem"}, {"t": "nd", "dtype": "O"}):
        with pytest.raises(judge.BadAnswer):
            decoder.decode(bad)
    deep: dict = {"t": "n"}
    for _ in range(200):
        deep = {"t": "l", "v": [deep]}
    with pytest.raises(judge.BadAnswer):
        decoder.decode(deep)


def test_audit_hooks_are_refused_in_the_kernel_too(tmp_path, monkeypatch):
    """Test cells that work with files still run in the kernel: there, a learner cannot add an audit hook (it
    would patch again after the guard on every exec)."""
    monkeypatch.setattr(judge, "runs_in_kernel", lambda source: True)
    root = make_course(tmp_path / "curso")
    submit(root, "gancho", solved(root, q3_resposta=CHEATS["gancho_de_auditoria"]))
    submit(root, "certa", solved(root))
    results = by_student(grade_isolated(root))
    assert results["certa"].score == 7
    assert results["gancho"].score == 5, results["gancho"].notes


# ---- hidden tests with computed expected values (a DataFrame built in the test, a loop of cases) ---------

TABLE_SOLUTION = (
    "def resumo(tabela):\n"
    "    somas = tabela.groupby('unidade', as_index=False)['dias'].sum()\n"
    "    return somas.sort_values('dias', ascending=False, ignore_index=True)"
)
TABLE_TEST = """confira_que("resumo" in globals(), "Não encontrei a função resumo.")
### BEGIN HIDDEN TESTS
def _ocultos():
    import pandas as pd
    from automatiza.checagem import confira_que

    def _referencia(tabela):
        somas = tabela.groupby("unidade", as_index=False)["dias"].sum()
        return somas.sort_values("dias", ascending=False, ignore_index=True)

    base = pd.DataFrame({"unidade": ["A", "B", "A", "C"], "dias": [3, 5, 4, 1]})
    obtido = resumo(base.copy())
    confira_que(isinstance(obtido, pd.DataFrame) and obtido.equals(_referencia(base)),
                "resumo não confere com a tabela de teste.")
    for n in range(1, 4):
        caso = pd.DataFrame({"unidade": list("XYZ")[:n], "dias": list(range(n))})
        confira_que(resumo(caso).equals(_referencia(caso)), f"resumo não confere no caso {n}.")


try:
    _ocultos()
finally:
    del _ocultos
### END HIDDEN TESTS"""
# fragments of the hidden test's source that must never reach an output (its messages may: they are the
# feedback)
TABLE_HIDDEN = ("_referencia", "BEGIN HIDDEN", 'list("XYZ")', "ignore_index=True)\n", "_ocultos")
WRONG_TABLE = "def resumo(tabela):\n    return tabela.head(2).reset_index(drop=True)"
PATCH_CHECKS = (
    "import automatiza.checagem as c, pandas as pd\n"
    "c.confira_que.__code__ = (lambda *a, **k: None).__code__\n"
    "pd.DataFrame.equals = lambda self, other: True"
)
TABLE_CHEATS = {
    "sombra_de_builtins": (
        "import builtins\nisinstance = lambda *a: True\nall = any = lambda *a: True\n"
        "builtins.len = lambda *a: 3\n" + WRONG_TABLE
    ),
    "checagem_e_pandas_alterados": PATCH_CHECKS + "\nconfira_que = lambda *a, **k: None\n" + WRONG_TABLE,
    "gancho_de_auditoria": (
        "import sys\n"
        "def gancho(evento, args):\n"
        "    if evento == 'exec':\n"
        "        exec(" + repr(PATCH_CHECKS) + ", {})\n"
        "sys.addaudithook(gancho)\n" + WRONG_TABLE
    ),
    "thread_que_repete": (
        "exec('import threading, time\\n'\n"
        "     'def f():\\n'\n"
        "     '    while True:\\n'\n"
        "     '        exec(" + repr(PATCH_CHECKS).replace("'", "\\'") + ", {})\\n'\n"
        "     '        time.sleep(0.0005)\\n'\n"
        "     'threading.Thread(target=f, daemon=True).start()', {})\n" + WRONG_TABLE
    ),
    "le_o_esperado_dos_quadros": (
        "import sys, inspect\n"
        "def resumo(tabela):\n"
        "    for quadro in inspect.stack():\n"
        "        for nome, valor in quadro.frame.f_locals.items():\n"
        "            if nome in ('esperado', 'certo') or nome.startswith('_ref'):\n"
        "                return valor(tabela) if callable(valor) else valor\n"
        "    return tabela.head(1)"
    ),
}
SPIES_ON_THE_TEST = "import inspect, linecache, sys\n" + TABLE_SOLUTION.replace(
    "def resumo(tabela):\n",
    "def resumo(tabela):\n"
    "    print(repr(In))\n"
    "    for quadro in inspect.stack():\n"
    "        print(quadro.filename, quadro.code_context, list(quadro.frame.f_locals))\n"
    "        print(''.join(linecache.getlines(quadro.filename)))\n"
    "    quadro = sys._getframe()\n"
    "    while quadro is not None:\n"
    "        print(quadro.f_code.co_name, list(quadro.f_globals)[:50])\n"
    "        quadro = quadro.f_back\n",
)


def _table_course(root):
    """The test course with q3 replaced by a question whose hidden test computes its expected values."""
    from correcao_apoio import make_course
    from nbgrader.apps import NbGraderAPI

    from automatiza.release import nbgrader_config

    root = make_course(root)
    path = root / "source" / TAREFA / f"{TAREFA}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "preparo":
            cell.source = (
                "import math\nimport pandas as pd\nfrom automatiza.checagem import confira, confira_funcao"
            )
        elif grade_id == "q3-resposta":
            cell.source = f"### BEGIN SOLUTION\n{TABLE_SOLUTION}\n### END SOLUTION"
        elif grade_id == "q3-testes":
            cell.source = TABLE_TEST
    nbformat.write(nb, path)
    config = nbgrader_config(root)
    config.CourseDirectory.course_id = "curso-teste"
    config.Execute.timeout = 5
    result = NbGraderAPI(config=config).generate_assignment(TAREFA, force=True)
    assert result["success"], result.get("error") or result.get("log")
    return root


@pytest.fixture(scope="module")
def graded_table(tmp_path_factory):
    root = _table_course(tmp_path_factory.mktemp("curso-tabela"))
    submit(root, "certa", solved(root, q3_resposta=TABLE_SOLUTION))
    submit(root, "errada", solved(root, q3_resposta=WRONG_TABLE))
    for name, code in TABLE_CHEATS.items():
        submit(root, name, solved(root, q3_resposta=code))
    submit(root, "espia_o_teste", solved(root, q3_resposta=SPIES_ON_THE_TEST))
    return root, by_student(grade_isolated(root))


def test_computed_expected_values_judge_honest_answers(graded_table):
    _, results = graded_table
    assert results["certa"].score == 7, results["certa"].notes
    assert results["errada"].score == 5, results["errada"].notes


@pytest.mark.parametrize("cheat", sorted(TABLE_CHEATS))
def test_cheats_cannot_pass_a_hidden_test_with_computed_expected_values(graded_table, cheat):
    _, results = graded_table
    assert results[cheat].score == 5, (cheat, results[cheat].notes)


def test_learner_spying_on_a_computed_hidden_test_sees_none_of_it(graded_table):
    from automatiza.grading import coursedir, feedback

    root, results = graded_table
    assert results["espia_o_teste"].score == 7, results["espia_o_teste"].notes
    nb = nbformat.read(root / "autograded" / "espia_o_teste" / TAREFA / f"{TAREFA}.ipynb", as_version=4)
    printed = json.dumps([c.get("outputs", []) for c in nb.cells], ensure_ascii=False)
    assert "def resumo(tabela)" in printed, "a entrega deveria ter impresso o que achou"
    pages = feedback.generate(coursedir.load(root), TAREFA, ["espia_o_teste"])
    shown = printed + "".join(page.read_text() for page in pages)
    for text in TABLE_HIDDEN:
        assert text not in shown, text
