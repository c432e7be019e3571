"""The learner's JupyterLab: a workspace with copies of the lessons, and the Jupyter configuration that shows
learners only what they need.

A learner workspace (`automatiza aluno preparar PASTA`):

    PASTA/
      licoes/                 copies of the lessons of the written modules (saving never touches the repo)
      <tarefa>/               assignments fetched from the Assignments panel land here
      .automatiza/jupyter/    the learner's Jupyter configuration (hidden in the file browser)

The configuration folder goes first on JUPYTER_CONFIG_PATH and uses supported mechanisms only:
- `jupyter_server_config.json`: nbgrader's instructor server extensions (formgrader, course list) off;
- `labconfig/page_config.json`: the instructor panels (Formgrader, Create Assignment, Course List) and the
  news pop-up disabled;
- `lab-settings/overrides.json` (LabApp.app_settings_dir): pt-BR as the default language, no news, no update
  checks;
- `nbgrader_config.py`: the cohort's exchange and course id, and validation kernels with minimal tracebacks so
  that the pt-BR message of a failed check comes first.

The instructor's configuration (`instructor_config`) keeps every nbgrader tool and points formgrader at the
cohort folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from traitlets.config import Config

from automatiza.paths import Project

LOCALE = "pt_BR"
LESSONS = "licoes"
CONFIG = Path(".automatiza") / "jupyter"
INSTRUCTOR_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
LEARNER_SERVER_EXTENSIONS = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
    "nbgrader.server_extensions.assignment_list": True,
    "nbgrader.server_extensions.validate_assignment": True,
}
OVERRIDES = {
    "@jupyterlab/translation-extension:plugin": {"locale": LOCALE},
    "@jupyterlab/apputils-extension:notification": {"checkForUpdates": False, "fetchNews": "false"},
}


class WorkspaceError(Exception):
    """A problem preparing a learner workspace (pt-BR message)."""


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _nbgrader_file(config: Config) -> str:
    lines = ["# Gerado pelo automatiza: configuração do nbgrader nesta pasta.", "c = get_config()"]
    for section, values in sorted(config.items()):
        for key, value in sorted(values.items()):
            lines.append(f"c.{section}.{key} = {value!r}")
    return "\n".join(lines) + "\n"


def _common(folder: Path, disabled: list[str], server_extensions: dict[str, bool]) -> None:
    settings = folder / "lab-settings"
    _write_json(
        folder / "jupyter_server_config.json",
        {
            "ServerApp": {"jpserver_extensions": server_extensions},
            "LabApp": {"app_settings_dir": str(settings), "news_url": ""},
        },
    )
    page = {"disabledExtensions": dict.fromkeys(disabled, True)}
    _write_json(folder / "labconfig" / "page_config.json", page)
    _write_json(settings / "overrides.json", OVERRIDES)


def learner_config(folder: Path, exchange: Path | None = None, course_id: str | None = None) -> Path:
    """Write the learner's Jupyter configuration into `folder` (created); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    _common(folder, [*INSTRUCTOR_PLUGINS, NEWS_PLUGIN], LEARNER_SERVER_EXTENSIONS)
    config = Config()
    if exchange is not None:
        config.Exchange.root = str(exchange)
    if course_id:
        config.CourseDirectory.course_id = course_id
    # the Validate button: the friendly pt-BR message of a failed check first, not a traceback to scroll
    config.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal"]
    (folder / "nbgrader_config.py").write_text(_nbgrader_file(config), encoding="utf-8")
    return folder


def instructor_config(folder: Path, cohort: Path, exchange: Path | None, course_id: str) -> Path:
    """Write an instructor's Jupyter configuration: every nbgrader tool, formgrader on the cohort folder."""
    folder.mkdir(parents=True, exist_ok=True)
    _common(folder, [NEWS_PLUGIN], dict.fromkeys(LEARNER_SERVER_EXTENSIONS, True))
    config = Config()
    config.CourseDirectory.root = str(cohort)
    config.CourseDirectory.course_id = course_id
    if exchange is not None:
        config.Exchange.root = str(exchange)
    (folder / "nbgrader_config.py").write_text(_nbgrader_file(config), encoding="utf-8")
    return folder


def lesson_files(project: Project) -> list[Path]:
    """The lesson notebooks of the written modules, in program order."""
    found = []
    for module in project.curriculum().written:
        for lesson in module.licoes:
            path = project.root / lesson
            if path.is_file():
                found.append(path)
    return found


def copy_lessons(lessons: list[Path], workspace: Path) -> list[Path]:
    """Copy lessons missing from `workspace/licoes/`; a lesson the learner already has is never replaced."""
    target = workspace / LESSONS
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for lesson in lessons:
        destination = target / lesson.name
        if not destination.exists():
            shutil.copyfile(lesson, destination)
            copied.append(destination)
        _copy_support(lesson.with_suffix(""), target / lesson.stem)
    return copied


def _copy_support(source: Path, target: Path) -> None:
    """Files a lesson runs, kept in a folder named after it (module 12's robot notebook); never replaced."""
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or {".ipynb_checkpoints", "build"} & set(relative.parts):
            continue
        destination = target / relative
        if not destination.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)


def prepare(
    project: Project, workspace: Path, exchange: Path | None = None, course_id: str = "automatiza-mg"
) -> list[Path]:
    """Create or update a learner workspace; returns the lessons copied now."""
    workspace = workspace.expanduser().resolve()
    root = project.root.resolve()
    if workspace == root or root in workspace.parents:
        raise WorkspaceError(
            f"a pasta de estudo não pode ficar dentro do repositório do curso ({root}): lá estão as soluções "
            "dos exercícios. Escolha outra pasta, por exemplo ~/automatiza."
        )
    if workspace.exists() and not workspace.is_dir():
        raise WorkspaceError(f"{workspace} existe e não é uma pasta")
    if exchange is not None and not exchange.is_dir():
        raise WorkspaceError(
            f"a pasta de troca de tarefas {exchange} não existe: peça à equipe do curso o caminho certo "
            "(ela é criada por 'automatiza turma criar')."
        )
    workspace.mkdir(parents=True, exist_ok=True)
    copied = copy_lessons(lesson_files(project), workspace)
    learner_config(workspace / CONFIG, exchange, course_id)
    return copied


def environment(config_folder: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a Jupyter server that uses `config_folder` before every other configuration."""
    env = dict(os.environ if base is None else base)
    paths = [str(config_folder)] + [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    return env


def open_lab(workspace: Path, extra: list[str] | None = None) -> int:
    """Run JupyterLab on the learner workspace (blocks until the learner stops it)."""
    workspace = workspace.expanduser().resolve()
    config = workspace / CONFIG
    if not config.is_dir():
        raise WorkspaceError(f"{workspace} não é uma pasta de estudo: rode antes 'automatiza aluno preparar'")
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={workspace}", *(extra or [])]
    return subprocess.call(command, env=environment(config), cwd=workspace)
