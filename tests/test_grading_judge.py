"""The trusted judge (`automatiza.grading.judge`) against a real IPython kernel (`sandbox.remote` inside)."""

from __future__ import annotations

import datetime as dt
import decimal
import time

import numpy as np
import pandas as pd
import pytest
from jupyter_client import KernelManager

from automatiza.grading import judge

SETUP = ["import pandas as pd\nimport numpy as np\nimport json\nfrom automatiza.checagem import *"]

# every request the kernel gets is recorded here, in the learner's namespace, from the kernel's side
SPY = """
import base64, pickle, io
import automatiza.grading.sandbox.remote as _remote
_pedidos = []
_remote._original = _servir = getattr(_remote, "_original", _remote._answer)
def _espiao(namespace, payload):
    class _L(pickle.Unpickler):
        def persistent_load(self, pid):
            return ('handle', pid)
    _pedidos.append(repr(_L(io.BytesIO(base64.b64decode(payload))).load()))
    return _servir(namespace, payload)
_remote._answer = _espiao
"""


@pytest.fixture(scope="module")
def kernel():
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.blocking_client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield manager, client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def learner(kernel, code: str) -> None:
    """Run `code` as a learner's cell (in the kernel, with history, like a real answer cell)."""
    _, client = kernel
    reply = client.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
    assert reply["content"]["status"] == "ok", reply["content"]


def kernel_value(kernel, expression: str):
    _, client = kernel
    reply = client.execute_interactive(
        "", timeout=60, user_expressions={"x": expression}, silent=True, output_hook=lambda msg: None
    )
    return reply["content"]["user_expressions"]["x"]["data"]["text/plain"]


@pytest.fixture(params=["sessao", "pedido"])
def make_judge(kernel, request):
    """A judge on the kernel, with each transport: a session per cell (what the grader uses) and one
    execute request per request."""
    manager, client = kernel
    kind = judge.SessionTransport if request.param == "sessao" else judge.BlockingTransport

    def make() -> judge.Judge:
        return judge.Judge(kind(client, manager.interrupt_kernel), judge.trusted_names(SETUP))

    return make


def printed(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


def error(outputs):
    found = [o for o in outputs if o.output_type == "error"]
    return found[-1] if found else None


def test_data_comes_by_value_with_exact_types(kernel, make_judge):
    learner(
        kernel,
        "import pandas as pd, numpy as np, datetime as dt, decimal\nfrom collections import Counter\n"
        "inteiro, real, lista, tupla = 3, 2.5, [1, (2, 3)], (1,)\n"
        "escalar, vetor = np.int64(7), np.arange(6, dtype='float32').reshape(2, 3)\n"
        "tabela = pd.DataFrame({'n': [1, 2], 't': ['a', None], 'd': pd.to_datetime(['2024-01-31', None]),"
        " 'c': pd.Categorical(['x', 'y']), 'i': pd.array([1, None], dtype='Int64')}, index=['p', 'q'])\n"
        "serie = tabela['n'].rename('soma')\n"
        "quando, dia = pd.Timestamp('2024-03-01 10:00'), dt.date(2024, 3, 1)\n"
        "quantia = decimal.Decimal('1.10')\n"
        "contagem = Counter('abacaxi')\n",
    )
    j = make_judge()
    assert error(j.run_cell("assert 1")) is None
    cache = j.lookup(
        ["inteiro", "real", "lista", "tupla", "escalar", "vetor", "tabela", "serie", "quando", "dia"]
    )
    assert type(cache["inteiro"]) is int and type(cache["real"]) is float
    assert (
        cache["lista"] == [1, (2, 3)] and type(cache["lista"][1]) is tuple and type(cache["tupla"]) is tuple
    )
    assert type(cache["escalar"]) is np.int64 and isinstance(cache["escalar"], np.integer)
    assert cache["vetor"].dtype == np.float32 and cache["vetor"].shape == (2, 3)
    local = pd.DataFrame(
        {
            "n": [1, 2],
            "t": ["a", None],
            "d": pd.to_datetime(["2024-01-31", None]),
            "c": pd.Categorical(["x", "y"]),
            "i": pd.array([1, None], dtype="Int64"),
        },
        index=["p", "q"],
    )
    assert type(cache["tabela"]) is pd.DataFrame and cache["tabela"].equals(local)
    assert (cache["tabela"].dtypes == local.dtypes).all()
    pd.testing.assert_series_equal(cache["serie"], local["n"].rename("soma"))
    assert cache["quando"] == pd.Timestamp("2024-03-01 10:00") and type(cache["quando"]) is pd.Timestamp
    assert cache["dia"] == dt.date(2024, 3, 1) and type(cache["dia"]) is dt.date
    # `decimal` is the learner's import: a module the grader has is the grader's own
    outputs = j.run_cell(
        "confira(inteiro, 3, o_que='inteiro')\nconfira(quantia, decimal.Decimal('1.10'), o_que='d')\n"
        "print(type(contagem).__name__, contagem['a'], decimal is __import__('decimal'))",
    )
    assert error(outputs) is None and "Counter 3 True" in printed(outputs)
    assert isinstance(j.lookup(["quantia"])["quantia"], decimal.Decimal)


def test_handles_calls_attributes_and_isinstance(kernel, make_judge):
    learner(
        kernel,
        "from pathlib import Path\n"
        "class Caixa:\n    def __init__(self, v):\n        self.v = v\n    def dobro(self):\n"
        "        print('dobrando', self.v)\n        return Caixa(self.v * 2)\n    def __len__(self):\n"
        "        return self.v\n"
        "def fabrica(v):\n    return Caixa(v)\n"
        "pasta = Path('/tmp') / 'x'\n",
    )
    j = make_judge()
    outputs = j.run_cell(
        "c = fabrica(3)\n"
        "d = c.dobro()\n"
        "print(type(c).__name__, len(d), d.v, isinstance(d, Caixa), isinstance(3, Caixa),"
        " callable(fabrica))\n"
        "import pathlib\n"
        "print(isinstance(pasta, pathlib.Path), pasta.name, str(pasta / 'y'), f'{d.v:03d}')\n"
    )
    assert error(outputs) is None, outputs
    assert printed(outputs) == "dobrando 3\nCaixa 6 6 True False True\nTrue x /tmp/x/y 006\n"


def test_exceptions_keep_name_message_and_except_clauses(kernel, make_judge):
    learner(
        kernel,
        "import json\nclass MeuErro(ValueError):\n    pass\n"
        "def falha(tipo):\n    if tipo == 'chave':\n        return {}['sem']\n    if tipo == 'json':\n"
        "        return json.loads('{')\n    raise MeuErro('deu errado')\n",
    )
    j = make_judge()
    outputs = j.run_cell(
        "try:\n    falha('chave')\nexcept KeyError as e:\n    print('chave', type(e).__name__, e)\n"
        "try:\n    falha('json')\nexcept json.JSONDecodeError as e:\n    print('json', type(e).__name__)\n"
        "try:\n    falha('outro')\nexcept ValueError as e:\n    print('valor', type(e).__name__, e)\n"
        "falha('outro')\n"
    )
    assert printed(outputs) == "chave KeyError 'sem'\njson JSONDecodeError\nvalor MeuErro deu errado\n"
    assert error(outputs).ename == "MeuErro" and error(outputs).evalue == "deu errado"
    assert error(outputs).traceback == ["Cell In[], line 13", "MeuErro: deu errado"]


def test_hidden_expected_value_never_reaches_the_kernel(kernel, make_judge):
    learner(kernel, SPY + "\ndef resposta(x):\n    return x + 1\nclass Coisa:\n    pass\ncoisa = Coisa()\n")
    j = make_judge()
    outputs = j.run_cell(
        "esperado = 'SEGREDO-' + str(40 + 2)\n"
        "confira(str(resposta(41)), esperado[-2:], o_que='resposta')\n"
        "confira_que(coisa != 'SEGREDO-COMPARADO', 'objeto')\n"
        "assert coisa == coisa and not (coisa == 'SEGREDO-IGUAL')\n"
        "confira(resposta(1), 'SEGREDO-TIPO', o_que='tipo')\n"
    )
    assert error(outputs).ename == "AssertionError"
    seen = kernel_value(kernel, "repr(_pedidos) + repr(list(In)) + repr(globals().keys())")
    assert "resposta" in seen and "41" in seen
    assert "SEGREDO" not in seen and "esperado" not in seen


def test_learner_reading_its_callers_sees_no_test_source(kernel, make_judge):
    learner(
        kernel,
        "import inspect, linecache, sys\n"
        "def espia():\n"
        "    vistos = [repr(In), repr(Out)]\n"
        "    for quadro in inspect.stack():\n"
        "        vistos.append(repr(quadro.code_context))\n"
        "        vistos.append(repr(quadro.frame.f_locals.keys()))\n"
        "    f = sys._getframe()\n"
        "    while f:\n"
        "        vistos.append(linecache.getline(f.f_code.co_filename, f.f_lineno))\n"
        "        f = f.f_back\n"
        "    print('\\n'.join(vistos))\n"
        "    return 0\n",
    )
    j = make_judge()
    outputs = j.run_cell(
        "### BEGIN HIDDEN TESTS\n_oculto = 'TEXTO-OCULTO'\nconfira(espia(), 1, o_que='TEXTO-OCULTO')\n"
    )
    assert error(outputs).ename == "AssertionError"
    shown = printed(outputs)
    assert "espia" in shown
    assert "OCULTO" not in shown and "HIDDEN" not in shown


def test_patched_builtins_and_checks_in_the_kernel_do_not_pass_a_wrong_answer(kernel, make_judge):
    learner(
        kernel,
        "import builtins, automatiza.checagem as checagem\n"
        "builtins.abs = lambda x: 0\nabs = lambda x: 0\nbuiltins.round = lambda *a: 2.0\n"
        "checagem.confira = lambda *a, **k: None\nconfira = lambda *a, **k: None\n"
        "checagem._same = lambda a, b: True\n"
        "class Sempre(float):\n    def __eq__(self, outro):\n        return True\n"
        "    __hash__ = float.__hash__\n"
        "resposta = 1.0\nsempre = Sempre(1.0)\n",
    )
    j = make_judge()
    outputs = j.run_cell("confira(resposta, 2.0, o_que='resposta')")
    assert error(outputs).ename == "AssertionError"
    outputs = j.run_cell("assert abs(resposta - 2.0) < 0.1, 'longe'")
    assert error(outputs).evalue == "longe"
    outputs = j.run_cell("confira(round(resposta), 2, o_que='arredondado')")
    assert error(outputs).ename == "AssertionError"
    outputs = j.run_cell("confira(sempre, 2.0, o_que='sempre')")
    assert error(outputs).ename == "AssertionError"


def test_arguments_changed_in_place_change_in_the_judge(kernel, make_judge):
    learner(
        kernel,
        "import builtins\nimportlib = __import__('importlib')\n"
        "def acrescenta(lista, tabela):\n    lista.append(4)\n    tabela['novo'] = 1\n    return None\n"
        "def copia(lista):\n    return list(lista) + [9]\n",
    )
    j = make_judge()
    outputs = j.run_cell(
        "l = [1, 2]\nt = pd.DataFrame({'a': [1, 2]})\nacrescenta(l, t)\nprint(l, list(t.columns))\n"
        "m = [1]\nprint(copia(m), m)\n"
    )
    assert error(outputs) is None, outputs
    assert printed(outputs) == "[1, 2, 4] ['a', 'novo']\n[1, 9] [1]\n"


def test_functions_of_the_test_are_called_back_in_the_judge(kernel, make_judge):
    learner(
        kernel,
        "def aplica(funcao, valores):\n    return [funcao(v) for v in valores]\n"
        "def pergunta():\n    return input('?')\n",
    )
    j = make_judge()
    outputs = j.run_cell(
        "chamadas = []\n"
        "def registra(x):\n    chamadas.append(x)\n    return {'dobro': 2 * x}\n"
        "print(aplica(registra, [1, 2]), chamadas, aplica(lambda v: v + 1, (5,)))\n"
        "try:\n    aplica(lambda v: 1 / v, [0])\nexcept ZeroDivisionError as e:\n    print('zero', e)\n"
        "pergunta()\n"
    )
    assert printed(outputs).startswith("[{'dobro': 2}, {'dobro': 4}] [1, 2] [6]\nzero division by zero\n")
    assert error(outputs).ename == "StdinNotImplementedError"  # as in nbgrader: no input during grading


def test_objects_of_classes_the_test_defines_are_called_back(kernel, make_judge):
    learner(
        kernel, "def usa(modelo, textos):\n    return [modelo.classes_[i] for i in modelo.prever(textos)]\n"
    )
    j = make_judge()
    outputs = j.run_cell(
        "class Falso:\n    classes_ = ['a', 'b']\n    def prever(self, textos):\n"
        "        return [len(t) % 2 for t in textos]\n"
        "print(usa(Falso(), ['x', 'yy']))\n"
    )
    assert error(outputs) is None, outputs
    assert printed(outputs) == "['b', 'a']\n"


def test_a_learner_dict_changed_by_the_test_changes_in_the_kernel(kernel, make_judge):
    learner(kernel, "LIMITES = {'a': {'x': 1}}\ndef limite():\n    return LIMITES['a']['x']\n")
    j = make_judge()
    outputs = j.run_cell(
        "antes = limite()\nLIMITES['a']['x'] = 5\ndepois = limite()\nLIMITES['a']['x'] = 7\n"
        "print(antes, depois)"
    )
    assert error(outputs) is None, outputs
    assert printed(outputs) == "1 5\n"
    assert kernel_value(kernel, "LIMITES['a']['x']") == "7"  # written back at the end of the cell


def test_the_kernel_cannot_lend_the_grader_its_own_modules_or_objects(kernel, make_judge):
    learner(
        kernel,
        "import os\nlista = os\n"
        "def espia(log):\n    try:\n        return repr(log.manager)\n    except Exception as e:\n"
        "        return type(e).__name__\n",
    )
    j = make_judge()
    outputs = j.run_cell(
        "import os, logging\nprint(lista.getpid() != os.getpid(), espia(logging.getLogger('teste-juiz')))\n"
    )
    assert error(outputs) is None, outputs
    assert printed(outputs) == "True PermissionError\n"


def test_an_endless_learner_loop_hits_the_cell_deadline(kernel, make_judge):
    learner(
        kernel,
        "import time\ndef sem_fim():\n    while True:\n        time.sleep(0.01)\n        yield 1\n"
        "def trava():\n    while True:\n        pass\n",
    )
    j = make_judge()
    begin = time.monotonic()
    outputs = j.run_cell("for x in sem_fim():\n    pass", timeout=2)
    assert error(outputs).ename == "CellTimeoutError"
    outputs = j.run_cell("trava()", timeout=2)
    assert error(outputs).ename == "CellTimeoutError"
    assert time.monotonic() - begin < 20
    assert error(make_judge().run_cell("print(1)", timeout=10)) is None  # the kernel answers again


def test_huge_or_malformed_replies_are_refused(kernel, make_judge):
    learner(kernel, "grande = 'x' * 3_000_000\nfundo = []\nfor _ in range(200):\n    fundo = [fundo]\n")
    j = make_judge()
    j.max_reply = 1_000_000
    outputs = j.run_cell("print(len(grande))")
    assert error(outputs).ename == "RespostaInvalida"
    assert "fundo" not in "".join(map(str, make_judge().run_cell("x = fundo")))
    learner(
        kernel,
        "import automatiza.grading.sandbox.remote as _r\n_antes = _r._answer\n"
        '_r._answer = lambda ns, p: \'{"ok": {"t": "pickle", "v": "cos\\\\nsystem"}}\'\n',
    )
    try:
        outputs = make_judge().run_cell("confira(grande, 'y', o_que='x')")
        assert error(outputs).ename == "RespostaInvalida"
    finally:
        learner(kernel, "_r._answer = _antes")


def test_round_trip_is_fast(kernel, make_judge):
    learner(kernel, "def um():\n    return 1\n")
    j = make_judge()
    j.run_cell("um()")
    begin = time.monotonic()
    outputs = j.run_cell("for _ in range(100):\n    um()")
    assert error(outputs) is None
    per_call = (time.monotonic() - begin) / 200  # a lookup and a call per turn
    assert per_call < 0.02, per_call


def test_a_session_whose_first_prompt_is_lost_opens_again(kernel):
    """The kernel's stdin socket (a ZMQ ROUTER) drops an input request sent before it has registered the
    judge's new client: the session's first prompt never came and a right answer timed out (seen once in
    ~1500 submissions). Simulated by dropping the kernel's next input request: the session opens again."""
    manager, client = kernel
    learner(
        kernel,
        "_k = get_ipython().kernel\n_envia = _k.session.send\n_perdidos = []\n"
        "def _perde_um(stream, tipo, *a, **k):\n"
        "    if tipo == 'input_request' and not _perdidos:\n"
        "        _perdidos.append(tipo)\n"
        "        return None\n"
        "    return _envia(stream, tipo, *a, **k)\n"
        "_k.session.send = _perde_um\n"
        "def dobro(x):\n    return 2 * x\n",
    )
    try:
        transport = judge.SessionTransport(client, manager.interrupt_kernel)
        outputs = judge.Judge(transport, judge.trusted_names(SETUP)).run_cell(
            "confira_funcao(dobro, [((2,), 4), ((5,), 10)], o_que='dobro')", 20
        )
        assert error(outputs) is None, outputs
        assert kernel_value(kernel, "_perdidos") == "['input_request']"
    finally:
        learner(kernel, "_k.session.send = _envia")
