"""Execute course notebooks with papermill on kernels forked from one warm zygote: parallel, timed, reported.

One run starts one zygote (`automatiza.grading.sandbox.zygote`, the process that also forks the grader's
kernels) that imports ipykernel and every module the notebooks import, once; each notebook then gets a kernel
forked from it (`ForkedKernelManager` with its `ZygoteProvisioner`, a jupyter_client kernel provisioner: the
kernel manager the grader uses too, here the class nbclient creates from papermill's
``kernel_manager_class``), so no notebook pays for the interpreter start-up or its
imports. Lessons are course code, not learners': the
isolation plan is `Plan.none` and the kernels get the caller's environment, but the code path is the grader's.

`--jobs` notebooks run at a time (one thread each, papermill as it is: its parameters, metadata and
failed-notebook banner). Kernels talk over IPC sockets instead of TCP ports, so parallel kernels cannot race
for the same port (papermill issue #511). A notebook that passes the time limit is stopped: every cell's
timeout is what is left of the notebook's (nbclient's `timeout_func`), the kernel is killed if it still
runs a little after that, and a banner saying where it stopped is added to its executed copy.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from jupyter_core.utils import ensure_dir_exists
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from tqdm import tqdm
from traitlets import CaselessStrEnum, default

from automatiza.grading import kernels
from automatiza.grading.sandbox import isolation, zygote
from automatiza.grading.sandbox.provisioner import ForkedKernelManager
from automatiza.paths import Project

OK, ERROR, TIMEOUT = "ok", "erro", "tempo esgotado"
KILL_GRACE = 10  # seconds after the time limit before the kernel is killed (when a cell did not stop it)
# BLAS and OpenMP pools are threads: in the zygote they must not exist before the forks (one thread each)
ZYGOTE_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",  # what ipykernel sets when it is unset
}


@dataclass
class NotebookResult:
    notebook: str
    status: str
    seconds: float
    output: str
    cell: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK

    def describe(self) -> str:
        where = f" na célula In [{self.cell}]" if self.cell is not None else ""
        return f"{self.notebook}: {self.status}{where}: {self.error}"


@dataclass
class RunResult:
    results: list[NotebookResult]
    json_report: Path
    junit_report: Path

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


def plan(project: Project, modules: list[str] | None = None) -> list[Path]:
    """Lesson notebooks and exercise sources (with solutions) of the written modules, in program order."""
    notebooks: list[Path] = []
    for module in project.curriculum().written:
        if modules and module.id not in modules:
            continue
        notebooks += [project.root / lesson for lesson in module.licoes]
        if module.tarefa:
            notebooks += project.assignment_notebooks(module.tarefa.nome)
    return notebooks


def _last_started_cell(nb: nbformat.NotebookNode) -> int | None:
    """Execution count of the last cell papermill started: where a stopped run was when it stopped."""
    started = [c for c in nb.cells if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    return started[-1].get("execution_count") if started else None


def _mark_timeout(source: Path, output: Path, seconds: int) -> int | None:
    """Add a banner at the top of the executed copy saying where the time limit stopped it."""
    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):  # stopped before papermill wrote anything
        nb = nbformat.read(source, as_version=4)
    count = _last_started_cell(nb)
    where = f" na célula In [{count}]" if count else " antes da primeira célula"
    banner = nbformat.v4.new_markdown_cell(
        f'<span style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; '
        f'font-size:2em;">Execução interrompida{where}: o notebook passou do tempo limite de '
        f"{seconds} s.</span>"
    )
    banner.metadata["tags"] = ["automatiza-tempo-esgotado"]
    nb.cells.insert(0, banner)
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, output)
    return count


class IPCKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels listen on IPC sockets (unique files), never on TCP ports. Lessons use
    it too (module 12: papermill with ``kernel_manager_class="automatiza.execute.IPCKernelManager"``)."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _unique_ipc_prefix(self) -> str:
        # jupyter_client's default is "kernel-ipc" in the working directory, shared by every kernel there;
        # the runtime folder may not exist yet (a fresh account): the kernel could not bind its sockets
        runtime = jupyter_runtime_dir()
        ensure_dir_exists(runtime, mode=0o700)
        return os.path.join(runtime, f"kernel-{uuid.uuid4().hex[:12]}-ipc")


class ForkedKernelClient(AsyncKernelClient):
    """A client without a heartbeat thread (its manager knows when the kernel dies: the zygote says so) and
    on its manager's ZMQ context (destroyed with the kernel's resources: no context left per notebook)."""

    @default("context")
    def _manager_context(self) -> zmq.asyncio.Context:
        parent = self.parent
        return parent.context if isinstance(parent, AsyncKernelManager) else zmq.asyncio.Context()

    def start_channels(self, *args: bool, **kwargs: bool) -> None:
        kwargs["hb"] = False
        super().start_channels(*args[:3], **kwargs)


class SparseSaves(NotebookExecutionManager):
    """papermill's execution manager, writing the executed copy every `autosave_cell_every` seconds and at
    the end instead of twice per cell (a notebook with images costs tens of milliseconds per write, in the
    process that drives every kernel). The final notebook is the same."""

    final = False

    def save(self, **kwargs: object) -> None:
        since = (self.now() - self.last_save_time).total_seconds()
        if self.final or since >= self.autosave_cell_every:
            super().save(**kwargs)

    def notebook_complete(self, **kwargs: object) -> None:
        self.final = True
        super().notebook_complete(**kwargs)


class PapermillEngine(NBClientEngine):
    """papermill's nbclient engine with `SparseSaves` (registered as papermill engine `ENGINE`)."""

    @classmethod
    def execute_notebook(  # papermill's Engine.execute_notebook, with the manager above
        cls,
        nb,
        kernel_name,
        output_path=None,
        progress_bar=True,
        log_output=False,
        autosave_cell_every=30,
        **kwargs,
    ):
        nb_man = SparseSaves(
            nb,
            output_path=output_path,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=autosave_cell_every,
        )
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb


ENGINE = "automatiza"
papermill_engines.register(ENGINE, PapermillEngine)


def _trusted_limits() -> isolation.Limits:
    """Limits as high as this process's own (rlimits are set in every kernel: the grader's code path)."""

    def cap(kind: int, wanted: int, unit: int = 1) -> int:
        hard = resource.getrlimit(kind)[1]
        return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard // unit)

    mb = 1024 * 1024
    return isolation.Limits(
        cpu_seconds=cap(resource.RLIMIT_CPU, 7 * 24 * 3600),
        memory_mb=cap(resource.RLIMIT_AS, 2**30, mb),
        file_mb=cap(resource.RLIMIT_FSIZE, 2**30, mb),
        open_files=resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    )


def notebook_sources(notebooks: list[Path]) -> list[str]:
    sources = []
    for path in notebooks:
        try:
            nb = nbformat.read(path, as_version=4)
        except (OSError, ValueError):
            continue  # papermill reports it when it runs
        sources += [cell.source for cell in nb.cells if cell.cell_type == "code"]
    return sources


class ForkedKernels:
    """One warm zygote for a run, on an event loop of its own thread; `manager_class()` gives kernel managers
    whose kernels are forked from it. Use as a context manager (the zygote and its kernels end with it)."""

    def __init__(self, notebooks: list[Path]) -> None:
        self.base = kernels.make_base()
        env = {**os.environ, **ZYGOTE_ENV}
        self.zygote = kernels.Zygote.launch(self.base, env)  # this thread: the zygote dies with it
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="zigoto", daemon=True)
        self._thread.start()
        configure = self.zygote.start(
            isolation.Plan.none(limits=_trusted_limits()),
            zygote.imported_modules(notebook_sources(notebooks)),
            [],
            os.geteuid(),
            xmode="Context",  # IPython's default, as papermill's kernels have
            trusted=True,
        )
        self._ready = asyncio.run_coroutine_threadsafe(configure, self.loop)

    def manager_class(self, created: list[AsyncKernelManager]) -> type[AsyncKernelManager]:
        """A kernel manager class for one notebook (nbclient's `kernel_manager_class`: nbclient owns it and
        shuts it down): IPC sockets in the run's folder, the kernel forked by the zygote. Each instance is
        appended to `created` (the notebook's watchdog needs it)."""
        self._ready.result()  # the zygote has imported everything (raises if it could not start)
        zygote = self.zygote

        class NotebookKernelManager(ForkedKernelManager):
            def __init__(self, **kwargs: object) -> None:
                super().__init__(zygote, client_factory=ForkedKernelClient, **kwargs)
                created.append(self)

        return NotebookKernelManager

    def __enter__(self) -> ForkedKernels:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._ready.done() and self._ready.exception() is None:
                asyncio.run_coroutine_threadsafe(self.zygote.close(), self.loop).result(30)
            else:
                self._ready.cancel()
                self.zygote.discard()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()
            shutil.rmtree(self.base, ignore_errors=True)


def execute_one(
    source: Path, output: Path, *, timeout: int, label: str, forked: ForkedKernels
) -> NotebookResult:
    """Run one notebook with papermill on a forked kernel, for at most `timeout` seconds."""
    import papermill
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    start = time.perf_counter()
    deadline = time.monotonic() + timeout
    managers: list[AsyncKernelManager] = []
    try:
        manager_class = forked.manager_class(managers)
    except Exception as exc:  # the zygote did not start: every notebook says why
        error = f"o processo que cria os kernels (zigoto) não iniciou: {type(exc).__name__}: {exc}"
        return NotebookResult(label, ERROR, round(time.perf_counter() - start, 2), str(output), None, error)
    killed = threading.Event()

    def kill() -> None:  # a hang outside the cells' timeouts (start-up, output): the kernel goes
        killed.set()
        for km in managers:
            if km.provisioner is not None:
                asyncio.run(km.provisioner.kill())

    watchdog = threading.Timer(timeout + KILL_GRACE, kill)
    watchdog.daemon = True
    watchdog.start()
    status, cell, error = OK, None, None
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            kernel_name="python3",
            engine_name=ENGINE,
            progress_bar=False,
            kernel_manager_class=manager_class,
            shutdown_kernel="immediate",  # a forked kernel has nothing to save: no graceful wait
            resources={"metadata": {"path": str(source.parent)}},  # the kernel's folder, without chdir
            timeout_func=lambda _cell: max(1.0, deadline - time.monotonic()),
        )
    except PapermillExecutionError as exc:
        status, cell, error = ERROR, exc.exec_count, f"{exc.ename}: {exc.evalue}"
    except CellTimeoutError:
        status = TIMEOUT
    except Exception as exc:  # kernel died, invalid notebook...: report it, never crash the run
        status, error = (TIMEOUT, None) if killed.is_set() else (ERROR, f"{type(exc).__name__}: {exc}")
        logs = [forked.zygote.logs.get(km.provisioner.pid, "") for km in managers if km.provisioner]
        tail = " | ".join("\n".join(logs).strip().splitlines()[-5:])
        error = f"{error} (saída do kernel: {tail})" if error and tail else error
    finally:
        watchdog.cancel()
    seconds = round(time.perf_counter() - start, 2)
    if status == TIMEOUT:
        cell = _mark_timeout(source, output, timeout)
        error = f"passou do tempo limite de {timeout} s"
    return NotebookResult(label, status, seconds, str(output), cell, error)


def run_notebooks(
    notebooks: list[Path],
    root: Path,
    out_dir: Path,
    *,
    jobs: int | None = None,
    timeout: int = 600,
    progress: bool = True,
) -> list[NotebookResult]:
    """Execute `notebooks` in parallel; executed copies go to `out_dir` mirroring their path under `root`."""
    jobs = jobs or os.cpu_count() or 1
    results: list[NotebookResult] = []
    with ForkedKernels(notebooks) as forked, ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            pool.submit(
                execute_one,
                nb,
                out_dir / nb.relative_to(root),
                timeout=timeout,
                label=str(nb.relative_to(root)),
                forked=forked,
            ): nb
            for nb in notebooks
        }
        bar = tqdm(total=len(futures), desc="Executando", unit="notebook", disable=not progress)
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            bar.set_postfix_str(f"{Path(result.notebook).name}: {result.status}")
            bar.update()
        bar.close()
    order = {str(nb.relative_to(root)): i for i, nb in enumerate(notebooks)}
    return sorted(results, key=lambda r: order[r.notebook])


def format_table(results: list[NotebookResult]) -> str:
    width = max([len("notebook"), *(len(r.notebook) for r in results)])
    lines = [f"{'notebook':<{width}}  {'situação':<14}  {'segundos':>8}", "-" * (width + 26)]
    lines += [f"{r.notebook:<{width}}  {r.status:<14}  {r.seconds:>8.1f}" for r in results]
    total = sum(r.seconds for r in results)
    lines.append(f"{len(results)} notebooks, {sum(r.ok for r in results)} sem erro, {total:.1f} s somados")
    return "\n".join(lines)


def write_json(results: list[NotebookResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"ok": all(r.ok for r in results), "notebooks": [asdict(r) for r in results]}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def write_junit(results: list[NotebookResult], path: Path) -> None:
    suite = ET.Element(
        "testsuite",
        name="automatiza executar",
        tests=str(len(results)),
        failures=str(sum(not r.ok for r in results)),
        time=f"{sum(r.seconds for r in results):.2f}",
    )
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=str(Path(r.notebook).parent).replace("/", "."),
            name=Path(r.notebook).name,
            time=f"{r.seconds:.2f}",
        )
        if not r.ok:
            failure = ET.SubElement(case, "failure", message=r.describe(), type=r.status)
            failure.text = f"Notebook executado (com o erro): {r.output}"
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def run_course(
    project: Project, *, jobs: int | None = None, timeout: int = 600, modules: list[str] | None = None
) -> RunResult:
    """`automatiza executar`: run the plan, print the table, write the JSON and JUnit reports."""
    notebooks = plan(project, modules)
    if not notebooks:
        print("Nada a executar: os módulos pedidos ainda estão em preparação (situacao: planejado).")
    missing = [nb for nb in notebooks if not nb.is_file()]
    if missing:
        raise FileNotFoundError("notebooks do programa que não existem: " + ", ".join(map(str, missing)))
    print(
        f"Executando {len(notebooks)} notebooks com {jobs or os.cpu_count()} processos em paralelo "
        f"(tempo limite: {timeout} s cada).",
        flush=True,
    )
    results = run_notebooks(notebooks, project.root, project.executed, jobs=jobs, timeout=timeout)
    result = RunResult(results, project.reports / "execucao.json", project.reports / "execucao.xml")
    write_json(results, result.json_report)
    write_junit(results, result.junit_report)
    print("\n" + format_table(results))
    print(f"Relatórios: {result.json_report} e {result.junit_report}")
    for r in results:
        if not r.ok:
            print(f"FALHOU {r.describe()}\n  notebook com o erro: {r.output}", file=sys.stderr)
    return result
