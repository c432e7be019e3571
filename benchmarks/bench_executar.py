"""Execute every course notebook three ways in one run and print seconds and ratios.

    .venv/bin/python benchmarks/bench_executar.py [--repeticoes N]

1. a plain serial loop of `papermill.execute_notebook` (one kernel after the other, TCP ports);
2. `automatiza executar --jobs 1` (worker processes, IPC kernels, per-notebook timeout);
3. `automatiza executar --jobs 2`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import papermill

from automatiza import execute
from automatiza.paths import Project


def plain_papermill(notebooks: list[Path], root: Path, out: Path) -> None:
    for nb in notebooks:
        target = out / nb.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        papermill.execute_notebook(
            str(nb), str(target), cwd=str(nb.parent), kernel_name="python3", progress_bar=False
        )


def automatiza(jobs: int):
    def run(notebooks: list[Path], root: Path, out: Path) -> None:
        results = execute.run_notebooks(notebooks, root, out, jobs=jobs, timeout=600, progress=False)
        failed = [r.describe() for r in results if not r.ok]
        assert not failed, failed

    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeticoes", type=int, default=1)
    args = parser.parse_args()
    project = Project.at()
    notebooks = execute.plan(project)
    print(f"{len(notebooks)} notebooks, {os.cpu_count()} núcleos, {args.repeticoes} repetição(ões)")
    ways = {
        "papermill em série": plain_papermill,
        "automatiza --jobs 1": automatiza(1),
        "automatiza --jobs 2": automatiza(2),
    }
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.repeticoes):
        for name, run in ways.items():
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                run(notebooks, project.root, Path(out))
                seconds[name].append(time.perf_counter() - start)
    base = statistics.median(seconds["papermill em série"])
    print(f"{'modo':<22} {'segundos':>9} {'x papermill':>12}")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name:<22} {median:>9.1f} {base / median:>11.2f}x")


if __name__ == "__main__":
    main()
