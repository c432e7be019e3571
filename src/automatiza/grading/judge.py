"""The trusted judge: test cells run in the grader, the learner's objects stay in the kernel.

A test cell comes from the course's source notebook (the gradebook), never from the submission. The judge
`exec`s it here, in a namespace of its own per notebook (kept across that notebook's test cells), where:

- the modules that the source notebook's non-solution cells import (`import pandas as pd`,
  `from automatiza.checagem import *`, ...) are the grader's own imports, decided from the source notebook
  and never from what the kernel says; the checks of `automatiza.checagem` are always the real ones;
- builtins are the grader's (a learner's `abs = ...` or a patched `builtins` in the kernel changes nothing);
- any other name the cell reads is looked up in the learner's namespace, in the kernel (`sandbox.remote`):
  all the names the cell mentions in one round trip before it runs, again one by one after each call into
  the learner's code (which may have changed them). Data comes back BY VALUE with its exact type (numbers,
  text, containers, numpy and pandas values, dates, decimals), so the comparisons run here, on copies the
  learner's code cannot touch any more. Everything else (the learner's functions, classes, other objects)
  comes back as a `Handle`: calling it, its attributes, items, `len`, iteration, conversions, operators and
  `isinstance` against a remote class are requests to the kernel, answered the same way.

What crosses to the kernel: the arguments of the learner's functions and operators (inputs, pickled: the
kernel is the untrusted side, so only the grader unpickles nothing), the operand of a comparison only when
Python itself would call the learner object's own method (`__eq__` of a class that defines one, `<`, `in`),
never an expected value in any other way, and never the test's source: no `In`, `linecache`, `inspect` or
frame walk in the kernel can show it. What comes back is parsed by a strict tagged-JSON decoder, bounded in
size and depth; each request has the cell's deadline (a learner iterator that never ends is interrupted).

Output is what the cell would print in the kernel: its own prints and the learner's (the kernel's stream
messages of each request), in order, then, at the first uncaught exception, an error output with the
exception's name and message and `Cell In[], line N` (the line of the cell where it surfaced, which the
feedback uses to tell hidden from visible tests) and no source line.

Arguments the learner's code changes in place (a list, a dict, a DataFrame given to a function) are changed
in the grader's copy too, as they would be in the kernel; a learner's list, dict or set that the test
changes in its copy is written back into the kernel before the learner's code runs again and at the end
of the cell. Other values that came by value are copies: giving one back to a learner's function sends a
copy, not the kernel's original object. The test's own functions and the objects that are not data (an
object of a class the test defines, a logger that collects) stay here: the kernel gets callbacks, which it
calls through an input request that the judge answers (only public methods, for objects that are not of
the test's own classes); a callback cannot use the kernel, which is waiting for it.

Transport: one session per test cell (`SessionTransport`: a silent execute request that stays open, each
request a reply to the kernel's input request), about 1 ms a round trip; `BlockingTransport` sends one
execute request per request. Not judged here, but in the kernel as nbgrader runs them: test cells that
work with files (`runs_in_kernel`), since the kernel's files are not the grader's and the grader must not
open files the learner controls.
"""

from __future__ import annotations

import ast
import base64
import builtins
import contextlib
import datetime as dt
import decimal
import importlib
import io
import json
import math
import pickle
import sys
import threading
import time
import types
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from nbformat import NotebookNode

from automatiza import checagem

MAX_REPLY = 64 * 1024 * 1024  # characters of one answer of the kernel
MAX_DEPTH = 80
MAX_OUTPUT = 1024 * 1024  # characters of stream output kept per cell
FILENAME = "<teste>"
REMOTE = "__import__('automatiza.grading.sandbox.remote', fromlist=['_']).serve(globals(), {payload!r})"
SESSION = "__import__('automatiza.grading.sandbox.remote', fromlist=['_']).session(globals())"
SESSION_MARK = "\x00automatiza-juiz-sessao:"
FIRST_PROMPT_SECONDS = 2.0  # a session opens in milliseconds; no first prompt by then: it was lost (_open)
CHECKS = {
    name: getattr(checagem, name) for name in ("confira", "confira_que", "confira_funcao", "nome_do_tipo")
}
CALLBACK_MARK = "\x00automatiza-juiz:"


CALLBACK_OPERATIONS: dict[str, Callable] = {
    "__len__": len,
    "__iter__": list,
    "__getitem__": lambda target, key: target[key],
    "__repr__": repr,
}


# objects of these packages travel to the kernel as copies (data); other objects of the test stay here
DATA_PACKAGES = frozenset(
    {"builtins", "numpy", "pandas", "datetime", "decimal", "fractions", "collections", "pathlib", "re"}
    | {"zoneinfo", "uuid", "copyreg", "functools", "array", "enum", "string", "pickle"}
)


def _stays_here(obj: Any) -> bool:
    """An object of the test that must not be copied into the kernel (a logger that collects, an object of
    a class the test defines): the kernel gets a callback object, and what it does with it happens here."""
    if isinstance(obj, type):
        return obj.__module__ == "__main__"
    if isinstance(obj, types.ModuleType | types.BuiltinFunctionType | types.FunctionType | types.MethodType):
        return False
    module = str(getattr(type(obj), "__module__", "") or "")
    if module == "__main__":
        return True
    return not callable(obj) and module.split(".")[0] not in DATA_PACKAGES


def _may_get(target: Any, attr: str) -> bool:
    """What the kernel may ask of an object of the test: any attribute of an object of a class the test
    defines (its fake model, say), but only public methods of anything else (a logger's `info`, never its
    `manager` or `handlers`, which lead into the grader's own objects)."""
    if attr.startswith("__"):
        return False
    if (
        getattr(type(target), "__module__", None) == "__main__"
        or getattr(target, "__module__", None) == "__main__"
    ):
        return True
    return not attr.startswith("_") and callable(getattr(type(target), attr, None))


# modules a name of the learner may stand for in the judge (pure, no files or processes): the grader's own
PURE_MODULES = frozenset(
    {"math", "re", "json", "datetime", "collections", "itertools", "functools", "statistics", "string"}
    | {"decimal", "fractions", "operator", "unicodedata", "textwrap", "calendar", "random", "numbers"}
)


def _is_callback(obj: Any) -> bool:
    """A function of the test itself (it cannot be pickled by reference), or a method of an object that
    stays here: the kernel gets a callback."""
    if isinstance(obj, types.MethodType):
        if _stays_here(obj.__self__):
            return True
        obj = obj.__func__
    if not isinstance(obj, types.FunctionType):
        return False
    qualname = str(getattr(obj, "__qualname__", ""))
    return obj.__module__ in (None, "__main__") or "<locals>" in qualname or "<lambda>" in qualname


TRUNCATED = "\n... saída cortada pelo corretor (limite de {kb} KB por célula) ...\n"


class BadAnswer(Exception):
    """The kernel's answer is not what `sandbox.remote` gives: the cell fails."""


class KernelTimeout(Exception):
    """The kernel did not answer before the cell's deadline (it was interrupted); `stuck`: not even then."""

    def __init__(self, stuck: bool = False) -> None:
        super().__init__("tempo esgotado")
        self.stuck = stuck


class KernelDied(Exception):
    """The kernel stopped while the judge waited for it."""


class RespostaInvalida(Exception):  # noqa: N818 - the name the learner reads in the feedback
    """Shown to the learner when the kernel's answer was unreadable."""


# ---- the transport -------------------------------------------------------------------------------------


class Transport(Protocol):
    def request(self, payload: str, deadline: float, on_input: Callable[[str], str]) -> tuple[str, list]:
        """Have `sandbox.remote` answer `payload`; (its JSON text, iopub outputs meanwhile).
        `on_input(prompt)` answers the kernel's other input requests (the judge's callbacks)."""


class _Waiter:
    """Polls a blocking client's iopub, shell and stdin channels for the messages of one execute request."""

    def __init__(self, client: Any, interrupt: Callable[[], None], alive: Callable[[], bool] | None) -> None:
        import zmq

        self.client = client
        self.interrupt = interrupt
        self.alive = alive
        self.channels = {
            client.iopub_channel.socket: client.iopub_channel,
            client.shell_channel.socket: client.shell_channel,
            client.stdin_channel.socket: client.stdin_channel,
        }
        self.poller = zmq.Poller()
        for socket in self.channels:
            self.poller.register(socket, zmq.POLLIN)

    def messages(self, msg_id: str, deadline: float) -> Any:
        """(channel name, message) of `msg_id` until the caller stops; at the deadline the kernel is
        interrupted and 5 more seconds are given, then `KernelTimeout(stuck=True)`. Yields ("interrompido",
        None) once after interrupting."""
        from nbformat.v4 import output_from_msg  # noqa: F401 - imported here once for the callers

        interrupted = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if interrupted:
                    raise KernelTimeout(stuck=True)
                self.interrupt()
                interrupted = True
                deadline = time.monotonic() + 5
                yield "interrompido", None
                continue
            ready = dict(self.poller.poll(int(min(left, 1.0) * 1000) + 1))
            if not ready:
                if self.alive is not None and not self.alive():
                    raise KernelDied()
                continue
            for socket in ready:
                channel = self.channels[socket]
                try:
                    msg = channel.get_msg(timeout=0)
                except Exception:  # noqa: BLE001, S112 - nothing complete yet (or a message refused)
                    continue
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if channel is self.client.shell_channel:
                    yield "shell", msg
                elif channel is self.client.stdin_channel:
                    yield "stdin", msg
                else:
                    yield "iopub", msg


def _iopub_output(msg: dict, outputs: list) -> bool:
    """Keep an output message; True at the request's idle status."""
    from nbformat.v4 import output_from_msg

    kind = msg.get("msg_type")
    if kind == "status" and msg.get("content", {}).get("execution_state") == "idle":
        return True
    if kind in ("stream", "display_data", "error"):
        outputs.append(output_from_msg(msg))
    return False


class BlockingTransport:
    """A `Transport` over a blocking `jupyter_client` client, one silent execute request per request (its
    `user_expression` calls `sandbox.remote.serve`); `interrupt` is called at the deadline and `alive` (if
    given) is asked every second while waiting."""

    def __init__(
        self, client: Any, interrupt: Callable[[], None], alive: Callable[[], bool] | None = None
    ) -> None:
        self.client = client
        self.waiter = _Waiter(client, interrupt, alive)

    def request(
        self, payload: str, deadline: float, on_input: Callable[[str], str] | None = None
    ) -> tuple[str, list]:
        client = self.client
        msg_id = client.execute(
            "",
            silent=True,
            store_history=False,
            user_expressions={"r": REMOTE.format(payload=payload)},
            allow_stdin=False,
        )
        outputs: list = []
        idle = False
        reply = None
        interrupted = False
        for channel, msg in self.waiter.messages(msg_id, deadline):
            if channel == "interrompido":
                interrupted = True
            elif channel == "shell":
                reply = msg
            elif channel == "stdin" and msg.get("msg_type") == "input_request":
                prompt = str(msg.get("content", {}).get("prompt", ""))
                client.input(on_input(prompt) if on_input is not None else "")
            elif channel == "iopub":
                idle = _iopub_output(msg, outputs) or idle
            if idle and reply is not None:
                break
        if interrupted:
            raise KernelTimeout()
        return _expression_text(reply), outputs


def _expression_text(reply: Any) -> str:
    """The text `serve` returned, from an execute reply's user_expression (hostile)."""
    content = reply.get("content", {}) if isinstance(reply, dict) else {}
    result = content.get("user_expressions", {}).get("r") if isinstance(content, dict) else None
    if not isinstance(result, dict) or result.get("status") != "ok":
        name = result.get("ename", "?") if isinstance(result, dict) else "?"
        raise BadAnswer(f"expressão: {str(name)[:100]}")
    data = result.get("data", {}).get("text/plain") if isinstance(result.get("data"), dict) else None
    _need(isinstance(data, str) and len(data) <= 2 * MAX_REPLY + 16, "tamanho")
    try:
        with _AST_LOCK:
            text = ast.literal_eval(data)  # the repr of the str `serve` returned
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise BadAnswer("texto") from exc
    _need(isinstance(text, str), "texto")
    return text


class SessionTransport:
    """A `Transport` that keeps one execute request open for a whole test cell (`sandbox.remote.session`):
    each request is the reply to the kernel's input request, each answer the prompt of the next one, so a
    round trip is two messages instead of a whole execution. `finish()` ends it (at the end of the cell)."""

    def __init__(
        self, client: Any, interrupt: Callable[[], None], alive: Callable[[], bool] | None = None
    ) -> None:
        self.client = client
        self.waiter = _Waiter(client, interrupt, alive)
        self.msg_id: str | None = None

    def _next(self, deadline: float, on_input: Callable[[str], str] | None, outputs: list) -> str:
        assert self.msg_id is not None
        interrupted = False
        for channel, msg in self.waiter.messages(self.msg_id, deadline):
            if channel == "interrompido":
                interrupted = True
            elif channel == "stdin" and msg.get("msg_type") == "input_request":
                prompt = str(msg.get("content", {}).get("prompt", ""))
                if prompt.startswith(SESSION_MARK) and not interrupted:
                    return prompt[len(SESSION_MARK) :]
                self.client.input(on_input(prompt) if on_input is not None else "")
            elif channel == "shell":  # the session ended: interrupted, or broken by the learner's code
                self.msg_id = None
                if interrupted:
                    raise KernelTimeout()
                raise BadAnswer("sessão")
            elif channel == "iopub":
                _iopub_output(msg, outputs)
        raise BadAnswer("sessão")

    def _open(self, deadline: float, on_input: Callable[[str], str] | None, outputs: list) -> None:
        """Start the session and wait for the kernel's first prompt. That prompt can be lost: the kernel's
        stdin socket (a ZMQ ROUTER) drops what it sends to a client whose stdin connection it has not
        registered yet (this client is new for each kernel), and the kernel then waits in `input()` until
        the cell's deadline, as if the learner's code had hung (seen once in ~1500 submissions). If it has
        not come after `FIRST_PROMPT_SECONDS`, the kernel is interrupted and the session opened once more."""
        for last in (False, True):
            self.msg_id = self.client.execute(
                "",
                silent=True,
                store_history=False,
                user_expressions={"r": SESSION.format(payload="")},
                allow_stdin=True,
            )
            limit = deadline if last else min(deadline, time.monotonic() + FIRST_PROMPT_SECONDS)
            try:
                self._next(limit, on_input, outputs)  # the kernel is ready
                return
            except KernelTimeout as exc:
                if last or exc.stuck or time.monotonic() >= deadline:
                    raise

    def request(
        self, payload: str, deadline: float, on_input: Callable[[str], str] | None = None
    ) -> tuple[str, list]:
        outputs: list = []
        if self.msg_id is None:
            self._open(deadline, on_input, outputs)
        self.client.input(payload)
        return self._next(deadline, on_input, outputs), outputs

    def finish(self, deadline: float) -> None:
        """End the session (the kernel goes back to running cells)."""
        if self.msg_id is None:
            return
        msg_id, self.msg_id = self.msg_id, None
        self.client.input("fim")
        deadline = max(deadline, time.monotonic() + 5) if deadline != math.inf else time.monotonic() + 30
        for channel, _msg in self.waiter.messages(msg_id, deadline):
            if channel in ("shell", "interrompido"):
                return


_CONTEXT: list[Any] = []  # one ZMQ context (one IO thread) for every judge client of the process


def blocking_client(connection: dict, max_message: int = MAX_REPLY * 2, timeout: float = 60) -> Any:
    """A blocking client of a kernel (`connection`: its connection info, as the grader keeps it, never read
    from the kernel's folder) whose sockets refuse messages over `max_message` bytes, ready (its iopub
    subscription is live, so no status message of a request is missed).

    The kernel is already running (the pool checked it), so instead of jupyter_client's `wait_for_ready`,
    which always sits out fixed 0.2 s waits (heartbeats, then an iopub flush: about half a second per
    notebook), this sends `kernel_info` requests until the status of one of them arrives on iopub. No
    heartbeat thread and no ZMQ context of its own either: liveness comes from the zygote."""
    import zmq
    from jupyter_client.blocking import BlockingKernelClient

    class Client(BlockingKernelClient):
        def _create_connected_socket(self, channel: str, identity: bytes | None = None) -> Any:
            socket = super()._create_connected_socket(channel, identity)
            socket.setsockopt(zmq.MAXMSGSIZE, max_message)
            socket.setsockopt(zmq.LINGER, 0)
            return socket

    if not _CONTEXT:
        _CONTEXT.append(zmq.Context())
    client = Client(context=_CONTEXT[0])
    client.load_connection_info(connection)
    client.start_channels(hb=False)
    deadline = time.monotonic() + timeout
    sent: set[str] = set()
    while time.monotonic() < deadline:
        sent.add(client.kernel_info())
        # a SUB socket misses what is published before it joins: ask again soon, then less often
        retry = min(deadline, time.monotonic() + min(0.5, 0.05 * 2 ** len(sent)))
        while (left := retry - time.monotonic()) > 0:
            if not client.iopub_channel.socket.poll(int(left * 1000) + 1):
                break
            try:
                msg = client.iopub_channel.get_msg(timeout=0)
            except Exception:  # noqa: BLE001, S112 - nothing complete yet (or a message refused)
                continue
            if msg.get("parent_header", {}).get("msg_id") in sent:
                return client  # the replies left on shell are skipped by msg_id, like any stale message
    client.stop_channels()
    raise RuntimeError(f"o kernel não respondeu em {timeout:.0f} s")


# names and attributes that make a test open files of the grader's own file system: such a cell cannot
# run here (the kernel's files are not here, and the grader must not open files the learner controls)
FILE_NAMES = frozenset(
    {"open", "tempfile", "shutil", "os", "pathlib", "Path", "glob", "pdfplumber", "Document"}
)
FILE_ATTRIBUTES = frozenset(
    {
        "read_csv",
        "read_excel",
        "read_table",
        "read_json",
        "read_parquet",
        "load_workbook",
        "to_csv",
        "to_excel",
    }
    | {"write_text", "write_bytes", "read_text", "read_bytes", "cwd", "iterdir", "mkdir", "unlink"}
)


_AST_LOCK = threading.Lock()


def literal(text: str) -> Any:
    """`ast.literal_eval` under the same lock as `parse`."""
    with _AST_LOCK:
        return ast.literal_eval(text)


def parse(source: str, filename: str = "<unknown>", compiled: bool = False) -> Any:
    """`ast.parse` (and, with `compiled`, its code object too) under one lock for the process. In CPython
    3.11 two threads building syntax trees at the same time corrupt a counter the interpreter shares
    (`SystemError: AST constructor recursion depth mismatch`, python/cpython#106905), and the judges of two
    notebooks run in two threads while the event loop asks `runs_in_kernel`."""
    with _AST_LOCK:
        tree = ast.parse(source, filename)
        return (tree, compile(tree, filename, "exec")) if compiled else tree


def runs_in_kernel(source: str) -> bool:
    """True for a test cell that works with files: it runs in the kernel, under the guard (a deterrent),
    as before. Every other test cell runs in the judge."""
    try:
        tree = parse(source)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in FILE_NAMES:
            return True
        if isinstance(node, ast.Attribute) and node.attr in FILE_ATTRIBUTES:
            return True
        if isinstance(node, ast.alias) and node.name.split(".")[0] in FILE_NAMES | {"openpyxl", "docx"}:
            return True
    return False


# ---- decoding the kernel's answers (hostile data) ------------------------------------------------------


def _need(condition: bool, what: str) -> None:
    if not condition:
        raise BadAnswer(what)


def _resolve(module: str, qualname: str) -> Any:
    """A class of an already imported module of the grader, or None (never imports anything)."""
    target = sys.modules.get(module) if isinstance(module, str) and module != "__main__" else None
    if target is None or not isinstance(qualname, str):
        return None
    for part in qualname.split("."):
        if part.startswith("<"):
            return None
        target = getattr(target, part, None)
        if target is None:
            return None
    return target


_TYPE_BY_VALUE = (str, int, float, bool, complex, bytes, list, tuple, dict, set, frozenset)


class Handle:
    """An object that stays in the kernel (see the module docstring). Subclassed per remote type."""

    _h_judge: Judge
    _h_id: int
    _h_info: dict

    def __init__(self, judge: Judge, handle: int, info: dict) -> None:
        object.__setattr__(self, "_h_judge", judge)
        object.__setattr__(self, "_h_id", handle)
        object.__setattr__(self, "_h_info", info)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # noqa: D105 - isinstance(h, pathlib.Path) answers as in the kernel
        return self._h_judge._local_class(self._h_info) or type(self)

    def __getattr__(self, name: str) -> Any:
        if (
            name.startswith("__")
            and name.endswith("__")
            and name not in ("__name__", "__qualname__", "__doc__")
        ):
            if name not in ("__module__", "__dict__", "__wrapped__", "__self__", "__func__", "__code__"):
                raise AttributeError(name)
        return self._h_judge.ask({"op": "getattr", "id": self._h_id, "name": name}, runs_code=True)

    def __setattr__(self, name: str, value: Any) -> None:
        self._h_judge.ask({"op": "setattr", "id": self._h_id, "name": name, "value": value}, runs_code=True)

    def __delattr__(self, name: str) -> None:
        self._h_judge.ask({"op": "delattr", "id": self._h_id, "name": name}, runs_code=True)

    def __str__(self) -> str:
        return self._h_convert("str", str)

    def __repr__(self) -> str:
        return self._h_convert("repr", str)

    def __format__(self, spec: str) -> str:
        value = self._h_judge.ask({"op": "format", "id": self._h_id, "spec": spec}, runs_code=True)
        if type(value) is not str:
            raise TypeError("__format__ must return a str")
        return value

    def __dir__(self) -> list[str]:
        value = self._h_convert("dir", list)
        return [v for v in value if isinstance(v, str)]

    def __eq__(self, other: object) -> Any:
        """Identity, unless the learner's class defines `__eq__`: then Python calls it, in the kernel, with
        `other` (the only case where a value of the test may go to the kernel for a comparison)."""
        if other is self:
            return True
        if self._h_info.get("eq"):
            return self._h_op("eq", self, other)
        return NotImplemented

    def __ne__(self, other: object) -> Any:
        if other is self:
            return False
        if self._h_info.get("eq"):
            return self._h_op("ne", self, other)
        return NotImplemented

    def _h_convert(self, to: str, kind: type) -> Any:
        value = self._h_judge.ask({"op": "convert", "id": self._h_id, "to": to}, runs_code=True)
        if type(value) is not kind:
            raise TypeError(f"{to} devolveu {type(value).__name__}")
        return value

    def _h_op(self, name: str, *args: Any) -> Any:
        return self._h_judge.ask({"op": "op", "name": name, "args": args}, runs_code=True)

    def __reduce_ex__(self, protocol: object) -> Any:
        raise TypeError("um objeto do kernel só vai ao kernel como referência")


def _binary(name: str) -> tuple[Callable, Callable]:
    def forward(self: Handle, other: Any) -> Any:
        return self._h_op(name, self, other)

    def reflected(self: Handle, other: Any) -> Any:
        return self._h_op(name, other, self)

    return forward, reflected


for _name in "add sub mul truediv floordiv mod pow matmul lshift rshift and or xor".split():
    _forward, _reflected = _binary(_name if _name not in ("and", "or") else _name + "_")
    setattr(Handle, f"__{_name}__", _forward)
    setattr(Handle, f"__r{_name}__", _reflected)
for _name in ("lt", "le", "gt", "ge"):
    setattr(Handle, f"__{_name}__", _binary(_name)[0])
for _name in ("neg", "pos", "abs", "invert"):
    setattr(Handle, f"__{_name}__", lambda self, _n=_name: self._h_op(_n, self))


def _slot_methods() -> dict[str, Callable]:
    def call(self: Handle, *args: Any, **kwargs: Any) -> Any:
        return self._h_judge.call(self, args, kwargs)

    def length(self: Handle) -> int:
        value = self._h_convert("len", int)
        if value < 0:
            raise ValueError("__len__() should return >= 0")
        return value

    def iterate(self: Handle) -> Any:
        values = self._h_judge.ask({"op": "iter", "id": self._h_id}, runs_code=True)
        if type(values) is not list:
            raise BadAnswer("iter")
        return iter(values)

    def following(self: Handle) -> Any:
        return self._h_judge.ask({"op": "next", "id": self._h_id}, runs_code=True)

    def getitem(self: Handle, key: Any) -> Any:
        return self._h_judge.ask({"op": "getitem", "id": self._h_id, "key": key}, runs_code=True)

    def setitem(self: Handle, key: Any, value: Any) -> None:
        self._h_judge.ask({"op": "setitem", "id": self._h_id, "key": key, "value": value}, runs_code=True)

    def delitem(self: Handle, key: Any) -> None:
        self._h_judge.ask({"op": "delitem", "id": self._h_id, "key": key}, runs_code=True)

    def contains(self: Handle, item: Any) -> bool:
        return bool(self._h_op("contains", self, item))

    def enter(self: Handle) -> Any:
        return self._h_judge.ask({"op": "enter", "id": self._h_id}, runs_code=True)

    def leave(self: Handle, *args: Any) -> Any:
        plain = (None, None, None) if args[0] is None else (args[0], args[1], None)
        try:
            return self._h_judge.ask({"op": "exit", "id": self._h_id, "args": plain}, runs_code=True)
        except TypeError:  # a local exception class that cannot travel: report none
            return self._h_judge.ask(
                {"op": "exit", "id": self._h_id, "args": (None, None, None)}, runs_code=True
            )

    def fspath(self: Handle) -> str:
        raise TypeError(
            "o teste tentou abrir, no corretor, um arquivo do kernel; esta verificação só roda no kernel"
        )

    def truth(self: Handle) -> bool:
        return self._h_convert("bool", bool)

    def integer(self: Handle) -> int:
        return self._h_convert("int", int)

    def real(self: Handle) -> float:
        return self._h_convert("float", float)

    def index(self: Handle) -> int:
        return self._h_convert("index", int)

    def instancecheck(self: Handle, value: Any) -> bool:
        return bool(self._h_judge.ask({"op": "isinstance", "id": self._h_id, "value": value}, runs_code=True))

    def subclasscheck(self: Handle, value: Any) -> bool:
        return bool(
            self._h_judge.ask(
                {"op": "isinstance", "id": self._h_id, "value": value, "sub": 1}, runs_code=True
            )
        )

    def hashing(self: Handle) -> int:
        return self._h_convert("hash", int)

    return {
        "__call__": call,
        "__len__": length,
        "__iter__": iterate,
        "__next__": following,
        "__getitem__": getitem,
        "__setitem__": setitem,
        "__delitem__": delitem,
        "__contains__": contains,
        "__enter__": enter,
        "__exit__": leave,
        "__fspath__": fspath,
        "__bool__": truth,
        "__int__": integer,
        "__float__": real,
        "__index__": index,
        "__instancecheck__": instancecheck,
        "__subclasscheck__": subclasscheck,
        "__hash__": hashing,
    }


SLOTS = _slot_methods()


# ---- exceptions from the kernel ------------------------------------------------------------------------


def _exception_class(name: str, mro: list) -> type[BaseException]:
    """A local class named like the kernel's, under the closest class the grader trusts (a builtin, or an
    already imported library class such as `json.JSONDecodeError`), so the test's `except` clauses match."""
    base: type[BaseException] = Exception
    for module, qualname in mro:
        found = _resolve(module, qualname) if module != "builtins" else getattr(builtins, qualname, None)
        if isinstance(found, type) and issubclass(found, BaseException):
            base = found
            break
    try:
        return type(
            name, (base,), {"__module__": "kernel", "__str__": lambda self: self.args[0] if self.args else ""}
        )
    except TypeError:
        return base


def _raise(info: Any) -> None:
    _need(isinstance(info, dict), "erro")
    name, mro, message = info.get("name"), info.get("mro"), info.get("msg")
    _need(isinstance(name, str) and isinstance(message, str) and isinstance(mro, list), "erro")
    _need(len(mro) <= 100 and all(isinstance(p, list) and len(p) == 2 for p in mro), "erro")
    kind = _exception_class(name[:200], mro)
    try:
        exc = kind.__new__(kind)
        BaseException.__init__(exc, message)
    except TypeError:
        exc = RuntimeError(f"{name}: {message}")
    raise exc


# ---- the namespace --------------------------------------------------------------------------------------


class Namespace(dict):
    """The test's globals: its own names, the trusted ones, then the learner's (looked up in the kernel)."""

    def __init__(self, judge: Judge, trusted: dict[str, Any]) -> None:
        super().__init__(trusted)
        self.judge = judge
        self.trusted = set(trusted)
        self.cache: dict[str, Any] = {}  # learner names: value, or _MISSING

    def __missing__(self, name: str) -> Any:
        if name in BUILTINS:
            raise KeyError(name)
        value = self.judge.lookup([name])[name]
        if value is _MISSING:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        if dict.__contains__(self, name):
            return True
        return isinstance(name, str) and self.judge.lookup([name])[name] is not _MISSING

    def get(self, name: Any, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default


_MISSING = object()


def _globals() -> Namespace:
    frame = sys._getframe(1)
    return frame.f_globals  # type: ignore[return-value]


BUILTINS = {k: v for k, v in builtins.__dict__.items()}
BUILTINS["globals"] = _globals


# ---- the judge -----------------------------------------------------------------------------------------


class _Sink(threading.local):
    parts: list | None = None


_sink = _Sink()


class _Capture(io.TextIOBase):
    """`sys.stdout`/`sys.stderr` of the grader: what a judging thread writes goes to its cell's outputs."""

    def __init__(self, name: str, original: Any) -> None:
        self.name, self.original = name, original

    def write(self, text: str) -> int:
        parts = _sink.parts
        if parts is None:
            return self.original.write(text)
        parts.append(("stream", self.name, str(text)))
        return len(text)

    def flush(self) -> None:
        if _sink.parts is None:
            self.original.flush()


def _install_capture() -> None:
    if not isinstance(sys.stdout, _Capture):
        sys.stdout = _Capture("stdout", sys.stdout)
    if not isinstance(sys.stderr, _Capture):
        sys.stderr = _Capture("stderr", sys.stderr)


@dataclass
class Stats:
    requests: int = 0
    seconds: float = 0.0
    cells: int = 0
    events: list[str] = field(default_factory=list)


class Judge:
    """Runs a notebook's test cells (see the module docstring). One per notebook and kernel."""

    def __init__(self, transport: Transport, trusted: dict[str, Any] | None = None) -> None:
        self.transport = transport
        self.namespace = Namespace(self, {**(trusted or {}), **CHECKS, "__name__": "__main__"})
        self.trusted_modules = [v for v in (trusted or {}).values() if isinstance(v, types.ModuleType)]
        self.namespace["__builtins__"] = BUILTINS
        self.defined: set[str] = set()  # names the test cells assigned (the grader's, not the kernel's)
        self.deadline = math.inf
        self._handles: dict[int, Handle] = {}
        self._classes: dict[int, type] = {}
        self._parts: list = []
        self.stats = Stats()
        self.max_reply = MAX_REPLY
        self.max_output = MAX_OUTPUT
        self.state = ""  # after run_cell: "", "tempo", "travado" (did not stop), "morto", "resposta"
        self._callbacks: list[Any] = []
        self._in_callback = False
        self._origins: list[list] = []  # [local copy, kernel handle, fingerprint]
        self._digest: Any = None  # the kernel's `ns` when the cached names were looked up

    def reconnect(self, transport: Transport) -> None:
        """A new kernel (after the old one died): its objects are new, the test's own names stay."""
        self.transport = transport
        self._handles.clear()
        self._classes.clear()
        self.namespace.cache.clear()

    # ---- requests ---------------------------------------------------------------------------------------

    def _reference(self, obj: Any) -> Any:
        if isinstance(obj, Handle):
            return ("h", obj._h_id)
        if _is_callback(obj):
            self._callbacks.append(obj)
            return ("cb", len(self._callbacks) - 1)
        if _stays_here(obj):
            self._callbacks.append(obj)
            return ("cbo", len(self._callbacks) - 1)
        return None

    def _payload(self, request: Any) -> str:
        """`request` pickled for the kernel: handles as references to the kernel's objects, the test's own
        functions as callbacks (the kernel calls them back through an input request, see `_on_input`)."""
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=5)
        pickler.persistent_id = self._reference  # type: ignore[method-assign]
        pickler.dump(request)
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    def _on_input(self, prompt: str) -> str:
        """The kernel calling back a function of the test (one the judge sent): run it here, on the data
        the kernel gave (decoded as hostile), and answer with its result or exception, pickled. A callback
        cannot reach the learner's objects (the kernel is busy waiting for it)."""
        if not prompt.startswith(CALLBACK_MARK) or len(prompt) > self.max_reply:
            return ""
        try:
            request = json.loads(prompt[len(CALLBACK_MARK) :])
            _need(isinstance(request, dict), "callback")
            number, args, kwargs = request.get("cb"), request.get("args"), request.get("kwargs")
            attr = request.get("attr")
            self._printed(request.get("out"))
            _need(type(number) is int and 0 <= number < len(self._callbacks), "callback")
            _need(isinstance(args, list) and isinstance(kwargs, list), "callback")
            _need(attr is None or (isinstance(attr, str) and len(attr) < 200), "callback")
            self._in_callback = True
            try:
                values = [self.decode(a) for a in args]
                named = {}
                for pair in kwargs:
                    _need(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str), "callback")
                    named[pair[0]] = self.decode(pair[1])
                target = self._callbacks[number]
                if attr is None:
                    value = target(*values, **named)
                elif attr in CALLBACK_OPERATIONS:
                    value = CALLBACK_OPERATIONS[attr](target, *values)
                else:
                    _need(_may_get(target, attr), "callback")
                    value = getattr(target, attr)
                    if not request.get("get"):
                        value = value(*values, **named)
                result: dict = {"ok": value}
            finally:
                self._in_callback = False
        except BadAnswer:
            result = {"err": PermissionError("pedido recusado pelo corretor")}
        except Exception as exc:  # noqa: BLE001 - the test's function failed: the learner's code sees it
            result = {"err": exc}
        try:
            return self._payload(result)
        except Exception as exc:  # noqa: BLE001 - a result that cannot travel
            return self._payload({"err": RuntimeError(f"{type(exc).__name__}: {exc}")})

    def _roundtrip(self, request: dict) -> dict:
        if self._in_callback:
            raise RuntimeError("uma função do teste chamada pelo código do notebook não pode usar o kernel")
        if time.monotonic() > self.deadline:
            raise KernelTimeout()
        begin = time.monotonic()
        if request.get("op") != "assign":
            self._sync()
        payload = self._payload(request)
        text, outputs = self.transport.request(payload, self.deadline, self._on_input)
        self.stats.requests += 1
        self.stats.seconds += time.monotonic() - begin
        for output in outputs:
            self._emit(output)
        _need(isinstance(text, str) and len(text) <= self.max_reply, "tamanho")
        try:
            answer = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise BadAnswer("json") from exc
        _need(isinstance(answer, dict), "resposta")
        self._printed(answer.get("out"))
        return answer

    def _printed(self, parts: Any) -> None:
        """What the learner's code printed during a request of a session (hostile: checked)."""
        if parts is None:
            return
        _need(isinstance(parts, list), "saída")
        for part in parts:
            _need(isinstance(part, list) and len(part) == 2 and part[0] in ("stdout", "stderr"), "saída")
            _need(isinstance(part[1], str), "saída")
            self._parts.append(("stream", part[0], part[1]))

    def _forget(self, answer: dict) -> None:
        """After the learner's code ran: forget what it may have changed. If no learner name was bound to
        another object (the kernel's `ns`), handles, modules and immutable values stay; lists, dicts,
        tables and arrays are asked again (they may have changed in place)."""
        cache = self.namespace.cache
        digest = answer.get("ns")
        if type(digest) is not int or digest != self._digest:
            cache.clear()
        else:
            for name in [n for n, v in cache.items() if not _keeps(v)]:
                del cache[name]

    def ask(self, request: dict, runs_code: bool = False) -> Any:
        """One request; the decoded value, or the learner's exception raised here."""
        answer = self._roundtrip(request)
        if runs_code:
            self._forget(answer)
        if "err" in answer:
            _raise(answer["err"])
        _need("ok" in answer, "resposta")
        return self._decode_top(answer["ok"])

    def call(self, target: Handle, args: tuple, kwargs: dict) -> Any:
        """Call a learner's function; arguments it changes in place change here too."""
        copied = [not isinstance(a, Handle) for a in args]
        answer = self._roundtrip(
            {"op": "call", "id": target._h_id, "args": args, "kwargs": kwargs, "copied": copied}
        )
        self._forget(answer)
        changed = answer.get("changed")
        if isinstance(changed, dict):
            for position, encoded in changed.items():
                _need(isinstance(position, str) and position.isdigit() and int(position) < len(args), "mudou")
                if copied[int(position)]:
                    _update(args[int(position)], self.decode(encoded))
        if "err" in answer:
            _raise(answer["err"])
        _need("ok" in answer, "resposta")
        return self.decode(answer["ok"])

    def _fingerprint(self, value: Any) -> bytes | None:
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=5)
        pickler.persistent_id = lambda obj: (
            ("x", id(obj)) if isinstance(obj, Handle) or callable(obj) else None
        )  # type: ignore[method-assign]
        try:
            pickler.dump(value)
        except Exception:  # noqa: BLE001 - a copy that cannot be compared is not written back
            return None
        return buffer.getvalue()

    def _decode_top(self, encoded: Any) -> Any:
        """`decode`, remembering where a list, dict or set came from (see `_sync`)."""
        value = self.decode(encoded)
        origin = encoded.get("o") if isinstance(encoded, dict) else None
        if type(origin) is int and type(value) in (list, dict, set) and len(value) <= 10_000:
            self._origins.append([value, origin, self._fingerprint(value)])
        return value

    def _sync(self) -> None:
        """Write back into the kernel the learner's lists, dicts and sets that the test changed in its copy
        (before anything runs there again, and at the end of the cell), as if it had changed them there."""
        for origin in self._origins:
            value, handle, before = origin
            now = self._fingerprint(value)
            if now is not None and before is not None and now != before:
                origin[2] = now
                self.ask({"op": "assign", "id": handle, "value": value})

    def lookup(self, names: list[str]) -> dict[str, Any]:
        """The learner's values of `names` (cached until the learner's code runs again)."""
        cache = self.namespace.cache
        wanted = [n for n in names if n not in cache]
        if wanted:
            answer = self._roundtrip({"op": "lookup", "names": wanted})
            if not cache:
                self._digest = answer.get("ns")
            if "err" in answer:
                _raise(answer["err"])
            found = answer.get("names")
            _need(isinstance(found, dict), "nomes")
            for name in wanted:
                encoded = found.get(name)
                cache[name] = _MISSING if encoded is None else self._decode_top(encoded)
        return {n: cache[n] for n in names}

    # ---- values -----------------------------------------------------------------------------------------

    def _local_class(self, info: dict) -> type | None:
        """The grader's class for a kernel object's type, when it is one the grader already has (a path, a
        date...) and not one whose objects always come by value (a fake DataFrame stays a stand-in)."""
        found = _resolve(info.get("m", ""), info.get("q", ""))
        if (
            not isinstance(found, type)
            or found in _TYPE_BY_VALUE
            or str(found.__module__).startswith(("pandas", "numpy", "automatiza"))
        ):
            return None
        return found

    def _stand_in(self, info: dict) -> type:
        tid = info.get("tid")
        _need(type(tid) is int, "tipo")
        kind = self._classes.get(tid)  # type: ignore[arg-type]
        if kind is None:
            name = info.get("name")
            slots = info.get("slots")
            _need(isinstance(name, str) and isinstance(slots, list), "tipo")
            methods = {s: SLOTS[s] for s in slots if s in SLOTS}
            if "__hash__" not in methods:
                methods["__hash__"] = None
            if "__iter__" not in methods and "__getitem__" in methods:
                methods["__iter__"] = SLOTS["__iter__"]
            kind = type(name[:200] or "objeto", (Handle,), {**methods, "__module__": "kernel"})
            self._classes[tid] = kind  # type: ignore[index]
        return kind

    def decode(self, value: Any, depth: int = 0) -> Any:
        """A value of the kernel's answer (tagged JSON, hostile) as a local value or a `Handle`."""
        _need(depth <= MAX_DEPTH and isinstance(value, dict), "valor")
        tag = value.get("t")
        content = value.get("v")
        if tag == "n":
            return None
        if tag in ("b", "i", "s"):
            _need(type(content) is {"b": bool, "i": int, "s": str}[tag], tag)
            return content
        if tag == "f":
            if isinstance(content, str):
                _need(content in ("nan", "inf", "-inf"), "float")
                return float(content)
            _need(type(content) in (int, float), "float")
            return float(content)
        if tag == "c":
            _need(isinstance(content, list) and len(content) == 2, "complex")
            parts = [self.decode(p, depth + 1) for p in content]
            _need(all(type(p) is float for p in parts), "complex")
            return complex(*parts)
        if tag == "y":
            _need(isinstance(content, str), "bytes")
            return base64.b64decode(content, validate=True)
        if tag in ("l", "u", "S", "F"):
            _need(isinstance(content, list), tag)
            items = [self.decode(v, depth + 1) for v in content]
            return {"l": list, "u": tuple, "S": set, "F": frozenset}[tag](items)
        if tag == "d":
            return self._pairs(content, depth)
        if tag == "cd":
            pairs = self._pairs(content, depth)
            kind = value.get("kind")
            if kind == "Counter":
                return Counter(pairs)
            if kind == "OrderedDict":
                return OrderedDict(pairs)
            _need(kind == "defaultdict", "coleção")
            factory = value.get("factory")
            _need(factory in (None, "int", "list", "set", "dict", "str", "float"), "coleção")
            return defaultdict(getattr(builtins, factory) if factory else None, pairs)
        if tag == "h":
            handle = value.get("id")
            info = value.get("type")
            _need(type(handle) is int and isinstance(info, dict), "handle")
            found = self._handles.get(handle)  # type: ignore[arg-type]
            if found is None:
                found = self._stand_in(info)(self, handle, info)  # type: ignore[arg-type]
                self._handles[handle] = found  # type: ignore[index]
            return found
        if tag == "mod":
            name = value.get("name")
            _need(isinstance(name, str) and type(value.get("id")) is int, "módulo")
            trusted = name in PURE_MODULES or any(
                getattr(v, "__name__", None) == name for v in self.trusted_modules
            )
            if trusted and name in sys.modules:  # the grader's own, never one it would have to import
                return sys.modules[name]
            info = {"tid": -1, "name": "module", "slots": [], "m": "builtins", "q": "module"}
            return self._handles.setdefault(value["id"], self._stand_in(info)(self, value["id"], info))
        if tag == "dt":
            _need(isinstance(content, str), "datetime")
            return dt.datetime.fromisoformat(content)
        if tag == "da":
            _need(isinstance(content, str), "date")
            return dt.date.fromisoformat(content)
        if tag == "tm":
            _need(isinstance(content, str), "time")
            return dt.time.fromisoformat(content)
        if tag == "dl":
            _need(
                isinstance(content, list) and len(content) == 3 and all(type(c) is int for c in content), "td"
            )
            return dt.timedelta(days=content[0], seconds=content[1], microseconds=content[2])
        if tag == "dec":
            _need(isinstance(content, str) and len(content) < 10_000, "decimal")
            return decimal.Decimal(content)
        return self._decode_array_like(value, tag, content, depth)

    def _pairs(self, content: Any, depth: int) -> dict:
        _need(isinstance(content, list), "dict")
        result = {}
        for pair in content:
            _need(isinstance(pair, list) and len(pair) == 2, "dict")
            key = self.decode(pair[0], depth + 1)
            try:
                result[key] = self.decode(pair[1], depth + 1)
            except TypeError as exc:
                raise BadAnswer("chave") from exc
        return result

    def _decode_array_like(self, value: dict, tag: Any, content: Any, depth: int) -> Any:
        import numpy as np

        if tag == "np":
            dtype = _dtype(value.get("dtype"))
            _need(dtype.kind in "biufcU", "np")
            item = self.decode(content, depth + 1)
            _need(type(item) in (bool, int, float, complex, str), "np")
            return dtype.type(item)
        if tag == "npt":
            dtype = _dtype(value.get("dtype"))
            _need(dtype.kind in "mM" and type(content) is int, "npt")
            return np.array([content], dtype="int64").view(dtype)[0]
        if tag == "nd":
            return self._ndarray(value, depth)
        import pandas as pd

        if tag == "nat":
            return pd.NaT
        if tag == "na":
            return pd.NA
        if tag in ("ts", "td"):
            unit = value.get("unit")
            _need(type(content) is int and unit in ("s", "ms", "us", "ns"), tag)
            if tag == "td":
                return pd.Timedelta(content, unit="ns").as_unit(unit)
            tz = value.get("tz")
            _need(tz is None or (isinstance(tz, str) and len(tz) < 100), "tz")
            return (
                pd.Timestamp(content, unit="ns", tz="UTC" if tz else None).tz_convert(tz).as_unit(unit)
                if tz
                else (pd.Timestamp(content, unit="ns").as_unit(unit))
            )
        if tag == "range":
            _need(
                isinstance(content, list) and len(content) == 3 and all(type(c) is int for c in content),
                "range",
            )
            return pd.RangeIndex(*content, name=self.decode(value.get("name"), depth + 1))
        if tag == "midx":
            _need(isinstance(content, list) and isinstance(value.get("names"), list), "midx")
            tuples = [self.decode(t, depth + 1) for t in content]
            names = [self.decode(n, depth + 1) for n in value["names"]]
            _need(all(type(t) is tuple and len(t) == len(names) for t in tuples), "midx")
            return (
                pd.MultiIndex.from_tuples(tuples, names=names)
                if tuples
                else pd.MultiIndex.from_arrays([[] for _ in names], names=names)
            )
        if tag == "idx":
            array = self._pandas_values(content, depth)
            name = self.decode(value.get("name"), depth + 1)
            kind = value.get("kind")
            _need(kind in ("Index", "DatetimeIndex", "TimedeltaIndex", "CategoricalIndex"), "idx")
            index = pd.Index(array, name=name, dtype=array.dtype, copy=False)
            freq = value.get("freq")
            if (
                freq is not None
                and isinstance(index, pd.DatetimeIndex)
                and isinstance(freq, str)
                and len(freq) < 50
            ):
                with contextlib.suppress(ValueError, TypeError):
                    index = pd.DatetimeIndex(index, freq=freq)
            return index
        if tag == "ser":
            array = self._pandas_values(content, depth)
            index = self.decode(value.get("index"), depth + 1)
            _need(isinstance(index, pd.Index) and len(index) == len(array), "ser")
            return pd.Series(array, index=index, name=self.decode(value.get("name"), depth + 1), copy=False)
        if tag == "df":
            columns = self.decode(value.get("columns"), depth + 1)
            index = self.decode(value.get("index"), depth + 1)
            _need(
                isinstance(columns, pd.Index) and isinstance(index, pd.Index) and isinstance(content, list),
                "df",
            )
            _need(len(content) == len(columns), "df")
            arrays = [self._pandas_values(c, depth) for c in content]
            _need(all(len(a) == len(index) for a in arrays), "df")
            frame = (
                pd.DataFrame(dict(enumerate(arrays)), index=index, copy=False)
                if arrays
                else pd.DataFrame(index=index)
            )
            frame.columns = columns
            return frame
        raise BadAnswer(f"etiqueta {str(tag)[:30]}")

    def _ndarray(self, value: dict, depth: int) -> Any:
        import numpy as np

        shape = value.get("shape")
        _need(
            isinstance(shape, list) and len(shape) <= 32 and all(type(s) is int and s >= 0 for s in shape),
            "nd",
        )
        size = math.prod(shape)
        if value.get("dtype") == "O":
            items = value.get("items")
            _need(isinstance(items, list) and len(items) == size, "nd")
            array = np.empty(size, dtype=object)
            for i, item in enumerate(items):
                array[i] = self.decode(item, depth + 1)
            return array.reshape(shape)
        dtype = _dtype(value.get("dtype"))
        data = value.get("b")
        _need(isinstance(data, str), "nd")
        raw = base64.b64decode(data, validate=True)
        _need(len(raw) == size * dtype.itemsize, "nd")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()

    def _pandas_values(self, value: Any, depth: int) -> Any:
        import numpy as np
        import pandas as pd

        _need(isinstance(value, dict), "valores")
        tag = value.get("t")
        if tag == "nd":
            array = self._ndarray(value, depth)
            _need(array.ndim == 1, "valores")
            return array
        if tag == "cat":
            codes = self._ndarray(value.get("codes"), depth)  # type: ignore[arg-type]
            categories = self.decode(value.get("categories"), depth + 1)
            _need(codes.ndim == 1 and codes.dtype.kind == "i" and isinstance(categories, pd.Index), "cat")
            _need(bool((codes < len(categories)).all()) and bool((codes >= -1).all()), "cat")
            return pd.Categorical.from_codes(codes, categories=categories, ordered=bool(value.get("ordered")))
        if tag == "dtz":
            ints = self._ndarray(value.get("v"), depth)  # type: ignore[arg-type]
            tz, unit = value.get("tz"), value.get("unit")
            _need(ints.dtype == np.int64 and isinstance(tz, str) and unit in ("s", "ms", "us", "ns"), "dtz")
            naive = ints.view(f"datetime64[{unit}]")
            return pd.DatetimeIndex(naive).tz_localize("UTC").tz_convert(tz).array
        if tag == "ext":
            name = value.get("dtype")
            items = value.get("items")
            _need(isinstance(name, str) and len(name) < 60 and isinstance(items, list), "ext")
            _need(all(c.isalnum() or c in "[]_, :/" for c in name), "ext")
            dtype = pd.api.types.pandas_dtype(name)
            return pd.array([self.decode(i, depth + 1) for i in items], dtype=dtype)
        raise BadAnswer("valores")

    # ---- running a cell ---------------------------------------------------------------------------------

    def _emit(self, output: NotebookNode) -> None:
        if output.get("output_type") == "stream":
            self._parts.append(("stream", output.get("name", "stdout"), str(output.get("text", ""))))
        else:
            self._parts.append(("output", output))

    def _outputs(self) -> list[NotebookNode]:
        outputs: list[NotebookNode] = []
        used = 0
        cut: set[str] = set()
        for part in self._parts:
            if part[0] == "stream":
                _, name, text = part
                if name in cut:
                    continue
                used += len(text)
                if used > self.max_output:
                    cut.add(name)
                    text = TRUNCATED.format(kb=self.max_output // 1024)
                last = outputs[-1] if outputs else None
                if last is not None and last.output_type == "stream" and last.name == name:
                    last.text += text
                else:
                    outputs.append(NotebookNode(output_type="stream", name=name, text=text))
            else:
                outputs.append(part[1])
        return outputs

    def run_cell(self, source: str, timeout: float | None = None) -> list[NotebookNode]:
        """Run one test cell; its outputs as nbformat outputs (an error output if it failed)."""
        self.stats.cells += 1
        self.state = ""
        self.deadline = time.monotonic() + timeout if timeout else math.inf
        self._parts = []
        _install_capture()
        try:
            tree, code = parse(source, FILENAME, compiled=True)
        except SyntaxError as exc:
            return [_error_output(type(exc).__name__, str(exc), exc.lineno or 0)]
        assigned = _assigned(source)
        wanted = sorted(
            n
            for n in _free_names(source)
            if n not in BUILTINS and n not in self.defined and n not in self.namespace.trusted
        )
        for name in wanted:  # names the kernel has again come from it
            if dict.__contains__(self.namespace, name):
                dict.__delitem__(self.namespace, name)
        self.namespace.cache.clear()
        _sink.parts = self._parts
        self._origins = []
        error: NotebookNode | None = None
        try:
            try:
                if wanted:
                    self.lookup(wanted)
                exec(code, self.namespace)  # noqa: S102 - the course's own test, from the source notebook
            finally:
                with contextlib.suppress(Exception):
                    self._sync()
                finish = getattr(self.transport, "finish", None)
                if finish is not None:
                    finish(self.deadline)
        except KernelTimeout as exc:
            error = _error_output("CellTimeoutError", "a célula passou do tempo limite e foi interrompida", 0)
            self.state = "travado" if exc.stuck else "tempo"
        except KernelDied:
            error = _error_output("KernelParou", "o kernel parou durante esta célula", 0)
            self.state = "morto"
        except BadAnswer as exc:
            error = _error_output(
                "RespostaInvalida",
                "os valores desta verificação voltaram do kernel num formato inválido (o código do notebook "
                "alterou o ambiente de correção)",
                0,
            )
            self.stats.events.append(f"resposta inválida do kernel ({exc})")
            self.state = "resposta"
        except BaseException as exc:  # noqa: BLE001 - the test failed, as a test fails
            if isinstance(exc, KeyboardInterrupt | GeneratorExit):
                raise
            error = _error_output(type(exc).__name__, _message(exc), _line(exc))
        finally:
            _sink.parts = None
            self.defined |= assigned
        outputs = self._outputs()
        if error is not None:
            outputs.append(error)
        return outputs


IMMUTABLE = (
    type(None),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    tuple,
    frozenset,
    dt.date,
    dt.time,
    decimal.Decimal,
)


def _keeps(value: Any) -> bool:
    """A looked-up value that cannot have changed while the names stayed bound to the same objects."""
    if isinstance(value, Handle | types.ModuleType) or value is _MISSING:
        return True
    if type(value) is tuple:
        return all(_keeps(v) for v in value)
    return type(value) in IMMUTABLE or type(value).__module__ == "numpy" and not hasattr(value, "shape")


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001
        return ""


def _line(exc: BaseException) -> int:
    """The line of the test cell where `exc` surfaced (its outermost frame in the cell)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            return tb.tb_lineno
        tb = tb.tb_next
    return 0


def _error_output(ename: str, evalue: str, line: int) -> NotebookNode:
    where = [f"Cell In[], line {line}"] if line else []
    return NotebookNode(
        output_type="error", ename=ename, evalue=evalue, traceback=[*where, f"{ename}: {evalue}"]
    )


def _dtype(name: Any) -> Any:
    import numpy as np

    _need(isinstance(name, str) and len(name) < 40 and name[:1] in "<>|=", "dtype")
    try:
        dtype = np.dtype(name)
    except TypeError as exc:
        raise BadAnswer("dtype") from exc
    _need(dtype.kind in "biufcmMSU?" and dtype.fields is None and not dtype.hasobject, "dtype")
    return dtype


def _update(local: Any, new: Any) -> None:
    """Make `local` (an argument the judge sent) equal to `new` (its state after the learner's call)."""
    if type(local) is not type(new):
        return
    if isinstance(local, list):
        local[:] = new
    elif isinstance(local, dict | set):
        local.clear()
        local.update(new)
    elif isinstance(local, bytearray):
        local[:] = new
    elif type(local).__module__.startswith("numpy") and getattr(local, "shape", None) == new.shape:
        local[...] = new
    elif type(local).__module__.startswith("pandas") and hasattr(local, "__dict__"):
        local.__dict__.clear()
        local.__dict__.update(new.__dict__)


def _free_names(source: str) -> set[str]:
    """Names the cell reads from its globals and does not bind at its top level (from any scope)."""
    import symtable

    with _AST_LOCK:  # symtable runs the compiler too
        top = symtable.symtable(source, FILENAME, "exec")
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    found: set[str] = set()
    tables = [top]
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        for symbol in table.get_symbols():
            if not symbol.is_referenced():
                continue
            if table is top or symbol.is_global():
                found.add(symbol.get_name())
    return found - bound


def _assigned(source: str) -> set[str]:
    """Names the cell binds at its top level (they live in the judge from now on)."""
    import symtable

    with _AST_LOCK:  # symtable runs the compiler too
        top = symtable.symtable(source, FILENAME, "exec")
    return {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}


def trusted_names(sources: Iterable[str]) -> dict[str, Any]:
    """The grader's own modules (and names from them) for what the source notebook's non-solution cells
    import at their top level; an import that fails here is left out (the test will say so)."""
    found: dict[str, Any] = {}
    for source in sources:
        try:
            tree = parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            try:
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        module = importlib.import_module(alias.name)
                        if alias.asname:
                            found[alias.asname] = module
                        else:
                            top = alias.name.split(".")[0]
                            found[top] = sys.modules[top]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    module = importlib.import_module(node.module)
                    for alias in node.names:
                        if alias.name == "*":
                            public = getattr(module, "__all__", None) or [
                                n for n in vars(module) if not n.startswith("_")
                            ]
                            found.update({n: getattr(module, n) for n in public if hasattr(module, n)})
                        elif hasattr(module, alias.name):
                            found[alias.asname or alias.name] = getattr(module, alias.name)
                        else:
                            found[alias.asname or alias.name] = importlib.import_module(
                                f"{node.module}.{alias.name}"
                            )
            except Exception:  # noqa: BLE001, S112 - the test reports a failed import as it would in the kernel
                continue
    return found


def trusted_from_bindings(bindings: Iterable[tuple[str, str, str | None]]) -> dict[str, Any]:
    """`trusted_names` from the (name, module, attribute) triples `execution.test_bindings` reads from the
    source notebook's test and locked cells."""
    found: dict[str, Any] = {}
    for name, module_name, attribute in bindings:
        try:
            module = importlib.import_module(module_name)
            if attribute is None:
                found[name] = module
            elif hasattr(module, attribute):
                found[name] = getattr(module, attribute)
            else:
                found[name] = importlib.import_module(f"{module_name}.{attribute}")
        except Exception:  # noqa: BLE001, S112 - the test reports a failed import as it would in the kernel
            continue
    return found
