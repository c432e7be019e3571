"""Everything that couples the grader to nbgrader's internals, in one place a reviewer can audit.

The rest of `automatiza.grading` talks to nbgrader only through this module.
"""

from __future__ import annotations

import contextlib
import logging
import types

import jsonschema
from nbgrader.api import Gradebook, MissingEntry

NBGRADER_WARNINGS = {  # nbgrader's log messages during sanitize -> pt-BR notes for the summary
    "has changed!": "a célula {cell} foi alterada pelo aluno e voltou à versão do banco de notas",
    "does not exist in the database": "a célula {cell} não existe no banco de notas e foi ignorada",
    "exists multiple times": "a célula {cell} aparece mais de uma vez; só a última conta",
    "Missing grade cell": "a célula {cell} foi apagada e foi recolocada",
}


def strip_hidden(source: str) -> str:
    """The cell as the student version shows it: without the hidden tests region (like ClearHiddenTests)."""
    kept, inside = [], False
    for line in source.splitlines():
        if "### BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "### END HIDDEN TESTS" in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


class DeferredCommits:
    """The gradebook session, with `commit()` turned into `flush()` while a submission is being saved, so a
    submission's rows are committed once, together (nbgrader commits after every cell)."""

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
    schema itself and builds a validator for every cell). Same result: the best error is raised."""

    def __init__(self) -> None:
        self._validators: dict[int, tuple[dict, object]] = {}

    def validate(self, instance: object, schema: dict, *args: object, **kwargs: object) -> None:
        entry = self._validators.get(id(schema))
        if entry is None or entry[0] is not schema:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            entry = (schema, cls(schema))
            self._validators[id(schema)] = entry
        error = jsonschema.exceptions.best_match(entry[1].iter_errors(instance))
        if error is not None:
            raise error


@contextlib.contextmanager
def fast_nbgrader(shared: SharedGradebook):
    """Give nbgrader's preprocessors the shared gradebook and the cached schema validator, then undo it."""
    from nbgrader.nbgraderformat import common
    from nbgrader.preprocessors import latesubmissions, overwritecells, overwritekernelspec, saveautogrades

    saved = []
    for module in (overwritecells, overwritekernelspec, saveautogrades, latesubmissions):
        saved.append((module, "Gradebook", module.Gradebook))
        module.Gradebook = shared
    saved.append((common, "jsonschema", common.jsonschema))
    common.jsonschema = CachedJsonSchema()
    try:
        yield
    finally:
        for module, name, value in reversed(saved):
            setattr(module, name, value)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _translate(messages: list[str]) -> list[str]:
    notes = []
    for message in messages:
        for key, template in NBGRADER_WARNINGS.items():
            if key in message:
                words = [w.strip("'\":,") for w in message.split()]
                cell = next((w for w in words if "-" in w or w.startswith("q")), "?")
                if "Cell '" in message or "Cell with id '" in message or "cell " in message.lower():
                    for marker in ("Cell with id '", "Cell '", "for cell ", "grade cell "):
                        if marker in message:
                            cell = message.split(marker, 1)[1].split("'")[0].split()[0]
                            break
                note = template.format(cell=f"'{cell}'")
                if note not in notes:
                    notes.append(note)
    return notes
