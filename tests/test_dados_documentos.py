"""Dígitos verificadores: válidos onde devem ser, inválidos onde não devem (conferidos com validate-docbr)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from validate_docbr import CNPJ, CPF

from automatiza import dados
from automatiza.dados import documentos
from automatiza.dados.prazos import prazo_final


def test_funcoes_de_validacao():
    assert dados.cpf_valido("529.982.247-25") and not dados.cpf_valido("529.982.247-26")
    assert not dados.cpf_valido("111.111.111-11")
    assert dados.cnpj_valido("11.222.333/0001-81") and not dados.cnpj_valido("11.222.333/0001-80")
    assert dados.cnpj_valido("12.ABC.345/01DE-35")  # exemplo oficial de CNPJ alfanumérico
    assert dados.formatar_cpf("5299822725") == "052.998.227-25"
    assert dados.formatar_cnpj("11222333000181") == "11.222.333/0001-81"
    assert dados.ibge_valido("3106200") and not dados.ibge_valido("3106201")
    assert dados.ibge_valido("3117836")  # exceção real à regra


def test_geradores_vetorizados_conferem_com_validate_docbr():
    rng = np.random.default_rng(0)
    cpfs = documentos._cpf_array(rng, 3000)
    alf = rng.random(3000) < 0.3
    cnpjs = documentos._cnpj_array(rng, 3000, alfanumerico=alf)
    cpf, cnpj = CPF(), CNPJ()
    assert all(cpf.validate(c) for c in cpfs)
    assert all(cnpj.validate(c) for c in cnpjs)
    assert all(any(ch.isalpha() for ch in c) for c in cnpjs[alf])
    estragados = documentos._estragar_dv(rng, cpfs[:500])
    assert not any(cpf.validate(c) for c in estragados)
    assert [dados.cpf_valido(c) for c in cpfs[:500]] == [cpf.validate(c) for c in cpfs[:500]]


def test_fornecedores_validos_e_invalidos_como_validate_docbr():
    df = dados.carregar("fornecedores", n=3000, semente=9)
    limpo = df["documento"].str.replace(r"[^0-9A-Za-z]", "", regex=True)
    limpo = [d.zfill(11 if t == "PF" else 14) for d, t in zip(limpo, df["tipo_pessoa"], strict=True)]
    nosso = [
        dados.cpf_valido(d) if t == "PF" else dados.cnpj_valido(d)
        for d, t in zip(limpo, df["tipo_pessoa"], strict=True)
    ]
    deles = [
        CPF().validate(d) if t == "PF" else CNPJ().validate(d)
        for d, t in zip(limpo, df["tipo_pessoa"], strict=True)
    ]
    assert nosso == deles
    assert 0.02 < 1 - np.mean(nosso) < 0.04


def test_cnpj_das_obras():
    df = dados.carregar("contratos_obras", n=500, semente=4)
    validos = df["cnpj_contratada"].map(CNPJ().validate)
    assert validos.mean() == pytest.approx(0.98, abs=0.001)


def test_codigos_ibge():
    mun = dados.carregar("municipios_mg")
    regra = mun["codigo_ibge"].map(lambda c: documentos.dv_ibge(c[:6]) == int(c[6]))
    assert (~regra).sum() == 2
    assert set(mun.loc[~regra, "codigo_ibge"]) == set(documentos.IBGE_EXCECOES)
    assert mun["codigo_ibge"].map(dados.ibge_valido).all()
    conv = dados.carregar("convenios_municipios", n=2000, semente=1)
    fora = ~conv["codigo_ibge"].isin(set(mun["codigo_ibge"]))
    assert not conv.loc[fora, "codigo_ibge"].map(dados.ibge_valido).any()


def test_numeros_sei():
    df = dados.carregar("processos_sei", n=2000, semente=8)
    assert df["numero_processo"].str.fullmatch(documentos.PADRAO_SEI.pattern).all()
    assert df["numero_processo"].is_unique
    partes = df["numero_processo"].str.extract(r"(\d{4})\.(\d{2})\.(\d{7})/(\d{4})-(\d{2})").astype(int)
    recalculado = documentos._numeros_sei(*(partes[i].to_numpy() for i in range(4)))
    assert list(recalculado) == df["numero_processo"].tolist()


@pytest.mark.parametrize(
    "inicio, dias, contagem, esperado",
    [
        ("2024-08-09", 5, "dias úteis", "2024-08-19"),  # 15/08 é feriado em Belo Horizonte
        ("2024-02-02", 10, "dias corridos", "2024-02-14"),  # cai na segunda de Carnaval: vai para quarta
        ("2024-03-22", 5, "dias úteis", "2024-04-01"),  # Sexta-feira Santa no caminho
        ("2024-06-01", 3, "dias úteis", "2024-06-05"),  # começa num sábado: conta a partir de segunda
        ("2024-11-05", 10, "dias corridos", "2024-11-18"),  # 15/11 (sexta) + fim de semana
    ],
)
def test_prazo_final(inicio, dias, contagem, esperado):
    assert prazo_final(inicio, dias, contagem) == dt.date.fromisoformat(esperado)


def test_feriados_de_belo_horizonte():
    feriados = dados.feriados_bh(2025)
    for dia in ("2025-04-18", "2025-06-19", "2025-08-15", "2025-12-08", "2025-03-03", "2025-03-04"):
        assert dt.date.fromisoformat(dia) in feriados
    assert pd.Timestamp("2025-03-05").date() not in feriados  # quarta de cinzas tem expediente (à tarde)


@pytest.mark.parametrize(("n", "semente", "arquivo"), [(8, 5, "boletim_002.pdf"), (1, 3, "boletim_001.pdf")])
def test_boletim_em_duas_paginas(tmp_path, n, semente, arquivo):
    """A tabela de um boletim continua na 2ª página: ler só a 1ª perde itens, ler todas acha todos."""
    import pdfplumber

    pasta = dados.carregar("boletins_medicao_pdf", n=n, semente=semente, pasta=tmp_path)
    gabarito = dados.carregar("boletins_medicao_pdf", n=n, semente=semente, gabarito=True)
    itens = gabarito.loc[gabarito["arquivo"] == arquivo, "item"].astype(int).tolist()
    with pdfplumber.open(pasta / arquivo) as pdf:
        por_pagina = [[r for t in p.extract_tables() for r in t if r[0] != "Item"] for p in pdf.pages]
        assert len(pdf.pages) == 2
        assert "Valor total desta medição" in pdf.pages[1].extract_text()
    assert 0 < len(por_pagina[0]) < len(itens)
    assert [int(r[0]) for pagina in por_pagina for r in pagina] == itens
    outros = sorted(set(gabarito["arquivo"]) - {arquivo})
    for outro in outros:
        with pdfplumber.open(pasta / outro) as pdf:
            assert len(pdf.pages) == 1
