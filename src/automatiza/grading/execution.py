"""nbgrader's `Execute` preprocessor, run on a pre-started isolated kernel, with failures that cost one cell.

Same traits and configuration as `nbgrader.preprocessors.Execute` (timeout per cell, interrupt on timeout,
errors allowed, the `CellTimeoutError` output), and the same cell-by-cell execution by nbclient, so the
outputs, and therefore the points, are the ones nbgrader would record. What changes:

- the kernel comes from the pool (already started, isolated) instead of being started here;
- autograded test cells run in the grader, in the trusted judge (`grading.judge`), in a thread of their own
  with a client of their own: the test's source and expected values never enter the kernel, only requests
  for the learner's objects do. Test cells that work with files (`judge.runs_in_kernel`) run in the kernel
  as before; a kernel that a test's request left stuck or dead costs that cell, as below;
- before every autograded test cell the guard (`guard.restore`, a deterrent) runs, as a `user_expression`
  of the previous cell's request when it can (no extra round trip) or, before a test cell that runs in the
  kernel, on its own; a guard that does not answer correctly makes such a cell fail instead of trusting it;
- output kept per cell is capped while it arrives (a `print` in a loop cannot fill the grader's memory);
- a kernel that dies, or does not come back after a timeout, costs that cell: the cell gets an error output
  saying what happened, a new kernel replays the cells before it and the notebook goes on;
- a wall-time budget for the whole notebook.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from automatiza.grading import judge
from automatiza.grading.kernels import SandboxKernel
from automatiza.grading.nbgrader_api import Execute, utils
from automatiza.grading.sandbox import guard

TRUNCATED = "\n... saída cortada pelo corretor (limite de {kb} KB por célula) ...\n"
MAX_RESTARTS = 3


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def raise_if_cancelled() -> None:
    """Raise `CancelledError` if the running task was cancelled (SIGTERM, Ctrl+C) even though the
    cancellation was swallowed on the way: nbclient turns a `CancelledError` received while it waits for a
    cell's reply into `DeadKernelError`, which would make a stopped run grade the cell as a dead kernel and
    save the submission with the points it lost."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def is_test_cell(cell: NotebookNode) -> bool:
    """An autograded test cell: graded, code, not an answer."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def cell_label(cell: NotebookNode, index: int) -> str:
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f"'{grade_id}'" if grade_id else f"nº {index + 1}"


@dataclass
class Outcome:
    events: list[str] = field(default_factory=list)  # pt-BR, one per problem, for the summary
    restored: list[str] = field(default_factory=list)  # what the guard had to undo
    kernels: int = 0
    seconds: float = 0.0
    judged: int = 0  # test cells judged by the grader, outside the kernel


class SandboxedExecute(Execute):
    """nbgrader's Execute, driven by `run()` on kernels from a pool (see the module docstring)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.output_limit = 1024 * 1024
        self.bindings: list[tuple[str, str, str | None]] = []
        self._deadline: float | None = None
        self._cell_bytes: dict[int, int] = {}
        self._cut: set[tuple[int, str]] = set()
        self._armed: tuple[int, int, str, bytes] | None = None
        self._guarded: dict[int, list[str]] = {}  # test cell index -> items restored by a folded guard
        self.trusted: dict[
            str, object
        ] = {}  # names bound to the grader's own modules (`judge.trusted_names`)
        self._judge: judge.Judge | None = None
        self._judge_client: object = None
        self._judge_thread: ThreadPoolExecutor | None = None
        self._judge_kernel: SandboxKernel | None = None

    # ---- nbclient hooks ---------------------------------------------------------------------------------

    def _get_timeout(self, cell: NotebookNode | None) -> int | None:
        timeout = super()._get_timeout(cell)
        if self._deadline is not None:
            left = max(1, int(self._deadline - time.monotonic()) + 1)
            timeout = left if timeout is None else min(timeout, left)
        return timeout

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        kind = msg.get("msg_type")
        size = len(json.dumps(content.get("data", content.get("text", content.get("traceback", "")))))
        used = self._cell_bytes.get(cell_index, 0) + size
        self._cell_bytes[cell_index] = used
        if used > self.output_limit and kind in ("stream", "display_data", "update_display_data"):
            # over the limit: keep one marker per stream (stderr must still count, as in nbgrader)
            name = content.get("name", kind)
            if (cell_index, name) in self._cut:
                return None
            self._cut.add((cell_index, name))
            text = TRUNCATED.format(kb=self.output_limit // 1024)
            if kind == "stream":
                msg = {**msg, "content": {**content, "text": text}}
            else:
                msg = {**msg, "msg_type": "stream", "content": {"name": "stdout", "text": text}}
        elif used > self.output_limit and kind == "error":
            tb = content.get("traceback", [])
            msg = {
                **msg,
                "content": {
                    **content,
                    "traceback": tb[:20] + tb[-20:] if len(tb) > 40 else tb,
                    "evalue": str(content.get("evalue", ""))[:2000],
                },
            }
        elif used > self.output_limit and kind == "execute_result":
            data = {k: (v[:2000] if isinstance(v, str) else v) for k, v in content.get("data", {}).items()}
            msg = {**msg, "content": {**content, "data": data}}
        return super().output(outs, msg, display_id, cell_index)

    # ---- the guard --------------------------------------------------------------------------------------

    def _guard_expression(self, nonce: str) -> str:
        return (
            "__import__('automatiza.grading.sandbox.guard', fromlist=['_'])"
            f".restore({nonce!r}, {[list(b) for b in self.bindings]!r})"
        )

    @staticmethod
    def _guard_result(reply: dict | None, key: bytes, nonce: str) -> tuple[bool, list[str]]:
        try:
            result = reply["content"]["user_expressions"]["g"]  # type: ignore[index]
            data = json.loads(judge.literal(result["data"]["text/plain"]))
            restored = list(data["restaurado"])
            return data["token"] == guard.expected_token(key, nonce, restored), restored
        except (KeyError, TypeError, ValueError, SyntaxError):
            return False, []

    async def guard(self, kernel: SandboxKernel) -> tuple[bool, list[str]]:
        """Run `guard.restore` silently; (trusted, restored items)."""
        nonce = secrets.token_hex(16)
        msg_id = self.kc.execute(
            "", silent=True, store_history=False, user_expressions={"g": self._guard_expression(nonce)}
        )
        reply = await self.async_wait_for_reply(msg_id)
        return self._guard_result(reply, kernel.key, nonce)

    def on_cell_executed(self, **kwargs):
        """nbgrader's hook, plus: collect the guard that ran at the end of this cell (see `_arm_guard`)."""
        super().on_cell_executed(**kwargs)
        if self._armed is not None and self._armed[0] == kwargs.get("cell_index"):
            _, test_index, nonce, key = self._armed
            self._armed = None
            trusted, restored = self._guard_result(kwargs.get("execute_reply"), key, nonce)
            if trusted:  # otherwise the test cell runs the guard on its own
                self._guarded[test_index] = restored

    def _arm_guard(self, kernel: SandboxKernel, index: int) -> None:
        """If the next code cell is a test cell, evaluate the guard after this cell, in the same request
        (`user_expressions` run after the cell's code, right before its reply): one round trip less."""
        following = next(
            (
                j
                for j in range(index + 1, len(self.nb.cells))
                if self.nb.cells[j].cell_type == "code" and self.nb.cells[j].source.strip()
            ),
            None,
        )
        if following is None or not is_test_cell(self.nb.cells[following]):
            return
        nonce = secrets.token_hex(16)
        self._armed = (index, following, nonce, kernel.key)
        self.kc.pending_expressions = {"g": self._guard_expression(nonce)}

    # ---- test cells run by the trusted judge, in the grader ---------------------------------------------

    def _connect_judge(self, kernel: SandboxKernel, loop: asyncio.AbstractEventLoop) -> None:
        """In the judge's thread: a client of its own for `kernel` (the judge blocks on it; nbclient's
        client stays with the event loop), and a `Judge` that keeps the notebook's test names."""
        if self._judge_client is not None:
            with contextlib.suppress(Exception):
                self._judge_client.stop_channels()
        client = judge.blocking_client(kernel.client_.get_connection_info())
        self._judge_client = client

        def interrupt() -> None:
            asyncio.run_coroutine_threadsafe(kernel.interrupt_kernel(), loop)

        transport = judge.SessionTransport(client, interrupt, lambda: kernel.alive)
        if self._judge is None:
            self._judge = judge.Judge(transport, self.trusted)
            self._judge.max_output = self.output_limit
        else:
            self._judge.reconnect(transport)

    async def _judge_cell(
        self, cell: NotebookNode, index: int, kernel: SandboxKernel, outcome: Outcome
    ) -> bool:
        """Run a test cell in the judge (`grading.judge`): the test runs here, only the learner's objects
        are in the kernel. False for a cell that works with files: it runs in the kernel, as in nbgrader."""
        if judge.runs_in_kernel(cell.source):
            return False
        outcome.restored += self._guarded.pop(index, [])
        loop = asyncio.get_running_loop()
        if not self.trusted:
            self.trusted = judge.trusted_from_bindings(self.bindings)
        if self._judge_thread is None:
            self._judge_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="juiz")
        if self._judge_kernel is not kernel:
            await loop.run_in_executor(self._judge_thread, self._connect_judge, kernel, loop)
            self._judge_kernel = kernel
        assert self._judge is not None
        timeout = self._get_timeout(cell)
        cell.outputs = await loop.run_in_executor(
            self._judge_thread, self._judge.run_cell, cell.source, timeout
        )
        cell.execution_count = None
        outcome.judged += 1
        state = self._judge.state
        if state == "morto":
            raise DeadKernelError("o kernel parou durante o teste")
        if state == "travado":
            raise CellTimeoutError("o kernel não atendeu à interrupção")
        label = cell_label(cell, index)
        if state == "tempo":
            outcome.events.append(f"a célula {label} passou do tempo limite e foi interrompida")
        elif state == "resposta":
            outcome.events.append(f"os valores do teste {label} voltaram inválidos do kernel")
        return True

    def _close_judge(self) -> None:
        if self._judge_client is not None:
            with contextlib.suppress(Exception):
                self._judge_client.stop_channels()
        if self._judge_thread is not None:
            self._judge_thread.shutdown(wait=False)
        self._judge = self._judge_client = self._judge_thread = self._judge_kernel = None

    # ---- running a notebook -----------------------------------------------------------------------------

    async def run(
        self,
        nb: NotebookNode,
        resources: dict,
        acquire: Callable[[], Awaitable[SandboxKernel]],
        wall_seconds: float,
        release: Callable[[SandboxKernel], Awaitable[None]] | None = None,
    ) -> tuple[NotebookNode, Outcome]:
        """Execute `nb` in place like nbgrader's Execute.preprocess, on kernels from `acquire()`; `release`
        stops a kernel (default: shut it down and wait)."""
        if release is None:

            async def release(kernel: SandboxKernel) -> None:
                await kernel.shutdown_kernel()

        from nbclient.client import NotebookClient

        begin = time.monotonic()
        outcome = Outcome()
        NotebookClient.__init__(self, nb, None)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._deadline = begin + wall_seconds
        self._cell_bytes, self._cut = {}, set()
        self._armed, self._guarded = None, {}
        kernel = await self._start(acquire, outcome)
        bad: set[int] = set()  # cells that cost a kernel: never replayed
        try:
            info = kernel.info
            if info is None:
                reply = await self.async_wait_for_reply(self.kc.kernel_info())
                info = reply["content"] if reply is not None else {}
            if "language_info" in info:
                self.nb.metadata["language_info"] = info["language_info"]
            for index, cell in enumerate(self.nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                if time.monotonic() > self._deadline:
                    cell.outputs = [
                        error_output(
                            "TempoTotalEsgotado",
                            f"célula não executada: o notebook passou do tempo total ({int(wall_seconds)} s)",
                        )
                    ]
                    if "tempo total" not in " ".join(outcome.events):
                        outcome.events.append(
                            f"o notebook passou do tempo total de {int(wall_seconds)} s na célula "
                            f"{cell_label(cell, index)}"
                        )
                    continue
                if kernel is None:
                    cell.outputs = [error_output("KernelParou", "célula não executada: kernel parou demais")]
                    continue
                try:
                    if is_test_cell(cell) and await self._judge_cell(cell, index, kernel, outcome):
                        continue
                    if is_test_cell(cell):
                        if index in self._guarded:
                            trusted, restored = True, self._guarded.pop(index)
                        else:
                            trusted, restored = await self.guard(kernel)
                        outcome.restored += restored
                        if not trusted:
                            cell.outputs = [
                                error_output(
                                    "AmbienteAlterado",
                                    "o código do notebook alterou o ambiente de correção e esta célula "
                                    "de teste não pôde ser conferida",
                                )
                            ]
                            label = cell_label(cell, index)
                            outcome.events.append(f"ambiente de correção alterado antes do teste {label}")
                            continue
                    self._arm_guard(kernel, index)
                    try:
                        await self.async_execute_cell(cell, index, store_history=True)
                    finally:
                        self.kc.pending_expressions = None
                        self._armed = None
                    label = cell_label(cell, index)
                    if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
                        outcome.events.append(f"a célula {label} passou do tempo limite e foi interrompida")
                    if any(i == index for i, _ in self._cut):
                        outcome.events.append(f"a saída da célula {label} foi cortada (muito grande)")
                    continue
                except DeadKernelError:
                    raise_if_cancelled()
                    reason = kernel.exit_reason()
                    cell.outputs = list(cell.get("outputs", [])) + [
                        error_output("KernelParou", f"o kernel parou durante esta célula: {reason}")
                    ]
                    outcome.events.append(f"o kernel parou na célula {cell_label(cell, index)}: {reason}")
                except CellTimeoutError:
                    cell.outputs = list(cell.get("outputs", [])) + [
                        error_output(
                            "CellTimeoutError",
                            f"a célula passou do tempo limite ({self._get_timeout(cell)} s) "
                            "e não atendeu à interrupção",
                        )
                    ]
                    outcome.events.append(f"a célula {cell_label(cell, index)} passou do tempo e não parou")
                bad.add(index)
                await release(kernel)
                kernel = await self._restart(acquire, release, outcome, index, bad)
            self.set_widgets_metadata()
        finally:
            self._close_judge()
            if kernel is not None:
                await release(kernel)
            self.kc = None
            self.km = None
            outcome.seconds = time.monotonic() - begin
        return self.nb, outcome

    async def _start(self, acquire, outcome: Outcome) -> SandboxKernel:
        kernel = await acquire()
        outcome.kernels += 1
        self.km = kernel
        self.kc = kernel.client()
        self.kc.allow_stdin = False
        return kernel

    async def _restart(
        self, acquire, release, outcome: Outcome, failed: int, bad: set[int]
    ) -> SandboxKernel | None:
        """A new kernel with the state of the cells before `failed` (replayed quietly), or None."""
        if outcome.kernels > MAX_RESTARTS:
            outcome.events.append("o kernel parou vezes demais; as células seguintes não foram executadas")
            return None
        kernel = await self._start(acquire, outcome)
        self._guarded.clear()
        for index in range(failed):
            cell = self.nb.cells[index]
            if cell.cell_type != "code" or not cell.source.strip() or index in bad:
                continue
            if is_test_cell(cell) and not judge.runs_in_kernel(cell.source):
                continue  # the judge ran it and keeps what it defined; its source never goes to the kernel
            if time.monotonic() > (self._deadline or float("inf")):
                break
            try:
                msg_id = self.kc.execute(cell.source, store_history=True, stop_on_error=False)
                reply = await self.async_wait_for_reply(msg_id, cell)
                if reply is None:  # timed out again: skip it from now on
                    bad.add(index)
            except DeadKernelError:
                raise_if_cancelled()
                outcome.events.append("o kernel parou de novo ao refazer as células anteriores")
                await release(kernel)
                return await self._restart(acquire, release, outcome, failed, bad | {index})
        return kernel


def test_bindings(sources: list[str]) -> tuple[list[tuple[str, str, str | None]], list[str]]:
    """Names that test and locked cells import ((name, module, attribute or None)) and the modules."""
    bindings: list[tuple[str, str, str | None]] = []
    modules: list[str] = []
    for source in sources:
        try:
            tree = judge.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    modules.append(alias.name)
                    if alias.asname:
                        bindings.append((alias.asname, alias.name, None))
                    else:
                        top = alias.name.split(".")[0]
                        bindings.append((top, top, None))
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.append(node.module)
                for alias in node.names:
                    if alias.name != "*":
                        bindings.append((alias.asname or alias.name, node.module, alias.name))
    return sorted(set(bindings)), sorted(set(modules))
