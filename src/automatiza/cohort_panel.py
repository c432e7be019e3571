"""`automatiza painel`: the instructor's view of a cohort, from the gradebook and the graded notebooks.

Per learner: what was submitted and the score; per question: the share of submitters who lost points and
the most common failing check (the friendly message the learner saw, never the hidden test's code); per
institution: learners, submissions and mean score. Written as one HTML page and CSV files in
`<turma>/painel/` (inside the cohort folder: personal data stays out of the repository).

The graded notebooks hold outputs of learners' code: they are read without following links, only up to a
bound, and every text is escaped before it reaches the page.
"""

from __future__ import annotations

import csv
import html
import json
import math
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Assignment, BaseCell, Grade, Notebook, SubmittedAssignment, SubmittedNotebook
from sqlalchemy import select

from automatiza.grading import cohort, coursedir

MAX_NOTEBOOK_BYTES = 20_000_000
MAX_MESSAGE_CHARS = 300
NO_MESSAGE = "(falhou sem mensagem)"
LEARNER_COLUMNS = ("id", "nome", "instituicao", "entregues", "tarefas", "nota", "maximo", "percentual")
QUESTION_COLUMNS = (
    "tarefa",
    "questao",
    "corrigidas",
    "perderam_pontos",
    "parcela_que_perdeu",
    "falha_mais_comum",
)
INSTITUTION_COLUMNS = ("instituicao", "pessoas", "entregues", "tarefas", "percentual_medio")


@dataclass
class Table:
    """Rows (dicts) under named columns: what the page and the CSV files show, in order."""

    columns: tuple[str, ...]
    rows: list[dict] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.rows

    def find(self, column: str, value) -> dict:
        """The first row whose `column` equals `value` (KeyError if none)."""
        for row in self.rows:
            if row[column] == value:
                return row
        raise KeyError(value)


@dataclass
class QuestionStats:
    assignment: str
    question: str
    max_score: float
    graded: int = 0
    lost: int = 0
    messages: Counter = field(default_factory=Counter)

    @property
    def common_failure(self) -> str:
        return self.messages.most_common(1)[0][0] if self.messages else ""


def _read_notebook(path: Path) -> dict | None:
    """A graded notebook's JSON, opened without following links and read up to a bound; None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        data = handle.read(MAX_NOTEBOOK_BYTES + 1)
    if len(data) > MAX_NOTEBOOK_BYTES:
        return None
    try:
        nb = json.loads(data)
    except ValueError:
        return None
    return nb if isinstance(nb, dict) and isinstance(nb.get("cells"), list) else None


def failure_messages(nb: dict) -> dict[str, str]:
    """grade_id -> the first line of the error a graded cell raised (its friendly message)."""
    found = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        if not isinstance(meta, dict) or not meta.get("grade"):
            continue
        for output in cell.get("outputs", []) or []:
            if isinstance(output, dict) and output.get("output_type") == "error":
                text = str(output.get("evalue") or "").strip().splitlines()
                found[str(meta.get("grade_id"))] = text[0][:MAX_MESSAGE_CHARS] if text else NO_MESSAGE
                break
    return found


def _submitted(gb, assignment: str) -> dict[str, tuple[float, dict[str, list[tuple[str, float, float]]]]]:
    """student id -> (score, notebook name -> [(grade name, score, max score)]) of every submission of
    `assignment`, read with two queries instead of a lazy load per submission, notebook and grade."""
    found: dict[str, tuple[float, dict]] = {
        student: (score, {})
        for student, score in gb.db.query(SubmittedAssignment.student_id, SubmittedAssignment.score)
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        .filter(Assignment.name == assignment)
    }
    cell_name = select(BaseCell.name).where(BaseCell.id == Grade.cell_id).scalar_subquery()
    grades = (
        gb.db.query(SubmittedAssignment.student_id, Notebook.name, cell_name, Grade.score, Grade.max_score)
        .select_from(Grade)
        .join(SubmittedNotebook, SubmittedNotebook.id == Grade.notebook_id)
        .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
        .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        .filter(Assignment.name == assignment)
    )
    for student, notebook, name, score, max_score in grades:
        if student in found:
            found[student][1].setdefault(notebook, []).append((name, score, max_score))
    return found


def collect(course: coursedir.Course) -> tuple[list[dict], Table]:
    """(one row per learner and assignment, one row per graded question) from the gradebook."""
    roster = cohort.roster(course.root)
    rows, questions = [], {}
    with course.gradebook() as gb:
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            for notebook in assignment.notebooks:
                for cell in notebook.grade_cells:
                    key = (assignment.name, cell.name)
                    questions[key] = QuestionStats(assignment.name, cell.name, cell.max_score)
            known = {s.id: s for s in gb.students}
            submitted = _submitted(gb, assignment.name)
            for student_id in sorted(set(known) | set(roster)):  # the roster counts even before a login
                info, student = roster.get(student_id), known.get(student_id)
                name = " ".join(filter(None, [student.first_name, student.last_name])) if student else ""
                row = {
                    "id": student_id,
                    "nome": info.nome if info else name,
                    "instituicao": (info.instituicao if info else "") or "(sem instituição)",
                    "tarefa": assignment.name,
                    "entregue": False,
                    "nota": None,
                    "maximo": assignment.max_score,
                }
                if student_id not in submitted:
                    rows.append(row)
                    continue
                score, notebooks = submitted[student_id]
                row.update(entregue=True, nota=score)
                rows.append(row)
                for notebook_name, grades in notebooks.items():
                    graded = _read_notebook(
                        course.autograded(student_id, assignment.name) / f"{notebook_name}.ipynb"
                    )
                    messages = failure_messages(graded) if graded else {}
                    for grade_name, grade_score, grade_max in grades:
                        stats = questions.get((assignment.name, grade_name))
                        if stats is None:  # a task cell's grade: not a question of the panel
                            continue
                        stats.graded += 1
                        if grade_score < grade_max:
                            stats.lost += 1
                            stats.messages[messages.get(grade_name, NO_MESSAGE)] += 1
    per_question = Table(
        QUESTION_COLUMNS,
        [
            {
                "tarefa": q.assignment,
                "questao": q.question,
                "corrigidas": q.graded,
                "perderam_pontos": q.lost,
                "parcela_que_perdeu": round(q.lost / q.graded, 3) if q.graded else None,
                "falha_mais_comum": q.common_failure,
            }
            for q in questions.values()
        ],
    )
    return rows, per_question


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _ratio(part: float, whole: float) -> float | None:
    """100 * part / whole rounded to one decimal; None (an empty cell) when it has no value."""
    try:
        value = 100 * part / whole
    except ZeroDivisionError:
        value = math.copysign(math.inf, part) if part else math.nan
    return None if math.isnan(value) else _round1(value)


def _round1(value: float) -> float:
    """One decimal, rounded half to even on the scaled value (as the panel always rounded)."""
    return value if math.isinf(value) else round(value * 10) / 10


def summaries(learners: list[dict]) -> tuple[Table, Table]:
    """(per learner progress, per institution summary)."""
    groups: dict[tuple, dict] = {}
    for row in learners:
        key = (row["id"], row["nome"], row["instituicao"])
        group = groups.setdefault(key, {"entregues": 0, "tarefas": 0, "nota": 0.0, "maximo": 0.0})
        group["entregues"] += int(bool(row["entregue"]))
        group["tarefas"] += 1
        group["nota"] += 0.0 if _missing(row["nota"]) else float(row["nota"])
        group["maximo"] += 0.0 if _missing(row["maximo"]) else float(row["maximo"])
    per_learner = [
        {
            "id": id_,
            "nome": nome,
            "instituicao": inst,
            **group,
            "percentual": _ratio(group["nota"], group["maximo"]),
        }
        for (id_, nome, inst), group in groups.items()
    ]
    # lowest percent first, learners without one last, then by id (stable)
    per_learner.sort(key=lambda r: r["id"])
    per_learner.sort(key=lambda r: (r["percentual"] is None, r["percentual"] or 0.0))
    institutions: dict[str, dict] = {}
    for row in per_learner:
        group = institutions.setdefault(
            row["instituicao"], {"pessoas": 0, "entregues": 0, "tarefas": 0, "percentuais": []}
        )
        group["pessoas"] += 1
        group["entregues"] += row["entregues"]
        group["tarefas"] += row["tarefas"]
        if row["percentual"] is not None:
            group["percentuais"].append(row["percentual"])
    per_institution = [
        {
            "instituicao": name,
            "pessoas": group["pessoas"],
            "entregues": group["entregues"],
            "tarefas": group["tarefas"],
            "percentual_medio": (
                _round1(math.fsum(group["percentuais"]) / len(group["percentuais"]))
                if group["percentuais"]
                else None
            ),
        }
        for name, group in sorted(institutions.items())
    ]
    return Table(LEARNER_COLUMNS, per_learner), Table(INSTITUTION_COLUMNS, per_institution)


_DECIMAL = re.compile(r"^\s*[+-]?[0-9]+\.[0-9]*$")


def _html_column(values: list) -> list[str]:
    """Cells of one column as text: floats share one number of decimals (as pandas shows them)."""
    numbers = [v for v in values if not _missing(v)]
    if not numbers or not all(isinstance(v, float) for v in numbers):
        return ["" if _missing(v) else str(v) for v in values]
    text = [None if _missing(v) else f"{v:.6f}" for v in values]
    while True:
        present = [t for t in text if t is not None and _DECIMAL.match(t)]
        if not present or not all(t.endswith("0") for t in present):
            break
        text = [t[:-1] if t is not None and _DECIMAL.match(t) else t for t in text]
    return ["" if t is None else t + "0" if t.endswith(".") else t for t in text]


def _table(table: Table, caption: str) -> str:
    """An accessible HTML table; every cell (learner outputs included) goes through `html.escape`."""
    if table.empty:
        return f"<p>{html.escape(caption)}: nada ainda.</p>"
    columns = [_html_column([row[name] for row in table.rows]) for name in table.columns]
    lines = [
        f'<table class="dataframe"><caption>{html.escape(caption)}</caption>',
        "  <thead>",
        '    <tr style="text-align: right;">',
        *(f"      <th>{html.escape(name)}</th>" for name in table.columns),
        "    </tr>",
        "  </thead>",
        "  <tbody>",
    ]
    for index in range(len(table.rows)):
        lines.append("    <tr>")
        lines.extend(f"      <td>{html.escape(column[index])}</td>" for column in columns)
        lines.append("    </tr>")
    lines += ["  </tbody>", "</table>"]
    return "\n".join(lines)


def _csv_cell(value) -> str:
    if _missing(value):
        return ""
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    return str(value)


def _write_csv(path: Path, table: Table) -> None:
    """`;` as separator and the decimal comma, in UTF-8 with a BOM (how spreadsheets here open it)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(table.columns)
        writer.writerows([_csv_cell(row[name]) for name in table.columns] for row in table.rows)


def page(title: str, per_learner: Table, per_question: Table, per_institution: Table) -> str:
    css = (
        "body{font-family:sans-serif;margin:2rem;max-width:70rem}"
        "table{border-collapse:collapse;margin:1rem 0}"
        "th,td{border-bottom:1px solid #ccc;padding:.3rem .6rem;text-align:left}"
        "caption{font-weight:bold;text-align:left}"
    )
    return (
        f"<!doctype html><html lang='pt-BR'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{css}</style></head><body><main><h1>{html.escape(title)}</h1>"
        "<p>Gerado do banco de notas do nbgrader depois de cada correção. Tem dados pessoais: "
        "não compartilhe fora da equipe do curso.</p>"
        + _table(per_institution, "Por instituição")
        + _table(per_question, "Por questão: quem perdeu pontos e a falha mais comum")
        + _table(per_learner, "Por pessoa (menor percentual primeiro)")
        + "</main></body></html>"
    )


def write(course: coursedir.Course, output: Path | None = None) -> dict[str, Path]:
    """Regenerate the panel of `course` (HTML and CSVs) in `output` (default: <turma>/painel)."""
    output = output or course.root / "painel"
    output.mkdir(parents=True, exist_ok=True, mode=0o700)
    learners, per_question = collect(course)
    per_learner, per_institution = summaries(learners)
    files = {
        "html": output / "painel.html",
        "pessoas": output / "pessoas.csv",
        "questoes": output / "questoes.csv",
        "instituicoes": output / "instituicoes.csv",
    }
    files["html"].write_text(
        page("Painel da turma", per_learner, per_question, per_institution), encoding="utf-8"
    )
    for key, table in (
        ("pessoas", per_learner),
        ("questoes", per_question),
        ("instituicoes", per_institution),
    ):
        _write_csv(files[key], table)
    return files
