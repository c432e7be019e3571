"""The zygote: a process that imports the kernel's Python once and forks a kernel per notebook.

Started by `kernels.Zygote` as ``python -m automatiza.grading.sandbox.zygote``, for the grader (isolated
kernels for learners' code) and for `automatiza executar` (course lessons: the plan is `Plan.none` and the
configuration says `trusted`). It speaks the typed JSON-lines protocol of `protocol.py`: stdin receives
`Configure`, then `Spawn` and `Quit`; stdout sends `Ready`, `Started`, `Exited` and `Rejected`. A line that
is not a valid command is answered with `Rejected`; the zygote goes on.

A forked kernel skips the interpreter start-up and the imports (ipykernel, IPython, the modules the notebooks
use), so it is ready in about a tenth of the time of a fresh `python -m ipykernel_launcher`, and the modules'
snapshot for the guard (`guard.prepare`) is taken once, before any learner code exists. Nothing that starts
threads is imported before the forks (`NEVER_PRELOAD`).
"""

from __future__ import annotations

import ast
import builtins
import gc
import importlib
import json
import os
import re
import select
import signal
import sys
import traceback

from automatiza.grading.sandbox import cgroups, files, guard, isolation, protocol

KERNEL_MODULES = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.iostream",
    "ipykernel.heartbeat",
    "ipykernel.comm",
    "ipykernel.debugger",
    "ipykernel.eventloops",
    "ipykernel.jsonutil",
    "ipykernel.compiler",
    "ipykernel.displayhook",
    "ipykernel.control",
    "ipykernel.parentpoller",
    "IPython",
    "IPython.core.interactiveshell",
    "IPython.core.completer",
    "IPython.core.formatters",
    "IPython.core.magics",
    "IPython.core.history",
    "IPython.core.profiledir",
    "IPython.core.application",
    "IPython.core.ultratb",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "IPython.core.logger",
    "IPython.utils.wildcard",
    "sqlite3",
    "pdb",
    "faulthandler",
    "tornado.platform.asyncio",
    "comm",
    "debugpy",
    "automatiza.checagem",
)
# threads, GUI or a Jupyter integration set up when imported (it would be missing in the kernels)
NEVER_PRELOAD = (
    "matplotlib.pyplot",
    "pylab",
    "seaborn",
    "tkinter",
    "turtle",
    "antigravity",
    "this",
    "ipywidgets",
    "tqdm.auto",
    "tqdm.autonotebook",
    "tqdm.notebook",
)


class _KernelLike:
    """What `get_ipython()` is to a module imported inside a Jupyter kernel, for modules that look at it when
    they are imported (pandas picks its `display.max_columns` so: 20 in a kernel, 0 in a terminal)."""

    kernel = None


def preload(names: list[str]) -> list[str]:
    """Import `names` (and the kernel's own modules) as a kernel would; returns those that failed."""
    failed = []
    builtins.get_ipython = _KernelLike  # type: ignore[attr-defined]  # removed below: IPython installs its own
    try:
        for name in (*KERNEL_MODULES, *names):
            if any(name == never or name.startswith(never + ".") for never in NEVER_PRELOAD):
                continue
            if name in sys.modules:
                continue
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the learner's import will report it, not the zygote
                failed.append(name)
    finally:
        del builtins.get_ipython  # type: ignore[attr-defined]
    return failed


def warm_caches() -> None:
    """Fill, once in the zygote, caches that every kernel would otherwise fill on its own: IPython's input
    transformation compiles `tokenize`'s pattern (a few milliseconds of every kernel's first cell). Only
    caches of compiled patterns: no state a notebook can see."""
    from IPython.core.inputtransformer2 import TransformerManager

    TransformerManager().transform_cell("x = 1\n")


_MAGIC = re.compile(r"^([ \t]*)[%!].*$", re.MULTILINE)


def imported_modules(sources: list[str]) -> list[str]:
    """Every absolute module imported at any level by `sources` (cells; IPython magics and shell lines are
    skipped), to preload in the zygote."""
    modules: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(_MAGIC.sub(r"\1pass", source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module)
    return sorted(modules)


class Channel:
    """The protocol's pipes: commands from stdin, events to stdout (which nothing else may write to)."""

    def __init__(self) -> None:
        self.out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)  # stray prints from imports go to stderr, never into the protocol
        self.buffer = b""
        self.skipping = False  # inside a line that was too long: dropped up to its newline

    def send(self, message: protocol.Message) -> None:
        self.out.write(message.to_json() + "\n")
        self.out.flush()

    def commands(self) -> list[protocol.Message] | None:
        """The complete commands read now (None at end of input); malformed lines are answered here."""
        chunk = os.read(0, 65536)
        if not chunk:
            return None
        self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b"\n")
        if complete and self.skipping:
            complete.pop(0)
            self.skipping = False
        if len(self.buffer) > protocol.MAX_LINE_BYTES:
            self.buffer, self.skipping = b"", True
            self.send(protocol.Rejected(f"linha com mais de {protocol.MAX_LINE_BYTES} bytes"))
        messages = []
        for line in complete:
            if not line.strip():
                continue
            try:
                messages.append(protocol.decode(line, protocol.COMMANDS))
            except protocol.ProtocolError as exc:
                self.send(protocol.Rejected(str(exc), protocol.spawn_id(line)))
        return messages


def kernel_child(
    spawn: protocol.Spawn,
    groups: list[str],
    plan: isolation.Plan,
    config: protocol.Configure,
    zygote_cwd: str,
) -> None:
    """In the forked child: close everything, enter the sandbox, start the kernel. Never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(number, signal.SIG_DFL)
        os.setsid()
        os.closerange(3, 65536)  # the protocol pipes, among others: learner code must not reach the zygote
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        log = os.open(spawn.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        cgroups.Controller.attach(groups)  # before the namespaces: every process counts
        seal = isolation.apply(plan, spawn.uid, [spawn.folder])
        os.chdir(spawn.workdir)
        os.environ.clear()
        os.environ.update(spawn.env)
        if sys.path and sys.path[0] in ("", zygote_cwd):  # as ipykernel_launcher: IPython then adds ""
            del sys.path[0]
        from automatiza.grading.sandbox.kernelapp import KernelApp, kernel_arguments

        app = KernelApp.instance(connection_file=spawn.connection)
        app.initialize(kernel_arguments(config.xmode))
        seal()  # its sockets are bound: now their folder turns read-only and capabilities go
        if not config.trusted:
            guard.install(app, bytes.fromhex(spawn.key))
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - written to the kernel log, read by the grader on death
        traceback.print_exc()
    finally:
        os._exit(code)


def configure(channel: Channel) -> tuple[protocol.Configure, list[protocol.Message]] | None:
    """Wait for the configuration (anything before it is rejected); None if the input ends first."""
    while True:
        messages = channel.commands()
        if messages is None:
            return None
        for number, message in enumerate(messages):
            if isinstance(message, protocol.Configure):
                return message, messages[number + 1 :]
            channel.send(protocol.Rejected(f"esperava {protocol.Configure.op}, recebeu {message.op}"))


def main() -> None:
    channel = Channel()
    preload([])  # the kernel's own modules, before the client has even sent the configuration
    configured = configure(channel)
    if configured is None:
        return
    config, pending = configured
    zygote_cwd = os.getcwd()
    failed = preload(config.preload)
    warm_caches()
    from automatiza.grading.sandbox.kernelapp import KernelApp, kernel_arguments

    KernelApp.parse_once(kernel_arguments(config.xmode))
    unprotected = guard.prepare(config.protected) if not config.trusted else []
    plan = isolation.Plan.from_json(json.dumps(config.plan))
    plan = isolation.probe(plan, config.probe_uid, config.probe_folder)
    controller = None
    if not config.trusted:  # course lessons get neither a cgroup nor a disk quota per kernel
        controller, plan = isolation.probe_totals(plan, f"automatiza-corretor-{os.getpid()}")
        plan = isolation.probe_disk_quota(plan, config.probe_folder + "-cota")
    isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)  # the zygote dies with its client
    gc.collect()
    gc.freeze()  # the preloaded objects stay out of the kernels' collections: fewer copy-on-write pages
    if os.getppid() == 1:
        os._exit(1)
    read_wake, write_wake = os.pipe()
    os.set_blocking(write_wake, False)
    signal.set_wakeup_fd(write_wake)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: dict[int, protocol.Spawn] = {}
    groups: dict[int, list[str]] = {}  # pid -> the kernel's cgroup folders
    channel.send(
        protocol.Ready(
            plan=json.loads(plan.to_json()),
            level=plan.describe(),
            failures=failed,
            unprotected=unprotected,
            pid=os.getpid(),
        )
    )

    def release(spawn: protocol.Spawn, pid: int) -> str:
        """What a kernel leaves behind goes with it; returns the tail of its log."""
        cgroups.Controller.destroy(groups.pop(pid, []))  # what the kernel left running goes with it
        if spawn.uid is not None and plan.uid:
            isolation.kill_uid(spawn.uid)
            if not plan.mounts:
                isolation.remove_files_of(spawn.uid)
        # the kernel's uid controls this file: never follow, never block, never read past 3000 bytes
        tail = files.tail(spawn.log, 3000)
        isolation.release_folder(spawn.folder)
        return tail

    def reap() -> None:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            spawn = children.pop(pid, None)
            tail = release(spawn, pid) if spawn is not None else ""
            channel.send(protocol.Exited(pid=pid, code=os.waitstatus_to_exitcode(status), log=tail))

    def start(spawn: protocol.Spawn) -> None:
        made = isolation.kernel_groups(controller, plan, f"k{spawn.id}")
        if plan.disk_quota:
            isolation.quota_folder(spawn.folder, plan.limits.disk_mb, spawn.uid)
        pid = os.fork()
        if pid == 0:
            kernel_child(spawn, made, plan, config, zygote_cwd)
        children[pid] = spawn
        groups[pid] = made
        channel.send(protocol.Started(id=spawn.id, pid=pid))

    running = True
    while running:
        try:
            ready, _, _ = select.select([0, read_wake], [], [])
        except InterruptedError:
            continue
        if read_wake in ready:
            os.read(read_wake, 4096)
        reap()
        if 0 not in ready and not pending:
            continue
        commands, pending = pending, []
        if 0 in ready:
            received = channel.commands()
            if received is None:
                break
            commands += received
        for command in commands:
            if isinstance(command, protocol.Quit):
                running = False
                break
            if isinstance(command, protocol.Spawn):
                try:
                    start(command)
                except Exception as exc:  # noqa: BLE001 - refused, reported; the zygote goes on
                    channel.send(protocol.Rejected(f"o kernel não foi criado: {exc}", command.id))
            else:
                channel.send(protocol.Rejected(f"{command.op} fora de hora"))
    for pid in list(children):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    for pid, spawn in list(children.items()):
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        release(spawn, pid)
    if controller is not None:
        controller.remove()


if __name__ == "__main__":
    main()
