"""Where things live in a course checkout and in its build folder."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when used: its models cost ~0.15 s at start-up of every command
    from automatiza import curriculum


def find_root(start: Path | None = None) -> Path:
    """The checkout root: AUTOMATIZA_RAIZ, or the nearest folder holding curriculum/programa.yml."""
    if env := os.environ.get("AUTOMATIZA_RAIZ"):
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    package_checkout = Path(__file__).resolve().parents[2]  # the checkout this package is installed from
    for folder in (here, *here.parents, package_checkout):
        if (folder / "curriculum" / "programa.yml").is_file():
            return folder
    raise FileNotFoundError(
        f"Não encontrei curriculum/programa.yml em {here} nem nas pastas acima. "
        "Rode o comando dentro da pasta do curso ou defina AUTOMATIZA_RAIZ."
    )


@dataclass(frozen=True)
class Project:
    """A course checkout: sources under `root`, everything generated under `build`."""

    root: Path
    build: Path

    @classmethod
    def at(cls, root: Path | None = None, build: Path | None = None) -> Project:
        root = (root or find_root()).resolve()
        return cls(root=root, build=(build or root / "build").resolve())

    @property
    def curriculum_file(self) -> Path:
        return self.root / "curriculum" / "programa.yml"

    def curriculum(self) -> curriculum.Curriculum:
        from automatiza import curriculum

        return curriculum.load(self.curriculum_file)

    @property
    def exercises(self) -> Path:
        """nbgrader sources: exercises/<assignment>/<notebook>.ipynb, with solutions and hidden tests."""
        return self.root / "exercises"

    @property
    def book_sources(self) -> Path:
        """Hand-written site configuration and pages (committed)."""
        return self.root / "book"

    @property
    def executed(self) -> Path:
        """Notebooks executed by papermill, mirroring their path relative to the root."""
        return self.build / "executados"

    @property
    def reports(self) -> Path:
        return self.build / "relatorios"

    @property
    def nbgrader_course(self) -> Path:
        """A throw-away nbgrader course folder used to generate the student versions."""
        return self.build / "nbgrader"

    @property
    def released(self) -> Path:
        """Student versions: released/<assignment>/<notebook>.ipynb."""
        return self.nbgrader_course / "release"

    @property
    def book_staging(self) -> Path:
        """The generated Jupyter Book source (config, toc, pages and notebooks)."""
        return self.build / "livro"

    @property
    def site_output(self) -> Path:
        """Jupyter Book writes `<this>/_build/html`; book/_build/html for the default build folder."""
        return self.book_sources if self.build == self.root / "build" else self.build / "site"

    @property
    def site_html(self) -> Path:
        return self.site_output / "_build" / "html"

    def assignment_notebooks(self, name: str) -> list[Path]:
        return sorted((self.exercises / name).glob("*.ipynb"))


def put_python_tools_on_path() -> None:
    """Let tools that nbgrader calls by name (e.g. `alembic`) be found next to this Python, venv or not."""
    tools = str(Path(sys.executable).parent)
    if tools not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = tools + os.pathsep + os.environ.get("PATH", "")
