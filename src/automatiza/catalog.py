"""`automatiza catalogo`: proves that an exercise's hidden tests catch the wrong answers learners write.

Each exercise keeps a catalog of common wrong answers next to its source notebook
(`exercises/<assignment>/respostas-erradas.yml`). Every entry replaces one answer cell of the solution and
must lose points on the question it targets. The solution, the untouched student version and every entry
are graded together as one cohort by a single real `nbgrader autograde` run, so the proof is nbgrader's own
gradebook, and a whole catalog costs one grader start.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import nbformat
import yaml
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI

from automatiza.paths import Project, put_python_tools_on_path
from automatiza.release import CATALOG, nbgrader_config

CATALOG_FILE = CATALOG
MIN_ENTRIES_PER_QUESTION = 3
SOLUTION, UNTOUCHED = "gabarito", "intocado"


class CatalogError(Exception):
    """A catalog file that cannot be used; the message says what to fix, in pt-BR."""


@dataclass(frozen=True)
class Entry:
    """One wrong answer: `code` replaces answer cell `cell` and must lose points in grade cell `tests`."""

    number: int
    question: str
    misconception: str
    code: str
    cell: str
    tests: str

    @property
    def student(self) -> str:
        return f"errada-{self.number:02d}-{self.question}"


@dataclass
class EntryResult:
    entry: Entry
    score: float | None  # None: not graded (the grader skipped or failed this submission)
    max_score: float

    @property
    def caught(self) -> bool:
        return self.score is not None and self.score < self.max_score


@dataclass
class AssignmentResult:
    assignment: str
    entries: list[EntryResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # nbgrader's points of every autograded test cell, per submission (gabarito, intocado, each entry)
    cells: dict[str, dict[str, float | None]] = field(default_factory=dict)
    workdir: Path | None = None  # the cohort's course folder, when kept (`grade_many(..., keep=...)`)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.caught for r in self.entries)


def catalog_path(project: Project, assignment: str) -> Path:
    return project.exercises / assignment / CATALOG_FILE


def _grade_cells(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
    }


def autograded_tests(nb: nbformat.NotebookNode) -> list[str]:
    """grade_ids of the code cells that hold autograded points (the questions a catalog must cover)."""
    return [
        gid
        for gid, c in _grade_cells(nb).items()
        if c.cell_type == "code"
        and c.metadata["nbgrader"].get("grade")
        and c.metadata["nbgrader"].get("points")
    ]


def load(path: Path, nb: nbformat.NotebookNode) -> list[Entry]:
    """The entries of one catalog, checked against the notebook's cells; CatalogError in pt-BR otherwise."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{path}: falta o catálogo de respostas erradas deste exercício") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: arquivo ilegível ({type(exc).__name__}: {exc})") from None
    raw = data.get("respostas") if isinstance(data, dict) else None
    if not isinstance(raw, list) or not raw:
        raise CatalogError(f"{path}: esperava uma lista 'respostas:' com as respostas erradas")
    cells = _grade_cells(nb)
    entries, problems = [], []
    for number, item in enumerate(raw, start=1):
        where = f"{path}, resposta {number}"
        if not isinstance(item, dict):
            problems.append(f"{where}: cada resposta é um item com questao, erro e codigo")
            continue
        unknown = set(item) - {"questao", "erro", "codigo", "celula", "testes"}
        if unknown:
            problems.append(f"{where}: chaves desconhecidas: {', '.join(sorted(map(str, unknown)))}")
        question, misconception, code = (
            str(item.get(k) or "").strip() for k in ("questao", "erro", "codigo")
        )
        if not question or not misconception or not code:
            problems.append(f"{where}: preencha questao, erro e codigo")
            continue
        cell = str(item.get("celula") or f"{question}-resposta")
        tests = str(item.get("testes") or f"{question}-testes")
        for gid, role in ((cell, "celula"), (tests, "testes")):
            if gid not in cells:
                problems.append(f"{where}: o notebook não tem a célula '{gid}' ({role})")
        if cell in cells and not cells[cell].metadata["nbgrader"].get("solution"):
            problems.append(f"{where}: '{cell}' não é uma célula de resposta")
        if tests in cells and tests not in autograded_tests(nb):
            problems.append(f"{where}: '{tests}' não é uma célula de testes que vale pontos")
        entries.append(Entry(number, question, misconception, item["codigo"], cell, tests))
    for tests in autograded_tests(nb):
        count = sum(e.tests == tests for e in entries)
        if count < MIN_ENTRIES_PER_QUESTION:
            problems.append(
                f"{path}: '{tests}' tem {count} resposta(s) errada(s) no catálogo; "
                f"o mínimo é {MIN_ENTRIES_PER_QUESTION}"
            )
    if problems:
        raise CatalogError("\n".join(problems))
    return entries


def source_notebook(project: Project, assignment: str) -> Path:
    notebooks = project.assignment_notebooks(assignment)
    if len(notebooks) != 1:
        raise CatalogError(
            f"{project.exercises / assignment}: o catálogo supõe um notebook por tarefa, há {len(notebooks)}"
        )
    return notebooks[0]


def check(project: Project, assignment: str) -> list[str]:
    """Structural problems of an assignment's catalog, without grading anything (for `verificar`)."""
    path = source_notebook(project, assignment)
    try:
        load(catalog_path(project, assignment), nbformat.read(path, as_version=4))
    except CatalogError as exc:
        return str(exc).splitlines()
    return []


def with_wrong_answer(nb: nbformat.NotebookNode, entry: Entry) -> nbformat.NotebookNode:
    """A copy of the solution notebook where the entry's code replaces its answer cell."""
    copy = nbformat.from_dict(nb)
    _grade_cells(copy)[entry.cell].source = entry.code
    return copy


def _copy_folder(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", CATALOG_FILE))


@dataclass
class Cohort:
    """An nbgrader course folder with an assignment's catalog as submissions (see `build_cohort`)."""

    workdir: Path
    notebook: Path  # the source notebook
    entries: list[Entry]
    api: NbGraderAPI

    @property
    def students(self) -> list[str]:
        return [SOLUTION, UNTOUCHED, *(e.student for e in self.entries)]


def build_cohort(project: Project, assignment: str, workdir: Path) -> Cohort:
    """A course at `workdir` with the assignment generated and, as submissions, the solution (`gabarito`),
    the untouched student version (`intocado`) and every catalog entry. `CatalogError` if it cannot."""
    notebook = source_notebook(project, assignment)
    nb = nbformat.read(notebook, as_version=4)
    entries = load(catalog_path(project, assignment), nb)

    put_python_tools_on_path()
    _copy_folder(project.exercises / assignment, workdir / "source" / assignment)
    config = nbgrader_config(workdir)
    config.Execute.timeout = 300  # a proof, not a cohort: a loaded CI machine must not turn slow into wrong
    # two catalogs are graded at a time: kernels on TCP ports could pick the same free port and one would fail
    # with "Address already in use" (papermill issue #511); IPC sockets are files with unique names
    config.Execute.kernel_manager_class = "automatiza.execute.IPCKernelManager"
    config.Execute.shutdown_kernel = "immediate"  # points are saved by then: no graceful wait per notebook
    api = NbGraderAPI(config=config)
    generated = api.generate_assignment(assignment, force=True, create=True)
    if not generated["success"]:
        raise CatalogError(f"o nbgrader não gerou a versão de estudante: {generated.get('error')}")

    submitted = workdir / "submitted"
    _copy_folder(workdir / "source" / assignment, submitted / SOLUTION / assignment)
    _copy_folder(workdir / "release" / assignment, submitted / UNTOUCHED / assignment)
    for entry in entries:
        folder = submitted / entry.student / assignment
        _copy_folder(workdir / "source" / assignment, folder)
        nbformat.write(with_wrong_answer(nb, entry), folder / notebook.name)
    return Cohort(workdir, notebook, entries, api)


def grade(project: Project, assignment: str, workdir: Path) -> AssignmentResult:
    """Grade the solution, the untouched student version and every catalog entry in one nbgrader run."""
    result = AssignmentResult(assignment, workdir=workdir)
    try:
        cohort = build_cohort(project, assignment, workdir)
    except CatalogError as exc:
        result.problems += str(exc).splitlines()
        return result
    api, entries, notebook = cohort.api, cohort.entries, cohort.notebook
    tests = autograded_tests(nbformat.read(notebook, as_version=4))

    with _quiet_stderr(workdir / "nbgrader-stderr.log") as noise:
        graded = api.autograde(assignment, "*")
    if not graded["success"]:
        detail = graded.get("error") or graded.get("log") or noise.read_text(errors="replace")[-4000:]
        result.problems.append(f"o nbgrader autograde falhou: {detail}")

    expected_total = next(
        (m.tarefa.pontos for m in project.curriculum().modulos if m.tarefa and m.tarefa.nome == assignment),
        None,
    )
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gb:
        try:
            solution = gb.find_submission(assignment, SOLUTION)
            untouched = gb.find_submission(assignment, UNTOUCHED)
        except MissingEntry:
            result.problems.append("a solução ou a versão de estudante não foi corrigida")
            return result
        if solution.code_score != solution.max_code_score:
            result.problems.append(
                f"a solução tirou {solution.code_score:g} de {solution.max_code_score:g} "
                "nos testes automáticos"
            )
        if untouched.score != 0:
            result.problems.append(
                f"a versão de estudante sem mudanças tirou {untouched.score:g} (esperava 0)"
            )
        if expected_total is not None and solution.max_score != expected_total:
            result.problems.append(
                f"o exercício vale {solution.max_score:g} pontos, mas o programa diz {expected_total:g}"
            )
        for entry in entries:
            try:
                grade_row = gb.find_grade(entry.tests, notebook.stem, assignment, entry.student)
                score: float | None = grade_row.score
                max_score = grade_row.max_score
            except MissingEntry:
                score, max_score = None, 0.0
            result.entries.append(EntryResult(entry, score, max_score))
        for student in cohort.students:
            found: dict[str, float | None] = {}
            for test in tests:
                try:
                    found[test] = gb.find_grade(test, notebook.stem, assignment, student).score
                except MissingEntry:
                    found[test] = None
            result.cells[student] = found
    return result


@contextmanager
def _quiet_stderr(path: Path) -> Iterator[Path]:
    """Send this process's stderr (kernel warnings, SQLAlchemy notes) to `path`, kept for error reports."""
    with path.open("wb") as log:
        saved = os.dup(2)
        sys.stderr.flush()
        os.dup2(log.fileno(), 2)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield path
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _grade_in_temp(project: Project, assignment: str, keep: Path | None = None) -> AssignmentResult:
    if keep is not None:  # the course folder stays, for whoever compares other graders with nbgrader
        workdir = keep / assignment
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            return grade(project, assignment, workdir)
        except CatalogError as exc:
            return AssignmentResult(assignment, problems=str(exc).splitlines(), workdir=workdir)
    with tempfile.TemporaryDirectory(prefix=f"catalogo-{assignment}-") as tmp:
        try:
            result = grade(project, assignment, Path(tmp))
        except CatalogError as exc:
            return AssignmentResult(assignment, problems=str(exc).splitlines())
        result.workdir = None
        return result


def grade_many(
    project: Project, assignments: Iterable[str], jobs: int = 1, keep: Path | None = None
) -> list[AssignmentResult]:
    """Grade several catalogs, `jobs` assignments at a time (each in its own process and course folder);
    with `keep`, each course folder stays in `keep/<assignment>` (`AssignmentResult.workdir`)."""
    names = list(assignments)
    if jobs <= 1 or len(names) <= 1:
        return [_grade_in_temp(project, name, keep) for name in names]
    results: dict[str, AssignmentResult] = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(_grade_in_temp, project, name, keep): name for name in names}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            print(f"  {futures[future]}: corrigido", flush=True)
    return [results[name] for name in names]


def describe(result: AssignmentResult) -> str:
    """A pt-BR table of one assignment's catalog: each wrong answer and the points it kept."""
    lines = [f"{result.assignment}: {len(result.entries)} resposta(s) errada(s)"]
    for r in result.entries:
        if r.score is None:
            status = "NÃO CORRIGIDA"
        else:
            status = f"{r.score:g}/{r.max_score:g} " + (
                "perde pontos" if r.caught else "PASSA COM NOTA MÁXIMA"
            )
        lines.append(f"  {r.entry.student:<24} {status:<30} {r.entry.misconception}")
    lines += [f"  PROBLEMA: {p}" for p in result.problems]
    lines.append("  tudo certo" if result.ok else "  o catálogo não passou")
    return "\n".join(lines)


def report(project: Project, assignments: list[str], jobs: int) -> bool:
    """Grade and print the catalogs of `assignments`; True when every one holds."""
    results = grade_many(project, assignments, jobs)
    for result in results:
        print(describe(result), file=sys.stdout if result.ok else sys.stderr)
    failed = [r.assignment for r in results if not r.ok]
    if failed:
        print(f"\nCatálogo com problemas em: {', '.join(failed)}", file=sys.stderr)
    else:
        total = sum(len(r.entries) for r in results)
        print(f"\n{len(results)} tarefa(s), {total} resposta(s) errada(s), todas perdem pontos.")
    return not failed
