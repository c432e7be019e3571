"""The zygote: a root process that imports the kernel's Python once and forks an isolated kernel per notebook.

Started by the grader (`kernels.Zygote`) as ``python -m automatiza.grading.sandbox.zygote``; it speaks JSON
lines:
stdin receives the configuration, then commands; stdout sends events. A forked kernel skips the interpreter
start-up and the imports (ipykernel, IPython, the modules the assignment uses), so it is ready in about a
tenth of the time of a fresh `python -m ipykernel_launcher`, and the modules' snapshot for the guard
(`guard.prepare`) is taken once, before any learner code exists.

Events: {"op": "pronto", "plano": ..., "nivel": ...}, {"op": "iniciado", "id": ..., "pid": ...},
{"op": "saiu", "pid": ..., "codigo": ...} (exit code, or minus the signal number).
Commands: {"op": "iniciar", "id", "uid", "pasta", "trabalho", "conexao", "env", "chave", "log"} and
{"op": "sair"}.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import sys
import traceback

from automatiza.grading.sandbox import cgroups, files, guard, isolation

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
    "IPython.utils.wildcard",
    "sqlite3",
    "pdb",
    "faulthandler",
    "tornado.platform.asyncio",
    "comm",
    "debugpy",
    "automatiza.checagem",
)
NEVER_PRELOAD = ("matplotlib.pyplot", "pylab", "seaborn", "tkinter", "turtle", "antigravity", "this")


def preload(names: list[str]) -> list[str]:
    failed = []
    for name in (*KERNEL_MODULES, *names):
        if name.startswith(NEVER_PRELOAD) or name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the learner's import will report it, not the zygote
            failed.append(name)
    return failed


class Channel:
    def __init__(self) -> None:
        self.out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)  # stray prints from imports go to stderr, never into the protocol
        self.buffer = b""

    def send(self, **event: object) -> None:
        self.out.write(json.dumps(event) + "\n")
        self.out.flush()

    def lines(self) -> list[dict] | None:
        chunk = os.read(0, 65536)
        if not chunk:
            return None
        self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in complete if line.strip()]


def kernel_child(command: dict, plan: isolation.Plan, zygote_cwd: str, xmode: str) -> None:
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
        log = os.open(command["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        cgroups.Controller.attach(command.get("grupos", []))  # before the namespaces: every process counts
        seal = isolation.apply(plan, command.get("uid"), [command["pasta"]])
        os.chdir(command["trabalho"])
        os.environ.clear()
        os.environ.update(command["env"])
        if sys.path and sys.path[0] == zygote_cwd:
            sys.path[0] = command["trabalho"]
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(
            [
                "-f",
                command["conexao"],
                "--HistoryManager.hist_file=:memory:",  # as nbgrader's Execute
                "--quiet",
                f"--InteractiveShell.xmode={xmode}",
            ]
        )
        seal()  # its sockets are bound: now their folder turns read-only and capabilities go
        guard.install(app, bytes.fromhex(command["chave"]))
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - written to the kernel log, read by the grader on death
        traceback.print_exc()
    finally:
        os._exit(code)


def main() -> None:
    channel = Channel()
    preload([])  # the kernel's own modules, before the grader has even sent the configuration
    pending: list[dict] = []
    while not pending:
        lines = channel.lines()
        if lines is None:
            return
        pending += lines
    config = pending.pop(0)
    zygote_cwd = os.getcwd()
    failed = preload(config.get("preload", []))
    unprotected = guard.prepare(config.get("protegidos", []))
    plan = isolation.Plan.from_json(config["plano"])
    plan = isolation.probe(plan, config["sonda_uid"], config["sonda_pasta"])
    controller, plan = isolation.probe_totals(plan, f"automatiza-corretor-{os.getpid()}")
    plan = isolation.probe_disk_quota(plan, config["sonda_pasta"] + "-cota")
    isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)  # the zygote dies with the grader
    gc.collect()
    gc.freeze()  # the preloaded objects stay out of the kernels' collections: fewer copy-on-write pages
    if os.getppid() == 1:
        os._exit(1)
    read_wake, write_wake = os.pipe()
    os.set_blocking(write_wake, False)
    signal.set_wakeup_fd(write_wake)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: dict[int, tuple[int | None, str | None]] = {}
    groups: dict[int, list[str]] = {}  # pid -> the kernel's cgroup folders
    channel.send(
        op="pronto",
        plano=plan.to_json(),
        nivel=plan.describe(),
        falhas=failed,
        nao_protegidos=unprotected,
        pid=os.getpid(),
    )

    def reap() -> None:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            uid, folder = children.pop(pid, (None, None))
            cgroups.Controller.destroy(groups.pop(pid, []))  # what the kernel left running goes with it
            if uid is not None and plan.uid:
                isolation.kill_uid(uid)
                if not plan.mounts:
                    isolation.remove_files_of(uid)
            tail = ""
            if folder:  # the kernel's folder goes with it (its log tail travels in the event)
                # the kernel's uid controls this file: never follow, never block, never read past 3000 bytes
                tail = files.tail(os.path.join(folder, "kernel.log"), 3000)
                isolation.release_folder(folder)
            channel.send(op="saiu", pid=pid, codigo=os.waitstatus_to_exitcode(status), log=tail)

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
            lines = channel.lines()
            if lines is None:
                break
            commands += lines
        for command in commands:
            if command["op"] == "sair":
                running = False
                break
            if command["op"] == "iniciar":
                made = isolation.kernel_groups(controller, plan, f"k{command['id']}")
                if plan.disk_quota:
                    isolation.quota_folder(command["pasta"], plan.limits.disk_mb, command.get("uid"))
                command["grupos"] = made
                pid = os.fork()
                if pid == 0:
                    kernel_child(command, plan, zygote_cwd, config.get("xmode", "Plain"))
                children[pid] = (command.get("uid"), command.get("pasta"))
                groups[pid] = made
                channel.send(op="iniciado", id=command["id"], pid=pid)
    for pid in list(children):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    for pid, (uid, folder) in list(children.items()):
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        cgroups.Controller.destroy(groups.pop(pid, []))
        if uid is not None and plan.uid:
            isolation.kill_uid(uid)
        if folder:
            isolation.release_folder(folder)
    if controller is not None:
        controller.remove()


if __name__ == "__main__":
    main()
