"""An nbgrader course folder as the grader sees it: configuration, paths and gradebook.

The configuration is loaded the way `nbgrader autograde` loads it when run inside the folder (Jupyter config
paths, then `nbgrader_config.py` in the folder), so `Execute.timeout`, `LimitOutput.max_lines`,
`IgnorePattern.pattern`, `CourseDirectory.ignore`, `Autograde.exclude_overwriting` and the late-submission
plugin apply to `automatiza corrigir` too.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

from automatiza import database
from automatiza.errors import SetupError, UsageError
from automatiza.grading.nbgrader_api import CourseDirectory, Gradebook, MissingEntry, NbGrader


class CourseError(SetupError):
    """The folder is not a usable nbgrader course; the message is pt-BR."""


class UnknownAssignment(UsageError, CourseError):
    """The assignment asked for is not in the course's gradebook (a usage error, not a setup one)."""


@dataclass
class Course:
    root: Path
    config: Config
    coursedir: CourseDirectory

    @property
    def db_url(self) -> str:
        # a plain postgresql:// URL gets the installed driver (psycopg 3); SQLite URLs are unchanged
        return database.normalize(self.coursedir.db_url)

    @property
    def course_id(self) -> str:
        return self.coursedir.course_id or "default_course"

    def gradebook(self) -> Gradebook:
        return Gradebook(self.db_url, self.course_id)

    def path(self, step: str, student: str, assignment: str) -> Path:
        return Path(self.coursedir.format_path(step, student, assignment))

    def submitted(self, student: str, assignment: str) -> Path:
        return self.path(self.coursedir.submitted_directory, student, assignment)

    def autograded(self, student: str, assignment: str) -> Path:
        return self.path(self.coursedir.autograded_directory, student, assignment)

    def feedback(self, student: str, assignment: str) -> Path:
        return self.path(self.coursedir.feedback_directory, student, assignment)

    def source(self, assignment: str) -> Path:
        return self.path(self.coursedir.source_directory, ".", assignment)

    @property
    def private(self) -> Path:
        """The grader's own working area inside the course folder (staging, logs)."""
        return self.root / ".automatiza"

    def sqlite_file(self) -> Path | None:
        return database.sqlite_path(self.db_url)

    def secrets(self) -> list[str]:
        """Folders that learner code must never read: the course, its sources, the gradebook's folder."""
        found = {os.path.realpath(self.root)}
        with contextlib.suppress(OSError):
            source = Path(self.coursedir.format_path(self.coursedir.source_directory, ".", ".")).resolve()
            found.add(str(source))
            # a course made by `turma criar` points at the repository's exercises: protect the whole checkout
            for folder in (source, *source.parents):
                if (folder / "curriculum" / "programa.yml").is_file():
                    found.add(str(folder))
                    break
        if (db := self.sqlite_file()) is not None:
            found.add(os.path.realpath(db))
        home = os.path.expanduser("~")
        if home and home != "/":
            found.add(os.path.realpath(home))
        return sorted(found)


def load(root: Path) -> Course:
    """Load the nbgrader configuration of the course at `root` (as `nbgrader` run from there would)."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise CourseError(f"a pasta da turma {root} não existe")
    markers = ("nbgrader_config.py", "gradebook.db", "submitted", "source")
    if not any((root / m).exists() for m in markers):
        raise CourseError(
            f"{root} não parece uma pasta de curso do nbgrader (não tem nbgrader_config.py, gradebook.db, "
            "submitted/ nem source/). Crie uma com: automatiza turma criar PASTA --alunos alunos.csv"
        )
    previous = os.getcwd()
    os.chdir(root)
    try:
        app = NbGrader()
        app.log.setLevel(logging.ERROR)
        app.initialize([], root=str(root))
        config = app.config
        coursedir = app.coursedir
    finally:
        os.chdir(previous)
    coursedir.root = str(root) if not config.CourseDirectory.get("root") else coursedir.root
    try:  # a gradebook on a server (PostgreSQL): a pt-BR error now rather than a traceback mid-run
        database.check(coursedir.db_url)
    except database.DatabaseError as exc:
        raise CourseError(f"banco de notas da turma: {exc}") from None
    return Course(Path(coursedir.root), config, coursedir)


def assignment_notebooks(course: Course, assignment: str) -> list[str]:
    """Notebook names (without .ipynb) of an assignment in the gradebook; CourseError if it is unknown."""
    with course.gradebook() as gb:
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            known = ", ".join(sorted(a.name for a in gb.assignments)) or "nenhuma"
            raise UnknownAssignment(
                f"a tarefa '{assignment}' não existe no banco de notas da turma (tarefas: {known}). "
                f"Gere-a com: nbgrader generate_assignment {assignment}"
            ) from None
        return sorted(nb.name for nb in found.notebooks)
