"""Cadastro sintético de fornecedores: CPF/CNPJ em vários estados e nomes com variações para deduplicar."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from automatiza.dados import nomes
from automatiza.dados.documentos import (
    _cpf_array,
    _estragar_dv,
    cnpj_valido,
    cpf_valido,
    formatar_cnpj,
    formatar_cpf,
)

TAXA_DUPLICATAS = 0.10
TAXA_DOC_INVALIDO = 0.03
TAXA_SEM_MASCARA = 0.40
TAXA_ALFANUMERICO = 0.05
TAXA_ZEROS_PERDIDOS = 0.02
TAXA_ESPACOS = 0.03
TAXA_PF = 0.15
INICIO_ALFANUMERICO = np.datetime64("2026-07-01")
DATA_EXTRACAO = np.datetime64("2026-10-31")

ABREVIACOES = {
    "Construtora": "Constr.",
    "Engenharia": "Eng.",
    "Comércio": "Com.",
    "Materiais": "Mat.",
    "Serviços": "Serv.",
    "Distribuidora": "Distrib.",
    "Transportes": "Transp.",
    "Consultoria": "Consult.",
    "Tecnologia": "Tec.",
    "Informática": "Inform.",
    "Limpeza": "Limp.",
    "Conservação": "Conserv.",
    "Terraplenagem": "Terrapl.",
    "Papelaria": "Papel.",
    "Gerais": "Ger.",
}


def _sem_acento(texto: str) -> str:
    return unicodedata.normalize("NFKD", texto).encode("ascii", "ignore").decode()


def _erro_digitacao(rng: np.random.Generator, texto: str) -> str:
    letras = [i for i, c in enumerate(texto) if c.isalpha() and i > 0]
    if not letras:
        return texto
    i = int(rng.choice(letras))
    op = int(rng.integers(0, 3))
    if op == 0:  # apaga uma letra
        return texto[:i] + texto[i + 1 :]
    if op == 1 and i + 1 < len(texto):  # troca duas letras de lugar
        return texto[:i] + texto[i + 1] + texto[i] + texto[i + 2 :]
    vizinha = "qwertyuiopasdfghjklzxcvbnm"[int(rng.integers(0, 26))]
    return texto[:i] + (vizinha.upper() if texto[i].isupper() else vizinha) + texto[i + 1 :]


def _variante(rng: np.random.Generator, nome: str, pf: bool) -> str:
    """Uma versão "digitada de novo" do mesmo nome: abreviação, erro, caixa, acento, sufixo."""
    operacoes = rng.permutation(6)[: int(rng.integers(1, 3))]
    saida = nome
    for op in operacoes:
        if op == 0:
            if pf:
                partes = saida.split()
                if len(partes) >= 3:
                    partes[1] = partes[1][0] + "."
                    saida = " ".join(partes)
                else:
                    saida = _erro_digitacao(rng, saida)
            else:
                for palavra, abrev in ABREVIACOES.items():
                    saida = saida.replace(palavra, abrev)
        elif op == 1:
            saida = _erro_digitacao(rng, saida)
        elif op == 2:
            saida = saida.upper()
        elif op == 3:
            saida = _sem_acento(saida)
        elif op == 4 and not pf:
            trocas = {"Ltda": "LTDA.", "S.A.": "SA", "EIRELI": "Eireli", "ME": "- ME", "EPP": "- EPP"}
            partes = saida.rsplit(" ", 1)
            if len(partes) == 2 and partes[1] in trocas:
                saida = f"{partes[0]} {trocas[partes[1]]}" if rng.random() < 0.7 else partes[0]
            else:
                saida = saida.replace(" & ", " e ")
        else:
            saida = saida.replace(" & ", " e ") if " & " in saida else _erro_digitacao(rng, saida)
    return saida if saida != nome else _erro_digitacao(rng, nome)


def _slug(nome: str) -> str:
    base = _sem_acento(nome).lower()
    base = re.sub(r"\b(ltda|s\.a\.|eireli|me|epp)\b", "", base)
    return re.sub(r"[^a-z0-9]", "", base)[:24] or "empresa"


def gerar_fornecedores(n: int, semente: int) -> tuple[pd.DataFrame, dict]:
    from automatiza.dados.documentos import _cnpj_array
    from automatiza.dados.municipios import _municipios

    rng = np.random.default_rng([semente, 11])
    marcas: dict = {}
    n_dup = int(round(TAXA_DUPLICATAS * n))
    n_ent = n - n_dup
    pf = rng.random(n_ent) < TAXA_PF
    nome = np.where(pf, nomes.nomes_pessoas(rng, n_ent), nomes.nomes_empresas(rng, n_ent)).astype(object)
    cadastro = np.datetime64("2015-01-01") + np.sort(
        rng.integers(0, (DATA_EXTRACAO - np.datetime64("2015-01-01")).astype(int), n_ent)
    ).astype("timedelta64[D]")
    mun = _municipios()
    municipio = np.where(
        rng.random(n_ent) < 0.45, "Belo Horizonte", nomes.escolher(rng, mun["municipio"].to_numpy(), n_ent)
    ).astype(object)

    # --- linhas: entidades + duplicatas --------------------------------------------------------------
    # CNPJ alfanumérico: só para empresas cadastradas a partir de julho de 2026
    k_alf = int(round(TAXA_ALFANUMERICO * n))
    candidatos_alf = np.flatnonzero(~pf)
    recentes = np.sort(candidatos_alf[np.argsort(cadastro[candidatos_alf])[::-1][:k_alf]])
    alf_ent = np.zeros(n_ent, dtype=bool)
    alf_ent[recentes] = True
    # duplicatas só de fornecedores com documento numérico (a taxa de alfanuméricos fica exata)
    origem = np.concatenate([np.arange(n_ent), np.sort(rng.choice(np.flatnonzero(~alf_ent), size=n_dup))])
    linha_dup = np.zeros(n, dtype=bool)
    linha_dup[n_ent:] = True
    cad_linha = cadastro[origem] + np.where(linha_dup, rng.integers(1, 900, size=n), 0).astype(
        "timedelta64[D]"
    )
    cad_linha = np.minimum(cad_linha, DATA_EXTRACAO)
    pf_linha = pf[origem]
    cadastro_min = np.where(alf_ent, np.maximum(cadastro, INICIO_ALFANUMERICO), cadastro)
    cadastro = cadastro_min
    cad_linha = np.maximum(cad_linha, cadastro[origem])
    doc_ent = np.where(pf, _cpf_array(rng, n_ent), _cnpj_array(rng, n_ent, alfanumerico=alf_ent)).astype(
        object
    )
    doc = doc_ent[origem].copy()

    nome_linha = nome[origem].copy()
    for i in np.flatnonzero(linha_dup):
        nome_linha[i] = _variante(rng, nome_linha[i], bool(pf_linha[i]))

    # peculiaridades de documento (escolhas exatas e disjuntas entre as linhas sem letras)
    numericos = np.flatnonzero(~alf_ent[origem])
    com_zero = numericos[np.array([doc[i].startswith("0") for i in numericos], dtype=bool)]
    k_zero = min(int(round(TAXA_ZEROS_PERDIDOS * n)), com_zero.size)
    zeros = np.sort(rng.choice(com_zero, size=k_zero, replace=False))
    ordem = rng.permutation(np.setdiff1d(numericos, zeros))
    invalidos = np.sort(ordem[: int(round(TAXA_DOC_INVALIDO * n))])
    doc[invalidos] = _estragar_dv(rng, doc[invalidos])
    marcas["doc_invalido"], marcas["zeros_perdidos"] = invalidos, zeros

    restantes = np.setdiff1d(np.arange(n), zeros)
    sem_mascara = np.sort(rng.choice(restantes, size=int(round(TAXA_SEM_MASCARA * n)), replace=False))
    formatado = np.array(
        [formatar_cpf(d) if p else formatar_cnpj(d) for d, p in zip(doc, pf_linha, strict=True)], dtype=object
    )
    formatado[sem_mascara] = doc[sem_mascara]
    formatado[zeros] = [d.lstrip("0") for d in doc[zeros]]
    marcas["sem_mascara"] = sem_mascara

    espacos = np.sort(rng.choice(n, size=int(round(TAXA_ESPACOS * n)), replace=False))
    for i, jeito in zip(espacos, rng.integers(0, 3, size=espacos.size), strict=True):
        if jeito == 0:
            nome_linha[i] = " " + nome_linha[i]
        elif jeito == 1:
            nome_linha[i] = nome_linha[i] + "  "
        else:
            nome_linha[i] = nome_linha[i].replace(" ", "  ", 1)
    marcas["espacos"] = espacos

    email = np.array(
        [
            f"{_slug(nm)}@{'email.com.br' if p else 'empresa.com.br'}"
            if not p
            else f"{nomes.logins(np.array([nm]))[0]}@email.com.br"
            for nm, p in zip(nome[origem], pf_linha, strict=True)
        ],
        dtype=object,
    )
    telefone = np.array(
        [
            f"(31) 9{a:04d}-{b:04d}"
            for a, b in zip(rng.integers(0, 10_000, n), rng.integers(0, 10_000, n), strict=True)
        ],
        dtype=object,
    )

    embaralhar = rng.permutation(n)
    df = pd.DataFrame(
        {
            "id_registro": np.arange(1, n + 1, dtype=np.int64),
            "id_fornecedor": (origem[embaralhar] + 1).astype(np.int64),
            "tipo_pessoa": pd.Categorical(
                np.where(pf_linha, "PF", "PJ")[embaralhar], categories=["PF", "PJ"]
            ),
            "documento": pd.array(formatado[embaralhar], dtype="str"),
            "nome": pd.array(nome_linha[embaralhar], dtype="str"),
            "municipio": pd.array(municipio[origem][embaralhar], dtype="str"),
            "uf": "MG",
            "email": pd.array(email[embaralhar], dtype="str"),
            "telefone": pd.array(telefone, dtype="str"),
            "data_cadastro": pd.to_datetime(cad_linha[embaralhar]),
        }
    )
    posicao = np.empty(n, dtype=int)
    posicao[embaralhar] = np.arange(n)
    marcas = {k: np.sort(posicao[v]) for k, v in marcas.items()}
    return df, marcas


# ----------------------------------------------------------------------------------------------------
# Catálogo
# ----------------------------------------------------------------------------------------------------


def _limpo(df: pd.DataFrame) -> pd.Series:
    texto = df["documento"].str.replace(r"[^0-9A-Za-z]", "", regex=True)
    largura = np.where(df["tipo_pessoa"] == "PF", 11, 14)
    return pd.Series([t.zfill(w) for t, w in zip(texto, largura, strict=True)], index=df.index)


def _medir_invalido(df, _m):
    docs = _limpo(df)
    ok = [
        cpf_valido(d) if p == "PF" else cnpj_valido(d) for d, p in zip(docs, df["tipo_pessoa"], strict=True)
    ]
    return float(1 - np.mean(ok))


def _medir_sem_mascara(df, _m):
    texto = df["documento"]
    largura = np.where(df["tipo_pessoa"] == "PF", 11, 14)
    return float((texto.str.fullmatch(r"[0-9A-Z]+") & (texto.str.len() == largura)).mean())


def _medir_alfanumerico(df, _m):
    return float(df["documento"].str.contains(r"[A-Z]").mean())


def _medir_alf_data(df, _m):
    alf = df["documento"].str.contains(r"[A-Z]")
    return float((df.loc[alf, "data_cadastro"] >= pd.Timestamp(INICIO_ALFANUMERICO)).all())


def _medir_zeros(df, _m):
    texto = df["documento"].str.replace(r"[^0-9A-Za-z]", "", regex=True)
    largura = np.where(df["tipo_pessoa"] == "PF", 11, 14)
    return float((texto.str.len() < largura).mean())


def _medir_duplicatas(df, _m):
    return float(df["id_fornecedor"].duplicated().mean())


def _medir_espacos(df, _m):
    return float((df["nome"] != df["nome"].str.split().str.join(" ")).mean())


def _conjuntos():
    from automatiza.dados.catalogo import Coluna, Conjunto, Peculiaridade

    fornecedores = Conjunto(
        nome="fornecedores",
        titulo="Cadastro de fornecedores",
        descricao=(
            "Cadastro de fornecedores (empresas e pessoas físicas fictícias) com CPF ou CNPJ em vários "
            "estados: com e sem máscara, válidos e inválidos, alfanuméricos, com zeros à esquerda "
            "perdidos. Parte dos registros são o mesmo fornecedor cadastrado de novo com o nome "
            "abreviado, com erro de digitação, em caixa alta ou sem acento, para praticar "
            "deduplicação e correspondência aproximada (fuzzy matching). A coluna `id_fornecedor` é o "
            "gabarito: registros do mesmo fornecedor têm o mesmo valor."
        ),
        tipo="tabela",
        unidade="registros",
        n_padrao=300,
        n_min=10,
        n_max=1_000_000,
        gerar=gerar_fornecedores,
        colunas=(
            Coluna("id_registro", "inteiro", "Número da linha no cadastro"),
            Coluna(
                "id_fornecedor",
                "inteiro",
                "Gabarito: identificador verdadeiro do fornecedor (duplicatas "
                "repetem o valor). Esconda esta coluna nos exercícios",
            ),
            Coluna("tipo_pessoa", "categoria", "PF (pessoa física, CPF) ou PJ (pessoa jurídica, CNPJ)"),
            Coluna("documento", "texto", "CPF ou CNPJ como foi digitado"),
            Coluna("nome", "texto", "Nome ou razão social como foi digitado"),
            Coluna("municipio", "texto", "Município mineiro da sede ou do domicílio"),
            Coluna("uf", "texto", "Sempre MG"),
            Coluna("email", "texto", "E-mail fictício"),
            Coluna("telefone", "texto", "Telefone fictício no formato (31) 90000-0000"),
            Coluna("data_cadastro", "data", "Data do cadastro (até 31/10/2026)"),
        ),
        peculiaridades=(
            Peculiaridade(
                "duplicatas",
                "{taxa} dos registros são outro cadastro de um fornecedor que já "
                "existe, com o nome reescrito (abreviação como Constr. e Ltda., erro de digitação, "
                "CAIXA ALTA, sem acento, sufixo diferente)",
                TAXA_DUPLICATAS,
                _medir_duplicatas,
            ),
            Peculiaridade(
                "doc_invalido",
                "{taxa} dos CPF/CNPJ com dígito verificador errado",
                TAXA_DOC_INVALIDO,
                _medir_invalido,
                tolerancia=0.004,
            ),
            Peculiaridade(
                "sem_mascara",
                "{taxa} dos documentos só com dígitos (sem pontos, barra e traço)",
                TAXA_SEM_MASCARA,
                _medir_sem_mascara,
                tolerancia=0.03,
            ),
            Peculiaridade(
                "alfanumerico",
                "{taxa} dos documentos são CNPJ alfanuméricos (com letras), todos de "
                "cadastros a partir de julho de 2026",
                TAXA_ALFANUMERICO,
                _medir_alfanumerico,
                tolerancia=0.01,
            ),
            Peculiaridade(
                "alfanumerico_data",
                "Nenhum CNPJ alfanumérico tem data de cadastro anterior a 01/07/2026",
                None,
                _medir_alf_data,
            ),
            Peculiaridade(
                "zeros_perdidos",
                "{taxa} dos documentos perderam os zeros à esquerda (a planilha "
                "leu o CPF/CNPJ como número); com zfill voltam a ser válidos",
                TAXA_ZEROS_PERDIDOS,
                _medir_zeros,
            ),
            Peculiaridade(
                "espacos",
                "{taxa} dos nomes com espaços sobrando (no início, no fim ou duplos)",
                TAXA_ESPACOS,
                _medir_espacos,
            ),
        ),
        modulos=("01", "03", "11"),
        n_teste=10_000,
    )
    return (fornecedores,)


CONJUNTOS = _conjuntos()
