"""`automatiza hub iniciar`: a real JupyterHub for one cohort on one machine, configured from the program.

- users: the logins of the cohort's `alunos.csv` (the roster id is the login) plus the instructors, as local
  accounts (PAM) or, for tests and workshops, one shared password (SharedPasswordAuthenticator);
- learners get `~/automatiza` (copies of the lessons, fetched assignments) and the learner configuration of
  `automatiza.jupyterlab` (pt-BR, no instructor tools); the group `instrutores` opens the cohort folder with
  formgrader;
- per-learner memory and CPU limits (the standard `Spawner.mem_limit`/`cpu_limit`, enforced with a cgroup per
  learner that holds the server and its kernels; per-process limits where cgroups are not writable);
- idle servers stopped by jupyterhub-idle-culler; configurable-http-proxy from npm (installed by ./curso in
  .venv/proxy).

State beside the cohort, `<turma>-hub/`: `privado/` (0700: hub database, cookie secret, proxy token),
`jupyter-aluno/` and `jupyter-instrutor/` (the Jupyter configurations, readable by all, writable by root).
"""

from __future__ import annotations

import json
import os
import pwd
import resource
import secrets
import shutil
import sqlite3
import stat
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from automatiza import database, jupyterlab
from automatiza.paths import Project

INSTRUCTORS = "instrutores"
WORKSPACE = "automatiza"
CGROUP = "automatiza-hub"
AUTH = ("sistema", "senha-compartilhada")
PASSWORD_ENV = "AUTOMATIZA_HUB_SENHA"


class HubError(Exception):
    """A problem starting the hub (pt-BR message)."""


@dataclass
class Settings:
    cohort: str
    state: str
    repository: str
    course_id: str = "automatiza-mg"
    ip: str = "127.0.0.1"
    port: int = 8000
    instructors: list[str] = field(default_factory=list)
    learners: list[str] = field(default_factory=list)
    auth: str = "sistema"
    create_accounts: bool = False
    memory_mb: int = 2048
    cpus: float = 1.0
    idle_minutes: int = 60
    exchange: str = ""
    db_url: str = ""  # the hub's database (SQLAlchemy URL); empty: SQLite in privado/

    @property
    def database(self) -> str:
        return self.db_url or f"sqlite:///{self.private / 'jupyterhub.sqlite'}"

    @property
    def private(self) -> Path:
        return Path(self.state) / "privado"


def default_state(cohort: Path) -> Path:
    cohort = cohort.expanduser().resolve()
    return cohort.parent / f"{cohort.name}-hub"


def proxy_command(project: Project) -> Path | None:
    """configurable-http-proxy installed by ./curso (.venv/proxy), else one on the PATH."""
    local = project.root / ".venv" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        return local
    found = shutil.which("configurable-http-proxy")
    return Path(found) if found else None


def logged_in(state: Path) -> set[str] | None:
    """Logins that ever used the hub (None when there is no hub database or it cannot be read)."""
    try:
        url = json.loads((state / "hub.json").read_text(encoding="utf-8")).get("db_url")
    except (OSError, ValueError):
        url = None
    if url:  # a database server (PostgreSQL)
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import SQLAlchemyError
        from sqlalchemy.pool import NullPool

        engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT name FROM users WHERE last_activity IS NOT NULL")).all()
        except SQLAlchemyError:
            return None
        finally:
            engine.dispose()
        return {name for (name,) in rows}
    db = state / "privado" / "jupyterhub.sqlite"
    try:
        if not db.is_file():
            return None
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT name FROM users WHERE last_activity IS NOT NULL").fetchall()
    except (OSError, sqlite3.Error):
        return None
    return {name for (name,) in rows}


def _owner(path: Path) -> str:
    return pwd.getpwuid(path.stat().st_uid).pw_name


def settings_for(
    project: Project,
    cohort: Path,
    instructors: list[str] | None = None,
    state: Path | None = None,
    **options,
) -> Settings:
    """Check the cohort and the machine, and gather the hub's settings."""
    from automatiza.grading.cohort import exchange_of, roster

    cohort = cohort.expanduser().resolve()
    if not (cohort / "alunos.csv").is_file():
        raise HubError(f"{cohort} não é uma turma: crie-a com 'automatiza turma criar {cohort} --alunos CSV'")
    exchange = exchange_of(cohort)
    if exchange is None or not exchange.is_dir():
        raise HubError(
            f"a turma {cohort} não tem pasta de troca de tarefas: recrie-a com 'automatiza turma criar'"
        )
    learners = sorted(roster(cohort))
    owner = _owner(cohort)
    chosen = list(instructors or ([] if owner == "root" else [owner]))
    if not chosen:
        raise HubError("diga quem dá o curso com --instrutor LOGIN (a pasta da turma é do root)")
    for login in chosen:
        if login in learners:
            raise HubError(f"'{login}' está em alunos.csv e também como instrutor: um login por papel")
    if options.get("db_url"):
        try:
            options["db_url"] = database.normalize(options["db_url"])  # postgresql:// -> psycopg 3
        except database.DatabaseError as exc:
            raise HubError(f"banco do JupyterHub: {exc}") from None
    return Settings(
        cohort=str(cohort),
        state=str((state or default_state(cohort)).expanduser().resolve()),
        repository=str(project.root),
        instructors=chosen,
        learners=learners,
        exchange=str(exchange),
        **options,
    )


def missing_accounts(settings: Settings) -> list[str]:
    missing = []
    for login in settings.instructors + settings.learners:
        try:
            pwd.getpwnam(login)
        except KeyError:
            missing.append(login)
    return missing


def write(settings: Settings) -> Path:
    """Write the hub's state folder and configuration; returns the jupyterhub_config.py path."""
    state = Path(settings.state)
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o755)
    settings.private.mkdir(exist_ok=True)
    settings.private.chmod(0o700)
    token = settings.private / "proxy_token"
    if not token.exists():
        token.write_text(secrets.token_hex(32))
        token.chmod(0o600)
    jupyterlab.learner_config(state / "jupyter-aluno", Path(settings.exchange), settings.course_id)
    jupyterlab.instructor_config(
        state / "jupyter-instrutor", Path(settings.cohort), Path(settings.exchange), settings.course_id
    )
    (state / "hub.json").write_text(json.dumps(asdict(settings), indent=2, ensure_ascii=False), "utf-8")
    (state / "hub.json").chmod(0o600)  # logins: personal data
    config = state / "jupyterhub_config.py"
    config.write_text(
        "# Gerado por `automatiza hub iniciar` a partir de hub.json (rode o comando de novo para mudar).\n"
        "from automatiza import hub\n"
        f"hub.configure(get_config(), {str(state / 'hub.json')!r})\n",
        encoding="utf-8",
    )
    return config


def configure(c, settings_file: str) -> None:
    """Fill JupyterHub's config object `c` from the saved settings (called by jupyterhub_config.py)."""
    data = json.loads(Path(settings_file).read_text(encoding="utf-8"))
    s = Settings(**data)
    bin_dir = Path(sys.executable).parent
    project = Project.at(Path(s.repository))
    c.JupyterHub.ip = s.ip
    c.JupyterHub.port = s.port
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = s.port + 1
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.port + 2}"
    c.JupyterHub.db_url = s.database
    c.JupyterHub.cookie_secret_file = str(s.private / "jupyterhub_cookie_secret")
    c.ConfigurableHTTPProxy.pid_file = str(s.private / "proxy.pid")
    c.ConfigurableHTTPProxy.auth_token = (s.private / "proxy_token").read_text().strip()
    proxy = proxy_command(project)
    if proxy is not None:
        c.ConfigurableHTTPProxy.command = [str(proxy)]
    c.JupyterHub.spawner_class = CourseSpawner
    c.JupyterHub.template_vars = {"announcement_login": "Automatiza.MG: entre com o seu login do curso."}
    c.Spawner.cmd = [str(bin_dir / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.mem_limit = f"{s.memory_mb}M"
    c.Spawner.cpu_limit = s.cpus
    # a whole class logs in at once at the start of a lesson: on a small server the JupyterLabs start slowly
    c.Spawner.http_timeout = 180
    c.Spawner.start_timeout = 300
    c.CourseSpawner.settings_file = settings_file
    c.Authenticator.allowed_users = set(s.learners + s.instructors)
    c.JupyterHub.load_groups = {INSTRUCTORS: {"users": s.instructors}}
    if s.auth == "senha-compartilhada":
        c.JupyterHub.authenticator_class = "shared-password"
        c.SharedPasswordAuthenticator.user_password = os.environ[PASSWORD_ENV]
    else:
        c.JupyterHub.authenticator_class = "pam"
        c.LocalAuthenticator.create_system_users = s.create_accounts
    c.JupyterHub.services = [
        {
            "name": "idle-culler",
            "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={s.idle_minutes * 60}"],
        }
    ]
    c.JupyterHub.load_roles = [
        {
            "name": "idle-culler",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        }
    ]


def _cgroup_v2() -> bool:
    return Path("/sys/fs/cgroup/cgroup.controllers").is_file()


def make_cgroups(name: str, memory_bytes: int, cpus: float) -> list[Path]:
    """Create the learner's cgroup(s) with the limits; returns the cgroup folders ([] when not possible)."""
    period = 100_000
    quota = max(1000, int(cpus * period))
    try:
        if _cgroup_v2():
            base = Path("/sys/fs/cgroup") / CGROUP
            base.mkdir(exist_ok=True)
            (base / "cgroup.subtree_control").write_text("+memory +cpu")
            group = base / name
            group.mkdir(exist_ok=True)
            (group / "memory.max").write_text(str(memory_bytes))
            (group / "cpu.max").write_text(f"{quota} {period}")
            return [group]
        memory = Path("/sys/fs/cgroup/memory") / CGROUP / name
        cpu = Path("/sys/fs/cgroup/cpu") / CGROUP / name
        memory.mkdir(parents=True, exist_ok=True)
        cpu.mkdir(parents=True, exist_ok=True)
        (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        (cpu / "cpu.cfs_period_us").write_text(str(period))
        (cpu / "cpu.cfs_quota_us").write_text(str(quota))
        return [memory, cpu]
    except OSError:
        return []


def remove_cgroups(name: str) -> None:
    """Remove a learner's (empty) cgroups, if any."""
    for path in (
        Path("/sys/fs/cgroup") / CGROUP / name,
        Path("/sys/fs/cgroup/memory") / CGROUP / name,
        Path("/sys/fs/cgroup/cpu") / CGROUP / name,
    ):
        try:
            path.rmdir()
        except OSError:
            pass


def open_secrets(project: Project) -> list[Path]:
    """Folders with solutions that other accounts can read (learners must not)."""
    exercises = project.exercises
    if exercises.is_dir() and exercises.stat().st_mode & (stat.S_IROTH | stat.S_IXOTH):
        return [exercises]
    return []


def memory_of(name: str) -> int | None:
    """Memory in use by a learner's cgroup (server and kernels), in bytes; None when unknown."""
    for path in (
        Path("/sys/fs/cgroup") / CGROUP / name / "memory.current",
        Path("/sys/fs/cgroup/memory") / CGROUP / name / "memory.usage_in_bytes",
    ):
        try:
            return int(path.read_text())
        except (OSError, ValueError):
            continue
    return None


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


try:  # the hub's spawner: only importable where JupyterHub is installed (always, in the course's venv)
    from jupyterhub.spawner import LocalProcessSpawner
    from traitlets import Unicode
except ImportError:  # pragma: no cover
    LocalProcessSpawner = object  # type: ignore[misc,assignment]

    def Unicode(*args, **kwargs):  # type: ignore[no-redef]  # noqa: N802
        return None


class CourseSpawner(LocalProcessSpawner):  # type: ignore[misc,valid-type]
    """Local processes, one per user, with the course's workspace, configuration and limits."""

    settings_file = Unicode("", help="hub.json written by `automatiza hub iniciar`").tag(config=True)

    def _settings(self) -> Settings:
        return Settings(**json.loads(Path(self.settings_file).read_text(encoding="utf-8")))

    def _is_instructor(self) -> bool:
        return any(g.name == INSTRUCTORS for g in self.user.groups)

    async def start(self):
        s = self._settings()
        account = pwd.getpwnam(self.user.name)
        if self._is_instructor():
            self.notebook_dir = s.cohort
        else:
            workspace = Path(account.pw_dir) / WORKSPACE
            project = Project.at(Path(s.repository))
            workspace.mkdir(parents=True, exist_ok=True)
            jupyterlab.copy_lessons(jupyterlab.lesson_files(project), workspace)
            _chown_tree(workspace, account.pw_uid, account.pw_gid)
            workspace.chmod(0o700)  # answers and feedback: nobody else in the cohort reads them
            self.notebook_dir = str(workspace)
        memory = int(s.memory_mb) * 1024 * 1024
        self._cgroups = make_cgroups(self.user.name, memory, s.cpus) if os.geteuid() == 0 else []
        if not self._cgroups:
            self.log.warning("sem cgroups: limite de memória por processo para %s", self.user.name)
        return await super().start()

    async def stop(self, now=False):
        await super().stop(now=now)
        remove_cgroups(self.user.name)

    def get_env(self):
        env = super().get_env()
        s = self._settings()
        folder = Path(s.state) / ("jupyter-instrutor" if self._is_instructor() else "jupyter-aluno")
        env = jupyterlab.environment(folder, env)
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "/usr/bin:/bin")])
        env["LANG"] = env["LC_ALL"] = "C.UTF-8"
        return env

    def make_preexec_fn(self, name):
        become_user = super().make_preexec_fn(name)
        groups = [str(g / "cgroup.procs") for g in getattr(self, "_cgroups", [])]
        memory = int(self._settings().memory_mb) * 1024 * 1024

        folder = self.notebook_dir

        def preexec():
            if groups:
                for procs in groups:
                    with open(procs, "w") as fh:
                        fh.write(str(os.getpid()))
            else:
                resource.setrlimit(resource.RLIMIT_AS, (memory * 2, memory * 2))
            become_user()
            if folder:  # nbgrader's Assignments panel fetches into the working folder
                os.chdir(folder)

        return preexec


def create_accounts(logins: list[str]) -> list[str]:
    """Create missing local accounts (no password: set one with `passwd LOGIN`); returns those created."""
    made = []
    for login in logins:
        try:
            pwd.getpwnam(login)
        except KeyError:
            subprocess.run(
                [
                    shutil.which("useradd") or "/usr/sbin/useradd",
                    "--create-home",
                    "--key",
                    "HOME_MODE=0700",
                    "--shell",
                    "/bin/bash",
                    login,
                ],
                check=True,
            )
            made.append(login)
    return made


def run(settings: Settings, project: Project) -> int:
    """Write the configuration and run JupyterHub in the foreground (until Ctrl+C)."""
    if os.geteuid() != 0:
        raise HubError(
            "o JupyterHub com contas locais precisa rodar como root (cada pessoa roda com o próprio "
            "usuário): "
            "use sudo"
        )
    if proxy_command(project) is None:
        raise HubError(
            "não encontrei o configurable-http-proxy: rode ./curso testar (ele instala o proxy em "
            ".venv/proxy; "
            "precisa do npm do Debian: apt-get install npm)"
        )
    if settings.auth == "senha-compartilhada" and len(os.environ.get(PASSWORD_ENV, "")) < 8:
        raise HubError(f"defina a senha compartilhada (8 caracteres ou mais) na variável {PASSWORD_ENV}")
    try:
        database.check(settings.database)
    except database.DatabaseError as exc:
        raise HubError(f"banco do JupyterHub: {exc}") from None
    if settings.create_accounts:
        create_accounts(settings.instructors + settings.learners)
    missing = missing_accounts(settings)
    if missing:
        raise HubError(
            f"faltam contas locais para: {', '.join(missing)}. Crie-as (useradd) ou use --criar-contas"
        )
    for folder in open_secrets(project):
        print(
            f"AVISO: outras contas conseguem ler {folder} (soluções e testes ocultos). Feche a pasta "
            f"para quem aprende: chown -R <instrutor> {folder} && chmod 700 {folder}",
            file=sys.stderr,
        )
    config = write(settings)
    command = [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(config)]
    print(f"JupyterHub da turma em http://{settings.ip}:{settings.port}/ (Ctrl+C para parar)", flush=True)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    os.chdir(settings.state)
    os.execve(command[0], command, env)  # JupyterHub takes this process over: signals reach it directly
