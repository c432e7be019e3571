"""Processos SEI-MG sintéticos e o seu registro de andamentos (log de eventos), vetorizados com numpy.

Cada tipo de processo tem uma rota de etapas (atividade, unidade, fase da Lei 14.133 quando é licitação,
espera mediana em horas de expediente). Os retrabalhos (diligência e devolução) e as fases opcionais
viram variantes da rota; cada processo sorteia uma variante, e os andamentos de todos os processos saem
de uma vez por indexação. A espera entre andamentos é contada em minutos de expediente (8h às 18h, dias
úteis de Belo Horizonte) e só depois convertida em data e hora.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from automatiza.dados import calendario, nomes
from automatiza.dados.documentos import _numeros_sei

ORGAO = 1500  # código do órgão nos números SEI (Seplag-MG, como no exemplo 1500.01.0023123/2024-08)
INICIO = np.datetime64("2023-01-02")
FIM_ABERTURAS = np.datetime64("2025-01-01")  # processos abertos em 2023 e 2024
DATA_EXTRACAO = np.datetime64("2025-01-31T18:00")  # andamentos depois disto ainda não aconteceram

# unidade: (sigla, código de 2 dígitos no número do processo, servidores na unidade)
UNIDADES = {
    "PROT": ("SEPLAG/PROTOCOLO", 1, 4),
    "GAB": ("SEPLAG/GAB", 2, 3),
    "AJ": ("SEPLAG/AJ", 3, 3),
    "DCC": ("SEPLAG/DCC", 4, 6),
    "PREG": ("SEPLAG/DCC/PREGAO", 5, 4),
    "DPO": ("SEPLAG/DPO", 6, 4),
    "DFI": ("SEPLAG/DFI", 7, 5),
    "DRH": ("SEPLAG/DRH", 8, 6),
    "DLOG": ("SEPLAG/DLOG", 9, 7),
    "DTI": ("SEPLAG/DTI", 10, 6),
    "DIOB": ("SEPLAG/DIOB", 11, 5),
    "OUV": ("SEPLAG/OUVIDORIA", 12, 3),
    "CI": ("SEPLAG/CI", 13, 3),
}
UNIDADE_GARGALO = "SEPLAG/AJ"
CHAVES_UNIDADES = tuple(UNIDADES)
REQ = "REQ"  # unidade requisitante do processo (sorteada por processo)

FASES_14133 = (
    "preparatória",
    "divulgação do edital",
    "propostas e lances",
    "julgamento",
    "habilitação",
    "recursal",
    "homologação",
)


@dataclass(frozen=True)
class Etapa:
    atividade: str
    unidade: str  # chave de UNIDADES ou REQ
    horas: float  # espera mediana (horas de expediente) desde o andamento anterior
    fase: str | None = None
    dispersao: float = 0.8  # sigma do lognormal


@dataclass(frozen=True)
class Bloco:
    etapas: tuple[Etapa, ...]
    retrabalho: tuple[Etapa, ...] = ()  # laço repetido após o bloco
    p_retrabalho: float = 0.0
    p_presente: float = 1.0  # < 1: fase opcional


def _e(atividade, unidade, horas, fase=None, dispersao=0.8):
    return Etapa(atividade, unidade, horas, fase, dispersao)


_P, _D, _PL, _J, _H, _R, _HO = FASES_14133
PREGAO = (
    Bloco(
        (
            _e("Autuação do processo", REQ, 0, _P),
            _e("Elaboração do Documento de Formalização da Demanda (DFD)", REQ, 6, _P),
            _e("Elaboração do Estudo Técnico Preliminar (ETP)", REQ, 30, _P),
            _e("Elaboração do Termo de Referência", REQ, 30, _P),
            _e("Pesquisa de preços", "DCC", 40, _P),
            _e("Reserva orçamentária", "DPO", 16, _P),
        )
    ),
    Bloco(
        (_e("Análise jurídica", "AJ", 60, _P),),
        retrabalho=(
            _e("Diligência: devolução para ajustes", "AJ", 3, _P),
            _e("Resposta à diligência", REQ, 30, _P),
            _e("Análise jurídica", "AJ", 45, _P),
        ),
        p_retrabalho=0.35,
    ),
    Bloco((_e("Aprovação da autoridade competente", "GAB", 10, _P),)),
    Bloco((_e("Publicação do edital", "DCC", 12, _D),)),
    Bloco((_e("Sessão pública de lances", "PREG", 85, _PL, 0.25),)),
    Bloco(
        (_e("Julgamento das propostas", "PREG", 8, _J),),
        retrabalho=(
            _e("Diligência ao licitante", "PREG", 2, _J),
            _e("Resposta do licitante à diligência", "PREG", 20, _J),
        ),
        p_retrabalho=0.25,
    ),
    Bloco((_e("Análise de habilitação", "PREG", 12, _H),), p_presente=0.999),  # ver ANOMALIA_SEM_HABILITACAO
    Bloco(
        (
            _e("Interposição de recurso", "PREG", 30, _R, 0.3),
            _e("Contrarrazões", "PREG", 30, _R, 0.3),
            _e("Decisão do recurso", "GAB", 40, _R),
        ),
        p_presente=0.2,
    ),
    Bloco(
        (
            _e("Adjudicação e homologação", "GAB", 16, _HO),
            _e("Assinatura do contrato", "DCC", 24, _HO),
            _e("Conclusão do processo", "DCC", 2, _HO),
        )
    ),
)

DISPENSA = (
    Bloco(
        (
            _e("Autuação do processo", REQ, 0),
            _e("Elaboração do Documento de Formalização da Demanda (DFD)", REQ, 6),
            _e("Elaboração do Termo de Referência", REQ, 20),
            _e("Pesquisa de preços", "DCC", 30),
            _e("Reserva orçamentária", "DPO", 16),
        )
    ),
    Bloco(
        (_e("Análise jurídica", "AJ", 45),),
        retrabalho=(
            _e("Diligência: devolução para ajustes", "AJ", 3),
            _e("Resposta à diligência", REQ, 24),
            _e("Análise jurídica", "AJ", 30),
        ),
        p_retrabalho=0.25,
    ),
    Bloco(
        (
            _e("Autorização da contratação direta", "GAB", 10),
            _e("Publicação do aviso de contratação direta", "DCC", 8),
            _e("Emissão da nota de empenho", "DFI", 20),
            _e("Conclusão do processo", "DCC", 2),
        )
    ),
)

PAGAMENTO = (
    Bloco(
        (
            _e("Autuação do processo", REQ, 0),
            _e("Juntada da nota fiscal", REQ, 2),
        )
    ),
    Bloco(
        (_e("Atesto da nota fiscal pelo gestor do contrato", REQ, 12),),
        retrabalho=(
            _e("Devolução da nota fiscal ao fornecedor para correção", REQ, 2),
            _e("Reapresentação da nota fiscal", REQ, 40),
            _e("Atesto da nota fiscal pelo gestor do contrato", REQ, 8),
        ),
        p_retrabalho=0.15,
    ),
    Bloco(
        (_e("Liquidação da despesa", "DFI", 40),),
        retrabalho=(
            _e("Devolução para regularização fiscal do fornecedor", "DFI", 2),
            _e("Juntada de certidões atualizadas", REQ, 30),
            _e("Liquidação da despesa", "DFI", 16),
        ),
        p_retrabalho=0.10,
    ),
    Bloco(
        (
            _e("Pagamento (ordem bancária)", "DFI", 30),
            _e("Conclusão do processo", "DFI", 1),
        )
    ),
)

FERIAS = (
    Bloco(
        (
            _e("Requerimento de férias-prêmio", REQ, 0),
            _e("Manifestação da chefia imediata", REQ, 10),
        )
    ),
    Bloco(
        (_e("Análise de recursos humanos", "DRH", 35),),
        retrabalho=(
            _e("Devolução ao servidor para complementação", "DRH", 2),
            _e("Complementação da documentação", REQ, 20),
            _e("Análise de recursos humanos", "DRH", 20),
        ),
        p_retrabalho=0.12,
    ),
    Bloco(
        (
            _e("Publicação do ato de concessão", "DRH", 16),
            _e("Registro no sistema de pessoal", "DRH", 8),
            _e("Conclusão do processo", "DRH", 1),
        )
    ),
)

LAI = (
    Bloco(
        (
            _e("Registro do pedido de acesso à informação", "OUV", 0),
            _e("Encaminhamento à área técnica", "OUV", 6),
            _e("Elaboração da resposta", REQ, 40),
        )
    ),
    Bloco((_e("Análise jurídica", "AJ", 30),), p_presente=0.2),
    Bloco(
        (
            _e("Resposta ao cidadão", "OUV", 8),
            _e("Conclusão do processo", "OUV", 1),
        )
    ),
)

ADITIVO = (
    Bloco(
        (
            _e("Autuação do processo", REQ, 0),
            _e("Justificativa técnica do aditivo", REQ, 20),
            _e("Manifestação da empresa contratada", REQ, 40),
            _e("Reserva orçamentária", "DPO", 16),
        )
    ),
    Bloco(
        (_e("Análise jurídica", "AJ", 55),),
        retrabalho=(
            _e("Diligência: devolução para ajustes", "AJ", 3),
            _e("Resposta à diligência", REQ, 24),
            _e("Análise jurídica", "AJ", 40),
        ),
        p_retrabalho=0.30,
    ),
    Bloco((_e("Análise do controle interno", "CI", 16),), p_presente=0.4),
    Bloco(
        (
            _e("Aprovação da autoridade competente", "GAB", 10),
            _e("Assinatura do termo aditivo", "DCC", 24),
            _e("Publicação do extrato", "DCC", 10),
            _e("Conclusão do processo", "DCC", 2),
        )
    ),
)

# tipo de processo: (rota, participação, unidades requisitantes possíveis)
TIPOS = {
    "Licitação: Pregão Eletrônico": (PREGAO, 0.15, ("DLOG", "DTI", "DIOB")),
    "Compras: Contratação Direta (Dispensa)": (DISPENSA, 0.12, ("DLOG", "DTI", "DIOB")),
    "Finanças: Liquidação e Pagamento": (PAGAMENTO, 0.30, ("DLOG", "DTI", "DIOB")),
    "Pessoal: Férias-Prêmio": (FERIAS, 0.20, ("DLOG", "DTI", "DIOB", "DCC", "DPO", "DFI", "GAB")),
    "Acesso à Informação: Pedido": (LAI, 0.10, ("DLOG", "DTI", "DIOB", "DRH", "DCC")),
    "Gestão de Contratos: Termo Aditivo": (ADITIVO, 0.13, ("DLOG", "DTI", "DIOB")),
}

ESPECIFICACOES = {
    "Licitação: Pregão Eletrônico": (
        "Aquisição de material de escritório",
        "Contratação de serviços de limpeza e conservação",
        "Aquisição de computadores e notebooks",
        "Contratação de serviço de vigilância patrimonial",
        "Aquisição de mobiliário",
        "Contratação de serviço de telefonia móvel",
        "Aquisição de combustível",
        "Contratação de manutenção predial",
        "Aquisição de licenças de software",
        "Contratação de serviço de copeiragem",
        "Registro de preços de papel A4",
    ),
    "Compras: Contratação Direta (Dispensa)": (
        "Aquisição de água mineral",
        "Manutenção de aparelhos de ar-condicionado",
        "Aquisição de toner",
        "Serviço de chaveiro",
        "Conserto de veículo oficial",
        "Aquisição de material de copa",
        "Recarga de extintores de incêndio",
    ),
    "Finanças: Liquidação e Pagamento": (
        "Pagamento de nota fiscal de serviço de limpeza",
        "Pagamento de nota fiscal de vigilância",
        "Pagamento de fatura de energia elétrica",
        "Pagamento de fatura de telefonia",
        "Pagamento de nota fiscal de manutenção predial",
        "Pagamento de locação de veículos",
    ),
    "Pessoal: Férias-Prêmio": (
        "Concessão de férias-prêmio",
        "Conversão de férias-prêmio em espécie",
        "Contagem de férias-prêmio",
    ),
    "Acesso à Informação: Pedido": (
        "Pedido de informação sobre contratos de limpeza",
        "Pedido de informação sobre diárias de viagem",
        "Pedido de informação sobre quadro de pessoal",
        "Pedido de informação sobre obras em andamento",
        "Pedido de informação sobre despesas com publicidade",
    ),
    "Gestão de Contratos: Termo Aditivo": (
        "Termo aditivo de prazo",
        "Termo aditivo de valor",
        "Reequilíbrio econômico-financeiro",
        "Termo aditivo de prazo e valor",
    ),
}

HIPOTESES = (
    "Informação Pessoal (Art. 31 da Lei nº 12.527/2011)",
    "Documento Preparatório (Art. 7º, § 3º, da Lei nº 12.527/2011)",
    "Controle Interno (Art. 26, § 3º, da Lei nº 10.180/2001)",
)

# Taxas das peculiaridades (documentadas no catálogo e conferidas nos testes)
TAXA_FORA_EXPEDIENTE = 0.003
TAXA_FORA_DE_ORDEM = 0.001
TAXA_DUPLICADOS = 0.002
TAXA_SEM_HABILITACAO = 0.02  # dos pregões
TAXA_PARADOS = 0.02  # dos processos
TAXA_ESPEC_CAIXA_ALTA = 0.05
TAXA_RESTRITO_SEM_HIPOTESE = 0.10  # dos processos restritos
DIAS_PARADO = 90  # dias corridos sem andamento que caracterizam um processo parado


# ----------------------------------------------------------------------------------------------------
# Variantes: todas as combinações de retrabalho (0 a 3 voltas) e fases opcionais, com probabilidade
# ----------------------------------------------------------------------------------------------------


def _variantes(rota: tuple[Bloco, ...]) -> list[tuple[list[Etapa], float, bool]]:
    """Lista (etapas, probabilidade, pulou_habilitacao) de cada variante da rota."""
    opcoes_por_bloco = []
    for bloco in rota:
        opcoes = []
        if bloco.p_presente < 1:
            opcoes.append((0, None, 1 - bloco.p_presente))
        if bloco.retrabalho:
            p = bloco.p_retrabalho
            probs = [1 - p, p * (1 - p / 2), p * (p / 2) * (1 - p / 4), p * (p / 2) * (p / 4)]
            for k, pk in enumerate(probs):
                opcoes.append((1, k, pk * bloco.p_presente))
        else:
            opcoes.append((1, 0, bloco.p_presente))
        opcoes_por_bloco.append(opcoes)
    variantes = []
    for combo in itertools.product(*opcoes_por_bloco):
        etapas: list[Etapa] = []
        prob = 1.0
        pulou = False
        for bloco, (presente, voltas, p) in zip(rota, combo, strict=True):
            prob *= p
            if not presente:
                pulou = pulou or any(e.fase == _H for e in bloco.etapas)
                continue
            etapas.extend(bloco.etapas)
            etapas.extend(list(bloco.retrabalho) * (voltas or 0))
        variantes.append((etapas, prob, pulou))
    return variantes


def _preparar_modelo():
    """Tabelas planas de etapas e variantes (calculadas uma vez)."""
    atividades: list[str] = []
    fases: list[str] = list(FASES_14133)
    etapa_ativ, etapa_unid, etapa_horas, etapa_disp, etapa_fase = [], [], [], [], []
    var_tipo, var_prob, var_inicio, var_tam, var_pulou = [], [], [], [], []
    passos: list[int] = []
    for t, (rota, _, _) in enumerate(TIPOS.values()):
        for etapas, prob, pulou in _variantes(rota):
            var_tipo.append(t)
            var_prob.append(prob)
            var_inicio.append(len(passos))
            var_tam.append(len(etapas))
            var_pulou.append(pulou)
            for e in etapas:
                if e.atividade not in atividades:
                    atividades.append(e.atividade)
                etapa_ativ.append(atividades.index(e.atividade))
                etapa_unid.append(-1 if e.unidade == REQ else CHAVES_UNIDADES.index(e.unidade))
                etapa_horas.append(e.horas)
                etapa_disp.append(e.dispersao)
                etapa_fase.append(-1 if e.fase is None else fases.index(e.fase))
                passos.append(len(passos))
    return {
        "atividades": atividades,
        "ativ": np.array(etapa_ativ),
        "unid": np.array(etapa_unid),
        "horas": np.array(etapa_horas, dtype=float),
        "disp": np.array(etapa_disp, dtype=float),
        "fase": np.array(etapa_fase),
        "var_tipo": np.array(var_tipo),
        "var_prob": np.array(var_prob),
        "var_inicio": np.array(var_inicio),
        "var_tam": np.array(var_tam),
        "var_pulou": np.array(var_pulou),
    }


_MODELO = _preparar_modelo()


def eventos_medios_por_processo() -> float:
    """Número esperado de andamentos por processo (antes do corte pela data de extração)."""
    m = _MODELO
    total = 0.0
    for t, (_, part, _) in enumerate(TIPOS.values()):
        sel = m["var_tipo"] == t
        total += part * float((m["var_prob"][sel] * m["var_tam"][sel]).sum() / m["var_prob"][sel].sum())
    return total


def _usuarios(rng: np.random.Generator):
    """Servidores sintéticos por unidade: (logins, início de cada unidade no vetor, quantidade)."""
    qtd = np.array([UNIDADES[k][2] for k in CHAVES_UNIDADES])
    logins = nomes.logins(nomes.nomes_pessoas(rng, int(qtd.sum())))
    inicio = np.concatenate([[0], np.cumsum(qtd)[:-1]])
    return logins, inicio, qtd


def _escolher_exatos(rng: np.random.Generator, candidatos: np.ndarray, taxa: float, base: int) -> np.ndarray:
    """Sorteia exatamente round(taxa * base) índices de `candidatos` (ou todos, se faltarem)."""
    k = min(int(round(taxa * base)), candidatos.size)
    return np.sort(rng.choice(candidatos, size=k, replace=False)) if k else np.array([], dtype=int)


def simular(n: int, semente: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Gera `n` processos e os seus andamentos. Devolve (processos, andamentos, marcas)."""
    rng = np.random.default_rng([semente, 3])
    m = _MODELO
    tipos = list(TIPOS)
    marcas: dict = {}

    # --- processos: tipo, variante, unidade requisitante, abertura -------------------------------
    part = np.array([TIPOS[t][1] for t in tipos])
    tipo = rng.choice(len(tipos), size=n, p=part / part.sum())
    variante = np.empty(n, dtype=int)
    for t in range(len(tipos)):
        sel = np.flatnonzero(tipo == t)
        vs = np.flatnonzero(m["var_tipo"] == t)
        normais = vs[~m["var_pulou"][vs]]
        p = m["var_prob"][normais] / m["var_prob"][normais].sum()
        variante[sel] = normais[rng.choice(normais.size, size=sel.size, p=p)]
        pulos = vs[m["var_pulou"][vs]]
        if pulos.size:  # anomalia: pregão sem a fase de habilitação, em quantidade exata
            escolhidos = _escolher_exatos(rng, sel, TAXA_SEM_HABILITACAO, sel.size)
            # a mesma rota, menos a habilitação: variante "pulou" com o mesmo número de retrabalhos
            equivalente = {}
            for v in pulos:
                chave = tuple(m["ativ"][m["var_inicio"][v] : m["var_inicio"][v] + m["var_tam"][v]])
                equivalente[chave] = v
            hab = m["atividades"].index("Análise de habilitação")
            for i in escolhidos:
                v = variante[i]
                ativ = m["ativ"][m["var_inicio"][v] : m["var_inicio"][v] + m["var_tam"][v]]
                variante[i] = equivalente[tuple(a for a in ativ if a != hab)]
            marcas["sem_habilitacao"] = escolhidos

    requisitante = np.empty(n, dtype=int)
    for t, nome_tipo in enumerate(tipos):
        sel = np.flatnonzero(tipo == t)
        opcoes = np.array([CHAVES_UNIDADES.index(u) for u in TIPOS[nome_tipo][2]])
        requisitante[sel] = opcoes[rng.integers(0, opcoes.size, size=sel.size)]

    dias = calendario.dias_uteis(INICIO, FIM_ABERTURAS)
    minutos_abertura = np.sort(rng.integers(0, dias.size * calendario.MINUTOS_EXPEDIENTE, size=n))

    # --- andamentos: uma linha por etapa da variante de cada processo --------------------------------
    tam = m["var_tam"][variante]
    total = int(tam.sum())
    proc = np.repeat(np.arange(n), tam)
    inicio_proc = np.concatenate([[0], np.cumsum(tam)[:-1]])
    pos = np.arange(total) - np.repeat(inicio_proc, tam)
    etapa = m["var_inicio"][variante][proc] + pos

    unid = m["unid"][etapa]
    unid = np.where(unid < 0, requisitante[proc], unid)
    horas = m["horas"][etapa]
    espera = np.rint(horas * 60 * np.exp(m["disp"][etapa] * rng.standard_normal(total))).astype(np.int64)
    espera = np.where(pos == 0, 0, np.maximum(espera, 1))
    # anomalia: processos parados (uma espera de 80 a 150 dias úteis numa etapa qualquer)
    # (só entre os abertos até maio de 2024, para a parada caber antes da data de extração)
    limite = np.searchsorted(dias, np.datetime64("2024-06-01")) * calendario.MINUTOS_EXPEDIENTE
    parados = _escolher_exatos(rng, np.flatnonzero(minutos_abertura < limite), TAXA_PARADOS, n)
    linha_parada = inicio_proc[parados] + rng.integers(1, tam[parados])
    espera[linha_parada] = rng.integers(80, 150, size=parados.size) * calendario.MINUTOS_EXPEDIENTE
    marcas["parados"] = parados

    acumulado = np.cumsum(espera)
    minuto = minutos_abertura[proc] + acumulado - np.repeat(acumulado[inicio_proc], tam)
    dia_idx = minuto // calendario.MINUTOS_EXPEDIENTE
    maximo = int(dia_idx.max()) + 1 if total else 1
    if maximo > dias.size:
        dias = np.concatenate(
            [dias, calendario.dias_uteis(FIM_ABERTURAS, FIM_ABERTURAS + np.timedelta64(maximo * 2 + 30, "D"))]
        )
    data_hora = (
        dias[dia_idx].astype("datetime64[m]")
        + np.timedelta64(calendario.INICIO_EXPEDIENTE_MIN, "m")
        + (minuto % calendario.MINUTOS_EXPEDIENTE).astype("timedelta64[m]")
    )
    # segundos realistas (o SEI registra segundos)
    data_hora = data_hora.astype("datetime64[s]") + rng.integers(0, 60, size=total).astype("timedelta64[s]")

    logins, u_inicio, u_qtd = _usuarios(rng)
    afinidade = rng.integers(0, 10_000, size=n)[proc]  # o mesmo servidor tende a cuidar do mesmo processo
    troca = rng.random(total) < 0.2
    deslocamento = np.where(troca, rng.integers(0, 10_000, size=total), afinidade + unid * 7)
    usuario = u_inicio[unid] + deslocamento % u_qtd[unid]

    # corte na data de extração: o que ainda não aconteceu some do log
    vale = data_hora <= DATA_EXTRACAO.astype("datetime64[s]")
    proc, pos, etapa, unid, usuario, data_hora = (
        a[vale] for a in (proc, pos, etapa, unid, usuario, data_hora)
    )
    total = proc.size

    # anomalia: andamentos fora do expediente (noite), sem mudar a ordem do processo
    mesmo_proc_seg = np.append(proc[1:] == proc[:-1], False)
    dia = data_hora.astype("datetime64[D]")
    prox_dia_maior = np.append(dia[1:] > dia[:-1], True)
    candidatos = np.flatnonzero((pos > 0) & (~mesmo_proc_seg | prox_dia_maior))
    fora = _escolher_exatos(rng, candidatos, TAXA_FORA_EXPEDIENTE, total)
    noite = rng.integers(19 * 3600, 23 * 3600 + 59 * 60, size=fora.size).astype("timedelta64[s]")
    data_hora[fora] = dia[fora].astype("datetime64[s]") + noite
    marcas["fora_expediente"] = fora

    # anomalia: lançamento retroativo (data anterior ao andamento anterior do mesmo processo)
    livres = np.ones(total, dtype=bool)
    livres[fora] = False
    livres[np.clip(fora + 1, 0, max(total - 1, 0))] = False
    candidatos = np.flatnonzero((pos > 0) & (pos % 2 == 0) & livres & np.append(livres[1:], True))
    retro = _escolher_exatos(rng, candidatos, TAXA_FORA_DE_ORDEM, total)
    anterior = data_hora[retro - 1]
    dia_anterior = anterior.astype("datetime64[D]")
    recuo_dias = np.busday_offset(
        dia_anterior, -rng.integers(1, 4, size=retro.size), roll="backward", busdaycal=calendario.calendario()
    )
    data_hora[retro] = recuo_dias.astype("datetime64[s]") + (anterior - dia_anterior.astype("datetime64[s]"))
    marcas["fora_de_ordem"] = retro

    # anomalia: andamentos duplicados (linha repetida logo abaixo da original)
    dup = _escolher_exatos(rng, np.arange(total), TAXA_DUPLICADOS, total)
    ordem = np.sort(np.concatenate([np.arange(total), dup]), kind="stable")
    marcas["duplicados"] = dup

    # --- números e colunas dos processos -------------------------------------------------------------
    abertura = (
        dias[minutos_abertura // calendario.MINUTOS_EXPEDIENTE].astype("datetime64[m]")
        + np.timedelta64(calendario.INICIO_EXPEDIENTE_MIN, "m")
        + (minutos_abertura % calendario.MINUTOS_EXPEDIENTE).astype("timedelta64[m]")
    ).astype("datetime64[s]")
    ano = abertura.astype("datetime64[Y]").astype(int) + 1970
    salto = rng.integers(1, 40, size=n)  # outros processos do órgão entre um e outro
    sequencial = np.empty(n, dtype=np.int64)
    for a in np.unique(ano):
        sel = ano == a
        sequencial[sel] = 1000 + np.cumsum(salto[sel])
    geradora = np.where(
        tipo == tipos.index("Acesso à Informação: Pedido"), CHAVES_UNIDADES.index("OUV"), requisitante
    )
    codigo_unid = np.array([UNIDADES[k][1] for k in CHAVES_UNIDADES])[geradora]
    numeros = _numeros_sei(np.full(n, ORGAO), codigo_unid, sequencial, ano)

    especificacao = np.empty(n, dtype=object)
    for t, nome_tipo in enumerate(tipos):
        sel = np.flatnonzero(tipo == t)
        especificacao[sel] = nomes.escolher(rng, ESPECIFICACOES[nome_tipo], sel.size)
    caixa_alta = _escolher_exatos(rng, np.arange(n), TAXA_ESPEC_CAIXA_ALTA, n)
    especificacao[caixa_alta] = [s.upper() for s in especificacao[caixa_alta]]
    marcas["espec_caixa_alta"] = caixa_alta

    pessoal = tipo == tipos.index("Pessoal: Férias-Prêmio")
    sorteio = rng.random(n)
    nivel = np.where(
        sorteio < np.where(pessoal, 0.7, 0.10), "Restrito", np.where(sorteio > 0.995, "Sigiloso", "Público")
    ).astype(object)
    hipotese = np.full(n, None, dtype=object)
    restrito = np.flatnonzero(nivel != "Público")
    hipotese[restrito] = np.where(
        pessoal[restrito], HIPOTESES[0], nomes.escolher(rng, HIPOTESES, restrito.size)
    )
    sem_hip = _escolher_exatos(
        rng, np.flatnonzero(nivel == "Restrito"), TAXA_RESTRITO_SEM_HIPOTESE, int((nivel == "Restrito").sum())
    )
    hipotese[sem_hip] = None
    marcas["restrito_sem_hipotese"] = sem_hip

    interessado = nomes.nomes_empresas(rng, n)
    servidores = nomes.nomes_pessoas(rng, n)
    interessado[pessoal] = servidores[pessoal]
    lai = tipo == tipos.index("Acesso à Informação: Pedido")
    interessado[lai] = [
        f"Solicitante LAI nº {a}-{i:06d}" for a, i in zip(ano[lai], np.arange(lai.sum()) + 1, strict=True)
    ]

    siglas = np.array([UNIDADES[k][0] for k in CHAVES_UNIDADES], dtype=object)
    processos = pd.DataFrame(
        {
            "numero_processo": pd.array(numeros, dtype="str"),
            "tipo_processo": pd.Categorical.from_codes(tipo, categories=tipos),
            "especificacao": pd.array(especificacao, dtype="str"),
            "unidade_geradora": pd.Categorical.from_codes(geradora, categories=siglas),
            "data_abertura": pd.to_datetime(abertura),
            "nivel_acesso": pd.Categorical(nivel, categories=["Público", "Restrito", "Sigiloso"]),
            "hipotese_legal": pd.array(hipotese, dtype="str"),
            "interessado": pd.array(interessado, dtype="str"),
        }
    )

    fase = m["fase"][etapa]
    andamentos = pd.DataFrame(
        {
            "numero_processo": pd.Categorical.from_codes(proc[ordem], categories=numeros).astype("str"),
            "sequencia": (pos[ordem] + 1).astype(np.int32),
            "data_hora": pd.to_datetime(data_hora[ordem]),
            "unidade": pd.Categorical.from_codes(unid[ordem], categories=siglas),
            "usuario": pd.Categorical.from_codes(usuario[ordem], categories=logins),
            "atividade": pd.Categorical.from_codes(m["ativ"][etapa][ordem], categories=m["atividades"]),
            "fase": pd.Categorical.from_codes(fase[ordem], categories=list(FASES_14133)),
        }
    )
    return processos, andamentos, marcas


def gerar_processos(n: int, semente: int) -> tuple[pd.DataFrame, dict]:
    processos, _, marcas = simular(n, semente)
    return processos, marcas


def gerar_andamentos(n: int, semente: int) -> tuple[pd.DataFrame, dict]:
    _, andamentos, marcas = simular(n, semente)
    return andamentos, marcas


# ----------------------------------------------------------------------------------------------------
# Catálogo
# ----------------------------------------------------------------------------------------------------


def _ordenado(a: pd.DataFrame) -> pd.DataFrame:
    return a.sort_values(["numero_processo", "sequencia"], kind="stable")


def _medir_fora_expediente(a: pd.DataFrame, _m: dict) -> float:
    hora = a["data_hora"].dt.hour
    return float(((hora < 8) | (hora >= 18) | (a["data_hora"].dt.day_of_week >= 5)).mean())


def _medir_fora_de_ordem(a: pd.DataFrame, _m: dict) -> float:
    a = _ordenado(a)
    anterior = a.groupby("numero_processo", observed=True)["data_hora"].shift()
    return float((a["data_hora"] < anterior).mean())


def _medir_duplicados(a: pd.DataFrame, _m: dict) -> float:
    return float(a.duplicated().mean())


def _medir_sem_habilitacao(a: pd.DataFrame, _m: dict) -> float:
    homologados = set(a.loc[a["atividade"] == "Adjudicação e homologação", "numero_processo"])
    habilitados = set(a.loc[a["atividade"] == "Análise de habilitação", "numero_processo"])
    return len(homologados - habilitados) / max(len(homologados), 1)


def processos_parados(a: pd.DataFrame, dias: int = DIAS_PARADO) -> pd.Series:
    """Processos com algum intervalo sem andamento maior que `dias` dias corridos (até a data de extração)."""
    a = _ordenado(a)
    grupos = a.groupby("numero_processo", observed=True)["data_hora"]
    maior = grupos.diff().groupby(a["numero_processo"], observed=True).max()
    ultimo = grupos.max()
    concluidos = set(a.loc[a["atividade"] == "Conclusão do processo", "numero_processo"])
    desde_ultimo = pd.Timestamp(DATA_EXTRACAO) - ultimo
    aberto = ~ultimo.index.isin(list(concluidos))
    limite = pd.Timedelta(days=dias)
    return (maior > limite) | (aberto & (desde_ultimo > limite))


def _medir_parados(a: pd.DataFrame, _m: dict) -> float:
    return float(processos_parados(a).mean())


def _medir_gargalo(a: pd.DataFrame, _m: dict) -> float:
    a = _ordenado(a)
    espera = a["data_hora"] - a.groupby("numero_processo", observed=True)["data_hora"].shift()
    medianas = espera.groupby(a["unidade"], observed=True).median()
    return float(medianas.idxmax() == UNIDADE_GARGALO)


def _medir_retrabalho(a: pd.DataFrame, _m: dict) -> float:
    dilig = a.loc[a["atividade"].astype(str).str.startswith("Diligência"), "numero_processo"].nunique()
    return float(dilig > 0)


def _medir_caixa_alta(p: pd.DataFrame, _m: dict) -> float:
    return float(p["especificacao"].str.isupper().mean())


def _medir_sem_hipotese(p: pd.DataFrame, _m: dict) -> float:
    restritos = p[p["nivel_acesso"] == "Restrito"]
    return float(restritos["hipotese_legal"].isna().mean())


def _medir_formato_sei(p: pd.DataFrame, _m: dict) -> float:
    return float(p["numero_processo"].str.match(r"^\d{4}\.\d{2}\.\d{7}/\d{4}-\d{2}$").mean())


def _conjuntos():
    from automatiza.dados.catalogo import Coluna, Conjunto, Peculiaridade

    rotas = "; ".join(f"{t} ({round(p * 100)}%)" for t, (_, p, _) in TIPOS.items())
    comum = (
        "Simulação de processos da Seplag-MG abertos em 2023 e 2024 e extraídos em 31/01/2025 às 18h. "
        "Com a mesma semente e o mesmo `n`, `processos_sei` e `andamentos_sei` descrevem os mesmos processos "
        "(junte pela coluna `numero_processo`)."
    )
    processos = Conjunto(
        nome="processos_sei",
        titulo="Processos do SEI-MG",
        descricao=(
            "Capa dos processos administrativos no estilo do SEI-MG: número, tipo, especificação, unidade "
            f"geradora, data de abertura, nível de acesso e interessado. Tipos: {rotas}. " + comum
        ),
        tipo="tabela",
        unidade="processos",
        n_padrao=500,
        n_min=1,
        n_max=500_000,
        gerar=gerar_processos,
        colunas=(
            Coluna(
                "numero_processo",
                "texto",
                "Número SEI-MG no formato 0000.00.0000000/0000-00: órgão (1500), "
                "unidade geradora, sequencial, ano e dois dígitos verificadores (módulo 11, sintéticos)",
            ),
            Coluna("tipo_processo", "categoria", "Tipo do processo, que define a rota de andamentos"),
            Coluna("especificacao", "texto", "Especificação (assunto) digitada por quem abriu o processo"),
            Coluna("unidade_geradora", "categoria", "Sigla da unidade que abriu o processo"),
            Coluna("data_abertura", "data e hora", "Momento da autuação, sempre em horário de expediente"),
            Coluna("nivel_acesso", "categoria", "Público, Restrito ou Sigiloso"),
            Coluna(
                "hipotese_legal", "texto", "Fundamento da restrição de acesso (vazio nos processos públicos)"
            ),
            Coluna(
                "interessado", "texto", "Empresa, servidor (pessoa sintética) ou solicitante LAI anonimizado"
            ),
        ),
        peculiaridades=(
            Peculiaridade(
                "numero_formato",
                "Todos os números seguem o padrão `^\\d{4}\\.\\d{2}\\.\\d{7}/\\d{4}-\\d{2}$`",
                None,
                _medir_formato_sei,
            ),
            Peculiaridade(
                "espec_caixa_alta",
                "{taxa} das especificações digitadas toda em CAIXA ALTA",
                TAXA_ESPEC_CAIXA_ALTA,
                _medir_caixa_alta,
            ),
            Peculiaridade(
                "restrito_sem_hipotese",
                "{taxa} dos processos restritos sem hipótese legal preenchida",
                TAXA_RESTRITO_SEM_HIPOTESE,
                _medir_sem_hipotese,
                tolerancia=0.03,
            ),
        ),
        modulos=("01", "06", "07"),
        n_teste=20_000,
    )
    andamentos = Conjunto(
        nome="andamentos_sei",
        titulo="Andamentos dos processos SEI-MG (log de eventos)",
        descricao=(
            "Um andamento por linha (processo, sequência, data e hora, unidade, usuário, atividade e fase da "
            "Lei 14.133/2021 nas licitações), pronto para mineração de processos: tempo de ciclo, espera por "
            "unidade, gargalos, retrabalho, variantes e grafo de sucessão direta. Pregões seguem as fases "
            "preparatória, divulgação do edital, propostas e lances, julgamento, habilitação, recursal "
            "(em 20% deles) e homologação. As esperas são contadas em horário de expediente (8h às 18h, dias "
            "úteis de Belo Horizonte, sem feriados nem Carnaval) e por isso atravessam noites e fins de "
            "semana. " + comum
        ),
        tipo="tabela",
        unidade="processos",
        n_padrao=500,
        n_min=1,
        n_max=500_000,
        tamanho_padrao_texto=f"cerca de {eventos_medios_por_processo():.0f} andamentos por processo",
        gerar=gerar_andamentos,
        colunas=(
            Coluna("numero_processo", "texto", "Número SEI-MG do processo (chave para `processos_sei`)"),
            Coluna("sequencia", "inteiro", "Ordem do andamento no processo (1 = autuação)"),
            Coluna("data_hora", "data e hora", "Momento do andamento"),
            Coluna("unidade", "categoria", "Unidade onde o andamento aconteceu"),
            Coluna("usuario", "categoria", "Login (sintético) de quem registrou o andamento"),
            Coluna("atividade", "categoria", 'O que foi feito, por exemplo "Análise jurídica"'),
            Coluna("fase", "categoria", "Fase da Lei 14.133/2021 (só nos pregões; vazio nos demais tipos)"),
        ),
        peculiaridades=(
            Peculiaridade(
                "retrabalho",
                "Laços de retrabalho: diligência e devolução para ajustes (35% dos "
                "pregões na análise jurídica, 25% no julgamento; 10% a 30% nos demais tipos), "
                "às vezes repetidos",
                None,
                _medir_retrabalho,
            ),
            Peculiaridade(
                "gargalo",
                f"Gargalo: a {UNIDADE_GARGALO} (Assessoria Jurídica) tem a maior espera "
                "mediana antes dos seus andamentos",
                None,
                _medir_gargalo,
            ),
            Peculiaridade(
                "parados",
                "{taxa} dos processos ficam mais de 90 dias corridos sem andamento "
                "(uma espera de 80 a 150 dias úteis numa etapa)",
                TAXA_PARADOS,
                _medir_parados,
                tolerancia=0.004,
            ),
            Peculiaridade(
                "sem_habilitacao",
                "{taxa} dos pregões homologados pularam a fase de habilitação",
                TAXA_SEM_HABILITACAO,
                _medir_sem_habilitacao,
                tolerancia=0.006,
            ),
            Peculiaridade(
                "fora_expediente",
                "{taxa} dos andamentos registrados fora do expediente (à noite)",
                TAXA_FORA_EXPEDIENTE,
                _medir_fora_expediente,
            ),
            Peculiaridade(
                "fora_de_ordem",
                "{taxa} dos andamentos com data anterior à do andamento anterior "
                "do mesmo processo (lançamento retroativo)",
                TAXA_FORA_DE_ORDEM,
                _medir_fora_de_ordem,
            ),
            Peculiaridade(
                "duplicados",
                "{taxa} das linhas são cópias exatas da linha de cima (andamento duplicado na exportação)",
                TAXA_DUPLICADOS,
                _medir_duplicados,
            ),
        ),
        modulos=("06", "07", "08"),
        n_teste=20_000,
        notas="Processos abertos no fim de 2024 ainda estão em andamento na data de extração.",
    )
    return (processos, andamentos)


CONJUNTOS = _conjuntos()
