"""`automatiza corrigir` against `nbgrader autograde`, on the same synthetic cohort (issue 9, item 7).

    .venv/bin/python benchmarks/bench_correcao.py [--alunos 100] [--rodadas 1] [--jobs N] [--tarefa pequena]

By default the assignment is the issue's case, a small two-question one (`pequena`, built here: two answer
cells, each with a test cell of visible and hidden checks, like the course's exercises); `--tarefa
01-python-essencial` (any folder of `exercises/`) uses a real exercise instead. Builds one nbgrader course,
writes N submissions of mixed quality (right, partly right, wrong, and answers that raise exceptions:
`automatiza.grading.samples`), copies the course twice and grades one copy with `nbgrader autograde TAREFA`
and the other with `automatiza corrigir TAREFA` (its default parallelism unless `--jobs N`), isolation on as
the README tells instructors to run it, both as command-line runs in this same run. Prints the seconds, the
throughput ratio and whether every grade cell got the same points in both gradebooks (exit code 1 if not).
`--rodadas K` measures both K times, one after the other on fresh copies, and prints every round's ratio and
the medians (a shared machine's noise moves one round by 10-20%).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI

from automatiza.grading import samples
from automatiza.paths import Project, put_python_tools_on_path
from automatiza.release import nbgrader_config

COURSE_ID = "bench"
SMALL = "pequena"


def _cell(
    source: str, grade_id: str, *, solution: bool, points: float | None = None
) -> nbformat.NotebookNode:
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": not solution, "schema_version": 3}
    meta["solution"] = solution
    if points is not None:
        meta["points"] = points
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def small_notebook() -> nbformat.NotebookNode:
    """The issue's case: two questions, each an answer cell and a test cell (visible and hidden checks)."""
    md = nbformat.v4.new_markdown_cell
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        md("# Tarefa pequena\nDuas questões."),
        _cell("from automatiza.checagem import confira, confira_funcao", "preparo", solution=False),
        md("## Questão 1\nEscreva `dobro(x)`, que devolve o dobro de `x`."),
        _cell(
            "def dobro(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            "q1",
            solution=True,
        ),
        _cell(
            "confira_funcao(dobro, [((2,), 4)], o_que='dobro')\n"
            "### BEGIN HIDDEN TESTS\n"
            "confira_funcao(dobro, [((0,), 0), ((-3,), -6), ((2.5,), 5.0)], o_que='dobro (casos ocultos)')\n"
            "### END HIDDEN TESTS",
            "q1-testes",
            solution=False,
            points=2,
        ),
        md("## Questão 2\nEscreva `media(valores)`, a média de uma lista de números."),
        _cell(
            "def media(valores):\n    ### BEGIN SOLUTION\n    return sum(valores) / len(valores)\n"
            "    ### END SOLUTION",
            "q2",
            solution=True,
        ),
        _cell(
            "confira(media([1, 2, 3]), 2.0, o_que='Média de 1, 2 e 3')\n"
            "### BEGIN HIDDEN TESTS\n"
            "confira(media([10, 0]), 5.0, o_que='Média de 10 e 0 (oculto)')\n"
            "confira(media([-1.5]), -1.5, o_que='Média de um só valor (oculto)')\n"
            "### END HIDDEN TESTS",
            "q2-testes",
            solution=False,
            points=3,
        ),
    ]
    return nb


def make_course(root: Path, project: Project, assignment: str) -> None:
    if assignment == SMALL:
        (root / "source" / SMALL).mkdir(parents=True)
        nbformat.write(small_notebook(), root / "source" / SMALL / f"{SMALL}.ipynb")
    else:
        shutil.copytree(
            project.exercises / assignment,
            root / "source" / assignment,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
        )
    config = nbgrader_config(root)
    config.CourseDirectory.course_id = COURSE_ID
    write_config(root, config)
    result = NbGraderAPI(config=config).generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        sys.exit(f"o nbgrader não gerou {assignment}:\n{result.get('log')}{result.get('error')}")


def write_config(root: Path, config) -> None:
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.ClearSolutions.code_stub = {dict(config.ClearSolutions.code_stub)!r}\n"
        f"c.ClearSolutions.text_stub = {config.ClearSolutions.text_stub!r}\n"
    )


def copy_course(origin: Path, target: Path) -> None:
    shutil.copytree(origin, target, symlinks=True)
    config = nbgrader_config(target)
    write_config(target, config)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def uptime() -> str:
    """The machine's load now (other jobs may share the cores: the ratio is only fair side by side)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "carga: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def phases(report: Path, wall: float) -> str:
    """Where the wall time of `corrigir` went, from its JSON report: the grading itself (zygote and pool
    start included) against the rest (Python start-up and imports, the cohort panel, exit)."""
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
        grading = float(data["segundos"])
        each = sorted(float(e["segundos"]) for e in data["entregas"])
    except (OSError, ValueError, KeyError, TypeError):
        return "sem relatório JSON para detalhar o tempo"
    median = statistics.median(each) if each else 0.0
    return (
        f"correção {grading:.1f} s + partida, painel e saída {wall - grading:.1f} s; "
        f"cada entrega, da leitura ao banco de notas: mediana {median:.2f} s"
    )


def timed(command: list[str], cwd: Path, log: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (the command and everything it started: kernels included)."""
    cpu = _children_cpu()
    begin = time.perf_counter()
    with log.open("w") as out:
        code = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - begin
    if code != 0:
        print(f"  aviso: {' '.join(command[:3])} terminou com o código {code} (veja {log})")
    return seconds, _children_cpu() - cpu


def run_nbgrader(course: Path, assignment: str, bin_dir: Path, log: Path) -> tuple[float, float]:
    return timed([str(bin_dir / "nbgrader"), "autograde", assignment], course, log)


def run_automatiza(
    course: Path, assignment: str, bin_dir: Path, log: Path, project: Project, args: argparse.Namespace
) -> tuple[float, float]:
    command = [str(bin_dir / "automatiza"), "--raiz", str(project.root), "corrigir", assignment]
    command += ["--turma", str(course)]
    if args.jobs:
        command += ["--jobs", str(args.jobs)]
    if args.tracebacks_completos:
        command.append("--tracebacks-completos")
    return timed(command, course, log)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alunos", type=int, default=100)
    parser.add_argument(
        "--jobs", type=int, default=None, help="--jobs do automatiza corrigir (padrão: o dele, núcleos + 1)"
    )
    parser.add_argument(
        "--rodadas",
        type=int,
        default=1,
        help="quantas vezes medir os dois, um depois do outro (mostra cada rodada e as medianas)",
    )
    parser.add_argument(
        "--tarefa",
        default=SMALL,
        help=f"'{SMALL}' (padrão: duas questões, o caso do issue 9) ou uma pasta de exercises/",
    )
    parser.add_argument("--manter", action="store_true", help="não apaga a pasta temporária")
    parser.add_argument(
        "--tracebacks-completos",
        action="store_true",
        help="passa --tracebacks-completos ao automatiza corrigir (saídas como as do nbgrader)",
    )
    args = parser.parse_args()
    project = Project.at()
    put_python_tools_on_path()
    print(f"início: {uptime()}")
    bin_dir = Path(sys.executable).parent
    work = Path(tempfile.mkdtemp(prefix="bench-correcao-"))
    ours_label = f"automatiza corrigir{f' --jobs {args.jobs}' if args.jobs else ''}"
    try:
        base = work / "base"
        base.mkdir()
        make_course(base, project, args.tarefa)
        release = base / "release" / args.tarefa
        notebook = next(release.glob("*.ipynb"))
        kinds = samples.write_cohort(
            base, args.tarefa, base / "source" / args.tarefa / notebook.name, notebook, args.alunos
        )
        mix = {k: list(kinds.values()).count(k) for k in samples.KINDS if k in kinds.values()}
        print(f"{args.alunos} entregas de {args.tarefa}: " + ", ".join(f"{n} {k}" for k, n in mix.items()))
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
        rounds: list[tuple[float, float, float, float]] = []
        same = True
        for number in range(1, max(1, args.rodadas) + 1):
            nbgrader_course, automatiza_course = work / f"nbgrader-{number}", work / f"automatiza-{number}"
            copy_course(base, nbgrader_course)
            copy_course(base, automatiza_course)
            prefix = f"[{number}/{args.rodadas}] " if args.rodadas > 1 else ""
            print(f"{prefix}nbgrader autograde (serial) ...", flush=True)
            plain, plain_cpu = run_nbgrader(nbgrader_course, args.tarefa, bin_dir, work / "nbgrader.log")
            print(f"  {plain:.1f} s  ({uptime()})")
            print(f"{prefix}{ours_label} ...", flush=True)
            log = work / "automatiza.log"
            ours, ours_cpu = run_automatiza(automatiza_course, args.tarefa, bin_dir, log, project, args)
            print(f"  {ours:.1f} s  ({uptime()})")
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith(("isolamento:", "corrigidas agora:")):
                    print(f"  {line}")
            print(f"  {phases(automatiza_course / 'relatorios' / f'correcao-{args.tarefa}.json', ours)}")
            rounds.append((plain, plain_cpu, ours, ours_cpu))
            a = samples.scores(f"sqlite:///{nbgrader_course / 'gradebook.db'}", COURSE_ID, args.tarefa)
            b = samples.scores(f"sqlite:///{automatiza_course / 'gradebook.db'}", COURSE_ID, args.tarefa)
            problems = samples.differences(a, b)
            same_now = not problems and len(a) == args.alunos
            same = same and same_now
            print(
                f"  razão: {plain / ours:.1f}x; notas idênticas (cada célula de nota, {len(a)} x {len(b)} "
                f"entregas): {'sim' if same_now else 'NÃO'}"
            )
            for problem in problems[:20]:
                print(f"  - {problem}")
        plain, plain_cpu, ours, ours_cpu = (statistics.median(column) for column in zip(*rounds, strict=True))
        kind = "mediana de " + str(len(rounds)) + " rodadas" if len(rounds) > 1 else "uma rodada"
        print(f"\n({kind}, lado a lado nesta execução)")
        print(
            f"nbgrader autograde:          {plain:7.1f} s  ({args.alunos / plain:.2f} entregas/s), "
            f"CPU {plain_cpu:.1f} s"
        )
        print(f"{ours_label}: {ours:7.1f} s  ({args.alunos / ours:.2f} entregas/s), CPU {ours_cpu:.1f} s")
        ratios = sorted(p / o for p, _, o, _ in rounds)
        spread = f" (rodadas: {', '.join(f'{r:.1f}x' for r in ratios)})" if len(rounds) > 1 else ""
        print(
            f"razão de vazão: {statistics.median(ratios):.1f}x{spread}; "
            f"CPU gasta: {plain_cpu / ours_cpu:.1f}x menos; "
            f"carga da máquina ao fim: {os.getloadavg()[0]:.1f} em {os.cpu_count()} núcleos"
        )
        print(f"notas idênticas em todas as rodadas: {'sim' if same else 'NÃO'}")
        if args.manter:
            print(f"pastas mantidas em {work}")
        return 0 if same else 1
    finally:
        if not args.manter:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
