"""Pre-started, isolated kernels: the zygote forks them ahead of need, so start-up overlaps execution.

Each kernel has a folder of its own, owned by its own uid (mode 0700):

    <base>/k<n>/            the only folder the kernel can write (bound read-write in its private view)
        trabalho/           working directory: the private copy of the submission's files
        casa/               HOME (copied from a template prepared by the zygote: matplotlib's font cache...)
        tmp/                TMPDIR
        conexao/            the kernel's ZMQ IPC sockets (no TCP port: works without a network)
        kernel.json         connection file
        kernel.log          the kernel process's own stdout/stderr (read when it dies)

`SandboxKernel` is a jupyter_client kernel manager (`provisioner.ForkedKernelManager`, the one `executar` uses
for lessons) whose `ZygoteProvisioner` forks the kernel into its sandbox; nbclient drives it like any other,
and liveness comes from the zygote's exit reports instead of heartbeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import TypeVar

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient

from automatiza.grading.sandbox import files, isolation, protocol
from automatiza.grading.sandbox.provisioner import ForkedKernelManager

T = TypeVar("T")
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a bigger message from a kernel is dropped, not buffered
SIGNAL_NAMES = {
    signal.SIGKILL: "morto à força (SIGKILL): memória esgotada, limite de CPU ou fim do corretor",
    signal.SIGXCPU: "limite de tempo de CPU atingido (SIGXCPU)",
    signal.SIGSEGV: "falha de segmentação (SIGSEGV)",
    signal.SIGABRT: "abortado (SIGABRT)",
    signal.SIGBUS: "erro de barramento (SIGBUS)",
    signal.SIGTERM: "encerrado (SIGTERM)",
    signal.SIGXFSZ: "limite de tamanho de arquivo atingido (SIGXFSZ)",
}


def describe_exit(code: int | None) -> str:
    """pt-BR reason for a kernel exit code (negative: killed by that signal)."""
    if code is None:
        return "ainda em execução"
    if code < 0:
        number = -code
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = str(number)
        return SIGNAL_NAMES.get(number, f"morto pelo sinal {name}")
    return f"o processo terminou com o código {code} (por exemplo, exit() ou os._exit() no notebook)"


class ZygoteError(RuntimeError):
    pass


class Zygote:
    """The client side of `zygote.py` (for the grader and for `automatiza executar`): start it, ask it for
    kernels, hear when they exit. Every message is one of `protocol.py`'s.

    `launch()` starts the process at once (it begins importing the kernel's Python while the caller is still
    importing its own modules); `start()` later sends the modules to preload and the isolation plan. The
    coroutines run on the event loop that called `start()` (`loop`); from another thread's loop, go through
    `call()`.
    """

    def __init__(self, base: Path, process: subprocess.Popen) -> None:
        self.base = base
        self.log_path = base / "zygote.log"
        self.process = process
        self.plan: isolation.Plan | None = None
        self.level = ""
        self.preload_failures: list[str] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ids = itertools.count(1)
        self._started: dict[int, asyncio.Future] = {}
        self._exits: dict[int, asyncio.Future] = {}
        self._ready: asyncio.Future | None = None
        self._reader: asyncio.Task | None = None
        self._transport: asyncio.BaseTransport | None = None
        self.logs: dict[int, str] = {}  # pid -> tail of the kernel's own log, sent when it exits
        self.rejected: list[str] = []  # what the zygote refused (malformed commands: a bug on this side)
        self.context: zmq.asyncio.Context | None = None  # one ZMQ context (one IO thread) for all clients

    @classmethod
    def launch(cls, base: Path, env: dict[str, str] | None = None) -> Zygote:
        """Start the zygote process (call from a thread that outlives it: the zygote dies with that thread).
        `env`: its environment and its kernels' start-up one (by default `common_env()`)."""
        home = base / "casa-modelo"
        home.mkdir(mode=0o755, exist_ok=True)
        with open(base / "zygote.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "automatiza.grading.sandbox.zygote"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd="/",
                env=env if env is not None else {**common_env(), "HOME": str(home)},
            )
        return cls(base, process)

    async def start(
        self,
        plan: isolation.Plan,
        preload: list[str],
        protected: list[str],
        probe_uid: int,
        xmode: str = "Plain",
        trusted: bool = False,
    ) -> None:
        """Send the configuration; `xmode` is IPython's traceback mode in the kernels ("Plain" costs a tenth
        of the default "Context", which highlights source around every frame; the points do not change).
        `trusted`: course lessons, not learners' code (no guard, no cgroup or disk quota per kernel)."""
        probe_dir = self.base / "sonda"
        probe_dir.mkdir(mode=0o700)
        if plan.uid and os.geteuid() == 0:
            os.chown(probe_dir, probe_uid, probe_uid)
        loop = self.loop = asyncio.get_running_loop()
        self.context = zmq.asyncio.Context()
        reader = asyncio.StreamReader(limit=protocol.MAX_LINE_BYTES)
        self._transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), self.process.stdout
        )
        self._ready = loop.create_future()
        self._reader = asyncio.create_task(self._read(reader))
        self._send(
            protocol.Configure(
                preload=preload,
                protected=protected,
                plan=json.loads(plan.to_json()),
                probe_uid=probe_uid,
                probe_folder=str(probe_dir),
                xmode=xmode,
                trusted=trusted,
            )
        )
        ready: protocol.Ready = await asyncio.wait_for(self._ready, timeout=120)
        self.plan = isolation.Plan.from_json(json.dumps(ready.plan))
        self.level = ready.level
        self.preload_failures = ready.failures
        shutil.rmtree(probe_dir, ignore_errors=True)

    def _send(self, message: protocol.Message) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((message.to_json() + "\n").encode())
        self.process.stdin.flush()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await reader.readline()
            except ValueError:  # a line over the limit: the zygote is broken, as if it had ended
                break
            if not line:
                break
            try:
                event = protocol.decode(line, protocol.EVENTS)
            except protocol.ProtocolError as exc:
                self.rejected.append(f"evento inválido do zigoto: {exc}")
                continue
            if isinstance(event, protocol.Ready):
                if self._ready is not None and not self._ready.done():
                    self._ready.set_result(event)
            elif isinstance(event, protocol.Started):
                future = self._started.pop(event.id, None)
                if future is not None and not future.done():
                    future.set_result(event.pid)
            elif isinstance(event, protocol.Exited):
                self.logs[event.pid] = event.log
                future = self._exit_future(event.pid)
                if not future.done():
                    future.set_result(event.code)
            elif isinstance(event, protocol.Rejected):
                self.rejected.append(event.reason)
                future = self._started.pop(event.id, None) if event.id is not None else None
                if future is not None and not future.done():
                    future.set_exception(ZygoteError(event.reason))
        failure = ZygoteError(self._log_tail() or "o processo zigoto terminou")
        for future in [self._ready, *self._started.values()]:
            if future is not None and not future.done():
                future.set_exception(failure)
        for future in self._exits.values():
            if not future.done():
                future.set_result(-signal.SIGKILL)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def _exit_future(self, pid: int) -> asyncio.Future:
        if pid not in self._exits:
            self._exits[pid] = asyncio.get_running_loop().create_future()
        return self._exits[pid]

    async def spawn(
        self,
        *,
        folder: str,
        workdir: str,
        connection: str,
        log: str,
        env: dict[str, str],
        uid: int | None = None,
        key: str = "",
    ) -> int:
        """Ask for a kernel; returns its pid once forked (it is not ready yet: wait for its kernel_info)."""
        ident = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._started[ident] = future
        self._send(protocol.Spawn(ident, folder, workdir, connection, log, env, uid, key))
        pid = await asyncio.wait_for(future, timeout=60)
        self._exit_future(pid)
        return pid

    def exit_code(self, pid: int) -> int | None:
        future = self._exits.get(pid)
        return future.result() if future is not None and future.done() else None

    async def wait_exit(self, pid: int, timeout: float | None) -> int | None:
        with contextlib.suppress(asyncio.TimeoutError):
            return await asyncio.wait_for(asyncio.shield(self._exit_future(pid)), timeout)
        return None

    async def call(self, coroutine: Coroutine[object, object, T]) -> T:
        """Await one of this zygote's coroutines from any event loop (`executar` runs one per thread)."""
        assert self.loop is not None, "Zygote.start() ainda não foi chamado"
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            return await coroutine
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self._send(protocol.Quit())
        with contextlib.suppress(Exception):
            self.process.stdin.close()  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, self.process.wait), timeout=10)
        except TimeoutError:
            self.process.kill()
            await loop.run_in_executor(None, self.process.wait)
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, timeout=5)
        if self._transport is not None:
            self._transport.close()
        if self.context is not None:
            self.context.destroy(linger=0)

    def discard(self) -> None:
        """Stop a zygote that was launched but never used (synchronous, for error paths)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.base, ignore_errors=True)


def common_env() -> dict[str, str]:
    """Environment of the zygote and of the kernels: nothing of the instructor's but the basics."""
    env = {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    for name in ("LC_ALL", "TZ"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


class SandboxClient(AsyncKernelClient):
    """A kernel client that refuses huge messages and can fold expressions into the next request (its
    manager, a `SandboxKernel`, knows when the kernel dies: the zygote says so, no heartbeat needed)."""

    info: dict | None = None
    pending_expressions: dict | None = None  # added to the next non-silent execute request (the guard)

    def execute(self, code: str, silent: bool = False, *args: object, **kwargs: object):  # type: ignore[override]
        if self.pending_expressions and not silent:
            kwargs["user_expressions"] = {
                **(kwargs.get("user_expressions") or {}),
                **self.pending_expressions,
            }
            self.pending_expressions = None
        return super().execute(code, silent, *args, **kwargs)

    def _handle_kernel_info_reply(self, msg: dict) -> None:
        super()._handle_kernel_info_reply(msg)
        self.info = msg["content"]  # kept for nbclient's language_info: no second round trip

    def _create_connected_socket(self, channel: str, identity: bytes | None = None) -> zmq.Socket:
        socket = super()._create_connected_socket(channel, identity)
        socket.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        return socket


class SandboxKernel(ForkedKernelManager):
    """A learner's kernel: forked by the zygote into its sandbox (uid, namespaces, limits), with the guard's
    key and one client (`client_`, made by the pool); what nbclient needs is the kernel manager's own."""

    def __init__(self, zygote: Zygote, folder: Path, uid: int | None, key: bytes, **kwargs: object) -> None:
        super().__init__(zygote, folder, uid, key, client_factory=SandboxClient, **kwargs)
        self.key = key
        self.uid = uid
        self.started = time.monotonic()
        self.client_: SandboxClient | None = None
        self.info: dict | None = None  # the kernel_info reply content, fetched while the kernel warmed up

    @property
    def workdir(self) -> Path:
        return self.folder / "trabalho"

    @property
    def alive(self) -> bool:
        return self.pid is not None and self.zygote.exit_code(self.pid) is None

    def client(self, **kwargs: object) -> SandboxClient:  # type: ignore[override]
        if self.client_ is None:
            kwargs.setdefault("context", self.context)
            self.client_ = super().client(**kwargs)
        return self.client_

    async def shutdown_kernel(self, now: bool = True, restart: bool = False) -> None:  # type: ignore[override]
        """Kill at once (nothing of a learner's kernel is worth a graceful exit); the zygote removes the
        kernel's folder, unless it does not hear of the exit."""
        if self.client_ is not None:
            with contextlib.suppress(Exception):
                self.client_.stop_channels()
        with contextlib.suppress(Exception):
            await super().shutdown_kernel(now=True)
        if self.pid is not None and await self.zygote.wait_exit(self.pid, timeout=10) is None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def exit_reason(self) -> str:
        reason = describe_exit(self.zygote.exit_code(self.pid) if self.pid is not None else None)
        text = self.zygote.logs.get(self.pid, "") if self.pid is not None else ""
        if isolation.MEMORY_MARK in text:  # the shim killed it: its namespace passed the memory total
            reason = text[text.rindex(isolation.MEMORY_MARK) :].splitlines()[0].removeprefix("automatiza: ")
        elif "MemoryError" in text or "Cannot allocate memory" in text:
            reason += "; memória esgotada"
        return reason

    async def provide(self, files: Path | None) -> None:
        """Copy the submission's files (not its notebooks) into the kernel's working folder. With a quota in
        the kernel's user namespace, that folder is the kernel's own tmpfs: the files go to the grader's
        folder and the kernel copies them in (`isolation.receive`) before any learner code runs."""
        if files is None or not files.exists():
            return
        for source in files.rglob("*"):
            relative = source.relative_to(files)
            if source.suffix == ".ipynb" or relative.parts[0] == ".ipynb_checkpoints":
                continue
            target = self.workdir / relative
            if source.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            elif source.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
        if self.uid is not None:
            for path in (self.workdir, *self.workdir.rglob("*")):
                os.lchown(path, self.uid, self.uid)
        plan = self.zygote.plan
        if plan is not None and plan.disk_quota_userns:
            module = "__import__('automatiza.grading.sandbox.isolation', fromlist=['_'])"
            code = f"{module}.receive({str(self.workdir)!r})"
            reply = await self.client_.execute(code, silent=True, store_history=False, reply=True, timeout=60)
            content = reply["content"]
            if content.get("status") != "ok":
                raise OSError(
                    f"os arquivos da entrega não couberam na pasta do kernel: {content.get('ename')}: "
                    f"{content.get('evalue')}"
                )


class KernelPool:
    """Keeps `size` kernels starting or ready, never more than the acquisitions still `expected` (when the
    grader knows them); `acquire()` returns a ready one and starts a replacement."""

    def __init__(
        self, zygote: Zygote, env: dict[str, str], uids: list[int], size: int, startup_timeout: float = 60
    ) -> None:
        self.zygote = zygote
        self.env = env
        self.uids = uids
        self.size = max(1, size)
        self.startup_timeout = startup_timeout
        self.home_template = zygote.base / "casa-modelo"
        self._uid_cycle = itertools.cycle(uids) if uids else None
        self._numbers = itertools.count(1)
        self._ready: asyncio.Queue[SandboxKernel | BaseException] = asyncio.Queue()
        self._starting: set[asyncio.Task] = set()
        self._stopping: set[asyncio.Task] = set()
        self._closed = False
        self.expected: float = float("inf")  # acquisitions still to come, when known
        self.started = 0
        self.startup_seconds: list[float] = []

    def fill(self, at_least: int = 0) -> None:
        target = min(self.size, max(self.expected, at_least))
        while not self._closed and self._ready.qsize() + len(self._starting) < target:
            task = asyncio.create_task(self._start_one())
            self._starting.add(task)
            task.add_done_callback(self._started_one)

    def _started_one(self, task: asyncio.Task) -> None:
        self._starting.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        self._ready.put_nowait(error if error is not None else task.result())

    def release(self, kernel: SandboxKernel) -> None:
        """Stop a kernel in the background (its exit and clean-up are off the critical path)."""
        task = asyncio.create_task(kernel.shutdown_kernel())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def acquire(self) -> SandboxKernel:
        self.expected = max(0, self.expected - 1)
        self.fill(at_least=1)
        item = await self._ready.get()
        self.fill()
        if isinstance(item, BaseException):
            raise item
        return item

    async def _start_one(self) -> SandboxKernel:
        plan = self.zygote.plan
        assert plan is not None
        begin = time.monotonic()
        number = next(self._numbers)
        uid = next(self._uid_cycle) if (plan.uid and self._uid_cycle) else None
        folder = self.zygote.base / f"k{number}"
        folder.mkdir(mode=0o700)
        for name in ("trabalho", "tmp", "conexao"):
            (folder / name).mkdir(mode=0o700)
        if self.home_template.is_dir():
            shutil.copytree(self.home_template, folder / "casa", symlinks=True)
        else:
            (folder / "casa").mkdir(mode=0o700)
        if uid is not None:
            for path in (folder, *folder.rglob("*")):
                os.lchown(path, uid, uid)
        env = dict(self.env)
        env.update(
            HOME=str(folder / "casa"), TMPDIR=str(folder / "tmp"), JUPYTER_RUNTIME_DIR=str(folder / "tmp")
        )
        kernel = SandboxKernel(self.zygote, folder, uid, secrets.token_bytes(32))
        try:
            await kernel.start_kernel(env=env, cwd=str(folder / "trabalho"))
            client = kernel.client()
            client.start_channels(hb=False)  # liveness comes from the zygote, not from heartbeats
            await self._until_ready(client, kernel)
            reply = await client.execute(
                "",
                silent=True,
                store_history=False,
                reply=True,
                timeout=self.startup_timeout,
                user_expressions={
                    "base": "__import__('automatiza.grading.sandbox.guard', fromlist=['_']).baseline()"
                },
            )
            if reply["content"].get("status") != "ok":
                raise RuntimeError(f"o kernel não preparou o guarda: {reply['content']}")
            kernel.info = client.info
        except BaseException as exc:
            if not isinstance(exc, Exception):  # cancelled (SIGTERM, Ctrl+C): stop the kernel, stop the run
                await asyncio.shield(kernel.shutdown_kernel())
                raise
            pid = kernel.pid
            if pid is None:
                reason = f"o zigoto não o criou: {exc}"
            elif kernel.alive:
                reason = f"não respondeu: {type(exc).__name__}: {exc}"
            else:
                reason = kernel.exit_reason()
            log = self.zygote.logs.get(pid, "")
            log = log or files.tail(folder / "kernel.log", 2000)  # the kernel's file: see files.tail
            await kernel.shutdown_kernel()
            log = log or self.zygote.logs.get(pid, "")
            raise RuntimeError(f"um kernel não iniciou ({reason}).\n{log}") from None
        self.started += 1
        self.startup_seconds.append(time.monotonic() - begin)
        return kernel

    async def _until_ready(self, client: SandboxClient, kernel: SandboxKernel) -> None:
        """Until the kernel answers `kernel_info` and the client's iopub subscription is live (a status of
        one of the requests arrived there). jupyter_client's `wait_for_ready` does the same but then always
        sits out a 0.2 s iopub flush: with it, starting a kernel took twice as long and the pool ran dry."""
        deadline = time.monotonic() + self.startup_timeout
        sent: set[str] = set()
        replied = subscribed = False
        while not (replied and subscribed):
            if time.monotonic() > deadline or not kernel.alive:
                raise TimeoutError("o kernel não respondeu ao kernel_info")
            sent.add(client.kernel_info())
            # a SUB socket misses what is published before it joins (a quarter of the kernels missed the
            # first status): ask again soon, then less often
            retry = min(deadline, time.monotonic() + min(0.5, 0.05 * 2 ** len(sent)))
            while not replied and (left := retry - time.monotonic()) > 0:
                with contextlib.suppress(queue.Empty):
                    msg = await client.shell_channel.get_msg(timeout=left)
                    if msg.get("parent_header", {}).get("msg_id") in sent:
                        client._handle_kernel_info_reply(msg)  # keeps `info` (see SandboxClient)
                        replied = True
            while replied and not subscribed and (left := retry - time.monotonic()) > 0:
                with contextlib.suppress(queue.Empty):
                    msg = await client.iopub_channel.get_msg(timeout=left)
                    subscribed = msg.get("parent_header", {}).get("msg_id") in sent

    async def close(self) -> None:
        self._closed = True
        for task in list(self._starting):
            task.cancel()
        for task in list(self._starting):
            with contextlib.suppress(BaseException):
                await task
        unused = []
        while not self._ready.empty():
            item = self._ready.get_nowait()
            if isinstance(item, SandboxKernel):
                unused.append(item.shutdown_kernel())
        await asyncio.gather(*unused, *self._stopping, return_exceptions=True)


PREFIX = "automatiza-corretor-"


def remove_stale(parent: str | None = None) -> None:
    """Delete scratch folders left by runs that were killed (their grader process no longer exists)."""
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            pid = int(files.read_file(folder / "grader.pid", 64))  # /tmp is shared: bounded, no links
        except (OSError, ValueError, files.UnsafeFile):
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass


# a kernel's sockets are <base>/k<N>/conexao/k-<n>; Unix socket paths stop at 107 bytes
MAX_BASE_LENGTH = 64
SHORT_PARENT = "/tmp"


def make_base(parent: str | None = None) -> Path:
    """The run's scratch folder: traversable (0711) so each uid reaches its kernel folder; not listable.

    Under a long TMPDIR the kernels' socket paths would not fit a Unix socket address (every kernel would
    fail to start with "File name too long"): the folder then goes to /tmp instead."""
    parent = parent or tempfile.gettempdir()
    if len(os.path.join(parent, PREFIX + "x" * 8)) > MAX_BASE_LENGTH:
        parent = SHORT_PARENT
    remove_stale(parent)
    base = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
    base.chmod(0o711)
    (base / "grader.pid").write_text(str(os.getpid()))
    return base
