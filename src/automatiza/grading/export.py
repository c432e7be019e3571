"""`automatiza notas`: the cohort's grades from the gradebook, as CSV, Excel or Moodle's grade import CSV.

- csv: one row per student and assignment, `;` and decimal comma (opens right in a pt-BR spreadsheet), UTF-8
  with BOM;
- xlsx: one row per student, one column per assignment plus the total, numbers as numbers;
- moodle: the file Moodle's "Importar notas > Arquivo CSV" reads: comma separated, decimal point, an e-mail
  column to identify users ("Mapear de: Endereço de email" -> "Mapear para: email") and one column per
  assignment named after it (map each to its grade item).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from automatiza.grading import cohort, coursedir
from automatiza.grading.nbgrader_api import MissingEntry

FORMATS = ("csv", "xlsx", "moodle")


@dataclass
class Row:
    student: str
    name: str
    email: str
    institution: str
    assignment: str
    submitted: str
    raw: float | None
    penalty: float
    score: float | None
    max_score: float


def collect(course: coursedir.Course, assignments: list[str] | None = None) -> tuple[list[Row], list[str]]:
    """Every (student, assignment) pair of the gradebook, with scores (None when not submitted)."""
    roster = cohort.roster(course.root)
    rows: list[Row] = []
    with course.gradebook() as gb:
        chosen = [a for a in gb.assignments if not assignments or a.name in assignments]
        unknown = sorted(set(assignments or []) - {a.name for a in chosen})
        if unknown:
            raise coursedir.UnknownAssignment(
                f"tarefa(s) inexistente(s) no banco de notas: {', '.join(unknown)}"
            )
        names = [a.name for a in sorted(chosen, key=lambda a: a.name)]
        for student in sorted(gb.students, key=lambda s: s.id):
            info = roster.get(student.id)
            full = info.nome if info else " ".join(filter(None, [student.first_name, student.last_name]))
            if roster and not info:  # a login missing from the roster (e.g. a roster keyed by MASP)
                full = f"{full} (não está em alunos.csv)".strip()
            for assignment in sorted(chosen, key=lambda a: a.name):
                who = (
                    student.id,
                    full,
                    student.email or "",
                    info.instituicao if info else "",
                    assignment.name,
                )
                try:
                    sub = gb.find_submission(assignment.name, student.id)
                except MissingEntry:  # not submitted
                    rows.append(Row(*who, "", None, 0.0, None, assignment.max_score))
                    continue
                penalty = sub.late_submission_penalty or 0.0
                rows.append(
                    Row(
                        *who,
                        sub.timestamp.strftime("%d/%m/%Y %H:%M") if sub.timestamp else "",
                        sub.score,
                        penalty,
                        max(0.0, sub.score - penalty),
                        sub.max_score,  # as `nbgrader export`
                    )
                )
    return rows, names


def _br(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def write_csv(rows: list[Row], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(
            [
                "aluno",
                "nome",
                "email",
                "instituicao",
                "tarefa",
                "entregue_em",
                "nota_bruta",
                "desconto_atraso",
                "nota",
                "nota_maxima",
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    r.student,
                    r.name,
                    r.email,
                    r.institution,
                    r.assignment,
                    r.submitted,
                    _br(r.raw),
                    _br(r.penalty),
                    _br(r.score),
                    _br(r.max_score),
                ]
            )


def _wide(rows: list[Row], names: list[str]) -> list[tuple[Row, dict[str, float | None]]]:
    by_student: dict[str, tuple[Row, dict[str, float | None]]] = {}
    for r in rows:
        first, scores = by_student.setdefault(r.student, (r, {}))
        scores[r.assignment] = r.score
    return list(by_student.values())


def write_xlsx(rows: list[Row], names: list[str], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Notas"
    maxima = {r.assignment: r.max_score for r in rows}
    sheet.append(["aluno", "nome", "email", "instituição", *names, "total"])
    sheet.append(["", "", "", "nota máxima", *[maxima.get(n, 0) for n in names], sum(maxima.values())])
    for cell in sheet[1] + sheet[2]:
        cell.font = Font(bold=True)
    for first, scores in _wide(rows, names):
        values = [scores.get(n) for n in names]
        sheet.append(
            [first.student, first.name, first.email, first.institution, *values, sum(v or 0 for v in values)]
        )
    for column, width in zip("ABCD", (14, 32, 30, 22), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "E3"
    book.save(path)


def write_moodle(rows: list[Row], names: list[str], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["email", "idnumber", *names])
        for first, scores in _wide(rows, names):
            if not first.email:
                continue
            writer.writerow(
                [
                    first.email,
                    first.student,
                    *["" if scores.get(n) is None else f"{scores[n]:.2f}" for n in names],
                ]
            )


def export(
    course: coursedir.Course, fmt: str, path: Path, assignments: list[str] | None = None
) -> tuple[int, int]:
    """Write the grades in `fmt` to `path`; returns (students, assignments). Students without e-mail are left
    out of the Moodle file (Moodle identifies them by e-mail)."""
    rows, names = collect(course, assignments)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        write_csv(rows, path)
    elif fmt == "xlsx":
        write_xlsx(rows, names, path)
    elif fmt == "moodle":
        write_moodle(rows, names, path)
    else:
        raise ValueError(fmt)
    return len({r.student for r in rows}), len(names)
