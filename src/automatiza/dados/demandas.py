"""Demandas de cidadãos (como as do canal 156 de Belo Horizonte) em texto livre, com categoria.

Cada mensagem junta pedaços escolhidos ao acaso (abertura, relato do problema, detalhe, há quanto tempo,
pedido, despedida), cada pedaço com várias redações e lugares de Belo Horizonte. Parte das mensagens mistura
assuntos de duas categorias, tem erros de digitação ou é curtíssima; as classes são desbalanceadas; e uma
pequena parte foi classificada errado pelo atendimento. Assim um classificador TF-IDF aprende sinal de
verdade, mas não acerta tudo.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import numpy as np
import pandas as pd

from automatiza.dados import nomes
from automatiza.dados.documentos import _cpf_array, _formatar_cpf_array

CATEGORIAS = {
    "Pavimentação e buracos": 0.22,
    "Iluminação pública": 0.16,
    "Limpeza urbana e coleta de lixo": 0.15,
    "Árvores e poda": 0.10,
    "Drenagem e alagamentos": 0.09,
    "Trânsito e sinalização": 0.08,
    "Transporte coletivo": 0.07,
    "Perturbação do sossego": 0.05,
    "Animais e zoonoses": 0.05,
    "Obras irregulares": 0.03,
}

# categoria: (relatos do problema, detalhes, pedidos, mensagens curtas)
TEXTOS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Pavimentação e buracos": (
        (
            "Tem um buraco enorme {local}.",
            "Abriu uma cratera no asfalto {local}.",
            "O asfalto {local} está todo esburacado.",
            "O asfalto {local} está cheio de buracos, parece uma peneira.",
            "Fizeram um remendo {local} mas o asfalto afundou de novo.",
            "Depois da obra da Copasa deixaram a vala aberta {local} e ninguém fechou.",
            "O calçamento {local} está soltando e as pedras estão espalhadas pela pista.",
            "Existe um afundamento no pavimento {local}.",
            "Tapa-buraco {local} não dura nem uma semana.",
            "A operação tapa-buraco passou na rua de cima e esqueceu a nossa, {local}.",
        ),
        (
            "Já vi dois motoqueiros caindo ali.",
            "Meu carro estourou o pneu nesse buraco.",
            "Os carros desviam pela contramão para fugir dos buracos.",
            "À noite não dá para ver o buraco.",
            "Quando chove o buraco enche de água e ninguém vê.",
            "O ônibus passa e a rua treme toda.",
        ),
        (
            "Peço que tapem o buraco o quanto antes.",
            "Solicito o recapeamento da via.",
            "Mandem a equipe do tapa-buraco, por favor.",
            "Precisamos de asfalto novo nessa rua.",
        ),
        ("buraco enorme {local}!!!", "asfalto afundou {local}", "cratera na rua", "rua toda esburacada"),
    ),
    "Iluminação pública": (
        (
            "O poste {local} está apagado.",
            "A lâmpada do poste {local} queimou.",
            "Está tudo no escuro {local}, nenhum poste acende.",
            "A luz do poste {local} fica piscando a noite inteira.",
            "O poste {local} fica aceso o dia todo, desperdício de energia.",
            "Trocaram as lâmpadas por LED mas o poste {local} ficou sem luz.",
            "A iluminação da praça {local} não funciona.",
            "Três postes seguidos {local} estão apagados.",
        ),
        (
            "Está perigoso andar à noite, já teve assalto.",
            "As crianças voltam da escola no escuro.",
            "Fica um breu total depois das seis da tarde.",
            "Os moradores estão com medo de sair de casa.",
        ),
        (
            "Peço a troca da lâmpada.",
            "Solicito manutenção na iluminação.",
            "Mandem a equipe da iluminação pública, por favor.",
            "Precisamos de luz na rua.",
        ),
        ("poste apagado {local}", "lâmpada queimada", "rua sem luz", "poste piscando"),
    ),
    "Limpeza urbana e coleta de lixo": (
        (
            "O caminhão do lixo não passa {local} há dias.",
            "Tem entulho jogado no passeio {local}.",
            "Montaram um bota-fora clandestino {local}, jogam sofá, colchão e resto de obra.",
            "A coleta de lixo {local} está atrasada, os sacos estão acumulando.",
            "O lote vago {local} virou depósito de lixo.",
            "A varrição não passa {local} faz tempo.",
            "A caçamba {local} está transbordando.",
            "Jogam lixo na esquina {local} todo dia.",
        ),
        (
            "O cheiro está insuportável.",
            "Os cachorros rasgam os sacos e espalham tudo.",
            "Está juntando mosca e barata.",
            "Quando chove o lixo desce para a rua de baixo.",
        ),
        (
            "Peço o recolhimento do entulho.",
            "Solicito a regularização da coleta.",
            "Mandem recolher o lixo, por favor.",
            "Precisamos de uma caçamba e de fiscalização.",
        ),
        ("lixo acumulado {local}", "coleta não passou", "entulho na calçada", "bota fora {local}"),
    ),
    "Árvores e poda": (
        (
            "Uma árvore grande {local} está com risco de cair.",
            "Os galhos da árvore {local} estão muito baixos.",
            "Caiu uma árvore {local} com o vento de ontem.",
            "A raiz da árvore {local} levantou todo o passeio.",
            "A árvore {local} está seca, parece morta.",
            "Pedi a poda da árvore {local} faz meses.",
            "Tem um galho pendurado na árvore {local} quase caindo.",
            "A copa da árvore {local} cresceu demais.",
        ),
        (
            "Tenho medo que caia em cima de alguém.",
            "Os galhos batem na janela do segundo andar.",
            "Está cheio de cupim no tronco.",
            "Quando venta cai galho no carro dos vizinhos.",
        ),
        (
            "Peço a poda da árvore.",
            "Solicito a avaliação da árvore pela equipe técnica.",
            "Mandem podar, por favor.",
            "Solicito a remoção da árvore caída.",
        ),
        ("árvore caindo {local}", "poda de árvore", "galho pendurado", "árvore caiu"),
    ),
    "Drenagem e alagamentos": (
        (
            "A boca de lobo {local} está entupida.",
            "Toda vez que chove alaga tudo {local}.",
            "O bueiro {local} está sem tampa.",
            "A água da chuva invade as casas {local}.",
            "O córrego {local} transbordou de novo.",
            "A grelha da boca de lobo {local} quebrou.",
            "Tem água minando do asfalto {local}.",
            "A enxurrada desce com muita força {local}.",
        ),
        (
            "Perdemos móveis na última chuva.",
            "A água chega no joelho.",
            "Os carros ficam ilhados.",
            "Ninguém consegue sair de casa quando chove forte.",
        ),
        (
            "Peço a limpeza da boca de lobo.",
            "Solicito obra de drenagem.",
            "Mandem desentupir o bueiro, por favor.",
            "Precisamos de uma solução antes do período de chuvas.",
        ),
        ("bueiro entupido {local}", "rua alagada", "boca de lobo sem tampa", "alagamento {local}"),
    ),
    "Trânsito e sinalização": (
        (
            "O semáforo {local} está desligado.",
            "A faixa de pedestre {local} está apagada.",
            "Falta placa de pare no cruzamento {local}.",
            "Os carros passam em alta velocidade {local}.",
            "O sinal {local} fica amarelo piscando o dia inteiro.",
            "Precisamos de um quebra-molas {local}, os carros passam voando.",
            "Estacionam em fila dupla {local} o tempo todo.",
            "A placa de sentido único {local} foi arrancada.",
        ),
        (
            "Quase atropelaram uma criança.",
            "Já teve três acidentes este ano.",
            "Na saída da escola vira um caos.",
            "Os motoristas não respeitam.",
        ),
        (
            "Peço a pintura da faixa.",
            "Solicito a instalação de redutor de velocidade.",
            "Mandem a BHTrans verificar o semáforo, por favor.",
            "Precisamos de fiscalização de trânsito.",
        ),
        ("semáforo desligado {local}", "faixa apagada", "falta quebra-molas", "sinal quebrado"),
    ),
    "Transporte coletivo": (
        (
            "O ônibus da linha {linha} está atrasando muito.",
            "A linha {linha} não passa no horário de pico.",
            "O motorista da linha {linha} não parou no ponto {local}.",
            "O ponto de ônibus {local} está sem cobertura.",
            "Tiraram o ponto de ônibus {local}.",
            "Os ônibus da linha {linha} estão sempre lotados.",
            "O ar-condicionado do ônibus da linha {linha} não funciona.",
            "A linha {linha} deixou de rodar no domingo.",
        ),
        (
            "Espero mais de uma hora no ponto.",
            "Chego atrasado no trabalho todo dia.",
            "Os idosos ficam no sol esperando.",
            "Ninguém respeita o quadro de horários.",
        ),
        (
            "Peço mais viagens na linha.",
            "Solicito a volta do ponto.",
            "Fiscalizem a empresa de ônibus, por favor.",
            "Precisamos de abrigo no ponto.",
        ),
        ("ônibus {linha} atrasado", "linha {linha} não passa", "ponto sem cobertura", "ônibus lotado"),
    ),
    "Perturbação do sossego": (
        (
            "O bar {local} fica com som alto até de madrugada.",
            "Tem festa com som automotivo {local} todo fim de semana.",
            "O vizinho {local} liga o som no último volume.",
            "A igreja {local} faz barulho até tarde da noite.",
            "Tem um paredão de som {local} toda sexta.",
        ),
        (
            "Não consigo dormir.",
            "Tenho um bebê recém-nascido em casa.",
            "Já chamei a polícia e não resolveu.",
            "Os idosos da rua estão passando mal com o barulho.",
        ),
        (
            "Peço fiscalização do barulho.",
            "Solicito que a fiscalização verifique o alvará.",
            "Tomem providência com o barulho, por favor.",
        ),
        ("som alto {local}", "barulho de madrugada", "paredão de som"),
    ),
    "Animais e zoonoses": (
        (
            "Tem muito rato {local}.",
            "Apareceu escorpião {local}, já achei três em casa.",
            "Tem um cachorro abandonado {local}.",
            "Foco de dengue no lote vago {local}.",
            "A piscina abandonada da casa {local} está cheia de mosquito.",
            "Tem pombos fazendo ninho {local}.",
            "Um cavalo solto anda {local} no meio dos carros.",
        ),
        (
            "Meus filhos têm medo de brincar no quintal.",
            "O cachorro está magro e machucado.",
            "Já tivemos casos de dengue na rua.",
            "Os vizinhos reclamam há meses.",
        ),
        (
            "Peço a visita do controle de zoonoses.",
            "Solicito a dedetização do local.",
            "Mandem o agente de endemias, por favor.",
        ),
        ("escorpião {local}", "foco de dengue", "muito rato", "cachorro abandonado"),
    ),
    "Obras irregulares": (
        (
            "O vizinho {local} está construindo sem alvará.",
            "Estão fazendo uma obra {local} que invadiu o passeio.",
            "Levantaram um muro {local} em cima da calçada.",
            "Tem uma construção {local} avançando sobre a área verde.",
            "A obra {local} trabalha domingo e feriado.",
        ),
        (
            "Os pedestres têm que andar na rua.",
            "A obra não tem placa nem responsável técnico.",
            "Estão jogando terra na rua.",
            "Acho que não tem licença nenhuma.",
        ),
        ("Peço fiscalização da obra.", "Solicito que verifiquem o alvará de construção."),
        ("obra sem alvará {local}", "construção irregular", "obra invadindo calçada"),
    ),
}

# pares de categorias que se confundem de verdade (texto da primeira com detalhe da segunda)
AMBIGUAS = {
    "Árvores e poda": ("Iluminação pública", "Drenagem e alagamentos"),
    "Iluminação pública": ("Árvores e poda",),
    "Drenagem e alagamentos": ("Pavimentação e buracos", "Limpeza urbana e coleta de lixo"),
    "Pavimentação e buracos": ("Drenagem e alagamentos", "Trânsito e sinalização"),
    "Limpeza urbana e coleta de lixo": ("Animais e zoonoses", "Drenagem e alagamentos"),
    "Animais e zoonoses": ("Limpeza urbana e coleta de lixo",),
    "Trânsito e sinalização": ("Transporte coletivo", "Pavimentação e buracos"),
    "Transporte coletivo": ("Trânsito e sinalização",),
    "Perturbação do sossego": ("Obras irregulares",),
    "Obras irregulares": ("Perturbação do sossego", "Limpeza urbana e coleta de lixo"),
}
# frases que ligam o assunto de outra categoria ao relato principal
PONTES = {
    "Iluminação pública": "Os galhos cobrem a luz do poste e a rua fica escura.",
    "Árvores e poda": "Acho que é por causa da árvore que encosta nos fios.",
    "Drenagem e alagamentos": "Quando chove vira um rio e a água não escoa.",
    "Pavimentação e buracos": "A água já abriu buracos no asfalto.",
    "Limpeza urbana e coleta de lixo": "Tem muito lixo acumulado em volta.",
    "Animais e zoonoses": "Está aparecendo rato e barata por causa disso.",
    "Trânsito e sinalização": "Os carros passam rápido e não tem sinalização nenhuma.",
    "Transporte coletivo": "O ônibus tem que desviar e o ponto fica sem atendimento.",
    "Perturbação do sossego": "Ainda por cima fazem barulho a noite inteira.",
    "Obras irregulares": "Parece que é uma obra sem licença.",
}

ABERTURAS = (
    "Bom dia.",
    "Boa tarde!",
    "Boa noite, pessoal da prefeitura.",
    "Olá.",
    "Prezados,",
    "Gostaria de registrar uma reclamação.",
    "Venho solicitar providências.",
    "Oi, tudo bem?",
    "Sou morador do bairro {bairro}.",
    "Moro no {bairro} há 20 anos e nunca vi isso.",
)
TEMPOS = {
    "Já faz {t} que está assim.": (
        "duas semanas",
        "um mês",
        "mais de três meses",
        "uns dez dias",
        "quase um ano",
    ),
    "O problema começou {t}.": (
        "no carnaval",
        "há duas semanas",
        "no mês passado",
        "depois das últimas chuvas",
        "no ano passado",
    ),
    "Estamos esperando há {t}.": ("duas semanas", "um mês", "mais de três meses", "uns dez dias"),
    "Isso acontece {t}.": ("toda semana", "todo dia", "toda vez que chove", "desde o ano passado"),
    "Já reclamei {t} e nada.": ("três vezes", "várias vezes", "no mês passado", "pelo aplicativo"),
}
GENERICOS = (
    "Por favor, tomem providência.",
    "Aguardo retorno.",
    "Já liguei no 156 e nada foi feito.",
    "Conto com a prefeitura.",
    "Até quando vamos esperar?",
    "Espero que dessa vez resolvam.",
)
DESPEDIDAS = ("Obrigado.", "Obrigada.", "Grata.", "Att.", "Agradeço desde já.", "Um morador indignado.")
LOCAIS = (
    "na {rua}",
    "em frente ao número {num} da {rua}",
    "na esquina da {rua} com a {rua2}",
    "no bairro {bairro}",
    "perto da escola municipal do {bairro}",
    "na rua da minha casa",
    "ao lado do centro de saúde do {bairro}",
    "na {rua}, altura do número {num}",
    "aqui no {bairro}",
)
VAGAS = (
    "Continua do mesmo jeito {local}, ninguém veio resolver.",
    "Abri um chamado no mês passado e até hoje nada.",
    "Quero saber o andamento da minha solicitação anterior {local}.",
    "O serviço foi feito pela metade {local}.",
    "A equipe veio, olhou e foi embora sem fazer nada.",
    "Mesmo problema de sempre {local}. Cansei de reclamar.",
    "Reabrir o protocolo anterior, o problema voltou {local}.",
)
CANAIS = {
    "Telefone 156": 0.35,
    "Portal de serviços": 0.25,
    "Aplicativo PBH": 0.20,
    "WhatsApp": 0.12,
    "Presencial (BH Resolve)": 0.08,
}

TAXA_AMBIGUAS = 0.15
TAXA_VAGAS = 0.04
TAXA_ERROS_DIGITACAO = 0.10
TAXA_CURTAS = 0.08
TAXA_CATEGORIA_ERRADA = 0.03
TAXA_DADOS_PESSOAIS = 0.04
TAXA_SEM_BAIRRO = 0.05
TAXA_CAIXA_ALTA = 0.03

_GIRIAS = (
    ("você", "vc"),
    ("que ", "q "),
    ("porque", "pq"),
    ("não", "n"),
    ("está", "tá"),
    ("para", "pra"),
    ("também", "tb"),
    ("por favor", "pfv"),
)


def _sem_acento(texto: str) -> str:
    return unicodedata.normalize("NFKD", texto).encode("ascii", "ignore").decode()


def _digitar_mal(rng: np.random.Generator, texto: str) -> str:
    """Erros de quem digita rápido no celular: sem acento, abreviações, letras trocadas, sem pontuação."""
    if rng.random() < 0.7:
        texto = _sem_acento(texto)
    texto = texto.lower() if rng.random() < 0.7 else texto
    for certo, errado in _GIRIAS:
        if rng.random() < 0.6:
            texto = texto.replace(certo, errado)
    letras = list(texto)
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(1, max(len(letras) - 1, 2)))
        if i < len(letras) and letras[i].isalpha():
            letras[i] = letras[i] * 2 if rng.random() < 0.5 else ""
    texto = "".join(letras)
    if rng.random() < 0.5:
        texto = re.sub(r"[.,]", "", texto)
    return texto


def _preencher(rng: np.random.Generator, modelo: str, bairro: str) -> str:
    rua, rua2 = rng.choice(len(nomes.LOGRADOUROS), size=2, replace=False)
    local = str(rng.choice(LOCAIS)).format(
        rua=nomes.LOGRADOUROS[rua],
        rua2=nomes.LOGRADOUROS[rua2],
        num=int(rng.integers(10, 2500)),
        bairro=bairro,
    )
    return modelo.format(
        local=local, linha=int(rng.choice([1145, 4103, 5201, 8207, 9206, 30, 62, 64])), bairro=bairro
    )


def gerar_demandas(n: int, semente: int) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng([semente, 13])
    cats = list(CATEGORIAS)
    pesos = np.array(list(CATEGORIAS.values()))
    categoria = rng.choice(len(cats), size=n, p=pesos / pesos.sum())
    bairro = nomes.escolher(rng, nomes.BAIRROS, n)
    marcas: dict = {}

    def exatos(taxa: float, fora: np.ndarray | None = None) -> np.ndarray:
        pool = np.arange(n) if fora is None else np.setdiff1d(np.arange(n), fora)
        return np.sort(rng.choice(pool, size=min(int(round(taxa * n)), pool.size), replace=False))

    curtas = exatos(TAXA_CURTAS)
    ambiguas = exatos(TAXA_AMBIGUAS, curtas)
    vagas = exatos(TAXA_VAGAS, np.union1d(curtas, ambiguas))
    e_vaga = np.isin(np.arange(n), vagas)
    erros = exatos(TAXA_ERROS_DIGITACAO)
    caixa = exatos(TAXA_CAIXA_ALTA, erros)
    pessoais = exatos(TAXA_DADOS_PESSOAIS, curtas)
    e_curta = np.isin(np.arange(n), curtas)
    e_ambigua = np.isin(np.arange(n), ambiguas)
    e_erro = np.isin(np.arange(n), erros)
    e_caixa = np.isin(np.arange(n), caixa)
    e_pessoal = np.isin(np.arange(n), pessoais)
    cpfs = _formatar_cpf_array(_cpf_array(rng, n))

    textos = []
    for i in range(n):
        cat = cats[categoria[i]]
        relatos, detalhes, pedidos, curtinhas = TEXTOS[cat]
        b = bairro[i]
        if e_curta[i]:
            texto = _preencher(rng, str(rng.choice(curtinhas)), b)
        else:
            partes = []
            if rng.random() < 0.5:
                partes.append(str(rng.choice(ABERTURAS)).format(bairro=b))
            partes.append(_preencher(rng, str(rng.choice(VAGAS if e_vaga[i] else relatos)), b))
            if e_ambigua[i]:
                outra = str(rng.choice(AMBIGUAS[cat]))
                extra = (
                    PONTES[outra]
                    if rng.random() < 0.5
                    else _preencher(rng, str(rng.choice(TEXTOS[outra][1])), b)
                )
                partes.append(extra)
                if rng.random() < 0.4:
                    partes.append(str(rng.choice(TEXTOS[outra][2])))
            if rng.random() < 0.55 and not e_vaga[i]:
                partes.append(str(rng.choice(detalhes)))
            if rng.random() < 0.4:
                modelo = str(rng.choice(list(TEMPOS)))
                partes.append(modelo.format(t=rng.choice(TEMPOS[modelo])))
            r = rng.random()
            if r < 0.45 and not e_vaga[i]:
                partes.append(str(rng.choice(pedidos)))
            elif r < 0.8:
                partes.append(str(rng.choice(GENERICOS)))
            if e_pessoal[i]:
                if rng.random() < 0.5:
                    partes.append(
                        f"Meu telefone é (31) 9{rng.integers(0, 10_000):04d}-{rng.integers(0, 10_000):04d}."
                    )
                else:
                    partes.append(f"Meu CPF é {cpfs[i]}.")
            if rng.random() < 0.25:
                partes.append(str(rng.choice(DESPEDIDAS)))
            texto = " ".join(partes)
        if e_erro[i]:
            texto = _digitar_mal(rng, texto)
        if e_caixa[i]:
            texto = texto.upper()
        textos.append(texto)

    # categoria registrada pelo atendimento: uma parte está errada
    registrada = categoria.copy()
    erradas = exatos(TAXA_CATEGORIA_ERRADA)
    registrada[erradas] = (categoria[erradas] + rng.integers(1, len(cats), size=erradas.size)) % len(cats)
    sem_bairro = exatos(TAXA_SEM_BAIRRO)
    bairro_col = bairro.copy()
    bairro_col[sem_bairro] = None
    regional = np.array([nomes.REGIONAL_DO_BAIRRO[b] for b in bairro], dtype=object)
    regional[sem_bairro] = None
    marcas.update(
        curtas=curtas,
        ambiguas=ambiguas,
        vagas=vagas,
        erros_digitacao=erros,
        caixa_alta=caixa,
        dados_pessoais=pessoais,
        categoria_errada=erradas,
        sem_bairro=sem_bairro,
        categoria_verdadeira=categoria,
    )

    inicio = np.datetime64("2024-01-01T00:00", "s")
    segundos = np.sort(rng.integers(0, 366 * 86400, size=n))
    # mais demandas de dia: desloca metade das madrugadas para a tarde
    data = inicio + segundos.astype("timedelta64[s]")
    hora = (segundos % 86400) // 3600
    data = np.where((hora < 6) & (rng.random(n) < 0.8), data + np.timedelta64(10, "h"), data)
    ordem = np.argsort(data, kind="stable")
    canal = nomes.escolher(rng, list(CANAIS), n, p=np.array(list(CANAIS.values())))
    posicao = np.empty(n, dtype=int)
    posicao[ordem] = np.arange(n)
    marcas = {
        k: (np.sort(posicao[v]) if k != "categoria_verdadeira" else v[ordem]) for k, v in marcas.items()
    }

    df = pd.DataFrame(
        {
            "protocolo": pd.array([f"2024{i + 1:07d}" for i in range(n)], dtype="str"),
            "data_abertura": pd.to_datetime(data[ordem]),
            "canal": pd.Categorical(canal[ordem], categories=list(CANAIS)),
            "regional": pd.Categorical(regional[ordem], categories=nomes.REGIONAIS),
            "bairro": pd.array(bairro_col[ordem], dtype="str"),
            "texto": pd.array(np.array(textos, dtype=object)[ordem], dtype="str"),
            "categoria": pd.Categorical.from_codes(registrada[ordem], categories=cats),
        }
    )
    return df, marcas


# ----------------------------------------------------------------------------------------------------
# Catálogo
# ----------------------------------------------------------------------------------------------------


# As quatro medidas abaixo leem os textos gerados (não as marcas do gerador): cada mensagem é comparada,
# depois de normalizada (minúsculas, sem acentos nem pontuação, abreviações por extenso, letras repetidas
# juntadas), com as frases de cada categoria. Erros de digitação que apagam letras escapam de algumas
# comparações; por isso as medidas ficam um pouco abaixo da taxa, dentro da margem documentada.
_EXTENSO = {"q": "que", "n": "nao", "vc": "voce", "pq": "porque", "ta": "esta", "pra": "para", "tb": "tambem"}


def _normalizar(texto: str) -> str:
    texto = _sem_acento(texto.lower()).replace("pfv", "por favor")
    palavras = [
        _EXTENSO.get(p, p[:-1] + "que" if p.endswith("q") and len(p) > 2 else p)
        for p in re.sub(r"[^\w\s]", " ", texto).split()
    ]
    return re.sub(r"([a-z])\1+", r"\1", " ".join(palavras))


def _padrao(modelos, inteiro: bool = False) -> re.Pattern:
    """Uma regex que reconhece qualquer um dos modelos ({local}, {linha}... aceitam qualquer trecho)."""
    alternativas = []
    for modelo in modelos:
        literais = [re.escape(_normalizar(p)) for p in re.split(r"\{[a-z]+\}", modelo)]
        alternativas.append(r"\s*.+?\s*".join(literais))
    corpo = "|".join(f"(?:{a})" for a in alternativas if a)
    return re.compile(f"^(?:{corpo})$" if inteiro else corpo)


@cache
def _padroes() -> tuple[dict[str, re.Pattern], re.Pattern, re.Pattern]:
    por_categoria = {
        cat: _padrao([*relatos, *detalhes, *pedidos, *curtas, PONTES[cat]])
        for cat, (relatos, detalhes, pedidos, curtas) in TEXTOS.items()
    }
    curtas = _padrao([c for partes in TEXTOS.values() for c in partes[3]], inteiro=True)
    return por_categoria, _padrao(VAGAS), curtas


def _assuntos(df) -> list[set[str]]:
    por_categoria, _vagas, _curtas = _padroes()
    textos = [_normalizar(t) for t in df["texto"]]
    return [{cat for cat, padrao in por_categoria.items() if padrao.search(t)} for t in textos]


def _medir_ambiguas(df, _m):
    """Mensagens com frases de duas ou mais categorias."""
    return float(np.mean([len(a) >= 2 for a in _assuntos(df)]))


def _medir_vagas(df, _m):
    """Mensagens com uma frase vaga e nenhuma frase de categoria alguma."""
    _por_categoria, vagas, _curtas = _padroes()
    achadas = [
        not a and bool(vagas.search(_normalizar(t))) for t, a in zip(df["texto"], _assuntos(df), strict=True)
    ]
    return float(np.mean(achadas))


def _medir_curtas(df, _m):
    """Mensagens que são, inteiras, só a frase curta de um problema."""
    curtas = _padroes()[2]
    return float(np.mean([bool(curtas.match(_normalizar(t))) for t in df["texto"]]))


@cache
def _vocabulario() -> frozenset[str]:
    frases = [f for partes in TEXTOS.values() for grupo in partes for f in grupo]
    frases += [*PONTES.values(), *ABERTURAS, *GENERICOS, *DESPEDIDAS, *LOCAIS, *VAGAS, "Meu telefone é CPF"]
    frases += [*TEMPOS, *(t for ts in TEMPOS.values() for t in ts), *nomes.LOGRADOUROS, *nomes.BAIRROS]
    return frozenset(p for f in frases for p in re.findall(r"[^\W\d_]+", f.lower()))


def _medir_erros(df, _m):
    """Mensagens com alguma palavra fora do vocabulário das mensagens bem escritas (abreviação, sem acento,
    letra trocada)."""
    vocabulario = _vocabulario()
    return float(
        np.mean([any(p not in vocabulario for p in re.findall(r"[^\W\d_]+", t.lower())) for t in df["texto"]])
    )


def _medir_categoria_errada(df, m):
    return float((df["categoria"].cat.codes.to_numpy() != m["categoria_verdadeira"]).mean())


def _medir_sem_bairro(df, _m):
    return float(df["bairro"].isna().mean())


def _medir_pessoais(df, _m):
    padrao = r"\(31\) 9\d{4}-\d{4}|\d{3}\.?\d{3}\.?\d{3}-?\d{2}"
    return float(df["texto"].str.upper().str.contains(padrao).mean())


def _medir_caixa(df, _m):
    return float(df["texto"].str.isupper().mean())


def _medir_desbalanceamento(df, _m):
    contagem = df["categoria"].value_counts()
    return float(contagem.max() / max(contagem.min(), 1) >= 5)


def _medir_distintas(df, _m):
    return float(df["texto"].nunique() / len(df) >= 0.95)


def _conjuntos():
    from automatiza.dados.catalogo import Coluna, Conjunto, Peculiaridade, porcentagem

    distribuicao = "; ".join(f"{c} ({porcentagem(p)})" for c, p in CATEGORIAS.items())
    demandas = Conjunto(
        nome="demandas_cidadao",
        titulo="Demandas de cidadãos em texto livre",
        descricao=(
            "Pedidos e reclamações de moradores de Belo Horizonte, como chegam pelo 156, pelo portal, "
            "pelo aplicativo ou pelo WhatsApp, com a categoria registrada pelo atendimento. Serve para "
            "classificar textos e medir um classificador com honestidade (módulo 10) e para mascarar "
            f"dados pessoais (módulo 11). Categorias e participação esperada: {distribuicao}."
        ),
        tipo="tabela",
        unidade="demandas",
        n_padrao=2000,
        n_min=10,
        n_max=500_000,
        gerar=gerar_demandas,
        colunas=(
            Coluna("protocolo", "texto", "Número de protocolo (ano + sequencial de 7 dígitos)"),
            Coluna("data_abertura", "data e hora", "Quando a demanda foi registrada (ano de 2024)"),
            Coluna(
                "canal",
                "categoria",
                "Telefone 156, Portal de serviços, Aplicativo PBH, WhatsApp ou Presencial (BH Resolve)",
            ),
            Coluna(
                "regional",
                "categoria",
                "Regional de Belo Horizonte (vazia quando o bairro não foi informado)",
            ),
            Coluna("bairro", "texto", "Bairro informado pelo cidadão"),
            Coluna("texto", "texto", "A mensagem, como foi escrita"),
            Coluna("categoria", "categoria", "Categoria registrada pelo atendimento (o rótulo para treinar)"),
        ),
        peculiaridades=(
            Peculiaridade(
                "desbalanceamento",
                "Classes desbalanceadas: a maior tem mais de 5 vezes as demandas da menor",
                None,
                _medir_desbalanceamento,
            ),
            Peculiaridade(
                "distintas",
                "Pelo menos 95% dos textos são diferentes entre si (não é um modelo com uma lacuna)",
                None,
                _medir_distintas,
            ),
            Peculiaridade(
                "ambiguas",
                "{taxa} das mensagens misturam o assunto de duas categorias (árvore e "
                "poste, lixo e bueiro, buraco e alagamento...)",
                TAXA_AMBIGUAS,
                _medir_ambiguas,
            ),
            Peculiaridade(
                "vagas",
                '{taxa} das mensagens são vagas, sem pistas do assunto ("a equipe veio e '
                'foi embora sem fazer nada"): só o contexto do atendimento diria a categoria',
                TAXA_VAGAS,
                _medir_vagas,
            ),
            Peculiaridade(
                "erros_digitacao",
                "{taxa} das mensagens com erros de digitação, abreviações (vc, pq, tá) e sem acentos",
                TAXA_ERROS_DIGITACAO,
                _medir_erros,
            ),
            Peculiaridade(
                "curtas",
                '{taxa} das mensagens curtíssimas, só com o problema, como "poste apagado"',
                TAXA_CURTAS,
                _medir_curtas,
            ),
            Peculiaridade(
                "caixa_alta",
                "{taxa} das mensagens escritas em CAIXA ALTA",
                TAXA_CAIXA_ALTA,
                _medir_caixa,
                tolerancia=0.006,
            ),
            Peculiaridade(
                "categoria_errada",
                "{taxa} das demandas com a categoria registrada errada pelo "
                "atendimento (ruído no rótulo; nenhum classificador acerta 100%)",
                TAXA_CATEGORIA_ERRADA,
                _medir_categoria_errada,
            ),
            Peculiaridade(
                "dados_pessoais",
                "{taxa} das mensagens contêm telefone ou CPF (fictícios) para "
                "exercícios de mascaramento (LGPD)",
                TAXA_DADOS_PESSOAIS,
                _medir_pessoais,
            ),
            Peculiaridade(
                "sem_bairro",
                "{taxa} das demandas sem bairro (e sem regional)",
                TAXA_SEM_BAIRRO,
                _medir_sem_bairro,
            ),
        ),
        modulos=("10", "11"),
        n_teste=5000,
    )
    return (demandas,)


CONJUNTOS = _conjuntos()
