"""The whole course flow in a real browser against a real JupyterHub on loopback, with screenshots.

One instructor and two learners (local accounts made for the tour, removed after): the instructor creates the
cohort and releases exercise 00; each learner logs in, sees JupyterLab in Portuguese, fetches, answers,
validates and submits (the second one with a wrong answer); the instructor collects, grades with `automatiza
corrigir`, writes the feedback and releases it; each learner fetches and opens their own feedback and cannot
open the other's. Used by tests/test_hub_navegador.py (which asserts on the `Tour` it returns) and by
`automatiza capturas` (which only keeps the screenshots for the site).

Needs root (accounts, a multi-user hub), Debian's Chromium and the proxy installed by ./curso.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from automatiza import hub
from automatiza.paths import Project

CHROMIUM = Path("/usr/bin/chromium")
EXERCISE = "00-primeira-entrega"
LESSON = "notebooks/00-jupyterlab.ipynb"
PASSWORD = "senha-da-oficina-123"
WRONG_Q2 = "total_horas = 4 + 3 + 4 + 2\n"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
# screenshot name -> alt text (pt-BR), used by the site pages and lesson 00
SCREENSHOTS = {
    "jupyterlab-aluno": (
        "JupyterLab de quem aprende, em português: à esquerda só a pasta licoes; no meio, o Iniciador "
        "com Notebook, Console e Terminal."
    ),
    "menu-nbgrader-aluno": (
        "Menu Nbgrader de quem aprende, com uma só opção: Assignment List (lista de tarefas)."
    ),
    "tarefas-liberadas": (
        "Painel Assignments com a tarefa 00-primeira-entrega em Released assignments (tarefas liberadas)"
        " e o botão Fetch (buscar)."
    ),
    "tarefa-buscada": (
        "Painel Assignments depois do Fetch: a tarefa aparece em Downloaded assignments (tarefas "
        "baixadas), com os botões Validate (validar) e Submit (entregar)."
    ),
    "validar-erro": (
        "Janela do Validate com a mensagem em português da verificação que falhou: o total de horas não "
        "confere, com a dica."
    ),
    "entregue": (
        "Painel Assignments depois do Submit: a tarefa aparece em Submitted assignments (tarefas "
        "entregues) com a data e a hora da entrega."
    ),
    "devolutiva": ("Página da devolutiva: nota 3 de 3 e, para cada questão, os pontos e as verificações."),
    "devolutiva-com-erro": (
        "Página da devolutiva com a questão 2 sem pontos e a mensagem da verificação que falhou, sem o "
        "código dos testes."
    ),
    "instrutor-formgrader": (
        "JupyterLab de quem dá o curso: o menu Nbgrader tem Formgrader, Create Assignment e Course List."
    ),
}


class TourUnavailable(Exception):
    """The machine cannot run the tour (pt-BR reason)."""


@dataclass
class Tour:
    base: str
    instructor: str
    learners: list[str]
    folder: Path
    screenshots: dict[str, Path] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def reachable_by_others(path: Path) -> bool:
    """Can an unprivileged account execute `path` (every folder on the way o+x)?"""
    path = path.resolve()
    folders_ok = all(p.stat().st_mode & stat.S_IXOTH for p in path.parents)
    return folders_ok and bool(path.stat().st_mode & stat.S_IXOTH)


def check_machine(project: Project) -> None:
    """Raise TourUnavailable with the reason when the tour cannot run here."""
    if os.geteuid() != 0:
        raise TourUnavailable("o passeio no JupyterHub precisa de root (cria contas locais)")
    if not CHROMIUM.exists():
        raise TourUnavailable(f"o Chromium não está em {CHROMIUM} (no Debian: apt-get install chromium)")
    if hub.proxy_command(project) is None:
        raise TourUnavailable("falta o configurable-http-proxy (./curso o instala com o npm em .venv/proxy)")
    import automatiza

    for needed in (Path(sys.executable), Path(sys.prefix) / "bin", Path(automatiza.__file__).parent):
        if not reachable_by_others(needed):
            raise TourUnavailable(
                f"{needed} não pode ser usado por outras contas (uma pasta no caminho é fechada): o "
                "JupyterLab "
                "de cada pessoa roda com o usuário dela. Use o ambiente de ./curso (python3.11 do Debian) "
                "numa pasta que todos possam atravessar (chmod o+x nas pastas acima)"
            )
    try:
        import playwright  # noqa: F401
    except ImportError as exc:
        raise TourUnavailable("o pacote playwright não está instalado") from exc


def _free_port() -> int:
    for _ in range(50):
        port = random.randint(20000, 40000)
        with contextlib.ExitStack() as stack:
            try:
                for offset in range(3):
                    s = stack.enter_context(socket.socket())
                    s.bind(("127.0.0.1", port + offset))
                return port
            except OSError:
                continue
    raise TourUnavailable("nenhuma porta livre no loopback")


def _as(user: str, command: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        ["runuser", "-u", user, "--", "env", *[f"{k}={v}" for k, v in env.items()], *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _must(result: subprocess.CompletedProcess, what: str) -> str:
    if result.returncode != 0:
        raise RuntimeError(
            f"{what} falhou ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout + result.stderr


def _kill_processes_of(name: str) -> None:
    """Kill, by process id, what is left running as a tour account (the account is about to be removed)."""
    import pwd

    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if proc.stat().st_uid == uid:
                    os.kill(int(proc.name), signal.SIGKILL)


@contextlib.contextmanager
def accounts(base: Path, names: list[str]) -> Iterator[dict[str, Path]]:
    """Local accounts with homes under `base`, removed afterwards."""
    made: dict[str, Path] = {}
    try:
        for name in names:
            home = base / "casas" / name
            subprocess.run(
                [
                    shutil.which("useradd") or "/usr/sbin/useradd",
                    "--create-home",
                    "--home-dir",
                    str(home),
                    "--shell",
                    "/bin/bash",
                    name,
                ],
                check=True,
                capture_output=True,
            )
            made[name] = home
        yield made
    finally:
        for name in made:
            _kill_processes_of(name)
            subprocess.run(["userdel", "--remove", name], capture_output=True)
            hub.remove_cgroups(name)


@contextlib.contextmanager
def running_hub(project: Project, cohort: Path, instructor: str, log: Path) -> Iterator[str]:
    """`automatiza hub iniciar` in the background on a free loopback port; stopped afterwards."""
    port = _free_port()
    env = dict(os.environ, **{hub.PASSWORD_ENV: PASSWORD})
    command = [
        sys.executable,
        "-m",
        "automatiza.cli",
        "--raiz",
        str(project.root),
        "hub",
        "iniciar",
        "--turma",
        str(cohort),
        "--instrutor",
        instructor,
        "--autenticacao",
        "senha-compartilhada",
        "--porta",
        str(port),
        "--memoria",
        "1024",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"o JupyterHub parou ao iniciar:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{base}/hub/login", timeout=5) as response:
                    if response.status == 200:
                        break
            if time.monotonic() > deadline:
                raise RuntimeError(f"o JupyterHub não respondeu em 180 s:\n{log.read_text()[-3000:]}")
            time.sleep(1)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # the proxy runs in a session of its own: stop it by the id the hub wrote, if it is still there
        pid_file = hub.default_state(cohort) / "privado" / "proxy.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)


def make_course_copy(project: Project, base: Path, instructor: str) -> Path:
    """A course checkout with lesson 00 and exercise 00 only; exercises/ closed to everyone but the
    instructor (what `hub iniciar` asks of a real deployment)."""
    repo = base / "curso"
    (repo / "curriculum").mkdir(parents=True)
    shutil.copy(project.curriculum_file, repo / "curriculum" / "programa.yml")
    (repo / "notebooks").mkdir()
    shutil.copy(project.root / LESSON, repo / LESSON)
    shutil.copytree(project.exercises / EXERCISE, repo / "exercises" / EXERCISE)
    subprocess.run(["chown", "-R", instructor, str(repo / "exercises")], check=True)
    (repo / "exercises").chmod(0o700)
    return repo


def _answer(released: nbformat.NotebookNode, source: nbformat.NotebookNode, wrong: bool) -> dict:
    from automatiza.grading import samples

    nb = samples.submission(source, released, "certa", random.Random(0))
    if wrong:
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "q2-resposta":
                cell.source = WRONG_Q2
    return dict(nb)


def run(project: Project, shots: Path, keep: Path | None = None) -> Tour:
    """Run the whole flow; screenshots go to `shots`. `keep`: a folder for the hub log (default: temp)."""
    check_machine(project)
    from playwright.sync_api import sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="automatiza-passeio-", dir="/tmp"))
    base.chmod(0o755)
    tag = f"{os.getpid() % 100000:05d}"
    names = [f"az{tag}prof", f"az{tag}ana", f"az{tag}beto"]
    instructor, learners = names[0], names[1:]
    log = (keep or base) / "hub.log"
    try:
        with accounts(base, names) as homes:
            repo = make_course_copy(project, base, instructor)
            cursos = base / "turmas"
            cursos.mkdir()
            subprocess.run(["chown", instructor, str(cursos)], check=True)
            roster = cursos / "alunos.csv"
            roster.write_text(
                "id,nome,email,instituicao\n"
                f"{learners[0]},Ana Souza,ana@pbh.gov.br,PBH Sudecap\n"
                f"{learners[1]},Beto Lima,beto@planejamento.mg.gov.br,Seplag-MG\n",
                encoding="utf-8",
            )
            roster.chmod(0o644)
            folder = cursos / "2026-1"
            cli = [sys.executable, "-m", "automatiza.cli", "--raiz", str(repo)]
            home = homes[instructor]
            _must(
                _as(instructor, [*cli, "turma", "criar", str(folder), "--alunos", str(roster)], cursos, home),
                "turma criar",
            )
            nbgrader = [sys.executable, "-m", "nbgrader"]
            _must(
                _as(instructor, [*nbgrader, "release_assignment", EXERCISE], folder, home),
                "release_assignment",
            )
            tour = Tour("", instructor, learners, folder)
            with running_hub(project, folder, instructor, log) as url:
                tour.base = url
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
                    try:
                        _browse(browser, tour, repo, shots, cli, nbgrader, home)
                    finally:
                        browser.close()
            return tour
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _login(browser, tour: Tour, user: str):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="pt-BR")
    page = context.new_page()
    page.set_default_timeout(90_000)
    started = time.monotonic()
    page.goto(f"{tour.base}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/lab**")
    page.locator("#jp-main-dock-panel").wait_for()
    page.locator(".jp-DirListing-item").first.wait_for()
    tour.timings[f"login->lab {user}"] = time.monotonic() - started
    return page


def _shot(page, tour: Tour, shots: Path, name: str) -> None:
    path = shots / f"{name}.png"
    page.screenshot(path=str(path))
    tour.screenshots[name] = path


def _nbgrader_menu(page) -> list[str]:
    page.get_by_role("menuitem", name="Nbgrader").click()
    menu = page.locator(".lm-Menu").last
    menu.wait_for()
    return [line.strip() for line in menu.inner_text().splitlines() if line.strip()]


def _assignments(page):
    page.keyboard.press("Escape")
    page.get_by_role("menuitem", name="Nbgrader").click()
    page.get_by_role("menuitem", name="Assignment List").click()
    panel = page.locator("#released_assignments_list")
    panel.wait_for()
    return panel


def _api(page, tour: Tour, user: str, method: str, path: str, data: dict | None = None):
    url = f"{tour.base}/user/{user}/api/contents/{path}"
    xsrf = [c["value"] for c in page.context.cookies(url) if c["name"] == "_xsrf"]
    headers = {"X-XSRFToken": xsrf[-1] if xsrf else ""}
    if method == "GET":
        return page.request.get(url, headers=headers)
    return page.request.put(url, headers=headers, data=json.dumps(data))


def _browse(browser, tour: Tour, repo: Path, shots: Path, cli: list[str], nbgrader: list[str], home: Path):
    source = nbformat.read(repo / "exercises" / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
    instructor = _login(browser, tour, tour.instructor)
    tour.facts["instructor menu"] = _nbgrader_menu(instructor)
    _shot(instructor, tour, shots, "instrutor-formgrader")
    instructor.keyboard.press("Escape")

    pages = {}
    for number, user in enumerate(tour.learners):
        page = _login(browser, tour, user)
        pages[user] = page
        listing = _api(page, tour, user, "GET", "").json()
        tour.facts[f"files {user}"] = sorted(item["name"] for item in listing["content"])
        tour.facts[f"launcher {user}"] = page.locator(".jp-Launcher").first.inner_text()
        if number == 0:
            _shot(page, tour, shots, "jupyterlab-aluno")
        tour.facts[f"menu {user}"] = _nbgrader_menu(page)
        if number == 0:
            _shot(page, tour, shots, "menu-nbgrader-aluno")
        panel = _assignments(page)
        panel.get_by_text(EXERCISE).wait_for()
        if number == 0:
            _shot(page, tour, shots, "tarefas-liberadas")
        panel.get_by_role("button", name="Fetch").click()
        fetched = page.locator("#fetched_assignments_list")
        fetched.get_by_text(EXERCISE).first.wait_for()
        # the learner answers in the notebook (saved through the same contents API JupyterLab uses)
        path = f"{EXERCISE}/{EXERCISE}.ipynb"
        released = nbformat.from_dict(_api(page, tour, user, "GET", path).json()["content"])
        answered = _answer(released, source, wrong=number == 1)
        saved = _api(
            page, tour, user, "PUT", path, {"type": "notebook", "format": "json", "content": answered}
        )
        assert saved.ok, saved.text()
        fetched.locator("a.assignment-notebooks-link").first.click()
        validate = fetched.get_by_role("button", name="Validate").first
        validate.wait_for()
        if number == 0:
            _shot(page, tour, shots, "tarefa-buscada")
        validate.click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for()
        page.wait_for_function(
            "() => !document.querySelector('.jp-Dialog').innerText.includes('Validating')", timeout=180_000
        )
        tour.facts[f"validate {user}"] = dialog.inner_text()
        if number == 1:
            _shot(page, tour, shots, "validar-erro")
        dialog.get_by_role("button").last.click()
        fetched.get_by_role("button", name="Submit").first.click()
        page.locator("#submitted_assignments_list").get_by_text(EXERCISE).first.wait_for()
        if number == 0:
            _shot(page, tour, shots, "entregue")

    folder = tour.folder
    _must(_as(tour.instructor, [*nbgrader, "collect", EXERCISE], folder, home), "collect")
    _must(
        _as(
            tour.instructor, [*cli, "corrigir", EXERCISE, "--turma", str(folder), "--jobs", "2"], folder, home
        ),
        "corrigir",
    )
    tour.facts["devolutiva"] = _must(
        _as(tour.instructor, [*cli, "devolutiva", EXERCISE, "--turma", str(folder)], folder, home),
        "devolutiva",
    )
    _must(_as(tour.instructor, [*nbgrader, "release_feedback", EXERCISE], folder, home), "release_feedback")

    for number, user in enumerate(tour.learners):
        page = pages[user]
        _assignments(page)
        page.locator("#refresh_assignments_list").click()
        submitted = page.locator("#submitted_assignments_list")
        submitted.get_by_role("button", name="Fetch Feedback").first.click()
        submitted.get_by_text("view feedback").first.wait_for()
        # the page the "view feedback" link opens (a JupyterLab tab), in a browser tab of its own
        folder = f"{EXERCISE}/feedback"
        stamp = _api(page, tour, user, "GET", folder).json()["content"][0]["name"]
        feedback = page.context.new_page()
        feedback.goto(f"{tour.base}/user/{user}/files/{folder}/{stamp}/{EXERCISE}.html")
        feedback.get_by_text("Devolutiva da tarefa").first.wait_for()
        tour.facts[f"feedback {user}"] = feedback.locator("body").inner_text()
        tour.facts[f"feedback url {user}"] = feedback.url
        _shot(feedback, tour, shots, "devolutiva" if number == 0 else "devolutiva-com-erro")
    # the second learner tries the first one's feedback and files
    first, second = tour.learners
    url = str(tour.facts[f"feedback url {first}"]).replace(f"/user/{first}/", f"/user/{second}/")
    tour.facts["other feedback, own server"] = pages[second].request.get(url).status
    tour.facts["other feedback, other server"] = (
        pages[second].request.get(str(tour.facts[f"feedback url {first}"]), max_redirects=0).status
    )
    other = home.parent / first / hub.WORKSPACE
    tour.facts["other workspace"] = _as(second, ["ls", str(other)], home.parent, home.parent).returncode
    tour.facts["cohort"] = _as(second, ["ls", str(folder)], home.parent, home.parent).returncode
    exchange_feedback = Path(f"{folder}-troca") / "automatiza-mg" / "feedback"
    tour.facts["exchange feedback list"] = _as(
        second, ["ls", str(exchange_feedback)], home.parent, home.parent
    ).returncode
    tour.facts["exercises"] = _as(
        second, ["ls", str(repo / "exercises")], home.parent, home.parent
    ).returncode
