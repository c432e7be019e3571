"""The cohort gradebook and the hub's database on a real PostgreSQL server (started by these tests on
loopback, see postgres_apoio): `turma criar --banco`, `corrigir` with the same points as on SQLite, a killed
run that resumes, a submission that cannot reach the gradebook, the hub recording its users there; plain
`postgresql://` URLs normalized and an unreachable server explained in pt-BR."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import nbformat
import postgres_apoio
import psycopg
import pytest
from conftest import ROOT
from correcao_apoio import (
    TAREFA,
    by_student,
    copy_course,
    corrigir_command,
    grade_isolated,
    make_course,
    solved,
    student_version,
    submit,
)
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI

from automatiza import cli, database, hub
from automatiza.grading import cohort, coursedir, samples
from automatiza.paths import Project

pytestmark = pytest.mark.lento
EXERCISE = "00-primeira-entrega"


@pytest.fixture(scope="module")
def pg():
    try:
        with postgres_apoio.server() as server:
            yield server
    except postgres_apoio.Unavailable as exc:
        postgres_apoio.unavailable(str(exc))


_names = iter(range(1, 1000))


def new_database(pg) -> str:
    return pg.create_database(f"turma{next(_names)}")


def on_postgres(root: Path, url: str) -> Path:
    """Move the test course at `root` to the PostgreSQL database `url` (a plain postgresql:// URL, as an
    instructor writes it in nbgrader_config.py) and generate the assignment there."""
    with (root / "nbgrader_config.py").open("a") as fh:
        fh.write(f"c.CourseDirectory.db_url = {url!r}\n")
    (root / "gradebook.db").unlink()
    course = coursedir.load(root)
    assert course.db_url.startswith("postgresql+psycopg://")
    config = course.config
    config.CourseDirectory.db_url = course.db_url  # nbgrader's own tools need the driver in the URL
    result = NbGraderAPI(config=config).generate_assignment(TAREFA, force=True, create=True)
    assert result["success"], result.get("error") or result.get("log")
    return root


# ---- URLs and errors (no server needed) ------------------------------------------------------------------


def test_urls_are_normalized_for_the_installed_driver():
    assert database.normalize("postgresql://ana:s3nha@db.mg.gov.br:5433/notas") == (
        "postgresql+psycopg://ana:s3nha@db.mg.gov.br:5433/notas"
    )
    assert database.normalize("postgres://ana@/notas").startswith("postgresql+psycopg://ana@/notas")
    assert database.normalize("sqlite:////tmp/x/gradebook.db") == "sqlite:////tmp/x/gradebook.db"
    assert database.sqlite_path("sqlite:////tmp/x/gradebook.db") == Path("/tmp/x/gradebook.db")
    assert database.sqlite_path("postgresql://a@h/b") is None
    with pytest.raises(database.DatabaseError, match="psycopg 3"):
        database.normalize("postgresql+psycopg2://ana@h/notas")
    with pytest.raises(database.DatabaseError, match="não é uma URL de banco de dados"):
        database.normalize("notas da turma")


def test_unreachable_server_is_explained_in_portuguese(tmp_path, capsys):
    port = postgres_apoio._free_port()  # nothing listens there
    url = f"postgresql://instrutor:segredo@127.0.0.1:{port}/notas"
    with pytest.raises(database.DatabaseError) as info:
        database.check(url)
    message = str(info.value)
    assert "não consegui conectar ao banco" in message and "servidor PostgreSQL está rodando" in message
    assert "segredo" not in message and f"127.0.0.1:{port}/notas" in message

    roster = tmp_path / "alunos.csv"
    roster.write_text("id,nome\nana,Ana Souza\n")
    folder = tmp_path / "turma"
    code = cli.main(
        ["--raiz", str(ROOT), "turma", "criar", str(folder), "--alunos", str(roster), "--banco", url]
    )
    err = capsys.readouterr().err
    assert code == cli.USAGE and "não consegui conectar ao banco" in err and "segredo" not in err
    assert not folder.exists() and not (tmp_path / "turma-troca").exists()


# ---- the gradebook on PostgreSQL ---------------------------------------------------------------------------


def test_cohort_created_graded_and_exported_on_postgres(pg, tmp_path, capsys):
    if not (ROOT / "exercises" / EXERCISE / f"{EXERCISE}.ipynb").exists():
        pytest.skip(f"o exercício {EXERCISE} ainda não existe no repositório")
    repo = tmp_path / "repo"
    (repo / "curriculum").mkdir(parents=True)
    shutil.copy(ROOT / "curriculum" / "programa.yml", repo / "curriculum" / "programa.yml")
    shutil.copytree(ROOT / "exercises" / EXERCISE, repo / "exercises" / EXERCISE)
    roster = tmp_path / "alunos.csv"
    roster.write_text(
        "id,nome,email,instituicao\nana,Ana Souza,ana@pbh.gov.br,PBH Obras\nbeto,Beto Lima,,PBH\n"
    )
    folder = tmp_path / "turma"
    url = new_database(pg)
    assert url.startswith("postgresql://")
    command = ["--raiz", str(repo), "turma", "criar", str(folder), "--alunos", str(roster), "--banco", url]
    assert cli.main(command) == cli.OK, capsys.readouterr().err
    assert "2 aluno(s) importado(s)" in capsys.readouterr().out
    assert not (folder / "gradebook.db").exists(), "o banco de notas deveria estar no PostgreSQL"
    config = (folder / "nbgrader_config.py").read_text()
    assert "postgresql+psycopg://" in config  # nbgrader's own commands (formgrader, export) work too
    with Gradebook(database.normalize(url), "automatiza-mg") as gb:
        assert gb.find_student("ana").email == "ana@pbh.gov.br"
        assert gb.find_assignment(EXERCISE).max_score == 3

    source = nbformat.read(repo / "exercises" / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    release = nbformat.read(folder / "release" / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    for student, kind in (("ana", "certa"), ("beto", "intocada")):
        target = folder / "submitted" / student / EXERCISE
        target.mkdir(parents=True)
        nbformat.write(
            samples.submission(source, release, kind, __import__("random").Random(1)),
            target / f"{EXERCISE}.ipynb",
        )
    assert (
        cli.main(["--raiz", str(repo), "corrigir", EXERCISE, "--turma", str(folder), "--jobs", "2"]) == cli.OK
    )
    assert "3/3" in capsys.readouterr().out
    # the rows are in PostgreSQL itself (read with psycopg, not through nbgrader)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT s.student_id, sum(g.auto_score) FROM grade g "
            "JOIN submitted_notebook n ON g.notebook_id = n.id "
            "JOIN submitted_assignment s ON n.assignment_id = s.id GROUP BY s.student_id"
        ).fetchall()
    assert dict(rows) == {"ana": 3, "beto": 0}
    output = tmp_path / "export.csv"
    assert cli.main(["--raiz", str(repo), "notas", "--turma", str(folder), "--saida", str(output)]) == cli.OK
    table = list(csv.DictReader(output.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert {(r["aluno"], r["nota"]) for r in table} == {("ana", "3"), ("beto", "0")}


@pytest.fixture(scope="module")
def both(pg, tmp_path_factory):
    """The same six submissions graded into SQLite and into PostgreSQL."""
    base = make_course(tmp_path_factory.mktemp("curso"))
    submit(base, "certa", solved(base))
    submit(base, "intocada", student_version(base))
    submit(base, "parcial", solved(base, q2_resposta="def dobro(x):\n    return x + 2"))
    submit(base, "quebra", solved(base, q1_resposta="numero = 1 / 0"))
    submit(base, "lenta", solved(base, q3_resposta="import time\ntime.sleep(0.3)\n" + _area()))
    submit(base, "tipo", solved(base, q1_resposta="numero = 1500"))
    lite = copy_course(base, base.parent / "sqlite")
    post = on_postgres(copy_course(base, base.parent / "postgres"), new_database(pg))
    timings = {}
    reports = {}
    for name, root in (("sqlite", lite), ("postgres", post)):
        begin = time.perf_counter()
        reports[name] = grade_isolated(root)
        timings[name] = time.perf_counter() - begin
    print(f"\ncorrigir, 6 entregas: SQLite {timings['sqlite']:.2f} s, PostgreSQL {timings['postgres']:.2f} s")
    return lite, post, reports


def _area() -> str:
    return "def area_circulo(raio):\n    return math.pi * raio ** 2"


def test_same_points_and_rows_as_sqlite(both):
    lite, post, reports = both
    assert reports["sqlite"].ok and reports["postgres"].ok, reports["postgres"].summary()
    a = samples.scores(f"sqlite:///{lite / 'gradebook.db'}", "curso-teste", TAREFA)
    b = samples.scores(coursedir.load(post).db_url, "curso-teste", TAREFA)
    assert len(a) == 6 and samples.differences(a, b) == []
    assert b["certa"]["_total"] == 7 and b["intocada"]["_total"] == 0 and b["parcial"]["q2-testes"] == 0
    with (
        Gradebook(f"sqlite:///{lite / 'gradebook.db'}", "curso-teste") as ga,
        Gradebook(coursedir.load(post).db_url, "curso-teste") as gb,
    ):
        for student in a:
            sa, sb = ga.find_submission(TAREFA, student), gb.find_submission(TAREFA, student)
            assert (sa.timestamp, sa.needs_manual_grade) == (sb.timestamp, sb.needs_manual_grade)
            assert {c.name: c.auto_comment for c in sa.notebooks[0].comments} == {
                c.name: c.auto_comment for c in sb.notebooks[0].comments
            }


def test_rerun_on_postgres_skips_what_is_saved(both):
    _, post, _ = both
    again = grade_isolated(post)
    assert {r.status for r in again.results} == {"pulada"} and again.kernels == 0
    forced = grade_isolated(post, force=True, students=["parcial"])
    assert [r.student for r in forced.graded] == ["parcial"]
    assert by_student(forced)["parcial"].score == 4


def test_submission_cannot_reach_the_gradebook_server(pg, tmp_path):
    """Learner code that knows the server's address and password still cannot write to it while graded."""
    root = on_postgres(make_course(tmp_path / "curso"), url := new_database(pg))
    attack = (
        "try:\n"
        "    import psycopg\n"
        f"    with psycopg.connect({url!r}, connect_timeout=3, autocommit=True) as c:\n"
        "        c.execute('CREATE TABLE invadido (x int)')\n"
        "        c.execute('UPDATE grade SET auto_score = 99')\n"
        "except Exception:\n"
        "    pass\n"
        "numero = '1500.01.0023123/2024-08'"
    )
    submit(root, "honesta", solved(root))
    submit(root, "invasora", solved(root, q1_resposta=attack))
    report = grade_isolated(root, jobs=1)
    assert report.ok, report.summary()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('invadido')").fetchone() == (None,)
        assert conn.execute("SELECT max(auto_score) FROM grade").fetchone()[0] <= 3
    scores = samples.scores(coursedir.load(root).db_url, "curso-teste", TAREFA)
    assert scores["honesta"]["_total"] == scores["invasora"]["_total"] == 7


def test_killed_run_on_postgres_loses_nothing_and_resumes(pg, tmp_path):
    from test_correcao_nbgrader import _parent, _pids

    root = on_postgres(make_course(tmp_path / "curso"), new_database(pg))
    slow = "import time\ntime.sleep(1.5)\nnumero = '1500.01.0023123/2024-08'"
    for number in range(6):
        submit(root, f"aluno{number}", solved(root, q1_resposta=slow))
    command = corrigir_command(root, 1)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while (
        time.monotonic() < deadline
        and process.poll() is None
        and len(list((root / "autograded").glob(f"*/{TAREFA}"))) < 2
    ):
        time.sleep(0.2)
    if process.poll() is not None:
        error = process.stderr.read().decode()
        if "isol" in error:
            from correcao_apoio import isolation_missing

            isolation_missing(error.strip())
        pytest.fail(f"o corretor terminou antes da hora: {error}")
    zygotes = [pid for pid in _pids() if _parent(pid) == process.pid]
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()
    url = coursedir.load(root).db_url
    saved = sorted(p.parent.name for p in (root / "autograded").glob(f"*/{TAREFA}"))
    assert 2 <= len(saved) < 6, saved
    first = samples.scores(url, "curso-teste", TAREFA)
    assert set(saved) <= set(first) and {s: first[s]["_total"] for s in saved} == {s: 7 for s in saved}

    def others() -> int:  # the killed grader's session is gone and its open transaction rolled back
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s"
            return conn.execute(query, (conn.info.backend_pid,)).fetchone()[0]

    assert postgres_apoio.wait_until(lambda: others() == 0, 10)
    assert postgres_apoio.wait_until(lambda: not set(zygotes) & set(_pids()), 10)
    report = grade_isolated(root)
    statuses = {r.student: r.status for r in report.results}
    assert all(statuses[s] == "pulada" for s in saved)
    assert sum(status == "ok" for status in statuses.values()) == 6 - len(saved)
    final = samples.scores(url, "curso-teste", TAREFA)
    assert {s: final[s]["_total"] for s in final} == {f"aluno{n}": 7 for n in range(6)}


def test_grader_explains_an_unreachable_gradebook(pg, tmp_path, capsys):
    root = on_postgres(make_course(tmp_path / "curso"), new_database(pg))
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text().replace(f":{pg.port}/", f":{postgres_apoio._free_port()}/"))
    submit(root, "certa", solved(root))
    code = cli.main(["--raiz", str(ROOT), "corrigir", TAREFA, "--turma", str(root)])
    err = capsys.readouterr().err
    assert code == cli.SETUP and "banco de notas da turma: não consegui conectar" in err
    assert pg.password not in err and not (root / "autograded").exists()


# ---- the hub's database on PostgreSQL ---------------------------------------------------------------------


def _hub_cohort(tmp_path: Path) -> Path:
    folder = tmp_path / "2026-1"
    folder.mkdir()
    (folder / "alunos.csv").write_text("id,nome\nana,Ana Souza\nbeto,Beto Lima\n", encoding="utf-8")
    exchange = tmp_path / "2026-1-troca"
    exchange.mkdir()
    (folder / "nbgrader_config.py").write_text(f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n")
    return folder


def _three_free_ports() -> int:
    import socket

    for _ in range(50):
        first = postgres_apoio._free_port()
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", first + 1))
                b.bind(("127.0.0.1", first + 2))
            return first
        except OSError:
            continue
    pytest.fail("não achei três portas livres seguidas em 127.0.0.1")


def _login(port: int, user: str, password: str) -> None:
    """Log in through the hub's login form (xsrf cookie first), then open the home page once."""
    jar = CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    base = f"http://127.0.0.1:{port}/hub"
    opener.open(f"{base}/login", timeout=30).read()
    xsrf = next(c.value for c in jar if c.name == "_xsrf")
    form = urllib.parse.urlencode({"username": user, "password": password, "_xsrf": xsrf}).encode()
    try:
        opener.open(f"{base}/login", data=form, timeout=30)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302, exc.read()[:500]
    assert any(c.name.startswith("jupyterhub-session") or c.name == "jupyterhub-hub-login" for c in jar)
    opener.open(f"{base}/home", timeout=30).read()


def test_hub_starts_on_postgres_and_records_its_users_there(pg, tmp_path, monkeypatch):
    project = Project.at(ROOT)
    if hub.proxy_command(project) is None:
        pytest.skip("sem o configurable-http-proxy (./curso testar o instala em .venv/proxy)")
    url = new_database(pg)
    port = _three_free_ports()  # the hub takes the port, the next one (hub) and the one after (proxy API)
    folder = _hub_cohort(tmp_path)
    command = ["hub", "iniciar", "--turma", str(folder), "--instrutor", "maria", "--porta", str(port)]
    command += ["--autenticacao", "senha-compartilhada", "--banco", url, "--so-configurar"]
    assert cli.main(["--raiz", str(ROOT), *command]) == cli.OK
    state = hub.default_state(folder)
    config = state / "jupyterhub_config.py"
    settings = hub.Settings(**json.loads((state / "hub.json").read_text()))
    assert settings.db_url == url.replace("postgresql://", "postgresql+psycopg://")
    password = "senha-da-oficina"
    env = {**os.environ, hub.PASSWORD_ENV: password}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    log = (tmp_path / "hub.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(config)],
        cwd=state,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def up() -> bool:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/hub/api", timeout=2).read()
                return True
            except OSError:
                return process.poll() is not None

        assert postgres_apoio.wait_until(up, 90) and process.poll() is None, (
            tmp_path / "hub.log"
        ).read_text()
        assert not (settings.private / "jupyterhub.sqlite").exists(), "o hub deveria usar o PostgreSQL"
        with psycopg.connect(url) as conn:
            users = {name for (name,) in conn.execute("SELECT name FROM users")}
            groups = {name for (name,) in conn.execute("SELECT name FROM groups")}
        assert users == {"ana", "beto", "maria"} and "instrutores" in groups
        assert hub.logged_in(state) == set()
        _login(port, "ana", password)
        assert postgres_apoio.wait_until(lambda: hub.logged_in(state) == {"ana"}, 15), hub.logged_in(state)
        report = cohort.check(Path(settings.cohort), logged_in=cohort.logins_of_hub(Path(settings.cohort)))
        assert report.never_logged_in == ["beto"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_hub_refuses_an_unreachable_database(tmp_path, monkeypatch):
    project = Project.at(ROOT)
    bad = f"postgres://hub:segredo@127.0.0.1:{postgres_apoio._free_port()}/hub"
    settings = hub.settings_for(
        project, _hub_cohort(tmp_path), ["maria"], auth="senha-compartilhada", db_url=bad
    )
    assert settings.database.startswith("postgresql+psycopg://hub:segredo@")
    if os.geteuid() != 0 or hub.proxy_command(project) is None:
        pytest.skip("hub iniciar precisa de root e do configurable-http-proxy antes de olhar o banco")
    monkeypatch.setenv(hub.PASSWORD_ENV, "senha-da-oficina")
    with pytest.raises(hub.HubError) as info:
        hub.run(settings, project)
    message = str(info.value)
    assert message.startswith("banco do JupyterHub: não consegui conectar") and "segredo" not in message
    assert not Path(settings.state).exists(), "nada deveria ser escrito antes de o banco responder"
