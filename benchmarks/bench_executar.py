"""Execute every course notebook three ways in one run, print seconds and ratios, and compare the outputs.

    .venv/bin/python benchmarks/bench_executar.py [--repeticoes N] [--modulo 01 ...]

1. a plain serial loop of `papermill.execute_notebook` (one kernel after the other, TCP ports);
2. `automatiza executar --jobs 1` (kernels forked from one warm zygote, IPC, per-notebook timeout);
3. `automatiza executar --jobs 2`.

Then every executed notebook of 2 and 3 is compared cell by cell with papermill's: sources, outputs and
execution counts; memory addresses, papermill's timestamps and where a stream was cut into chunks (that
depends on timing) are ignored. Cells whose outputs differ are listed with their first different line: a
lesson that prints how long something took differs on every run, papermill against itself too.
`--saidas PASTA` keeps the executed notebooks there.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import papermill

from automatiza import execute
from automatiza.paths import Project

ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


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


def _cells(path: Path) -> list[tuple]:
    """What must be the same in two executions of a notebook, cell by cell."""
    nb = nbformat.read(path, as_version=4)
    cells = []
    for cell in nb.cells:
        outputs: list[dict] = []
        for output in cell.get("outputs", []):
            output = {k: v for k, v in output.items() if k != "metadata"}
            last = outputs[-1] if outputs else None
            if (
                last
                and output["output_type"] == "stream" == last["output_type"]
                and output["name"] == last["name"]
            ):
                last["text"] += output["text"]  # one stream cut in chunks where the timing cut it
            else:
                outputs.append(output)
        text = tuple(ADDRESS.sub("0x…", nbformat.writes(nbformat.from_dict(o))) for o in outputs)
        cells.append((cell.cell_type, cell.source, cell.get("execution_count"), text))
    return cells


def _first_difference(a: tuple, b: tuple) -> str:
    for x, y in zip("\n".join(a[3]).splitlines(), "\n".join(b[3]).splitlines(), strict=False):
        if x != y:
            return f"{x.strip()[:90]!r} != {y.strip()[:90]!r}"
    return f"{len(a[3])} saídas no papermill, {len(b[3])} aqui"


def compare(notebooks: list[Path], root: Path, expected: Path, actual: Path) -> list[str]:
    """`notebook: célula N: first different line` for every cell whose executed form differs."""
    different = []
    for nb in notebooks:
        relative = nb.relative_to(root)
        a, b = _cells(expected / relative), _cells(actual / relative)
        if len(a) != len(b):
            different.append(f"{relative}: {len(a)} células no papermill, {len(b)} aqui")
            continue
        different += [
            f"{relative}: célula {i}: {_first_difference(x, y)}"
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            if x != y
        ]
    return different


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeticoes", type=int, default=1)
    parser.add_argument("--modulo", nargs="*", help="só estes módulos (padrão: todos os escritos)")
    parser.add_argument("--saidas", type=Path, help="guarda aqui os notebooks executados")
    args = parser.parse_args()
    project = Project.at()
    modules = [project.curriculum().module(m).id for m in args.modulo] if args.modulo else None
    notebooks = execute.plan(project, modules)
    print(f"{len(notebooks)} notebooks, {os.cpu_count()} núcleos, {args.repeticoes} repetição(ões)")
    print(f"carga antes: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    ways = {
        "papermill em série": plain_papermill,
        "automatiza --jobs 1": automatiza(1),
        "automatiza --jobs 2": automatiza(2),
    }
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    with tempfile.TemporaryDirectory() as scratch:
        keep = args.saidas or Path(scratch)
        outputs = {name: keep / str(i) for i, name in enumerate(ways)}
        for repetition in range(args.repeticoes):
            for name, run in ways.items():
                out = outputs[name] / str(repetition)
                start = time.perf_counter()
                run(notebooks, project.root, out)
                seconds[name].append(time.perf_counter() - start)
                print(f"  {name}: {seconds[name][-1]:.1f} s", flush=True)
        print(f"carga depois: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        base = statistics.median(seconds["papermill em série"])
        print(f"{'modo':<22} {'segundos':>9} {'x papermill':>12}")
        for name, values in seconds.items():
            median = statistics.median(values)
            print(f"{name:<22} {median:>9.1f} {base / median:>11.2f}x")
        reference = outputs["papermill em série"] / "0"
        for name in list(ways)[1:]:
            different = compare(notebooks, project.root, reference, outputs[name] / "0")
            print(f"{name}: {len(different)} células com saída diferente da do papermill")
            for line in different:
                print(f"  {line}")


if __name__ == "__main__":
    main()
