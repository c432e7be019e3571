"""Contratos de obras públicas de Belo Horizonte, boletins de "
"medição mensais e termos aditivos (sintéticos)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from automatiza.dados import nomes
from automatiza.dados.documentos import _cnpj_array, _estragar_dv, _formatar_cnpj_array

DATA_EXTRACAO = np.datetime64("2025-01-31")

# código, descrição, unidade, preço de referência (R$)
SERVICOS = {
    "01.01.001": ("Mobilização e desmobilização de canteiro de obras", "vb", 18000.0),
    "01.02.010": ("Placa de obra em chapa de aço galvanizado", "m²", 450.0),
    "02.01.005": ("Demolição de alvenaria de tijolos", "m³", 85.0),
    "03.02.020": ("Escavação mecânica de vala em material de 1ª categoria", "m³", 35.0),
    "04.01.010": ("Concreto estrutural fck 25 MPa, lançado e adensado", "m³", 620.0),
    "04.02.015": ("Armação em aço CA-50", "kg", 12.5),
    "04.03.020": ("Forma de madeira compensada resinada", "m²", 95.0),
    "05.01.010": ("Alvenaria de vedação em blocos cerâmicos", "m²", 78.0),
    "06.01.030": ("Reboco paulista em argamassa de cimento, cal e areia", "m²", 42.0),
    "07.01.005": ("Pintura acrílica em paredes, duas demãos", "m²", 23.0),
    "08.01.010": ("Piso cerâmico assentado com argamassa colante", "m²", 85.0),
    "09.01.020": ("Cobertura em telha metálica trapezoidal", "m²", 120.0),
    "10.01.005": ("Ponto de iluminação com eletroduto e fiação", "un", 210.0),
    "10.02.010": ("Quadro de distribuição com disjuntores", "un", 1450.0),
    "11.01.010": ("Tubo de concreto armado DN 600 mm para drenagem", "m", 380.0),
    "11.02.005": ("Boca de lobo dupla com grelha de concreto", "un", 2400.0),
    "11.03.010": ("Poço de visita em alvenaria", "un", 3900.0),
    "12.01.010": ("Base de brita graduada simples", "m³", 160.0),
    "12.02.020": ("Concreto betuminoso usinado a quente (CBUQ)", "t", 520.0),
    "12.03.005": ("Meio-fio de concreto pré-moldado", "m", 48.0),
    "12.04.010": ("Sarjeta de concreto moldada no local", "m", 55.0),
    "13.01.010": ("Cortina atirantada em concreto armado", "m²", 1800.0),
    "13.02.005": ("Muro de gabião tipo caixa", "m³", 410.0),
    "13.03.010": ("Plantio de grama em placas", "m²", 18.0),
    "13.04.005": ("Dreno horizontal profundo (DHP)", "m", 260.0),
    "14.01.005": ("Limpeza final da obra", "m²", 6.0),
}

# tipo de obra: (participação, serviços típicos com faixa de quantidade de projeto)
TIPOS_OBRA = {
    "Reforma de edifício": (
        0.30,
        {
            "01.01.001": (1, 1),
            "01.02.010": (6, 12),
            "02.01.005": (20, 120),
            "05.01.010": (150, 900),
            "06.01.030": (300, 2000),
            "07.01.005": (600, 4000),
            "08.01.010": (200, 1200),
            "09.01.020": (150, 900),
            "10.01.005": (40, 250),
            "10.02.010": (2, 10),
            "14.01.005": (400, 2500),
        },
    ),
    "Construção de edificação": (
        0.15,
        {
            "01.01.001": (1, 1),
            "01.02.010": (6, 12),
            "03.02.020": (200, 1200),
            "04.01.010": (80, 600),
            "04.02.015": (6000, 45000),
            "04.03.020": (400, 3000),
            "05.01.010": (400, 2500),
            "06.01.030": (800, 5000),
            "07.01.005": (1500, 9000),
            "08.01.010": (300, 2000),
            "09.01.020": (300, 1800),
            "10.01.005": (60, 400),
            "10.02.010": (3, 15),
            "14.01.005": (500, 3000),
        },
    ),
    "Pavimentação": (
        0.25,
        {
            "01.01.001": (1, 1),
            "01.02.010": (6, 12),
            "03.02.020": (300, 2500),
            "12.01.010": (200, 2000),
            "12.02.020": (150, 1500),
            "12.03.005": (400, 3000),
            "12.04.010": (400, 3000),
            "11.02.005": (2, 20),
        },
    ),
    "Drenagem": (
        0.15,
        {
            "01.01.001": (1, 1),
            "01.02.010": (6, 12),
            "03.02.020": (500, 4000),
            "11.01.010": (150, 1500),
            "11.02.005": (6, 40),
            "11.03.010": (3, 25),
            "12.02.020": (20, 200),
        },
    ),
    "Contenção de encosta": (
        0.15,
        {
            "01.01.001": (1, 1),
            "01.02.010": (6, 12),
            "03.02.020": (200, 1500),
            "13.01.010": (100, 900),
            "13.02.005": (80, 800),
            "13.03.010": (300, 3000),
            "13.04.005": (60, 600),
            "04.02.015": (2000, 15000),
        },
    ),
}

OBJETOS = {
    "Reforma de edifício": (
        "Reforma da Escola Municipal {b}",
        "Reforma do Centro de Saúde {b}",
        "Reforma e adequação de acessibilidade do Centro Cultural {b}",
    ),
    "Construção de edificação": (
        "Construção da Unidade Municipal de Educação Infantil (UMEI) {b}",
        "Construção do Centro de Saúde {b}",
        "Construção de academia da cidade no {b}",
    ),
    "Pavimentação": (
        "Pavimentação de vias no bairro {b}",
        "Recapeamento asfáltico de vias da regional {r}",
        "Pavimentação e drenagem superficial de vias do {b}",
    ),
    "Drenagem": (
        "Implantação de rede de drenagem pluvial no bairro {b}",
        "Tratamento de fundo de vale no {b}",
        "Obras de drenagem para controle de inundações no {b}",
    ),
    "Contenção de encosta": (
        "Contenção de encosta em área de risco geológico no {b}",
        "Estabilização de talude na Vila {b}",
        "Obras de contenção e drenagem de encosta no {b}",
    ),
}

LIMITE_ADITIVO = 0.25
LIMITE_ADITIVO_REFORMA = 0.50  # reforma de edifício ou de equipamento (Lei 14.133/2021, art. 125)

TAXA_CNPJ_INVALIDO = 0.02
TAXA_CNPJ_SEM_MASCARA = 0.15
TAXA_OBJETO_CAIXA_ALTA = 0.05
TAXA_ACIMA_LIMITE = 0.10  # dos contratos
TAXA_MEDICAO_A_MAIOR = 0.01  # das linhas de medição
TAXA_VALOR_DIVERGENTE = 0.005  # das linhas de medição


def _s_curva(x: np.ndarray) -> np.ndarray:
    """Avanço físico acumulado planejado (curva S) para x em [0, 1]."""
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def _gerar_tudo(n: int, semente: int):
    rng = np.random.default_rng([semente, 7])
    tipos = list(TIPOS_OBRA)
    part = np.array([TIPOS_OBRA[t][0] for t in tipos])
    tipo = rng.choice(len(tipos), size=n, p=part / part.sum())
    regional = nomes.escolher(rng, nomes.REGIONAIS, n)
    bairro = np.array([nomes.escolher(rng, nomes.REGIONAIS_BAIRROS[r], 1)[0] for r in regional], dtype=object)
    objeto = np.array(
        [
            nomes.escolher(rng, OBJETOS[tipos[t]], 1)[0].format(b=b, r=r)
            for t, b, r in zip(tipo, bairro, regional, strict=True)
        ],
        dtype=object,
    )
    ano = rng.integers(2021, 2025, size=n)
    assinatura = np.array([f"{a}-01-01" for a in ano], dtype="datetime64[D]") + rng.integers(
        0, 365, size=n
    ).astype("timedelta64[D]")
    ordem_servico = assinatura + rng.integers(5, 40, size=n).astype("timedelta64[D]")
    prazo = rng.choice([120, 180, 240, 300, 360, 480, 540, 720], size=n)
    termino = ordem_servico + prazo.astype("timedelta64[D]")
    seq = np.zeros(n, dtype=int)
    for a in np.unique(ano):
        sel = np.flatnonzero(ano == a)
        seq[sel] = np.cumsum(rng.integers(1, 6, size=sel.size))
    numero = np.array([f"SMOBI {s:03d}/{a}" for s, a in zip(seq, ano, strict=True)], dtype=object)

    cnpj = _cnpj_array(rng, n)
    cnpj_fmt = _formatar_cnpj_array(cnpj)
    marcas: dict = {}
    ordem = rng.permutation(n)
    k_inv = int(round(TAXA_CNPJ_INVALIDO * n))
    k_sem = int(round(TAXA_CNPJ_SEM_MASCARA * n))
    invalidos = np.sort(ordem[:k_inv])
    sem_mascara = np.sort(ordem[k_inv : k_inv + k_sem])
    cnpj_fmt[invalidos] = _formatar_cnpj_array(_estragar_dv(rng, cnpj[invalidos]))
    cnpj_fmt[sem_mascara] = cnpj[sem_mascara]
    marcas["cnpj_invalido"], marcas["cnpj_sem_mascara"] = invalidos, sem_mascara
    caixa = np.sort(rng.choice(n, size=int(round(TAXA_OBJETO_CAIXA_ALTA * n)), replace=False))
    objeto[caixa] = [o.upper() for o in objeto[caixa]]
    marcas["objeto_caixa_alta"] = caixa
    razao = nomes.nomes_empresas(rng, n)

    # --- itens da planilha orçamentária e medições -----------------------------------------------
    desconto = rng.uniform(0.82, 1.05, size=n)
    linhas_med = []
    valor_inicial = np.zeros(n)
    paralisado = rng.random(n) < 0.08
    mes_parada = rng.uniform(0.3, 0.7, size=n)
    for i in range(n):
        servicos = TIPOS_OBRA[tipos[tipo[i]]][1]
        codigos = list(servicos)
        faixas = np.array([servicos[c] for c in codigos], dtype=float)
        qtd = np.where(
            faixas[:, 0] == faixas[:, 1], faixas[:, 0], np.round(rng.uniform(faixas[:, 0], faixas[:, 1]), 2)
        )
        preco = np.round(
            np.array([SERVICOS[c][2] for c in codigos])
            * desconto[i]
            * rng.uniform(0.93, 1.07, size=len(codigos)),
            2,
        )
        valor_inicial[i] = float(np.round(qtd * preco, 2).sum())
        # medições mensais do mês da ordem de serviço até o fim (ou a data de extração)
        os_mes = ordem_servico[i].astype("datetime64[M]")
        fim_mes = min(termino[i], DATA_EXTRACAO).astype("datetime64[M]")
        meses = np.arange(os_mes, fim_mes + 1)
        if paralisado[i]:
            meses = meses[: max(1, int(len(meses) * mes_parada[i]))]
        total_meses = max((termino[i].astype("datetime64[M]") - os_mes).astype(int) + 1, 1)
        x = (np.arange(1, len(meses) + 1)) / total_meses
        # cada serviço começa e termina numa fração diferente da obra
        ini = rng.uniform(0, 0.5, size=len(codigos))
        dur = rng.uniform(0.3, 1.0, size=len(codigos)) * (1 - ini)
        anterior = np.zeros(len(codigos))
        for k, mes in enumerate(meses):
            avanco = _s_curva((x[k] - ini) / np.maximum(dur, 1e-9))
            if codigos[0] == "01.01.001":
                avanco[0] = 0.5 if x[k] < 1 else 1.0  # mobilização: metade no início, metade no fim
            fator = rng.uniform(0.9, 1.0, size=len(codigos))
            if codigos[0] == "01.01.001":
                fator[0] = 1.0
            acumulado = np.floor(qtd * np.minimum(avanco * fator, 1) * 100 + 1e-6) / 100
            acumulado = np.maximum(acumulado, anterior)
            medido = np.round(acumulado - anterior, 2)
            data = (mes + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
            for j in np.flatnonzero(medido > 0):
                linhas_med.append(
                    (i, k + 1, str(mes), data, j + 1, codigos[j], qtd[j], medido[j], acumulado[j], preco[j])
                )
            anterior = acumulado

    colunas_med = [
        "contrato",
        "numero_medicao",
        "mes_referencia",
        "data_medicao",
        "item",
        "codigo_servico",
        "quantidade_projeto",
        "quantidade_medicao",
        "quantidade_acumulada",
        "preco_unitario",
    ]
    med = pd.DataFrame(linhas_med, columns=colunas_med)
    # renumera as medições por contrato (meses sem serviço medido não geram boletim)
    med["numero_medicao"] = med.groupby("contrato")["numero_medicao"].rank(method="dense").astype(int)

    # anomalia: medição a maior na última linha de alguns itens
    ultimas = np.flatnonzero(~med.duplicated(["contrato", "item"], keep="last").to_numpy())
    a_maior = np.sort(
        rng.choice(
            ultimas, size=min(ultimas.size, int(round(TAXA_MEDICAO_A_MAIOR * len(med)))), replace=False
        )
    )
    excesso = np.round(
        med.loc[a_maior, "quantidade_projeto"].to_numpy() * rng.uniform(0.05, 0.3, a_maior.size) + 0.01, 2
    )
    acum_novo = np.round(med.loc[a_maior, "quantidade_projeto"].to_numpy() + excesso, 2)
    med.loc[a_maior, "quantidade_medicao"] = np.round(
        med.loc[a_maior, "quantidade_medicao"].to_numpy()
        + acum_novo
        - med.loc[a_maior, "quantidade_acumulada"].to_numpy(),
        2,
    )
    med.loc[a_maior, "quantidade_acumulada"] = acum_novo
    marcas["medicao_a_maior"] = a_maior

    med["valor_medicao"] = np.round(med["quantidade_medicao"] * med["preco_unitario"], 2)
    med["valor_acumulado"] = np.round(med["quantidade_acumulada"] * med["preco_unitario"], 2)
    livres = np.setdiff1d(np.arange(len(med)), a_maior)
    divergentes = np.sort(
        rng.choice(livres, size=int(round(TAXA_VALOR_DIVERGENTE * len(med))), replace=False)
    )
    fator = rng.choice([10.0, 0.1, 1.1, 0.9], size=divergentes.size)  # vírgula no lugar errado, erro de conta
    med.loc[divergentes, "valor_medicao"] = np.round(
        med.loc[divergentes, "valor_medicao"].to_numpy() * fator + 0.5, 2
    )
    marcas["valor_divergente"] = divergentes

    med.insert(0, "numero_contrato", pd.array(numero[med["contrato"].to_numpy()], dtype="str"))
    med.insert(6, "descricao_servico", pd.array([SERVICOS[c][0] for c in med["codigo_servico"]], dtype="str"))
    med.insert(7, "unidade", pd.array([SERVICOS[c][1] for c in med["codigo_servico"]], dtype="str"))
    med["data_medicao"] = pd.to_datetime(med["data_medicao"])
    med["mes_referencia"] = pd.array(med["mes_referencia"], dtype="str")
    med = med[[
        "numero_contrato", "numero_medicao", "mes_referencia", "data_medicao", "item", "codigo_servico",
        "descricao_servico", "unidade", "quantidade_projeto", "quantidade_medicao", "quantidade_acumulada",
        "preco_unitario", "valor_medicao", "valor_acumulado",
    ]]

    # --- aditivos -------------------------------------------------------------------------------------
    reforma = np.array([tipos[t] == "Reforma de edifício" for t in tipo])
    limite = np.where(reforma, LIMITE_ADITIVO_REFORMA, LIMITE_ADITIVO)
    # aditivos só entre 30 dias depois da ordem de serviço e a data de extração
    janela_fim = np.minimum(ordem_servico + (prazo * 1.3).astype(int).astype("timedelta64[D]"), DATA_EXTRACAO)
    janela = (janela_fim - ordem_servico).astype(int)
    com_janela = np.flatnonzero(janela > 60)
    acima = np.sort(
        rng.choice(com_janela, size=min(com_janela.size, int(round(TAXA_ACIMA_LIMITE * n))), replace=False)
    )
    alvo = np.where(rng.random(n) < 0.55, rng.uniform(0.02, 0.24, size=n), 0.0)
    alvo = np.where(
        reforma & (rng.random(n) < 0.3), rng.uniform(0.26, 0.48, size=n), alvo
    )  # legal em reforma
    alvo[acima] = limite[acima] * rng.uniform(1.04, 1.5, size=acima.size)
    marcas["acima_limite"] = acima
    linhas_ad = []
    for i in range(n):
        n_valor = 0 if alvo[i] == 0 else int(rng.integers(1, 4))
        n_prazo = int(rng.integers(0, 3)) if rng.random() < 0.6 else 0
        partes = rng.dirichlet(np.ones(n_valor)) * alvo[i] if n_valor else []
        eventos = [("valor", p) for p in partes] + [("prazo", 0.0)] * n_prazo
        if rng.random() < 0.1 and alvo[i] < limite[i] * 0.9:
            eventos.append(("supressao", -rng.uniform(0.01, 0.05)))
        if not eventos or janela[i] <= 60:
            continue
        ordem_ev = rng.permutation(len(eventos))
        datas = np.sort(
            ordem_servico[i] + rng.integers(30, janela[i], size=len(eventos)).astype("timedelta64[D]")
        )
        for k, e in enumerate(ordem_ev):
            tipo_ad, p = eventos[e]
            dias = int(rng.choice([30, 60, 90, 120, 180])) if tipo_ad == "prazo" or rng.random() < 0.3 else 0
            valor = round(float(p) * valor_inicial[i], 2)
            if tipo_ad == "valor":
                rotulo = "Prazo e valor" if dias else "Valor (acréscimo)"
                just = rng.choice(
                    [
                        "Acréscimo de quantitativos não previstos no projeto básico",
                        "Inclusão de serviços necessários identificados durante a execução",
                        "Adequação do projeto às condições do terreno",
                    ]
                )
            elif tipo_ad == "supressao":
                rotulo = "Valor (supressão)"
                just = "Supressão de serviços não executados"
            else:
                rotulo = "Prazo"
                just = rng.choice(
                    [
                        "Chuvas acima da média no período",
                        "Atraso na liberação de frente de obra",
                        "Interferência de redes de concessionárias",
                    ]
                )
            linhas_ad.append((numero[i], k + 1, rotulo, datas[k], dias, valor, str(just)))
    aditivos = pd.DataFrame(
        linhas_ad,
        columns=[
            "numero_contrato",
            "numero_aditivo",
            "tipo_aditivo",
            "data_assinatura",
            "dias_acrescidos",
            "valor_aditivo",
            "justificativa",
        ],
    )
    aditivos["numero_contrato"] = pd.array(aditivos["numero_contrato"], dtype="str")
    aditivos["data_assinatura"] = pd.to_datetime(aditivos["data_assinatura"])
    aditivos["justificativa"] = pd.array(aditivos["justificativa"], dtype="str")

    situacao = np.where(
        paralisado, "Paralisado", np.where(termino <= DATA_EXTRACAO, "Concluído", "Em execução")
    )
    contratos = pd.DataFrame(
        {
            "numero_contrato": pd.array(numero, dtype="str"),
            "cnpj_contratada": pd.array(cnpj_fmt, dtype="str"),
            "razao_social_contratada": pd.array(razao, dtype="str"),
            "objeto": pd.array(objeto, dtype="str"),
            "tipo_obra": pd.Categorical.from_codes(tipo, categories=tipos),
            "regional": pd.Categorical(regional, categories=nomes.REGIONAIS),
            "bairro": pd.array(bairro, dtype="str"),
            "valor_inicial": np.round(valor_inicial, 2),
            "data_assinatura": pd.to_datetime(assinatura),
            "data_ordem_servico": pd.to_datetime(ordem_servico),
            "prazo_execucao_dias": prazo.astype(np.int32),
            "data_termino_prevista": pd.to_datetime(termino),
            "situacao": pd.Categorical(situacao, categories=["Em execução", "Concluído", "Paralisado"]),
        }
    )
    return contratos, med, aditivos, marcas


def gerar_contratos(n: int, semente: int):
    contratos, _, _, marcas = _gerar_tudo(n, semente)
    return contratos, marcas


def gerar_medicoes(n: int, semente: int):
    _, med, _, marcas = _gerar_tudo(n, semente)
    return med, marcas


def gerar_aditivos(n: int, semente: int):
    contratos, _, aditivos, marcas = _gerar_tudo(n, semente)
    return aditivos, {**marcas, "contratos": contratos}


# ----------------------------------------------------------------------------------------------------
# Catálogo
# ----------------------------------------------------------------------------------------------------


def percentual_acrescimos(contratos: pd.DataFrame, aditivos: pd.DataFrame) -> pd.Series:
    """Soma dos acréscimos de valor de cada contrato como fração do valor inicial (0,3 = 30%)."""
    acrescimos = aditivos[aditivos["valor_aditivo"] > 0].groupby("numero_contrato")["valor_aditivo"].sum()
    base = contratos.set_index("numero_contrato")["valor_inicial"]
    return (acrescimos.reindex(base.index, fill_value=0) / base).rename("percentual_acrescimos")


def _medir_cnpj_invalido(df, _m):
    from automatiza.dados.documentos import cnpj_valido

    return float((~df["cnpj_contratada"].map(cnpj_valido)).mean())


def _medir_sem_mascara(df, _m):
    return float(df["cnpj_contratada"].str.fullmatch(r"\d{14}").mean())


def _medir_caixa_alta(df, _m):
    return float(df["objeto"].str.isupper().mean())


def _medir_acima_limite(aditivos, m):
    contratos = m["contratos"]
    pct = percentual_acrescimos(contratos, aditivos)
    limite = np.where(
        contratos.set_index("numero_contrato")["tipo_obra"] == "Reforma de edifício",
        LIMITE_ADITIVO_REFORMA,
        LIMITE_ADITIVO,
    )
    return float((pct.to_numpy() > limite).mean())


def _medir_a_maior(med, _m):
    return float((med["quantidade_acumulada"] > med["quantidade_projeto"] + 1e-9).mean())


def _medir_divergente(med, _m):
    esperado = (med["quantidade_medicao"] * med["preco_unitario"]).round(2)
    return float(((med["valor_medicao"] - esperado).abs() > 0.011).mean())


def _medir_acumulado(med, _m):
    soma = med.groupby(["numero_contrato", "item"])["quantidade_medicao"].cumsum().round(2)
    return float(((soma - med["quantidade_acumulada"]).abs() < 0.02).mean() > 0.999)


def _conjuntos():
    from automatiza.dados.catalogo import Coluna, Conjunto, Peculiaridade

    comum = (
        "Com a mesma semente e o mesmo `n`, `contratos_obras`, `medicoes_obras` e `aditivos_obras` "
        "descrevem os mesmos contratos (junte por `numero_contrato`)."
    )
    contratos = Conjunto(
        nome="contratos_obras",
        titulo="Contratos de obras públicas de Belo Horizonte",
        descricao=(
            "Contratos de obras da Secretaria Municipal de Obras e Infraestrutura (sintéticos): "
            "contratada, objeto, tipo de obra, regional e bairro de Belo Horizonte, valor, datas, prazo "
            "e situação. O valor inicial é a soma da planilha orçamentária (quantidade de projeto × "
            "preço unitário) que aparece nos boletins de medição. " + comum
        ),
        tipo="tabela",
        unidade="contratos",
        n_padrao=40,
        n_min=1,
        n_max=20_000,
        gerar=gerar_contratos,
        colunas=(
            Coluna("numero_contrato", "texto", "Número do contrato (SMOBI 000/aaaa)"),
            Coluna("cnpj_contratada", "texto", "CNPJ da empresa contratada (com ou sem máscara)"),
            Coluna("razao_social_contratada", "texto", "Razão social (empresa fictícia)"),
            Coluna("objeto", "texto", "Objeto do contrato"),
            Coluna(
                "tipo_obra",
                "categoria",
                "Reforma de edifício, construção, pavimentação, drenagem ou contenção de encosta",
            ),
            Coluna("regional", "categoria", "Uma das nove regionais administrativas de Belo Horizonte"),
            Coluna("bairro", "texto", "Bairro da obra"),
            Coluna("valor_inicial", "decimal (R$)", "Valor inicial do contrato"),
            Coluna("data_assinatura", "data", "Assinatura do contrato"),
            Coluna("data_ordem_servico", "data", "Ordem de serviço (início da execução)"),
            Coluna("prazo_execucao_dias", "inteiro", "Prazo de execução em dias corridos"),
            Coluna("data_termino_prevista", "data", "Ordem de serviço + prazo (sem os aditivos de prazo)"),
            Coluna("situacao", "categoria", "Em execução, Concluído ou Paralisado em 31/01/2025"),
        ),
        peculiaridades=(
            Peculiaridade(
                "cnpj_invalido",
                "{taxa} dos CNPJ da contratada com dígito verificador errado",
                TAXA_CNPJ_INVALIDO,
                _medir_cnpj_invalido,
                tolerancia=0.003,
            ),
            Peculiaridade(
                "cnpj_sem_mascara",
                "{taxa} dos CNPJ só com dígitos (sem pontos, barra e traço)",
                TAXA_CNPJ_SEM_MASCARA,
                _medir_sem_mascara,
            ),
            Peculiaridade(
                "objeto_caixa_alta",
                "{taxa} dos objetos digitados em CAIXA ALTA",
                TAXA_OBJETO_CAIXA_ALTA,
                _medir_caixa_alta,
            ),
        ),
        modulos=("02", "03", "08"),
        n_teste=2000,
    )
    medicoes = Conjunto(
        nome="medicoes_obras",
        titulo="Boletins de medição das obras",
        descricao=(
            "Uma linha por serviço medido em cada boletim de medição mensal: código, descrição e "
            "unidade do serviço, quantidade de projeto, quantidade desta medição, quantidade acumulada, "
            "preço unitário e valores. O avanço segue uma curva S; obras paralisadas param de ser "
            "medidas. Meses sem serviço medido não geram boletim. " + comum
        ),
        tipo="tabela",
        unidade="contratos",
        n_padrao=40,
        n_min=1,
        n_max=20_000,
        tamanho_padrao_texto="cerca de 3 mil linhas",
        gerar=gerar_medicoes,
        colunas=(
            Coluna("numero_contrato", "texto", "Contrato medido (chave para `contratos_obras`)"),
            Coluna("numero_medicao", "inteiro", "Número do boletim de medição (1ª, 2ª...)"),
            Coluna("mes_referencia", "texto", "Mês medido (aaaa-mm)"),
            Coluna("data_medicao", "data", "Último dia do mês medido"),
            Coluna("item", "inteiro", "Número do item na planilha orçamentária"),
            Coluna("codigo_servico", "texto", "Código do serviço (tabela de referência fictícia)"),
            Coluna("descricao_servico", "texto", "Descrição do serviço"),
            Coluna("unidade", "texto", "Unidade de medida (m², m³, m, kg, t, un, vb)"),
            Coluna("quantidade_projeto", "decimal", "Quantidade prevista no contrato"),
            Coluna("quantidade_medicao", "decimal", "Quantidade executada neste mês"),
            Coluna("quantidade_acumulada", "decimal", "Quantidade executada até este mês"),
            Coluna("preco_unitario", "decimal (R$)", "Preço unitário contratado"),
            Coluna("valor_medicao", "decimal (R$)", "quantidade_medicao × preco_unitario"),
            Coluna("valor_acumulado", "decimal (R$)", "quantidade_acumulada × preco_unitario"),
        ),
        peculiaridades=(
            Peculiaridade(
                "acumulado_confere",
                "A quantidade acumulada é a soma das quantidades medidas do item até o mês",
                None,
                _medir_acumulado,
            ),
            Peculiaridade(
                "medicao_a_maior",
                "{taxa} das linhas com quantidade acumulada acima da quantidade de projeto (medição a maior)",
                TAXA_MEDICAO_A_MAIOR,
                _medir_a_maior,
            ),
            Peculiaridade(
                "valor_divergente",
                "{taxa} das linhas com valor_medicao diferente de quantidade × "
                "preço (erro de digitação ou de conta)",
                TAXA_VALOR_DIVERGENTE,
                _medir_divergente,
            ),
        ),
        modulos=("02", "03", "05", "08"),
        n_teste=400,
    )
    aditivos = Conjunto(
        nome="aditivos_obras",
        titulo="Termos aditivos dos contratos de obras",
        descricao=(
            "Termos aditivos de prazo, de valor (acréscimo ou supressão) e de prazo e valor. Pela Lei "
            "14.133/2021 (art. 125), os acréscimos ficam limitados a 25% do valor inicial atualizado do "
            "contrato, ou 50% na reforma de edifício ou de equipamento. " + comum
        ),
        tipo="tabela",
        unidade="contratos",
        n_padrao=40,
        n_min=1,
        n_max=20_000,
        tamanho_padrao_texto="cerca de 50 aditivos",
        gerar=gerar_aditivos,
        colunas=(
            Coluna("numero_contrato", "texto", "Contrato aditado (chave para `contratos_obras`)"),
            Coluna("numero_aditivo", "inteiro", "1º, 2º... termo aditivo do contrato"),
            Coluna("tipo_aditivo", "texto", "Prazo, Valor (acréscimo), Valor (supressão) ou Prazo e valor"),
            Coluna("data_assinatura", "data", "Assinatura do termo aditivo"),
            Coluna("dias_acrescidos", "inteiro", "Dias acrescidos ao prazo (0 se não mexe no prazo)"),
            Coluna("valor_aditivo", "decimal (R$)", "Valor acrescido (positivo) ou suprimido (negativo)"),
            Coluna("justificativa", "texto", "Motivo do aditivo"),
        ),
        peculiaridades=(
            Peculiaridade(
                "acima_limite",
                "{taxa} dos contratos com acréscimos acumulados acima do limite legal "
                "(25%, ou 50% em reforma de edifício)",
                TAXA_ACIMA_LIMITE,
                _medir_acima_limite,
                tolerancia=0.01,
            ),
        ),
        modulos=("03", "08"),
        n_teste=2000,
        notas=(
            "Reformas de edifício com acréscimos entre 25% e 50% são legais: cuidado para não marcá-las "
            "como irregulares."
        ),
    )
    return (contratos, medicoes, aditivos)


CONJUNTOS = _conjuntos()
