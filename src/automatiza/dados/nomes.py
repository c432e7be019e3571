"""Listas de nomes, lugares e palavras usadas pelos geradores (nenhum dado pessoal real).

Pessoas e empresas são combinações aleatórias de prenomes e sobrenomes comuns; regionais e bairros de
Belo Horizonte são nomes de lugares públicos, com a atribuição de bairro a regional simplificada.
"""

from __future__ import annotations

import numpy as np

PRENOMES = (
    "Ana Maria José João Antônio Francisco Carlos Paulo Pedro Lucas Luiz Marcos Luís Gabriel Rafael Daniel "
    "Marcelo Bruno Eduardo Felipe Raimundo Rodrigo Juliana Fernanda Patrícia Aline Sandra Camila Amanda "
    "Bruna Jéssica Letícia Júlia Luciana Vanessa Mariana Gabriela Vera Vitória Larissa Cláudia Beatriz "
    "Rita Sônia Renata Eliane Adriana Tatiane Simone Cristiane Débora Gustavo Thiago Leonardo Vinícius "
    "Geraldo Sebastião Wellington Wagner Denise Regina Helena Conceição Aparecida Rosângela Márcia Fábio"
).split()

SOBRENOMES = (
    "Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro Martins Carvalho "
    "Almeida Lopes Soares Fernandes Vieira Barbosa Rocha Dias Nascimento Andrade Moreira Nunes Marques "
    "Machado Mendes Freitas Cardoso Ramos Gonçalves Santana Teixeira Moura Campos Resende Guimarães "
    "Drummond Vasconcelos Tavares Coelho Pinheiro Rezende Fonseca Batista Araújo Castro Miranda Duarte"
).split()

REGIONAIS_BAIRROS: dict[str, tuple[str, ...]] = {
    "Barreiro": (
        "Barreiro",
        "Milionários",
        "Lindéia",
        "Diamante",
        "Jatobá",
        "Tirol",
        "Cardoso",
        "Bonsucesso",
    ),
    "Centro-Sul": (
        "Centro",
        "Savassi",
        "Funcionários",
        "Lourdes",
        "Santo Agostinho",
        "Serra",
        "Sion",
        "Anchieta",
        "Cruzeiro",
        "Mangabeiras",
        "Barro Preto",
        "Belvedere",
    ),
    "Leste": (
        "Santa Efigênia",
        "Floresta",
        "Santa Tereza",
        "Sagrada Família",
        "Horto",
        "Pompéia",
        "Esplanada",
        "Taquaril",
        "Alto Vera Cruz",
    ),
    "Nordeste": (
        "Cidade Nova",
        "União",
        "Ipiranga",
        "Palmares",
        "São Paulo",
        "Concórdia",
        "Cachoeirinha",
        "Goiânia",
    ),
    "Noroeste": (
        "Padre Eustáquio",
        "Carlos Prates",
        "Caiçaras",
        "Glória",
        "Dom Cabral",
        "Alípio de Melo",
        "Coração Eucarístico",
        "Pedro II",
    ),
    "Norte": (
        "Primeiro de Maio",
        "Jaqueline",
        "Tupi",
        "Heliópolis",
        "Guarani",
        "Floramar",
        "São Bernardo",
        "Planalto",
    ),
    "Oeste": (
        "Buritis",
        "Gutierrez",
        "Prado",
        "Calafate",
        "Nova Suíça",
        "Salgado Filho",
        "Estoril",
        "Havaí",
        "Cabana do Pai Tomás",
    ),
    "Pampulha": (
        "São Luiz",
        "Ouro Preto",
        "Castelo",
        "Jaraguá",
        "Santa Amélia",
        "Itapoã",
        "Bandeirantes",
        "Liberdade",
        "Santa Rosa",
    ),
    "Venda Nova": (
        "Venda Nova",
        "Santa Mônica",
        "Céu Azul",
        "Rio Branco",
        "Piratininga",
        "Mantiqueira",
        "Letícia",
        "Copacabana",
        "Serra Verde",
    ),
}
REGIONAIS = tuple(REGIONAIS_BAIRROS)
BAIRROS = tuple(b for bs in REGIONAIS_BAIRROS.values() for b in bs)
REGIONAL_DO_BAIRRO = {b: r for r, bs in REGIONAIS_BAIRROS.items() for b in bs}

LOGRADOUROS = (
    "Rua da Bahia",
    "Avenida Afonso Pena",
    "Rua dos Timbiras",
    "Avenida do Contorno",
    "Rua Itapecerica",
    "Avenida Amazonas",
    "Rua Padre Eustáquio",
    "Avenida Cristiano Machado",
    "Rua Jacuí",
    "Avenida Vilarinho",
    "Rua Pium-í",
    "Avenida Silva Lobo",
    "Rua Platina",
    "Avenida Sinfrônio Brochado",
    "Rua Gentios",
    "Rua Conselheiro Lafaiete",
    "Avenida Portugal",
    "Rua Itaú",
    "Avenida Antônio Carlos",
    "Rua Formiga",
    "Rua Niquelina",
    "Avenida dos Andradas",
    "Rua Tenente Garro",
    "Avenida Nossa Senhora do Carmo",
)

EMPRESA_INICIO = (
    "Construtora",
    "Engenharia",
    "Comércio de Materiais",
    "Serviços Gerais",
    "Tecnologia",
    "Distribuidora",
    "Transportes",
    "Consultoria",
    "Papelaria",
    "Limpeza e Conservação",
    "Informática",
    "Terraplenagem",
)
EMPRESA_MEIO = (
    "Horizonte",
    "Mineira",
    "Gerais",
    "Serra do Curral",
    "Pampulha",
    "Vale Verde",
    "Alvorada",
    "Ipê Amarelo",
    "Santa Luzia",
    "Itatiaia",
    "Estrela",
    "Nova Era",
    "Cidade Jardim",
    "Montes Claros",
    "Triângulo",
    "Aliança",
    "Progresso",
    "Contorno",
    "Liberdade",
    "Confiança",
    "Sete Lagoas",
    "Mantiqueira",
    "Canastra",
    "Jequitinhonha",
)
EMPRESA_SUFIXO = ("Ltda", "Ltda", "Ltda", "S.A.", "EIRELI", "ME", "EPP")


def escolher(rng: np.random.Generator, opcoes, n: int, p=None) -> np.ndarray:
    """`n` escolhas de `opcoes` (como vetor de objetos)."""
    opcoes = np.asarray(opcoes, dtype=object)
    return opcoes[rng.choice(len(opcoes), size=n, p=p)]


def nomes_pessoas(rng: np.random.Generator, n: int) -> np.ndarray:
    """Nomes completos sintéticos: prenome + 1 ou 2 sobrenomes."""
    pre = escolher(rng, PRENOMES, n)
    s1 = escolher(rng, SOBRENOMES, n)
    s2 = escolher(rng, SOBRENOMES, n)
    dois = (rng.random(n) < 0.6) & (s1 != s2)
    return np.array(
        [f"{a} {b} {c}" if d else f"{a} {c}" for a, b, c, d in zip(pre, s1, s2, dois, strict=True)],
        dtype=object,
    )


def nomes_empresas(rng: np.random.Generator, n: int) -> np.ndarray:
    """Razões sociais sintéticas, por exemplo "Construtora Serra do Curral Ltda"."""
    ini = escolher(rng, EMPRESA_INICIO, n)
    meio = escolher(rng, EMPRESA_MEIO, n)
    sob = escolher(rng, SOBRENOMES, n)
    suf = escolher(rng, EMPRESA_SUFIXO, n)
    sob2 = escolher(rng, SOBRENOMES, n)
    forma = rng.integers(0, 3, size=n)
    saida = []
    for i in range(n):
        if forma[i] == 0:
            saida.append(f"{ini[i]} {meio[i]} {suf[i]}")
        elif forma[i] == 1:
            saida.append(f"{sob[i]} {ini[i]} {suf[i]}")
        else:
            saida.append(f"{ini[i]} {sob[i]} & {sob2[i]} {suf[i]}")
    return np.array(saida, dtype=object)


def logins(nomes: np.ndarray) -> np.ndarray:
    """Logins no estilo "ana.souza" a partir de nomes (sem acentos, minúsculas), únicos."""
    import unicodedata

    vistos: dict[str, int] = {}
    saida = []
    for nome in nomes:
        partes = unicodedata.normalize("NFKD", nome).encode("ascii", "ignore").decode().lower().split()
        base = f"{partes[0]}.{partes[-1]}"
        vistos[base] = vistos.get(base, 0) + 1
        saida.append(base if vistos[base] == 1 else f"{base}{vistos[base]}")
    return np.array(saida, dtype=object)
