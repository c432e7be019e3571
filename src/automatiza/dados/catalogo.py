"""Estruturas do catálogo: cada conjunto documenta colunas, peculiaridades (com taxa) e tamanho padrão.

O catálogo é a única fonte da página "Dicionário de dados" e dos testes que conferem cada peculiaridade
documentada na taxa documentada.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

SEMENTE_PADRAO = 2024


def porcentagem(taxa: float) -> str:
    """0.02 -> '2%'; 0.005 -> '0,5%'; 0.125 -> '12,5%' (formato brasileiro)."""
    valor = round(taxa * 100, 2)
    texto = f"{valor:.2f}".rstrip("0").rstrip(".")
    return texto.replace(".", ",") + "%"


@dataclass(frozen=True)
class Coluna:
    nome: str
    tipo: str
    significado: str


@dataclass(frozen=True)
class Peculiaridade:
    """Um defeito ou característica deliberada dos dados.

    `texto` pode conter `{taxa}`, trocado pela taxa em porcentagem. `medir(resultado, marcas)` devolve a
    taxa observada num resultado gerado (um DataFrame ou uma pasta) e nas marcas internas do gerador.
    `taxa=None` indica uma característica estrutural: `medir` devolve 1.0 quando ela está presente.
    """

    codigo: str
    texto: str
    taxa: float | None
    medir: Callable[[Any, dict], float]
    tolerancia: float | None = None

    @property
    def descricao(self) -> str:
        return self.texto.format(taxa=porcentagem(self.taxa)) if self.taxa is not None else self.texto

    @property
    def margem(self) -> float:
        if self.tolerancia is not None:
            return self.tolerancia
        if self.taxa is None:
            return 0.0
        return max(0.2 * self.taxa, 0.002)


@dataclass(frozen=True)
class Parametro:
    nome: str
    padrao: Any
    descricao: str
    validar: Callable[[Any], Any] | None = None  # devolve o valor normalizado ou levanta ValueError


@dataclass(frozen=True)
class Conjunto:
    nome: str
    titulo: str
    descricao: str
    tipo: Literal["tabela", "arquivos"]
    unidade: str  # o que `n` conta: "processos", "contratos", "linhas", "dias", "arquivos"...
    n_padrao: int
    n_min: int
    n_max: int
    gerar: Callable[..., tuple[Any, dict]]
    colunas: tuple[Coluna, ...] = ()
    arquivos: tuple[tuple[str, str], ...] = ()  # (padrão do nome, o que contém) para conjuntos de arquivos
    peculiaridades: tuple[Peculiaridade, ...] = ()
    parametros: tuple[Parametro, ...] = ()
    modulos: tuple[str, ...] = ()
    notas: str = ""
    tamanho_padrao_texto: str = ""
    n_teste: int | None = None  # tamanho usado nos testes das peculiaridades
    extras: dict = field(default_factory=dict)

    @property
    def tamanho(self) -> str:
        base = f"{self.n_padrao:_}".replace("_", ".") + f" {self.unidade}"
        return f"{base} ({self.tamanho_padrao_texto})" if self.tamanho_padrao_texto else base
