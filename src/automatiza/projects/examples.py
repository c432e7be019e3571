"""Two example projects (a state and a city one, synthetic) and the cohort page built from them, for the
course site's gallery and for the lessons: the same tools a cohort uses on its real packages."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from automatiza.projects import cohort, scaffold
from automatiza.projects.results import Project

EXAMPLES = (
    (
        "conferencia-medicoes-pbh",
        "Conferência de boletins de medição",
        "Prefeitura de Belo Horizonte",
        "municipal",
        2026,
    ),
    ("conferencia-medicoes-seplag", "Conferência de medições de convênios", "Seplag-MG", "estadual", 7),
)
NOTE = (
    "```{note}\nEsta galeria mostra **dois projetos de exemplo, com dados sintéticos**, gerados a cada "
    "construção do site com as mesmas ferramentas que uma turma usa (`automatiza projeto novo`, o robô de "
    "cada pacote e `automatiza projeto turma`). Os números vêm dos dados de cada pacote e do registro do "
    "robô, com as premissas ao lado.\n```\n"
)


def build(folder: Path) -> list[Path]:
    """Create the example packages in `folder` (replaced) and run each robot once, so it has a log."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    packages = []
    for name, title, institution, sphere, seed in EXAMPLES:
        package = scaffold.create(folder / name, title, institution, sphere, seed)
        done = subprocess.run(
            [sys.executable, str(package / "robo.py")], capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            raise RuntimeError(f"o robô do exemplo {name} falhou:\n{done.stderr[-2000:]}")
        packages.append(package)
    return packages


def gallery_page(folder: Path, title: str = "Resultados dos projetos") -> str:
    """The Markdown of the site's results gallery, from freshly built example packages."""
    page = cohort.markdown([Project.read(p) for p in build(folder)], title)
    heading, _, rest = page.partition("\n")
    return f"{heading}\n\n{NOTE}{rest}"
