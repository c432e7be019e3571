"""`automatiza devolutiva`: one HTML page per student and notebook, in pt-BR, from the gradebook.

Written where nbgrader's own feedback goes (``feedback/<aluno>/<tarefa>/<notebook>.html``, with
``timestamp.txt`` and ``submission_secret.txt``), so `nbgrader release_feedback` delivers it: the secret is
what names the released file, so only the learner who submitted can fetch it. Unlike nbgrader's feedback
(issue #917), the page never contains test code: for each question it shows the points, the messages of the
visible checks that failed and, for hidden tests, only their message.
"""

from __future__ import annotations

import datetime
import html
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from automatiza.grading import coursedir
from automatiza.grading.nbgrader_api import DEFAULT_DELIMITERS, Delimiters, MissingEntry, utils

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FRAME = re.compile(r"(?:Cell In\s*\[\d*\]|<ipython-input-\d+-[0-9a-f]+>|Input In \[\d*\]),? line (\d+)")
EXPLAINED = {
    "CellTimeoutError": "A célula passou do tempo limite e foi interrompida (procure um laço sem fim).",
    "KernelParou": "O Python parou durante esta célula",
    "TempoTotalEsgotado": "O notebook inteiro passou do tempo total de correção.",
    "AmbienteAlterado": "O código do notebook alterou as ferramentas de correção; não deu para conferir.",
    "KeyboardInterrupt": "A execução foi interrompida por passar do tempo limite.",
    "NameError": "Um nome usado aqui não existe: confira se executou a sua resposta e se o nome está certo.",
}
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:52rem;margin:2rem auto;
padding:0 1rem;color:#1d2733;line-height:1.5}
h1{font-size:1.5rem;margin-bottom:.2rem}.sub{color:#55606e;margin-top:0}
.total{font-size:1.25rem;background:#eef4fb;border-radius:.5rem;padding:.75rem 1rem}
.q{border:1px solid #d5dde6;border-radius:.5rem;padding:.75rem 1rem;margin:1rem 0}
.q h2{font-size:1.05rem;margin:0 0 .3rem 0}.pts{float:right;font-weight:600}
.ok{border-left:.4rem solid #2e8540}.parcial{border-left:.4rem solid #e0a800}
.zero{border-left:.4rem solid #c62828}
.manual{border-left:.4rem solid #6f42c1}ul{margin:.3rem 0}li{margin:.2rem 0}
.tag{font-size:.8rem;background:#eceff3;border-radius:.3rem;padding:0 .3rem;margin-right:.3rem}
footer{color:#55606e;font-size:.85rem;margin-top:2rem}
"""


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


@dataclass
class Question:
    grade_id: str
    title: str
    score: float | None
    max_score: float
    manual: bool
    failures: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)
    passed: list[str] = field(default_factory=list)
    comment: str = ""

    @property
    def css(self) -> str:
        if self.manual:
            return "manual"
        if self.score is not None and self.score >= self.max_score:
            return "ok"
        return "parcial" if self.score else "zero"


def _error_message(
    output: nbformat.NotebookNode, source: str, is_test: bool, delimiters: Delimiters = DEFAULT_DELIMITERS
) -> tuple[str, str]:
    """(kind, message) of an error output, without any code: kind is 'oculto', 'visível' or 'erro'
    (hidden test lines are those between the course's `ClearHiddenTests` delimiters)."""
    ename = str(output.get("ename", "Erro"))
    evalue = ANSI.sub("", str(output.get("evalue", ""))).strip()
    if ename in EXPLAINED and ename not in ("NameError",):
        text = EXPLAINED[ename]
        if evalue and ename == "KernelParou":
            text = f"{text}: {evalue.split(': ', 1)[-1]}."
        return "erro", text
    kind = "erro"
    if is_test:
        traceback = ANSI.sub("", "\n".join(output.get("traceback", [])))
        match = FRAME.search(traceback)
        hidden = delimiters.hidden_lines(source)
        kind = "oculto" if match and int(match.group(1)) in hidden else "visível"
    if not evalue:
        evalue = "um teste oculto falhou (sem mensagem)" if kind == "oculto" else f"{ename} sem mensagem"
    elif ename not in ("AssertionError",):
        hint = EXPLAINED.get(ename, "")
        evalue = f"{ename}: {evalue}" + (f" {hint}" if hint else "")
    return kind, evalue


def _title_before(cells: list, index: int, fallback: str) -> str:
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.lstrip().startswith("#"):
                    return line.lstrip("# ").strip()
        if utils.is_grade(cell):
            break
    return fallback


def questions(
    nb: nbformat.NotebookNode,
    grades: dict[str, tuple],
    comments: dict[str, str],
    delimiters: Delimiters = DEFAULT_DELIMITERS,
) -> list[Question]:
    """The graded questions of an autograded notebook, with scores from the gradebook (`delimiters`: the
    course's, `nbgrader_api.Delimiters.from_config(course.config)`)."""
    found = []
    cells = nb.cells
    answer_errors: dict[int, list[tuple[str, str]]] = {}
    for index, cell in enumerate(cells):
        if cell.cell_type == "code" and utils.is_solution(cell) and not utils.is_grade(cell):
            errors = [
                _error_message(o, cell.source, False, delimiters)
                for o in cell.get("outputs", [])
                if o.get("output_type") == "error"
            ]
            if errors:
                answer_errors[index] = [("resposta", m) for _, m in errors]
    pending: list[tuple[str, str]] = []
    for index, cell in enumerate(cells):
        pending += answer_errors.get(index, [])
        if not utils.is_grade(cell):
            continue
        grade_id = cell.metadata.nbgrader["grade_id"]
        score, max_score, manual = grades.get(
            grade_id, (None, float(cell.metadata.nbgrader.get("points", 0)), True)
        )
        question = Question(
            grade_id,
            _title_before(cells, index, grade_id),
            score,
            max_score,
            manual,
            comment=comments.get(grade_id, ""),
        )
        if cell.cell_type == "code" and not utils.is_solution(cell):
            question.failures = pending + [
                _error_message(o, cell.source, True, delimiters)
                for o in cell.get("outputs", [])
                if o.get("output_type") == "error"
            ]
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stdout":
                    question.passed += [
                        ANSI.sub("", line).strip()
                        for line in output.get("text", "").splitlines()
                        if line.strip().startswith("✅")
                    ]
                elif output.get("output_type") == "stream" and output.get("name") == "stderr":
                    first = ANSI.sub("", output.get("text", "")).strip().splitlines()[:1]
                    if first:
                        message = re.sub(r"^\S+:\d+: ", "", first[0])
                        question.failures.append(
                            (
                                "erro",
                                "A célula escreveu avisos na saída de erros, o que "
                                f"conta como falha: {message}",
                            )
                        )
        pending = []
        found.append(question)
    return found


def render(
    student_name: str,
    assignment: str,
    notebook: str,
    items: list[Question],
    total: float | None,
    max_total: float,
    penalty: float,
) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="pt-BR"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Devolutiva: {esc(assignment)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Devolutiva da tarefa {esc(assignment)}</h1>",
        f'<p class="sub">{esc(student_name)} · notebook {esc(notebook)}.ipynb</p>',
        f'<p class="total">Nota: <strong>{_num(total)}</strong> de {_num(max_total)} ponto(s)'
        + (f" (desconto por atraso: {_num(penalty)})" if penalty else "")
        + "</p>",
    ]
    for q in items:
        if q.manual:
            status = "aguardando correção da equipe"
        elif q.score is not None and q.score >= q.max_score:
            status = "completa"
        else:
            status = "parcial" if q.score else "sem pontos"
        parts.append(
            f'<section class="q {q.css}"><h2>{esc(q.title)} <span class="pts">'
            f"{'—' if q.manual else _num(q.score)} / {_num(q.max_score)}</span></h2><p>{status}</p>"
        )
        if q.failures:
            parts.append("<ul>")
            labels = {
                "oculto": "teste oculto",
                "visível": "verificação",
                "erro": "execução",
                "resposta": "sua resposta",
            }
            for kind, message in q.failures:
                parts.append(f'<li><span class="tag">{labels[kind]}</span>{esc(message)}</li>')
            parts.append("</ul>")
        if q.passed and not q.manual:
            parts.append("<details><summary>Verificações que passaram</summary><ul>")
            parts += [f"<li>{esc(line)}</li>" for line in q.passed]
            parts.append("</ul></details>")
        if q.comment:
            parts.append(f"<p><strong>Comentário da equipe:</strong> {esc(q.comment)}</p>")
        parts.append("</section>")
    today = datetime.date.today().strftime("%d/%m/%Y")
    parts.append(
        f"<footer>Gerada em {today}. Os testes ocultos conferem casos que não aparecem no notebook: aqui "
        "aparece "
        "só a mensagem deles, nunca o código. Dúvidas? Fale com a equipe do curso.</footer></body></html>"
    )
    return "\n".join(parts)


RELEASE_FILES = ("timestamp.txt", "submission_secret.txt")


def _copy_release_files(autograded: Path, submitted: Path, target: Path) -> None:
    """Copy the files `nbgrader release_feedback` reads, from autograded/ or else submitted/."""
    for name in RELEASE_FILES:
        for folder in (autograded, submitted):
            if (folder / name).is_file():
                shutil.copy(folder / name, target / name)
                break


def unreleasable(course: coursedir.Course, assignment: str) -> list[str]:
    """Students whose feedback nbgrader cannot release: their submission has no submission_secret.txt
    (it did not come through the exchange, e.g. copied by hand into submitted/)."""
    root = course.path(course.coursedir.feedback_directory, "*", assignment).parent.parent
    if not root.is_dir():
        return []
    return sorted(
        folder.name
        for folder in root.iterdir()
        if (folder / assignment).is_dir() and not (folder / assignment / "submission_secret.txt").is_file()
    )


def warnings(course: coursedir.Course, assignment: str) -> list[str]:
    """pt-BR warnings to show after `devolutiva`: feedback that cannot be released, roster mismatches."""
    from automatiza.grading import cohort

    out = [
        f"AVISO: a devolutiva de '{login}' não pode ser liberada pelo nbgrader: a entrega não veio pela "
        "pasta de troca (falta submission_secret.txt); envie o HTML a essa pessoa por outro meio."
        for login in unreleasable(course, assignment)
    ]
    report = cohort.check(course.root, course.course_id)
    out += [line for line in report.lines() if line.startswith("AVISO")]
    missing = report.missing.get(assignment)
    if missing:
        out.append(f"sem entrega de {assignment}: {', '.join(missing)}")
    return out


def generate(course: coursedir.Course, assignment: str, students: list[str] | None = None) -> list[Path]:
    """Write the feedback pages of every graded submission of `assignment`; returns the files written."""
    from automatiza.grading import cohort

    names = coursedir.assignment_notebooks(course, assignment)
    delimiters = Delimiters.from_config(course.config)
    roster = cohort.roster(course.root)
    written: list[Path] = []
    with course.gradebook() as gb:
        for submission in sorted(gb.find_assignment(assignment).submissions, key=lambda s: s.student.id):
            student = submission.student
            if students and student.id not in students:
                continue
            source = course.autograded(student.id, assignment)
            if not source.is_dir():
                continue
            target = course.feedback(student.id, assignment)
            target.mkdir(parents=True, exist_ok=True)
            _copy_release_files(source, course.submitted(student.id, assignment), target)
            name = (
                roster.get(student.id).nome
                if student.id in roster
                else " ".join(filter(None, [student.first_name, student.last_name]))
            ) or student.id
            for notebook in names:
                path = source / f"{notebook}.ipynb"
                if not path.exists():
                    continue
                try:
                    sub_nb = gb.find_submission_notebook(notebook, assignment, student.id)
                except MissingEntry:
                    continue
                grades = {g.name: (g.score, g.max_score, bool(g.needs_manual_grade)) for g in sub_nb.grades}
                comments = {c.name: c.manual_comment for c in sub_nb.comments if c.manual_comment}
                nb = nbformat.read(path, as_version=4)
                items = questions(nb, grades, comments, delimiters)
                penalty = sub_nb.late_submission_penalty or 0.0
                page = render(
                    name,
                    assignment,
                    notebook,
                    items,
                    max(0.0, sub_nb.score - penalty),
                    sub_nb.max_score,
                    penalty,
                )
                out = target / f"{notebook}.html"
                out.write_text(page, encoding="utf-8")
                written.append(out)
    return written
