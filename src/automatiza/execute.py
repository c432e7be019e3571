"""Execute course notebooks with papermill: parallel worker processes, per-notebook timeout, reports.

Each notebook runs in its own worker process (``python -m automatiza.execute --espera``, started ahead so
that its start-up overlaps the notebooks already running) with its own kernel.
Kernels talk over IPC sockets instead of TCP ports, so parallel kernels cannot race for the same port
(papermill issue #511). A notebook that fails keeps papermill's error banner; one that passes the time limit
is stopped, and a banner saying where it stopped is added to its executed copy.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from tqdm import tqdm
from traitlets import CaselessStrEnum, default

from automatiza.paths import Project

OK, ERROR, TIMEOUT = "ok", "erro", "tempo esgotado"
KERNEL_PID_FILE = "AUTOMATIZA_KERNEL_PID"


class IPCKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels listen on IPC sockets (unique files), never on TCP ports."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _unique_ipc_prefix(self) -> str:
        # jupyter_client's default is "kernel-ipc" in the working directory, shared by every kernel there
        return os.path.join(jupyter_runtime_dir(), f"kernel-{uuid.uuid4().hex[:12]}-ipc")

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if (pid_file := os.environ.get(KERNEL_PID_FILE)) and self.provisioner is not None:
            Path(pid_file).write_text(str(self.provisioner.pid))


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


def _kill(process: subprocess.Popen, pid_file: Path) -> None:
    """Stop a worker: SIGTERM lets papermill save and shut its kernel down; SIGKILL the rest after a grace."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(grace)
            break
        except subprocess.TimeoutExpired:
            continue
    if pid_file.is_file():
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


class WarmWorkers:
    """Worker processes started ahead of need, so Python start-up and imports overlap running notebooks."""

    def __init__(self, size: int, pending: int, runtime_dir: Path):
        self._env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime_dir)}
        self._lock = threading.Lock()
        self._pending = pending
        self._ready = [self._spawn() for _ in range(min(size, pending))]

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "automatiza.execute", "--espera"],
            env=self._env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            text=True,
        )

    def take(self) -> subprocess.Popen:
        with self._lock:
            self._pending -= 1
            process = self._ready.pop(0) if self._ready else self._spawn()
            if self._pending > len(self._ready):
                self._ready.append(self._spawn())
            return process

    def close(self) -> None:
        for process in self._ready:
            process.stdin.close()  # an idle worker exits when its stdin closes
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def execute_one(
    source: Path, output: Path, *, timeout: int, label: str, workers: WarmWorkers
) -> NotebookResult:
    """Run one notebook in a warm worker process and wait at most `timeout` seconds."""
    output.parent.mkdir(parents=True, exist_ok=True)
    status_file = output.with_suffix(".status.json")
    pid_file = output.with_suffix(".kernel.pid")
    log = output.with_suffix(".log")
    for stale in (status_file, pid_file, output):
        stale.unlink(missing_ok=True)
    job = {
        "source": str(source),
        "output": str(output),
        "timeout": timeout,
        "status": str(status_file),
        "pid_file": str(pid_file),
        "log": str(log),
    }
    process = workers.take()
    start = time.perf_counter()
    process.stdin.write(json.dumps(job) + "\n")
    process.stdin.close()
    try:
        process.wait(timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill(process, pid_file)
    seconds = round(time.perf_counter() - start, 2)
    pid_file.unlink(missing_ok=True)
    if timed_out:
        count = _mark_timeout(source, output, timeout)
        status_file.unlink(missing_ok=True)
        return NotebookResult(
            label, TIMEOUT, seconds, str(output), count, f"passou do tempo limite de {timeout} s"
        )
    try:
        status = json.loads(status_file.read_text(encoding="utf-8"))
        status_file.unlink()
    except (OSError, ValueError):
        text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
        tail = text.strip().splitlines()[-5:]
        status = {
            "status": ERROR,
            "error": "o processo de execução terminou sem relatório (código "
            f"{process.returncode}): " + " | ".join(tail),
        }
    return NotebookResult(
        label, status["status"], seconds, str(output), status.get("cell"), status.get("error")
    )


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
    with tempfile.TemporaryDirectory(prefix="automatiza-kernels-") as runtime:
        workers = WarmWorkers(jobs, len(notebooks), Path(runtime))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {
                pool.submit(
                    execute_one,
                    nb,
                    out_dir / nb.relative_to(root),
                    timeout=timeout,
                    label=str(nb.relative_to(root)),
                    workers=workers,
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
        workers.close()
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


class _Stop(Exception):
    """Raised inside a worker when the parent asks it to stop."""


def _stop(signum, frame):
    raise _Stop()


def _worker(source: Path, output: Path, timeout: int, status_file: Path) -> int:
    """Body of a worker process: execute with papermill and write a status file for the parent."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    signal.signal(signal.SIGTERM, _stop)
    status: dict = {"status": OK}
    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            cwd=str(source.parent),
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=timeout,
            kernel_manager_class=IPCKernelManager,
        )
    except PapermillExecutionError as exc:
        status = {"status": ERROR, "cell": exc.exec_count, "error": f"{exc.ename}: {exc.evalue}"}
    except _Stop:
        return 1
    except Exception as exc:  # kernel died, invalid notebook...: report it, never crash the run
        status = {"status": ERROR, "error": f"{type(exc).__name__}: {exc}"}
    status_file.write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    return 0 if status["status"] == OK else 1


def _wait_for_job() -> int:
    """A warm worker: imports done, wait for one job on stdin, run it with its own log, then exit."""
    import papermill  # noqa: F401  (the slow import happens before the job arrives)

    line = sys.stdin.readline()
    if not line:
        return 0
    job = json.loads(line)
    os.environ[KERNEL_PID_FILE] = job["pid_file"]
    log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    return _worker(Path(job["source"]), Path(job["output"]), job["timeout"], Path(job["status"]))


if __name__ == "__main__":
    sys.exit(_wait_for_job())
