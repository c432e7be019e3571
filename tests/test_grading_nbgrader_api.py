"""`automatiza.grading.nbgrader_api`, the grader's only door to nbgrader: the version check, the delimiters
read from the course's configuration (feedback hides the hidden tests of a course with its own markers) and
the sanitize events recorded by preprocessor subclasses (turned into the summary's pt-BR notes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import nbgrader
import pytest
from correcao_apoio import PONTOS, TAREFA, by_student, grade, make_course, solved, student_version, submit
from traitlets.config import Config

from automatiza.errors import SetupError
from automatiza.grading import coursedir, feedback, grader, nbgrader_api
from automatiza.paths import put_python_tools_on_path
from automatiza.release import nbgrader_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("version", ["0.10.0", "0.8.5", "1.0.0", "não-é-versão"])
def test_other_nbgrader_versions_are_refused(monkeypatch, version):
    monkeypatch.setattr(nbgrader, "__version__", version)
    with pytest.raises(SetupError) as caught:
        nbgrader_api.check_version()
    message = str(caught.value)
    assert isinstance(caught.value, nbgrader_api.NbgraderVersionError)
    assert f"o instalado é o {version}" in message
    assert ">=0.9.5,<0.10" in message and "pip install" in message


def test_supported_versions_pass(monkeypatch):
    for version in ("0.9.5", "0.9.6", "0.9.9"):
        monkeypatch.setattr(nbgrader, "__version__", version)
        nbgrader_api.check_version()


def test_importing_the_grader_with_another_version_fails_with_setup_error():
    code = (
        "import nbgrader\n"
        "nbgrader.__version__ = '0.10.1'\n"
        "from automatiza.errors import SetupError\n"
        "try:\n"
        "    import automatiza.grading.grader\n"
        "except SetupError as exc:\n"
        "    print(type(exc).__name__, exc.exit_code, exc)\n"
        "    raise SystemExit(7)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 7, done.stderr
    assert done.stdout.startswith("NbgraderVersionError 3 ")
    assert "0.10.1" in done.stdout


def test_only_nbgrader_api_imports_nbgrader():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "src" / "automatiza" / "grading").rglob("*.py"))
        if path.name != "nbgrader_api.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.lstrip().startswith(("from nbgrader", "import nbgrader"))
    ]
    assert offenders == []


def test_delimiters_come_from_the_configuration_with_nbgrader_defaults():
    default = nbgrader_api.Delimiters.from_config(Config())
    assert (default.begin_hidden, default.end_hidden) == ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    assert (default.begin_solution, default.end_solution) == ("BEGIN SOLUTION", "END SOLUTION")
    config = Config()
    config.ClearHiddenTests.begin_test_delimeter = "INÍCIO OCULTO"
    config.ClearHiddenTests.end_test_delimeter = "FIM OCULTO"
    config.ClearSolutions.begin_solution_delimeter = "INÍCIO DA SOLUÇÃO"
    config.ClearSolutions.end_solution_delimeter = "FIM DA SOLUÇÃO"
    config.ClearSolutions.code_stub = "# SUA RESPOSTA AQUI"  # old form: a string, nbgrader makes it a dict
    custom = nbgrader_api.Delimiters.from_config(config)
    assert custom.code_stub == {"python": "# SUA RESPOSTA AQUI"}
    assert config.ClearSolutions.code_stub == "# SUA RESPOSTA AQUI", "a configuração do curso não muda"
    source = "visivel()\n# INÍCIO OCULTO\nsegredo()\n# FIM OCULTO\nfim()"
    assert custom.hidden_lines(source) == {2, 3, 4}
    assert custom.strip_hidden(source) == "visivel()\nfim()"
    assert default.hidden_lines(source) == set()
    assert custom.solution_text("# INÍCIO DA SOLUÇÃO\nx = 1\n# FIM DA SOLUÇÃO") == "x = 1"


def test_recording_preprocessors_replace_nbgraders_in_the_configured_list():
    config = nbgrader_api.recording_config(Config())
    chosen = config.Autograde.sanitize_preprocessors
    assert nbgrader_api.RecordingOverwriteCells in chosen and nbgrader_api.RecordingDeduplicateIds in chosen
    assert len(chosen) == 5
    own = Config()
    own.Autograde.sanitize_preprocessors = ["nbgrader.preprocessors.OverwriteCells"]
    assert nbgrader_api.recording_config(own).Autograde.sanitize_preprocessors == [
        nbgrader_api.RecordingOverwriteCells
    ]


# ---- with a real course ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return make_course(tmp_path_factory.mktemp("curso-api"))


def _cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _sanitize(root: Path, nb: nbformat.NotebookNode, **config: object) -> tuple[list[str], list]:
    loaded = coursedir.load(root)
    for key, value in config.items():
        section, name = key.split("__")
        loaded.config[section][name] = value
    worker = grader.Grader(loaded, TAREFA, progress=False)
    worker._source_cells()  # what `run()` loads first: the gradebook's cells, to tell edited ones
    notes: list[str] = []
    stage = root / ".automatiza" / "stage-test"
    stage.mkdir(parents=True, exist_ok=True)
    out = worker._sanitize(nbformat.writes(nb).encode(), stage, "aluno", TAREFA, notes)
    return notes, out.cells


@pytest.mark.lento
def test_unknown_cell_id_becomes_a_pt_br_note(course):
    nb = solved(course)
    meta = {"grade": False, "solution": False, "locked": False, "grade_id": "minha", "schema_version": 3}
    nb.cells.append(nbformat.v4.new_code_cell("print('extra')", metadata={"nbgrader": meta}))
    notes, cells = _sanitize(course, nb)
    assert notes == ["a célula 'minha' não existe no banco de notas e foi ignorada"]
    assert "grade_id" not in cells[-1].metadata.nbgrader


@pytest.mark.lento
def test_refused_notebooks_are_explained_by_the_events(course):
    """What nbgrader's validation then refuses (as `nbgrader autograde` would): a cell copied and pasted in
    Jupyter keeps its id (DeduplicateIds empties the first copy's metadata); an answer cell whose id was
    changed loses it (OverwriteCells). The message names the cells."""
    nb = solved(course)
    copy = nbformat.from_dict(_cell(nb, "q1-resposta"))
    copy.id = "copia-da-q1"
    nb.cells.insert(1, copy)
    with pytest.raises(grader.SubmissionProblem) as caught:
        _sanitize(course, nb)
    assert "a mesma célula aparece mais de uma vez ('q1-resposta')" in str(caught.value)
    nb = solved(course)
    _cell(nb, "q2-resposta").metadata.nbgrader["grade_id"] = "q2-inventada"
    with pytest.raises(grader.SubmissionProblem) as caught:
        _sanitize(course, nb)
    assert "identificação do nbgrader que não existe nesta tarefa ('q2-inventada')" in str(caught.value)


@pytest.mark.lento
def test_changed_cells_are_events_but_the_summary_speaks_of_the_learners_edit(course):
    nb = student_version(course)
    _cell(nb, "q2-testes").source = "pass"
    _cell(nb, "q3-testes").metadata.nbgrader["points"] = 99.0
    worker = grader.Grader(coursedir.load(course), TAREFA, progress=False)
    resources = worker._resources("aluno", TAREFA)
    _, resources = worker.sanitize.from_notebook_node(nbformat.from_dict(nb), resources=resources)
    changed = {(e.cell, e.detail) for e in nbgrader_api.events(resources) if e.kind.value == "changed"}
    assert ("q2-testes", "checksum") in changed and ("q3-testes", "points") in changed
    notes, cells = _sanitize(course, nb)
    assert notes == ["a célula 'q2-testes' foi alterada pelo aluno e voltou à versão original"]
    restored = _cell(nbformat.v4.new_notebook(cells=cells), "q3-testes")
    assert restored.metadata.nbgrader["points"] == PONTOS["q3-testes"]


@pytest.mark.lento
def test_deleted_grade_cell_put_back_when_the_course_asks(course):
    nb = solved(course)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "q3-testes"]
    notes, cells = _sanitize(course, nb, OverwriteCells__add_missing_cells=True)
    assert "a célula 'q3-testes' foi apagada e foi recolocada" in notes
    assert any(c.metadata.get("nbgrader", {}).get("grade_id") == "q3-testes" for c in cells)


# ---- a course with its own hidden-test delimiters ---------------------------------------------------------

BEGIN, END = "### INICIO DOS TESTES SECRETOS", "### FIM DOS TESTES SECRETOS"


def _course_with_own_delimiters(root: Path) -> Path:
    """The test course, its hidden tests marked with the course's own delimiters (set in nbgrader_config)."""
    make_course(root)
    source = root / "source" / TAREFA / f"{TAREFA}.ipynb"
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        cell.source = cell.source.replace("### BEGIN HIDDEN TESTS", BEGIN).replace(
            "### END HIDDEN TESTS", END
        )
    nbformat.write(nb, source)
    with (root / "nbgrader_config.py").open("a", encoding="utf-8") as file:
        file.write(f"c.ClearHiddenTests.begin_test_delimeter = {BEGIN!r}\n")
        file.write(f"c.ClearHiddenTests.end_test_delimeter = {END!r}\n")
    config = nbgrader_config(root)
    config.CourseDirectory.course_id = "curso-teste"
    config.ClearHiddenTests.begin_test_delimeter = BEGIN
    config.ClearHiddenTests.end_test_delimeter = END
    put_python_tools_on_path()
    result = nbgrader_api.NbGraderAPI(config=config).generate_assignment(TAREFA, force=True, create=False)
    assert result["success"], result.get("error") or result.get("log")
    return root


@pytest.mark.lento
def test_feedback_hides_tests_marked_with_the_courses_own_delimiters(tmp_path):
    root = _course_with_own_delimiters(tmp_path / "curso")
    released = student_version(root)
    assert BEGIN not in nbformat.writes(released), "o nbgrader deveria ter tirado os testes ocultos"
    submit(root, "parcial", solved(root, q2_resposta="def dobro(x):\n    return x + 2"))
    submit(root, "intocada", released)
    report = grade(root)
    results = by_student(report)
    assert results["parcial"].score == 4 and results["intocada"].score == 0
    for result in results.values():  # untouched test cells are not "edited" for this course either
        assert not any("foi alterada" in n for n in result.notes), result.notes
    written = feedback.generate(coursedir.load(root), TAREFA)
    page = next(p for p in written if p.parts[-3] == "parcial").read_text(encoding="utf-8")
    assert "teste oculto" in page and "dobro (casos ocultos) com a entrada 0" in page
    source = nbformat.read(root / "source" / TAREFA / f"{TAREFA}.ipynb", as_version=4)
    secret = set()
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            if BEGIN in line:
                inside = True
            elif END in line:
                inside = False
            elif inside and line.strip():
                secret.add(line.strip())
    assert secret
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert "SECRETOS" not in text
        for line in secret:
            assert line not in text and line.replace("'", "&#x27;") not in text, f"{path}: vazou {line}"
