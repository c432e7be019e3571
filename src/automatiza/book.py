"""`automatiza livro`: the course site (Jupyter Book 1.x), staged from the curriculum and the built notebooks.

Everything the site shows about the program (home, syllabus, one page per module, the table of contents) is
generated here from `curriculum/programa.yml`; `book/` holds only hand-written configuration and prose. The
lessons come from papermill's executed copies and the exercises from nbgrader's student versions, so the site
never runs code and never sees a solution. The staging folder is rebuilt from scratch on every run.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from automatiza.curriculum import Curriculum, Module, Stage
from automatiza.paths import Project

CONFIG = "_config.yml"
TOC = "_toc.yml"
HOME = "index"
SYLLABUS = "programa"
DICTIONARY = "dados"
GLOSSARY = "glossario"  # hand-written in book/, listed under "Referência" after the data dictionary
GUIDES = ("como-usar-o-jupyterlab", "como-entregar-as-tarefas")  # hand-written pages in book/
RESULTS = "resultados"  # the results gallery, built from example project packages (stage "evento")
RESULTS_STAGE = "evento"
GENERATED = (HOME, SYLLABUS, DICTIONARY, RESULTS, "modulos", "notebooks", "exercicios")
WRITTEN_LABEL = "Disponível"
PLANNED_LABEL = "Em preparação"
ASSETS = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}  # images a notebook's Markdown may point to
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Sphinx log lines that mean a broken site (dead internal link) or a build that tried to go online.
FATAL_WARNINGS = (
    "xref_missing",
    "unknown document",
    "undefined label",
    "toc.missing",
    "intersphinx",
    "urlopen",
    "Max retries exceeded",
    "Name or service not known",
    "Temporary failure in name resolution",
    "ConnectionError",
)
PHASES = {  # Sphinx console lines (C locale) -> progress message
    "loading pickled environment": "lendo o cache da última construção",
    "reading sources... [": "lendo as páginas e os notebooks",
    "writing output... [": "escrevendo as páginas HTML",
    "copying static files": "copiando os arquivos do tema",
    "dumping search index": "gerando o índice de busca",
}


class BookError(Exception):
    """The site cannot be staged; the message says, in pt-BR, what to run first."""


@dataclass(frozen=True)
class NotebookPage:
    """A notebook shown on the site: the file copied into the staging folder and its page title."""

    source: Path
    target: str  # POSIX path inside the staging folder, with the .ipynb suffix
    title: str
    assets: Path | None = None  # folder of the images its Markdown points to (copied next to it)

    @property
    def docname(self) -> str:
        return self.target.removesuffix(".ipynb")


@dataclass
class ModuleNotebooks:
    lessons: list[NotebookPage] = field(default_factory=list)
    exercises: list[NotebookPage] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------
# pt-BR wording


def number(value: float) -> str:
    """2.0 -> '2'; 1.5 -> '1,5' (Brazilian decimal comma)."""
    return f"{value:g}".replace(".", ",")


def hours(value: float) -> str:
    return f"{number(value)} hora" + ("s" if value >= 2 else "")


def points(value: float) -> str:
    return f"{number(value)} ponto" + ("s" if value >= 2 else "")


def join(items: list[str]) -> str:
    """['a'] -> 'a'; ['a', 'b', 'c'] -> 'a, b e c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " e " + items[-1]


def months(stage: Stage) -> str:
    values = [str(m) for m in stage.meses]
    return ("mês " if len(values) == 1 else "meses ") + join(values)


def weeks(stage: Stage) -> str:
    first, last = stage.semanas
    return f"semana {first}" if first == last else f"semanas {first} a {last}"


def month_of_week(stage: Stage, week: int) -> int:
    """The month of a week inside a stage, spreading the stage's weeks evenly over its months."""
    first, last = stage.semanas
    span = last - first + 1
    index = min(len(stage.meses) - 1, (week - first) * len(stage.meses) // span)
    return stage.meses[max(index, 0)]


def module_title(module: Module) -> str:
    return f"Módulo {module.id} · {module.titulo}"


def status_badge(module: Module) -> str:
    return badge(module.written)


def badge(written: bool) -> str:
    """A sphinx-design badge: green 'Disponível' or orange 'Em preparação'."""
    return f"{{bdg-success}}`{WRITTEN_LABEL}`" if written else f"{{bdg-warning}}`{PLANNED_LABEL}`"


def module_doc(module: Module) -> str:
    return f"modulos/{module.slug}"


def link(text: str, target: str, here: str) -> str:
    """A MyST link from the page `here` to the staged file `target` (both relative to the book root)."""
    return f"[{text}]({posixpath.relpath(target, posixpath.dirname(here) or '.')})"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


# ---------------------------------------------------------------------------------------------------------
# Generated pages


def home_page(cur: Curriculum, *, guides: bool = True, glossary: bool = False) -> str:
    """index.md: title, presentation, the stages with months and purpose, every module with its objectives."""
    here = f"{HOME}.md"
    p = cur.programa
    lines = [f"# {p.titulo}", ""]
    if p.subtitulo:
        lines += [f"**{p.subtitulo}**", ""]
    lines += [f"{p.instituicao} · {p.duracao_meses} meses", "", " ".join(p.apresentacao.split()), ""]
    start = next(iter(cur.written), None)
    tip = [f"Veja o {link('programa e cronograma', f'{SYLLABUS}.md', here)} completo."]
    if start is not None:
        tip.insert(0, f"Comece pelo {link(module_title(start), module_doc(start) + '.md', here)}.")
    if guides:
        tip.append(
            "Se é a sua primeira vez no JupyterLab, leia "
            f"{link('Como usar o JupyterLab', GUIDES[0] + '.md', here)} e "
            f"{link('Como entregar as tarefas', GUIDES[1] + '.md', here)}."
        )
    if glossary:
        tip.append(f"Achou uma palavra nova? Procure no {link('Glossário', GLOSSARY + '.md', here)}.")
    lines += [":::{admonition} Por onde começar", ":class: tip", "", *tip, ":::", ""]

    lines += ["## Etapas do programa", "", "| Etapa | Quando | Para quê |", "| --- | --- | --- |"]
    for stage in cur.etapas:
        when = f"{months(stage).capitalize()} ({weeks(stage)})"
        lines.append(f"| **{_cell(stage.nome)}** | {when} | {_cell(stage.proposito)} |")
    lines.append("")

    lines += [
        "## Módulos",
        "",
        f"Os módulos marcados com {badge(False)} ainda estão sendo escritos: a página mostra o "
        "que eles vão ensinar.",
        "",
    ]
    for stage in cur.etapas:
        modules = [m for m in cur.modulos if m.etapa == stage.id]
        if not modules:
            continue
        lines += [f"### {stage.nome}", ""]
        for m in modules:
            lines += [
                f"**{link(module_title(m), module_doc(m) + '.md', here)}** · semana {m.semana} · "
                f"{hours(m.horas)} · {status_badge(m)}",
                "",
                *[f"- {objective}" for objective in m.objetivos],
                "",
            ]
    return "\n".join(lines)


def syllabus_page(cur: Curriculum, *, dictionary: Collection[str] | None = None) -> str:
    """programa.md: the schedule by stage, week and month; hours, prerequisites, datasets and assignments."""
    here = f"{SYLLABUS}.md"
    total_hours = sum(m.horas for m in cur.modulos)
    total_points = sum(m.tarefa.pontos for m in cur.modulos if m.tarefa)
    lines = [
        "# Programa e cronograma",
        "",
        f"O programa dura {cur.programa.duracao_meses} meses, em {len(cur.etapas)} etapas. "
        f"Os {len(cur.modulos)} módulos somam {hours(total_hours)} de estudo e as tarefas avaliadas valem "
        f"{points(total_points)} no total. {len(cur.written)} de {len(cur.modulos)} módulos já estão "
        f"disponíveis; os outros aparecem como {badge(False)}.",
        "",
        "## Cronograma",
        "",
    ]
    for number_, stage in enumerate(cur.etapas, start=1):
        lines += [
            f"### {number_}. {stage.nome}",
            "",
            f"**{months(stage).capitalize()} · {weeks(stage)}**",
            "",
            " ".join(stage.proposito.split()),
            "",
        ]
        modules = sorted((m for m in cur.modulos if m.etapa == stage.id), key=lambda m: (m.semana, m.id))
        if not modules:
            lines += ["Esta etapa não tem módulos de estudo.", ""]
            continue
        lines += ["| Semana | Mês | Módulo | Horas | Situação |", "| --- | --- | --- | --- | --- |"]
        for m in modules:
            lines.append(
                f"| {m.semana} | {month_of_week(stage, m.semana)} | "
                f"{link(_cell(module_title(m)), module_doc(m) + '.md', here)} | {number(m.horas)} | "
                f"{status_badge(m)} |"
            )
        lines.append("")

    lines += [
        "## Pré-requisitos, dados e tarefas",
        "",
        "| Módulo | Horas | Pré-requisitos | Dados usados | Tarefa | Pontos |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for m in cur.modulos:
        prereqs = ", ".join(
            link(f"Módulo {p}", module_doc(cur.module(p)) + ".md", here) for p in m.prerequisitos
        )
        data = ", ".join(_dataset(d, here, dictionary) for d in m.dados)
        task = f"`{m.tarefa.nome}`" if m.tarefa else "—"
        score = number(m.tarefa.pontos) if m.tarefa else "—"
        lines.append(
            f"| {link(f'Módulo {m.id}', module_doc(m) + '.md', here)} | {number(m.horas)} | "
            f"{prereqs or 'nenhum'} | {data or 'nenhum'} | {task} | {score} |"
        )
    lines += [f"| **Total** | **{number(total_hours)}** | | | | **{number(total_points)}** |", ""]
    return "\n".join(lines)


def _dataset(name: str, here: str, dictionary: Collection[str] | None) -> str:
    """A dataset name, linked to its section of the data dictionary (or to the page) when there is one."""
    if dictionary is None:
        return f"`{name}`"
    if name in dictionary:
        return f"{{ref}}`{name} <{dataset_label(name)}>`"
    return link(f"`{name}`", f"{DICTIONARY}.md", here)


def dataset_label(name: str) -> str:
    """The MyST label of a dataset in the data dictionary: medicoes_obras -> dados-medicoes-obras."""
    return "dados-" + name.replace("_", "-")


def documented_datasets(markdown: str) -> set[str]:
    """Dataset names that have a `(dados-...)=` label in the data dictionary."""
    return {m.replace("-", "_") for m in re.findall(r"^\(dados-([a-z0-9-]+)\)=\s*$", markdown, re.MULTILINE)}


def module_page(
    cur: Curriculum,
    module: Module,
    notebooks: ModuleNotebooks | None = None,
    *,
    dictionary: Collection[str] | None = None,
) -> str:
    """modulos/modulo-NN.md: objectives, time, prerequisites, datasets, status, lessons and exercise."""
    here = module_doc(module) + ".md"
    notebooks = notebooks or ModuleNotebooks()
    stage = cur.stage(module.etapa)
    lines = [f"# {module_title(module)}", "", status_badge(module), ""]
    if not module.written:
        lines += [
            f":::{{admonition}} {PLANNED_LABEL}",
            ":class: note",
            "",
            "Este módulo ainda está sendo escrito. Esta página mostra o que ele vai ensinar; as lições e o "
            "exercício aparecem aqui quando estiverem prontos.",
            ":::",
            "",
        ]
    prereqs = [
        link(module_title(cur.module(p)), module_doc(cur.module(p)) + ".md", here)
        for p in module.prerequisitos
    ]
    data = [_dataset(d, here, dictionary) for d in module.dados]
    task = (
        f"`{module.tarefa.nome}`, {points(module.tarefa.pontos)}"
        if module.tarefa
        else "este módulo não tem tarefa"
    )
    lines += [
        "| Ficha do módulo | Detalhes |",
        "| --- | --- |",
        f"| Etapa | {stage.nome} ({months(stage)}) |",
        f"| Semana | {module.semana} (mês {month_of_week(stage, module.semana)}) |",
        f"| Tempo estimado | {hours(module.horas)} |",
        f"| Pré-requisitos | {', '.join(prereqs) or 'nenhum'} |",
        f"| Dados usados | {', '.join(data) or 'nenhum'} |",
        f"| Tarefa avaliada | {task} |",
        f"| Situação | {WRITTEN_LABEL if module.written else PLANNED_LABEL} |",
        "",
        "## Objetivos",
        "",
        "Ao final deste módulo, você será capaz de:",
        "",
        *[f"- {objective}" for objective in module.objetivos],
        "",
    ]
    if notebooks.lessons:
        lines += ["## Lições", ""]
        lines += [f"- {link(_cell(nb.title), nb.target, here)}" for nb in notebooks.lessons]
        lines += [
            "",
            "Cada lição aparece aqui já executada, com as saídas. Para estudar no JupyterLab, abra a lição e "
            "use **Baixar o notebook**"
            + (" ou **Abrir no JupyterLab do curso**" if cur.programa.abrir_no_jupyterhub else "")
            + ", logo abaixo do título.",
            "",
        ]
    if notebooks.exercises and module.tarefa:
        lines += ["## Exercício avaliado", ""]
        lines += [f"- {link(_cell(nb.title), nb.target, here)}" for nb in notebooks.exercises]
        lines += [
            "",
            f"O site mostra a versão de estudante, sem as respostas. Para fazer e entregar a tarefa "
            f"`{module.tarefa.nome}`, busque-a na aba **Assignments** do JupyterLab, como explicado em "
            f"{link('Como entregar as tarefas', GUIDES[1] + '.md', here)}.",
            "",
        ]
    lines += [f"{link('← Voltar ao programa e cronograma', SYLLABUS + '.md', here)}", ""]
    return "\n".join(lines)


def dictionary_page(markdown: str) -> str:
    """dados.md: the data dictionary from automatiza.dados, with a title if it has none."""
    text = markdown.strip()
    if not text.startswith("# "):
        text = "# Dicionário de dados\n\n" + text
    return text + "\n"


def toc(
    cur: Curriculum,
    notebooks: dict[str, ModuleNotebooks],
    *,
    guides: tuple[str, ...] = GUIDES,
    extra_pages: tuple[str, ...] = (),
    dictionary: Collection[str] | None = None,
    results: bool = False,
) -> dict:
    """The _toc.yml structure: start pages, one part per stage (modules with their notebooks, and the results
    gallery in the event stage), reference."""
    parts = [{"caption": "Comece aqui", "chapters": [{"file": SYLLABUS}, *[{"file": g} for g in guides]]}]
    for stage in cur.etapas:
        chapters = []
        for m in (m for m in cur.modulos if m.etapa == stage.id):
            chapter: dict = {"file": module_doc(m)}
            found = notebooks.get(m.id) or ModuleNotebooks()
            sections = _entries("Lição", found.lessons) + _entries("Exercício avaliado", found.exercises)
            if sections:
                chapter["sections"] = sections
            chapters.append(chapter)
        if results and stage.id == RESULTS_STAGE:
            chapters.append({"file": RESULTS})
        if chapters:
            parts.append({"caption": f"{stage.nome} ({months(stage)})", "chapters": chapters})
    reference = [{"file": DICTIONARY}] if dictionary is not None else []
    reference += [{"file": page} for page in sorted(extra_pages, key=lambda p: (p != GLOSSARY, p))]
    if reference:
        parts.append({"caption": "Referência", "chapters": reference})
    return {"format": "jb-book", "root": HOME, "parts": parts}


def _entries(label: str, pages: list[NotebookPage]) -> list[dict]:
    """Sidebar entries under a module: 'Lição' (or 'Lição: <title>' when there are several)."""
    if len(pages) == 1:
        return [{"file": pages[0].docname, "title": label}]
    return [{"file": nb.docname, "title": f"{label}: {nb.title}"} for nb in pages]


def toc_files(tree: dict) -> list[str]:
    """Every file listed in a _toc.yml structure, root first."""
    found = [tree["root"]] if "root" in tree else []
    for key in ("parts", "chapters", "sections"):
        for entry in tree.get(key, []):
            if "file" in entry:
                found.append(entry["file"])
            found += toc_files({k: v for k, v in entry.items() if k != "file"})
    return found


# ---------------------------------------------------------------------------------------------------------
# Staging


def notebook_title(path: Path) -> str:
    """The first Markdown heading of a notebook, without Markdown marks; the file name if there is none."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if match := re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line):
                return re.sub(r"[*_`]", "", match.group(1)).strip()
    return path.stem


def collect_notebooks(project: Project, cur: Curriculum) -> dict[str, ModuleNotebooks]:
    """Executed lessons and student exercises of every written module; BookError if any is missing."""
    missing_executed: list[str] = []
    missing_released: list[str] = []
    found: dict[str, ModuleNotebooks] = {}
    for module in cur.written:
        pages = found.setdefault(module.id, ModuleNotebooks())
        for lesson in module.licoes:
            executed = project.executed / lesson
            if not executed.is_file():
                missing_executed.append(str(executed))
                continue
            _warn_if_stale(project.root / lesson, executed, "executar")
            target = Path(lesson).as_posix()
            assets = (project.root / lesson).parent
            pages.lessons.append(NotebookPage(executed, target, notebook_title(executed), assets))
        if module.tarefa is None:
            continue
        name = module.tarefa.nome
        for source in project.assignment_notebooks(name):
            student = project.released / name / source.name
            if not student.is_file():
                missing_released.append(str(student))
                continue
            _warn_if_stale(source, student, "liberar")
            target = f"exercicios/{name}/{source.name}"
            pages.exercises.append(NotebookPage(student, target, notebook_title(student), student.parent))
        if not project.assignment_notebooks(name):
            missing_released.append(str(project.released / name))
    problems = []
    if missing_executed:
        problems.append(
            "Faltam as lições executadas (rode `automatiza executar` antes):\n"
            + "\n".join(f"  - {p}" for p in missing_executed)
        )
    if missing_released:
        problems.append(
            "Faltam as versões de estudante dos exercícios (rode `automatiza liberar` antes):\n"
            + "\n".join(f"  - {p}" for p in missing_released)
        )
    if problems:
        raise BookError("\n".join(problems))
    return found


def _warn_if_stale(source: Path, built: Path, command: str) -> None:
    if source.is_file() and source.stat().st_mtime > built.stat().st_mtime:
        print(
            f"  aviso: {source.name} mudou depois do último `automatiza {command}`; o site vai mostrar a "
            f"versão anterior. Rode `automatiza {command}` para atualizar.",
            flush=True,
        )


def data_dictionary() -> str | None:
    """The data dictionary Markdown from automatiza.dados, or None while that function does not exist."""
    try:
        from automatiza import dados
    except ImportError:
        return None
    make: Callable[[], str] | None = getattr(dados, "dicionario_markdown", None)
    if make is None:
        return None
    try:
        return make()
    except Exception as exc:  # a bug in the catalogue must not pass silently, but must say where it is
        raise BookError(
            f"automatiza.dados.dicionario_markdown() falhou: {type(exc).__name__}: {exc}"
        ) from exc


def placeholders(cur: Curriculum) -> dict[str, str]:
    """Values the hand-written pages may use as {{ key }}: facts that live in the curriculum."""
    first = next(iter(cur.written), cur.modulos[0])
    first_task = next((m.tarefa.nome for m in cur.written if m.tarefa), "")
    return {
        "programa": cur.programa.titulo,
        "instituicao": cur.programa.instituicao,
        "primeiro_modulo": f"[{module_title(first)}]({module_doc(first)}.md)",
        "primeira_tarefa": f"`{first_task}`" if first_task else "a tarefa",
        "programa_link": f"[Programa e cronograma]({SYLLABUS}.md)",
    }


def fill_placeholders(text: str, values: dict[str, str], where: Path) -> str:
    """Replace {{ key }} in a hand-written page; an unknown key is an error that names the file."""

    def replace(match: re.Match) -> str:
        key = match.group(1)
        if key not in values:
            raise BookError(
                f"{where}: '{{{{ {key} }}}}' não existe; use um destes: {', '.join(sorted(values))}"
            )
        return values[key]

    return PLACEHOLDER.sub(replace, text)


def site_config(project: Project, cur: Curriculum) -> dict:
    """book/_config.yml completed with the facts that come from the curriculum."""
    path = project.book_sources / CONFIG
    if not path.is_file():
        raise BookError(f"Não encontrei {path}, a configuração do site.")
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config["title"] = cur.programa.titulo
    config["author"] = cur.programa.instituicao
    hub = cur.programa.abrir_no_jupyterhub
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["automatiza_jupyterhub"] = hub.model_dump() if hub else {}  # read by automatiza.book_ptbr
    return config


def stage(project: Project) -> Path:
    """Write the whole Jupyter Book source into project.book_staging (cleaned first); return its path."""
    cur = project.curriculum()
    notebooks = collect_notebooks(project, cur)
    out = project.book_staging
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    hand_written = _copy_book_sources(project, cur, out)
    missing = [g for g in GUIDES if g not in hand_written]
    if missing:
        raise BookError(f"Faltam as páginas escritas à mão em {project.book_sources}: {', '.join(missing)}")
    extra = tuple(sorted(p for p in hand_written if p not in GUIDES))

    markdown = data_dictionary()
    dictionary = documented_datasets(markdown) if markdown is not None else None
    if dictionary is not None:
        for name in sorted({d for m in cur.modulos for d in m.dados} - dictionary):
            print(
                f"  aviso: o programa cita o conjunto de dados '{name}', que não está no dicionário de dados."
            )
    pages = {
        HOME: home_page(cur, glossary=GLOSSARY in hand_written),
        SYLLABUS: syllabus_page(cur, dictionary=dictionary),
        **{
            module_doc(m): module_page(cur, m, notebooks.get(m.id), dictionary=dictionary)
            for m in cur.modulos
        },
    }
    if markdown is not None:
        pages[DICTIONARY] = dictionary_page(markdown)
    if any(stage.id == RESULTS_STAGE for stage in cur.etapas):
        from automatiza.projects import examples

        try:
            pages[RESULTS] = examples.gallery_page(project.build / "projetos-exemplo")
        except RuntimeError as exc:
            raise BookError(f"a galeria de resultados não pôde ser gerada: {exc}") from None
    for doc, text in pages.items():
        target = out / f"{doc}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    for module in notebooks.values():
        for nb in module.lessons + module.exercises:
            target = out / nb.target
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(nb.source, target)
            if nb.assets is not None:
                _copy_assets(nb.assets, target.parent)

    from automatiza import capturas  # screenshots of the JupyterHub tour; figures dropped when missing

    capturas.stage(project, out)
    tree = toc(cur, notebooks, extra_pages=extra, dictionary=dictionary, results=RESULTS in pages)
    (out / TOC).write_text(
        "# Gerado por `automatiza livro` a partir de curriculum/programa.yml. Não edite.\n"
        + yaml.safe_dump(tree, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    (out / CONFIG).write_text(
        "# Gerado por `automatiza livro` a partir de book/_config.yml e do programa. Não edite.\n"
        + yaml.safe_dump(site_config(project, cur), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return out


def _copy_book_sources(project: Project, cur: Curriculum, out: Path) -> set[str]:
    """Copy book/ (minus builds and the config) into the staging folder; return the top-level page names."""
    source = project.book_sources
    values = placeholders(cur)
    pages: set[str] = set()
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if relative == Path(TOC):
            raise BookError(
                f"{path}: o sumário é gerado de curriculum/programa.yml a cada construção; "
                "apague este arquivo e mude o programa."
            )
        if path.is_dir() or relative.parts[0] in {"_build", CONFIG} or ".ipynb_checkpoints" in relative.parts:
            continue
        if relative.parts[0].removesuffix(".md") in GENERATED:
            raise BookError(
                f"{path}: '{relative.parts[0]}' é gerado a partir do programa; não escreva essa página à mão."
            )
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".md":
            target.write_text(
                fill_placeholders(path.read_text(encoding="utf-8"), values, path), encoding="utf-8"
            )
            if len(relative.parts) == 1:
                pages.add(path.stem)
        else:
            shutil.copy2(path, target)
    return pages


def _copy_assets(source: Path, target: Path) -> None:
    """Images next to a notebook (and in its subfolders), so Markdown images keep working on the site."""
    for path in source.rglob("*"):
        if path.suffix.lower() in ASSETS and ".ipynb_checkpoints" not in path.parts and path.is_file():
            destination = target / path.relative_to(source)
            if not destination.exists():
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)


# ---------------------------------------------------------------------------------------------------------
# Build


def jupyter_book_command(staging: Path, output: Path) -> list[str]:
    """The `jupyter-book build` call that uses this Python's installation (venv or not)."""
    executable = Path(sys.executable).parent / "jupyter-book"
    if executable.is_file():
        prefix = [str(executable)]
    else:
        prefix = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()"]
    return [*prefix, "build", str(staging), "--path-output", str(output), "--builder", "html", "--all"]


def fatal_warnings(log: str) -> list[str]:
    """Warnings in a build log that mean a dead link or an attempt to reach the internet."""
    return [
        line.strip()
        for line in log.splitlines()
        if ("WARNING" in line or "ERROR" in line) and any(marker in line for marker in FATAL_WARNINGS)
    ]


def warnings(log: str) -> list[str]:
    return [line.strip() for line in log.splitlines() if "WARNING:" in line or "ERROR:" in line]


def _run(command: list[str], log_path: Path) -> tuple[int, str]:
    """Run the build, writing every line to the log and printing the phase Sphinx is in."""
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANGUAGE": "en", "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
    lines: list[str] = []
    shown: set[str] = set()
    with log_path.open("w", encoding="utf-8") as log:
        log.write("$ " + " ".join(command) + "\n")
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8", env=env
        )
        assert process.stdout is not None
        for raw in process.stdout:
            line = ANSI.sub("", raw)
            log.write(line)
            lines.append(line)
            for start, message in PHASES.items():
                if line.startswith(start) and start not in shown:
                    shown.add(start)
                    print(f"  {message}…", flush=True)
        code = process.wait()
    return code, "".join(lines)


def build(project: Project) -> bool:
    """`automatiza livro`: stage the book and build the HTML site; pt-BR messages, False on failure."""
    started = time.perf_counter()
    print(f"Preparando as páginas do site em {project.book_staging}…", flush=True)
    try:
        staging = stage(project)
    except BookError as exc:
        print(f"erro: {exc}", file=sys.stderr)
        return False
    listed = toc_files(yaml.safe_load((staging / TOC).read_text(encoding="utf-8")))
    print(f"  {len(listed)} páginas no sumário (_toc.yml gerado do programa).", flush=True)

    project.reports.mkdir(parents=True, exist_ok=True)
    log_path = project.reports / "livro.log"
    print(f"Construindo o site com o Jupyter Book (registro em {log_path})…", flush=True)
    try:
        code, log = _run(jupyter_book_command(staging, project.site_output), log_path)
    except OSError as exc:
        print(f"erro: não consegui rodar o Jupyter Book: {exc}", file=sys.stderr)
        return False
    index = project.site_html / "index.html"
    if code != 0 or not index.is_file():
        print(
            f"erro: o Jupyter Book falhou (código {code}). Veja o registro completo em {log_path}.",
            file=sys.stderr,
        )
        for line in warnings(log)[-10:]:
            print(f"  {line}", file=sys.stderr)
        return False
    fatal = fatal_warnings(log)
    if fatal:
        print(
            f"erro: o site tem link quebrado ou tentou usar a internet ({len(fatal)} aviso(s)). "
            f"Veja {log_path}:",
            file=sys.stderr,
        )
        for line in fatal[:10]:
            print(f"  {line}", file=sys.stderr)
        return False
    other = warnings(log)
    if other:
        print(f"  {len(other)} aviso(s) do Sphinx (não impedem o site); veja {log_path}.", flush=True)
    print(f"Site pronto em {time.perf_counter() - started:.0f} s: abra {index} no navegador.")
    return True
