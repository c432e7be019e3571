"""The course program (curriculum/programa.yml): schema, loading and pt-BR validation errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from automatiza.errors import SetupError, UsageError

MODULE_ID = re.compile(r"^\d{2}$")
ASSIGNMENT_NAME = re.compile(r"^[0-9a-z][0-9a-z-]*$")


class UnknownModule(UsageError):
    """A module id that the program does not have."""


class CurriculumError(SetupError):
    """The curriculum file is missing, unreadable or invalid; `problems` lists every problem in pt-BR."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Programa do curso inválido em {path}:\n{lines}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


URL = re.compile(r"^https?://[^\s/?#]+[^\s?#]*$")


class JupyterHubLaunch(_Strict):
    """Where the site's "Abrir no JupyterLab do curso" links go (nbgitpuller on the course JupyterHub).

    `repositorio` is a git repository with the learners' material in the site's layout (notebooks/... and
    exercicios/<tarefa>/..., student versions only): never this course repository, which has solutions.
    """

    hub: str  # e.g. https://hub.exemplo.mg.gov.br (without /hub)
    repositorio: str
    ramo: str = Field(default="main", min_length=1)
    pasta: str = Field(default="", pattern=r"^[^/\s]*$")  # folder nbgitpuller creates; default: repo name

    @field_validator("hub", "repositorio")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not URL.match(value):
            raise ValueError(f"use um endereço que comece com https:// (veio {value!r})")
        return value

    @field_validator("hub")
    @classmethod
    def _no_hub_suffix(cls, value: str) -> str:
        if value.endswith("/hub"):
            raise ValueError("use o endereço do JupyterHub sem o '/hub' do final")
        return value


class Program(_Strict):
    titulo: str = Field(min_length=3)
    subtitulo: str = ""
    instituicao: str = Field(min_length=3)
    duracao_meses: int = Field(ge=1, le=24)
    apresentacao: str = Field(min_length=10)
    abrir_no_jupyterhub: JupyterHubLaunch | None = None


class Stage(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    nome: str = Field(min_length=3)
    meses: list[int] = Field(min_length=1)
    semanas: tuple[int, int]
    proposito: str = Field(min_length=10)

    @field_validator("semanas")
    @classmethod
    def _ordered(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] < 1 or value[1] < value[0]:
            raise ValueError("use [semana inicial, semana final], com 1 <= inicial <= final")
        return value


class Assignment(_Strict):
    nome: str = Field(pattern=ASSIGNMENT_NAME.pattern)
    pontos: float = Field(gt=0)


class Module(_Strict):
    id: str = Field(pattern=MODULE_ID.pattern)
    titulo: str = Field(min_length=3)
    etapa: str
    semana: int = Field(ge=1)
    situacao: Literal["escrito", "planejado"]
    horas: float = Field(gt=0)
    objetivos: list[str] = Field(min_length=1)
    prerequisitos: list[str] = []
    dados: list[str] = []
    licoes: list[str] = []
    tarefa: Assignment | None = None

    @model_validator(mode="after")
    def _written_has_lessons(self) -> Module:
        if self.situacao == "escrito" and not self.licoes:
            raise ValueError("um módulo 'escrito' precisa de pelo menos uma lição em 'licoes'")
        return self

    @property
    def written(self) -> bool:
        return self.situacao == "escrito"

    @property
    def slug(self) -> str:
        """Stable folder name for the module's pages, e.g. 'modulo-01'."""
        return f"modulo-{self.id}"


class Curriculum(_Strict):
    programa: Program
    etapas: list[Stage] = Field(min_length=1)
    modulos: list[Module] = Field(min_length=1)

    def module(self, module_id: str) -> Module:
        for m in self.modulos:
            if m.id == module_id:
                return m
        valid = ", ".join(m.id for m in self.modulos)
        raise UnknownModule(f"módulo '{module_id}' não existe no programa; módulos: {valid}")

    def stage(self, stage_id: str) -> Stage:
        return next(s for s in self.etapas if s.id == stage_id)

    @property
    def written(self) -> list[Module]:
        return [m for m in self.modulos if m.written]


def cross_reference_problems(cur: Curriculum) -> list[str]:
    """Problems that span fields: repeated ids, unknown stages and prerequisites, weeks out of stage."""
    stages = {s.id: s for s in cur.etapas}
    problems = _duplicates("etapas", [s.id for s in cur.etapas])
    problems += _duplicates("modulos", [m.id for m in cur.modulos])
    problems += _duplicates("tarefa.nome", [m.tarefa.nome for m in cur.modulos if m.tarefa])
    known = {m.id for m in cur.modulos}
    for i, m in enumerate(cur.modulos):
        where = f"modulos[{i}] (módulo {m.id})"
        stage = stages.get(m.etapa)
        if stage is None:
            problems.append(
                f"{where}.etapa: a etapa '{m.etapa}' não existe; etapas válidas: {', '.join(stages)}"
            )
        elif not stage.semanas[0] <= m.semana <= stage.semanas[1]:
            problems.append(
                f"{where}.semana: a semana {m.semana} está fora da etapa '{stage.id}' "
                f"(semanas {stage.semanas[0]} a {stage.semanas[1]})"
            )
        for p in m.prerequisitos:
            if p not in known:
                problems.append(f"{where}.prerequisitos: o módulo '{p}' não existe")
            elif p >= m.id:
                problems.append(f"{where}.prerequisitos: '{p}' deveria ser um módulo anterior ao {m.id}")
    return problems


def _duplicates(field: str, values: list[str]) -> list[str]:
    seen: set[str] = set()
    repeated = sorted({v for v in values if v in seen or seen.add(v)})
    return [f"{field}: identificador repetido '{v}'" for v in repeated]


_MESSAGES = {
    "missing": "campo obrigatório ausente",
    "extra_forbidden": "campo desconhecido (confira a grafia)",
    "string_type": "deveria ser um texto",
    "int_type": "deveria ser um número inteiro",
    "int_parsing": "deveria ser um número inteiro",
    "float_type": "deveria ser um número",
    "float_parsing": "deveria ser um número",
    "list_type": "deveria ser uma lista",
    "tuple_type": "deveria ser uma lista de dois números",
    "dict_type": "deveria ser um bloco de campos",
    "model_type": "deveria ser um bloco de campos",
    "literal_error": "valor inválido",
    "string_pattern_mismatch": "formato inválido",
    "string_too_short": "texto curto demais",
    "too_short": "lista vazia ou curta demais",
    "too_long": "lista longa demais",
    "greater_than": "deveria ser maior",
    "greater_than_equal": "deveria ser maior",
    "less_than_equal": "deveria ser menor",
}


def _location(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(raiz do arquivo)"


def _translate(error: dict) -> str:
    where = _location(error["loc"])
    kind = error["type"]
    if kind == "value_error":
        return f"{where}: {error['ctx']['error']}"
    message = _MESSAGES.get(kind, error["msg"])
    ctx = error.get("ctx") or {}
    if kind == "literal_error":
        message += f"; use um destes: {ctx.get('expected', '')}"
    elif kind == "string_pattern_mismatch":
        message += f" (esperado o padrão {ctx.get('pattern')})"
    elif kind in {"greater_than", "greater_than_equal", "less_than_equal"}:
        limit = ctx.get("gt", ctx.get("ge", ctx.get("le")))
        message += f" (limite: {limit})"
    got = error.get("input")
    if kind != "missing" and not isinstance(got, dict | list):
        message += f"; veio {got!r}"
    return f"{where}: {message}"


def load(path: Path) -> Curriculum:
    """Read and validate the curriculum; raise CurriculumError with every problem found."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CurriculumError(path, ["arquivo não encontrado"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (linha {mark.line + 1}, coluna {mark.column + 1})" if mark else ""
        raise CurriculumError(path, [f"YAML inválido{where}: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(raw, dict):
        raise CurriculumError(path, ["o arquivo deveria conter os blocos 'programa', 'etapas' e 'modulos'"])
    try:
        cur = Curriculum.model_validate(raw)
    except ValidationError as exc:
        raise CurriculumError(path, [_translate(e) for e in exc.errors(include_url=False)]) from None
    problems = cross_reference_problems(cur)
    if problems:
        raise CurriculumError(path, problems)
    return cur
