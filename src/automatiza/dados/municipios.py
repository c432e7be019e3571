"""Municípios de Minas Gerais (lista real do IBGE) e convênios sintéticos do Estado com eles."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from automatiza.dados import nomes
from automatiza.dados.documentos import IBGE_EXCECOES, dv_ibge

ATRIBUICAO = (
    "A lista dos 853 municípios de Minas Gerais com os códigos de 7 dígitos do IBGE (`municipios_mg.csv`, "
    "distribuída dentro do pacote `automatiza.dados`) reproduz fatos públicos da divisão territorial do "
    "IBGE. Ela foi extraída do arquivo `territories.csv` do projeto **Querido Diário**, da "
    "**Open Knowledge Brasil**, distribuído sob a **licença MIT**. Obrigado!"
)


@lru_cache(maxsize=1)
def _municipios() -> pd.DataFrame:
    with resources.files("automatiza.dados").joinpath("municipios_mg.csv").open(encoding="utf-8") as f:
        return pd.read_csv(f, dtype={"ibge": str, "municipio": str})


def gerar_municipios(n: int, semente: int) -> tuple[pd.DataFrame, dict]:
    """A tabela real (n é ignorado além de limitar as linhas), com a região de planejamento omitida."""
    df = _municipios().copy()
    df.columns = ["codigo_ibge", "municipio"]
    return df.head(n).reset_index(drop=True), {}


OBJETOS = (
    "Aquisição de ambulância",
    "Pavimentação de vias urbanas",
    "Reforma de escola estadual",
    "Construção de unidade básica de saúde",
    "Aquisição de equipamentos agrícolas",
    "Recuperação de estradas vicinais",
    "Aquisição de ônibus escolar",
    "Construção de quadra poliesportiva",
    "Drenagem pluvial urbana",
    "Reforma de praça pública",
    "Aquisição de retroescavadeira",
    "Implantação de sistema de abastecimento de água",
    "Construção de ponte de concreto",
    "Aquisição de equipamentos para a Defesa Civil municipal",
)
CONCEDENTES = ("SEINFRA", "SES", "SEE", "SEAPA", "SEDESE", "SEGOV", "CBMMG/CEDEC")
SITUACOES = (
    "Em execução",
    "Concluído",
    "Prestação de contas em análise",
    "Prestação de contas aprovada",
    "Rescindido",
)

TAXA_IBGE_DV_ERRADO = 0.015
TAXA_IBGE_6_DIGITOS = 0.01
TAXA_NOME_SEM_ACENTO = 0.03
TAXA_NOME_CAIXA_ALTA = 0.02


def _sem_acento(texto: str) -> str:
    return unicodedata.normalize("NFKD", texto).encode("ascii", "ignore").decode()


def gerar_convenios(n: int, semente: int) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng([semente, 5])
    mun = _municipios()
    # municípios maiores (código não importa) recebem mais convênios: pesos de cauda longa
    pesos = rng.pareto(1.5, size=len(mun)) + 0.2
    idx = rng.choice(len(mun), size=n, p=pesos / pesos.sum())
    # as duas exceções reais à regra do DV aparecem sempre (para ensinar a não rejeitar código real)
    excecoes = np.flatnonzero(mun["ibge"].isin(IBGE_EXCECOES).to_numpy())
    idx[: min(n, excecoes.size)] = excecoes[: min(n, excecoes.size)]
    idx = idx[rng.permutation(n)]
    codigos = mun["ibge"].to_numpy(dtype=object)[idx].copy()
    municipio = mun["municipio"].to_numpy(dtype=object)[idx].copy()

    marcas: dict = {}
    livres = np.flatnonzero(~np.isin(codigos, list(IBGE_EXCECOES)))
    k_dv = int(round(TAXA_IBGE_DV_ERRADO * n))
    k_6 = int(round(TAXA_IBGE_6_DIGITOS * n))
    escolhidos = rng.choice(livres, size=min(k_dv + k_6, livres.size), replace=False)
    dv_errado, seis = np.sort(escolhidos[:k_dv]), np.sort(escolhidos[k_dv:])
    for i in dv_errado:
        certo = dv_ibge(codigos[i][:6])
        codigos[i] = codigos[i][:6] + str((certo + int(rng.integers(1, 10))) % 10)
    for i in seis:
        codigos[i] = codigos[i][:6]
    marcas["ibge_dv_errado"], marcas["ibge_6_digitos"] = dv_errado, seis

    ordem = rng.permutation(n)
    k_sa = int(round(TAXA_NOME_SEM_ACENTO * n))
    k_ca = int(round(TAXA_NOME_CAIXA_ALTA * n))
    # só municípios com acento contam como "sem acento"
    com_acento = np.array([_sem_acento(m) != m for m in municipio])
    sem_acento = np.sort(ordem[com_acento[ordem]][:k_sa])
    resto = ordem[~np.isin(ordem, sem_acento)]
    caixa_alta = np.sort(resto[:k_ca])
    municipio[sem_acento] = [_sem_acento(m) for m in municipio[sem_acento]]
    municipio[caixa_alta] = [m.upper() for m in municipio[caixa_alta]]
    marcas["sem_acento"], marcas["caixa_alta"] = sem_acento, caixa_alta

    ano = rng.integers(2019, 2025, size=n)
    inicio = np.array([f"{a}-01-01" for a in ano], dtype="datetime64[D]") + rng.integers(
        0, 365, size=n
    ).astype("timedelta64[D]")
    vigencia = rng.choice([12, 18, 24, 36], size=n)
    fim = inicio + (vigencia * 30.4).astype(int).astype("timedelta64[D]")
    repasse = np.round(np.exp(rng.normal(12.6, 0.9, size=n)), -2)  # mediana perto de R$ 300 mil
    contrapartida = np.round(repasse * rng.choice([0.01, 0.02, 0.05, 0.1], size=n), 2)
    numero = [
        f"{1_000_000 + i * 37 + int(x):07d}/{a}"
        for i, (x, a) in enumerate(zip(rng.integers(0, 37, size=n), ano, strict=True))
    ]
    hoje = np.datetime64("2025-01-31")
    situacao = np.where(
        fim > hoje, "Em execução", nomes.escolher(rng, SITUACOES[1:], n, p=[0.3, 0.3, 0.35, 0.05])
    )
    df = pd.DataFrame(
        {
            "numero_convenio": pd.array(numero, dtype="str"),
            "codigo_ibge": pd.array(codigos, dtype="str"),
            "municipio": pd.array(municipio, dtype="str"),
            "orgao_concedente": pd.Categorical(nomes.escolher(rng, CONCEDENTES, n), categories=CONCEDENTES),
            "objeto": pd.array(nomes.escolher(rng, OBJETOS, n), dtype="str"),
            "valor_repasse": repasse,
            "valor_contrapartida": contrapartida,
            "data_assinatura": pd.to_datetime(inicio),
            "data_fim_vigencia": pd.to_datetime(fim),
            "situacao": pd.Categorical(situacao, categories=SITUACOES),
        }
    )
    return df, marcas


# ----------------------------------------------------------------------------------------------------
# Catálogo
# ----------------------------------------------------------------------------------------------------


def _ibge_real():
    return set(_municipios()["ibge"])


def _medir_dv_errado(df, _m):
    c = df["codigo_ibge"]
    ok7 = c.str.fullmatch(r"\d{7}")
    return float((ok7 & ~c.isin(_ibge_real())).mean())


def _medir_6(df, _m):
    return float(df["codigo_ibge"].str.fullmatch(r"\d{6}").mean())


def _medir_sem_acento(df, m):
    reais = set(_municipios()["municipio"])
    nome = df["municipio"]
    return float((~nome.isin(reais) & ~nome.str.isupper() & (nome.map(_sem_acento) == nome)).mean())


def _medir_caixa_alta(df, _m):
    return float(df["municipio"].str.isupper().mean())


def _medir_excecoes(df, _m):
    return float(df["codigo_ibge"].isin(IBGE_EXCECOES).sum() >= 2)


def _conjuntos():
    from automatiza.dados.catalogo import Coluna, Conjunto, Peculiaridade

    municipios = Conjunto(
        nome="municipios_mg",
        titulo="Municípios de Minas Gerais (lista real do IBGE)",
        descricao=(
            "Os 853 municípios de Minas Gerais com o código de 7 dígitos do IBGE. É a única tabela "
            "real do catálogo. " + ATRIBUICAO
        ),
        tipo="tabela",
        unidade="municípios",
        n_padrao=853,
        n_min=1,
        n_max=853,
        gerar=gerar_municipios,
        colunas=(
            Coluna("codigo_ibge", "texto", "Código IBGE de 7 dígitos (o 7º é dígito verificador)"),
            Coluna("municipio", "texto", "Nome oficial do município, com acentos"),
        ),
        peculiaridades=(
            Peculiaridade(
                "excecoes_dv",
                "Dois códigos reais não seguem a regra do dígito verificador: "
                "3117836 (Cônego Marinho) e 3152131 (Ponto Chique). Um validador não deve "
                "rejeitar códigos reais",
                None,
                _medir_excecoes,
            ),
        ),
        modulos=("03", "12"),
    )
    convenios = Conjunto(
        nome="convenios_municipios",
        titulo="Convênios do Estado com os municípios mineiros",
        descricao=(
            "Convênios (sintéticos) de secretarias estaduais com os municípios de Minas Gerais: "
            "número, código IBGE e nome do município, órgão concedente, objeto, valores de repasse e "
            "contrapartida, datas e situação. Os municípios vêm da lista real do IBGE; alguns códigos e "
            "nomes foram estragados de propósito para exercícios de validação e junção."
        ),
        tipo="tabela",
        unidade="convênios",
        n_padrao=1000,
        n_min=10,
        n_max=1_000_000,
        gerar=gerar_convenios,
        colunas=(
            Coluna("numero_convenio", "texto", "Número do convênio (0000000/aaaa)"),
            Coluna("codigo_ibge", "texto", "Código IBGE do município como digitado (alguns errados)"),
            Coluna("municipio", "texto", "Nome do município como digitado"),
            Coluna("orgao_concedente", "categoria", "Secretaria ou órgão estadual que repassa o recurso"),
            Coluna("objeto", "texto", "Para que serve o convênio"),
            Coluna("valor_repasse", "decimal (R$)", "Valor repassado pelo Estado"),
            Coluna("valor_contrapartida", "decimal (R$)", "Contrapartida do município"),
            Coluna("data_assinatura", "data", "Data de assinatura"),
            Coluna("data_fim_vigencia", "data", "Fim da vigência"),
            Coluna("situacao", "categoria", "Situação na data de extração (31/01/2025)"),
        ),
        peculiaridades=(
            Peculiaridade(
                "ibge_dv_errado",
                "{taxa} dos códigos IBGE com o dígito verificador trocado (7 "
                "dígitos, mas fora da lista oficial)",
                TAXA_IBGE_DV_ERRADO,
                _medir_dv_errado,
            ),
            Peculiaridade(
                "ibge_6_digitos",
                "{taxa} dos códigos IBGE com 6 dígitos (sem o verificador, como em alguns sistemas antigos)",
                TAXA_IBGE_6_DIGITOS,
                _medir_6,
            ),
            Peculiaridade(
                "sem_acento",
                "{taxa} dos nomes de município sem acento",
                TAXA_NOME_SEM_ACENTO,
                _medir_sem_acento,
            ),
            Peculiaridade(
                "caixa_alta",
                "{taxa} dos nomes de município em CAIXA ALTA",
                TAXA_NOME_CAIXA_ALTA,
                _medir_caixa_alta,
            ),
            Peculiaridade(
                "excecoes_dv",
                "Cônego Marinho (3117836) e Ponto Chique (3152131), códigos reais que "
                "não seguem a regra do dígito verificador, aparecem sempre",
                None,
                _medir_excecoes,
            ),
        ),
        modulos=("03", "12"),
        n_teste=20_000,
    )
    return (municipios, convenios)


CONJUNTOS = _conjuntos()
