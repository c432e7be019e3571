"""The course site: pages generated from the curriculum (fast, synthetic) and the real built site (slow)."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import ROOT
from helpers import make_notebook

from automatiza import book, book_ptbr, release
from automatiza.curriculum import Curriculum
from automatiza.paths import Project

# ---------------------------------------------------------------------------------------------------------
# Fast: page generation on a small synthetic curriculum


def _curriculum() -> Curriculum:
    module = {
        "etapa": "capacitacao",
        "horas": 2,
        "objetivos": ["Objetivo de exemplo."],
    }
    return Curriculum.model_validate(
        {
            "programa": {
                "titulo": "Trilha de Teste",
                "subtitulo": "Um subtítulo",
                "instituicao": "Escola de Teste",
                "duracao_meses": 3,
                "apresentacao": "Uma apresentação com acentuação: ação, módulo.",
            },
            "etapas": [
                {
                    "id": "capacitacao",
                    "nome": "Capacitação",
                    "meses": [1, 2],
                    "semanas": [1, 8],
                    "proposito": "Aprender as ferramentas.",
                },
                {
                    "id": "evento",
                    "nome": "Evento final",
                    "meses": [3],
                    "semanas": [9, 9],
                    "proposito": "Apresentar os resultados.",
                },
            ],
            "modulos": [
                {
                    **module,
                    "id": "00",
                    "titulo": "Primeiros passos",
                    "semana": 1,
                    "situacao": "escrito",
                    "licoes": ["notebooks/00-passos.ipynb"],
                    "tarefa": {"nome": "00-passos", "pontos": 3},
                },
                {
                    **module,
                    "id": "01",
                    "titulo": "Planilhas",
                    "semana": 6,
                    "horas": 1.5,
                    "situacao": "planejado",
                    "objetivos": ["Ler planilhas com separador ';'.", "Somar valores."],
                    "prerequisitos": ["00"],
                    "dados": ["medicoes_obras"],
                    "tarefa": {"nome": "01-planilhas", "pontos": 12},
                },
            ],
        }
    )


def _notebooks() -> dict[str, book.ModuleNotebooks]:
    return {
        "00": book.ModuleNotebooks(
            lessons=[book.NotebookPage(Path("x"), "notebooks/00-passos.ipynb", "Lição de passos")],
            exercises=[
                book.NotebookPage(Path("y"), "exercicios/00-passos/00-passos.ipynb", "Tarefa de passos")
            ],
        )
    }


def test_pt_br_numbers_and_months():
    cur = _curriculum()
    assert book.number(1.5) == "1,5"
    assert book.hours(1.5) == "1,5 hora"
    assert book.hours(5) == "5 horas"
    assert book.points(12) == "12 pontos"
    assert book.months(cur.stage("capacitacao")) == "meses 1 e 2"
    assert book.months(cur.stage("evento")) == "mês 3"
    assert book.weeks(cur.stage("capacitacao")) == "semanas 1 a 8"
    assert [book.month_of_week(cur.stage("capacitacao"), w) for w in (1, 4, 5, 8)] == [1, 1, 2, 2]


def test_home_page_lists_stages_and_every_module():
    page = book.home_page(_curriculum())
    assert page.startswith("# Trilha de Teste\n")
    assert "Uma apresentação com acentuação" in page
    for text in ("Capacitação", "Meses 1 e 2", "Aprender as ferramentas.", "Evento final", "Mês 3"):
        assert text in page
    assert "[Módulo 00 · Primeiros passos](modulos/modulo-00.md)" in page
    assert "[Módulo 01 · Planilhas](modulos/modulo-01.md)" in page
    assert "- Ler planilhas com separador ';'." in page
    planned = next(line for line in page.splitlines() if line.startswith("**[Módulo 01 · Planilhas]"))
    assert "Em preparação" in planned
    written = next(line for line in page.splitlines() if line.startswith("**[Módulo 00 · Primeiros passos]"))
    assert "Disponível" in written and "Em preparação" not in written


def test_planned_module_page_says_em_preparacao_and_links_back():
    cur = _curriculum()
    page = book.module_page(cur, cur.module("01"))
    assert page.startswith("# Módulo 01 · Planilhas\n")
    assert "Em preparação" in page
    assert "Este módulo ainda está sendo escrito" in page
    assert "| Tempo estimado | 1,5 hora |" in page
    assert "[Módulo 00 · Primeiros passos](modulo-00.md)" in page  # prerequisite
    assert "`medicoes_obras`" in page
    assert "`01-planilhas`, 12 pontos" in page
    assert "## Lições" not in page
    assert "[← Voltar ao programa e cronograma](../programa.md)" in page


def test_written_module_page_links_lessons_and_exercise():
    cur = _curriculum()
    page = book.module_page(cur, cur.module("00"), _notebooks()["00"])
    assert "Em preparação" not in page
    assert "[Lição de passos](../notebooks/00-passos.ipynb)" in page
    assert "[Tarefa de passos](../exercicios/00-passos/00-passos.ipynb)" in page
    assert "Assignments" in page
    assert "| Pré-requisitos | nenhum |" in page


def test_dataset_links_only_when_the_dictionary_exists():
    cur = _curriculum()
    module = cur.module("01")
    assert "](../dados.md)" not in book.module_page(cur, module)
    assert "[`medicoes_obras`](../dados.md)" in book.module_page(cur, module, dictionary=set())
    anchored = book.module_page(cur, module, dictionary={"medicoes_obras"})
    assert "{ref}`medicoes_obras <dados-medicoes-obras>`" in anchored
    assert book.documented_datasets("(dados-medicoes-obras)=\n## medicoes_obras\n") == {"medicoes_obras"}


def test_syllabus_has_schedule_hours_prerequisites_datasets_and_points():
    page = book.syllabus_page(_curriculum())
    assert page.startswith("# Programa e cronograma\n")
    assert "3,5 horas" in page and "15 pontos" in page  # totals
    assert "| 6 | 2 | [Módulo 01 · Planilhas](modulos/modulo-01.md) | 1,5 |" in page  # week 6 is month 2
    assert "Esta etapa não tem módulos de estudo." in page  # the final event
    row = next(line for line in page.splitlines() if line.startswith("| [Módulo 01]"))
    assert "[Módulo 00](modulos/modulo-00.md)" in row and "`medicoes_obras`" in row
    assert "`01-planilhas`" in row and row.endswith("| 12 |")


def test_toc_puts_notebooks_under_their_module():
    cur = _curriculum()
    tree = book.toc(cur, _notebooks())
    assert tree["root"] == "index" and tree["format"] == "jb-book"
    captions = [part["caption"] for part in tree["parts"]]
    assert captions == ["Comece aqui", "Capacitação (meses 1 e 2)"]  # a stage without modules has no part
    module = tree["parts"][1]["chapters"][0]
    assert module == {
        "file": "modulos/modulo-00",
        "sections": [
            {"file": "notebooks/00-passos", "title": "Lição"},
            {"file": "exercicios/00-passos/00-passos", "title": "Exercício avaliado"},
        ],
    }
    assert "dados" not in book.toc_files(tree)
    assert book.toc_files(book.toc(cur, _notebooks(), dictionary=set()))[-1] == "dados"


def test_unknown_placeholder_in_a_hand_written_page_is_an_error():
    values = book.placeholders(_curriculum())
    text = book.fill_placeholders("Comece pelo {{ primeiro_modulo }}.", values, Path("x.md"))
    assert text == "Comece pelo [Módulo 00 · Primeiros passos](modulos/modulo-00.md)."
    with pytest.raises(book.BookError, match="nao_existe"):
        book.fill_placeholders("{{ nao_existe }}", values, Path("x.md"))


def test_dictionary_page_gets_a_title():
    assert book.dictionary_page("| a | b |").startswith("# Dicionário de dados\n")
    assert book.dictionary_page("# Dados\n\ntexto").startswith("# Dados\n")


def test_theme_translations_fall_back_and_hard_coded_labels_are_rewritten(tmp_path):
    base = book_ptbr.DictTranslations({"Contents": "Conteúdos"})
    ours = book_ptbr.DictTranslations({"By": "Por"})
    ours.add_fallback(base)
    assert ours.gettext("By") == "Por" and ours.gettext("Contents") == "Conteúdos"
    assert ours.gettext("Unknown") == "Unknown"
    page = tmp_path / "p.html"
    page.write_text(
        '<button title="Toggle primary sidebar"></button><nav aria-label="Main"></nav>'
        '<a href="_sources/a.ipynb" target="_blank">.ipynb</a>',
        encoding="utf-8",
    )
    assert book_ptbr.rewrite_html(tmp_path) == 1
    text = page.read_text(encoding="utf-8")
    assert "Toggle" not in text and 'aria-label="Main"' not in text
    assert '<a href="_sources/a.ipynb" download target="_blank">' in text


# ---------------------------------------------------------------------------------------------------------
# Fast: staging a tiny project (no Sphinx)


@pytest.fixture
def tiny(tmp_path) -> Project:
    """A course folder with the synthetic curriculum, the real book/ sources and stand-in built notebooks."""
    root = tmp_path / "curso"
    (root / "curriculum").mkdir(parents=True)
    (root / "curriculum" / "programa.yml").write_text(
        yaml.safe_dump(_curriculum().model_dump(mode="json"), allow_unicode=True), encoding="utf-8"
    )
    shutil.copytree(ROOT / "book", root / "book", ignore=shutil.ignore_patterns("_build"))
    project = Project.at(root)
    make_notebook(root / "exercises" / "00-passos" / "00-passos.ipynb", "x = 1")
    return project


def _build_stand_ins(project: Project) -> None:
    lesson = make_notebook(project.executed / "notebooks" / "00-passos.ipynb", "print('oi')")
    nb = nbformat.read(lesson, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# Lição **de** passos"))
    nbformat.write(nb, lesson)
    make_notebook(project.released / "00-passos" / "00-passos.ipynb", "raise NotImplementedError()")


def test_stage_writes_generated_pages_toc_and_config(tiny, monkeypatch):
    monkeypatch.setattr(book, "data_dictionary", lambda: None)
    _build_stand_ins(tiny)
    stale = tiny.book_staging / "velho.md"
    stale.parent.mkdir(parents=True)
    stale.write_text("# página antiga", encoding="utf-8")

    image = tiny.root / "notebooks" / "imagens" / "fluxo.png"
    image.parent.mkdir(parents=True)
    image.write_bytes(b"\x89PNG")

    out = book.stage(tiny)
    assert not stale.exists(), "the staging folder must be rebuilt from scratch"
    assert (out / "notebooks" / "imagens" / "fluxo.png").is_file(), "images next to a lesson go with it"
    files = book.toc_files(yaml.safe_load((out / "_toc.yml").read_text(encoding="utf-8")))
    assert files[:4] == ["index", "programa", *book.GUIDES]
    assert "notebooks/00-passos" in files and "exercicios/00-passos/00-passos" in files
    assert "modulos/modulo-01" in files
    for name in files:
        assert (out / f"{name}.md").is_file() or (out / f"{name}.ipynb").is_file(), name
    assert "[Lição de passos](../notebooks/00-passos.ipynb)" in (out / "modulos" / "modulo-00.md").read_text()

    config = yaml.safe_load((out / "_config.yml").read_text(encoding="utf-8"))
    assert config["title"] == "Trilha de Teste" and config["author"] == "Escola de Teste"
    assert config["only_build_toc_files"] is True
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["sphinx"]["config"]["language"] == "pt_BR"
    assert config["sphinx"]["config"]["html_sourcelink_suffix"] == ""
    guide = (out / "como-entregar-as-tarefas.md").read_text(encoding="utf-8")
    assert "{{" not in guide and "`00-passos`" in guide
    assert not (ROOT / "book" / "_toc.yml").exists(), "_toc.yml is generated, never committed"


def test_stage_includes_the_data_dictionary_when_available(tiny, monkeypatch):
    monkeypatch.setattr(book, "data_dictionary", lambda: "Conjuntos de dados sintéticos.")
    _build_stand_ins(tiny)
    out = book.stage(tiny)
    assert (out / "dados.md").read_text(encoding="utf-8").startswith("# Dicionário de dados")
    assert "dados" in book.toc_files(yaml.safe_load((out / "_toc.yml").read_text(encoding="utf-8")))


def test_missing_executed_or_released_notebooks_say_what_to_run(tiny, monkeypatch, capsys):
    monkeypatch.setattr(book, "data_dictionary", lambda: None)
    assert book.build(tiny) is False
    err = capsys.readouterr().err
    assert "automatiza executar" in err and "automatiza liberar" in err
    assert "00-passos.ipynb" in err


# ---------------------------------------------------------------------------------------------------------
# Slow: the real site, built once by `automatiza construir` (fixture in conftest.py)


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _article_text(path: Path) -> str:
    article = _soup(path).find("article")
    assert article is not None, f"{path} has no <article>"
    return article.get_text()


def _written(project: Project):
    return project.curriculum().written


def _lesson_html(project: Project, lesson: str) -> Path:
    return project.site_html / Path(lesson).with_suffix(".html")


def _exercise_html(project: Project, assignment: str, notebook: Path) -> Path:
    return project.site_html / "exercicios" / assignment / notebook.with_suffix(".html").name


def _notebook_pages(project: Project) -> list[Path]:
    pages = []
    for module in _written(project):
        pages += [_lesson_html(project, lesson) for lesson in module.licoes]
        if module.tarefa:
            pages += [
                _exercise_html(project, module.tarefa.nome, nb)
                for nb in project.assignment_notebooks(module.tarefa.nome)
            ]
    return pages


@pytest.mark.lento
def test_home_page_is_in_portuguese(built_course):
    index = built_course.site_html / "index.html"
    assert index.is_file()
    text = index.read_text(encoding="utf-8")
    assert '<html lang="pt-BR"' in text
    cur = built_course.curriculum()
    page = _article_text(index)
    assert cur.programa.titulo in page
    for stage in cur.etapas:
        assert stage.nome in page
    for module in cur.modulos:
        assert book.module_title(module) in page
    for english in ("Skip to main content", "Back to top", "Toggle primary sidebar", "On this page"):
        assert english not in text, f"theme label still in English: {english!r}"


@pytest.mark.lento
def test_every_module_has_a_page_linking_its_notebooks(built_course):
    cur = built_course.curriculum()
    for module in cur.modulos:
        page = built_course.site_html / "modulos" / f"{module.slug}.html"
        assert page.is_file(), f"no page for module {module.id}"
        hrefs = {a.get("href") for a in _soup(page).select("article a")}
        assert "../programa.html" in hrefs, f"module {module.id} does not link back to the syllabus"
        text = _article_text(page)
        if not module.written:
            assert book.PLANNED_LABEL in text, f"planned module {module.id} is not marked as planned"
            continue
        assert book.PLANNED_LABEL not in text
        for lesson in module.licoes:
            assert f"../{Path(lesson).with_suffix('.html').as_posix()}" in hrefs, lesson
            assert _lesson_html(built_course, lesson).is_file()
        if module.tarefa:
            for nb in built_course.assignment_notebooks(module.tarefa.nome):
                target = f"../exercicios/{module.tarefa.nome}/{nb.stem}.html"
                assert target in hrefs, f"module {module.id} does not link its exercise {nb.name}"


@pytest.mark.lento
def test_generated_toc_lists_every_written_notebook(built_course):
    toc = built_course.book_staging / "_toc.yml"
    files = set(book.toc_files(yaml.safe_load(toc.read_text(encoding="utf-8"))))
    for module in _written(built_course):
        for lesson in module.licoes:
            assert Path(lesson).with_suffix("").as_posix() in files, lesson
        if module.tarefa:
            for nb in built_course.assignment_notebooks(module.tarefa.nome):
                assert f"exercicios/{module.tarefa.nome}/{nb.stem}" in files, nb
    assert {"index", "programa", *book.GUIDES} <= files


@pytest.mark.lento
def test_notebook_pages_offer_their_ipynb_download(built_course):
    pages = _notebook_pages(built_course)
    assert pages
    for page in pages:
        assert page.is_file(), page
        links = [a["href"] for a in _soup(page).find_all("a", href=True) if a["href"].endswith(".ipynb")]
        assert links, f"{page.name} has no .ipynb download link"
        target = (page.parent / links[0]).resolve()
        assert target.is_file(), f"the download link of {page.name} points to a missing file: {links[0]}"
        assert nbformat.read(target, as_version=4).cells


@pytest.mark.lento
def test_exercise_pages_show_no_solution(built_course):
    checked = 0
    for module in _written(built_course):
        if not module.tarefa:
            continue
        for source in built_course.assignment_notebooks(module.tarefa.nome):
            page = _exercise_html(built_course, module.tarefa.nome, source)
            raw = html.unescape(page.read_text(encoding="utf-8"))
            shown = {line.strip() for line in _article_text(page).splitlines()}
            download = built_course.site_html / "_sources" / "exercicios" / module.tarefa.nome / source.name
            copy = download.read_text(encoding="utf-8")
            for marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "=== BEGIN MARK SCHEME ==="):
                assert marker not in raw and marker not in copy, f"{page.name} shows {marker!r}"
            secrets = release.secret_lines(nbformat.read(source, as_version=4))
            assert secrets, f"{source.name} has no solution lines: nothing to check"
            for line in (s for s in secrets if len(s) > 3):  # whole lines, as the leak check of `liberar`
                assert line not in shown, f"{page.name} shows a line of the solution: {line!r}"
            checked += 1
    assert checked, "no exercise page was checked"


@pytest.mark.lento
def test_search_index_is_portuguese_and_has_cpf(built_course):
    index = built_course.site_html / "searchindex.js"
    assert index.is_file()
    text = index.read_text(encoding="utf-8").lower()
    assert "cpf" in text
    assert (built_course.site_html / "search.html").is_file()
    assert (built_course.site_html / "_static" / "portuguese-stemmer.js").is_file()


@pytest.mark.lento
def test_site_needs_no_internet(built_course):
    log = (built_course.reports / "livro.log").read_text(encoding="utf-8")
    assert "build succeeded" in log
    for sign in ("intersphinx", "urlopen", "Max retries", "Name or service not known", "HTTPSConnection"):
        assert sign not in log, f"the build tried to reach the internet: {sign!r}"
    remote = re.compile(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(?:https?:)?//', re.IGNORECASE)
    for page in built_course.site_html.rglob("*.html"):
        found = remote.search(page.read_text(encoding="utf-8"))
        assert not found, (
            f"{page.relative_to(built_course.site_html)} loads {found.group(0)!r} from the internet"
        )


# ---------------------------------------------------------------------------------------------------------
# Fast: the glossary (book/glossario.md), linked from lessons as ../glossario.md#<termo>

GLOSSARY_TERMS = (
    "kernel", "célula", "notebook", "Markdown", "variável", "tipo", "texto", "lista", "dicionário", "laço",
    "função", "argumento", "biblioteca", "import", "DataFrame", "Series", "coluna", "índice", "CSV",
    "encoding", "latin-1", "groupby", "tabela dinâmica", "merge", "PROCV", "regex", "expressão regular",
    "dia útil", "feriado", "prazo", "nbgrader", "tarefa", "validar", "entregar", "devolutiva", "LGPD",
    "log de eventos", "gráfico", "modelo", "IA",
)  # fmt: skip


def _glossary_anchors() -> list[str]:
    text = (ROOT / "book" / f"{book.GLOSSARY}.md").read_text(encoding="utf-8")
    return [book_ptbr.heading_slug(h) for h in re.findall(r"^## (.+?)\s*$", text, re.MULTILINE)]


def test_heading_slugs_are_plain_ascii():
    assert book_ptbr.heading_slug("Dia útil") == "dia-util"
    assert book_ptbr.heading_slug("Expressão regular") == "expressao-regular"
    assert book_ptbr.heading_slug("Latin-1") == "latin-1"
    assert book_ptbr.heading_slug("Índice") == "indice"


def test_glossary_has_one_heading_per_term_in_order():
    anchors = _glossary_anchors()
    assert len(anchors) == len(set(anchors)), "two glossary headings share an anchor"
    assert anchors == sorted(anchors), "glossary terms should be in alphabetical order"
    missing = [t for t in GLOSSARY_TERMS if book_ptbr.heading_slug(t) not in anchors]
    assert not missing, f"terms missing from the glossary: {missing}"


def test_glossary_links_point_to_existing_terms():
    """Links inside the glossary (#termo) and from lessons and exercises (glossario.md#termo) must resolve."""
    anchors = set(_glossary_anchors())
    text = (ROOT / "book" / f"{book.GLOSSARY}.md").read_text(encoding="utf-8")
    broken = [a for a in re.findall(r"\]\(#([^)]+)\)", text) if a not in anchors]
    sources = [*(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "exercises").glob("*/*.ipynb")]
    sources += [p for p in (ROOT / "book").glob("*.md")]
    for path in sources:
        for anchor in re.findall(r"glossario\.md#([^)\s\\\"`]+)", path.read_text(encoding="utf-8")):
            if anchor not in anchors:
                hint = book_ptbr.heading_slug(anchor)
                fix = f" (use #{hint})" if hint != anchor else ""
                broken.append(f"{path.relative_to(ROOT)}: #{anchor}{fix}")
    assert not broken, (
        "links to glossary terms that do not exist (add a '## Termo' heading to book/glossario.md; the "
        f"anchor is the heading in lowercase, without accents, spaces as hyphens): {broken}"
    )


def test_glossary_is_listed_under_reference_and_linked_from_home():
    tree = book.toc(_curriculum(), _notebooks(), extra_pages=("outra", book.GLOSSARY), dictionary=set())
    reference = tree["parts"][-1]
    assert reference["caption"] == "Referência"
    assert [c["file"] for c in reference["chapters"]] == ["dados", book.GLOSSARY, "outra"]
    assert "[Glossário](glossario.md)" in book.home_page(_curriculum(), glossary=True)
    assert "glossario" not in book.home_page(_curriculum())


# ---------------------------------------------------------------------------------------------------------
# Notebook pages: download and "Abrir no JupyterLab do curso" (nbgitpuller), configured in the program

HUB = {"hub": "https://hub.exemplo.mg.gov.br", "repositorio": "https://git.exemplo.mg.gov.br/curso/alunos"}


def _with_hub(**extra) -> Curriculum:
    raw = _curriculum().model_dump(mode="json")
    raw["programa"]["abrir_no_jupyterhub"] = {**HUB, **extra}
    return Curriculum.model_validate(raw)


def test_launch_url_is_an_nbgitpuller_link_to_the_notebook():
    from urllib.parse import parse_qs, urlsplit

    url = book_ptbr.launch_url({**HUB, "ramo": "turma-2026"}, "notebooks/00-passos.ipynb")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://hub.exemplo.mg.gov.br/hub/user-redirect/git-pull"
    )
    query = parse_qs(parts.query)
    assert query == {
        "repo": [HUB["repositorio"]],
        "branch": ["turma-2026"],
        "urlpath": ["lab/tree/alunos/notebooks/00-passos.ipynb"],  # nbgitpuller clones into 'alunos'
    }
    named = parse_qs(urlsplit(book_ptbr.launch_url({**HUB, "pasta": "curso"}, "a.ipynb")).query)
    assert named["targetpath"] == ["curso"] and named["urlpath"] == ["lab/tree/curso/a.ipynb"]
    assert named["branch"] == ["main"]


def test_hub_configuration_is_validated_in_portuguese(tmp_path):
    from automatiza import curriculum

    assert _with_hub().programa.abrir_no_jupyterhub.ramo == "main"
    assert _curriculum().programa.abrir_no_jupyterhub is None
    raw = _curriculum().model_dump(mode="json")
    raw["programa"]["abrir_no_jupyterhub"] = {"hub": "hub.exemplo/hub", "repositorio": HUB["repositorio"]}
    path = tmp_path / "programa.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(curriculum.CurriculumError, match=r"programa\.abrir_no_jupyterhub\.hub: .*https://"):
        curriculum.load(path)


def test_notebook_box_offers_download_and_hub_only_when_configured():
    plain = book_ptbr.notebook_links("notebooks/00-passos", "../_sources/notebooks/00-passos.ipynb", None)
    assert 'href="../_sources/notebooks/00-passos.ipynb" download' in plain
    assert "Baixar o notebook (00-passos.ipynb)" in plain
    assert "git-pull" not in plain and "JupyterHub" not in plain

    page = "exercicios/00-passos/00-passos"
    with_hub = book_ptbr.notebook_links(page, "../../_sources/exercicios/00-passos/00-passos.ipynb", HUB)
    soup = BeautifulSoup(with_hub, "html.parser")
    launch = soup.select_one("a.automatiza-abrir")
    assert launch is not None and launch.get_text(strip=True) == "Abrir no JupyterLab do curso"
    assert "urlpath=lab%2Ftree%2Falunos%2Fexercicios%2F00-passos%2F00-passos.ipynb" in launch["href"]
    assert "exercises" not in launch["href"], "an exercise page must never open the source with solutions"
    assert "versão de estudante" in soup.get_text() and "Assignments" in soup.get_text()


def test_site_config_carries_the_hub_to_the_sphinx_extension(tiny):
    config = book.site_config(tiny, _with_hub(ramo="alunos"))
    assert config["sphinx"]["config"]["automatiza_jupyterhub"] == {**HUB, "ramo": "alunos", "pasta": ""}
    assert book.site_config(tiny, _curriculum())["sphinx"]["config"]["automatiza_jupyterhub"] == {}
    assert "Abrir no JupyterLab do curso" in book.module_page(
        _with_hub(), _with_hub().module("00"), _notebooks()["00"]
    )


def _notebook_links(page: Path) -> list[str]:
    return [a["href"] for a in _soup(page).find_all("a", href=True) if ".ipynb" in a["href"]]


@pytest.mark.lento
def test_notebook_pages_have_a_download_box_and_no_hub_link_without_a_hub(built_course):
    assert built_course.curriculum().programa.abrir_no_jupyterhub is None
    for page in _notebook_pages(built_course):
        box = _soup(page).select_one("article div.automatiza-notebook")
        assert box is not None, f"{page.name} has no 'Usar este notebook' box"
        download = box.select_one("a.automatiza-baixar[download]")
        assert download is not None, f"{page.name} has no download link in its box"
        target = (page.parent / download["href"]).resolve()
        assert target.is_relative_to(built_course.site_html.resolve()) and target.suffix == ".ipynb"
        assert nbformat.read(target, as_version=4).cells
        assert not box.select("a.automatiza-abrir"), f"{page.name} links a JupyterHub that is not configured"
        assert "git-pull" not in page.read_text(encoding="utf-8")


@pytest.mark.lento
def test_exercise_pages_never_link_to_a_source_notebook(built_course):
    checked = 0
    for module in _written(built_course):
        if not module.tarefa:
            continue
        for source in built_course.assignment_notebooks(module.tarefa.nome):
            page = _exercise_html(built_course, module.tarefa.nome, source)
            links = _notebook_links(page)
            assert links, f"{page.name} offers no notebook to download"
            student = (built_course.released / module.tarefa.nome / source.name).read_bytes()
            for href in links:
                assert "exercises/" not in href, f"{page.name} links the source notebook: {href}"
                target = (page.parent / href).resolve()
                assert target.read_bytes() == student, f"{page.name}: {href} is not the student version"
                checked += 1
    assert checked


@pytest.mark.lento
def test_a_configured_hub_puts_an_nbgitpuller_link_on_every_notebook_page(tiny, monkeypatch):
    """A real (small) Jupyter Book build with `programa.abrir_no_jupyterhub` set."""
    from urllib.parse import parse_qs, urlsplit

    monkeypatch.setattr(
        book, "data_dictionary", lambda: "Conjuntos de dados sintéticos."
    )  # the glossary links it
    raw = _with_hub(ramo="alunos").model_dump(mode="json")
    tiny.curriculum_file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    _build_stand_ins(tiny)
    assert book.build(tiny), (tiny.reports / "livro.log").read_text(encoding="utf-8")[-3000:]
    pages = {
        "notebooks/00-passos": tiny.site_html / "notebooks" / "00-passos.html",
        "exercicios/00-passos/00-passos": tiny.site_html / "exercicios" / "00-passos" / "00-passos.html",
    }
    for docname, page in pages.items():
        launch = _soup(page).select("article a.automatiza-abrir")
        assert len(launch) == 1, f"{page.name}: expected one 'Abrir no JupyterLab do curso' link"
        query = parse_qs(urlsplit(launch[0]["href"]).query)
        assert query["repo"] == [HUB["repositorio"]] and query["branch"] == ["alunos"]
        assert query["urlpath"] == [f"lab/tree/alunos/{docname}.ipynb"]
        download = _soup(page).select_one("article a.automatiza-baixar")
        assert (page.parent / download["href"]).resolve() == (
            tiny.site_html / "_sources" / f"{docname}.ipynb"
        )


def test_results_gallery_goes_in_the_event_stage():
    cur = _curriculum()
    stages = {s.id for s in cur.etapas}
    tree = book.toc(cur, _notebooks(), results=True)
    files = book.toc_files(tree)
    assert (book.RESULTS in files) == (book.RESULTS_STAGE in stages)
    assert book.RESULTS not in book.toc_files(book.toc(cur, _notebooks()))


def test_results_gallery_on_the_site(built_course):
    """Generated from two example packages (state and city) with the numbers' assumptions next to them."""
    page = (built_course.site_html / f"{book.RESULTS}.html").read_text(encoding="utf-8")
    assert "Estado" in page and "Município" in page and "Seplag-MG" in page
    assert "horas economizadas por mês" in page and "Tempo do robô" in page
