"""O catálogo de dados sintéticos: documentação completa, mensagens de erro e a página do dicionário."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from automatiza import dados

CONJUNTOS = dados.catalogo()
TABELAS = [c for c in CONJUNTOS.values() if c.tipo == "tabela"]
COMPARTILHADO = Path(__file__).resolve().parents[2] / "shared" / "data" / "municipios_mg.csv"


def test_catalogo_tem_os_conjuntos_pedidos():
    pedidos = {
        "processos_sei",
        "andamentos_sei",
        "contratos_obras",
        "medicoes_obras",
        "aditivos_obras",
        "fornecedores",
        "convenios_municipios",
        "demandas_cidadao",
        "pluviometros",
        "riscos",
        "prazos",
        "planilhas_regionais",
        "despachos",
        "modelo_oficio",
        "boletins_medicao_pdf",
    }
    assert pedidos <= set(CONJUNTOS)


@pytest.mark.parametrize("conjunto", CONJUNTOS.values(), ids=list(CONJUNTOS))
def test_cada_conjunto_esta_documentado(conjunto):
    assert len(conjunto.descricao) > 80
    assert conjunto.titulo and conjunto.unidade and conjunto.modulos
    assert conjunto.n_min <= conjunto.n_padrao <= conjunto.n_max
    assert conjunto.colunas, "todo conjunto descreve as suas colunas (ou as do gabarito)"
    assert conjunto.peculiaridades, "todo conjunto documenta ao menos uma peculiaridade"
    for col in conjunto.colunas:
        assert col.tipo and col.significado
    codigos = [q.codigo for q in conjunto.peculiaridades]
    assert len(codigos) == len(set(codigos))
    for q in conjunto.peculiaridades:
        assert "{taxa}" not in q.descricao
        if q.taxa is not None and "{taxa}" in q.texto:
            assert re.search(r"\d+(,\d+)?%", q.descricao)


@pytest.mark.parametrize("conjunto", TABELAS, ids=[c.nome for c in TABELAS])
def test_colunas_geradas_sao_as_documentadas(conjunto):
    df = dados.carregar(conjunto.nome, n=conjunto.n_min if conjunto.nome != "municipios_mg" else None)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == [c.nome for c in conjunto.colunas]
    for nome in df.columns:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", nome), f"coluna {nome!r} fora do padrão snake_case sem acento"


def test_listar():
    tabela = dados.listar()
    assert list(tabela.columns) == ["nome", "tipo", "descricao", "tamanho_padrao", "colunas"]
    assert set(tabela["nome"]) == set(CONJUNTOS)
    colunas = dados.listar("andamentos_sei")
    assert list(colunas.columns) == ["coluna", "tipo", "significado"]
    assert "numero_processo" in set(colunas["coluna"])


def test_tamanho_padrao_e_pequeno_e_rapido():
    df = dados.carregar("andamentos_sei")
    assert 2_000 < len(df) < 10_000


def test_nome_desconhecido_sugere_o_mais_parecido():
    with pytest.raises(dados.ErroDados, match='Você quis dizer "processos_sei"'):
        dados.carregar("processo_sei")
    with pytest.raises(dados.ErroDados, match="Não conheço"):
        dados.carregar("xyz")
    assert len(dados.carregar("Processos SEI", n=3)) == 3  # espaços e maiúsculas são perdoados


@pytest.mark.parametrize(
    "argumentos, trecho",
    [
        ({"n": 0}, "fora do intervalo"),
        ({"n": "dez"}, "número inteiro"),
        ({"n": True}, "número inteiro"),
        ({"n": 10**9}, "500.000"),
        ({"semente": -1}, "semente"),
        ({"semente": 1.5}, "semente"),
        ({"cor": "azul"}, "não aceita o parâmetro 'cor'"),
        ({"pasta": "/tmp"}, "pasta só vale"),
    ],
)
def test_parametros_invalidos_tem_mensagem_clara(argumentos, trecho):
    with pytest.raises(dados.ErroDados, match=re.escape(trecho)):
        dados.carregar("processos_sei", **argumentos)


def test_parametro_proprio_invalido():
    with pytest.raises(dados.ErroDados, match="aaaa-mm-dd"):
        dados.carregar("pluviometros", inicio="ontem")
    with pytest.raises(dados.ErroDados, match="aaaa-mm"):
        dados.carregar("planilhas_regionais", inicio="janeiro")


def test_dicionario_markdown():
    pagina = dados.dicionario_markdown()
    assert pagina.startswith("# Dicionário de dados\n")
    assert "```{admonition} Dados sintéticos" in pagina and "**dados sintéticos**" in pagina
    for trecho in ("Querido Diário", "Open Knowledge Brasil", "licença MIT"):
        assert trecho in pagina
    for c in CONJUNTOS.values():
        assert f"## `{c.nome}`" in pagina
        assert f"(dados-{c.nome.replace('_', '-')})=" in pagina
        for q in c.peculiaridades:
            assert q.descricao.replace("|", "\\|") in pagina
        for col in c.colunas:
            assert f"| `{col.nome}` |" in pagina
    # tabelas bem formadas: toda linha de tabela tem o mesmo número de colunas que o cabeçalho
    bloco: list[str] = []
    for linha in [*pagina.splitlines(), ""]:
        if linha.startswith("|"):
            bloco.append(linha)
        elif bloco:
            larguras = {len(re.split(r"(?<!\\)\|", b)) for b in bloco}
            assert len(larguras) == 1, bloco
            bloco = []


def test_municipios_no_pacote():
    df = dados.carregar("municipios_mg")
    assert len(df) == 853
    assert df["codigo_ibge"].str.fullmatch(r"31\d{5}").all()
    if COMPARTILHADO.is_file():
        from importlib import resources

        copia = resources.files("automatiza.dados").joinpath("municipios_mg.csv").read_bytes()
        assert copia == COMPARTILHADO.read_bytes()
