"""`automatiza verificar`: the curriculum against the files in the checkout."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbgrader.nbgraderformat import MetadataValidator, ValidationError

from automatiza import catalog
from automatiza.paths import Project

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def _read(path: Path, problems: list[str]) -> nbformat.NotebookNode | None:
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        return nb
    except (OSError, json.JSONDecodeError, nbformat.ValidationError) as exc:
        problems.append(f"{path}: notebook ilegível ou inválido ({type(exc).__name__}: {exc})")
        return None


def stored_outputs(nb: nbformat.NotebookNode) -> list[int]:
    """Indexes of code cells that carry outputs or an execution count."""
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]


def notebook_problems(path: Path, nb: nbformat.NotebookNode) -> list[str]:
    """Problems any committed notebook can have: stored outputs, repeated cell ids, a foreign kernel."""
    problems = []
    if cells := stored_outputs(nb):
        problems.append(
            f"{path}: células com saídas ou contadores guardados (índices {cells[:5]}); limpe com "
            "`jupyter nbconvert --clear-output --inplace`"
        )
    ids = [c.get("id") for c in nb.cells if c.get("id")]
    if repeated := sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"{path}: ids de célula repetidos: {', '.join(repeated)}")
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"{path}: kernel '{kernel}' no metadado kernelspec; use 'python3'")
    return problems


def assignment_problems(path: Path, nb: nbformat.NotebookNode) -> tuple[list[str], float]:
    """nbgrader metadata problems of one exercise source notebook, and its total points."""
    problems: list[str] = []
    validator = MetadataValidator()
    try:
        validator.validate_nb(nb)
    except ValidationError as exc:
        problems.append(f"{path}: metadados do nbgrader inválidos: {exc}")
    grade_ids: list[str] = []
    points = 0.0
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        if meta.get("grade_id"):
            grade_ids.append(meta["grade_id"])
        if meta.get("grade"):
            points += float(meta.get("points", 0))
        if (
            meta.get("solution")
            and cell.cell_type == "code"
            and not all(m in cell.source for m in SOLUTION_MARKERS)
        ):
            problems.append(
                f"{path}: célula {i} ({meta.get('grade_id')}) de resposta sem "
                "### BEGIN SOLUTION / ### END SOLUTION"
            )
    if repeated := sorted({g for g in grade_ids if grade_ids.count(g) > 1}):
        problems.append(f"{path}: grade_id repetidos: {', '.join(repeated)}")
    if not any(c.metadata.get("nbgrader", {}).get("grade") for c in nb.cells):
        problems.append(f"{path}: nenhuma célula vale pontos")
    return problems, points


def find_problems(project: Project) -> list[str]:
    """Every mismatch between the curriculum and the files; an empty list means all is well."""
    cur = project.curriculum()
    problems: list[str] = []
    listed: set[Path] = set()
    for module in cur.modulos:
        where = f"módulo {module.id}"
        for lesson in module.licoes:
            path = project.root / lesson
            listed.add(path.resolve())
            if not path.is_file():
                problems.append(f"{where}: a lição {lesson} não existe")
            elif (nb := _read(path, problems)) is not None:
                problems += notebook_problems(path, nb)
            # a folder named after the lesson holds notebooks the lesson runs (e.g. a papermill robot)
            for support in sorted(path.with_suffix("").rglob("*.ipynb")):
                if ".ipynb_checkpoints" in support.parts:
                    continue
                listed.add(support.resolve())
                if (nb := _read(support, problems)) is not None:
                    problems += notebook_problems(support, nb)
        if module.tarefa is None:
            continue
        notebooks = project.assignment_notebooks(module.tarefa.nome)
        listed.update(path.resolve() for path in notebooks)
        if not module.written:  # a module in preparation may hold drafts
            continue
        if not notebooks:
            problems.append(
                f"{where}: a tarefa '{module.tarefa.nome}' não tem notebooks em "
                f"{project.exercises / module.tarefa.nome}"
            )
        total = 0.0
        for path in notebooks:
            if (nb := _read(path, problems)) is None:
                continue
            problems += notebook_problems(path, nb)
            found, points = assignment_problems(path, nb)
            problems += found
            total += points
        if catalog.catalog_path(project, module.tarefa.nome).is_file():
            problems += catalog.check(project, module.tarefa.nome)
        if notebooks and abs(total - module.tarefa.pontos) > 1e-9:
            problems.append(
                f"{where}: a tarefa '{module.tarefa.nome}' soma {total:g} pontos nas células, "
                f"mas o programa diz {module.tarefa.pontos:g}"
            )
    for folder in (project.root / "notebooks", project.exercises):
        for path in sorted(folder.rglob("*.ipynb")):
            generated = {".ipynb_checkpoints", "build"} & set(path.relative_to(folder).parts[:-1])
            if generated or path.resolve() in listed:  # build/ is git-ignored output (e.g. a robot's runs)
                continue
            problems.append(f"{path}: notebook fora do programa (liste-o em curriculum/programa.yml)")
    return problems


def report(project: Project) -> bool:
    """Print the problems in pt-BR; True when there are none."""
    problems = find_problems(project)
    cur = project.curriculum()
    if problems:
        print(f"{len(problems)} problema(s) encontrados:")
        for p in problems:
            print(f"  - {p}")
        return False
    print(
        f"Tudo certo: {len(cur.modulos)} módulos ({len(cur.written)} escritos), notebooks e tarefas "
        "conferidos."
    )
    return True
