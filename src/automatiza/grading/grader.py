"""`automatiza corrigir`: nbgrader's autograde pipeline, parallel and isolated, for a whole cohort.

For each submission in ``submitted/<aluno>/<tarefa>/`` this does what `nbgrader autograde` does, with
nbgrader's own pieces wherever they already do the job:

1. sanitize with the exporter and the preprocessors of nbgrader's `Autograde` converter (`ClearOutput`,
   `DeduplicateIds`, `OverwriteKernelspec`, `OverwriteCells`, `CheckCellMetadata`: test and locked cells
   come back from the gradebook, same checksums, same points);
2. execute with nbgrader's `Execute` preprocessor (`execution.SandboxedExecute`), on a kernel from the pool:
   pre-started, isolated, in a private copy of the submission's files;
3. post-process with the rest of `Autograde.autograde_preprocessors` (`LimitOutput`, `SaveAutoGrades`,
   `AssignLatePenalties`, ...) and write ``autograded/<aluno>/<tarefa>/`` like nbgrader.

All gradebook access happens in the event loop's thread, one submission at a time, after its notebooks ran
(single writer); a submission's gradebook rows and its autograded folder are written together at the end, so
killing the run loses nothing already saved, and running again skips what is graded (`--forcar` to redo).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import fcntl
import fnmatch
import functools
import glob
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters import NotebookExporter
from sqlalchemy import select
from sqlalchemy.exc import SAWarning
from tqdm import tqdm
from traitlets.config import Config

from automatiza.errors import SetupError
from automatiza.grading import coursedir, execution, kernels, nbgrader_api
from automatiza.grading.nbgrader_api import (
    Assignment,
    Autograde,
    BaseCell,
    Event,
    EventKind,
    Execute,
    Grade,
    Gradebook,
    MissingEntry,
    Notebook,
    SchemaTooNewError,
    SchemaTooOldError,
    SharedGradebook,
    SubmittedAssignment,
    SubmittedNotebook,
    fast_nbgrader,
    utils,
)
from automatiza.grading.sandbox import files, isolation, zygote

OK, WARN, SKIPPED, ERROR = "ok", "avisos", "pulada", "ERRO"
BAR_FORMAT = (
    "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed} decorridos, faltam ~{remaining}]"
)
EVENT_NOTES = {  # what nbgrader did while sanitizing (nbgrader_api.Event) -> pt-BR note for the summary
    # CHANGED: none here, `_edited_cells` says it in the instructor's terms
    EventKind.UNKNOWN: "a célula '{cell}' não existe no banco de notas e foi ignorada",
    EventKind.DUPLICATE: "a célula '{cell}' aparece mais de uma vez; só a última conta",
    EventKind.RESTORED: "a célula '{cell}' foi apagada e foi recolocada",
}


@dataclass
class Result:
    student: str
    status: str
    score: float | None = None
    max_score: float | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    needs_manual: bool = False
    cells: list[dict] = field(default_factory=list)  # per graded cell: notebook, cell, points, max, status

    def to_json(self) -> dict:
        return {
            "aluno": self.student,
            "situacao": self.status,
            "nota": self.score,
            "nota_maxima": self.max_score,
            "correcao_manual": self.needs_manual,
            "celulas": self.cells,
            "eventos": self.notes,
            "segundos": round(self.seconds, 3),
        }


@dataclass
class Report:
    assignment: str
    results: list[Result]
    seconds: float
    level: str
    warnings: list[str]
    jobs: int
    kernels: int = 0
    without_submission: list[str] = field(default_factory=list)
    plan: isolation.Plan | None = None
    json_path: Path | None = None

    @property
    def graded(self) -> list[Result]:
        return [r for r in self.results if r.status in (OK, WARN)]

    @property
    def ok(self) -> bool:
        return not any(r.status == ERROR for r in self.results)

    def table(self) -> str:
        rows = [("aluno", "nota", "situação", "observações")]
        for r in sorted(self.results, key=lambda r: r.student):
            score = "-" if r.score is None else f"{_num(r.score)}/{_num(r.max_score or 0)}"
            if r.needs_manual and r.status in (OK, WARN):
                score += " *"
            rows.append((r.student, score, r.status, "; ".join(r.notes)))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = []
        for number, row in enumerate(rows):
            lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])
            if number == 0:
                lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 11)
        return "\n".join(line.rstrip() for line in lines)

    def summary(self) -> str:
        graded = self.graded
        parts = [
            f"\nResumo da correção de '{self.assignment}'",
            self.table() if self.results else "(nenhuma entrega)",
        ]
        if any(r.needs_manual for r in graded):
            parts.append("* tem questões de correção manual: confira no formgrader (nbgrader).")
        if self.without_submission:
            names = ", ".join(self.without_submission[:15])
            names += " ..." if len(self.without_submission) > 15 else ""
            parts.append(f"sem entrega: {len(self.without_submission)} aluno(s): {names}")
        skipped = sum(r.status == SKIPPED for r in self.results)
        errors = sum(r.status == ERROR for r in self.results)
        rate = len(graded) / self.seconds if self.seconds > 0 else 0.0
        parts.append(
            f"corrigidas agora: {len(graded)}; já corrigidas (puladas): {skipped}; "
            f"com erro do corretor: {errors}; "
            f"tempo: {self.seconds:.1f} s ({_num(round(rate, 2))} entregas/s, {self.jobs} em paralelo)"
        )
        parts.append(f"isolamento: {self.level}")
        parts += [f"AVISO: {w}" for w in self.warnings]
        if self.json_path is not None:
            parts.append(f"relatório: {self.json_path}")
        return "\n".join(parts)

    def to_json(self) -> dict:
        plan = self.plan
        return {
            "tarefa": self.assignment,
            "segundos": round(self.seconds, 3),
            "em_paralelo": self.jobs,
            "kernels": self.kernels,
            "isolamento": {
                "nivel": self.level,
                "isolado": bool(plan and plan.isolated),
                "completo": bool(plan and plan.full),
                "sem_isolamento": bool(plan is not None and not plan.isolated),
                "totais_por_kernel": plan.totals if plan else "",
                "sem_totais_porque": plan.totals_note if plan else "",
                **(plan.report() if plan else {"cota_de_disco_mb": None}),
                "avisos": self.warnings,
            },
            "sem_entrega": self.without_submission,
            "entregas": [r.to_json() for r in sorted(self.results, key=lambda r: r.student)],
        }

    def write_json(self, path: Path) -> None:
        """The report as JSON, written atomically (a reader never sees half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(temporary, path)
        self.json_path = path


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _lines(source: str) -> list[str]:
    return [line.rstrip() for line in source.splitlines() if line.strip()]


def _event_notes(events: list[Event]) -> list[str]:
    notes: list[str] = []
    for event in events:
        template = EVENT_NOTES.get(event.kind)
        if template is not None and (note := template.format(cell=event.cell)) not in notes:
            notes.append(note)
    return notes


def _refused(name: str, events: list[Event]) -> str | None:
    """Why nbgrader's validation refused a notebook, from what the sanitize did just before: DeduplicateIds
    empties the metadata of a copied cell, OverwriteCells drops an id the gradebook does not know."""
    for kind, why in (
        (
            EventKind.DUPLICATE,
            "a mesma célula aparece mais de uma vez ({cells}): uma célula copiada e colada "
            "leva junto a identificação do nbgrader; apague as cópias",
        ),
        (
            EventKind.UNKNOWN,
            "há células com identificação do nbgrader que não existe nesta tarefa ({cells}): "
            "o notebook é de outra tarefa ou a identificação foi mudada; use o notebook liberado da tarefa",
        ),
    ):
        if cells := sorted({f"'{e.cell}'" for e in events if e.kind is kind}):
            return f"{name} não pode ser corrigido pelo nbgrader: " + why.format(cells=", ".join(cells))
    return None


class GradingBusy(SetupError):
    """Another `corrigir` holds the cohort's lock (pt-BR message)."""


class SubmissionProblem(Exception):
    """Something wrong with what the learner submitted (pt-BR message); the notebook gets zero."""


class Grader:
    def __init__(
        self,
        course: coursedir.Course,
        assignment: str,
        *,
        jobs: int = 2,
        force: bool = False,
        students: list[str] | None = None,
        limits: isolation.Limits | None = None,
        progress: bool = True,
        isolated: bool = True,
        scratch: str | None = None,
        zygote: kernels.Zygote | None = None,
        full_tracebacks: bool = False,
    ) -> None:
        """`zygote`: one already launched with `kernels.Zygote.launch` (the CLI starts it before importing
        nbgrader, so both start-ups overlap); by default one is launched when there is work.
        `full_tracebacks`: IPython's default tracebacks (with highlighted context) in autograded/, as
        nbgrader writes them; by default the plain ones, much cheaper to produce (same points)."""
        self.course = course
        self.assignment = assignment
        self.jobs = max(1, jobs)
        self.force = force
        self.only = students
        self.limits = limits or isolation.Limits()
        self.progress = progress
        self.isolated = isolated
        self.scratch = scratch
        self.log = logging.getLogger(f"automatiza.corretor.{id(self)}")
        self.log.propagate = False
        self.log.setLevel(logging.INFO)
        self.notebooks = coursedir.assignment_notebooks(course, assignment)
        self.delimiters = nbgrader_api.Delimiters.from_config(course.config)
        self.converter = Autograde(coursedir=course.coursedir, config=self._config(), log=self.log)
        self.sanitize = self._exporter(self.converter.sanitize_preprocessors)
        self.post = self._exporter(
            [
                p
                for p in self.converter.autograde_preprocessors
                if not (isinstance(p, type) and issubclass(p, Execute))
            ]
        )
        self.zygote: kernels.Zygote | None = zygote
        self.xmode = "Context" if full_tracebacks else "Plain"
        self.pool: kernels.KernelPool | None = None
        self.bindings: list[tuple[str, str, str | None]] = []
        self.preload: list[str] = []
        self.cells: dict[str, dict[str, tuple[str, bool, bool]]] = {}
        self.shared: SharedGradebook | None = None
        self._uid_lock = None
        self._sources: tuple[list[str], list[str]] = ([], [])
        self.executor: ThreadPoolExecutor | None = None
        self._running: asyncio.Semaphore | None = None
        self.kernels = 0
        self._stamps: dict[str, datetime.datetime | None] = {}

    @staticmethod
    def _tree_timestamp(tree: files.Tree) -> datetime.datetime | None:
        text = tree.files.get("timestamp.txt", b"")[:4096].decode("utf-8", errors="replace").strip()
        try:
            return utils.parse_utc(text) if text else None
        except ValueError:
            return None

    def _config(self) -> Config:
        config = Config(self.course.config)
        extra = {"Exporter": {"default_preprocessors": []}}
        if "optimistic_validation" not in config.get("Exporter", {}):
            # validate the notebook once after all preprocessors instead of after each one (same outcome)
            extra["Exporter"]["optimistic_validation"] = True
        config.merge(Config(extra))
        config.merge(nbgrader_api.recording_config(config))  # sanitize events as typed events
        return config

    def _exporter(self, preprocessors: list) -> NotebookExporter:
        exporter = NotebookExporter(parent=self.converter, config=self.converter.config)
        for preprocessor in preprocessors:
            exporter.register_preprocessor(preprocessor)
        return exporter

    def _gradebook(self) -> contextlib.AbstractContextManager:
        return self.shared if self.shared is not None else self.course.gradebook()

    # ---- which submissions ------------------------------------------------------------------------------

    def submissions(self) -> list[str]:
        coursedir = self.course.coursedir
        pattern = coursedir.format_path(coursedir.submitted_directory, "*", self.assignment)
        regexp = re.compile(
            coursedir.format_path(
                coursedir.submitted_directory, "(?P<student_id>[^/]+)", self.assignment, escape=True
            )
            + "$"
        )
        found = sorted(
            m.group("student_id") for p in glob.glob(pattern) if os.path.isdir(p) and (m := regexp.match(p))
        )
        exclude = set(filter(None, self.course.coursedir.student_id_exclude.split(",")))
        found = [s for s in found if s not in exclude]
        if self.only:
            found = [s for s in found if s in self.only]
        return found

    def already_graded(self, student: str) -> bool:
        if self.force:
            return False
        dest = self.course.autograded(student, self.assignment)
        src = self.course.submitted(student, self.assignment)
        if not dest.is_dir():
            return False
        for notebook in self.notebooks:
            if (src / f"{notebook}.ipynb").exists() and not (dest / f"{notebook}.ipynb").exists():
                return False
        new, old = self._timestamp(src), self._timestamp(dest)
        if new is not None and old is not None and new > old:
            return False
        with contextlib.suppress(Exception), self._gradebook() as gb:
            gb.find_submission(self.assignment, student)
            return True
        return False

    def _timestamp(self, folder: Path) -> datetime.datetime | None:
        """timestamp.txt of a submitted or autograded folder, read like every submitted file: no link
        followed anywhere below the course folder, nothing blocking, at most 4 KB."""
        try:
            fd = self._open_folder(folder)
        except (OSError, files.UnsafeFile):
            return None
        try:
            text = files.read_file("timestamp.txt", 4096, dir_fd=fd).decode("utf-8").strip()
            return utils.parse_utc(text) if text else None
        except (OSError, files.UnsafeFile, ValueError):
            return None
        finally:
            os.close(fd)

    def _open_folder(self, folder: Path) -> int:
        root = self.course.root
        try:
            relative = folder.relative_to(root)
        except ValueError:
            root, relative = Path("/"), folder.relative_to("/")
        return files.open_folder(root, relative, str(folder.relative_to(root)))

    def _read_submission(self, student: str) -> files.Tree:
        """Every file of the submission, read once and bounded (see `grading.sandbox.files`); `UnsafeFile`
        at the first link, FIFO, device or oversized file: the whole submission is refused."""
        fd = self._open_folder(self.course.submitted(student, self.assignment))
        try:
            return files.read_tree(fd, list(self.course.coursedir.ignore))
        finally:
            os.close(fd)

    # ---- the run ----------------------------------------------------------------------------------------

    def _lock_cohort(self) -> int:
        """An exclusive lock on the cohort for this run (released when the process ends, even if killed)."""
        path = self.course.private / "corrigir.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise GradingBusy(
                f"outra correção já está rodando nesta turma (processo {holder}); espere ela terminar, ou "
                "interrompa-a, e rode o comando de novo (o que ela já corrigiu fica salvo)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        return fd

    async def run(self) -> Report:
        self.course.private.mkdir(mode=0o700, exist_ok=True)
        lock = self._lock_cohort()
        try:
            report = await self._run_unlocked()
            report.write_json(self.course.root / "relatorios" / f"correcao-{self.assignment}.json")
            return report
        finally:
            os.close(lock)

    async def _run_unlocked(self) -> Report:
        begin = time.monotonic()
        handler = logging.FileHandler(self.course.private / "grader.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.log.addHandler(handler)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="banco-de-notas")

        def open_gradebook() -> Gradebook:
            with Gradebook(self.course.db_url):  # what every nbgrader preprocessor does: 'default_course'
                pass
            return self.course.gradebook()

        gradebook = await self._db(open_gradebook)
        self.shared = SharedGradebook(gradebook)
        try:
            with fast_nbgrader(self.shared):
                return await self._run(begin, handler)
        finally:
            self.shared = None
            await self._db(gradebook.close)
            self.executor.shutdown(wait=True)
            self.log.removeHandler(handler)
            handler.close()

    async def _db(self, function, *args):
        """Run `function` in the gradebook's own thread: every gradebook read and write happens there, one
        at a time (single writer), while the event loop keeps the kernels busy."""
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, functools.partial(function, *args)
        )

    async def _run(self, begin: float, handler: logging.Handler) -> Report:
        students = self.submissions()
        await self._db(self._source_cells)
        starting = asyncio.create_task(self._start_pool()) if students else None  # overlaps the checks
        results: list[Result] = []
        todo = []
        try:
            for student in students:
                if await self._db(self.already_graded, student):
                    score, max_score, manual = await self._db(self._scores, student)
                    results.append(
                        Result(student, SKIPPED, score, max_score, ["já corrigida"], needs_manual=manual)
                    )
                else:
                    todo.append(student)
            for student in [s for s in (self.only or []) if s not in students]:
                note = f"não há entrega em {self.course.submitted(student, self.assignment)}"
                results.append(Result(student, ERROR, notes=[note]))
            level, warnings = "nenhum código executado", []
            if todo and starting is not None:
                await starting
                assert self.pool is not None
                self.pool.expected = len(todo) * len(self.notebooks)  # restarts, if any, start on demand
                self.pool.fill()
                assert self.zygote is not None and self.zygote.plan is not None
                plan = self.zygote.plan
                if self.isolated and not plan.full:  # fail closed: no learner code runs
                    raise isolation.IsolationUnavailable(isolation.unavailable_message(plan))
                level, warnings = self.zygote.level, list(plan.warnings)
                if self.zygote.preload_failures:
                    self.log.info("módulos não pré-carregados: %s", self.zygote.preload_failures)
                if not plan.isolated:
                    who = "root" if os.geteuid() == 0 else "o seu usuário"
                    print(
                        f"AVISO: correção SEM isolamento (--sem-isolamento): o código dos alunos roda como "
                        f"{who}, lê os seus arquivos e tem rede.",
                        file=sys.stderr,
                    )
                results += await self._grade_all(todo)
        finally:
            if starting is not None and not starting.done():
                starting.cancel()
                with contextlib.suppress(BaseException):
                    await starting
            await self._stop_pool()
        report = Report(
            self.assignment,
            results,
            time.monotonic() - begin,
            level,
            warnings,
            self.jobs,
            self.kernels,
            await self._db(self._without_submission, students),
            self.zygote.plan if self.zygote is not None else None,
        )
        return report

    def _without_submission(self, submitted: list[str]) -> list[str]:
        if self.only:
            return []
        with contextlib.suppress(Exception), self._gradebook() as gb:
            return sorted(s.id for s in gb.students if s.id not in submitted)
        return []

    async def _grade_all(self, todo: list[str]) -> list[Result]:
        # `jobs` notebooks execute at the same time; around them, up to `jobs` more submissions are being
        # prepared (copied, sanitized) or saved in the gradebook's thread, so the kernels never wait for that
        semaphore = asyncio.Semaphore(2 * self.jobs)
        self._running = asyncio.Semaphore(self.jobs)
        bar = tqdm(
            total=len(todo),
            desc=f"Corrigindo {self.assignment}",
            unit="entrega",
            file=sys.stderr,
            disable=not self.progress,
            bar_format=BAR_FORMAT,
            dynamic_ncols=True,
        )

        async def one(student: str) -> Result:
            async with semaphore:
                result = await self.grade(student)
            bar.update(1)
            return result

        try:
            return list(await asyncio.gather(*(one(s) for s in todo)))
        finally:
            bar.close()

    async def _start_pool(self) -> None:
        sources, tests = self._sources
        self.bindings, protected = execution.test_bindings(tests)
        self.preload = zygote.imported_modules(sources)
        uids: list[int] = []
        # root of a container that maps one uid only cannot switch uids: a user namespace then
        if os.geteuid() == 0 and self.isolated and isolation.can_become(isolation.UID_RANGE[0]):
            uids, self._uid_lock = isolation.reserve_uids(tempfile.gettempdir())
        options = {
            "limits": self.limits,
            "keep": tuple(isolation.safe_keep(isolation.python_paths(), self.course.secrets())),
            "secrets": tuple(self.course.secrets()),
        }
        if not self.isolated:
            wanted = isolation.Plan.none(**options)
        else:  # a reserved uid as root; otherwise (or if root cannot switch uids) a user namespace
            wanted = isolation.Plan(userns=not uids, **options)  # type: ignore[arg-type]
        if self.zygote is None:
            self.zygote = kernels.Zygote.launch(kernels.make_base(self.scratch))
        await self.zygote.start(
            wanted, self.preload, protected, uids[0] if uids else os.geteuid(), xmode=self.xmode
        )
        kernel_env = {**kernels.common_env(), "NBGRADER_EXECUTION": "autograde"}
        self.pool = kernels.KernelPool(self.zygote, kernel_env, uids[1:], size=2 * self.jobs)

    async def _stop_pool(self) -> None:
        if self.pool is not None:
            self.kernels = self.pool.started
            await self.pool.close()
        if self.zygote is not None:
            await self.zygote.close()
        if self._uid_lock is not None:
            self._uid_lock.close()
            self._uid_lock = None
        if self.zygote is not None:
            with contextlib.suppress(OSError):  # keep the zygote's log next to the grader's
                shutil.copyfile(self.zygote.log_path, self.course.private / "zygote.log")
            shutil.rmtree(self.zygote.base, ignore_errors=True)

    def _source_cells(self) -> tuple[list[str], list[str]]:
        """Sources of every code cell, and of the test and locked cells, from the gradebook."""
        every, tests = [], []
        with self._gradebook() as gb:
            for name in self.notebooks:
                notebook = gb.find_notebook(name, self.assignment)
                graded = {c.name for c in notebook.grade_cells if c.cell_type == "code"}
                solutions = {c.name for c in notebook.solution_cells}
                self.cells[name] = {
                    c.name: (c.source, c.locked, c.name in graded and c.name not in solutions)
                    for c in notebook.source_cells
                }
                for cell in notebook.source_cells:
                    if cell.cell_type != "code":
                        continue
                    every.append(cell.source)
                    if (cell.name in graded or cell.locked) and cell.name not in solutions:
                        tests.append(cell.source)
        self._sources = (every, tests)
        return every, tests

    # ---- one submission ---------------------------------------------------------------------------------

    def _resources(self, student: str, notebook: str) -> dict:
        return {
            "unique_key": notebook,
            "output_files_dir": f"{notebook}_files",
            "nbgrader": {
                "student": student,
                "assignment": self.assignment,
                "notebook": notebook,
                "db_url": self.course.db_url,
            },
        }

    def _stage(self, student: str, tree: files.Tree) -> Path:
        """The future autograded folder, built aside: the submission's files (already read, never the
        notebooks), then the source's files over them."""
        stage = self.course.private / "preparo" / self.assignment / student
        if stage.exists():
            shutil.rmtree(stage)
        stage.mkdir(parents=True)
        for folder in tree.folders:
            (stage / folder).mkdir(parents=True, exist_ok=True)
        for relative, content in tree.files.items():
            if fnmatch.fnmatch(os.path.basename(relative), "*.ipynb"):
                continue
            target = stage / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        ignore = self.course.coursedir.ignore + ["*.ipynb"]
        source = self.course.source(self.assignment)
        excluded = {str(source / x) for x in self.converter.exclude_overwriting.get(self.assignment, [])}
        for filename in utils.find_all_files(str(source), ignore):  # the instructor's own files
            if filename in excluded:
                continue
            target = stage / os.path.relpath(filename, source)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() or target.is_symlink():
                target.unlink()
            shutil.copy(filename, target)
        return stage

    def _sanitize(
        self, content: bytes, stage: Path, student: str, notebook: str, notes: list[str]
    ) -> nbformat.NotebookNode:
        name = f"{notebook}.ipynb"
        if not content:
            raise SubmissionProblem(f"{name} está vazio (0 bytes)")
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SubmissionProblem(f"{name} não é um notebook válido (não é texto UTF-8)") from exc
        recorded: list[Event] = []
        try:
            original = nbformat.reads(text, as_version=4)
            notes += self._edited_cells(original, notebook)
            resources = self._resources(student, notebook)
            resources["metadata"] = {"name": notebook, "path": str(stage)}
            recorded = nbgrader_api.track(resources)
            output, _ = self.sanitize.from_notebook_node(original, resources=resources)
        except json.JSONDecodeError as exc:
            raise SubmissionProblem(
                f"{name} não é um notebook válido (JSON quebrado na linha {exc.lineno}, coluna {exc.colno})"
            ) from exc
        except SchemaTooOldError as exc:
            problem = (
                _refused(name, recorded) or f"{name} usa metadados antigos do nbgrader (nbgrader update)"
            )
            raise SubmissionProblem(problem) from exc
        except SchemaTooNewError as exc:
            raise SubmissionProblem(f"{name} usa metadados de um nbgrader mais novo") from exc
        except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for a broken file
            cause = exc.__cause__ or exc
            if isinstance(cause, json.JSONDecodeError) or "JSON" in type(exc).__name__:
                raise SubmissionProblem(f"{name} não é um notebook válido (o arquivo não é JSON)") from exc
            problem = _refused(name, recorded) or (
                f"{name} não pôde ser lido como notebook ({type(exc).__name__}: {exc})"
            )
            raise SubmissionProblem(problem) from exc
        notes += _event_notes(recorded)
        nb = nbformat.reads(output, as_version=4)
        if not any(c.cell_type == "code" for c in nb.cells):
            notes.append(f"{name} não tem células de código")
        return nb

    def _edited_cells(self, nb: nbformat.NotebookNode, notebook: str) -> list[str]:
        """Locked cells the learner changed (beyond the hidden tests nbgrader removed) or deleted."""
        cells = self.cells.get(notebook, {})
        seen = set()
        notes = []
        for cell in nb.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id not in cells or grade_id in seen:
                continue
            seen.add(grade_id)
            source, locked, _ = cells[grade_id]
            if locked and _lines(cell.source) not in (
                _lines(source),
                _lines(self.delimiters.strip_hidden(source)),
            ):
                notes.append(f"a célula '{grade_id}' foi alterada pelo aluno e voltou à versão original")
        for grade_id, (_, _, graded) in sorted(cells.items()):
            if graded and grade_id not in seen:
                notes.append(f"a célula '{grade_id}' foi apagada: a questão fica para correção manual")
        return notes

    async def _acquire(self) -> kernels.SandboxKernel:
        assert self.pool is not None
        return await self.pool.acquire()

    async def _release(self, kernel: kernels.SandboxKernel) -> None:
        assert self.pool is not None
        self.pool.release(kernel)

    async def grade(self, student: str) -> Result:
        begin = time.monotonic()
        result = Result(student, OK)
        try:
            executed: dict[str, tuple[nbformat.NotebookNode, dict]] = {}
            zero: list[str] = []
            try:
                tree = await self._db(self._read_submission, student)
            except files.UnsafeFile as exc:
                result.notes.append(
                    f"entrega recusada: {exc}; só são aceitos arquivos comuns e pastas dentro da entrega, "
                    "nada mais dela foi lido e a nota é zero"
                )
                self.log.warning("%s: entrega recusada: %s", student, exc)
                tree, zero = files.Tree(), list(self.notebooks)
            self._stamps[student] = self._tree_timestamp(tree)
            stage = await self._db(self._stage, student, tree)
            expected = {f"{n}.ipynb" for n in self.notebooks}
            top = [name for name in tree.files if "/" not in name]
            extra = sorted(n for n in top if n.endswith(".ipynb") and n not in expected)
            for notebook in [n for n in self.notebooks if n not in zero]:
                content = tree.files.get(f"{notebook}.ipynb")
                if content is None:
                    hint = ""
                    if extra:
                        hint = f"; há {', '.join(extra)}: renomeie para {notebook}.ipynb e corrija de novo"
                    result.notes.append(f"{notebook}.ipynb não foi entregue{hint}")
                    zero.append(notebook)
                    continue
                try:
                    nb = await self._db(self._sanitize, content, stage, student, notebook, result.notes)
                except SubmissionProblem as exc:
                    result.notes.append(str(exc))
                    zero.append(notebook)
                    continue
                resources = self._resources(student, notebook)
                resources["metadata"] = {"name": notebook, "path": str(stage)}
                executor = execution.SandboxedExecute(parent=self.converter, config=self.converter.config)
                executor.output_limit = self.limits.output_kb * 1024
                executor.bindings = self.bindings

                async def acquire() -> kernels.SandboxKernel:
                    kernel = await self._acquire()
                    await kernel.provide(stage)
                    return kernel

                assert self._running is not None
                async with self._running:
                    nb, outcome = await executor.run(
                        nb, resources, acquire, self.limits.notebook_seconds, self._release
                    )
                result.notes += outcome.events
                if outcome.restored:
                    shown = ", ".join(sorted(set(outcome.restored))[:6])
                    result.notes.append(f"o guarda desfez alterações do ambiente: {shown}")
                    self.log.warning("%s: guarda restaurou %s", student, sorted(set(outcome.restored)))
                executed[notebook] = (nb, resources)
            if extra and not zero:
                result.notes.append(f"notebook(s) desconhecido(s) ignorado(s): {', '.join(extra)}")
            execution.raise_if_cancelled()  # a stopped run saves nothing half graded, whoever swallowed it
            await self._db(self._save, student, stage, executed, zero)
            totals, result.cells = await self._db(self._report_scores, student)
            result.score, result.max_score, result.needs_manual = totals
        except Exception as exc:  # noqa: BLE001 - one broken submission must not stop the cohort
            self.log.exception("erro ao corrigir %s", student)
            result.status = ERROR
            result.notes.append(f"erro do corretor: {type(exc).__name__}: {exc}")
        else:
            if result.notes:
                result.status = WARN
        result.seconds = time.monotonic() - begin
        return result

    def _save(self, student: str, stage: Path, executed: dict, zero: list[str]) -> None:
        """Gradebook rows and the autograded folder of one submission, together (single writer)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session use, harmless and noisy
            transaction = (
                self.shared.one_transaction() if self.shared is not None else contextlib.nullcontext()
            )
            with transaction:  # committed before the folder moves: a folder in autograded/ means saved
                outputs = self._save_rows(student, executed, zero)
        for notebook, output in outputs.items():
            (stage / f"{notebook}.ipynb").write_text(output, encoding="utf-8")
        permissions = int(str(self.converter.permissions), 8)
        for path in stage.rglob("*"):
            if path.is_file():
                path.chmod(permissions)
        dest = self.course.autograded(student, self.assignment)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(stage, dest)

    def _save_rows(self, student: str, executed: dict, zero: list[str]) -> dict[str, str]:
        with self._gradebook() as gb:
            if self.converter.create_student:
                try:
                    gb.find_student(student)
                except MissingEntry:
                    gb.update_or_create_student(student)
            else:
                gb.find_student(student)
            timestamp = self._stamps.pop(student, None)
            if timestamp:
                gb.update_or_create_submission(self.assignment, student, timestamp=timestamp)
            else:
                gb.update_or_create_submission(self.assignment, student)
            for notebook in zero:
                submission = gb.find_submission_notebook(notebook, self.assignment, student)
                for grade in submission.grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
                gb.db.commit()
        outputs = {}
        for notebook, (nb, resources) in executed.items():
            outputs[notebook], _ = self.post.from_notebook_node(nb, resources=resources)
        return outputs

    def _scores(self, student: str) -> tuple[float | None, float | None, bool]:
        with contextlib.suppress(Exception), self._gradebook() as gb:
            submission = gb.find_submission(self.assignment, student)
            return submission.score, submission.max_score, bool(submission.needs_manual_grade)
        return None, None, False

    def _report_scores(self, student: str) -> tuple[tuple[float | None, float | None, bool], list[dict]]:
        """The totals (as `_scores`) and the points of every graded cell of a saved submission, read from the
        gradebook with two queries instead of a lazy load per notebook, grade and cell."""
        with contextlib.suppress(Exception), self._gradebook() as gb:
            totals = (
                gb.db.query(
                    SubmittedAssignment.score,
                    SubmittedAssignment.max_score,
                    SubmittedAssignment.needs_manual_grade,
                )
                .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
                .filter(Assignment.name == self.assignment, SubmittedAssignment.student_id == student)
                .one()
            )
            cell_name = select(BaseCell.name).where(BaseCell.id == Grade.cell_id).scalar_subquery()
            rows = (
                gb.db.query(Notebook.name, cell_name, Grade.score, Grade.max_score, Grade.needs_manual_grade)
                .select_from(Grade)
                .join(SubmittedNotebook, SubmittedNotebook.id == Grade.notebook_id)
                .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
                .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
                .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
                .filter(Assignment.name == self.assignment, SubmittedAssignment.student_id == student)
                .all()
            )
            order = {name: index for index, name in enumerate(self.notebooks)}
            cells = []
            for notebook, name, score, max_score, manual in sorted(
                (row for row in rows if row[0] in order), key=lambda row: (order[row[0]], row[1])
            ):
                if manual:
                    status = "correcao_manual"
                elif score == max_score:
                    status = "certa"
                else:
                    status = "parcial" if score else "errada"
                cells.append(
                    {
                        "notebook": notebook,
                        "celula": name,
                        "pontos": score,
                        "maximo": max_score,
                        "situacao": status,
                    }
                )
            return (totals[0], totals[1], bool(totals[2])), cells
        return (None, None, False), []


def grade(course: coursedir.Course, assignment: str, **options) -> Report:
    """Run the grader for `assignment` (see `Grader`) and return its report."""
    grader = Grader(course, assignment, **options)

    return asyncio.run(_interruptible(grader.run()))


async def _interruptible(work: Coroutine[Any, Any, Report]) -> Report:
    """Await `work`; SIGTERM and SIGINT cancel it at an `await`, never in the middle of a step (a signal
    raised as an exception anywhere once made a running cell look like a dead kernel, and that submission
    was saved with the points it lost). Cancelled submissions are not saved; the run ends in
    KeyboardInterrupt, like Ctrl+C. A second signal does not interrupt the clean-up."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    stopped: list[int] = []

    def stop(number: int) -> None:
        if not stopped and task is not None:
            stopped.append(number)
            task.cancel()

    installed = {}
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGTERM, signal.SIGINT):
            installed[number] = signal.getsignal(number)
            loop.add_signal_handler(number, stop, number)
    try:
        return await work
    except asyncio.CancelledError:
        if stopped:
            raise KeyboardInterrupt from None
        raise
    finally:
        for number, previous in installed.items():
            loop.remove_signal_handler(number)
            signal.signal(number, previous)
