"""`automatiza turma criar`: a cohort folder outside the repository, set up as an nbgrader course.

    PASTA/
      nbgrader_config.py     course id, gradebook URL, pt-BR stubs (the same as `automatiza liberar`)
      source -> <repositório>/exercises   the course's exercises are the nbgrader sources (one truth)
      release/               student versions, generated here
      gradebook.db           SQLite gradebook (or any SQLAlchemy URL given with --banco)
      alunos.csv             the roster as imported (id, nome, email, instituição); the id is the login
      LEIA-ME.md, .gitignore this folder holds personal data: it never goes into a repository (LGPD)
    PASTA-troca/             nbgrader's exchange (Exchange.root), created explicitly, beside the cohort

The folder is created with mode 0700: only its owner (and root) can read it. nbgrader requires its exchange
root to be writable by everyone (it chmods it to 0777 otherwise); it is created here with the sticky bit
(1777, like /tmp) so nobody removes what another user wrote, and nbgrader itself makes `inbound/` write-only
for learners (0733: they cannot list other submissions) and `feedback/` traversable only (0711: a learner
opens a feedback file only by the hash of their own submission secret). It is never created silently at
nbgrader's default `/usr/local/share/nbgrader/exchange`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import stat
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

from automatiza import database
from automatiza.errors import SetupError, UsageError
from automatiza.grading.nbgrader_api import Gradebook, NbGraderAPI
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

A pasta de troca de tarefas com quem aprende (nbgrader `Exchange.root`) é {troca}.

Comandos (rode de dentro do repositório do curso ou defina AUTOMATIZA_RAIZ):

    nbgrader release_assignment <tarefa>       (dentro desta pasta: libera para a turma)
    nbgrader collect <tarefa>                  (recolhe as entregas)
    automatiza corrigir <tarefa> --turma {pasta}
    automatiza devolutiva <tarefa> --turma {pasta}
    nbgrader release_feedback <tarefa>         (quem aprende busca a devolutiva no painel)
    automatiza turma conferir {pasta}          (entregas de quem não está na planilha, quem não entregou)
    automatiza notas --turma {pasta} --formato csv|xlsx|moodle

O formgrader e os comandos do nbgrader (`nbgrader export`, `nbgrader generate_feedback`...) funcionam
dentro desta pasta.
"""


class CohortError(UsageError):
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


def default_exchange(folder: Path) -> Path:
    """Where `turma criar` puts the exchange when none is given: beside the cohort, `<pasta>-troca`."""
    folder = folder.expanduser().resolve()
    return folder.parent / f"{folder.name}-troca"


def exchange_of(folder: Path) -> Path | None:
    """The exchange root configured in a cohort's nbgrader_config.py (None when it has none)."""
    config = folder / "nbgrader_config.py"
    if not config.is_file():
        return None
    match = re.search(r"^c\.Exchange\.root = (['\"])(.*)\1$", config.read_text(encoding="utf-8"), re.M)
    return Path(match.group(2)) if match else None


def unreachable(path: Path) -> list[Path]:
    """Folders on the way to `path` that other users cannot traverse (missing o+x)."""
    return [p for p in (path, *path.parents) if p.exists() and not p.stat().st_mode & stat.S_IXOTH]


def make_exchange(exchange: Path, folder: Path) -> list[str]:
    """Create (or check) the exchange root with mode 1777; returns pt-BR warnings."""
    exchange = exchange.expanduser().resolve()
    if exchange == folder or folder in exchange.parents:
        raise CohortError(
            f"a pasta de troca {exchange} não pode ficar dentro da turma: quem aprende precisa chegar a ela, "
            "e a turma é fechada (dados pessoais)."
        )
    if exchange.exists() and not exchange.is_dir():
        raise CohortError(f"a pasta de troca {exchange} existe e não é uma pasta")
    if not exchange.exists():
        try:
            exchange.mkdir(parents=True)
        except PermissionError:
            raise CohortError(
                f"sem permissão para criar a pasta de troca {exchange}: escolha outra com --troca "
                "(por exemplo uma pasta em /srv criada pela administração do servidor)"
            ) from None
    mode = stat.S_IMODE(exchange.stat().st_mode)
    if mode != 0o1777:
        try:
            exchange.chmod(0o1777)
        except PermissionError:
            raise CohortError(
                f"a pasta de troca {exchange} tem permissões {oct(mode)} e não é sua: peça a quem a criou "
                "para rodar chmod 1777 nela, ou escolha outra com --troca"
            ) from None
    warnings = []
    closed = unreachable(exchange.parent)
    if closed:
        warnings.append(
            f"quem aprende não consegue chegar à pasta de troca {exchange}: "
            + ", ".join(str(p) for p in closed)
            + " não deixa(m) outros usuários passar. Rode chmod o+x nela(s) ou escolha outra com --troca "
            "(no mesmo computador; num JupyterHub em vários servidores, uma pasta compartilhada)."
        )
    return warnings


def create(
    project: Project,
    folder: Path,
    roster: Path,
    db_url: str | None = None,
    course_id: str = "automatiza-mg",
    exchange: Path | None = None,
) -> tuple[list[Student], list[str], list[str]]:
    """Create the cohort at `folder` and its exchange; returns the students, the assignments generated and, in
    pt-BR, the problems: assignments nbgrader could not generate (an exercise still being written must not
    block a cohort) and warnings about the exchange."""
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
    if db_url:  # postgresql://... gets the installed driver; an unreachable server fails before anything
        try:
            db_url = database.normalize(db_url)
            database.check(db_url)
        except database.DatabaseError as exc:
            raise CohortError(str(exc)) from None
    assignments = assignments_in(project)
    exchange = (exchange or default_exchange(folder)).expanduser().resolve()
    existed = folder.exists()
    put_python_tools_on_path()  # nbgrader runs `alembic` by name when it creates a gradebook
    try:
        warnings = make_exchange(exchange, folder)
        failed = _build(project, folder, students, assignments, db_url, course_id, exchange)
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
    return students, [a for a in assignments if a not in broken], failed + warnings


def _build(
    project: Project,
    folder: Path,
    students: list[Student],
    assignments: list[str],
    db_url: str | None,
    course_id: str,
    exchange: Path,
) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    (folder / "source").symlink_to(project.exercises.resolve(), target_is_directory=True)
    config = nbgrader_config(folder)
    config.CourseDirectory.course_id = course_id
    config.CourseDirectory.db_url = db_url or f"sqlite:///{folder / 'gradebook.db'}"
    config.Execute.timeout = 30
    config.Exchange.root = str(exchange)
    (folder / "nbgrader_config.py").write_text(config_file(config), encoding="utf-8")
    (folder / "LEIA-ME.md").write_text(README.format(pasta=folder, troca=exchange), encoding="utf-8")
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


@dataclass
class RosterReport:
    """Who submitted without being on the roster, who on the roster did not submit or never logged in."""

    unknown: dict[str, list[str]]  # login -> assignments they submitted
    missing: dict[str, list[str]]  # assignment -> roster ids with no submission
    never_logged_in: list[str] | None  # None when there is no hub to ask
    roster_size: int

    @property
    def ok(self) -> bool:
        return not self.unknown and not any(self.missing.values()) and not self.never_logged_in

    def lines(self) -> list[str]:
        out = []
        for login, tasks in sorted(self.unknown.items()):
            out.append(
                f"AVISO: '{login}' entregou {', '.join(tasks)} mas não está em alunos.csv. O id da planilha "
                "precisa ser o login de quem aprende (se a planilha usa a matrícula/MASP, troque pelo login)."
            )
        for task, ids in sorted(self.missing.items()):
            if ids:
                out.append(f"{task}: {len(ids)} de {self.roster_size} sem entrega: {', '.join(ids)}")
        if self.never_logged_in:
            never = self.never_logged_in
            out.append(f"nunca entraram no JupyterHub ({len(never)}): {', '.join(never)}")
        return out


def submissions(folder: Path, exchange: Path | None, course_id: str) -> dict[str, set[str]]:
    """login -> assignments submitted: collected ones (submitted/) and those still in the exchange."""
    found: dict[str, set[str]] = {}
    submitted = folder / "submitted"
    if submitted.is_dir():
        for student in submitted.iterdir():
            if student.is_dir():
                for task in student.iterdir():
                    if task.is_dir():
                        found.setdefault(student.name, set()).add(task.name)
    inbound = exchange / course_id / "inbound" if exchange else None
    if inbound and inbound.is_dir():
        for entry in inbound.iterdir():
            parts = entry.name.split("+")
            if len(parts) >= 3:
                found.setdefault(parts[0], set()).add(parts[1])
    return found


def released(exchange: Path | None, course_id: str) -> list[str]:
    """Assignments released to the cohort (present in the exchange's outbound folder)."""
    outbound = exchange / course_id / "outbound" if exchange else None
    if not outbound or not outbound.is_dir():
        return []
    return sorted(p.name for p in outbound.iterdir() if p.is_dir())


def check(folder: Path, course_id: str = "automatiza-mg", logged_in: set[str] | None = None) -> RosterReport:
    """Compare the roster with the submissions (and, given the hub's logins, with who ever logged in)."""
    folder = folder.expanduser().resolve()
    people = roster(folder)
    exchange = exchange_of(folder)
    found = submissions(folder, exchange, course_id)
    tasks = sorted(set(released(exchange, course_id)) | {t for ts in found.values() for t in ts})
    unknown = {login: sorted(ts) for login, ts in found.items() if people and login not in people}
    missing = {t: sorted(i for i in people if t not in found.get(i, set())) for t in tasks}
    never = None if logged_in is None else sorted(i for i in people if i not in logged_in)
    return RosterReport(unknown, missing, never, len(people))


def logins_of_hub(folder: Path) -> set[str] | None:
    """Logins that ever used the cohort's JupyterHub (None when the cohort has no hub)."""
    from automatiza import hub

    return hub.logged_in(hub.default_state(folder))


def command_create(args, project: Project) -> int:
    """`automatiza turma criar`: create, then print what was made and what to do next (pt-BR)."""
    students, assignments, problems = create(
        project, args.pasta, args.alunos, args.banco, args.curso_id, getattr(args, "troca", None)
    )
    folder = args.pasta.expanduser().resolve()
    exchange = exchange_of(folder)
    print(f"Turma criada em {folder} (só o seu usuário pode ler a pasta).")
    print(f"  {len(students)} aluno(s) importado(s) para o banco de notas; o id de cada um é o login.")
    print(f"  Pasta de troca de tarefas: {exchange} (1777: cada um só mexe no que é seu).")
    if assignments:
        print(f"  {len(assignments)} tarefa(s) geradas em {folder / 'release'}: {', '.join(assignments)}")
    else:
        print("  nenhuma tarefa gerada: ainda não há exercícios em exercises/.")
    for problem in problems:
        if problem.startswith("quem aprende"):
            print(f"  AVISO: {problem}", file=sys.stderr)
        else:
            print(
                f"  AVISO: tarefa não gerada ({problem}); corrija o exercício e rode, dentro da turma, "
                "nbgrader generate_assignment <tarefa> --force",
                file=sys.stderr,
            )
    print(
        f"Próximos passos, dentro de {folder}:\n"
        "  nbgrader release_assignment <tarefa>      libera a tarefa no painel Assignments de quem aprende\n"
        "  nbgrader collect <tarefa>                 recolhe as entregas\n"
        f"  automatiza corrigir <tarefa> --turma {folder}\n"
        f"  automatiza devolutiva <tarefa> --turma {folder}\n"
        "  nbgrader release_feedback <tarefa>        libera as devolutivas"
    )
    return 0


def command_check(args) -> int:
    """`automatiza turma conferir PASTA`: roster against submissions and hub logins; 1 if anything is off."""
    folder = args.pasta.expanduser().resolve()
    if not (folder / "alunos.csv").is_file():
        raise SetupError(f"{folder} não tem alunos.csv: não é uma turma criada com 'turma criar'")
    report = check(folder, args.curso_id, logins_of_hub(folder))
    lines = report.lines()
    print("\n".join(lines) if lines else f"Tudo certo: os {report.roster_size} aluno(s) entregaram tudo.")
    return 0 if report.ok else 1
