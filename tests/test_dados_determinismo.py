"""Mesma semente e mesmos parâmetros dão exatamente os mesmos dados, byte a byte; outra semente muda."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pandas as pd
import pytest

from automatiza import dados
from automatiza.dados import _gerar_com_marcas

CONJUNTOS = dados.catalogo()
TABELAS = [c.nome for c in CONJUNTOS.values() if c.tipo == "tabela"]
ARQUIVOS = [c.nome for c in CONJUNTOS.values() if c.tipo == "arquivos"]


def _bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


@pytest.mark.parametrize("nome", TABELAS)
def test_tabelas_deterministicas(nome):
    c = CONJUNTOS[nome]
    n = min(c.n_padrao, 300) if nome != "municipios_mg" else None
    a = dados.carregar(nome, n=n, semente=11)
    b = dados.carregar(nome, n=n, semente=11)
    pd.testing.assert_frame_equal(a, b)
    assert hashlib.sha256(_bytes(a)).digest() == hashlib.sha256(_bytes(b)).digest()
    if nome != "municipios_mg":
        outra = dados.carregar(nome, n=n, semente=12)
        assert _bytes(outra) != _bytes(a), "outra semente deveria dar outros dados"


def _arvore(pasta: Path) -> dict[str, bytes]:
    return {str(p.relative_to(pasta)): p.read_bytes() for p in sorted(pasta.rglob("*")) if p.is_file()}


def test_arquivos_identicos_byte_a_byte(tmp_path):
    """Gera tudo duas vezes, com mais de 2 s entre as duas (a resolução das datas nos ZIP), e compara."""
    primeira, segunda = tmp_path / "a", tmp_path / "b"
    for nome in ARQUIVOS:
        _gerar_com_marcas(nome, semente=5, pasta=primeira / nome)
    time.sleep(2.1)
    for nome in ARQUIVOS:
        _gerar_com_marcas(nome, semente=5, pasta=segunda / nome)
    a, b = _arvore(primeira), _arvore(segunda)
    assert a.keys() == b.keys()
    diferentes = [k for k in a if a[k] != b[k]]
    assert not diferentes, f"arquivos diferentes entre duas gerações: {diferentes}"
    assert any(k.endswith(".xlsx") for k in a) and any(k.endswith(".pdf") for k in a)
    assert any(k.endswith(".docx") for k in a)


def test_semente_muda_os_arquivos(tmp_path):
    _gerar_com_marcas("despachos", n=5, semente=1, pasta=tmp_path / "1")
    _gerar_com_marcas("despachos", n=5, semente=2, pasta=tmp_path / "2")
    assert _arvore(tmp_path / "1") != _arvore(tmp_path / "2")


def test_processos_e_andamentos_descrevem_os_mesmos_processos():
    processos = dados.carregar("processos_sei", n=200, semente=3)
    andamentos = dados.carregar("andamentos_sei", n=200, semente=3)
    assert set(andamentos["numero_processo"]) == set(processos["numero_processo"])
    contratos = dados.carregar("contratos_obras", n=30, semente=3)
    medicoes = dados.carregar("medicoes_obras", n=30, semente=3)
    aditivos = dados.carregar("aditivos_obras", n=30, semente=3)
    assert set(medicoes["numero_contrato"]) <= set(contratos["numero_contrato"])
    assert set(aditivos["numero_contrato"]) <= set(contratos["numero_contrato"])
