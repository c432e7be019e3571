"""Test cells judged by the grader, outside the learner's kernel, wherever the course's checks allow it.

A test cell made only of the course's checks (`confira(valor, esperado, ...)`,
`confira_funcao(funcao, [(argumentos, esperado), ...], ...)`, `confira_que(condicao, mensagem, ...)`,
`assert condicao`, possibly inside a helper function that the cell defines, calls and deletes), with every
expected value a literal, is never sent to the kernel. The grader asks the kernel only for the values the
checks look at (the learner's results, computed in the learner's namespace from the cell's inputs), receives
them as plain data and compares them itself with `automatiza.checagem`'s own rules and messages.

So, for those cells: the hidden expected values and the hidden tests' source never enter the kernel (no
`In`, `linecache`, `inspect` or frame walking can reach them), and nothing the learner patches inside the
kernel (builtins, the checks, audit hooks, threads) can make a wrong value compare equal: the value crosses
as JSON and the comparison runs in the grader. What the kernel returns is still the learner's: a learner who
knows the expected value can return it, which is what answering is.

Cells of any other shape (loops building inputs, pandas objects, checks with computed expected values) run
in the kernel as nbgrader runs them, protected only by the in-kernel guard (`sandbox.guard`), a deterrent.
"""

from __future__ import annotations

import ast
import builtins
import json
from dataclasses import dataclass, field
from typing import Any

from nbformat import NotebookNode

from automatiza import checagem

CHECKS = frozenset({"confira", "confira_funcao", "confira_que"})


class Unsupported(Exception):
    """The cell is not made only of checks the grader can judge: it runs in the kernel."""


class BadAnswer(Exception):
    """The kernel's answer does not have the shape `guard.evaluate` gives: the cell fails."""


TYPE_NAMES = ("str", "int", "float", "bool", "list", "tuple", "dict", "set")


class Opaque:
    """A value the kernel could not send as plain data (a DataFrame, an object of the learner's): it equals
    no expected literal, as in `automatiza.checagem`, where such values never match a plain one."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<um objeto do tipo {self.kind}>"


@dataclass
class Check:
    kind: str  # confira | confira_funcao | confira_que | assert
    requests: list[str]  # expressions evaluated in the kernel, in order
    expected: list[Any] = field(default_factory=list)
    arguments: list[tuple] = field(default_factory=list)
    what: str = ""
    hint: str = ""
    message: str = ""
    line: int = 0  # of the check in the cell (where the feedback looks to tell hidden from visible)


# ---- planning (trusted test source, in the grader) -----------------------------------------------------


def _literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Name) and node.id in TYPE_NAMES:
        return getattr(builtins, node.id)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise Unsupported(ast.unparse(node)) from exc


def _keywords(call: ast.Call, allowed: set[str]) -> dict[str, Any]:
    found = {}
    for keyword in call.keywords:
        if keyword.arg not in allowed:
            raise Unsupported(f"argumento {keyword.arg}")
        found[keyword.arg] = _literal(keyword.value)
    return found


def _check(call: ast.Call) -> Check:
    name = call.func.id  # type: ignore[attr-defined]
    if name == "confira":
        if len(call.args) != 2:
            raise Unsupported("confira")
        options = _keywords(call, {"o_que", "dica"})
        return Check(
            "confira",
            [ast.unparse(call.args[0])],
            [_literal(call.args[1])],
            what=str(options.get("o_que", "")),
            hint=str(options.get("dica", "")),
        )
    if name == "confira_funcao":
        if len(call.args) != 2:
            raise Unsupported("confira_funcao")
        options = _keywords(call, {"o_que", "dica"})
        cases = _literal(call.args[1])
        if not isinstance(cases, list | tuple) or not all(
            isinstance(c, tuple | list) and len(c) == 2 and isinstance(c[0], tuple) for c in cases
        ):
            raise Unsupported("casos")
        function = ast.unparse(call.args[0])
        requests = [f"callable({function})"]
        requests += [f"({function})(*{arguments!r})" for arguments, _ in cases]
        return Check(
            "confira_funcao",
            requests,
            [expected for _, expected in cases],
            [tuple(arguments) for arguments, _ in cases],
            what=str(options.get("o_que", "")),
            hint=str(options.get("dica", "")),
        )
    if name == "confira_que":
        if len(call.args) != 2:
            raise Unsupported("confira_que")
        options = _keywords(call, {"dica"})
        return Check(
            "confira_que",
            [f"bool({ast.unparse(call.args[0])})"],
            message=str(_literal(call.args[1])),
            hint=str(options.get("dica", "")),
        )
    raise Unsupported(name)


def _statements(body: list[ast.stmt], helpers: dict[str, list[ast.stmt]], depth: int = 0) -> list[Check]:
    checks: list[Check] = []
    for statement in body:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            modules = [statement.module] if isinstance(statement, ast.ImportFrom) else []
            modules += [] if isinstance(statement, ast.ImportFrom) else [a.name for a in statement.names]
            if modules != ["automatiza.checagem"]:
                raise Unsupported("import")
        elif isinstance(statement, ast.FunctionDef) and depth == 0:
            if statement.decorator_list or any(
                getattr(statement.args, part) for part in ("args", "posonlyargs", "kwonlyargs")
            ):
                raise Unsupported("def")
            helpers[statement.name] = statement.body
        elif isinstance(statement, ast.Delete) and depth == 0:
            if not all(isinstance(t, ast.Name) and t.id in helpers for t in statement.targets):
                raise Unsupported("del")
        elif isinstance(statement, ast.Assert):
            message = _literal(statement.msg) if statement.msg is not None else ""
            test = f"bool({ast.unparse(statement.test)})"
            checks.append(Check("assert", [test], message=str(message), line=statement.lineno))
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            if not isinstance(call.func, ast.Name):
                raise Unsupported("chamada")
            if call.func.id in CHECKS:
                checks.append(_check(call))
                checks[-1].line = statement.lineno
            elif call.func.id in helpers and not call.args and not call.keywords and depth == 0:
                checks += _statements(helpers[call.func.id], helpers, depth + 1)
            else:
                raise Unsupported(call.func.id)
        elif isinstance(statement, ast.Try) and not statement.handlers and not statement.orelse:
            # `try: _ocultos()` / `finally: del _ocultos`, as the course writes its hidden tests
            checks += _statements(statement.body + statement.finalbody, helpers, depth)
        elif isinstance(statement, ast.Pass):
            continue
        else:
            raise Unsupported(type(statement).__name__)
    return checks


def plan(source: str) -> list[Check]:
    """The checks of a test cell, or `Unsupported` if the grader cannot judge it on its own."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise Unsupported("sintaxe") from exc
    checks = _statements(tree.body, {})
    if not checks:
        raise Unsupported("sem verificações")
    return checks


def requests(checks: list[Check]) -> list[str]:
    return [request for check in checks for request in check.requests]


# ---- the kernel's answer (untrusted data) --------------------------------------------------------------


def decode(value: Any) -> Any:
    """A value sent by `guard.evaluate` back to plain Python (tags keep tuple/list/int/float apart)."""
    if not isinstance(value, dict) or "t" not in value:
        raise BadAnswer("valor")
    tag, content = value["t"], value.get("v")
    if tag in ("none", "bool", "int", "str"):
        if type(content) is not {"none": type(None), "bool": bool, "int": int, "str": str}[tag]:
            raise BadAnswer(tag)
        return content
    if tag == "float":
        if isinstance(content, str) and content in ("nan", "inf", "-inf"):
            return float(content)
        if type(content) not in (int, float):
            raise BadAnswer(tag)
        return float(content)
    if tag in ("list", "tuple", "set"):
        if not isinstance(content, list):
            raise BadAnswer(tag)
        items = [decode(item) for item in content]
        if tag == "set":
            try:
                return set(items)
            except TypeError as exc:
                raise BadAnswer(tag) from exc
        return items if tag == "list" else tuple(items)
    if tag == "dict":
        if not isinstance(content, list):
            raise BadAnswer(tag)
        result = {}
        for pair in content:
            if not isinstance(pair, list) or len(pair) != 2:
                raise BadAnswer(tag)
            try:
                result[decode(pair[0])] = decode(pair[1])
            except TypeError as exc:
                raise BadAnswer(tag) from exc
        return result
    if tag == "type":
        if content == "NoneType":
            return type(None)
        if content not in TYPE_NAMES:
            raise BadAnswer(tag)
        return getattr(builtins, content)
    if tag == "outro":
        return Opaque(str(value.get("tipo", "?"))[:100])
    raise BadAnswer(str(tag)[:50])


@dataclass
class Answer:
    """What the kernel said about one request: a value or an error (name and message)."""

    value: Any = None
    error: tuple[str, str] | None = None


def answers(text: str, count: int) -> list[Answer]:
    """Parse the kernel's JSON; `BadAnswer` if it does not have the shape `guard.evaluate` gives."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadAnswer("json") from exc
    if not isinstance(data, list) or len(data) != count:
        raise BadAnswer("lista")
    found = []
    for item in data:
        if isinstance(item, dict) and "erro" in item:
            error = item["erro"]
            if not (isinstance(error, list) and len(error) == 2 and all(isinstance(e, str) for e in error)):
                raise BadAnswer("erro")
            found.append(Answer(error=(error[0][:200], error[1][:2000])))
        else:
            try:
                found.append(Answer(value=decode(item)))
            except RecursionError as exc:
                raise BadAnswer("profundo") from exc
    return found


def broken() -> list[NotebookNode]:
    """The outputs of a test cell whose values came back unreadable (0 points for that cell)."""
    return [
        _error(
            "RespostaInvalida",
            "os valores desta verificação voltaram do kernel num formato inválido (o código do notebook "
            "alterou o ambiente de correção)",
        )
    ]


# ---- judging (in the grader) --------------------------------------------------------------------------


def _error(ename: str, evalue: str, line: int = 0) -> NotebookNode:
    """An error output like IPython's plain traceback: where (the check's line), then the error; no code."""
    where = [f"Cell In[], line {line}"] if line else []
    return NotebookNode(
        output_type="error", ename=ename, evalue=evalue, traceback=[*where, f"{ename}: {evalue}"]
    )


def _with_hint(message: str, hint: str) -> str:
    return f"{message} Dica: {hint}" if hint else message


def judge(checks: list[Check], found: list[Answer]) -> list[NotebookNode]:
    """The cell's outputs, as the checks would have written them in the kernel: a line per check that
    passed and, at the first that fails, an AssertionError (or the learner's error) with the message."""
    printed: list[str] = []
    outputs: list[NotebookNode] = []
    position = 0

    def stop(output: NotebookNode) -> list[NotebookNode]:
        if check.line and output.get("traceback") and not output["traceback"][0].startswith("Cell In"):
            output["traceback"] = [f"Cell In[], line {check.line}", *output["traceback"]]
        if printed:
            outputs.append(NotebookNode(output_type="stream", name="stdout", text="".join(printed)))
        outputs.append(output)
        return outputs

    for check in checks:
        mine = found[position : position + len(check.requests)]
        position += len(check.requests)
        first = mine[0]
        if check.kind == "confira_funcao":
            if first.error is not None:
                return stop(_error(*first.error))
            if first.value is not True:
                return stop(
                    _error("AssertionError", f"❌ {check.what}: esperava uma função, mas veio outra coisa.")
                )
            for arguments, expected, answer in zip(check.arguments, check.expected, mine[1:], strict=True):
                entrada = ", ".join(checagem._show(a) for a in arguments)
                if answer.error is not None:
                    ename, evalue = answer.error
                    message = (
                        f"❌ {check.what}: com a entrada {entrada}, a função gerou o erro {ename}: {evalue}."
                    )
                    return stop(_error("AssertionError", _with_hint(message, check.hint)))
                difference = checagem.diferenca(
                    answer.value, expected, f"{check.what} com a entrada {entrada}", check.hint
                )
                if difference:
                    return stop(_error("AssertionError", "❌ " + difference))
            printed.append(f"✅ {check.what}: {len(check.arguments)} caso(s) corretos.\n")
            continue
        if first.error is not None:
            return stop(_error(*first.error))
        if check.kind == "confira":
            difference = checagem.diferenca(first.value, check.expected[0], check.what, check.hint)
            if difference:
                return stop(_error("AssertionError", "❌ " + difference))
            printed.append(f"✅ {check.what}: correto.\n")
        elif check.kind == "confira_que":
            if first.value is not True:
                return stop(_error("AssertionError", "❌ " + _with_hint(check.message, check.hint)))
        elif first.value is not True:  # assert
            return stop(_error("AssertionError", check.message))
    if printed:
        outputs.append(NotebookNode(output_type="stream", name="stdout", text="".join(printed)))
    return outputs
