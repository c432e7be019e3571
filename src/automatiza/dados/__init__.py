"""Dados sintéticos da administração pública de Minas Gerais para as lições, os exercícios e os testes.

Nenhum dado pessoal real: pessoas, empresas, documentos e valores são inventados por geradores
determinísticos (a mesma semente e os mesmos parâmetros dão sempre o mesmo resultado, byte a byte). A única
tabela real é a lista pública dos 853 municípios de Minas Gerais com os códigos do IBGE.

    >>> from automatiza import dados
    >>> dados.listar()                       # o catálogo
    >>> dados.listar("processos_sei")        # as colunas de um conjunto e o que significam
    >>> df = dados.carregar("processos_sei")
    >>> pasta = dados.carregar("planilhas_regionais")   # conjuntos de arquivos devolvem o caminho
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from automatiza.dados.calendario import feriados_bh
from automatiza.dados.catalogo import SEMENTE_PADRAO, Conjunto
from automatiza.dados.documentos import (
    cnpj_valido,
    cpf_valido,
    dv_ibge,
    formatar_cnpj,
    formatar_cpf,
    ibge_valido,
)

__all__ = [
    "ErroDados",
    "SEMENTE_PADRAO",
    "carregar",
    "catalogo",
    "cnpj_valido",
    "cpf_valido",
    "dicionario_markdown",
    "dv_ibge",
    "feriados_bh",
    "formatar_cnpj",
    "formatar_cpf",
    "ibge_valido",
    "listar",
    "pasta_dados",
]

# Mude quando um gerador mudar de saída: invalida as pastas já geradas no cache.
VERSAO_GERADORES = "2"

_MODULOS = (
    "sei",
    "obras",
    "fornecedores",
    "municipios",
    "demandas",
    "pluviometros",
    "riscos",
    "prazos",
    "arquivos",
)


class ErroDados(ValueError):
    """Erro de uso de `carregar` ou `listar` (nome desconhecido, parâmetro inválido...)."""


def catalogo() -> dict[str, Conjunto]:
    """Todos os conjuntos de dados, na ordem do dicionário de dados."""
    import importlib

    conjuntos: dict[str, Conjunto] = {}
    for modulo in _MODULOS:
        for c in importlib.import_module(f"automatiza.dados.{modulo}").CONJUNTOS:
            conjuntos[c.nome] = c
    return conjuntos


def _conjunto(nome: Any) -> Conjunto:
    conjuntos = catalogo()
    if not isinstance(nome, str):
        raise ErroDados(f'O nome do conjunto deve ser um texto, como "processos_sei"; recebi {nome!r}.')
    if nome in conjuntos:
        return conjuntos[nome]
    normalizado = nome.strip().lower().replace("-", "_").replace(" ", "_")
    if normalizado in conjuntos:
        return conjuntos[normalizado]
    parecidos = difflib.get_close_matches(normalizado, list(conjuntos), n=1, cutoff=0.5)
    dica = f' Você quis dizer "{parecidos[0]}"?' if parecidos else ""
    raise ErroDados(
        f'Não conheço o conjunto de dados "{nome}".{dica} '
        f"Os disponíveis são: {', '.join(conjuntos)}. Veja a descrição de cada um com dados.listar()."
    )


def _validar_n(c: Conjunto, n: Any) -> int:
    if n is None:
        return c.n_padrao
    if isinstance(n, bool) or not isinstance(n, int):
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        else:
            raise ErroDados(
                f"n deve ser um número inteiro de {c.unidade} (por exemplo n={c.n_padrao}); recebi {n!r}."
            )
    if not c.n_min <= n <= c.n_max:
        raise ErroDados(
            f'n={n} está fora do intervalo aceito para "{c.nome}": de {_milhar(c.n_min)} a '
            f"{_milhar(c.n_max)} {c.unidade}."
        )
    return n


def _milhar(valor: int) -> str:
    return f"{valor:,}".replace(",", ".")


def _validar_semente(semente: Any) -> int:
    if isinstance(semente, bool) or not isinstance(semente, int) or semente < 0:
        raise ErroDados(f"semente deve ser um número inteiro maior ou igual a zero; recebi {semente!r}.")
    return semente


def _validar_parametros(c: Conjunto, parametros: dict) -> dict:
    aceitos = {p.nome: p for p in c.parametros}
    desconhecidos = [k for k in parametros if k not in aceitos]
    if desconhecidos:
        lista = ", ".join(aceitos) if aceitos else "nenhum além de n e semente"
        extra = (
            ""
            if c.tipo == "arquivos" or "pasta" not in desconhecidos
            else (" (pasta só vale para conjuntos de arquivos)")
        )
        raise ErroDados(
            f'O conjunto "{c.nome}" não aceita o parâmetro {", ".join(map(repr, desconhecidos))}{extra}. '
            f"Parâmetros aceitos: {lista}."
        )
    valores = {}
    for nome, p in aceitos.items():
        valor = parametros.get(nome, p.padrao)
        if p.validar is not None:
            try:
                valor = p.validar(valor)
            except (TypeError, ValueError) as erro:
                raise ErroDados(f'Parâmetro {nome}={valor!r} inválido para "{c.nome}": {erro}') from None
        valores[nome] = valor
    return valores


def pasta_dados() -> Path:
    """Onde os conjuntos de arquivos são gravados: $AUTOMATIZA_DADOS ou ~/.cache/automatiza/dados."""
    if env := os.environ.get("AUTOMATIZA_DADOS"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "automatiza" / "dados"


def _chave(c: Conjunto, n: int, semente: int, parametros: dict) -> str:
    texto = json.dumps(
        {"nome": c.nome, "n": n, "semente": semente, "parametros": parametros, "versao": VERSAO_GERADORES},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(texto.encode()).hexdigest()[:10]


def _gerar_arquivos(c: Conjunto, n: int, semente: int, parametros: dict, pasta: Path | None) -> Path:
    base = Path(pasta).expanduser() if pasta is not None else pasta_dados()
    destino = base / f"{c.nome}-{_chave(c, n, semente, parametros)}"
    if (destino / ".completo").is_file():
        return destino
    try:
        base.mkdir(parents=True, exist_ok=True)
        temporaria = Path(tempfile.mkdtemp(prefix=f".{c.nome}-", dir=base))
    except OSError as erro:
        raise ErroDados(
            f"Não consegui gravar em {base} ({erro.strerror}). Escolha outra pasta com "
            f'carregar("{c.nome}", pasta="minha_pasta") ou defina a variável de ambiente AUTOMATIZA_DADOS.'
        ) from None
    try:
        c.gerar(temporaria, n, semente, **parametros)
        (temporaria / ".completo").write_text("gerado por automatiza.dados\n", encoding="utf-8")
        if destino.exists():  # outra execução (ou uma pasta incompleta) chegou antes
            if (destino / ".completo").is_file():
                return destino
            shutil.rmtree(destino, ignore_errors=True)
        try:
            os.replace(temporaria, destino)
        except OSError:
            if not (destino / ".completo").is_file():
                raise
    finally:
        if temporaria.exists():
            shutil.rmtree(temporaria, ignore_errors=True)
    return destino


def carregar(
    nome: str,
    n: int | None = None,
    semente: int = SEMENTE_PADRAO,
    pasta: str | Path | None = None,
    **parametros: Any,
) -> pd.DataFrame | Path:
    """Gera um conjunto de dados sintético e o devolve.

    - Tabelas voltam como DataFrame do pandas.
    - Conjuntos de arquivos (planilhas, despachos, modelo de ofício, PDFs) são gravados numa pasta de cache
      (`~/.cache/automatiza/dados`, ou a variável de ambiente AUTOMATIZA_DADOS, ou o argumento `pasta`) e
      o caminho da pasta é devolvido. Só são gerados de novo se a pasta não existir.

    Parâmetros:
        nome: nome do conjunto (veja `listar()`).
        n: tamanho (o que ele conta depende do conjunto: processos, contratos, linhas, dias...).
           Sem n, vem o tamanho padrão, pensado para as lições.
        semente: a mesma semente e os mesmos parâmetros dão exatamente os mesmos dados.
        pasta: só para conjuntos de arquivos; onde gravar.
        **parametros: parâmetros próprios de alguns conjuntos (veja `listar(nome)`).

    Exemplo:
        >>> andamentos = carregar("andamentos_sei", n=200, semente=7)
    """
    c = _conjunto(nome)
    n = _validar_n(c, n)
    semente = _validar_semente(semente)
    if pasta is not None and c.tipo != "arquivos":
        raise ErroDados(
            f'"{c.nome}" é uma tabela e volta como DataFrame; o argumento pasta só vale para '
            "conjuntos de arquivos."
        )
    valores = _validar_parametros(c, parametros)
    if c.tipo == "tabela":
        resultado, _marcas = c.gerar(n, semente, **valores)
        return resultado
    if valores.get("gabarito"):
        return c.extras["gabarito"](n, semente, **{k: v for k, v in valores.items() if k != "gabarito"})
    valores.pop("gabarito", None)
    return _gerar_arquivos(c, n, semente, valores, None if pasta is None else Path(pasta))


def listar(nome: str | None = None) -> pd.DataFrame:
    """O catálogo de dados sintéticos.

    Sem argumento: uma linha por conjunto (nome, tipo, descrição, tamanho padrão e colunas).
    Com o nome de um conjunto: uma linha por coluna, com o tipo e o significado.
    """
    if nome is not None:
        c = _conjunto(nome)
        return pd.DataFrame(
            [{"coluna": col.nome, "tipo": col.tipo, "significado": col.significado} for col in c.colunas]
        )
    linhas = []
    for c in catalogo().values():
        linhas.append(
            {
                "nome": c.nome,
                "tipo": c.tipo,
                "descricao": c.descricao,
                "tamanho_padrao": c.tamanho,
                "colunas": ", ".join(col.nome for col in c.colunas),
            }
        )
    return pd.DataFrame(linhas)


def _celula(texto: str) -> str:
    return str(texto).replace("|", "\\|").replace("\n", " ")


def _rotulo(c: Conjunto) -> str:
    return "dados-" + c.nome.replace("_", "-")


def dicionario_markdown() -> str:
    """A página "Dicionário de dados" do site do curso, em MyST Markdown, gerada a partir do catálogo."""
    from automatiza.dados.municipios import ATRIBUICAO

    partes = [
        "# Dicionário de dados",
        "",
        "```{admonition} Dados sintéticos",
        ":class: important",
        "Todos os conjuntos desta página são **dados sintéticos**: "
        "pessoas, empresas, CPFs, CNPJs, processos, "
        "valores e textos foram inventados por programas, com defeitos de propósito para treinar limpeza e "
        "validação. Nenhum dado pessoal real é usado. A única tabela real é a lista pública dos municípios "
        "de Minas Gerais com os códigos do IBGE (veja a atribuição no fim da página).",
        "```",
        "",
        "Cada conjunto é gerado na hora, sem internet, pelo pacote do curso. A mesma semente e os mesmos "
        "parâmetros dão sempre os mesmos dados:",
        "",
        "```python",
        "from automatiza import dados",
        "",
        "dados.listar()                                   # o catálogo",
        'dados.listar("andamentos_sei")                   # as colunas de um conjunto',
        'df = dados.carregar("andamentos_sei", n=1000, semente=7)',
        'pasta = dados.carregar("planilhas_regionais")    # conjuntos de arquivos devolvem uma pasta',
        "```",
        "",
        "O argumento `n` muda o tamanho (o que ele conta aparece em cada conjunto). Conjuntos de arquivos "
        "são gravados em `~/.cache/automatiza/dados` (ou na pasta da variável de ambiente "
        "`AUTOMATIZA_DADOS`, ou no argumento `pasta=`).",
        "",
        "## Resumo",
        "",
        "| conjunto | tipo | tamanho padrão | módulos |",
        "| --- | --- | --- | --- |",
    ]
    conjuntos = catalogo()
    for c in conjuntos.values():
        partes.append(
            f"| {{ref}}`{c.nome} <{_rotulo(c)}>` | {c.tipo} | {_celula(c.tamanho)} | {', '.join(c.modulos)} |"
        )
    for c in conjuntos.values():
        partes += ["", f"({_rotulo(c)})=", f"## `{c.nome}`: {c.titulo}", "", c.descricao, ""]
        chamada = f'dados.carregar("{c.nome}")'
        partes.append(
            f"- **Como carregar:** `{chamada}` "
            f"({'devolve o caminho da pasta' if c.tipo == 'arquivos' else 'devolve um DataFrame'})"
        )
        partes.append(
            f"- **Tamanho padrão:** {c.tamanho}; `n` aceita de {_milhar(c.n_min)} a "
            f"{_milhar(c.n_max)} {c.unidade}."
        )
        for p in c.parametros:
            partes.append(f"- **Parâmetro `{p.nome}`** (padrão `{p.padrao!r}`): {p.descricao}")
        if c.modulos:
            partes.append(f"- **Usado nos módulos:** {', '.join(c.modulos)}")
        partes.append("")
        if c.arquivos:
            partes += ["| arquivo | conteúdo |", "| --- | --- |"]
            partes += [f"| `{_celula(a)}` | {_celula(d)} |" for a, d in c.arquivos]
            partes.append("")
        if c.colunas:
            partes += ["| coluna | tipo | significado |", "| --- | --- | --- |"]
            partes += [f"| `{col.nome}` | {col.tipo} | {_celula(col.significado)} |" for col in c.colunas]
            partes.append("")
        if c.peculiaridades:
            partes += ["**Peculiaridades de propósito** (para praticar limpeza e validação):", ""]
            partes += [f"- {q.descricao}" for q in c.peculiaridades]
            partes.append("")
        if c.notas:
            partes += [c.notas, ""]
    partes += [
        "## Fonte da lista de municípios",
        "",
        ATRIBUICAO,
        "",
    ]
    return "\n".join(partes)


# usado pelos testes e por quem quer conferir as peculiaridades
def _gerar_com_marcas(
    nome: str,
    n: int | None = None,
    semente: int = SEMENTE_PADRAO,
    pasta: Path | None = None,
    **parametros: Any,
) -> tuple[Any, dict]:
    c = _conjunto(nome)
    n = _validar_n(c, n)
    valores = _validar_parametros(c, parametros)
    valores.pop("gabarito", None)
    if c.tipo == "tabela":
        return c.gerar(n, semente, **valores)
    if pasta is None:
        raise ErroDados("informe a pasta")
    pasta.mkdir(parents=True, exist_ok=True)
    return pasta, c.gerar(pasta, n, semente, **valores)
