"""`automatiza painel`: the instructor's view of a cohort, from the gradebook and the graded notebooks.

Per learner: what was submitted and the score; per question: the share of submitters who lost points and
the most common failing check (the friendly message the learner saw, never the hidden test's code); per
institution: learners, submissions and mean score. Written as one HTML page and CSV files in
`<turma>/painel/` (inside the cohort folder: personal data stays out of the repository).

The graded notebooks hold outputs of learners' code: they are read without following links, only up to a
bound, and every text is escaped before it reaches the page.
"""

from __future__ import annotations

import html
import json
import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from nbgrader.api import MissingEntry

from automatiza.grading import cohort, coursedir

MAX_NOTEBOOK_BYTES = 20_000_000
MAX_MESSAGE_CHARS = 300
NO_MESSAGE = "(falhou sem mensagem)"


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


def collect(course: coursedir.Course) -> tuple[pd.DataFrame, pd.DataFrame]:
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
                try:
                    submission = gb.find_submission(assignment.name, student_id)
                except MissingEntry:
                    rows.append(row)
                    continue
                row.update(entregue=True, nota=submission.score)
                rows.append(row)
                for nb_sub in submission.notebooks:
                    graded = _read_notebook(
                        course.autograded(student_id, assignment.name) / f"{nb_sub.name}.ipynb"
                    )
                    messages = failure_messages(graded) if graded else {}
                    for grade in nb_sub.grades:
                        stats = questions[(assignment.name, grade.name)]
                        stats.graded += 1
                        if grade.score < grade.max_score:
                            stats.lost += 1
                            stats.messages[messages.get(grade.name, NO_MESSAGE)] += 1
    learners = pd.DataFrame(rows)
    per_question = pd.DataFrame(
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
        ]
    )
    return learners, per_question


def summaries(learners: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per learner progress, per institution summary)."""
    if learners.empty:
        empty = pd.DataFrame()
        return empty, empty
    per_learner = (
        learners.groupby(["id", "nome", "instituicao"], as_index=False)
        .agg(
            entregues=("entregue", "sum"),
            tarefas=("tarefa", "count"),
            nota=("nota", "sum"),
            maximo=("maximo", "sum"),
        )
        .assign(percentual=lambda t: (100 * t["nota"] / t["maximo"]).round(1))
        .sort_values(["percentual", "id"])
    )
    per_institution = (
        per_learner.groupby("instituicao", as_index=False)
        .agg(
            pessoas=("id", "count"),
            entregues=("entregues", "sum"),
            tarefas=("tarefas", "sum"),
            percentual_medio=("percentual", "mean"),
        )
        .assign(percentual_medio=lambda t: t["percentual_medio"].round(1))
    )
    return per_learner, per_institution


def _table(frame: pd.DataFrame, caption: str) -> str:
    """An accessible HTML table; `to_html` escapes every cell (learner outputs included)."""
    if frame.empty:
        return f"<p>{html.escape(caption)}: nada ainda.</p>"
    body = frame.to_html(index=False, escape=True, border=0, na_rep="")
    opening = body.index(">") + 1
    return f"{body[:opening]}<caption>{html.escape(caption)}</caption>{body[opening:]}"


def page(
    title: str, per_learner: pd.DataFrame, per_question: pd.DataFrame, per_institution: pd.DataFrame
) -> str:
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
    for key, frame in (
        ("pessoas", per_learner),
        ("questoes", per_question),
        ("instituicoes", per_institution),
    ):
        frame.to_csv(files[key], sep=";", decimal=",", index=False, encoding="utf-8-sig")
    return files
