"""`automatiza liberar`: student versions with nbgrader, then a leak check against the real source text."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI
from traitlets.config import Config

from automatiza.paths import Project, put_python_tools_on_path

CODE_STUB = "# ESCREVA SEU CÓDIGO AQUI\nraise NotImplementedError()"
TEXT_STUB = "ESCREVA SUA RESPOSTA AQUI"
CATALOG = "respostas-erradas.yml"  # the exercise author's wrong answers: never released
REGIONS = {  # what nbgrader removes from the student version: (begin, end) markers
    "solução": ("### BEGIN SOLUTION", "### END SOLUTION"),
    "teste oculto": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"),
    "gabarito": ("=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ==="),
}


def nbgrader_config(course_root: Path) -> Config:
    """The nbgrader settings of this course (pt-BR stubs) for a course folder at `course_root`."""
    config = Config()
    config.CourseDirectory.root = str(course_root)
    config.ClearSolutions.code_stub = {"python": CODE_STUB}
    config.ClearSolutions.text_stub = TEXT_STUB
    return config


@dataclass(frozen=True)
class Leak:
    released: Path
    cell: int
    line: str
    kind: str
    source: Path

    def describe(self) -> str:
        return (
            f"{self.released} (célula {self.cell}) contém a linha {self.line!r}, que é {self.kind} "
            f"em {self.source}"
        )


def _split(source: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Lines of one cell split into secret (kind, line) pairs and public lines."""
    secret: list[tuple[str, str]] = []
    public: list[str] = []
    inside: str | None = None
    for raw in source.splitlines():
        line = raw.strip()
        if inside is None:
            inside = next((k for k, (begin, _) in REGIONS.items() if begin in line), None)
            if inside is None:
                public.append(line)
        elif REGIONS[inside][1] in line:
            inside = None
        else:
            secret.append((inside, line))
    return secret, public


def secret_lines(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Lines that exist only inside solutions, hidden tests or mark schemes: line -> kind of region."""
    secret: dict[str, str] = {}
    public: set[str] = {line.strip() for stub in (CODE_STUB, TEXT_STUB) for line in stub.splitlines()}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        has_markers = any(begin in cell.source for begin, _ in REGIONS.values())
        if meta.get("solution") and not has_markers:  # nbgrader replaces the whole cell
            secret.update({line.strip(): "solução" for line in cell.source.splitlines()})
            continue
        found, shown = _split(cell.source)
        secret.update({line: kind for kind, line in found})
        public.update(shown)
    return {line: kind for line, kind in secret.items() if line and line not in public}


def find_leaks(source: Path, released: Path) -> list[Leak]:
    """Every line of the student version that comes from a solution, hidden test or mark scheme."""
    secrets = secret_lines(nbformat.read(source, as_version=4))
    leaks = []
    for index, cell in enumerate(nbformat.read(released, as_version=4).cells):
        for raw in cell.source.splitlines():
            line = raw.strip()
            if line in secrets:
                leaks.append(Leak(released, index, line, secrets[line], source))
            elif any(marker in line for pair in REGIONS.values() for marker in pair):
                leaks.append(Leak(released, index, line, "um marcador do nbgrader", source))
    return leaks


def generate(project: Project, assignment: str) -> list[Path]:
    """nbgrader generate_assignment for one assignment; returns the student notebooks."""
    course = project.nbgrader_course
    source = course / "source" / assignment
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(
        project.exercises / assignment,
        source,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", CATALOG),
    )
    put_python_tools_on_path()
    api = NbGraderAPI(config=nbgrader_config(course))
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        log = (result.get("log") or "") + (result.get("error") or "")
        raise RuntimeError(f"o nbgrader não gerou a tarefa '{assignment}':\n{log}")
    return sorted((project.released / assignment).glob("*.ipynb"))


LEARNER_README = """\
# Material de quem aprende: Automatiza.MG

Gerado por `automatiza liberar` a partir do repositório do curso. Tem só o que quem aprende pode ver: as
lições (`notebooks/`, sem saídas) e as versões de estudante dos exercícios (`exercicios/`), nunca as soluções
nem os testes ocultos.

Para os links "Abrir no JupyterLab do curso" do site funcionarem, publique esta pasta num repositório git que
o JupyterHub alcance e informe-o em `curriculum/programa.yml`:

```yaml
programa:
  abrir_no_jupyterhub:
    hub: https://jupyter.exemplo.mg.gov.br
    repositorio: https://git.exemplo.mg.gov.br/automatiza/material-aluno
```

```bash
cd build/repositorio-aprendiz && git init -b main && git add . && git commit -m "Material do curso"
git remote add origin URL-DO-REPOSITORIO && git push -u origin main
```

As tarefas avaliadas continuam sendo buscadas e entregues pela aba **Assignments** do JupyterLab.
"""


def learner_repository(project: Project) -> Path:
    """`build/repositorio-aprendiz/`: lessons and student versions laid out as the site's launch links expect
    (`notebooks/...`, `exercicios/<tarefa>/...`), for an nbgitpuller repository. Call after `generate`."""
    target = project.build / "repositorio-aprendiz"
    shutil.rmtree(target, ignore_errors=True)
    (target / "notebooks").mkdir(parents=True)
    skip = shutil.ignore_patterns(".ipynb_checkpoints", "build", "__pycache__")
    for module in project.curriculum().written:
        for lesson in module.licoes:
            source = project.root / lesson
            destination = target / lesson
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            if (support := source.with_suffix("")).is_dir():  # files a lesson runs (module 12's robot)
                shutil.copytree(support, destination.with_suffix(""), ignore=skip)
            for image in source.parent.glob(f"{source.stem}*.png"):  # pictures next to the lesson
                shutil.copyfile(image, destination.parent / image.name)
        if module.tarefa and (released := project.released / module.tarefa.nome).is_dir():
            shutil.copytree(released, target / "exercicios" / module.tarefa.nome, ignore=skip)
    (target / "README.md").write_text(LEARNER_README, encoding="utf-8")
    return target


def release_all(project: Project) -> bool:
    """Generate every written module's assignment and check the student versions for leaks."""
    assignments = [m.tarefa.nome for m in project.curriculum().written if m.tarefa]
    shutil.rmtree(project.nbgrader_course, ignore_errors=True)
    project.nbgrader_course.mkdir(parents=True)
    leaks: list[Leak] = []
    for name in assignments:
        try:
            released = generate(project, name)
        except RuntimeError as exc:
            print(f"erro: {exc}", file=sys.stderr)
            return False
        for student in released:
            leaks += find_leaks(project.exercises / name / student.name, student)
        print(f"  {name}: {len(released)} notebook(s) de estudante em {project.released / name}")
    if leaks:
        print(
            f"VAZAMENTO: {len(leaks)} linha(s) de solução ou teste oculto nas versões de estudante:",
            file=sys.stderr,
        )
        for leak in leaks:
            print(f"  - {leak.describe()}", file=sys.stderr)
        return False
    print(f"{len(assignments)} tarefa(s) liberada(s), nenhuma linha de solução ou teste oculto vazou.")
    print(f"Material de quem aprende (para o nbgitpuller): {learner_repository(project)}")
    return True
