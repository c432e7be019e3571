"""Forma dos dados (rotas, horários, medições), escala reduzida, cache de arquivos e o classificador."""

from __future__ import annotations

import time
import tracemalloc

import pandas as pd
import pytest

from automatiza import dados
from automatiza.dados import sei


@pytest.fixture(scope="module")
def log():
    return dados.carregar("processos_sei", n=3000, semente=21), dados.carregar(
        "andamentos_sei", n=3000, semente=21
    )


def test_andamentos_respeitam_expediente_e_abertura(log):
    processos, andamentos = log
    hora = andamentos["data_hora"].dt.hour
    fora = (hora < 8) | (hora >= 18) | (andamentos["data_hora"].dt.day_of_week >= 5)
    assert fora.mean() < 0.005  # só a anomalia documentada
    feriados = pd.to_datetime(list(dados.feriados_bh(2023, 2025)))
    assert not andamentos["data_hora"].dt.normalize().isin(feriados).any()
    primeiro = andamentos[andamentos["sequencia"] == 1].drop_duplicates("numero_processo")
    junto = primeiro.merge(processos, on="numero_processo")
    assert (junto["data_hora"].dt.floor("min") == junto["data_abertura"]).all()
    assert andamentos["data_hora"].max() <= pd.Timestamp(sei.DATA_EXTRACAO)


def test_pregao_segue_as_fases_da_lei_14133(log):
    _, andamentos = log
    pregao = andamentos[andamentos["fase"].notna()]
    ordem = {f: i for i, f in enumerate(sei.FASES_14133)}
    fases = pregao.drop_duplicates().sort_values(["numero_processo", "sequencia"])["fase"].map(ordem)
    crescente = fases.groupby(pregao["numero_processo"]).apply(lambda s: s.is_monotonic_increasing)
    assert crescente.all()
    homologados = pregao.loc[pregao["atividade"] == "Adjudicação e homologação", "numero_processo"].nunique()
    assert homologados > 100


def test_retrabalho_e_variantes(log):
    _, andamentos = log
    a = andamentos.drop_duplicates().sort_values(["numero_processo", "sequencia"])
    variantes = a.groupby("numero_processo")["atividade"].agg(lambda s: " > ".join(s.astype(str)))
    assert variantes.nunique() > 40
    com_diligencia = a[a["atividade"].astype(str).str.startswith("Diligência")]["numero_processo"].nunique()
    assert 0.05 < com_diligencia / a["numero_processo"].nunique() < 0.4
    repetidas = a.groupby(["numero_processo", "atividade"], observed=True).size()
    assert (repetidas > 2).any()  # laços repetidos mais de uma vez


def test_processos_em_andamento_na_extracao(log):
    _, andamentos = log
    concluidos = andamentos.loc[
        andamentos["atividade"] == "Conclusão do processo", "numero_processo"
    ].nunique()
    total = andamentos["numero_processo"].nunique()
    assert 0.85 < concluidos / total < 0.99


def test_medicoes_conferem_com_os_contratos():
    contratos = dados.carregar("contratos_obras", n=60, semente=2)
    medicoes = dados.carregar("medicoes_obras", n=60, semente=2)
    planilha = medicoes.drop_duplicates(["numero_contrato", "item"])
    assert medicoes["numero_medicao"].min() == 1
    assert (medicoes["data_medicao"].dt.is_month_end).all()
    assert (planilha["quantidade_projeto"] > 0).all()
    por_contrato = medicoes.groupby("numero_contrato")["valor_acumulado"].last()
    assert (por_contrato > 0).all()
    assert set(por_contrato.index) <= set(contratos["numero_contrato"])


def test_escala_reduzida_do_log_de_eventos():
    """Um décimo do benchmark (cerca de 100 mil andamentos) em poucos segundos e com memória contida."""
    n = int(100_000 / sei.eventos_medios_por_processo()) + 1
    inicio = time.perf_counter()
    andamentos = dados.carregar("andamentos_sei", n=n, semente=1)
    segundos = time.perf_counter() - inicio
    assert len(andamentos) >= 95_000
    assert segundos < 8, f"{len(andamentos)} andamentos levaram {segundos:.1f} s"
    tracemalloc.start()
    try:
        dados.carregar("andamentos_sei", n=n // 4, semente=1)
        _, pico = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pico < 200 * 2**20
    assert andamentos.memory_usage(deep=True).sum() < 60 * 2**20


def test_arquivos_em_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOMATIZA_DADOS", str(tmp_path / "cache"))
    assert dados.pasta_dados() == tmp_path / "cache"
    pasta = dados.carregar("despachos", n=4)
    assert pasta.parent == tmp_path / "cache" and pasta.name.startswith("despachos-")
    assert sorted(p.name for p in pasta.glob("*.txt")) == [f"despacho_00{i}.txt" for i in range(1, 5)]
    marca = (pasta / "despacho_001.txt").stat().st_mtime_ns
    time.sleep(0.05)
    assert dados.carregar("despachos", n=4) == pasta
    assert (pasta / "despacho_001.txt").stat().st_mtime_ns == marca, "não deveria gerar de novo"
    assert dados.carregar("despachos", n=5) != pasta
    outra = dados.carregar("despachos", n=4, pasta=tmp_path / "minha")
    assert outra.parent == tmp_path / "minha"
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")], (
        "sobrou pasta temporária"
    )
    gabarito = dados.carregar("despachos", n=4, gabarito=True)
    assert isinstance(gabarito, pd.DataFrame) and len(gabarito) == 4


def test_pasta_incompleta_e_regenerada(tmp_path):
    pasta = dados.carregar("modelo_oficio", n=3, pasta=tmp_path)
    (pasta / ".completo").unlink()
    (pasta / "modelo_oficio.docx").unlink()
    assert dados.carregar("modelo_oficio", n=3, pasta=tmp_path) == pasta
    assert (pasta / "modelo_oficio.docx").is_file()


def test_oficios_em_lote(tmp_path):
    from docx import Document
    from docxtpl import DocxTemplate

    pasta = dados.carregar("modelo_oficio", n=3, pasta=tmp_path)
    destinatarios = pd.read_csv(pasta / "destinatarios.csv", sep=";", dtype=str)
    for i, linha in destinatarios.iterrows():
        modelo = DocxTemplate(pasta / "modelo_oficio.docx")
        modelo.render(linha.to_dict())
        modelo.save(tmp_path / f"oficio_{i}.docx")
        texto = "\n".join(p.text for p in Document(tmp_path / f"oficio_{i}.docx").paragraphs)
        assert linha["municipio"] in texto and linha["valor_repasse"] in texto and "{{" not in texto


def test_classificador_tfidf_aprende_mas_nao_acerta_tudo():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    df = dados.carregar("demandas_cidadao", n=4000, semente=33)
    treino, teste = train_test_split(df, test_size=0.25, random_state=0, stratify=df["categoria"])
    modelo = make_pipeline(TfidfVectorizer(sublinear_tf=True), LinearSVC())
    modelo.fit(treino["texto"], treino["categoria"])
    previsto = modelo.predict(teste["texto"])
    acuracia = accuracy_score(teste["categoria"], previsto)
    f1_macro = f1_score(teste["categoria"], previsto, average="macro")
    maioria = teste["categoria"].value_counts(normalize=True).max()
    assert acuracia > maioria + 0.5, "o texto deveria ter sinal de verdade"
    assert 0.75 < acuracia < 0.97, f"acurácia {acuracia:.3f}: fácil ou difícil demais"
    assert f1_macro < acuracia + 0.02 and f1_macro > 0.6
    # embaralhar os rótulos derruba o classificador: o sinal está no texto, não em artefatos
    embaralhado = treino["categoria"].sample(frac=1, random_state=1).to_numpy()
    modelo.fit(treino["texto"], embaralhado)
    assert accuracy_score(teste["categoria"], modelo.predict(teste["texto"])) < maioria + 0.05


def test_pasta_dos_dados_vem_do_ambiente(tmp_path, monkeypatch):
    """AUTOMATIZA_DADOS decides where file datasets go; without it, XDG_CACHE_HOME; nothing goes elsewhere."""
    monkeypatch.setenv("AUTOMATIZA_DADOS", str(tmp_path / "escolhida"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    pasta = dados.carregar("despachos", n=2, semente=3)
    assert pasta.parent == tmp_path / "escolhida"
    assert not (tmp_path / "cache").exists()
    monkeypatch.delenv("AUTOMATIZA_DADOS")
    assert dados.pasta_dados() == tmp_path / "cache" / "automatiza" / "dados"


def test_andamentos_por_processo_documentados_conferem_com_os_dados():
    """The size the catalog prints ('cerca de N andamentos por processo') matches generated data."""
    andamentos = dados.carregar("andamentos_sei", n=2000, semente=11)
    observado = andamentos.groupby("numero_processo").size().mean()
    assert observado == pytest.approx(sei.eventos_medios_por_processo(), rel=0.15)


@pytest.mark.parametrize("nome", [c.nome for c in dados.catalogo().values() if c.tipo == "tabela"])
def test_textos_sem_lacunas_de_modelo(nome):
    df = dados.carregar(
        nome, n=None if nome == "municipios_mg" else min(dados.catalogo()[nome].n_padrao, 400)
    )
    for coluna in df.columns:
        if df[coluna].dtype == object or str(df[coluna].dtype) in ("str", "string", "category"):
            texto = df[coluna].dropna().astype(str)
            assert not texto.str.contains(r"[{}]").any(), f"{nome}.{coluna} tem {{ }} sobrando"
            assert not texto.str.contains(r"\bnan\b|None").any(), f"{nome}.{coluna} tem nan/None como texto"


def test_pasta_sem_permissao_da_erro_claro(tmp_path):
    arquivo = tmp_path / "um_arquivo.txt"
    arquivo.write_text("não é pasta", encoding="utf-8")
    with pytest.raises(dados.ErroDados, match="AUTOMATIZA_DADOS"):
        dados.carregar("despachos", n=2, pasta=arquivo / "sub")
