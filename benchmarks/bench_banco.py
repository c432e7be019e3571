"""`automatiza corrigir` and `automatiza notas` with the gradebook on SQLite and on PostgreSQL, same cohort.

    .venv/bin/python benchmarks/bench_banco.py [--alunos 40] [--jobs 2] [--tarefa 01-python-essencial]

Builds one nbgrader course from the exercise in `exercises/` with N synthetic submissions
(`automatiza.grading.samples`), copies it twice, moves one copy's gradebook to a throwaway PostgreSQL server
on loopback (the one the tests start: tests/postgres_apoio.py), then grades both copies with the command line
`automatiza corrigir TAREFA --jobs N` and exports the grades with `automatiza notas`, in this same run.
Prints the seconds of each, the ratio and whether every grade cell got the same points (exit code 1 if not).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1] / "tests")]

import postgres_apoio  # noqa: E402
from bench_correcao import COURSE_ID, copy_course, make_course, timed  # noqa: E402
from nbgrader.apps import NbGraderAPI  # noqa: E402

from automatiza.grading import coursedir, samples  # noqa: E402
from automatiza.paths import Project, put_python_tools_on_path  # noqa: E402


def to_postgres(root: Path, url: str, assignment: str) -> str:
    """Point the course at `url` (as an instructor writes it) and generate the assignment there."""
    with (root / "nbgrader_config.py").open("a") as fh:
        fh.write(f"c.CourseDirectory.db_url = {url!r}\n")
    (root / "gradebook.db").unlink()
    course = coursedir.load(root)
    config = course.config
    config.CourseDirectory.db_url = course.db_url
    result = NbGraderAPI(config=config).generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        log = f"{result.get('log')}{result.get('error')}"
        sys.exit(f"o nbgrader não gerou {assignment} no PostgreSQL:\n{log}")
    return course.db_url


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alunos", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--tarefa", default="01-python-essencial")
    parser.add_argument(
        "--rodadas", type=int, default=2, help="rodadas alternando a ordem (a 2ª em diante com --forcar)"
    )
    args = parser.parse_args()
    project = Project.at()
    put_python_tools_on_path()
    bin_dir = Path(sys.executable).parent
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    work = Path(tempfile.mkdtemp(prefix="bench-banco-"))
    try:
        with postgres_apoio.server() as pg:
            base = work / "base"
            base.mkdir()
            make_course(base, project, args.tarefa)
            notebook = next((base / "release" / args.tarefa).glob("*.ipynb"))
            samples.write_cohort(
                base, args.tarefa, base / "source" / args.tarefa / notebook.name, notebook, args.alunos
            )
            lite, post = work / "sqlite", work / "postgres"
            copy_course(base, lite)
            copy_course(base, post)
            urls = {"SQLite": f"sqlite:///{lite / 'gradebook.db'}"}
            urls["PostgreSQL"] = to_postgres(post, pg.create_database("bench"), args.tarefa)
            runs: dict[str, list[tuple[float, float]]] = {"SQLite": [], "PostgreSQL": []}
            order = [("SQLite", lite), ("PostgreSQL", post)]
            for number in range(args.rodadas):
                again = ["--forcar"] if number else []
                for name, root in order if number % 2 == 0 else order[::-1]:
                    print(f"rodada {number + 1}, {name}: corrigir {' '.join(again)}...", flush=True)
                    command = [str(bin_dir / "automatiza"), "--raiz", str(project.root)]
                    grading, _ = timed(
                        [
                            *command,
                            "corrigir",
                            args.tarefa,
                            "--turma",
                            str(root),
                            "--jobs",
                            str(args.jobs),
                            *again,
                        ],
                        root,
                        work / f"{name}.log",
                    )
                    export, _ = timed(
                        [*command, "notas", "--turma", str(root)], root, work / f"{name}-notas.log"
                    )
                    runs[name].append((grading, export))
                    print(f"  corrigir {grading:.1f} s, notas {export:.2f} s")
            seconds = {name: (min(g for g, _ in r), min(e for _, e in r)) for name, r in runs.items()}
            a = samples.scores(urls["SQLite"], COURSE_ID, args.tarefa)
            b = samples.scores(urls["PostgreSQL"], COURSE_ID, args.tarefa)
            problems = samples.differences(a, b)
            same = not problems and len(a) == args.alunos
            (g1, e1), (g2, e2) = seconds["SQLite"], seconds["PostgreSQL"]
            print(
                f"\n{args.alunos} entregas de {args.tarefa}, --jobs {args.jobs}, {os.cpu_count()} núcleos, "
                f"melhor de {args.rodadas} rodada(s); carga da máquina: {os.getloadavg()[0]:.1f}"
            )
            print(f"corrigir: SQLite {g1:.1f} s, PostgreSQL {g2:.1f} s (PostgreSQL/SQLite: {g2 / g1:.2f}x)")
            print(f"notas:    SQLite {e1:.2f} s, PostgreSQL {e2:.2f} s (PostgreSQL/SQLite: {e2 / e1:.2f}x)")
            print(f"mesmas notas nos dois bancos ({len(a)} x {len(b)} entregas): {'sim' if same else 'NÃO'}")
            for problem in problems[:20]:
                print(f"  - {problem}")
            return 0 if same else 1
    except postgres_apoio.Unavailable as exc:
        print(f"PostgreSQL indisponível: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
