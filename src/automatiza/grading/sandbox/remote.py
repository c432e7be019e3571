"""Kernel side of the trusted judge (`automatiza.grading.judge`): the learner's objects, served on request.

The grader never sends a test cell to the kernel. It runs the test itself and, when the test touches
something of the learner's (a function, a variable, an object a function returned), it sends a request.
For each test cell the grader opens a session, one silent execute request whose `user_expression` is
`session(globals())`: each answer goes to the grader as the prompt of an input request (stdin channel),
and the grader's reply is the next request ("fim" ends the session), so a round trip is two messages.
What the learner's code prints meanwhile goes back inside the answers. `serve(globals(), payload)` answers
a single request as the `user_expression` of an execute request of its own (the simple transport).

A request looks a name up in the learner namespace (`lookup`), calls, gets attributes or items,
converts, iterates (up to a bound), and answers with a tagged JSON text: plain data (numbers, text,
containers, numpy and pandas values, dates) BY VALUE, anything else as a handle (an id in this module's
registry) that later requests refer to. Exceptions come back as their name, their classes and message.

Requests are pickled by the grader (trusted) and unpickled here; answers are JSON only, never pickle: the
grader decodes them strictly, as hostile data. The learner can replace this module, `globals`, or anything
else here: that only changes what the learner's side answers (their answer), never the expected values,
which never come here, nor the comparison, which runs in the grader.

Kept small and without imports the kernel would not otherwise do: pandas and numpy are looked at only
when a value is one of theirs (its class comes from them, so they are already imported).
"""

from __future__ import annotations

import base64
import builtins
import io
import json
import math
import operator
import pickle
import sys

MAX_ITEMS = 200_000  # items of one iteration
MAX_DEPTH = 60  # nesting of containers sent by value (deeper: a handle)
MAX_BYTES = 64 * 1024 * 1024  # of one answer (the grader refuses more anyway)

_objects: dict[int, object] = {}  # handle -> object (kept alive for the notebook)
_handles: dict[int, int] = {}  # id(object) -> handle
_SLOTS = (
    "__call__",
    "__len__",
    "__iter__",
    "__next__",
    "__getitem__",
    "__setitem__",
    "__delitem__",
    "__contains__",
    "__enter__",
    "__exit__",
    "__fspath__",
    "__bool__",
    "__int__",
    "__float__",
    "__index__",
    "__instancecheck__",
    "__subclasscheck__",
    "__hash__",
)
_MUTABLE = (list, dict, set, bytearray)


class TooBig(Exception):
    """An answer over `MAX_BYTES`."""


def _register(value: object) -> int:
    key = id(value)
    handle = _handles.get(key)
    if handle is None or _objects.get(handle) is not value:
        handle = len(_objects) + 1
        _objects[handle] = value
        _handles[key] = handle
    return handle


def _type_info(kind: type) -> dict:
    eq = getattr(kind, "__eq__", None)
    return {
        "tid": _register(kind),
        "name": str(getattr(kind, "__name__", "?")),
        "m": str(getattr(kind, "__module__", "")),
        "q": str(getattr(kind, "__qualname__", "")),
        "slots": [s for s in _SLOTS if getattr(kind, s, None) is not None],
        "eq": eq is not object.__eq__ and eq is not type.__eq__,
        "mro": [
            [str(getattr(k, "__module__", "")), str(getattr(k, "__qualname__", ""))] for k in kind.__mro__
        ],
    }


def _handle(value: object) -> dict:
    if isinstance(value, type(sys)):
        return {"t": "mod", "id": _register(value), "name": str(getattr(value, "__name__", ""))}
    return {"t": "h", "id": _register(value), "type": _type_info(type(value))}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _ndarray(value) -> dict:  # noqa: ANN001 - a numpy array
    dtype = value.dtype
    if dtype.kind == "O" or dtype.fields is not None:
        return {
            "t": "nd",
            "dtype": "O",
            "shape": list(value.shape),
            "items": [_encode(v, 1) for v in value.ravel()],
        }
    return {"t": "nd", "dtype": dtype.str, "shape": list(value.shape), "b": _b64(value.tobytes())}


def _pandas_array(values, depth: int) -> dict:  # noqa: ANN001 - the values of a Series or Index
    import numpy as np
    import pandas as pd

    dtype = values.dtype
    if isinstance(values, np.ndarray):
        return _ndarray(values)
    if isinstance(dtype, np.dtype):  # datetime64 and timedelta64 arrays of pandas
        return _ndarray(np.asarray(values))
    if isinstance(dtype, pd.CategoricalDtype):
        return {
            "t": "cat",
            "codes": _ndarray(np.asarray(values.codes)),
            "categories": _encode(pd.Index(values.categories), depth + 1),
            "ordered": bool(dtype.ordered),
        }
    if isinstance(dtype, pd.DatetimeTZDtype):
        return {"t": "dtz", "v": _ndarray(np.asarray(values.asi8)), "tz": str(dtype.tz), "unit": dtype.unit}
    if type(values).__module__.startswith("pandas") and hasattr(values, "to_numpy"):
        items = [_encode(v, depth + 1) for v in values.to_numpy(dtype=object, na_value=None)]
        return {"t": "ext", "dtype": str(dtype), "items": items}
    raise TypeError("valores")


def _pandas(value, kind: type, depth: int) -> dict | None:  # noqa: ANN001
    import pandas as pd

    if value is pd.NaT:
        return {"t": "nat"}
    if value is pd.NA:
        return {"t": "na"}
    if kind is pd.Timestamp:
        return {
            "t": "ts",
            "v": int(value.value),
            "tz": None if value.tz is None else str(value.tz),
            "unit": value.unit,
        }
    if kind is pd.Timedelta:
        return {"t": "td", "v": int(value.value), "unit": value.unit}
    if kind is pd.RangeIndex:
        return {
            "t": "range",
            "v": [value.start, value.stop, value.step],
            "name": _encode(value.name, depth + 1),
        }
    if kind is pd.MultiIndex:
        return {
            "t": "midx",
            "v": [_encode(tuple(t), depth + 1) for t in value],
            "names": [_encode(n, depth + 1) for n in value.names],
        }
    if isinstance(value, pd.Index) and kind in (
        pd.Index,
        pd.DatetimeIndex,
        pd.TimedeltaIndex,
        pd.CategoricalIndex,
    ):
        freq = getattr(value, "freqstr", None) if kind is pd.DatetimeIndex else None
        return {
            "t": "idx",
            "v": _pandas_array(value.array if kind is not pd.Index else value._values, depth),
            "name": _encode(value.name, depth + 1),
            "kind": kind.__name__,
            "freq": freq,
        }
    if kind is pd.Series:
        return {
            "t": "ser",
            "v": _pandas_array(value._values, depth),
            "index": _encode(value.index, depth + 1),
            "name": _encode(value.name, depth + 1),
        }
    if kind is pd.DataFrame:
        return {
            "t": "df",
            "columns": _encode(value.columns, depth + 1),
            "index": _encode(value.index, depth + 1),
            "v": [_pandas_array(value.iloc[:, i]._values, depth) for i in range(value.shape[1])],
        }
    return None


def module_of(kind: type) -> str:
    return str(getattr(kind, "__module__", ""))


def _encode(value: object, depth: int = 0) -> dict:
    """`value` as tagged JSON data, or a handle (see the module docstring)."""
    if depth > MAX_DEPTH:
        return _handle(value)
    kind = type(value)
    if value is None:
        return {"t": "n"}
    if kind is bool:
        return {"t": "b", "v": value}
    if kind is int:
        return {"t": "i", "v": value}
    if kind is float:
        return {"t": "f", "v": value if math.isfinite(value) else repr(value)}
    if kind is str:
        return {"t": "s", "v": value}
    if kind is complex:
        return {"t": "c", "v": [_encode(value.real), _encode(value.imag)]}
    if kind is bytes:
        return {"t": "y", "v": _b64(value)}
    if kind in (list, tuple, set, frozenset):
        tag = {list: "l", tuple: "u", set: "S", frozenset: "F"}[kind]
        return {"t": tag, "v": [_encode(v, depth + 1) for v in value]}  # type: ignore[attr-defined]
    if module_of(kind) == "collections" and kind.__name__ in ("OrderedDict", "defaultdict", "Counter"):
        factory = getattr(value, "default_factory", None)
        return {
            "t": "cd",
            "kind": kind.__name__,
            "factory": getattr(factory, "__name__", None)
            if factory in (int, list, set, dict, str, float)
            else None,
            "v": [[_encode(k, depth + 1), _encode(v, depth + 1)] for k, v in dict.items(value)],  # type: ignore[arg-type]
        }
    if kind is dict:
        return {"t": "d", "v": [[_encode(k, depth + 1), _encode(v, depth + 1)] for k, v in value.items()]}  # type: ignore[attr-defined]
    module = kind.__module__.split(".")[0]
    try:
        if module == "numpy":
            import numpy as np

            if kind is np.ndarray:
                return _ndarray(value)
            if isinstance(value, np.generic) and kind.__module__ == "numpy":
                if isinstance(value, np.datetime64 | np.timedelta64):
                    return {"t": "npt", "dtype": value.dtype.str, "v": int(value.view("int64"))}
                if value.dtype.kind in "biufcU":
                    return {"t": "np", "dtype": value.dtype.str, "v": _encode(value.item(), depth + 1)}
        elif module == "pandas":
            found = _pandas(value, kind, depth)
            if found is not None:
                return found
        elif module == "datetime":
            import datetime as dt

            if kind in (dt.datetime, dt.date, dt.time) and getattr(value, "tzinfo", None) is None:
                return {"t": {dt.datetime: "dt", dt.date: "da", dt.time: "tm"}[kind], "v": value.isoformat()}
            if kind is dt.datetime and value.tzinfo is dt.UTC:
                return {"t": "dt", "v": value.isoformat()}
            if kind is dt.timedelta:
                return {"t": "dl", "v": [value.days, value.seconds, value.microseconds]}
        elif module == "decimal" and kind.__name__ == "Decimal":
            return {"t": "dec", "v": str(value)}
    except TooBig:
        raise
    except Exception:  # noqa: BLE001 - an unusual value of a known library travels as a handle
        pass
    return _handle(value)


def _error(exc: BaseException) -> dict:
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - the learner's exception may fail to print
        message = "?"
    kind = type(exc)
    return {
        "err": {
            "name": str(getattr(kind, "__name__", "Exception")),
            "mro": [
                [str(getattr(k, "__module__", "")), str(getattr(k, "__qualname__", ""))] for k in kind.__mro__
            ],
            "msg": message[:20_000],
        }
    }


CALLBACK_MARK = "\x00automatiza-juiz:"


class _Callback:
    """A function of the test, which stays in the grader: calling it asks the grader (an input request on
    the kernel's stdin channel, allowed only for this call), which runs it and answers with its result."""

    def __init__(self, number: int) -> None:
        object.__setattr__(self, "_number", number)

    def _ask(self, attr: str | None, args: tuple, kwargs: dict, get: bool = False) -> object:
        kernel = sys.modules["IPython"].get_ipython().kernel
        request = {
            "cb": self._number,
            "attr": attr,
            "get": get,
            "args": [_encode(a) for a in args],
            "kwargs": [[str(k), _encode(v)] for k, v in kwargs.items()],
            "out": list(_printed),
        }
        _printed.clear()
        allowed = kernel._allow_stdin
        kernel._allow_stdin = True
        try:
            answer = kernel.raw_input(CALLBACK_MARK + json.dumps(request, allow_nan=False))
        finally:
            kernel._allow_stdin = allowed
        result = _Loader(io.BytesIO(base64.b64decode(answer))).load()
        if "err" in result:
            raise result["err"]
        return result["ok"]

    def __call__(self, *args: object, **kwargs: object) -> object:
        return self._ask(None, args, kwargs)


class _CallbackObject(_Callback):
    """An object of a class the test defines (a fake model, say): its attributes and methods are asked
    to the grader the same way."""

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._ask(name, (), {}, get=True)

    def __len__(self) -> int:
        return self._ask("__len__", (), {})  # type: ignore[return-value]

    def __iter__(self):  # noqa: ANN204
        return iter(self._ask("__iter__", (), {}))  # type: ignore[call-overload]

    def __getitem__(self, key: object) -> object:
        return self._ask("__getitem__", (key,), {})

    def __repr__(self) -> str:
        return str(self._ask("__repr__", (), {}))


class _Loader(pickle.Unpickler):
    def persistent_load(self, pid: object) -> object:
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "h":
            return _objects[pid[1]]
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "cb":
            return _Callback(pid[1])
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "cbo":
            return _CallbackObject(pid[1])
        raise pickle.UnpicklingError("referência")


def _fingerprint(value: object) -> bytes | None:
    if isinstance(value, _MUTABLE) or type(value).__module__.split(".")[0] in ("pandas", "numpy"):
        try:
            return pickle.dumps(value, protocol=5)
        except Exception:  # noqa: BLE001
            return None
    return None


def _call(target: object, args: tuple, kwargs: dict, copied: list[bool]) -> dict:
    """Call and report arguments the call changed (the grader mirrors the change in its own copy)."""
    watched = [(i, a, _fingerprint(a)) for i, a in enumerate(args) if copied[i]]
    result = target(*args, **kwargs)  # type: ignore[operator]
    answer = {"ok": _encode(result)}
    changed = {
        str(i): _encode(a) for i, a, before in watched if before is not None and _fingerprint(a) != before
    }
    if changed:
        answer["changed"] = changed
    return answer


def _iterate(target: object) -> dict:
    items = []
    for item in target:  # type: ignore[attr-defined]
        items.append(item)
        if len(items) > MAX_ITEMS:
            raise OverflowError(f"a iteração passou de {MAX_ITEMS} itens")
    return {"ok": {"t": "l", "v": [_encode(v) for v in items]}}


_OPERATORS = {
    name: getattr(operator, name)
    for name in (
        "add sub mul truediv floordiv mod pow matmul lshift rshift and_ or_ xor eq ne lt le gt ge "
        "neg pos abs invert contains"
    ).split()
}


def _top(value: object) -> dict:
    """`_encode`, plus, for a list, dict or set, the handle of the original: the grader writes its changes
    to its copy back into it (a test that changes a learner's dict changes the kernel's)."""
    encoded = _encode(value)
    if type(value) in (list, dict, set):
        encoded["o"] = _register(value)
    return encoded


def _dispatch(namespace: dict, request: dict) -> dict:
    op = request["op"]
    if op == "lookup":
        found = {}
        for name in request["names"]:
            found[name] = _top(namespace[name]) if name in namespace else None
        return {"ok": {"t": "l", "v": []}, "names": found}
    if op == "assign":
        target, value = _objects[request["id"]], request["value"]
        if isinstance(target, list):
            target[:] = value
        else:
            target.clear()  # type: ignore[attr-defined]
            target.update(value)  # type: ignore[attr-defined]
        return {"ok": {"t": "n"}}
    if op == "reset":
        _objects.clear()
        _handles.clear()
        return {"ok": {"t": "n"}}
    target = _objects[request["id"]] if "id" in request else None
    if op == "call":
        return _call(target, request["args"], request["kwargs"], request["copied"])
    if op == "getattr":
        return {"ok": _top(getattr(target, request["name"]))}
    if op == "setattr":
        setattr(target, request["name"], request["value"])
        return {"ok": {"t": "n"}}
    if op == "delattr":
        delattr(target, request["name"])
        return {"ok": {"t": "n"}}
    if op == "getitem":
        return {"ok": _top(target[request["key"]])}  # type: ignore[index]
    if op == "setitem":
        target[request["key"]] = request["value"]  # type: ignore[index]
        return {"ok": {"t": "n"}}
    if op == "delitem":
        del target[request["key"]]  # type: ignore[attr-defined]
        return {"ok": {"t": "n"}}
    if op == "iter":
        return _iterate(target)
    if op == "next":
        return {"ok": _encode(next(target))}  # type: ignore[call-overload]
    if op == "convert":
        function = {
            "str": str,
            "repr": repr,
            "len": len,
            "bool": bool,
            "int": int,
            "float": float,
            "index": operator.index,
            "hash": hash,
            "dir": lambda v: sorted(dir(v)),
            "fspath": __import__("os").fspath,
        }[request["to"]]
        value = function(target)
        return {"ok": _encode(value)}
    if op == "format":
        return {"ok": _encode(format(target, request["spec"]))}
    if op == "op":
        return {"ok": _encode(_OPERATORS[request["name"]](*request["args"]))}
    if op == "isinstance":
        checker = isinstance if request.get("sub") is None else issubclass
        return {"ok": _encode(checker(request["value"], target))}
    if op == "enter":
        return {"ok": _encode(target.__enter__())}  # type: ignore[attr-defined]
    if op == "exit":
        return {"ok": _encode(target.__exit__(*request["args"]))}  # type: ignore[attr-defined]
    raise ValueError(f"pedido desconhecido: {op}")


class _Captured:
    """`sys.stdout`/`sys.stderr` while a request of a session runs: what the learner's code prints goes back
    with the answer, in order with the test's own prints (bounded)."""

    encoding = "utf-8"

    def __init__(self, name: str, parts: list) -> None:
        self.name, self.parts = name, parts

    def write(self, text: object) -> int:
        text = str(text)
        if len(self.parts) < 10_000:
            self.parts.append((self.name, text[:MAX_OUTPUT]))
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


MAX_OUTPUT = 2 * 1024 * 1024
_printed: list = []  # what the learner's code printed during the current request of a session


def _answer(namespace: dict, payload: str) -> str:
    request = _Loader(io.BytesIO(base64.b64decode(payload))).load()
    # as in a cell run by nbgrader (no stdin): input() raises StdinNotImplementedError, not EOFError
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    refuse = getattr(getattr(shell, "kernel", None), "_no_raw_input", None)
    saved = builtins.input
    if refuse is not None:
        builtins.input = lambda prompt="": refuse()
    try:
        answer = _dispatch(namespace, request)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the learner's code fails as it fails
        answer = _error(exc)
    finally:
        builtins.input = saved
    # which object each learner name is bound to: unchanged, the grader may keep what it looked up
    answer["ns"] = hash(tuple((k, id(v)) for k, v in namespace.items() if isinstance(k, str)))
    if _printed:
        answer["out"] = list(_printed)
        _printed.clear()
    text = json.dumps(answer, ensure_ascii=True, allow_nan=False)
    if len(text) > MAX_BYTES:
        text = json.dumps(_error(MemoryError("resposta grande demais para o corretor")))
    return text


def serve(namespace: dict, payload: str) -> str:
    """Answer one pickled request of the grader (see the module docstring) with tagged JSON text."""
    return _answer(namespace, payload)


SESSION_MARK = "\x00automatiza-juiz-sessao:"


def session(namespace: dict) -> str:
    """Serve the grader's requests for one test cell without an execute request each: the answer to one
    request goes as the prompt of an input request whose reply is the next request ("fim" ends it).
    Prints of the learner's code go back inside each answer."""
    kernel = sys.modules["IPython"].get_ipython().kernel
    allowed = kernel._allow_stdin
    streams = sys.stdout, sys.stderr
    kernel._allow_stdin = True
    sys.stdout, sys.stderr = _Captured("stdout", _printed), _Captured("stderr", _printed)
    try:
        prompt = json.dumps({"ok": {"t": "n"}})
        while True:
            payload = kernel.raw_input(SESSION_MARK + prompt)
            if payload == "fim":
                return "fim"
            prompt = _answer(namespace, payload)
    finally:
        sys.stdout, sys.stderr = streams
        kernel._allow_stdin = allowed
        _printed.clear()
