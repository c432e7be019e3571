"""Sphinx extension for the course site: the theme's labels in pt-BR.

Sphinx ships pt-BR, sphinx-book-theme ships a rough European "pt" and pydata-sphinx-theme ships no
Portuguese at all; a few labels are even hard-coded in English in the theme templates. This extension
(loaded through `sphinx: extra_extensions` in book/_config.yml) fills those gaps:

- pydata-sphinx-theme's gettext strings become a fallback of Sphinx's own pt-BR catalog;
- sphinx-book-theme's strings are looked up here first, then in its own catalog;
- after the build, the hard-coded English tooltips and ARIA labels, and the copy button's messages, are
  rewritten in the HTML and JavaScript files, and the ".ipynb" download links get the `download`
  attribute, so the browser saves the notebook instead of showing its JSON.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from pathlib import Path

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
    app.connect("builder-inited", install_translations)
    app.connect("build-finished", finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
