"""The project canvas (`canvas.yml`): what a participant fills in once, validated with pt-BR errors."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

CANVAS_FILE = "canvas.yml"

FIELD_NAMES = {
    "projeto": "nome do projeto",
    "resumo": "resumo em uma frase",
    "instituicao": "instituição",
    "esfera": "esfera (estadual ou municipal)",
    "unidade": "unidade",
    "problema": "problema",
    "dono_do_processo": "dono do processo",
    "equipe": "equipe",
    "meta": "meta",
    "linha_de_base": "linha de base",
    "automacao": "automação",
    "dados": "dados usados",
    "riscos": "riscos",
    "lgpd": "LGPD",
    "manutencao": "quem mantém",
    "premissas": "premissas",
}


class CanvasError(Exception):
    """The canvas is missing or invalid; `problems` lists each problem in pt-BR."""

    def __init__(self, path: Path, problems: list[str]):
        self.path, self.problems = path, problems
        super().__init__(f"Canvas inválido em {path}:\n" + "\n".join(f"  - {p}" for p in problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Baseline(_Strict):
    """How the process runs today: measured cases (minutes per case) and monthly volume, from a file."""

    arquivo: str = Field(min_length=1)  # CSV in the package: one row per case, columns data;minutos
    como_medimos: str = Field(min_length=10)


class Automation(_Strict):
    minutos_restantes_por_caso: float = Field(ge=0)  # human minutes per case that remain after the robot
    manutencao_horas_por_mes: float = Field(ge=0)  # people's time keeping the robot running
    registro_do_robo: str = "registros/execucoes.jsonl"  # the robot's own log of runs (its run time)


class DataSource(_Strict):
    nome: str = Field(min_length=2)
    origem: str = Field(min_length=3)
    dados_pessoais: bool


class Canvas(_Strict):
    projeto: str = Field(min_length=5)
    resumo: str = Field(min_length=10, max_length=300)
    instituicao: str = Field(min_length=3)
    esfera: Literal["estadual", "municipal"]
    unidade: str = Field(min_length=2)
    problema: str = Field(min_length=20)
    dono_do_processo: str = Field(min_length=3)
    equipe: list[str] = Field(min_length=1)
    meta: str = Field(min_length=10)
    linha_de_base: Baseline
    automacao: Automation
    dados: list[DataSource] = Field(min_length=1)
    riscos: list[str] = Field(min_length=1)
    lgpd: str = Field(min_length=10)
    manutencao: str = Field(min_length=5)
    premissas: list[str] = []


def _where(loc: tuple) -> str:
    parts = [FIELD_NAMES.get(str(p), str(p)) if i == 0 else str(p) for i, p in enumerate(loc)]
    return " > ".join(parts) or "canvas"


def _message(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    messages = {
        "missing": "falta preencher",
        "extra_forbidden": "campo desconhecido (confira o nome; veja o modelo em `automatiza projeto novo`)",
        "string_too_short": f"texto curto demais (mínimo {ctx.get('min_length')} caracteres)",
        "string_too_long": f"texto longo demais (máximo {ctx.get('max_length')} caracteres)",
        "too_short": "a lista está vazia: escreva pelo menos um item",
        "literal_error": f"use um destes valores: {str(ctx.get('expected', '')).replace(' or ', ' ou ')}",
        "greater_than_equal": f"use um número maior ou igual a {ctx.get('ge')}",
        "float_parsing": "esperava um número (use ponto para decimais: 12.5)",
        "bool_parsing": "responda sim ou não (true ou false)",
        "string_type": "esperava um texto",
        "list_type": "esperava uma lista (itens começando com '- ')",
        "model_type": "esperava um bloco com campos",
    }
    return messages.get(kind, error["msg"])


def load(path: Path) -> Canvas:
    """Read and validate a canvas; CanvasError lists every problem in pt-BR."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CanvasError(path, ["o arquivo não existe"]) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CanvasError(path, [f"arquivo ilegível ({type(exc).__name__}: {exc})"]) from None
    if not isinstance(data, dict):
        raise CanvasError(path, ["o canvas precisa ser um bloco de campos (projeto:, instituicao:, ...)"])
    try:
        return Canvas.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_where(e['loc'])}: {_message(e)}" for e in exc.errors()]
        raise CanvasError(path, problems) from None
