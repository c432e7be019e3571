"""Cada peculiaridade documentada no catálogo aparece na taxa documentada (o catálogo é a única fonte)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from automatiza import dados
from automatiza.dados import _gerar_com_marcas

SEMENTE = 20240
CASOS = [
    pytest.param(c.nome, q.codigo, id=f"{c.nome}-{q.codigo}")
    for c in dados.catalogo().values()
    for q in c.peculiaridades
]


@cache
def _tabela(nome: str):
    c = dados.catalogo()[nome]
    return _gerar_com_marcas(nome, n=c.n_teste or c.n_padrao, semente=SEMENTE)


@pytest.fixture(scope="module")
def gerado(tmp_path_factory):
    pastas: dict[str, tuple] = {}

    def obter(nome: str):
        c = dados.catalogo()[nome]
        if c.tipo == "tabela":
            return _tabela(nome)
        if nome not in pastas:
            pasta = Path(tmp_path_factory.mktemp(nome))
            pastas[nome] = _gerar_com_marcas(nome, n=c.n_teste or c.n_padrao, semente=SEMENTE, pasta=pasta)
        return pastas[nome]

    return obter


@pytest.mark.parametrize("nome, codigo", CASOS)
def test_peculiaridade_na_taxa_documentada(gerado, nome, codigo):
    c = dados.catalogo()[nome]
    q = next(q for q in c.peculiaridades if q.codigo == codigo)
    resultado, marcas = gerado(nome)
    observado = q.medir(resultado, marcas)
    if q.taxa is None:
        assert observado == 1.0, f"{nome}: característica ausente: {q.descricao}"
    else:
        assert abs(observado - q.taxa) <= q.margem, (
            f"{nome}: {q.descricao}: observado {observado:.4%}, documentado {q.taxa:.4%} ± {q.margem:.4%}"
        )


TEXTUAIS = ("ambiguas", "vagas", "erros_digitacao", "curtas")


@pytest.mark.parametrize("codigo", TEXTUAIS)
def test_peculiaridades_das_demandas_sao_medidas_nos_textos(codigo):
    """The measure reads the messages: the same bookkeeping with plain, well-written texts measures zero."""
    q = next(q for q in dados.catalogo()["demandas_cidadao"].peculiaridades if q.codigo == codigo)
    df, marcas = _tabela("demandas_cidadao")
    assert q.medir(df, marcas) > 0
    simples = df.assign(texto="Tem um buraco enorme na Rua da Bahia. Peço que tapem o buraco o quanto antes.")
    assert q.medir(simples, marcas) == 0.0, f"{codigo}: a medida não olha os textos"
    copia = df.copy()
    primeiras = copia.index[: len(copia) // 2]
    copia.loc[primeiras, "texto"] = simples.loc[primeiras, "texto"]
    assert q.medir(copia, marcas) < q.medir(df, marcas), f"{codigo}: a medida não acompanha os textos"
