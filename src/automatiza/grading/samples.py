"""Synthetic submissions of a real exercise, and score comparison between two gradebooks.

Used by the tests and by `benchmarks/bench_correcao.py` to check that `automatiza corrigir` gives the points
`nbgrader autograde` gives. Kinds of submission, built from the instructor's source and the student version:

- ``certa``: every answer is the solution;
- ``parcial``: about half of the answers are the solution, the rest untouched;
- ``errada``: functions return None instead of the answer (the checks fail with their friendly messages);
- ``quebra``: some answers raise an exception (ZeroDivisionError, NameError...);
- ``intocada``: the student version as released.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import nbformat

from automatiza.grading.nbgrader_api import DEFAULT_DELIMITERS, Delimiters, Gradebook, utils

KINDS = ("certa", "parcial", "errada", "quebra", "intocada")
MIX = ("certa",) * 4 + ("parcial",) * 3 + ("errada",) * 2 + ("quebra",)


def solution_text(source: str, delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
    """The solution inside a source cell, without nbgrader's markers (the course's `ClearSolutions` ones)."""
    return delimiters.solution_text(source)


def _answers(
    source: nbformat.NotebookNode, delimiters: Delimiters = DEFAULT_DELIMITERS
) -> dict[str, tuple[str, str]]:
    return {
        c.metadata.nbgrader["grade_id"]: (c.cell_type, solution_text(c.source, delimiters))
        for c in source.cells
        if utils.is_solution(c)
    }


def submission(
    source: nbformat.NotebookNode,
    release: nbformat.NotebookNode,
    kind: str,
    rng: random.Random,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
) -> nbformat.NotebookNode:
    """A submission of `kind` (see the module docstring) made from the source and released notebooks
    (`delimiters`: the course's solution markers, nbgrader's defaults if not given)."""
    nb = nbformat.from_dict(release)
    answers = _answers(source, delimiters)
    ids = [c.metadata.nbgrader["grade_id"] for c in nb.cells if utils.is_solution(c)]
    code_ids = [i for i in ids if answers.get(i, ("", ""))[0] == "code"]
    if kind == "certa":
        chosen = set(ids)
    elif kind == "parcial":
        chosen = set(rng.sample(ids, k=max(1, len(ids) // 2)))
    elif kind == "quebra":
        chosen = set(ids)
    else:
        chosen = set()
    broken = (
        set(rng.sample(code_ids, k=max(1, len(code_ids) // 3))) if kind == "quebra" and code_ids else set()
    )
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in answers:
            continue
        cell_type, text = answers[grade_id]
        if grade_id in broken:
            cell.source = rng.choice(["1 / 0", "resposta = valor_que_nao_existe", "int('não é número')"])
        elif kind == "errada" and cell_type == "code":
            cell.source = re.sub(r"\breturn\b.*", "return None", text) if "return" in text else cell.source
        elif grade_id in chosen:
            cell.source = text
    return nb


def write_cohort(
    course: Path,
    assignment: str,
    source: Path,
    release: Path,
    count: int,
    seed: int = 2026,
    kinds: tuple[str, ...] = MIX,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
) -> dict[str, str]:
    """`count` submissions in ``course/submitted/alunoNNN/<assignment>/``; returns student -> kind."""
    rng = random.Random(seed)
    source_nb = nbformat.read(source, as_version=4)
    release_nb = nbformat.read(release, as_version=4)
    made = {}
    for number in range(1, count + 1):
        student = f"aluno{number:03d}"
        kind = kinds[(number - 1) % len(kinds)]
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(submission(source_nb, release_nb, kind, rng, delimiters), folder / release.name)
        for extra in release.parent.iterdir():
            if extra.is_file() and extra.suffix != ".ipynb":
                (folder / extra.name).write_bytes(extra.read_bytes())
        (folder / "timestamp.txt").write_text(f"2026-03-{1 + number % 28:02d} 10:00:00.000000 UTC")
        made[student] = kind
    return made


def scores(db_url: str, course_id: str, assignment: str) -> dict[str, dict[str, float | None]]:
    """student -> {grade cell: score, '_total': submission score} from a gradebook."""
    found: dict[str, dict[str, float | None]] = {}
    with Gradebook(db_url, course_id) as gb:
        for sub in gb.find_assignment(assignment).submissions:
            cells: dict[str, float | None] = {"_total": sub.score}
            for notebook in sub.notebooks:
                for grade in notebook.grades:
                    cells[grade.name] = grade.score
            found[sub.student.id] = cells
    return found


def differences(a: dict, b: dict) -> list[str]:
    """Human-readable differences between two `scores()` results (empty when identical)."""
    problems = []
    for student in sorted(set(a) | set(b)):
        if student not in a or student not in b:
            problems.append(f"{student}: só em {'o primeiro' if student in a else 'o segundo'} banco")
            continue
        for cell in sorted(set(a[student]) | set(b[student])):
            if a[student].get(cell) != b[student].get(cell):
                problems.append(f"{student} {cell}: {a[student].get(cell)} != {b[student].get(cell)}")
    return problems
