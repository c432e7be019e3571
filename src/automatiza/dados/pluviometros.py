"""Séries de chuva de 10 em 10 minutos em pluviômetros de Belo Horizonte (sintéticas).

As chuvas são tempestades com centro, raio, duração e intensidade sorteados (mais frequentes no período
chuvoso, de outubro a março, e à tarde), somadas em cada estação conforme a distância ao centro e
arredondadas para a resolução de 0,2 mm dos pluviômetros de báscula. Depois entram os defeitos: falhas
de transmissão (linhas que faltam), leituras vazias, valores impossíveis e sensores travados.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

PASSOS_DIA = 144
# código, nome, regional, latitude, longitude
ESTACOES = (
    ("PLV-01", "Barreiro - Jatobá", "Barreiro", -19.9970, -44.0330),
    ("PLV-02", "Barreiro - Lindéia", "Barreiro", -19.9770, -44.0520),
    ("PLV-03", "Centro-Sul - Centro", "Centro-Sul", -19.9190, -43.9390),
    ("PLV-04", "Centro-Sul - Serra", "Centro-Sul", -19.9380, -43.9180),
    ("PLV-05", "Leste - Taquaril", "Leste", -19.9200, -43.8790),
    ("PLV-06", "Nordeste - Cachoeirinha", "Nordeste", -19.8840, -43.9260),
    ("PLV-07", "Noroeste - Caiçaras", "Noroeste", -19.8990, -43.9720),
    ("PLV-08", "Norte - Primeiro de Maio", "Norte", -19.8560, -43.9290),
    ("PLV-09", "Oeste - Buritis", "Oeste", -19.9700, -43.9650),
    ("PLV-10", "Pampulha - Itapoã", "Pampulha", -19.8420, -43.9600),
    ("PLV-11", "Venda Nova - Céu Azul", "Venda Nova", -19.8160, -43.9710),
    ("PLV-12", "Venda Nova - Piratininga", "Venda Nova", -19.8000, -43.9950),
)
# tempestades por dia em cada mês (período chuvoso de outubro a março)
TEMPESTADES_POR_DIA = (1.1, 0.8, 0.7, 0.3, 0.12, 0.05, 0.03, 0.04, 0.12, 0.35, 0.7, 1.0)

TAXA_FALHAS = 0.03
TAXA_VAZIAS = 0.01
TAXA_IMPOSSIVEIS = 0.001
TAXA_TRAVADO = 0.005
PASSOS_TRAVADO = 36  # 6 horas


def _data(valor) -> dt.date:
    if isinstance(valor, dt.datetime):
        return valor.date()
    if isinstance(valor, dt.date):
        return valor
    try:
        return dt.date.fromisoformat(str(valor))
    except ValueError:
        raise ValueError('use uma data no formato aaaa-mm-dd, por exemplo "2024-01-01"') from None


def gerar_pluviometros(n: int, semente: int, inicio="2024-01-01") -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng([semente, 17])
    inicio = np.datetime64(_data(inicio), "D")
    n_est = len(ESTACOES)
    passos = n * PASSOS_DIA
    lat = np.array([e[3] for e in ESTACOES])
    lon = np.array([e[4] for e in ESTACOES])
    chuva = np.zeros((n_est, passos))

    dias = inicio + np.arange(n)
    meses = dias.astype("datetime64[M]").astype(int) % 12
    n_tempestades = rng.poisson(np.array(TEMPESTADES_POR_DIA)[meses])
    dia_t = np.repeat(np.arange(n), n_tempestades)
    k = dia_t.size
    # início com pico à tarde (distribuição normal em torno das 16h, com cauda para a noite)
    hora = np.clip(rng.normal(16.5, 3.5, size=k), 0, 23.8)
    inicio_passo = dia_t * PASSOS_DIA + (hora * 6).astype(int)
    duracao = rng.integers(3, 25, size=k)  # 30 minutos a 4 horas
    pico = np.exp(rng.normal(np.log(3.2), 0.7, size=k))  # mm em 10 min no centro
    raio = rng.uniform(4.0, 12.0, size=k)  # km
    c_lat = rng.uniform(-20.03, -19.78, size=k)
    c_lon = rng.uniform(-44.07, -43.86, size=k)
    km_lat = 111.0
    km_lon = 111.0 * np.cos(np.radians(19.9))
    for j in range(k):
        d2 = ((lat - c_lat[j]) * km_lat) ** 2 + ((lon - c_lon[j]) * km_lon) ** 2
        fator = np.exp(-d2 / raio[j] ** 2)
        t = np.arange(duracao[j])
        perfil = np.sin(np.pi * (t + 0.5) / duracao[j]) ** 1.5 * rng.uniform(0.6, 1.2, size=duracao[j])
        fim = min(inicio_passo[j] + duracao[j], passos)
        tamanho = fim - inicio_passo[j]
        chuva[:, inicio_passo[j] : fim] += pico[j] * np.outer(fator, perfil[:tamanho])
    # garoa de fundo nos dias úmidos
    garoa = (rng.random((n_est, passos)) < 0.01) & (np.repeat(n_tempestades > 0, PASSOS_DIA)[None, :])
    chuva += garoa * 0.2
    chuva = np.round(np.floor(chuva / 0.2 + 0.3) * 0.2, 1)  # resolução de 0,2 mm

    marcas: dict = {}
    total = n_est * passos
    valores = chuva.ravel().copy()
    # sensores travados: blocos de 6 horas com o mesmo valor positivo
    n_blocos = int(round(TAXA_TRAVADO * total / PASSOS_TRAVADO))
    blocos = (
        rng.choice(total // PASSOS_TRAVADO, size=n_blocos, replace=False) if n_blocos else np.array([], int)
    )
    travados = (blocos[:, None] * PASSOS_TRAVADO + np.arange(PASSOS_TRAVADO)).ravel()
    valores[travados] = np.repeat(rng.choice([0.8, 1.2, 1.6, 2.4], size=n_blocos), PASSOS_TRAVADO)
    marcas["travado"] = np.sort(travados)
    ocupado = np.zeros(total, dtype=bool)
    ocupado[travados] = True
    # valores impossíveis (negativos ou absurdos)
    livres = np.flatnonzero(~ocupado)
    impossiveis = np.sort(rng.choice(livres, size=int(round(TAXA_IMPOSSIVEIS * total)), replace=False))
    valores[impossiveis] = rng.choice([-0.2, -9.9, -999.0, 999.9, 409.6], size=impossiveis.size)
    ocupado[impossiveis] = True
    # leituras vazias
    livres = np.flatnonzero(~ocupado)
    vazias = np.sort(rng.choice(livres, size=int(round(TAXA_VAZIAS * total)), replace=False))
    valores[vazias] = np.nan
    ocupado[vazias] = True
    # falhas de transmissão: blocos de 1 a 48 horas que somem, até a taxa exata
    alvo = int(round(TAXA_FALHAS * total))
    falta = np.zeros(total, dtype=bool)
    while falta.sum() < alvo:
        tamanho = int(rng.integers(6, 289))
        comeco = int(rng.integers(0, total - tamanho))
        bloco = np.arange(comeco, comeco + tamanho)
        bloco = bloco[~ocupado[bloco]][: alvo - int(falta.sum())]
        falta[bloco] = True
    marcas["falhas"] = np.flatnonzero(falta)
    marcas["impossiveis"], marcas["vazias"] = impossiveis, vazias

    fica = ~falta
    est = np.repeat(np.arange(n_est), passos)[fica]
    tempo = inicio.astype("datetime64[m]") + (np.tile(np.arange(passos), n_est)[fica] * 10).astype(
        "timedelta64[m]"
    )
    codigos = [e[0] for e in ESTACOES]
    regionais = list(dict.fromkeys(e[2] for e in ESTACOES))
    indice_regional = np.array([regionais.index(e[2]) for e in ESTACOES])
    df = pd.DataFrame(
        {
            "codigo_estacao": pd.Categorical.from_codes(est, categories=codigos),
            "nome_estacao": pd.Categorical.from_codes(est, categories=[e[1] for e in ESTACOES]),
            "regional": pd.Categorical.from_codes(indice_regional[est], categories=regionais),
            "latitude": lat[est],
            "longitude": lon[est],
            "data_hora": pd.to_datetime(tempo),
            "chuva_mm": valores[fica],
        }
    )
    return df, marcas


# ----------------------------------------------------------------------------------------------------
# Catálogo
# ----------------------------------------------------------------------------------------------------


def _esperadas(df: pd.DataFrame) -> int:
    dias = (df["data_hora"].max().normalize() - df["data_hora"].min().normalize()).days + 1
    return dias * PASSOS_DIA * len(ESTACOES)


def _medir_falhas(df, _m):
    return 1 - len(df) / _esperadas(df)


def _medir_vazias(df, _m):
    return float(df["chuva_mm"].isna().mean())


def _medir_impossiveis(df, _m):
    return float(((df["chuva_mm"] < 0) | (df["chuva_mm"] >= 100)).mean())


def sequencias_travadas(df: pd.DataFrame, minimo: int = 18) -> pd.Series:
    """Marca leituras que fazem parte de `minimo` ou mais valores positivos iguais seguidos na estação."""
    df = df.sort_values(["codigo_estacao", "data_hora"])
    v = df["chuva_mm"]
    novo = (v != v.shift()) | (df["codigo_estacao"] != df["codigo_estacao"].shift())
    grupo = novo.cumsum()
    tamanho = grupo.map(grupo.value_counts())
    return ((tamanho >= minimo) & (v >= 0.6) & (v < 100)).reindex(df.index)


def _medir_travado(df, _m):
    return float(sequencias_travadas(df).mean())


def _medir_tempestade(df, _m):
    por_hora = (
        df[(df["chuva_mm"] >= 0) & (df["chuva_mm"] < 100)]
        .set_index("data_hora")
        .groupby("codigo_estacao", observed=True)["chuva_mm"]
        .rolling("60min")
        .sum()
    )
    return float(por_hora.max() >= 30)


def _conjuntos():
    from automatiza.dados.catalogo import Coluna, Conjunto, Parametro, Peculiaridade

    leituras = f"{31 * PASSOS_DIA * len(ESTACOES):,}".replace(",", ".")
    pluviometros = Conjunto(
        nome="pluviometros",
        titulo="Chuva de 10 em 10 minutos em pluviômetros de Belo Horizonte",
        descricao=(
            f"Série de chuva (mm em cada intervalo de 10 minutos) de {len(ESTACOES)} estações "
            "pluviométricas fictícias, uma ou duas por regional de Belo Horizonte, em formato longo (uma "
            "linha por estação e horário). Tempestades são mais frequentes de outubro a março e à tarde, "
            "e chegam a dezenas de milímetros por hora. Serve para acumular chuva em janelas móveis "
            "(1 h, 24 h, 72 h), comparar com limiares de alerta e limpar falhas de sensor."
        ),
        tipo="tabela",
        unidade="dias",
        n_padrao=31,
        n_min=1,
        n_max=3660,
        tamanho_padrao_texto=f"{leituras} leituras esperadas, menos as falhas",
        gerar=gerar_pluviometros,
        parametros=(
            Parametro(
                "inicio", "2024-01-01", "primeiro dia da série (aaaa-mm-dd)", lambda v: _data(v).isoformat()
            ),
        ),
        colunas=(
            Coluna("codigo_estacao", "categoria", "Código da estação (PLV-01 a PLV-12)"),
            Coluna("nome_estacao", "categoria", "Nome da estação (regional e bairro)"),
            Coluna("regional", "categoria", "Regional de Belo Horizonte"),
            Coluna("latitude", "decimal", "Latitude aproximada (graus)"),
            Coluna("longitude", "decimal", "Longitude aproximada (graus)"),
            Coluna("data_hora", "data e hora", "Fim do intervalo de 10 minutos, hora local de Brasília"),
            Coluna("chuva_mm", "decimal", "Chuva no intervalo, em mm (múltiplos de 0,2 mm)"),
        ),
        peculiaridades=(
            Peculiaridade(
                "tempestade",
                "Há tempestades fortes: pelo menos uma estação passa de 30 mm em 1 hora "
                "no período padrão (janeiro de 2024)",
                None,
                _medir_tempestade,
            ),
            Peculiaridade(
                "falhas",
                "{taxa} das leituras esperadas não existem (falhas de transmissão em "
                "blocos de 1 hora a 2 dias)",
                TAXA_FALHAS,
                _medir_falhas,
                tolerancia=0.002,
            ),
            Peculiaridade("vazias", "{taxa} das leituras com chuva_mm vazia", TAXA_VAZIAS, _medir_vazias),
            Peculiaridade(
                "impossiveis",
                "{taxa} das leituras com valor impossível (negativo, como -999, ou "
                "acima de 100 mm em 10 minutos)",
                TAXA_IMPOSSIVEIS,
                _medir_impossiveis,
                tolerancia=0.0005,
            ),
            Peculiaridade(
                "travado",
                "{taxa} das leituras de sensor travado: o mesmo valor positivo repetido por 6 horas",
                TAXA_TRAVADO,
                _medir_travado,
                tolerancia=0.002,
            ),
        ),
        modulos=("09",),
        n_teste=31,
        notas=(
            "Limiares sugeridos para os exercícios (ilustrativos, não são os oficiais da Defesa Civil): "
            "atenção com 20 mm em 1 hora ou 40 mm em 24 horas; alerta com 30 mm em 1 hora ou 60 mm em 24 "
            "horas."
        ),
    )
    return (pluviometros,)


CONJUNTOS = _conjuntos()
