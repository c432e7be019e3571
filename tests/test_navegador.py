"""The course site in a real browser (Debian's Chromium through Playwright), served from a local HTTP server.

Every request that does not go to the local server is blocked and recorded: the site must work offline.
axe-core (bundled in axe-playwright-python) checks every page for serious or critical accessibility problems.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from automatiza.paths import Project

pytestmark = [pytest.mark.navegador, pytest.mark.lento]

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = "AUTOMATIZA_CAPTURAS"  # folder where the tests save screenshots of the site, when set
DESKTOP = {"width": 1300, "height": 900}
PHONE = {"width": 420, "height": 860}
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("AUTOMATIZA_EXIGIR_NAVEGADOR") == "1":
        pytest.fail(f"{reason} (AUTOMATIZA_EXIGIR_NAVEGADOR=1 exige o teste no navegador)")
    pytest.skip(reason)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(built_course: Project) -> Iterator[str]:
    """The built site on a free local port, served from a background thread."""
    handler = functools.partial(_QuietHandler, directory=str(built_course.site_html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"o Chromium não está instalado em {CHROMIUM} (no Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("o pacote playwright não está instalado")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site: str):
    """A fresh desktop page that may only talk to the local server (other requests are blocked, recorded)."""
    yield from _page(browser, site, DESKTOP)


@pytest.fixture
def phone(browser, site: str):
    yield from _page(browser, site, PHONE)


def _page(browser, site: str, viewport: dict):
    context = browser.new_context(viewport=viewport, locale="pt-BR")
    outside: list[str] = []

    def route(r):
        if r.request.url.startswith(site) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    errors: list[str] = []
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.set_default_timeout(15_000)
    yield pg
    context.close()
    assert not outside, f"o site tentou usar a internet: {outside}"
    assert not errors, f"erros de JavaScript na página: {errors}"


def test_home_page_in_portuguese(page, site, built_course):
    page.goto(f"{site}/index.html")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    cur = built_course.curriculum()
    assert cur.programa.titulo in page.locator("article h1").inner_text()
    body = page.locator("article").inner_text()
    assert "Etapas do programa" in body
    for stage in cur.etapas:
        assert stage.nome in body
    if any(not m.written for m in cur.modulos):
        assert "Em preparação" in body
    assert page.get_by_role("link", name="Programa e cronograma").first.is_visible()


def test_sidebar_leads_to_module_01_and_its_lesson(page, site, built_course):
    module = built_course.curriculum().module("01")
    page.goto(f"{site}/index.html")
    sidebar = page.locator("nav.bd-docs-nav")
    sidebar.get_by_role("link", name=re.compile(r"^Módulo 01 ·")).click()
    page.wait_for_url(re.compile(r"/modulos/modulo-01\.html$"))
    assert page.locator("article h1").inner_text().startswith("Módulo 01 ·")
    assert module.objetivos[0] in page.locator("article").inner_text()

    lesson = Path(module.licoes[0]).with_suffix(".html").as_posix()
    page.locator(f'article a[href="../{lesson}"]').click()
    page.wait_for_url(re.compile(re.escape(lesson) + "$"))
    assert page.locator("article h1").count() >= 1
    assert page.locator("div.cell_output").count() > 0, "a lição deveria aparecer com as saídas"
    download = page.locator('a.btn-download-source-button[href$=".ipynb"]')
    assert download.count() == 1
    response = page.request.get(page.url.rsplit("/", 1)[0] + "/" + download.get_attribute("href"))
    assert response.ok and response.json()["cells"]


def test_search_finds_cpf(page, site):
    page.goto(f"{site}/search.html")
    field = page.locator("#search-results").locator("xpath=..").locator("input[name=q]")
    field.fill("CPF")
    field.press("Enter")
    results = page.locator("#search-results ul.search li")
    results.first.wait_for()
    assert results.count() >= 1
    page.locator("#search-results p.search-summary").wait_for()
    summary = page.locator("#search-results p.search-summary").inner_text()
    assert "Pesquisa finalizada" in summary, f"search summary not in Portuguese: {summary!r}"
    assert "CPF" in results.first.inner_text() or "cpf" in results.first.inner_text().lower()


def _site_pages(project: Project) -> list[str]:
    html = project.site_html
    return sorted(
        p.relative_to(html).as_posix()
        for p in html.rglob("*.html")
        if not {"_static", "_sources", "_images"} & set(p.relative_to(html).parts)
    )


def _screenshot(page, name: str) -> None:
    if folder := os.environ.get(SCREENSHOTS):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=False)


def test_no_serious_accessibility_problem_on_any_page(page, site, built_course):
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        _unavailable("o pacote axe-playwright-python não está instalado")
    axe = Axe()
    pages = _site_pages(built_course)
    assert len(pages) > 10 and "index.html" in pages and "glossario.html" in pages
    problems = []
    for name in pages:
        page.goto(f"{site}/{name}")
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in {"serious", "critical"}:
                targets = [node["target"] for node in violation["nodes"][:3]]
                problems.append(f"{name}: {violation['id']} ({violation['impact']}) em {targets}")
    assert not problems, f"{len(problems)} problema(s) de acessibilidade:\n" + "\n".join(problems)


def test_one_search_box_on_desktop_and_one_on_a_phone(page, phone, site):
    controls = "button.search-button__button, input[name=q]"
    for viewport in (page, phone):
        viewport.goto(f"{site}/index.html")
        visible = [c for c in viewport.locator(controls).all() if c.is_visible()]
        assert len(visible) == 1, f"{len(visible)} caixas de busca visíveis em {viewport.viewport_size}"
    _screenshot(page, "inicio.png")
    _screenshot(phone, "inicio-celular.png")
    phone.locator("button.search-button__button:visible").click()
    field = phone.locator("#pst-search-dialog input[name=q]")
    field.wait_for(state="visible")
    field.fill("CPF")
    field.press("Enter")
    phone.wait_for_url(re.compile(r"/search\.html\?q=CPF"))
    phone.locator("#search-results ul.search li").first.wait_for()


def test_lesson_and_exercise_pages_offer_the_notebook(page, site, built_course):
    module = built_course.curriculum().module("01")
    pages = [Path(module.licoes[0]).with_suffix(".html").as_posix()]
    pages += [
        f"exercicios/{module.tarefa.nome}/{nb.stem}.html"
        for nb in built_course.assignment_notebooks(module.tarefa.nome)
    ]
    for name in pages:
        page.goto(f"{site}/{name}")
        box = page.locator("article .automatiza-notebook")
        assert box.is_visible(), f"{name}: sem a caixa 'Usar este notebook'"
        download = box.get_by_role("link", name=re.compile(r"^Baixar o notebook"))
        with page.expect_download() as event:
            download.click()
        saved = event.value
        assert saved.suggested_filename.endswith(".ipynb")
        notebook = json.loads(Path(saved.path()).read_text(encoding="utf-8"))
        assert notebook["cells"]
        text = json.dumps(notebook)
        assert "### BEGIN SOLUTION" not in text and "### BEGIN HIDDEN TESTS" not in text, name
        hub = built_course.curriculum().programa.abrir_no_jupyterhub
        assert box.get_by_role("link", name="Abrir no JupyterLab do curso").count() == (1 if hub else 0)
        _screenshot(page, name.replace("/", "_").replace(".html", ".png"))
