"""All of the grader's coupling to nbgrader, in one module a reviewer can audit on its own.

The rest of `automatiza.grading` imports nbgrader only from here. What this module provides:

- `check_version`: the nbgrader versions this code was written against (`SUPPORTED`, as pinned in
  ``requirements/constraints.txt`` and ``pyproject.toml``); importing the grader with another version raises
  `NbgraderVersionError` (a `SetupError`, pt-BR message) before any private module is touched;
- re-exports of the public API the grader uses (`Gradebook`, `MissingEntry`, `Autograde`, `Execute`,
  `utils`, `NbGraderAPI`, `CourseDirectory`, `NbGrader`, schema errors);
- `Delimiters`: the solution and hidden-test delimiters and stubs read from the course's configuration
  (`ClearSolutions.*`, `ClearHiddenTests.*`), with nbgrader's defaults;
- `Event` and the recording preprocessors (`RecordingDeduplicateIds`, `RecordingOverwriteCells`): what
  nbgrader did to a submission while sanitizing it, as typed events, instead of reading its log text; they
  are put in place through the supported, configurable list `Autograde.sanitize_preprocessors`;
- the monkeypatches that remain (`fast_nbgrader`, with `SharedGradebook`, `DeferredCommits`,
  `CachedJsonSchema`), each documented with the nbgrader internals it relies on, which `check_version` also
  checks are there.
"""

# ruff: noqa: E402 - nbgrader's submodules are imported after the version check, on purpose

from __future__ import annotations

import contextlib
import copy
import enum
import types
from collections.abc import Iterator
from dataclasses import dataclass, field

import jsonschema
import nbgrader
from nbformat import NotebookNode
from packaging.version import InvalidVersion, Version
from traitlets.config import Config
from traitlets.utils.importstring import import_item

from automatiza.errors import SetupError

SUPPORTED = (">=0.9.5", "<0.10")  # the range of pyproject.toml; requirements/constraints.txt pins 0.9.6
_LOWEST, _BELOW = Version("0.9.5"), Version("0.10")
INSTALL = (
    "pip install 'nbgrader>=0.9.5,<0.10' "
    "(no repositório do curso: pip install -c requirements/constraints.txt nbgrader)"
)


class NbgraderVersionError(SetupError):
    """The installed nbgrader is outside `SUPPORTED` (pt-BR message saying what to do)."""


def check_version(installed: str | None = None) -> None:
    """Raise `NbgraderVersionError` unless `installed` (default: the imported nbgrader's) is supported."""
    installed = installed if installed is not None else str(getattr(nbgrader, "__version__", "?"))
    try:
        ok = _LOWEST <= Version(installed) < _BELOW
    except InvalidVersion:
        ok = False
    if not ok:
        raise NbgraderVersionError(
            f"o corretor precisa do nbgrader {','.join(SUPPORTED)} (série 0.9, a partir da 0.9.5), mas o "
            f"instalado é o {installed}. O corretor usa partes internas do nbgrader que mudam entre versões, "
            "e as notas poderiam sair diferentes das do `nbgrader autograde`. Instale a versão suportada no "
            f"ambiente do curso: {INSTALL}"
        )


check_version()  # before importing nbgrader's submodules: another version may not even import the same way

from nbgrader import utils
from nbgrader.api import (
    Assignment,
    BaseCell,
    Grade,
    Gradebook,
    MissingEntry,
    Notebook,
    SubmittedAssignment,
    SubmittedNotebook,
)
from nbgrader.apps import NbGraderAPI
from nbgrader.apps.baseapp import NbGrader
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.nbgraderformat import SchemaTooNewError, SchemaTooOldError
from nbgrader.nbgraderformat import common as format_common
from nbgrader.preprocessors import (
    ClearHiddenTests,
    ClearSolutions,
    DeduplicateIds,
    Execute,
    OverwriteCells,
    latesubmissions,
    overwritecells,
    overwritekernelspec,
    saveautogrades,
)

__all__ = [
    "SUPPORTED",
    "Assignment",
    "Autograde",
    "BaseCell",
    "CourseDirectory",
    "Delimiters",
    "Event",
    "EventKind",
    "EventLog",
    "Execute",
    "Grade",
    "Gradebook",
    "MissingEntry",
    "NbGrader",
    "NbGraderAPI",
    "NbgraderVersionError",
    "Notebook",
    "SchemaTooNewError",
    "SchemaTooOldError",
    "SharedGradebook",
    "SubmittedAssignment",
    "SubmittedNotebook",
    "check_version",
    "events",
    "fast_nbgrader",
    "recording_config",
    "track",
    "utils",
]


def _check_internals() -> None:
    """The private names `fast_nbgrader` patches must exist where it patches them (part of the version
    check: a patch release that moved them would otherwise be silently ignored)."""
    missing = [
        f"{module.__name__}.{name}"
        for module, name in (
            (overwritecells, "Gradebook"),
            (overwritekernelspec, "Gradebook"),
            (saveautogrades, "Gradebook"),
            (latesubmissions, "Gradebook"),
            (format_common, "jsonschema"),
        )
        if not hasattr(module, name)
    ]
    if missing:
        raise NbgraderVersionError(
            f"o nbgrader {nbgrader.__version__} instalado não tem o que o corretor usa dele "
            f"({', '.join(missing)}). Reinstale a versão suportada ({','.join(SUPPORTED)}): {INSTALL}"
        )


_check_internals()


# ---- delimiters -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delimiters:
    """nbgrader's region markers and stubs, as a course configures them (`ClearSolutions`,
    `ClearHiddenTests`); a line *containing* a delimiter marks a region, as in nbgrader."""

    begin_solution: str
    end_solution: str
    begin_hidden: str
    end_hidden: str
    code_stub: dict[str, str] = field(default_factory=dict)
    text_stub: str = ""

    @classmethod
    def from_config(cls, config: Config | None = None) -> Delimiters:
        """From a course's traitlets configuration (`coursedir.Course.config`), with nbgrader's defaults."""
        config = Config(copy.deepcopy(config)) if config is not None else Config()
        solutions = ClearSolutions(config=config)  # also converts an old string `code_stub`, like nbgrader
        hidden = ClearHiddenTests(config=config)
        return cls(
            begin_solution=solutions.begin_solution_delimeter,
            end_solution=solutions.end_solution_delimeter,
            begin_hidden=hidden.begin_test_delimeter,
            end_hidden=hidden.end_test_delimeter,
            code_stub=dict(solutions.code_stub),
            text_stub=solutions.text_stub,
        )

    def hidden_lines(self, source: str) -> set[int]:
        """Line numbers (from 1) of the hidden tests regions, delimiter lines included."""
        lines, inside = set(), False
        for number, line in enumerate(source.splitlines(), start=1):
            if self.begin_hidden in line:
                inside = True
            elif self.end_hidden in line:
                inside = False
                lines.add(number)
            if inside:
                lines.add(number)
        return lines

    def strip_hidden(self, source: str) -> str:
        """The cell as the student version shows it: hidden tests regions removed (as ClearHiddenTests)."""
        kept, inside = [], False
        for line in source.splitlines():
            if self.begin_hidden in line:
                inside = True
            elif self.end_hidden in line:
                inside = False
            elif not inside:
                kept.append(line)
        return "\n".join(kept)

    def solution_text(self, source: str) -> str:
        """A source cell without its solution delimiter lines (the solution itself kept)."""
        return "\n".join(
            line
            for line in source.splitlines()
            if self.begin_solution not in line and self.end_solution not in line
        )


DEFAULT_DELIMITERS = Delimiters.from_config()


# ---- events ---------------------------------------------------------------------------------------------


class EventKind(enum.Enum):
    """What nbgrader did to a submitted cell while sanitizing it."""

    CHANGED = "changed"  # OverwriteCells.report_change: cell type, locked, points or checksum restored
    UNKNOWN = "unknown"  # OverwriteCells: the grade_id is not in the gradebook, the id was dropped
    DUPLICATE = "duplicate"  # DeduplicateIds: the id appears again earlier, that cell's metadata was dropped
    RESTORED = "restored"  # OverwriteCells.add_missing_grade_cells: a deleted grade cell was put back


@dataclass(frozen=True)
class Event:
    kind: EventKind
    cell: str
    detail: str = ""  # CHANGED: which attribute


EVENTS = "automatiza_events"  # the key of the resources dict where the recording preprocessors append


class EventLog(list):
    """The events of one notebook. nbconvert's exporter deep-copies the resources before the preprocessors
    run; this list survives the copy as itself, so whoever created it reads what they recorded, even when a
    later preprocessor raises."""

    def __copy__(self) -> EventLog:
        return self

    def __deepcopy__(self, memo: dict) -> EventLog:
        return self


def events(resources: dict) -> list[Event]:
    """The events recorded while a notebook went through the exporter with these resources."""
    return list(resources.get(EVENTS, []))


def track(resources: dict) -> EventLog:
    """The log the recording preprocessors will append to for these resources (see `EventLog`)."""
    log = resources.get(EVENTS)
    if not isinstance(log, EventLog):
        log = resources[EVENTS] = EventLog()
    return log


def _record(resources: dict, event: Event) -> None:
    track(resources).append(event)


def _graded_ids(nb: NotebookNode) -> list[str]:
    # item access: the cells nbgrader adds back have plain dicts inside (no attribute access)
    return [
        c["metadata"]["nbgrader"]["grade_id"] for c in nb.cells if utils.is_grade(c) or utils.is_solution(c)
    ]


class RecordingDeduplicateIds(DeduplicateIds):
    """nbgrader's DeduplicateIds, recording a DUPLICATE event for each cell whose metadata it drops."""

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict, cell_index: int
    ) -> tuple[NotebookNode, dict]:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if grade_id is not None and not cell.metadata.get("nbgrader"):
            _record(resources, Event(EventKind.DUPLICATE, str(grade_id)))
        return cell, resources


class RecordingOverwriteCells(OverwriteCells):
    """nbgrader's OverwriteCells, recording CHANGED, UNKNOWN and RESTORED events (same effect on cells)."""

    _resources: dict | None = None

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        self._resources = resources
        try:
            return super().preprocess(nb, resources)
        finally:
            self._resources = None

    def report_change(self, name: str, attr: str, old: object, new: object) -> None:
        super().report_change(name, attr, old, new)
        if self._resources is not None:
            _record(self._resources, Event(EventKind.CHANGED, str(name), attr))

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict, cell_index: int
    ) -> tuple[NotebookNode, dict]:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if grade_id is not None and "grade_id" not in cell.metadata.get("nbgrader", {}):
            _record(resources, Event(EventKind.UNKNOWN, str(grade_id)))
        return cell, resources

    def add_missing_grade_cells(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        before = set(_graded_ids(nb))
        nb, resources = super().add_missing_grade_cells(nb, resources)
        for grade_id in _graded_ids(nb):
            if grade_id not in before:
                _record(resources, Event(EventKind.RESTORED, grade_id))
        return nb, resources


_RECORDING = {DeduplicateIds: RecordingDeduplicateIds, OverwriteCells: RecordingOverwriteCells}


def recording_config(config: Config) -> Config:
    """Configuration for `Autograde.sanitize_preprocessors` with nbgrader's `DeduplicateIds` and
    `OverwriteCells` replaced by the recording subclasses (the course's own list, if it sets one, is kept
    otherwise); merge it into the converter's configuration."""
    autograde = config.get("Autograde", {})
    if "sanitize_preprocessors" in autograde:
        chosen = list(autograde["sanitize_preprocessors"])
    else:
        chosen = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    replaced = []
    for preprocessor in chosen:
        cls = preprocessor
        if isinstance(preprocessor, str):
            with contextlib.suppress(ImportError, AttributeError, ValueError):
                cls = import_item(preprocessor)
        replaced.append(_RECORDING.get(cls, preprocessor) if isinstance(cls, type) else preprocessor)
    return Config({"Autograde": {"sanitize_preprocessors": replaced}})


# ---- the remaining monkeypatches ------------------------------------------------------------------------


class DeferredCommits:
    """The gradebook session, with `commit()` turned into `flush()` while a submission is being saved, so a
    submission's rows are committed once, together (nbgrader commits after every cell).

    Depends on nbgrader's `Gradebook.db` being the session every `Gradebook` method commits through."""

    def __init__(self, session: object) -> None:
        self._session = session
        self.deferred = False

    def commit(self) -> None:
        if self.deferred:
            self._session.flush()
        else:
            self._session.commit()

    def __getattr__(self, name: str) -> object:
        return getattr(self._session, name)


class SharedGradebook:
    """One open gradebook for the run, lent to nbgrader's preprocessors instead of a new one each time.

    Depends on nbgrader internals (see `fast_nbgrader`): the preprocessors open the gradebook by calling the
    name `Gradebook` of their module and use it as a context manager; `Gradebook.db` is the SQLAlchemy
    session its methods commit through; `find_source_cell`/`find_graded_cell` are what `OverwriteCells` asks.

    nbgrader opens a new `Gradebook` (engine, schema check, compiled-query cache) in every preprocessor of
    every notebook; with one connection the queries are compiled once and there is a single writer. Closing
    is a no-op until the run ends. The source cells (what `generate_assignment` stored) do not change during
    a run, so the per-cell lookups of `OverwriteCells` are answered from memory after the first time.
    """

    def __init__(self, gradebook: Gradebook) -> None:
        self._gradebook = gradebook
        self._session = gradebook.db
        self.db = DeferredCommits(gradebook.db)
        # nbgrader's own Gradebook methods (update_or_create_submission...) commit through `gradebook.db`:
        # they must go through the deferral too, or a submission row is committed before its grades
        gradebook.db = self.db
        self._cells: dict[tuple, object] = {}

    def __call__(self, *args: object, **kwargs: object) -> SharedGradebook:
        return self

    def __enter__(self) -> SharedGradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self._session.rollback()

    def close(self) -> None:
        return None

    def _cached(self, kind: str, fields: tuple[str, ...], *key: str) -> object:
        if (kind, *key) not in self._cells:
            try:
                found = getattr(self._gradebook, kind)(*key)
                self._cells[(kind, *key)] = types.SimpleNamespace(**{f: getattr(found, f) for f in fields})
            except MissingEntry as exc:
                self._cells[(kind, *key)] = exc
        value = self._cells[(kind, *key)]
        if isinstance(value, MissingEntry):
            raise value
        return value

    def find_source_cell(self, name: str, notebook: str, assignment: str) -> object:
        return self._cached(
            "find_source_cell",
            ("name", "cell_type", "locked", "checksum", "source"),
            name,
            notebook,
            assignment,
        )

    def find_graded_cell(self, name: str, notebook: str, assignment: str) -> object:
        return self._cached("find_graded_cell", ("name", "max_score"), name, notebook, assignment)

    @contextlib.contextmanager
    def one_transaction(self):
        """Everything nbgrader writes inside is committed once at the end, or not at all."""
        self.db.deferred = True
        try:
            yield
        except BaseException:
            self._session.rollback()
            raise
        else:
            self._session.commit()
        finally:
            self.db.deferred = False

    def __getattr__(self, name: str) -> object:
        return getattr(self._gradebook, name)


class CachedJsonSchema:
    """`jsonschema.validate` with the validator built once per schema (nbgrader's CheckCellMetadata checks the
    schema itself and builds a validator for every cell). Same result: the best error is raised.

    Schemas are matched by value: every `MetadataValidator` (one per preprocessor run) reads its schema file
    into a new dict, so matching by identity rebuilt and re-checked the validator for every notebook.

    Depends on `nbgrader.nbgraderformat.common` calling `jsonschema.validate(instance, schema)` through its
    module-level name `jsonschema` (see `fast_nbgrader`)."""

    def __init__(self) -> None:
        self._validators: list[tuple[dict, object]] = []  # (private copy of the schema, its validator)

    def _validator(self, schema: dict) -> object:
        for known, validator in self._validators:
            if known == schema:
                return validator
        known = copy.deepcopy(schema)  # nobody else holds it: the match stays valid
        cls = jsonschema.validators.validator_for(known)
        cls.check_schema(known)
        validator = cls(known)
        self._validators.append((known, validator))
        return validator

    def validate(self, instance: object, schema: dict, *args: object, **kwargs: object) -> None:
        error = jsonschema.exceptions.best_match(self._validator(schema).iter_errors(instance))
        if error is not None:
            raise error


@contextlib.contextmanager
def fast_nbgrader(shared: SharedGradebook) -> Iterator[None]:
    """Give nbgrader's preprocessors the shared gradebook and the cached schema validator, then undo it.

    Private nbgrader internals this patches (checked by `check_version`, written against 0.9.x): the
    module-level name `Gradebook` that `overwritecells`, `overwritekernelspec`, `saveautogrades` and
    `latesubmissions` (modules of `nbgrader.preprocessors`) call to open the gradebook, and the module-level
    name `jsonschema` of `nbgrader.nbgraderformat.common`, whose `validate` `MetadataValidator.validate_cell`
    calls. nbgrader has no supported way to lend a preprocessor an open gradebook or a validator.
    """
    saved: list[tuple[object, str, object]] = []
    for module in (overwritecells, overwritekernelspec, saveautogrades, latesubmissions):
        saved.append((module, "Gradebook", module.Gradebook))
        module.Gradebook = shared
    saved.append((format_common, "jsonschema", format_common.jsonschema))
    format_common.jsonschema = CachedJsonSchema()
    try:
        yield
    finally:
        for module, name, value in reversed(saved):
            setattr(module, name, value)
