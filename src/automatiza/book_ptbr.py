"""Sphinx extension for the course site: pt-BR labels, accessibility, heading anchors and notebook links.

Sphinx ships pt-BR, sphinx-book-theme ships a rough European "pt" and pydata-sphinx-theme ships no
Portuguese at all; a few labels are even hard-coded in English in the theme templates. This extension
(loaded through `sphinx: extensions` in book/_config.yml) fills those gaps:

- pydata-sphinx-theme's gettext strings become a fallback of Sphinx's own pt-BR catalog;
- sphinx-book-theme's strings are looked up here first, then in its own catalog;
- the sidebar's expand/collapse toggles (<summary>) get a pt-BR accessible name, through the theme's
  `generate_toctree_html` template function (axe-core rule `summary-name`);
- every notebook page gets, under its title, a link to download the notebook (the file the site was built
  from: the executed lesson or the student version of an exercise) and, when the program configures a
  JupyterHub (`programa.abrir_no_jupyterhub`), an nbgitpuller link that opens it in the learner's JupyterLab;
- after the build, the hard-coded English tooltips and ARIA labels, and the copy button's messages, are
  rewritten in the HTML and JavaScript files, and the ".ipynb" download links get the `download`
  attribute, so the browser saves the notebook instead of showing its JSON.
"""

from __future__ import annotations

import gettext
import html
import re
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sphinx import locale
from sphinx.application import Sphinx

# msgid -> pt-BR, for gettext strings of pydata-sphinx-theme that Sphinx's pt_BR catalog does not have.
THEME = {
    "Skip to main content": "Pular para o conteúdo principal",
    "Back to top": "Voltar ao topo",
    "Color mode": "Modo de cor",
    "Light": "Claro",
    "Dark": "Escuro",
    "System Settings": "Igual ao sistema",
    "On this page": "Nesta página",
    "Site navigation": "Navegação do site",
    "Section Navigation": "Navegação da seção",
    "Version warning": "Aviso de versão",
    "Announcement": "Aviso",
    "Breadcrumb": "Caminho da página",
    "Home": "Início",
    "next page": "próxima página",
    "previous page": "página anterior",
    "Click to expand": "Clique para expandir",
    "Click to collapse": "Clique para recolher",
    "Collapse Sidebar": "Recolher o menu",
    "Expand Sidebar": "Expandir o menu",
    "Edit": "Editar",
    "Indices": "Índices",
    "© Copyright %(copyright)s.": "© %(copyright)s.",
    "Copyright %(copyright)s": "%(copyright)s",
    "Please activate JavaScript to enable the search functionality.": "Ative o JavaScript para usar a busca.",
}

# msgid -> pt-BR for sphinx-book-theme, preferred over its own "pt" catalog ("De", "Lançamento"...).
BOOK_THEME = {
    "By": "Por",
    "By the": "Por",
    "Contents": "Conteúdo",
    "Copyright": "Direitos autorais",
    "Download notebook file": "Baixar o notebook",
    "Download source file": "Baixar o arquivo original",
    "Download this page": "Baixar esta página",
    "Fullscreen mode": "Tela cheia",
    "Last updated on": "Atualizado em",
    "Launch": "Abrir",
    "Print to PDF": "Imprimir ou salvar em PDF",
    "Toggle navigation": "Mostrar ou ocultar a navegação",
    "next page": "próxima página",
    "previous page": "página anterior",
}

# Labels hard-coded in English in the theme templates: exact HTML text -> pt-BR.
HTML = {
    'title="Toggle primary sidebar"': 'title="Mostrar ou ocultar o menu"',
    'title="Toggle secondary sidebar"': 'title="Mostrar ou ocultar o sumário da página"',
    'aria-label="Main"': 'aria-label="Navegação principal"',
    'aria-label="Page"': 'aria-label="Página"',
    'aria-label="Version switcher list"': 'aria-label="Lista de versões"',
}

NOTEBOOK_LINK = re.compile(r'<a href="([^"]+\.ipynb)" target="_blank"')

COPY_BUTTON = (
    "  'pt-BR': {\n"
    "    'copy': 'Copiar',\n"
    "    'copy_to_clipboard': 'Copiar para a área de transferência',\n"
    "    'copy_success': 'Copiado!',\n"
    "    'copy_failure': 'Não foi possível copiar',\n"
    "  },\n"
)


class DictTranslations(gettext.NullTranslations):
    """A gettext catalog held in a dict; unknown messages go to the fallback."""

    def __init__(self, messages: dict[str, str]):
        super().__init__()
        self.messages = messages

    def gettext(self, message: str) -> str:
        if message in self.messages:
            return self.messages[message]
        return self._fallback.gettext(message) if self._fallback else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if self._fallback:
            return self._fallback.ngettext(singular, plural, n)
        return singular if n == 1 else plural


def heading_slug(title: str) -> str:
    """The anchor of a heading (myst_heading_slug_func): 'Dia útil' -> 'dia-util', 'Latin-1' -> 'latin-1'.

    Lowercase ASCII, so a lesson links to `../glossario.md#dia-util` without guessing accents.
    """
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def _portuguese(app: Sphinx) -> bool:
    return (app.config.language or "").lower().replace("-", "_").startswith("pt")


def install_translations(app: Sphinx) -> None:
    """Hook pt-BR theme strings into Sphinx's translators (builder-inited)."""
    if not _portuguese(app):
        return
    app.translator.add_fallback(DictTranslations(THEME))  # after Sphinx's own pt_BR catalog
    key = ("general", "booktheme")
    book = DictTranslations(BOOK_THEME)
    if (existing := locale.translators.get(key)) is not None:
        book.add_fallback(existing)
    locale.translators[key] = book


def rewrite_html(outdir: Path) -> int:
    """Replace the hard-coded English labels in every HTML page; return how many files changed."""
    changed = 0
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = text
        for english, portuguese in HTML.items():
            new = new.replace(english, portuguese)
        new = NOTEBOOK_LINK.sub(r'<a href="\1" download target="_blank"', new)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def rewrite_copy_button(outdir: Path) -> None:
    """Add pt-BR messages to sphinx-copybutton (it picks them by <html lang>)."""
    script = outdir / "_static" / "copybutton.js"
    if not script.is_file():
        return
    text = script.read_text(encoding="utf-8")
    start = "const messages = {\n"
    if "'pt-BR'" not in text and start in text:
        script.write_text(text.replace(start, start + COPY_BUTTON, 1), encoding="utf-8")


def label_toggles(soup: Any) -> int:
    """Name each sidebar <summary> without text after the pages it shows (pt-BR); return how many."""
    named = 0
    for summary in soup.select("summary"):
        if summary.get_text(strip=True) or summary.get("aria-label"):
            continue
        item = summary.find_parent("li")
        link = item.find("a", recursive=False) if item is not None else None
        title = " ".join(link.get_text().split()) if link is not None else ""
        summary["aria-label"] = f"Mostrar ou ocultar as páginas de {title}" if title else "Mostrar ou ocultar"
        named += 1
    return named


def name_sidebar_toggles(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Wrap the theme's `generate_toctree_html` so the sidebar it returns has named toggles."""
    original = context.get("generate_toctree_html")
    if original is None or getattr(original, "automatiza", False):
        return

    def generate_toctree_html(kind: str, *args: Any, **kwargs: Any) -> Any:
        result = original(kind, *args, **kwargs)
        if kind == "sidebar" and hasattr(result, "select"):
            label_toggles(result)
        return result

    generate_toctree_html.automatiza = True  # type: ignore[attr-defined]
    context["generate_toctree_html"] = generate_toctree_html


# ---------------------------------------------------------------------------------------------------------
# Notebook pages: download and "open in JupyterLab" (nbgitpuller)


def launch_url(hub: dict, path: str) -> str:
    """nbgitpuller link: the hub pulls `repositorio` (branch `ramo`) and opens `path` in JupyterLab.

    `path` is the notebook's path inside the repository, which has the site's layout (notebooks/...,
    exercicios/<tarefa>/...). nbgitpuller clones into a folder named after the repository's last path
    segment, unless `pasta` names another one.
    """
    repository = hub["repositorio"].rstrip("/")
    folder = hub.get("pasta") or repository.split("/")[-1]
    params = {"repo": repository, "branch": hub.get("ramo") or "main"}
    if hub.get("pasta"):
        params["targetpath"] = folder
    params["urlpath"] = f"lab/tree/{folder}/{path}"
    return f"{hub['hub'].rstrip('/')}/hub/user-redirect/git-pull?{urlencode(params)}"


def notebook_links(pagename: str, download: str, hub: dict | None) -> str:
    """The HTML box shown under the title of a notebook page."""
    exercise = pagename.startswith("exercicios/")
    what = "o exercício (versão de estudante, sem as respostas)" if exercise else "a lição"
    name = pagename.rsplit("/", 1)[-1] + ".ipynb"
    links = []
    if hub:
        url = html.escape(launch_url(hub, pagename + ".ipynb"))
        links.append(
            f'<a class="btn btn-primary automatiza-abrir" href="{url}">'
            '<i class="fa-solid fa-rocket" aria-hidden="true"></i> Abrir no JupyterLab do curso</a>'
        )
    links.append(
        f'<a class="btn btn-outline-primary automatiza-baixar" href="{html.escape(download)}" download>'
        f'<i class="fa-solid fa-download" aria-hidden="true"></i> Baixar o notebook ({html.escape(name)})</a>'
    )
    how = "abra no JupyterHub do curso ou baixe o arquivo" if hub else "baixe o arquivo e abra no JupyterLab"
    tip = f"Para estudar {what} executando as células: {how}."
    if exercise:
        tip += " Para fazer e entregar a tarefa valendo nota, busque-a na aba <strong>Assignments</strong>."
    return (
        '<div class="automatiza-notebook admonition tip" role="group" aria-label="Usar este notebook">\n'
        f'<p class="admonition-title">Usar este notebook</p>\n<p>{tip}</p>\n'
        f'<p class="automatiza-botoes">{" ".join(links)}</p>\n</div>\n'
    )


def add_notebook_links(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Put the download (and JupyterHub) links under the title of every notebook page."""
    if doctree is None or not str(app.env.doc2path(pagename)).endswith(".ipynb"):
        return
    body = context.get("body", "")
    download = context["pathto"](f"_sources/{pagename}.ipynb", 1)
    box = notebook_links(pagename, download, app.config.automatiza_jupyterhub or None)
    title = body.find("</h1>")
    end = title + len("</h1>") if title >= 0 else 0  # under the title; at the top if there is none
    context["body"] = body[:end] + "\n" + box + body[end:]


def finish(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html" and _portuguese(app):
        outdir = Path(app.outdir)
        rewrite_html(outdir)
        rewrite_copy_button(outdir)


def setup(app: Sphinx) -> dict:
    # Jupyter Book always passes `comments_config`; without sphinx_comments (it loads scripts from the
    # internet) Sphinx would warn that the value is unknown.
    if "comments_config" not in app.config:
        app.add_config_value("comments_config", {}, "html")
    app.add_config_value("automatiza_jupyterhub", {}, "html")  # from programa.abrir_no_jupyterhub
    app.connect("builder-inited", install_translations)
    app.connect("html-page-context", name_sidebar_toggles, priority=900)  # after the theme's functions
    app.connect("html-page-context", add_notebook_links)
    app.connect("build-finished", finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
