"""Registro de riscos (matriz probabilidade × impacto) de áreas de uma prefeitura (sintético)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from automatiza.dados import nomes

# área: (responsável, [(evento de risco, causa, consequência, categoria, controles)])
RISCOS = {
    "Obras públicas": (
        "SMOBI/DGO",
        (
            (
                "Atraso na execução da obra",
                "Projeto básico deficiente",
                "Aditivos de prazo e aumento de custo",
                "Operacional",
                "Revisão de projeto antes da licitação; Reunião mensal de acompanhamento",
            ),
            (
                "Medição de serviço não executado",
                "Fiscalização sem visita de campo",
                "Pagamento indevido e dano ao erário",
                "Integridade",
                "Conferência do boletim de medição com fotos; Dupla checagem do fiscal e do gestor",
            ),
            (
                "Aditivo acima do limite legal",
                "Falta de controle do percentual acumulado",
                "Apontamento do Tribunal de Contas",
                "Legal/Conformidade",
                "Planilha de controle de aditivos",
            ),
            (
                "Paralisação da obra por abandono da contratada",
                "Inexequibilidade da proposta",
                "Obra inacabada e nova licitação",
                "Financeiro",
                "Análise de exequibilidade; Garantia contratual",
            ),
            (
                "Acidente de trabalho no canteiro",
                "Falta de equipamento de proteção",
                "Lesão de trabalhador e responsabilização",
                "Operacional",
                "Fiscalização de segurança do trabalho",
            ),
        ),
    ),
    "Defesa Civil": (
        "SMSP/COMDEC",
        (
            (
                "Deslizamento de encosta em área de risco",
                "Chuva intensa acumulada",
                "Perda de vidas e moradias",
                "Ambiental/Climático",
                "Monitoramento de pluviômetros; Alerta por SMS; Vistorias preventivas",
            ),
            (
                "Inundação em vias e córregos",
                "Drenagem insuficiente e lixo nas bocas de lobo",
                "Pessoas ilhadas e danos materiais",
                "Ambiental/Climático",
                "Limpeza de bocas de lobo antes do período chuvoso; Placas de alerta de inundação",
            ),
            (
                "Falha no envio de alertas à população",
                "Indisponibilidade do sistema de mensagens",
                "População sem aviso de risco",
                "Operacional",
                "Canal alternativo de alerta",
            ),
            (
                "Queda de árvore sobre via ou imóvel",
                "Árvores sem avaliação fitossanitária",
                "Danos e vítimas",
                "Ambiental/Climático",
                "Programa de poda preventiva",
            ),
        ),
    ),
    "Compras e contratos": (
        "SMFA/DCC",
        (
            (
                "Direcionamento de licitação",
                "Especificação restritiva no termo de referência",
                "Contratação antieconômica e responsabilização",
                "Integridade",
                "Revisão do termo de referência pela assessoria jurídica; Segregação de funções",
            ),
            (
                "Sobrepreço na contratação",
                "Pesquisa de preços com poucas fontes",
                "Dano ao erário",
                "Financeiro",
                "Pesquisa de preços com no mínimo três fontes",
            ),
            (
                "Perda de prazo de recurso ou de resposta",
                "Controle manual de prazos",
                "Nulidade de atos e questionamentos judiciais",
                "Legal/Conformidade",
                "Planilha de prazos",
            ),
            (
                "Contrato vencido sem renovação",
                "Falta de alerta de vigência",
                "Descontinuidade do serviço",
                "Operacional",
                "Agenda de vencimentos",
            ),
        ),
    ),
    "Tecnologia da informação": (
        "PRODABEL/GSI",
        (
            (
                "Vazamento de dados pessoais",
                "Controle de acesso frágil",
                "Sanção da ANPD e dano à imagem",
                "Segurança da informação",
                "Autenticação em dois fatores; Registro de acessos",
            ),
            (
                "Indisponibilidade de sistema crítico",
                "Servidor sem redundância",
                "Paralisação do atendimento",
                "Operacional",
                "Cópia de segurança diária",
            ),
            (
                "Ataque de ransomware",
                "Estações sem atualização",
                "Perda de dados e serviços parados",
                "Segurança da informação",
                "Antivírus corporativo; Cópia de segurança fora da rede",
            ),
        ),
    ),
    "Gestão de pessoas": (
        "SMPOG/DRH",
        (
            (
                "Pagamento indevido na folha",
                "Lançamentos manuais sem conferência",
                "Dano ao erário e devolução",
                "Financeiro",
                "Conferência por amostragem da folha",
            ),
            (
                "Perda de conhecimento por aposentadorias",
                "Falta de documentação dos processos",
                "Queda na qualidade do serviço",
                "Operacional",
                "",
            ),
        ),
    ),
    "Atendimento ao cidadão": (
        "SMPOG/DAC",
        (
            (
                "Demandas do 156 sem resposta no prazo",
                "Volume acima da capacidade das equipes",
                "Reclamações e dano à imagem",
                "Imagem/Reputação",
                "Painel de demandas vencidas",
            ),
            (
                "Classificação errada das demandas",
                "Atendimento sem roteiro",
                "Demanda enviada à área errada",
                "Operacional",
                "Roteiro de atendimento",
            ),
        ),
    ),
}
AVALIACOES = ("Inexistente", "Fraco", "Mediano", "Satisfatório", "Forte")
RESPOSTAS = ("Mitigar", "Aceitar", "Transferir", "Evitar")
DATA_EXTRACAO = np.datetime64("2025-01-31")

TAXA_SEM_CONTROLE = 0.08
TAXA_FORA_ESCALA = 0.03
TAXA_ESCALA_TEXTO = 0.04
TAXA_REVISAO_VENCIDA = 0.15
TEXTOS_ESCALA = {
    1: ("muito baixa", "1 - Muito baixa"),
    2: ("baixa", "2 - Baixa"),
    3: ("média", "3 - Média"),
    4: ("alta", "4 - Alta"),
    5: ("muito alta", "5 - Muito alta"),
}


def gerar_riscos(n: int, semente: int) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng([semente, 19])
    catalogo = [(area, resp, *r) for area, (resp, lista) in RISCOS.items() for r in lista]
    idx = rng.choice(len(catalogo), size=n)
    # probabilidade e impacto de 1 a 5, com mais riscos no meio da matriz
    prob = np.clip(np.round(rng.normal(3, 1.1, size=n)), 1, 5).astype(int)
    impacto = np.clip(np.round(rng.normal(3.3, 1.1, size=n)), 1, 5).astype(int)
    controles = np.array([catalogo[i][6] for i in idx], dtype=object)
    avaliacao = np.where(
        controles == "", "Inexistente", nomes.escolher(rng, AVALIACOES[1:], n, p=[0.25, 0.35, 0.3, 0.1])
    ).astype(object)
    marcas: dict = {}
    com_controle = np.flatnonzero(controles != "")
    k = int(round(TAXA_SEM_CONTROLE * n)) - int((controles == "").sum())
    sem = np.sort(rng.choice(com_controle, size=max(k, 0), replace=False))
    controles[sem] = ""  # a avaliação continua dizendo que existe controle: inconsistência de propósito
    marcas["sem_controle"] = np.flatnonzero(controles == "")

    probabilidade = prob.astype(object)
    ordem = rng.permutation(n)
    k_fora = int(round(TAXA_FORA_ESCALA * n))
    k_txt = int(round(TAXA_ESCALA_TEXTO * n))
    fora, texto = np.sort(ordem[:k_fora]), np.sort(ordem[k_fora : k_fora + k_txt])
    impacto_col = impacto.astype(object)
    for j, i in enumerate(fora):
        if j % 2:
            impacto_col[i] = int(rng.choice([0, 6, 10]))
        else:
            probabilidade[i] = int(rng.choice([0, 6, 10]))
    for i in texto:
        probabilidade[i] = str(rng.choice(TEXTOS_ESCALA[prob[i]]))
    marcas["fora_escala"], marcas["escala_texto"] = fora, texto

    identificacao = np.datetime64("2021-01-01") + rng.integers(0, 1400, size=n).astype("timedelta64[D]")
    idade = rng.integers(10, 360, size=n)
    vencidas = np.sort(rng.choice(n, size=int(round(TAXA_REVISAO_VENCIDA * n)), replace=False))
    idade[vencidas] = rng.integers(400, 900, size=vencidas.size)
    revisao = DATA_EXTRACAO - idade.astype("timedelta64[D]")
    identificacao = np.minimum(identificacao, revisao - rng.integers(0, 200, size=n).astype("timedelta64[D]"))
    marcas["revisao_vencida"] = vencidas

    df = pd.DataFrame(
        {
            "id_risco": pd.array([f"R-{i + 1:03d}" for i in range(n)], dtype="str"),
            "area": pd.Categorical([catalogo[i][0] for i in idx], categories=list(RISCOS)),
            "responsavel": pd.array([catalogo[i][1] for i in idx], dtype="str"),
            "evento_risco": pd.array([catalogo[i][2] for i in idx], dtype="str"),
            "causa": pd.array([catalogo[i][3] for i in idx], dtype="str"),
            "consequencia": pd.array([catalogo[i][4] for i in idx], dtype="str"),
            "categoria_risco": pd.array([catalogo[i][5] for i in idx], dtype="str"),
            "probabilidade": pd.Series(probabilidade, dtype=object),
            "impacto": pd.Series(impacto_col, dtype=object),
            "controles_existentes": pd.array(np.where(controles == "", None, controles), dtype="str"),
            "avaliacao_controle": pd.Categorical(avaliacao, categories=AVALIACOES, ordered=True),
            "resposta": pd.Categorical(
                nomes.escolher(rng, RESPOSTAS, n, p=[0.7, 0.15, 0.1, 0.05]), categories=RESPOSTAS
            ),
            "data_identificacao": pd.to_datetime(identificacao),
            "data_ultima_revisao": pd.to_datetime(revisao),
        }
    )
    return df, marcas


# ----------------------------------------------------------------------------------------------------
# Catálogo
# ----------------------------------------------------------------------------------------------------


def _medir_sem_controle(df, _m):
    return float(df["controles_existentes"].isna().mean())


def _medir_fora(df, _m):
    def fora(col):
        return df[col].map(lambda v: isinstance(v, int) and not 1 <= v <= 5)

    return float((fora("probabilidade") | fora("impacto")).mean())


def _medir_texto(df, _m):
    return float(df["probabilidade"].map(lambda v: isinstance(v, str)).mean())


def _medir_vencida(df, _m):
    return float((pd.Timestamp(DATA_EXTRACAO) - df["data_ultima_revisao"] > pd.Timedelta(days=365)).mean())


def _conjuntos():
    from automatiza.dados.catalogo import Coluna, Conjunto, Peculiaridade

    riscos = Conjunto(
        nome="riscos",
        titulo="Registro de riscos",
        descricao=(
            "Riscos de áreas de uma prefeitura (obras, Defesa Civil, compras, TI, pessoas, atendimento) "
            "com causa, consequência, probabilidade e impacto de 1 a 5, controles e datas de revisão. "
            "Serve para montar a matriz probabilidade × impacto (nível = probabilidade × impacto: até 4 "
            "baixo, 5 a 9 médio, 10 a 16 alto, 20 ou mais extremo) e priorizar tratamentos."
        ),
        tipo="tabela",
        unidade="riscos",
        n_padrao=120,
        n_min=5,
        n_max=100_000,
        gerar=gerar_riscos,
        colunas=(
            Coluna("id_risco", "texto", "Identificador (R-001...)"),
            Coluna("area", "categoria", "Área responsável pelo processo"),
            Coluna("responsavel", "texto", "Unidade dona do risco (sigla fictícia)"),
            Coluna("evento_risco", "texto", "O que pode acontecer"),
            Coluna("causa", "texto", "Por que pode acontecer"),
            Coluna("consequencia", "texto", "O que acontece se o risco se materializar"),
            Coluna(
                "categoria_risco",
                "texto",
                "Operacional, Financeiro, Legal/Conformidade, Integridade, "
                "Imagem/Reputação, Segurança da informação ou Ambiental/Climático",
            ),
            Coluna(
                "probabilidade",
                "inteiro de 1 a 5 (com sujeira)",
                "Probabilidade avaliada; alguns valores vieram como texto ou fora da escala",
            ),
            Coluna("impacto", "inteiro de 1 a 5 (com sujeira)", "Impacto avaliado"),
            Coluna("controles_existentes", "texto", "Controles separados por ponto e vírgula"),
            Coluna(
                "avaliacao_controle",
                "categoria ordenada",
                "Inexistente < Fraco < Mediano < Satisfatório < Forte",
            ),
            Coluna("resposta", "categoria", "Mitigar, Aceitar, Transferir ou Evitar"),
            Coluna("data_identificacao", "data", "Quando o risco foi registrado"),
            Coluna("data_ultima_revisao", "data", "Última revisão (a política pede revisão a cada 12 meses)"),
        ),
        peculiaridades=(
            Peculiaridade(
                "sem_controle",
                "{taxa} dos riscos sem controle descrito (em parte deles a avaliação "
                "do controle diz outra coisa)",
                TAXA_SEM_CONTROLE,
                _medir_sem_controle,
                tolerancia=0.02,
            ),
            Peculiaridade(
                "fora_escala",
                "{taxa} dos riscos com probabilidade ou impacto fora da escala de 1 a 5 (0, 6 ou 10)",
                TAXA_FORA_ESCALA,
                _medir_fora,
            ),
            Peculiaridade(
                "escala_texto",
                '{taxa} das probabilidades escritas como texto ("alta", "3 - Média")',
                TAXA_ESCALA_TEXTO,
                _medir_texto,
            ),
            Peculiaridade(
                "revisao_vencida",
                "{taxa} dos riscos com a última revisão há mais de 12 meses",
                TAXA_REVISAO_VENCIDA,
                _medir_vencida,
                tolerancia=0.03,
            ),
        ),
        modulos=("09",),
        n_teste=5000,
    )
    return (riscos,)


CONJUNTOS = _conjuntos()
