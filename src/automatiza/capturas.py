"""Screenshots of the real JupyterHub (made by `automatiza.hub_tour`) on the site pages and lesson 00.

The screenshots are generated (build/capturas/, never in git). When the book is staged, `stage` copies the
ones that exist to `<staging>/capturas/` and removes, from the staged pages and notebooks only, every figure
whose screenshot is missing, so the site still builds (without those pictures) on a machine that cannot run
the browser tour.

Pages refer to a screenshot with a MyST figure (the alt text is required) or a Markdown image:

    :::{figure} capturas/tarefas-liberadas.png
    :alt: Painel Assignments com a tarefa liberada

    Legenda.
    :::

    ![Painel Assignments com a tarefa liberada](../capturas/tarefas-liberadas.png)
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from automatiza.paths import Project

FOLDER = "capturas"
FIGURE = re.compile(
    r"^:::\{figure\} (?:\.\./)*capturas/(?P<name>[\w-]+)\.png\n.*?^:::[ \t]*\n?", re.MULTILINE | re.DOTALL
)
IMAGE = re.compile(r"^.*!\[[^\]]*\]\((?:\.\./)*capturas/(?P<name>[\w-]+)\.png\)[^\n]*\n?", re.MULTILINE)


def source(project: Project) -> Path:
    return project.build / FOLDER


def available(project: Project) -> set[str]:
    folder = source(project)
    return {p.stem for p in folder.glob("*.png")} if folder.is_dir() else set()


def strip_missing(text: str, present: set[str]) -> str:
    """Remove the figures and images of screenshots that are not in `present`."""
    for pattern in (FIGURE, IMAGE):
        text = pattern.sub(lambda m: m.group(0) if m.group("name") in present else "", text)
    return text


def referenced(text: str) -> set[str]:
    return {m.group("name") for pattern in (FIGURE, IMAGE) for m in pattern.finditer(text)}


def _fix_notebook(path: Path, present: set[str]) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    changed = False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if "capturas/" not in text:
            continue
        new = strip_missing(text, present)
        if new != text:
            cell["source"] = new
            changed = True
    if changed:
        path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def stage(project: Project, out: Path) -> set[str]:
    """Copy the screenshots that exist into `out/capturas/` and drop figures of missing ones from the staged
    pages and notebooks under `out`; returns the names copied."""
    present = available(project)
    if present:
        target = out / FOLDER
        target.mkdir(parents=True, exist_ok=True)
        for name in present:
            shutil.copy2(source(project) / f"{name}.png", target / f"{name}.png")
    for path in out.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        if "capturas/" in text:
            new = strip_missing(text, present)
            if new != text:
                path.write_text(new, encoding="utf-8")
    for path in out.rglob("*.ipynb"):
        if "capturas/" in path.read_text(encoding="utf-8"):
            _fix_notebook(path, present)
    return present
