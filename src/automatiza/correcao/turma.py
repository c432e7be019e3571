"""`automatiza turma criar`: a cohort folder outside the repository, set up as an nbgrader course.

    PASTA/
      nbgrader_config.py     course id, gradebook URL, pt-BR stubs (the same as `automatiza liberar`)
      source -> <repositório>/exercises   the course's exercises are the nbgrader sources (one truth)
      release/               student versions, generated here
      gradebook.db           SQLite gradebook (or any SQLAlchemy URL given with --banco)
      alunos.csv             the roster as imported (id, nome, email, instituição)
      LEIA-ME.md, .gitignore this folder holds personal data: it never goes into a repository (LGPD)

The folder is created with mode 0700: only its owner (and root) can read it.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from traitlets.config import Config

from automatiza.paths import Project, put_python_tools_on_path
from automatiza.release import nbgrader_config

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
COLUMNS = {
    "id": ("id", "matricula", "masp", "usuario", "login", "identificador"),
    "nome": ("nome", "name", "nome completo", "nome_completo"),
    "email": ("email", "e-mail", "correio eletronico"),
    "instituicao": ("instituicao", "institution", "orgao", "entidade", "lotacao"),
}
README = """\
# Turma do Automatiza.MG

Esta pasta é uma turma do curso no formato do nbgrader. Ela guarda **dados pessoais** de quem participa
(nomes, e-mails, entregas e notas): não a coloque em nenhum repositório e não a compartilhe (LGPD).

- `source/` aponta para os exercícios do repositório do curso; `release/` tem as versões de estudante.
- Entregas ficam em `submitted/<aluno>/<tarefa>/`; a correção escreve em `autograded/` e no banco de notas.

Comandos (rode de dentro do repositório do curso ou defina AUTOMATIZA_RAIZ):

    automatiza corrigir <tarefa> --turma {pasta}
    automatiza devolutiva <tarefa> --turma {pasta}
    automatiza notas --turma {pasta} --formato csv|xlsx|moodle

O formgrader e os comandos do nbgrader (`nbgrader export`, `nbgrader generate_feedback`...) funcionam
dentro desta pasta.
"""


class CohortError(Exception):
    """A problem with the cohort request (pt-BR message, possibly several lines)."""


@dataclass(frozen=True)
class Student:
    id: str
    nome: str
    email: str = ""
    instituicao: str = ""

    @property
    def first_last(self) -> tuple[str, str]:
        parts = self.nome.split()
        return (parts[0], " ".join(parts[1:])) if parts else ("", "")


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in text if not unicodedata.combining(c)).replace("_", " ")


def read_roster(path: Path) -> list[Student]:
    """Students from a CSV (`,` or `;`, UTF-8 or Latin-1) with columns id, nome, email, instituição."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CohortError(f"não consegui ler {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if not text.strip():
        raise CohortError(f"{path} está vazio")
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [_plain(h) for h in next(reader)]
    where: dict[str, int] = {}
    for field, names in COLUMNS.items():
        for index, name in enumerate(header):
            if name in {_plain(n) for n in names}:
                where[field] = index
                break
    missing = [f for f in ("id", "nome") if f not in where]
    if missing:
        raise CohortError(
            f"{path}: faltam as colunas {', '.join(missing)} (cabeçalho lido: {', '.join(header)}). "
            "Use as colunas id, nome, email, instituicao."
        )
    students: list[Student] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue

        def get(field: str, row: list[str] = row) -> str:
            index = where.get(field)
            return row[index].strip() if index is not None and index < len(row) else ""

        student = Student(get("id"), get("nome"), get("email"), get("instituicao"))
        if not STUDENT_ID.match(student.id):
            problems.append(
                f"linha {line}: id {student.id!r} inválido "
                "(use letras, números, ponto, hífen, _ ou @, sem espaços)"
            )
        elif student.id in seen:
            problems.append(f"linha {line}: o id {student.id!r} repete o da linha {seen[student.id]}")
        if not student.nome:
            problems.append(f"linha {line}: falta o nome")
        if student.email and "@" not in student.email:
            problems.append(f"linha {line}: e-mail {student.email!r} inválido")
        seen.setdefault(student.id, line)
        students.append(student)
    if problems:
        raise CohortError(f"{path} tem problemas:\n" + "\n".join(f"  - {p}" for p in problems))
    if not students:
        raise CohortError(f"{path} não tem nenhum aluno")
    return students


def config_file(config: Config) -> str:
    """nbgrader_config.py text for the given settings (sections and values of a traitlets Config)."""
    lines = [
        "# Configuração do nbgrader desta turma (gerada por `automatiza turma criar`).",
        "c = get_config()",
    ]
    for section, values in sorted(config.items()):
        for key, value in sorted(values.items()):
            lines.append(f"c.{section}.{key} = {value!r}")
    return "\n".join(lines) + "\n"


def assignments_in(project: Project) -> list[str]:
    """Assignments of the written modules whose exercise notebooks exist in the repository."""
    names = []
    for module in project.curriculum().written:
        if module.tarefa and project.assignment_notebooks(module.tarefa.nome):
            names.append(module.tarefa.nome)
    return names


def create(
    project: Project, folder: Path, roster: Path, db_url: str | None = None, course_id: str = "automatiza-mg"
) -> tuple[list[Student], list[str], list[str]]:
    """Create the cohort at `folder`; returns the students, the assignments generated and, in pt-BR, the
    assignments nbgrader could not generate (an exercise still being written must not block a cohort)."""
    folder = folder.expanduser().resolve()
    root = project.root.resolve()
    if folder == root or root in folder.parents:
        raise CohortError(
            f"a turma não pode ficar dentro do repositório ({root}): ela guarda dados pessoais (LGPD). "
            "Escolha uma pasta fora dele, por exemplo ~/turmas/2026-1."
        )
    if folder.exists() and any(folder.iterdir()):
        raise CohortError(f"a pasta {folder} já existe e não está vazia")
    students = read_roster(roster)
    assignments = assignments_in(project)
    existed = folder.exists()
    put_python_tools_on_path()  # nbgrader runs `alembic` by name when it creates a gradebook
    try:
        failed = _build(project, folder, students, assignments, db_url, course_id)
    except BaseException:
        if not existed:
            shutil.rmtree(folder, ignore_errors=True)
        elif folder.is_dir():
            for child in folder.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink()
        raise
    broken = {f.split(":", 1)[0] for f in failed}
    return students, [a for a in assignments if a not in broken], failed


def _build(
    project: Project,
    folder: Path,
    students: list[Student],
    assignments: list[str],
    db_url: str | None,
    course_id: str,
) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    (folder / "source").symlink_to(project.exercises.resolve(), target_is_directory=True)
    config = nbgrader_config(folder)
    config.CourseDirectory.course_id = course_id
    config.CourseDirectory.db_url = db_url or f"sqlite:///{folder / 'gradebook.db'}"
    config.Execute.timeout = 30
    (folder / "nbgrader_config.py").write_text(config_file(config), encoding="utf-8")
    (folder / "LEIA-ME.md").write_text(README.format(pasta=folder), encoding="utf-8")
    (folder / ".gitignore").write_text(
        "# dados pessoais (LGPD): nada desta pasta vai para um repositório\n*\n"
    )
    with (folder / "alunos.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "nome", "email", "instituicao"])
        for s in students:
            writer.writerow([s.id, s.nome, s.email, s.instituicao])
    os.chmod(folder / "alunos.csv", 0o600)
    with Gradebook(config.CourseDirectory.db_url, course_id) as gb:
        for s in students:
            first, last = s.first_last
            gb.update_or_create_student(s.id, first_name=first, last_name=last, email=s.email or None)
    api = NbGraderAPI(config=config)
    failed = []
    for name in assignments:
        result = api.generate_assignment(name, force=True, create=True)
        if not result["success"]:
            text = (result.get("log") or "") + (result.get("error") or "")
            reason = next((line.strip() for line in reversed(text.splitlines()) if "Error:" in line), "")
            failed.append(f"{name}: {reason[:300]}")
    return failed


def roster(folder: Path) -> dict[str, Student]:
    """The roster saved by `create` (id -> Student); empty for courses made by nbgrader's own tools."""
    path = folder / "alunos.csv"
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        return {
            row["id"]: Student(
                row["id"], row.get("nome", ""), row.get("email", ""), row.get("instituicao", "")
            )
            for row in csv.DictReader(fh)
        }
