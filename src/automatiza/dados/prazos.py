"""Prazos legais para calcular: data de início, quantidade de dias, dias corridos ou úteis, e o gabarito.

Regra usada no gabarito (a das leis de processo administrativo e da Lei 14.133/2021, art. 183): exclui-se o
dia do começo e inclui-se o do vencimento; em dias úteis contam só os dias com expediente; e o prazo que
vence em dia sem expediente é prorrogado até o primeiro dia útil seguinte. Dias sem expediente: fins de
semana, feriados nacionais, de Minas Gerais e de Belo Horizonte, e a segunda e a terça de Carnaval.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from automatiza.dados import calendario
from automatiza.dados.calendario import MESES
from automatiza.dados.documentos import _numeros_sei

# tipo: (dias, contagem, fundamento, participação)
TIPOS = {
    "Recurso em licitação": (3, "dias úteis", "Lei 14.133/2021, art. 165, I", 0.22),
    "Contrarrazões de recurso em licitação": (3, "dias úteis", "Lei 14.133/2021, art. 165, § 4º", 0.10),
    "Defesa prévia em processo de sanção": (15, "dias úteis", "Lei 14.133/2021, art. 157", 0.13),
    "Resposta a pedido de acesso à informação": (20, "dias corridos", "Lei 12.527/2011, art. 11, § 1º", 0.30),
    "Prorrogação de resposta a pedido de acesso à informação": (
        10,
        "dias corridos",
        "Lei 12.527/2011, art. 11, § 2º",
        0.10,
    ),
    "Recurso administrativo": (10, "dias corridos", "Lei 9.784/1999, art. 59", 0.15),
}

TAXA_DATA_ISO = 0.05
TAXA_DATA_SEM_ZERO = 0.03
TAXA_DATA_EXTENSO = 0.02
TAXA_PERTO_FERIADO = 0.25


def prazo_final(inicio: dt.date | str, dias: int, contagem: str = "dias corridos") -> dt.date:
    """Calcula o vencimento de um prazo pela regra do gabarito de `prazos`.

    >>> prazo_final("2024-08-09", 5, "dias úteis")   # sexta; 15/08 é feriado em BH
    datetime.date(2024, 8, 19)
    """
    d0 = np.datetime64(dt.date.fromisoformat(str(inicio)) if isinstance(inicio, str) else inicio, "D")
    return pd.Timestamp(
        _vencimentos(np.array([d0]), np.array([dias]), np.array([contagem == "dias úteis"]))[0]
    ).date()


def _vencimentos(inicio: np.ndarray, dias: np.ndarray, uteis: np.ndarray) -> np.ndarray:
    cal = calendario.calendario()
    inicio = inicio.astype("datetime64[D]")
    # dias úteis: o n-ésimo dia útil depois do dia do começo
    em_uteis = np.busday_offset(inicio, dias, roll="backward", busdaycal=cal)
    # dias corridos: início + n; se cair em dia sem expediente, rola para o próximo dia útil
    corridos = np.busday_offset(inicio + dias.astype("timedelta64[D]"), 0, roll="forward", busdaycal=cal)
    return np.where(uteis, em_uteis, corridos)


def gerar_prazos(n: int, semente: int) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng([semente, 23])
    tipos = list(TIPOS)
    part = np.array([TIPOS[t][3] for t in tipos])
    tipo = rng.choice(len(tipos), size=n, p=part / part.sum())
    dias = np.array([TIPOS[t][0] for t in tipos])[tipo]
    uteis = np.array([TIPOS[t][1] == "dias úteis" for t in tipos])[tipo]

    # datas de 2024 e 2025; uma parte logo antes de feriados, para o feriado cair dentro do prazo
    inicio = np.datetime64("2024-01-01") + rng.integers(0, 730, size=n).astype("timedelta64[D]")
    feriados = np.array(list(calendario.feriados_bh(2024, 2025)), dtype="datetime64[D]")
    perto = rng.random(n) < TAXA_PERTO_FERIADO
    inicio[perto] = feriados[rng.integers(0, feriados.size, size=perto.sum())] - rng.integers(
        1, 8, size=perto.sum()
    ).astype("timedelta64[D]")
    vencimento = _vencimentos(inicio, dias, uteis)

    ano = inicio.astype("datetime64[Y]").astype(int) + 1970
    numeros = _numeros_sei(
        np.full(n, 1500),
        rng.integers(1, 14, size=n),
        1000 + np.arange(n) * 17 + rng.integers(0, 17, size=n),
        ano,
    )

    marcas: dict = {}
    ordem = rng.permutation(n)
    k_iso, k_sz, k_ext = (int(round(t * n)) for t in (TAXA_DATA_ISO, TAXA_DATA_SEM_ZERO, TAXA_DATA_EXTENSO))
    datas = [pd.Timestamp(d).date() for d in inicio]
    iso = np.sort(ordem[:k_iso])
    extenso = np.sort(ordem[k_iso : k_iso + k_ext])
    com_zero = np.array(
        [i for i in ordem[k_iso + k_ext :] if datas[i].day < 10 or datas[i].month < 10], dtype=int
    )
    sem_zero = np.sort(com_zero[:k_sz])
    texto = np.array([d.strftime("%d/%m/%Y") for d in datas], dtype=object)
    texto[iso] = [datas[i].isoformat() for i in iso]
    texto[sem_zero] = [f"{datas[i].day}/{datas[i].month}/{datas[i].year}" for i in sem_zero]
    texto[extenso] = [f"{datas[i].day} de {MESES[datas[i].month - 1]} de {datas[i].year}" for i in extenso]
    marcas.update(data_iso=iso, data_sem_zero=sem_zero, data_extenso=extenso)

    df = pd.DataFrame(
        {
            "numero_processo": pd.array(numeros, dtype="str"),
            "tipo_prazo": pd.Categorical.from_codes(tipo, categories=tipos),
            "fundamento": pd.array([TIPOS[tipos[t]][2] for t in tipo], dtype="str"),
            "data_inicio": pd.array(texto, dtype="str"),
            "quantidade_dias": dias.astype(np.int32),
            "contagem": pd.Categorical(
                np.where(uteis, "dias úteis", "dias corridos"), categories=["dias corridos", "dias úteis"]
            ),
            "data_limite_gabarito": pd.to_datetime(vencimento),
        }
    )
    return df, marcas


# ----------------------------------------------------------------------------------------------------
# Catálogo
# ----------------------------------------------------------------------------------------------------


def _medir_iso(df, _m):
    return float(df["data_inicio"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").mean())


def _medir_sem_zero(df, _m):
    br = df["data_inicio"].str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}")
    return float((br & ~df["data_inicio"].str.fullmatch(r"\d{2}/\d{2}/\d{4}")).mean())


def _medir_extenso(df, _m):
    return float(df["data_inicio"].str.contains(" de ").mean())


def _datas(df) -> pd.Series:
    texto = df["data_inicio"]
    saida = pd.to_datetime(texto, format="%d/%m/%Y", errors="coerce")
    saida = saida.fillna(pd.to_datetime(texto, format="%Y-%m-%d", errors="coerce"))
    for i, mes in enumerate(MESES, start=1):
        texto = texto.str.replace(f" de {mes} de ", f"/{i}/", regex=False)
    return saida.fillna(pd.to_datetime(texto, format="%d/%m/%Y", errors="coerce"))


def _medir_gabarito(df, _m):
    inicio = _datas(df)
    calc = [
        prazo_final(d.date(), int(q), c)
        for d, q, c in zip(inicio, df["quantidade_dias"], df["contagem"], strict=True)
    ]
    return float((pd.to_datetime(calc) == df["data_limite_gabarito"].to_numpy()).all())


def _medir_prorrogados(df, _m):
    corridos = df[df["contagem"] == "dias corridos"]
    sem_rolar = _datas(corridos) + pd.to_timedelta(corridos["quantidade_dias"], unit="D")
    return float((sem_rolar != corridos["data_limite_gabarito"]).mean() >= 0.10)


def _medir_feriado_no_meio(df, _m):
    feriados = pd.to_datetime(list(calendario.feriados_bh(2024, 2026)))
    inicio = _datas(df)
    fim = df["data_limite_gabarito"]
    cruza = [((feriados > a) & (feriados <= b)).any() for a, b in zip(inicio, fim, strict=True)]
    return float(np.mean(cruza) >= 0.2)


def _conjuntos():
    from automatiza.dados.catalogo import Coluna, Conjunto, Peculiaridade

    tipos = "; ".join(f"{t}: {d} {c} ({f})" for t, (d, c, f, _) in TIPOS.items())
    prazos = Conjunto(
        nome="prazos",
        titulo="Prazos legais para calcular",
        descricao=(
            "Prazos de processos administrativos para calcular o vencimento: data de início (a data da "
            "intimação ou da ciência), quantidade de dias e se a contagem é em dias corridos ou úteis. "
            "A coluna `data_limite_gabarito` traz a resposta pela regra: exclui-se o dia do começo e "
            "inclui-se o do vencimento; em dias úteis contam só os dias com expediente; vencimento em dia "
            "sem expediente passa para o primeiro dia útil seguinte. Sem expediente: fins de semana, "
            "feriados nacionais, de Minas Gerais e de Belo Horizonte (Sexta-feira Santa, Corpus Christi, "
            "15/08 e 08/12) e a segunda e a terça de Carnaval (ponto facultativo, decretado a cada ano). "
            f"Tipos: {tipos}. Confira o artigo na lei antes de citá-lo numa lição."
        ),
        tipo="tabela",
        unidade="prazos",
        n_padrao=200,
        n_min=5,
        n_max=200_000,
        gerar=gerar_prazos,
        colunas=(
            Coluna("numero_processo", "texto", "Número SEI-MG do processo"),
            Coluna("tipo_prazo", "categoria", "Que prazo é"),
            Coluna("fundamento", "texto", "Dispositivo legal de referência"),
            Coluna(
                "data_inicio",
                "texto",
                "Dia do começo do prazo, como foi digitado (em geral dd/mm/aaaa): a data da intimação ou "
                "da ciência oficial; em licitação com a decisão divulgada na internet, o primeiro dia útil "
                "seguinte à divulgação (Lei 14.133/2021, art. 183, § 1º, I). Esse dia não entra na "
                "contagem: o dia 1 do prazo é o seguinte",
            ),
            Coluna("quantidade_dias", "inteiro", "Tamanho do prazo"),
            Coluna("contagem", "categoria", "dias corridos ou dias úteis"),
            Coluna("data_limite_gabarito", "data", "Gabarito: último dia do prazo. Esconda nos exercícios"),
        ),
        peculiaridades=(
            Peculiaridade(
                "gabarito",
                "O gabarito confere com `automatiza.dados.prazos.prazo_final` em todas as linhas",
                None,
                _medir_gabarito,
            ),
            Peculiaridade(
                "perto_feriado",
                "Pelo menos 20% dos prazos têm um feriado ou ponto facultativo dentro do período",
                None,
                _medir_feriado_no_meio,
            ),
            Peculiaridade(
                "prorrogados",
                "Pelo menos 10% dos prazos em dias corridos vencem em dia sem expediente e são prorrogados",
                None,
                _medir_prorrogados,
            ),
            Peculiaridade(
                "data_iso", "{taxa} das datas de início no formato aaaa-mm-dd", TAXA_DATA_ISO, _medir_iso
            ),
            Peculiaridade(
                "data_sem_zero",
                "{taxa} das datas de início sem zero à esquerda (5/3/2024)",
                TAXA_DATA_SEM_ZERO,
                _medir_sem_zero,
            ),
            Peculiaridade(
                "data_extenso",
                "{taxa} das datas de início por extenso (5 de março de 2024)",
                TAXA_DATA_EXTENSO,
                _medir_extenso,
            ),
        ),
        modulos=("04",),
        n_teste=3000,
    )
    return (prazos,)


CONJUNTOS = _conjuntos()
