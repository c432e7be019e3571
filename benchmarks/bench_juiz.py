"""Cost of the trusted judge (`automatiza.grading.judge`): one round trip, and each exercise's solution with
its test cells in the judge against the same notebook with its test cells in the kernel (as nbgrader runs
them), on a plain IPython kernel.

    .venv/bin/python benchmarks/bench_juiz.py [--tarefa 03-qualidade-dados ...] [--idas 300]

Prints the median round trip (a lookup, and a call of a learner's function), then, per exercise, the seconds
of both ways, the judge's requests and the time spent waiting for the kernel, and whether every test cell
ended the same way (passed or failed) in both.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client import KernelManager

from automatiza.grading import judge
from automatiza.grading.nbgrader_api import utils

ROOT = Path(__file__).resolve().parents[1]


def _start(cwd: Path):
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(cwd))
    client = manager.blocking_client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client


def _is_test(cell) -> bool:
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def _run(client, code: str) -> bool:
    failed = []
    client.execute_interactive(
        code, timeout=600, output_hook=lambda m: failed.append(1) if m["msg_type"] == "error" else None
    )
    return not failed


def round_trips(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        manager, client = _start(Path(tmp))
        try:
            _run(client, "def um():\n    return 1\n")
            j = judge.Judge(judge.SessionTransport(client, manager.interrupt_kernel))
            lookups, calls = [], []
            handle = j.lookup(["um"])["um"]
            for _ in range(count):
                j.namespace.cache.clear()
                begin = time.perf_counter()
                j.lookup(["um"])
                lookups.append(time.perf_counter() - begin)
                begin = time.perf_counter()
                handle()
                calls.append(time.perf_counter() - begin)
            lookup, call = statistics.median(lookups) * 1000, statistics.median(calls) * 1000
            print(
                f"ida e volta ao kernel (mediana de {count}): consulta {lookup:.2f} ms, chamada {call:.2f} ms"
            )
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


def exercise(name: str) -> bool:
    folder = ROOT / "exercises" / name
    nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    trusted = judge.trusted_names(
        c.source for c in nb.cells if c.cell_type == "code" and not utils.is_solution(c)
    )
    results, seconds, stats = {}, {}, None
    for mode in ("kernel", "juiz"):
        work = Path(tempfile.mkdtemp(prefix="bench-juiz-"))
        for item in folder.iterdir():
            if item.suffix != ".ipynb" and not item.name.endswith(".yml"):
                (shutil.copytree if item.is_dir() else shutil.copy)(item, work / item.name)
        manager, client = _start(work)
        begin = time.monotonic()
        try:
            j = judge.Judge(judge.SessionTransport(client, manager.interrupt_kernel), trusted)
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if _is_test(cell) and mode == "juiz" and not judge.runs_in_kernel(cell.source):
                    outputs = j.run_cell(cell.source, timeout=600)
                    results[(mode, grade_id)] = not any(o.output_type == "error" for o in outputs)
                else:
                    ok = _run(client, cell.source)
                    if _is_test(cell):
                        results[(mode, grade_id)] = ok
            stats = j.stats
        finally:
            seconds[mode] = time.monotonic() - begin
            client.stop_channels()
            manager.shutdown_kernel(now=True)
            shutil.rmtree(work, ignore_errors=True)
    same = all(results[("kernel", g)] == results[("juiz", g)] for (mode, g) in results if mode == "kernel")
    print(
        f"{name}: no kernel {seconds['kernel']:.1f} s, no juiz {seconds['juiz']:.1f} s "
        f"({stats.requests} pedidos, {stats.seconds:.1f} s esperando o kernel); "
        f"{'mesmos resultados' if same else 'RESULTADOS DIFERENTES'}"
    )
    return same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarefa", nargs="*", default=["01-python-essencial", "03-qualidade-dados"])
    parser.add_argument("--idas", type=int, default=300)
    args = parser.parse_args()
    round_trips(args.idas)
    return 0 if all([exercise(name) for name in args.tarefa]) else 1


if __name__ == "__main__":
    sys.exit(main())
