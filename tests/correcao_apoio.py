"""A small nbgrader course for the grading tests, built in a temp folder: one assignment shaped like the
course's exercises (`automatiza.checagem` in visible checks, hidden tests, a manually graded text answer)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.apps import NbGraderAPI

from automatiza.paths import put_python_tools_on_path
from automatiza.release import nbgrader_config

TAREFA = "tarefa-teste"
PONTOS = {"q1-testes": 2.0, "q2-testes": 3.0, "q3-testes": 2.0, "q4-texto": 1.0}

SOLUCOES = {
    "q1-resposta": "numero = ' 1500.01.0023123/2024-08 '.strip()",
    "q2-resposta": "def dobro(x):\n    return 2 * x",
    "q3-resposta": "def area_circulo(raio):\n    return math.pi * raio ** 2",
}
TESTES = {
    "q1-testes": (
        "confira(type(numero), str, o_que='Tipo do número')\n"
        "### BEGIN HIDDEN TESTS\n"
        "confira(numero, '1500.01.0023123/2024-08', o_que='Número do processo sem espaços',"
        " dica='use strip()')\n"
        "### END HIDDEN TESTS"
    ),
    "q2-testes": (
        "confira_funcao(dobro, [((2,), 4)], o_que='dobro')\n"
        "### BEGIN HIDDEN TESTS\n"
        "confira_funcao(dobro, [((0,), 0), ((-3,), -6), ((2.5,), 5.0)], o_que='dobro (casos ocultos)',"
        " dica='multiplique por 2')\n"
        "### END HIDDEN TESTS"
    ),
    "q3-testes": (
        "confira(round(area_circulo(1), 4), 3.1416, o_que='Área do círculo de raio 1')\n"
        "### BEGIN HIDDEN TESTS\n"
        "confira(round(area_circulo(2), 4), 12.5664, o_que='Área do círculo de raio 2 (oculto)')\n"
        "assert len([1, 2, 3]) == 3 and isinstance(numero, str)\n"
        "### END HIDDEN TESTS"
    ),
}


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md("# Tarefa de teste\nResponda às questões."),
        code(
            "import math\nfrom automatiza.checagem import confira, confira_funcao",
            metadata=_meta("preparo", grade=False, solution=False, locked=True),
        ),
    ]
    for number, name in enumerate(("q1", "q2", "q3"), start=1):
        cells.append(md(f"## Questão {number}"))
        cells.append(
            code(
                f"### BEGIN SOLUTION\n{SOLUCOES[name + '-resposta']}\n### END SOLUTION",
                metadata=_meta(f"{name}-resposta", grade=False, solution=True, locked=False),
            )
        )
        cells.append(
            code(
                TESTES[f"{name}-testes"],
                metadata=_meta(
                    f"{name}-testes", grade=True, solution=False, locked=True, points=PONTOS[f"{name}-testes"]
                ),
            )
        )
    cells.append(md("## Questão 4\nExplique em uma frase para que serve o `strip()`."))
    cells.append(
        md(
            "### BEGIN SOLUTION\nRemove os espaços do começo e do fim.\n### END SOLUTION",
            metadata=_meta("q4-texto", grade=True, solution=True, locked=False, points=1.0),
        )
    )
    nb.cells = cells
    return nb


def make_course(root: Path) -> Path:
    """An nbgrader course at `root` with TAREFA generated (gradebook + release/). Returns the root."""
    put_python_tools_on_path()
    source = root / "source" / TAREFA
    source.mkdir(parents=True)
    nbformat.write(source_notebook(), source / f"{TAREFA}.ipynb")
    (source / "dados.txt").write_text("arquivo de apoio da tarefa\n")
    config = nbgrader_config(root)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'curso-teste'\n"
        f"c.ClearSolutions.code_stub = {dict(config.ClearSolutions.code_stub)!r}\n"
        f"c.ClearSolutions.text_stub = {config.ClearSolutions.text_stub!r}\n"
        "c.Execute.timeout = 5\n"
    )
    config.CourseDirectory.course_id = "curso-teste"
    config.Execute.timeout = 5
    result = NbGraderAPI(config=config).generate_assignment(TAREFA, force=True, create=True)
    assert result["success"], result.get("error") or result.get("log")
    return root


def student_version(root: Path) -> nbformat.NotebookNode:
    return nbformat.read(root / "release" / TAREFA / f"{TAREFA}.ipynb", as_version=4)


def answer(nb: nbformat.NotebookNode, grade_id: str, source: str) -> nbformat.NotebookNode:
    """Put `source` in the cell `grade_id` of a student notebook."""
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return nb
    raise KeyError(grade_id)


def submit(
    root: Path,
    student: str,
    nb: nbformat.NotebookNode | None = None,
    *,
    raw: bytes | None = None,
    name: str = f"{TAREFA}.ipynb",
    timestamp: str = "2026-03-02 10:00:00.000000 UTC",
) -> Path:
    """Write a submission folder for `student` (a notebook, or raw bytes for a malformed file)."""
    folder = root / "submitted" / student / TAREFA
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if raw is not None:
        (folder / name).write_bytes(raw)
    elif nb is not None:
        nbformat.write(nb, folder / name)
    (folder / "timestamp.txt").write_text(timestamp)
    return folder


def solved(root: Path, **overrides: str) -> nbformat.NotebookNode:
    """The student version with every answer filled with the solution, then `overrides` (grade_id: source,
    with '-' instead of '_' in the keyword: q1_resposta -> q1-resposta)."""
    nb = student_version(root)
    for grade_id, source in SOLUCOES.items():
        answer(nb, grade_id, source)
    answer(nb, "q4-texto", "Serve para tirar espaços.")
    for key, source in overrides.items():
        answer(nb, key.replace("_", "-"), source)
    return nb


def grade(root: Path, **options):
    """`automatiza corrigir TAREFA` in-process (no progress bar); returns the report."""
    from automatiza.grading import coursedir, grader

    options.setdefault("jobs", 2)
    options.setdefault("progress", False)
    return grader.grade(coursedir.load(root), TAREFA, **options)


def corrigir_command(root: Path, jobs: int) -> list[str]:
    """`automatiza corrigir TAREFA` as a separate process (for tests that signal or kill it)."""
    return [
        sys.executable,
        "-m",
        "automatiza.grading",
        "corrigir",
        TAREFA,
        "--turma",
        str(root),
        "--jobs",
        str(jobs),
    ]


def by_student(report) -> dict:
    return {r.student: r for r in report.results}


def copy_course(root: Path, target: Path) -> Path:
    """A copy of the course at `target` (the configuration points at the copy)."""
    shutil.copytree(root, target, symlinks=True)
    config = (target / "nbgrader_config.py").read_text().replace(repr(str(root)), repr(str(target)))
    (target / "nbgrader_config.py").write_text(config)
    return target


REQUIRE_ISOLATION = "AUTOMATIZA_EXIGIR_ISOLAMENTO"


def isolation_missing(reason: str) -> None:
    """Skip a test that needs isolation where the machine cannot isolate; under AUTOMATIZA_EXIGIR_ISOLAMENTO=1
    (set by .ci/run) that is a failure instead: in CI the isolation and escape tests never skip."""
    if os.environ.get(REQUIRE_ISOLATION) == "1":
        pytest.fail(f"{REQUIRE_ISOLATION}=1 e a máquina não isola: {reason}")
    pytest.skip(f"esta máquina não isola o código dos alunos: {reason}")


def grade_isolated(root: Path, **options):
    """`grade` with isolation, or `isolation_missing` where the machine refuses."""
    from automatiza.grading.sandbox import isolation

    try:
        return grade(root, **options)
    except isolation.IsolationUnavailable as exc:
        isolation_missing(str(exc))
