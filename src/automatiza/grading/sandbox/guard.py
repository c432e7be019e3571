"""Kernel-side guard: before each graded test cell, undo the monkeypatching that could defeat the tests.

The snapshot is taken before any learner code runs: module and class level in the zygote (`prepare`), once,
and the kernel's own objects (shell, kernel, streams, threads) in each kernel child (`install`). Before every
autograded test cell the grader runs `restore(nonce, bindings)` silently, which

- puts back the builtins (`len`, `print`, `isinstance`, `__import__`, ...), the functions, classes and
  class attributes of the protected modules (`automatiza.checagem`, the modules the tests import, IPython's
  and ipykernel's execution machinery, pyzmq and jupyter_client's session) and their `__code__`;
- clears what changes how a cell runs: input and AST transformers, custom exception handlers, event
  callbacks added by learner code, trace and profile functions, `sys.excepthook`/`displayhook`/`stdout`/
  `stderr`, `gc.callbacks`, timers and signal handlers for alarms;
- stops threads running learner code (they could patch again between the guard and the test);
- binds again, in the learner namespace, the names the tests import (`from automatiza.checagem import
  confira` in an earlier cell cannot be replaced by `confira = lambda *a, **k: None`);
- answers with what it restored and an HMAC of the grader's nonce, so the grader notices a guard that did
  not run.

This guard is a DETERRENT, not a protection: it runs inside the learner's own process, so whatever it saves
(its snapshot, its HMAC key) the learner's code can read and change, and an audit hook, a thread or a signal
handler can patch again after it ran. Grades do not rest on it: test cells run in the grader, in the trusted
judge (`automatiza.grading.judge`, with `sandbox.remote` on this side), and their source and expected values
never enter the kernel; what the kernel patches only changes what the learner's own objects answer. The
exception are test cells that work with files (`judge.runs_in_kernel`: temporary folders, reading the
kernel's files with pandas, openpyxl, python-docx or pdfplumber): they still run in the kernel as nbgrader
runs them, and for those the guard is all there is, against casual tricks. Before the learner's functions
are called by the judge the guard has also run, and the instructor sees what it restored in the grader's
report. What protects the other students, the sources and the gradebook is the isolation
(`sandbox.isolation`), not this.
"""

from __future__ import annotations

import builtins
import ctypes
import gc
import hashlib
import hmac
import importlib
import json
import signal
import sys
import threading
import types

# the kernel side of the judge, imported with the guard so that the zygote has it loaded (from the
# installation, before any learner code) in every kernel it forks
from automatiza.grading.sandbox import remote  # noqa: F401

MACHINERY = (
    "IPython.core.interactiveshell",
    "IPython.core.displayhook",
    "IPython.core.displaypub",
    "IPython.core.ultratb",
    "IPython.core.compilerop",
    "IPython.core.inputtransformer2",
    "IPython.core.events",
    "IPython.core.formatters",
    "IPython.core.builtin_trap",
    "IPython.core.display_trap",
    "ipykernel.zmqshell",
    "ipykernel.ipkernel",
    "ipykernel.kernelbase",
    "ipykernel.iostream",
    "ipykernel.displayhook",
    "jupyter_client.session",
    "zmq.sugar.socket",
)
STANDARD = (
    "automatiza.checagem",
    "math",
    "operator",
    "functools",
    "re",
    "json",
    "copy",
    "numbers",
    "decimal",
    "fractions",
    "datetime",
    "collections",
    "types",
    "traceback",
    "linecache",
    "warnings",
    "unittest",
)
_BUILTIN_SKIP = frozenset(
    {
        "_",
        "__",
        "___",
        "exit",
        "quit",
        "get_ipython",
        "display",
        "help",
        "copyright",
        "credits",
        "license",
        "__IPYTHON__",
    }
)
_MISSING = object()
_TIMERS = [getattr(signal, name) for name in ("ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF")]
_ALARMS = [getattr(signal, name) for name in ("SIGALRM", "SIGVTALRM", "SIGPROF")]


def _runs_cell_code(frame: types.FrameType | None) -> bool:
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith("<ipython-input") or "/ipykernel_" in name:
            return True
        frame = frame.f_back
    return False


def _ours(callback: object) -> bool:
    """Event callbacks registered by IPython, ipykernel or plotting libraries, not by learner code."""
    module = str(getattr(callback, "__module__", "") or "")
    return module.split(".")[0] in {
        "IPython",
        "ipykernel",
        "matplotlib_inline",
        "matplotlib",
        "ipywidgets",
        "comm",
    }


def _patchable(value: object) -> bool:
    """Values a monkeypatch replaces: functions, classes, descriptors (not plain data, which code may
    legitimately change)."""
    return (
        callable(value)
        or isinstance(value, (staticmethod, classmethod, property, types.ModuleType))
        or (hasattr(type(value), "__get__") and not isinstance(value, (int, float, str, bytes, tuple)))
    )


class _Snapshot:
    def __init__(self) -> None:
        self.builtins: dict[str, object] = {}
        self.modules: dict[str, tuple[types.ModuleType, dict[str, object]]] = {}
        self.classes: dict[type, tuple[dict[str, object], frozenset[str]]] = {}
        self.functions: dict[int, tuple[types.FunctionType, object, object, object]] = {}
        self.instances: list[tuple[object, dict[str, object]]] = []
        self.lists: list[tuple[list, list]] = []
        self.dicts: list[tuple[dict, dict]] = []
        self.sys_attrs: dict[str, object] = {}
        self.threads: set[int] = set()
        self.switch_interval = sys.getswitchinterval()
        self.shell: object = None
        self.key = b""

    # ---- taking -----------------------------------------------------------------------------------------

    def add_function(self, func: object) -> None:
        if isinstance(func, (staticmethod, classmethod)):
            func = func.__func__
        if isinstance(func, property):
            for part in (func.fget, func.fset, func.fdel):
                if part is not None:
                    self.add_function(part)
            return
        if isinstance(func, types.FunctionType) and id(func) not in self.functions:
            self.functions[id(func)] = (func, func.__code__, func.__defaults__, func.__kwdefaults__)

    def add_class(self, cls: type) -> None:
        for klass in cls.__mro__:
            if klass in self.classes or klass.__module__ == "builtins":
                continue
            try:
                content = dict(klass.__dict__)
            except (AttributeError, TypeError):
                continue
            self.classes[klass] = ({k: v for k, v in content.items() if _patchable(v)}, frozenset(content))
            for value in content.values():
                self.add_function(value)

    def add_module(self, name: str) -> bool:
        try:
            module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that does not import is simply not protected
            return False
        content = dict(module.__dict__)
        self.modules[name] = (module, {k: v for k, v in content.items() if _patchable(v)})
        package = name.split(".")[0]
        for value in content.values():
            if isinstance(value, type) and str(getattr(value, "__module__", "")).split(".")[0] == package:
                self.add_class(value)
            else:
                self.add_function(value)
        return True

    def add_instance(self, obj: object) -> None:
        if obj is not None and hasattr(obj, "__dict__"):
            self.instances.append((obj, dict(obj.__dict__)))
            self.add_class(type(obj))

    def add_list(self, value: object) -> None:
        if isinstance(value, list):
            self.lists.append((value, list(value)))

    def add_dict(self, value: object) -> None:
        if isinstance(value, dict):
            self.dicts.append((value, {k: (list(v) if isinstance(v, list) else v) for k, v in value.items()}))

    # ---- restoring --------------------------------------------------------------------------------------

    def restore(self, bindings: list[tuple[str, str, str | None]]) -> list[str]:
        fixed: list[str] = []
        # 1. builtins first: everything below uses them
        current = builtins.__dict__
        for name, value in self.builtins.items():
            if current.get(name, _MISSING) is not value:
                current[name] = value
                fixed.append(f"builtins.{name}")
        # 2. interpreter hooks
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)  # type: ignore[arg-type]
        threading.setprofile(None)  # type: ignore[arg-type]
        for name, value in self.sys_attrs.items():
            if getattr(sys, name, _MISSING) is not value:
                setattr(sys, name, value)
                fixed.append(f"sys.{name}")
        if sys.getswitchinterval() != self.switch_interval:
            sys.setswitchinterval(self.switch_interval)
        for timer in _TIMERS:
            if signal.getitimer(timer)[0]:
                signal.setitimer(timer, 0)
                fixed.append("signal.setitimer")
        for number in _ALARMS:
            if signal.getsignal(number) not in (signal.SIG_DFL, None):
                signal.signal(number, signal.SIG_DFL)
                fixed.append(f"signal.{signal.Signals(number).name}")
        # 3. threads running learner code (cell code anywhere in their stack)
        for ident, frame in list(sys._current_frames().items()):
            if ident not in self.threads and ident != threading.get_ident() and _runs_cell_code(frame):
                stop = ctypes.py_object(SystemExit)
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), stop)
                fixed.append("thread do aluno")
        # 4. modules, classes, functions
        for name, (module, content) in self.modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                fixed.append(f"sys.modules[{name!r}]")
            namespace = module.__dict__
            for key, value in content.items():  # only the patchable entries were kept
                if namespace.get(key, _MISSING) is not value:
                    namespace[key] = value
                    fixed.append(f"{name}.{key}")
        for klass, (content, keys) in self.classes.items():
            now = klass.__dict__
            for key, value in content.items():
                if now.get(key, _MISSING) is not value:
                    try:
                        setattr(klass, key, value)
                        fixed.append(f"{klass.__qualname__}.{key}")
                    except (AttributeError, TypeError):
                        pass
            if len(now) != len(keys):  # something was added: remove what hides inherited behaviour
                for key in [k for k in now if k not in keys and _patchable(now[k])]:
                    try:
                        delattr(klass, key)
                        fixed.append(f"{klass.__qualname__}.{key}")
                    except (AttributeError, TypeError):
                        pass
        for func, code, defaults, kwdefaults in self.functions.values():
            if func.__code__ is not code:
                func.__code__ = code
                fixed.append(f"{func.__qualname__}.__code__")
            if func.__defaults__ is not defaults:
                func.__defaults__ = defaults
                fixed.append(f"{func.__qualname__}.__defaults__")
            if func.__kwdefaults__ is not kwdefaults:
                func.__kwdefaults__ = kwdefaults
                fixed.append(f"{func.__qualname__}.__kwdefaults__")
        # 5. the kernel's own objects
        for obj, content in self.instances:
            now = obj.__dict__
            cls = type(obj)
            for key in [k for k in now if k not in content]:
                value = now[key]
                if callable(value) and hasattr(cls, key):  # an instance attribute hiding a method
                    del now[key]
                    same = getattr(value, "__self__", None) is obj and getattr(
                        value, "__func__", None
                    ) is getattr(cls, key, None)
                    if not same:  # IPython itself leaves `stream.write = original bound method` behind
                        fixed.append(f"{cls.__name__}().{key}")
            for key, value in content.items():
                if now.get(key, _MISSING) is not value and (_patchable(value) or key in ("_trait_values",)):
                    now[key] = value
                    fixed.append(f"{cls.__name__}().{key}")
        for target, content in self.lists:
            if target != content or any(a is not b for a, b in zip(target, content, strict=False)):
                target[:] = content
                fixed.append("lista de ganchos")
        for target, content in self.dicts:
            changed = target.keys() != content.keys()
            for key, value in content.items():
                now = target.get(key, _MISSING)
                if isinstance(value, list) and isinstance(now, list):
                    if now != value:
                        now[:] = value
                        changed = True
                elif now is not value:
                    changed = True
            if changed:
                for key in [k for k in target if k not in content]:
                    del target[key]
                for key, value in content.items():
                    if not (isinstance(value, list) and isinstance(target.get(key), list)):
                        target[key] = list(value) if isinstance(value, list) else value
                fixed.append("tabela de ganchos")
        shell = self.shell
        if shell is not None:
            callbacks = getattr(getattr(shell, "events", None), "callbacks", {})
            for event, registered in callbacks.items():
                strange = [cb for cb in registered if not _ours(cb)]
                for callback in strange:
                    registered.remove(callback)
                    fixed.append(f"evento {event}")
            if getattr(shell, "custom_exceptions", ()) != ():
                shell.custom_exceptions = ()
                fixed.append("custom_exceptions")
            # 6. the names the tests import, in the learner namespace
            user_ns = shell.user_ns
            for name, module_name, attribute in bindings:
                try:
                    module = (
                        self.modules[module_name][0]
                        if module_name in self.modules
                        else importlib.import_module(module_name)
                    )
                    value = module if attribute is None else getattr(module, attribute)
                except Exception:  # noqa: BLE001 - the test itself will report the import error
                    continue
                if name in user_ns and user_ns[name] is not value:
                    user_ns[name] = value
                    fixed.append(f"nome {name}")
        return sorted(set(fixed))


_snapshot = _Snapshot()


def prepare(extra_modules: list[str]) -> list[str]:
    """Module and class level snapshot, in the zygote, before any fork. Returns modules not protected."""
    gc.disable()
    try:
        _snapshot.builtins = {
            k: v
            for k, v in builtins.__dict__.items()
            if k not in _BUILTIN_SKIP and (callable(v) or isinstance(v, type))
        }
        missing = []
        for name in (*STANDARD, *MACHINERY, *extra_modules):
            if not _snapshot.add_module(name):
                missing.append(name)
        return missing
    finally:
        gc.enable()


def _no_new_audit_hooks(event: str, args: tuple) -> None:
    """Audit hooks cannot be removed once added, and one could patch again after every guard: refuse new
    ones (CPython drops a hook whose `sys.addaudithook` event raises a RuntimeError)."""
    if event == "sys.addaudithook":
        raise RuntimeError("ganchos de auditoria não são permitidos durante a correção")


def install(app: object, key: bytes) -> None:
    """Instance level snapshot in the kernel child, after IPKernelApp.initialize and before any cell."""
    sys.addaudithook(_no_new_audit_hooks)
    snap = _snapshot
    snap.key = key
    kernel = getattr(app, "kernel", None)
    shell = getattr(kernel, "shell", None)
    snap.shell = shell
    for obj in (
        kernel,
        shell,
        getattr(kernel, "session", None),
        getattr(shell, "displayhook", None),
        getattr(shell, "display_pub", None),
        getattr(shell, "compile", None),
        getattr(shell, "input_transformer_manager", None),
        getattr(shell, "events", None),
        getattr(shell, "InteractiveTB", None),
        getattr(shell, "SyntaxTB", None),
        getattr(kernel, "iopub_thread", None),
        getattr(kernel, "iopub_socket", None),
        sys.stdout,
        sys.stderr,
    ):
        snap.add_instance(obj)
    if shell is not None:
        for name in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers"):
            snap.add_list(getattr(shell, name, None))
        manager = getattr(shell, "input_transformer_manager", None)
        for name in ("cleanup_transforms", "line_transforms", "token_transformers"):
            snap.add_list(getattr(manager, name, None))
    if kernel is not None:
        for name in ("shell_handlers", "control_handlers"):
            snap.add_dict(getattr(kernel, name, None))
    snap.add_list(gc.callbacks)
    snap.sys_attrs = {
        name: getattr(sys, name)
        for name in (
            "excepthook",
            "displayhook",
            "stdout",
            "stderr",
            "stdin",
            "breakpointhook",
            "unraisablehook",
        )
        if hasattr(sys, name)
    }


def baseline() -> str:
    """Called by the grader once the kernel is ready, before any learner code: the kernel's own threads."""
    _snapshot.threads = set(sys._current_frames())
    return "ok"


def restore(nonce: str, bindings: list) -> str:
    """Restore everything (see the module docstring); JSON with what was restored and the HMAC of `nonce`."""
    fixed = _snapshot.restore([tuple(b) for b in bindings])
    report = json.dumps(fixed)
    token = hmac.new(_snapshot.key, (nonce + report).encode(), hashlib.sha256).hexdigest()
    return json.dumps({"restaurado": fixed, "token": token})


def expected_token(key: bytes, nonce: str, restored: list[str]) -> str:
    """What the grader expects back from `restore` (same JSON encoding of the restored list)."""
    return hmac.new(key, (nonce + json.dumps(restored)).encode(), hashlib.sha256).hexdigest()
