"""Material em arquivos para as lições de automação, gerado por código (nada é versionado à mão).

- `planilhas_regionais`: planilhas mensais das nove regionais de Belo Horizonte, em formatos bagunçados.
- `despachos`: despachos do SEI em texto, para praticar expressões regulares.
- `modelo_oficio`: um modelo de ofício em Word (docxtpl) e a lista de destinatários para gerar em lote.
- `boletins_medicao_pdf`: boletins de medição de obras em PDF com tabelas, para extrair com pdfplumber.

Tudo é determinístico byte a byte: datas fixas nos metadados dos arquivos e nos ZIPs (XLSX, DOCX).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from automatiza.dados import nomes
from automatiza.dados.calendario import MESES
from automatiza.dados.documentos import _cnpj_array, _formatar_cnpj_array, _numeros_sei

DATA_FIXA = dt.datetime(2025, 1, 31, 12, 0, 0, tzinfo=dt.UTC)
_ZIP_DATA = (2025, 1, 31, 12, 0, 0)
POR_EXTENSO = (
    "zero",
    "um",
    "dois",
    "três",
    "quatro",
    "cinco",
    "seis",
    "sete",
    "oito",
    "nove",
    "dez",
    "onze",
    "doze",
    "treze",
    "quatorze",
    "quinze",
    "dezesseis",
    "dezessete",
    "dezoito",
    "dezenove",
    "vinte",
    "vinte e um",
    "vinte e dois",
    "vinte e três",
    "vinte e quatro",
    "vinte e cinco",
    "vinte e seis",
    "vinte e sete",
    "vinte e oito",
    "vinte e nove",
    "trinta",
)


def slug(texto: str) -> str:
    """'Centro-Sul' -> 'centro_sul' (sem acentos, minúsculas)."""
    base = unicodedata.normalize("NFKD", texto).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", base).strip("_")


def moeda(valor: float, simbolo: bool = False) -> str:
    """1234.5 -> '1.234,50' (ou 'R$ 1.234,50')."""
    texto = f"{valor:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"R$ {texto}" if simbolo else texto


def numero_br(valor: float, casas: int = 2) -> str:
    texto = f"{valor:,.{casas}f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return texto


def data_extenso(d: dt.date) -> str:
    return f"{d.day} de {MESES[d.month - 1]} de {d.year}"


def _normalizar_zip(caminho: Path) -> None:
    """Regrava um arquivo ZIP (XLSX, DOCX) com datas fixas, para ele sair igual byte a byte."""
    with zipfile.ZipFile(caminho) as z:
        itens = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    fixa = DATA_FIXA.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for nome, dados in itens:
            if nome == "docProps/core.xml":
                dados = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>" + fixa + rb"\g<2>", dados
                )
            info = zipfile.ZipInfo(nome, date_time=_ZIP_DATA)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, dados)
    caminho.write_bytes(buffer.getvalue())


# ====================================================================================================
# planilhas_regionais
# ====================================================================================================

SERVICOS_REGIONAIS = (
    ("Tapa-buraco", "m²", 95.0),
    ("Limpeza de boca de lobo", "un", 180.0),
    ("Poda de árvore", "un", 320.0),
    ("Troca de lâmpada", "un", 140.0),
    ("Capina e roçada", "m²", 2.8),
    ("Recolhimento de entulho", "m³", 75.0),
    ("Pintura de meio-fio", "m", 4.5),
)
REGIONAIS_CSV = ("Barreiro", "Centro-Sul", "Leste", "Nordeste")
CABECALHO_CSV = ("Data", "Bairro", "Serviço", "Qtde", "Unid.", "Valor (R$)", "Equipe")
CABECALHO_XLSX = (
    "Código interno",
    "DATA",
    "BAIRRO",
    "SERVIÇO",
    "QUANTIDADE",
    "UNIDADE",
    "VALOR TOTAL",
    "EQUIPE",
)
TAXA_CSV_TOTAL = 0.25  # dos arquivos CSV terminam com uma linha de total
TAXA_VALOR_RS = 0.10  # das linhas dos CSV têm o valor com "R$ "


def _meses(n: int, inicio: str) -> list[np.datetime64]:
    primeiro = np.datetime64(inicio, "M")
    return [primeiro + i for i in range(n)]


def _validar_mes(valor) -> str:
    texto = str(valor)
    if not re.fullmatch(r"\d{4}-\d{2}", texto):
        raise ValueError('use o mês no formato aaaa-mm, por exemplo "2024-01"')
    np.datetime64(texto, "M")
    return texto


def _tabela_regionais(n: int, semente: int, inicio: str = "2024-01") -> tuple[pd.DataFrame, dict]:
    """A verdade limpa por trás das planilhas, e quais arquivos faltam ou têm defeitos."""
    rng = np.random.default_rng([semente, 29])
    meses = _meses(n, inicio)
    linhas = []
    precos = np.array([s[2] for s in SERVICOS_REGIONAIS])
    for r in nomes.REGIONAIS:
        for mes in meses:
            k = int(rng.integers(25, 70))
            dias = np.arange(mes.astype("datetime64[D]"), (mes + 1).astype("datetime64[D]"))
            dias = dias[np.is_busday(dias)]
            data = np.sort(rng.choice(dias, size=k))
            serv = rng.choice(len(SERVICOS_REGIONAIS), size=k, p=[0.3, 0.15, 0.12, 0.15, 0.12, 0.1, 0.06])
            unidade = np.array([SERVICOS_REGIONAIS[s][1] for s in serv])
            qtd = np.where(
                unidade == "un", rng.integers(1, 12, size=k), np.round(rng.gamma(2.0, 40.0, size=k) + 1, 2)
            )
            valor = np.round(qtd * precos[serv] * rng.uniform(0.95, 1.05, size=k), 2)
            for j in range(k):
                linhas.append(
                    (
                        r,
                        str(mes),
                        pd.Timestamp(data[j]),
                        str(rng.choice(nomes.REGIONAIS_BAIRROS[r])),
                        SERVICOS_REGIONAIS[serv[j]][0],
                        float(qtd[j]),
                        str(unidade[j]),
                        float(valor[j]),
                        f"Equipe {int(rng.integers(1, 5))}",
                    )
                )
    df = pd.DataFrame(
        linhas,
        columns=[
            "regional",
            "mes_referencia",
            "data",
            "bairro",
            "servico",
            "quantidade",
            "unidade",
            "valor",
            "equipe",
        ],
    )
    marcas: dict = {}
    falta = None
    if n >= 2:
        falta = (str(rng.choice(nomes.REGIONAIS)), str(meses[int(rng.integers(1, n))]))
        df = df[~((df["regional"] == falta[0]) & (df["mes_referencia"] == falta[1]))].reset_index(drop=True)
    marcas["falta"] = falta
    csvs = [(r, str(m)) for r in REGIONAIS_CSV for m in meses if (r, str(m)) != falta]
    idx = rng.permutation(len(csvs))[: int(round(TAXA_CSV_TOTAL * len(csvs)))]
    marcas["csv_com_total"] = sorted(csvs[i] for i in idx)
    eh_csv = df["regional"].isin(REGIONAIS_CSV).to_numpy()
    linhas_csv = np.flatnonzero(eh_csv)
    marcas["valor_rs"] = np.sort(
        rng.choice(linhas_csv, size=int(round(TAXA_VALOR_RS * linhas_csv.size)), replace=False)
    )
    return df, marcas


def gabarito_regionais(n: int, semente: int, inicio: str = "2024-01") -> pd.DataFrame:
    return _tabela_regionais(n, semente, inicio)[0]


def _nome_arquivo(regional: str, mes: str, ext: str) -> str:
    return f"{slug(regional)}/{mes}_{slug(regional)}.{ext}"


def gerar_planilhas_regionais(pasta: Path, n: int, semente: int, inicio: str = "2024-01") -> dict:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    df, marcas = _tabela_regionais(n, semente, inicio)
    com_rs = np.zeros(len(df), dtype=bool)
    com_rs[marcas["valor_rs"]] = True
    marcas["gabarito"] = df
    df = df.assign(com_rs=com_rs)
    for (regional, mes), parte in df.groupby(["regional", "mes_referencia"], sort=True):
        if regional in REGIONAIS_CSV:
            destino = pasta / _nome_arquivo(regional, mes, "csv")
            destino.parent.mkdir(parents=True, exist_ok=True)
            linhas = [";".join(CABECALHO_CSV)]
            for row in parte.itertuples():
                valor = moeda(row.valor, simbolo=row.com_rs)
                linhas.append(
                    ";".join(
                        [
                            row.data.strftime("%d/%m/%Y"),
                            row.bairro,
                            row.servico,
                            numero_br(row.quantidade, 0 if row.unidade == "un" else 2),
                            row.unidade,
                            valor,
                            row.equipe,
                        ]
                    )
                )
            if (regional, mes) in marcas["csv_com_total"]:
                linhas.append(";".join(["TOTAL", "", "", "", "", moeda(parte["valor"].sum()), ""]))
            destino.write_bytes(("\r\n".join(linhas) + "\r\n").encode("latin-1"))
        else:
            destino = pasta / _nome_arquivo(regional, mes, "xlsx")
            destino.parent.mkdir(parents=True, exist_ok=True)
            wb = Workbook()
            wb.properties.creator = "automatiza.dados"
            wb.properties.created = DATA_FIXA.replace(tzinfo=None)
            ws = wb.active
            ws.title = "Serviços"
            ano, m = mes.split("-")
            ws["A1"] = f"PREFEITURA DE BELO HORIZONTE - REGIONAL {regional.upper()}"
            ws["A2"] = f"Serviços de manutenção executados - {MESES[int(m) - 1]}/{ano}"
            ws.merge_cells("A1:H1")
            ws.merge_cells("A2:H2")
            ws["A1"].font = Font(bold=True, size=14)
            ws["A1"].alignment = Alignment(horizontal="center")
            ws["A2"].alignment = Alignment(horizontal="center")
            ws.append([])
            ws.append(list(CABECALHO_XLSX))
            for c in ws[4]:
                c.font = Font(bold=True)
            for i, row in enumerate(parte.itertuples()):
                ws.append(
                    [
                        f"{slug(regional)[:3].upper()}-{mes.replace('-', '')}-{i + 1:03d}",
                        row.data.to_pydatetime(),
                        row.bairro,
                        row.servico.upper(),
                        row.quantidade,
                        row.unidade,
                        row.valor,
                        row.equipe,
                    ]
                )
                ws.cell(row=ws.max_row, column=2).number_format = "DD/MM/YYYY"
                ws.cell(row=ws.max_row, column=7).number_format = "#,##0.00"
            ultima = ws.max_row
            ws.append([])
            ws.append([None, "TOTAL", None, None, None, None, f"=SUM(G5:G{ultima})", None])
            ws.append([None, "Fonte: Gerência Regional de Manutenção. Dados sujeitos a revisão."])
            ws.column_dimensions["A"].hidden = True
            for col, largura in zip("BCDEFGH", (12, 22, 26, 12, 10, 14, 10), strict=True):
                ws.column_dimensions[col].width = largura
            wb.save(destino)
            _normalizar_zip(destino)
    leia = (
        "Planilhas mensais de serviços de manutenção das nove "
        "regionais de Belo Horizonte (dados sintéticos).\n"
        "Cada regional manda do seu jeito: veja o dicionário de dados do curso.\n"
    )
    (pasta / "LEIAME.txt").write_text(leia, encoding="utf-8")
    return marcas


def _medir_csv_latin1(pasta: Path, _m) -> float:
    csvs = sorted(pasta.glob("*/*.csv"))
    ok = []
    for c in csvs:
        dados = c.read_bytes()
        try:
            dados.decode("utf-8")
            ok.append(False)
        except UnicodeDecodeError:
            texto = dados.decode("latin-1")
            ok.append(texto.startswith("Data;Bairro;Serviço;") and "," in texto)
    return float(bool(csvs) and all(ok))


def _medir_xlsx(pasta: Path, _m) -> float:
    from openpyxl import load_workbook

    arquivos = sorted(pasta.glob("*/*.xlsx"))
    ok = []
    for a in arquivos:
        ws = load_workbook(a).active
        ok.append(
            bool(ws.merged_cells.ranges)
            and ws.column_dimensions["A"].hidden
            and ws.cell(row=4, column=2).value == "DATA"
            and any(ws.cell(row=r, column=2).value == "TOTAL" for r in range(ws.max_row - 2, ws.max_row + 1))
        )
    return float(bool(arquivos) and all(ok))


def _medir_falta(pasta: Path, m) -> float:
    n_meses = len({p.name[:7] for p in pasta.glob("*/*.*")})
    total = len(list(pasta.glob("*/*.csv"))) + len(list(pasta.glob("*/*.xlsx")))
    return float(total == 9 * n_meses - 1)


def _medir_csv_total(pasta: Path, _m) -> float:
    csvs = sorted(pasta.glob("*/*.csv"))
    com = [c.read_bytes().decode("latin-1").rstrip().splitlines()[-1].startswith("TOTAL") for c in csvs]
    return float(np.mean(com))


def _medir_valor_rs(pasta: Path, _m) -> float:
    linhas = []
    for c in sorted(pasta.glob("*/*.csv")):
        texto = c.read_bytes().decode("latin-1").splitlines()[1:]
        linhas += [ln for ln in texto if ln and not ln.startswith("TOTAL")]
    return float(np.mean(["R$ " in ln for ln in linhas]))


def _medir_consolida(pasta: Path, m) -> float:
    """Lê tudo do jeito certo e confere com o gabarito."""
    partes = []
    for c in sorted(pasta.glob("*/*.csv")):
        df = pd.read_csv(
            c, sep=";", encoding="latin-1", decimal=",", thousands=".", dtype={"Valor (R$)": str}
        )
        df = df[df["Data"] != "TOTAL"]
        df["valor"] = df["Valor (R$)"].str.replace("R$ ", "", regex=False).str.replace(".", "", regex=False)
        df["valor"] = df["valor"].str.replace(",", ".", regex=False).astype(float)
        partes.append(
            pd.DataFrame(
                {
                    "data": pd.to_datetime(df["Data"], format="%d/%m/%Y"),
                    "quantidade": df["Qtde"].astype(float),
                    "valor": df["valor"],
                }
            )
        )
    for x in sorted(pasta.glob("*/*.xlsx")):
        df = pd.read_excel(x, header=3)
        df = df[pd.to_datetime(df["DATA"], errors="coerce").notna()]
        partes.append(
            pd.DataFrame(
                {
                    "data": pd.to_datetime(df["DATA"]),
                    "quantidade": df["QUANTIDADE"].astype(float),
                    "valor": df["VALOR TOTAL"].astype(float),
                }
            )
        )
    tudo = pd.concat(partes)
    gabarito = m["gabarito"]
    return float(
        len(tudo) == len(gabarito)
        and abs(tudo["valor"].sum() - gabarito["valor"].sum()) < 0.01
        and abs(tudo["quantidade"].sum() - gabarito["quantidade"].sum()) < 0.01
    )


# ====================================================================================================
# despachos
# ====================================================================================================

UNIDADES_DESPACHO = (
    ("SEPLAG/DCC", "Diretoria Central de Compras"),
    ("SEPLAG/DFI", "Diretoria de Finanças"),
    ("SEPLAG/AJ", "Assessoria Jurídica"),
    ("SEPLAG/GAB", "Gabinete"),
    ("SEPLAG/DLOG", "Diretoria de Logística"),
)
OBJETOS_DESPACHO = (
    "serviços de limpeza e conservação",
    "manutenção predial",
    "fornecimento de material de escritório",
    "vigilância patrimonial",
    "locação de veículos",
    "serviços de copeiragem",
)
CORPOS = {
    "Autorização de pagamento": (
        "Considerando o atesto da nota fiscal nº {nf}, no valor de R$ {valor}, referente a {objeto}, "
        "AUTORIZO o pagamento à empresa {empresa} e encaminho o processo à Diretoria de Finanças, que deverá "
        "efetuá-lo em até {prazo} ({prazo_ext}) dias úteis."
    ),
    "Notificação para defesa prévia": (
        "Notifique-se a empresa {empresa} para, no prazo de {prazo} ({prazo_ext}) dias úteis, contados da "
        "intimação, apresentar defesa prévia quanto ao descumprimento contratual apontado pela fiscalização, "
        "sujeito a multa de R$ {valor}, nos termos do art. 157 da Lei nº 14.133, de 2021."
    ),
    "Encaminhamento para análise jurídica": (
        "Encaminho à Assessoria Jurídica a minuta do edital para "
        "contratação de {objeto}, com valor estimado de "
        "R$ {valor}, e solicito manifestação no prazo de {prazo} ({prazo_ext}) dias úteis."
    ),
    "Prorrogação de prazo": (
        "DEFIRO o pedido da empresa {empresa} e prorrogo por {prazo} ({prazo_ext}) dias úteis o prazo para "
        "entrega dos documentos, mantido o valor contratual de R$ {valor}, referente a {objeto}."
    ),
    "Homologação": (
        "HOMOLOGO o resultado do Pregão Eletrônico nº {pe}/{ano}, "
        "para {objeto}, e adjudico o objeto à empresa "
        "{empresa}, pelo valor global de R$ {valor}. Convoque-se a "
        "adjudicatária para assinar o contrato em até "
        "{prazo} ({prazo_ext}) dias úteis."
    ),
}
TAXA_PROC_SEM_PONTUACAO = 0.20
TAXA_DATA_EXTENSO = 0.30
TAXA_CRLF = 0.10
TAXA_LATIN1 = 0.10


def _tabela_despachos(n: int, semente: int):
    rng = np.random.default_rng([semente, 31])
    ano = rng.choice([2024, 2025], size=n)
    numeros = _numeros_sei(
        np.full(n, 1500),
        rng.integers(1, 14, size=n),
        20_000 + np.arange(n) * 29 + rng.integers(0, 29, size=n),
        ano,
    )
    dias = np.array([f"{a}-01-01" for a in ano], dtype="datetime64[D]") + rng.integers(0, 330, size=n).astype(
        "timedelta64[D]"
    )
    dias = np.busday_offset(dias, 0, roll="forward")
    valor = np.round(np.exp(rng.normal(10.5, 1.2, size=n)), 2)
    prazo = rng.choice([3, 5, 10, 15], size=n)
    empresas = nomes.nomes_empresas(rng, n)
    cnpjs = _formatar_cnpj_array(_cnpj_array(rng, n))
    tipos = nomes.escolher(rng, list(CORPOS), n)
    assinantes = nomes.nomes_pessoas(rng, n)
    marcas: dict = {}
    ordem = rng.permutation(n)
    marcas["proc_sem_pontuacao"] = np.sort(ordem[: int(round(TAXA_PROC_SEM_PONTUACAO * n))])
    marcas["data_extenso"] = np.sort(rng.permutation(n)[: int(round(TAXA_DATA_EXTENSO * n))])
    marcas["crlf"] = np.sort(rng.permutation(n)[: int(round(TAXA_CRLF * n))])
    marcas["latin1"] = np.sort(rng.permutation(n)[: int(round(TAXA_LATIN1 * n))])
    gabarito = pd.DataFrame(
        {
            "arquivo": [f"despacho_{i + 1:03d}.txt" for i in range(n)],
            "tipo": tipos,
            "numero_processo": numeros,
            "data_despacho": pd.to_datetime(dias),
            "valor": valor,
            "prazo_dias_uteis": prazo.astype(int),
            "empresa": empresas,
            "cnpj": cnpjs,
        }
    )
    extras = {
        "nf": rng.integers(1000, 99999, size=n),
        "pe": rng.integers(10, 400, size=n),
        "objeto": nomes.escolher(rng, OBJETOS_DESPACHO, n),
        "unidade": rng.integers(0, len(UNIDADES_DESPACHO), n),
        "numero_despacho": rng.integers(10, 900, size=n),
        "assinante": assinantes,
        "masp": rng.integers(1_000_000, 9_999_999, size=n),
    }
    return gabarito, marcas, extras


def gabarito_despachos(n: int, semente: int) -> pd.DataFrame:
    return _tabela_despachos(n, semente)[0]


def gerar_despachos(pasta: Path, n: int, semente: int) -> dict:
    gabarito, marcas, ex = _tabela_despachos(n, semente)
    for i, g in enumerate(gabarito.itertuples()):
        sigla, nome_unidade = UNIDADES_DESPACHO[ex["unidade"][i]]
        numero = g.numero_processo
        if i in marcas["proc_sem_pontuacao"]:
            numero = re.sub(r"\D", "", numero)
        d = g.data_despacho.date()
        data = data_extenso(d) if i in marcas["data_extenso"] else d.strftime("%d/%m/%Y")
        corpo = CORPOS[g.tipo].format(
            nf=ex["nf"][i],
            valor=moeda(g.valor),
            objeto=ex["objeto"][i],
            empresa=g.empresa,
            prazo=g.prazo_dias_uteis,
            prazo_ext=POR_EXTENSO[g.prazo_dias_uteis],
            pe=ex["pe"][i],
            ano=d.year,
        )
        masp = f"{ex['masp'][i]:07d}"
        linhas = [
            "GOVERNO DO ESTADO DE MINAS GERAIS",
            "Secretaria de Estado de Planejamento e Gestão",
            nome_unidade,
            "",
            f"Despacho nº {ex['numero_despacho'][i]}/{d.year}/{sigla}",
            "",
            f"Processo SEI nº {numero}",
            f"Interessado: {g.empresa}, CNPJ {g.cnpj}",
            f"Assunto: {g.tipo}",
            "",
            corpo,
            "",
            f"Belo Horizonte, {data}.",
            "",
            "(documento assinado eletronicamente)",
            str(ex["assinante"][i]),
            "Diretor(a)" if sigla != "SEPLAG/GAB" else "Chefe de Gabinete",
            f"MASP {masp[0]}.{masp[1:4]}.{masp[4:7]}-{_digito_masp(masp)}",
        ]
        fim = "\r\n" if i in marcas["crlf"] else "\n"
        codificacao = "latin-1" if i in marcas["latin1"] else "utf-8"
        (pasta / g.arquivo).write_bytes((fim.join(linhas) + fim).encode(codificacao))
    return {**marcas, "gabarito": gabarito}


def _digito_masp(masp: str) -> int:
    """Dígito verificador sintético (módulo 11) de um MASP de 7 algarismos, escrito como 1.127.505-7."""
    resto = sum(int(a) * p for a, p in zip(masp, range(8, 1, -1), strict=True)) % 11
    return 0 if resto < 2 else 11 - resto


PADRAO_PROCESSO = re.compile(r"\b(\d{4}\.?\d{2}\.?\d{7}/?\d{4}-?\d{2})\b")


def _ler_despachos(pasta: Path) -> list[tuple[str, str]]:
    saida = []
    for a in sorted(pasta.glob("despacho_*.txt")):
        dados = a.read_bytes()
        try:
            texto = dados.decode("utf-8")
        except UnicodeDecodeError:
            texto = dados.decode("latin-1")
        saida.append((a.name, texto))
    return saida


def _medir_proc_sem_pontuacao(pasta: Path, _m) -> float:
    achados = [PADRAO_PROCESSO.search(t).group(1) for _, t in _ler_despachos(pasta)]
    return float(np.mean(["." not in p for p in achados]))


def _medir_data_extenso(pasta: Path, _m) -> float:
    return float(
        np.mean(
            [
                bool(re.search(r"Belo Horizonte, \d{1,2} de [a-zç]+ de \d{4}\.", t))
                for _, t in _ler_despachos(pasta)
            ]
        )
    )


def _medir_crlf(pasta: Path, _m) -> float:
    return float(np.mean([b"\r\n" in a.read_bytes() for a in sorted(pasta.glob("despacho_*.txt"))]))


def _medir_latin1(pasta: Path, _m) -> float:
    def nao_utf8(dados: bytes) -> bool:
        try:
            dados.decode("utf-8")
            return False
        except UnicodeDecodeError:
            return True

    return float(np.mean([nao_utf8(a.read_bytes()) for a in sorted(pasta.glob("despacho_*.txt"))]))


def _medir_extrai_despachos(pasta: Path, m) -> float:
    gabarito = m["gabarito"].set_index("arquivo")
    ok = []
    for nome, texto in _ler_despachos(pasta):
        proc = re.sub(r"\D", "", PADRAO_PROCESSO.search(texto).group(1))
        valor = re.search(r"R\$ ([\d.]+,\d{2})", texto).group(1)
        valor = float(valor.replace(".", "").replace(",", "."))
        g = gabarito.loc[nome]
        ok.append(proc == re.sub(r"\D", "", g.numero_processo) and abs(valor - g.valor) < 0.005)
    return float(all(ok))


# ====================================================================================================
# modelo_oficio
# ====================================================================================================

CAMPOS_OFICIO = (
    "numero_oficio",
    "data_extenso",
    "tratamento",
    "vocativo",
    "nome",
    "cargo",
    "municipio",
    "assunto",
    "processo",
    "valor_repasse",
    "objeto",
)


def _destinatarios(n: int, semente: int) -> pd.DataFrame:
    from automatiza.dados.municipios import _municipios

    rng = np.random.default_rng([semente, 37])
    mun = _municipios()
    idx = np.sort(rng.choice(len(mun), size=n, replace=False))
    pessoas = nomes.nomes_pessoas(rng, n)
    feminino = rng.random(n) < 0.4
    # os prenomes da lista não dizem o gênero com certeza: o campo vem pronto, como num cadastro real
    numeros = _numeros_sei(np.full(n, 1500), np.full(n, 4), 30_000 + np.arange(n) * 13, np.full(n, 2025))
    valores = np.round(np.exp(rng.normal(12.5, 0.8, size=n)), -2)
    objetos = nomes.escolher(
        rng,
        (
            "aquisição de ambulância",
            "pavimentação de vias urbanas",
            "reforma de escola",
            "construção de unidade básica de saúde",
        ),
        n,
    )
    return pd.DataFrame(
        {
            "numero_oficio": [f"{i + 101}/2025/SEPLAG" for i in range(n)],
            "data_extenso": "31 de janeiro de 2025",
            "tratamento": np.where(feminino, "A Sua Excelência a Senhora", "A Sua Excelência o Senhor"),
            "vocativo": np.where(feminino, "Senhora Prefeita", "Senhor Prefeito"),
            "nome": pessoas,
            "cargo": np.where(feminino, "Prefeita Municipal", "Prefeito Municipal"),
            "municipio": mun["municipio"].to_numpy()[idx],
            "codigo_ibge": mun["ibge"].to_numpy()[idx],
            "email": [
                f"gabinete@{slug(m).replace('_', '')}.mg.gov.exemplo"
                for m in mun["municipio"].to_numpy()[idx]
            ],
            "assunto": "Liberação de recursos de convênio",
            "processo": numeros,
            "valor_repasse": [moeda(v, simbolo=True) for v in valores],
            "objeto": objetos,
        }
    )


def gerar_modelo_oficio(pasta: Path, n: int, semente: int) -> dict:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = Document()
    props = doc.core_properties
    props.author = "automatiza.dados"
    props.title = "Modelo de ofício (sintético)"
    props.created = props.modified = props.last_printed = DATA_FIXA.replace(tzinfo=None)
    props.revision = 1
    estilo = doc.styles["Normal"]
    estilo.font.name = "Arial"
    estilo.font.size = Pt(11)

    def par(texto="", negrito=False, centro=False, direita=False):
        p = doc.add_paragraph()
        run = p.add_run(texto)
        run.bold = negrito
        if centro:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif direita:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        return p

    par("GOVERNO DO ESTADO DE MINAS GERAIS", negrito=True, centro=True)
    par("Secretaria de Estado de Planejamento e Gestão", centro=True)
    par()
    par("Ofício nº {{ numero_oficio }}", negrito=True)
    par("Belo Horizonte, {{ data_extenso }}.", direita=True)
    par()
    par("{{ tratamento }}")
    par("{{ nome }}")
    par("{{ cargo }} de {{ municipio }}")
    par()
    par("Assunto: {{ assunto }}", negrito=True)
    par("Referência: Processo SEI nº {{ processo }}")
    par()
    par("{{ vocativo }},")
    par(
        "1. Informamos que foram liberados os recursos do convênio "
        "firmado com o Município de {{ municipio }}, "
        "destinado a {{ objeto }}, no valor de {{ valor_repasse }}."
    )
    par(
        "2. A prestação de contas deverá ser apresentada nos termos "
        "do instrumento, e os documentos devem ser "
        "juntados ao processo indicado na referência."
    )
    par("3. Colocamo-nos à disposição para esclarecimentos.")
    par()
    par("Atenciosamente,")
    par()
    par("(assinado eletronicamente)")
    par("Subsecretaria de Gestão de Convênios")
    destino = pasta / "modelo_oficio.docx"
    doc.save(destino)
    _normalizar_zip(destino)
    dest = _destinatarios(n, semente)
    dest.to_csv(pasta / "destinatarios.csv", sep=";", index=False, encoding="utf-8-sig", lineterminator="\n")
    return {"destinatarios": dest}


def gabarito_oficio(n: int, semente: int) -> pd.DataFrame:
    return _destinatarios(n, semente)


def _medir_campos(pasta: Path, _m) -> float:
    from docxtpl import DocxTemplate

    campos = DocxTemplate(pasta / "modelo_oficio.docx").get_undeclared_template_variables()
    colunas = set(pd.read_csv(pasta / "destinatarios.csv", sep=";", encoding="utf-8-sig", nrows=1).columns)
    return float(set(campos) == set(CAMPOS_OFICIO) and set(campos) <= colunas)


def _medir_renderiza(pasta: Path, _m) -> float:
    from docx import Document
    from docxtpl import DocxTemplate

    dest = pd.read_csv(pasta / "destinatarios.csv", sep=";", encoding="utf-8-sig", dtype=str)
    modelo = DocxTemplate(pasta / "modelo_oficio.docx")
    modelo.render(dest.iloc[0].to_dict())
    buffer = io.BytesIO()
    modelo.save(buffer)
    buffer.seek(0)
    texto = "\n".join(p.text for p in Document(buffer).paragraphs)
    return float(dest.iloc[0]["municipio"] in texto and "{{" not in texto)


# ====================================================================================================
# boletins_medicao_pdf
# ====================================================================================================

COLUNAS_PDF = (
    "Item",
    "Código",
    "Descrição do serviço",
    "Unid.",
    "Qtd. projeto",
    "Qtd. medição",
    "Qtd. acumulada",
    "Preço unit. (R$)",
    "Valor medição (R$)",
)


ARQUIVO_MULTIPAGINA = "boletim_002.pdf"


def _tabela_boletim(pdf, parte: pd.DataFrame, larguras: tuple, FontFace) -> None:
    """Uma tabela com bordas (cabeçalho + itens) na página atual do PDF."""
    with pdf.table(
        col_widths=larguras,
        text_align=("CENTER", "CENTER", "LEFT", "CENTER", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD"),
        line_height=4.5,
        width=sum(larguras),
    ) as tabela:
        tabela.row(COLUNAS_PDF)
        for r in parte.itertuples():
            tabela.row(
                (
                    str(r.item),
                    r.codigo_servico,
                    r.descricao_servico,
                    r.unidade,
                    numero_br(r.quantidade_projeto),
                    numero_br(r.quantidade_medicao),
                    numero_br(r.quantidade_acumulada),
                    numero_br(r.preco_unitario),
                    numero_br(r.valor_medicao),
                )
            )


def _boletins(n: int, semente: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from automatiza.dados.obras import _gerar_tudo

    contratos, med, _, _ = _gerar_tudo(max(5, n // 4 + 3), semente)
    chaves = (
        med.groupby(["numero_contrato", "numero_medicao"])
        .size()
        .loc[lambda s: s >= 3]
        .reset_index()[["numero_contrato", "numero_medicao"]]
    )
    rng = np.random.default_rng([semente, 41])
    escolha = chaves.iloc[np.sort(rng.choice(len(chaves), size=min(n, len(chaves)), replace=False))]
    escolha = escolha.assign(arquivo=[f"boletim_{i + 1:03d}.pdf" for i in range(len(escolha))])
    linhas = med.merge(escolha, on=["numero_contrato", "numero_medicao"])
    return contratos, linhas


def gabarito_boletins(n: int, semente: int) -> pd.DataFrame:
    return _boletins(n, semente)[1]


def gerar_boletins_pdf(pasta: Path, n: int, semente: int) -> dict:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    contratos, linhas = _boletins(n, semente)
    info = contratos.set_index("numero_contrato")
    for arquivo, b in linhas.groupby("arquivo", sort=True):
        c = info.loc[b["numero_contrato"].iloc[0]]
        pdf = FPDF(orientation="L", unit="mm", format="A4")
        pdf.set_creation_date(DATA_FIXA)
        pdf.set_title(f"Boletim de medição {arquivo}")
        pdf.set_author("automatiza.dados (dados sintéticos)")
        pdf.set_auto_page_break(True, margin=15)
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 13)
        pdf.cell(
            0,
            7,
            "PREFEITURA DE BELO HORIZONTE - SECRETARIA MUNICIPAL DE OBRAS E INFRAESTRUTURA",
            new_x="LMARGIN",
            new_y="NEXT",
            align="C",
        )
        pdf.cell(
            0,
            7,
            f"BOLETIM DE MEDIÇÃO Nº {int(b['numero_medicao'].iloc[0])}",
            new_x="LMARGIN",
            new_y="NEXT",
            align="C",
        )
        pdf.set_font("Helvetica", "", 9)
        mes = b["mes_referencia"].iloc[0]
        cabecalho = [
            f"Contrato: {c.name}    Contratada: {c.razao_social_contratada}    CNPJ: {c.cnpj_contratada}",
            f"Objeto: {c.objeto}",
            f"Período de referência: {mes[5:]}/{mes[:4]}    Data da medição: "
            f"{b['data_medicao'].iloc[0].strftime('%d/%m/%Y')}    Regional: {c.regional}",
            "Documento sintético para fins de treinamento (Automatiza.MG).",
        ]
        for linha in cabecalho:
            pdf.cell(0, 5, linha, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.set_font("Helvetica", "", 8)
        larguras = (11, 20, 86, 13, 24, 24, 24, 28, 32)
        # Um boletim por pasta (o 2º, ou o único) continua na página seguinte, como os boletins longos
        # de verdade: a tabela recomeça com o cabeçalho repetido e quem lê só a 1ª página perde itens.
        partes = [b]
        if arquivo == ARQUIVO_MULTIPAGINA or len(linhas["arquivo"].unique()) == 1:
            meio = (len(b) + 1) // 2
            partes = [b.iloc[:meio], b.iloc[meio:]]
        for numero, parte in enumerate(partes):
            if numero:
                pdf.add_page()
                pdf.set_font("Helvetica", "B", 9)
                pdf.cell(0, 5, f"BOLETIM DE MEDIÇÃO Nº {int(b['numero_medicao'].iloc[0])} (continuação)",
                         new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
                pdf.set_font("Helvetica", "", 8)
            _tabela_boletim(pdf, parte, larguras, FontFace)
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(
            0,
            5,
            f"Valor total desta medição: {moeda(b['valor_medicao'].sum(), simbolo=True)}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.cell(
            0,
            5,
            f"Valor acumulado dos itens medidos: {moeda(b['valor_acumulado'].sum(), simbolo=True)}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(10)
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(130, 5, "______________________________", align="C")
        pdf.cell(130, 5, "______________________________", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(130, 5, "Fiscal do contrato", align="C")
        pdf.cell(130, 5, "Responsável técnico da contratada", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.output(str(pasta / arquivo))
    return {"gabarito": linhas}


def _medir_pdf_tabelas(pasta: Path, m) -> float:
    import pdfplumber

    gabarito = m["gabarito"]
    ok = []
    for arquivo, b in gabarito.groupby("arquivo", sort=True):
        linhas = []
        with pdfplumber.open(pasta / arquivo) as pdf:
            for pagina in pdf.pages:
                for tabela in pagina.extract_tables():
                    linhas += [r for r in tabela if r and r[0] != "Item"]
        valores = [float(r[8].replace(".", "").replace(",", ".")) for r in linhas]
        descricoes = [r[2].replace("\n", " ") for r in linhas]
        ok.append(
            len(linhas) == len(b)
            and np.allclose(valores, b["valor_medicao"].to_numpy())
            and descricoes == b["descricao_servico"].tolist()
        )
    return float(bool(ok) and all(ok))


def _medir_multipagina(pasta: Path, m) -> float:
    """1.0 quando algum boletim tem itens da tabela na 2ª página (com o cabeçalho repetido)."""
    import pdfplumber

    for arquivo in sorted(m["gabarito"]["arquivo"].unique()):
        with pdfplumber.open(pasta / arquivo) as pdf:
            if len(pdf.pages) > 1 and any(
                len(t) > 1 and t[0][0] == "Item" for t in pdf.pages[1].extract_tables()
            ):
                return 1.0
    return 0.0


# ====================================================================================================
# Catálogo
# ====================================================================================================


def _conjuntos():
    from automatiza.dados.catalogo import Coluna, Conjunto, Parametro, Peculiaridade

    planilhas = Conjunto(
        nome="planilhas_regionais",
        titulo="Planilhas mensais das regionais (formatos bagunçados)",
        descricao=(
            "Uma pasta com uma subpasta por regional de Belo Horizonte e uma planilha por mês com os "
            "serviços de manutenção executados (tapa-buraco, poda, troca de lâmpada...). Cada regional "
            "manda do seu jeito, como na vida real: o exercício é juntar tudo numa tabela só. Com "
            "`gabarito=True`, `carregar` devolve a tabela consolidada correta (DataFrame)."
        ),
        tipo="arquivos",
        unidade="meses",
        n_padrao=6,
        n_min=1,
        n_max=36,
        tamanho_padrao_texto="53 arquivos, cerca de 2.500 linhas",
        gerar=gerar_planilhas_regionais,
        parametros=(
            Parametro("inicio", "2024-01", "primeiro mês (aaaa-mm)", _validar_mes),
            Parametro("gabarito", False, "True devolve a tabela consolidada correta em vez da pasta", bool),
        ),
        arquivos=(
            (
                "<regional>/<aaaa-mm>_<regional>.csv",
                "Barreiro, Centro-Sul, Leste e Nordeste: CSV latin-1, "
                "separado por ponto e vírgula, vírgula decimal, datas "
                "dd/mm/aaaa, colunas Data; Bairro; Serviço; "
                "Qtde; Unid.; Valor (R$); Equipe",
            ),
            (
                "<regional>/<aaaa-mm>_<regional>.xlsx",
                "Noroeste, Norte, Oeste, Pampulha e Venda Nova: XLSX com "
                "título mesclado nas linhas 1 e 2, linha 3 vazia, "
                "cabeçalho na linha 4 (DATA, BAIRRO, SERVIÇO em "
                "maiúsculas, QUANTIDADE, UNIDADE, VALOR TOTAL, EQUIPE), "
                "coluna A oculta (Código interno) e rodapé "
                "com TOTAL (fórmula) e fonte",
            ),
            ("LEIAME.txt", "Explicação curta"),
        ),
        colunas=(
            Coluna("regional", "texto", "Gabarito: regional de origem"),
            Coluna("mes_referencia", "texto", "Gabarito: mês (aaaa-mm)"),
            Coluna("data", "data", "Dia do serviço"),
            Coluna("bairro", "texto", "Bairro atendido"),
            Coluna("servico", "texto", "Serviço executado (nos XLSX, em maiúsculas)"),
            Coluna("quantidade", "decimal", "Quantidade executada"),
            Coluna("unidade", "texto", "m², m³, m ou un"),
            Coluna("valor", "decimal (R$)", "Valor do serviço"),
            Coluna("equipe", "texto", "Equipe que executou"),
        ),
        peculiaridades=(
            Peculiaridade(
                "csv_latin1",
                "Os CSV estão em latin-1 (abrir como UTF-8 dá erro), com ; e vírgula decimal",
                None,
                _medir_csv_latin1,
            ),
            Peculiaridade(
                "xlsx_formatado",
                "Todos os XLSX têm título mesclado, cabeçalho na linha 4, coluna oculta e rodapé com total",
                None,
                _medir_xlsx,
            ),
            Peculiaridade(
                "falta_arquivo",
                "Falta o arquivo de um mês de uma regional (são 9 × n - 1 arquivos)",
                None,
                _medir_falta,
            ),
            Peculiaridade(
                "csv_total",
                "{taxa} dos CSV terminam com uma linha TOTAL que não é dado",
                TAXA_CSV_TOTAL,
                _medir_csv_total,
                tolerancia=0.05,
            ),
            Peculiaridade(
                "valor_rs",
                '{taxa} das linhas dos CSV têm o valor escrito com "R$ " na frente',
                TAXA_VALOR_RS,
                _medir_valor_rs,
            ),
            Peculiaridade(
                "consolida",
                "Lidas com as opções certas, as planilhas somam exatamente o gabarito",
                None,
                _medir_consolida,
            ),
        ),
        modulos=("02", "03", "12"),
        n_teste=3,
        extras={"gabarito": gabarito_regionais},
    )
    despachos = Conjunto(
        nome="despachos",
        titulo="Despachos do SEI em texto",
        descricao=(
            "Uma pasta com despachos (`despacho_001.txt`...) no estilo do SEI-MG: número do processo, "
            "interessado com CNPJ, assunto, texto com valores em reais e prazos em dias úteis, data e "
            "assinatura. Para praticar expressões regulares e leitura de arquivos com codificações "
            "diferentes. Com `gabarito=True`, `carregar` devolve uma tabela com o que deve ser extraído "
            "de cada arquivo."
        ),
        tipo="arquivos",
        unidade="despachos",
        n_padrao=30,
        n_min=1,
        n_max=5000,
        gerar=gerar_despachos,
        parametros=(
            Parametro("gabarito", False, "True devolve a tabela do que extrair de cada despacho", bool),
        ),
        arquivos=(("despacho_NNN.txt", "Um despacho por arquivo, em UTF-8 (alguns em latin-1)"),),
        colunas=(
            Coluna("arquivo", "texto", "Gabarito: nome do arquivo"),
            Coluna("tipo", "texto", "Assunto do despacho"),
            Coluna("numero_processo", "texto", "Número SEI-MG (formatado)"),
            Coluna("data_despacho", "data", "Data do despacho"),
            Coluna("valor", "decimal (R$)", "Valor citado no texto"),
            Coluna("prazo_dias_uteis", "inteiro", "Prazo citado no texto"),
            Coluna("empresa", "texto", "Empresa interessada (fictícia)"),
            Coluna("cnpj", "texto", "CNPJ da interessada"),
        ),
        peculiaridades=(
            Peculiaridade(
                "proc_sem_pontuacao",
                "{taxa} dos números de processo escritos sem pontuação (1500010023123202408)",
                TAXA_PROC_SEM_PONTUACAO,
                _medir_proc_sem_pontuacao,
                tolerancia=0.001,
            ),
            Peculiaridade(
                "data_extenso",
                "{taxa} das datas por extenso (5 de março de 2024); as demais em dd/mm/aaaa",
                TAXA_DATA_EXTENSO,
                _medir_data_extenso,
                tolerancia=0.001,
            ),
            Peculiaridade(
                "crlf",
                "{taxa} dos arquivos com quebras de linha do Windows (CRLF)",
                TAXA_CRLF,
                _medir_crlf,
                tolerancia=0.001,
            ),
            Peculiaridade(
                "latin1",
                "{taxa} dos arquivos em latin-1 em vez de UTF-8",
                TAXA_LATIN1,
                _medir_latin1,
                tolerancia=0.001,
            ),
            Peculiaridade(
                "extrai",
                "Uma expressão regular tolerante à pontuação acha o processo e o valor de "
                "todos os despachos, iguais ao gabarito",
                None,
                _medir_extrai_despachos,
            ),
        ),
        modulos=("05", "11"),
        n_teste=100,
        extras={"gabarito": gabarito_despachos},
    )
    oficio = Conjunto(
        nome="modelo_oficio",
        titulo="Modelo de ofício em Word e destinatários",
        descricao=(
            "Uma pasta com `modelo_oficio.docx`, um modelo de ofício com campos `{{ campo }}` para o "
            "docxtpl, e `destinatarios.csv` (separado por ponto e vírgula, UTF-8 com BOM) com prefeitos e "
            "prefeitas fictícios de municípios mineiros reais, um por linha. Para gerar ofícios em lote. "
            "Com `gabarito=True`, `carregar` devolve a tabela de destinatários."
        ),
        tipo="arquivos",
        unidade="destinatários",
        n_padrao=20,
        n_min=1,
        n_max=853,
        gerar=gerar_modelo_oficio,
        parametros=(Parametro("gabarito", False, "True devolve a tabela de destinatários", bool),),
        arquivos=(
            ("modelo_oficio.docx", "Modelo com os campos " + ", ".join(CAMPOS_OFICIO)),
            (
                "destinatarios.csv",
                "Uma linha por destinatário, com uma coluna para cada campo do modelo, mais "
                "codigo_ibge e email",
            ),
        ),
        colunas=tuple(
            Coluna(c, "texto", "Campo do modelo e coluna de destinatarios.csv") for c in CAMPOS_OFICIO
        ),
        peculiaridades=(
            Peculiaridade(
                "campos",
                "Os campos do modelo são exatamente colunas de destinatarios.csv",
                None,
                _medir_campos,
            ),
            Peculiaridade(
                "renderiza",
                "O modelo preenchido com a primeira linha não sobra nenhum {{ }}",
                None,
                _medir_renderiza,
            ),
        ),
        modulos=("05", "12"),
        n_teste=20,
        extras={"gabarito": gabarito_oficio},
    )
    boletins = Conjunto(
        nome="boletins_medicao_pdf",
        titulo="Boletins de medição de obras em PDF",
        descricao=(
            "Uma pasta com boletins de medição (`boletim_001.pdf`...) de contratos de obras de Belo "
            "Horizonte: cabeçalho com contrato, contratada, CNPJ e período; tabela com bordas (item, "
            "código, descrição, unidade, quantidades de projeto, da medição e acumulada, preço unitário e "
            "valor, no formato brasileiro 1.234,56); totais e assinaturas. As tabelas saem com "
            "`pdfplumber` (`page.extract_tables()`). O `boletim_002.pdf` (ou o único boletim, com "
            "`n=1`) ocupa duas páginas: a tabela continua na 2ª página, com o cabeçalho repetido, e os "
            "totais ficam no fim dela; é preciso ler todas as páginas. Com `gabarito=True`, `carregar` "
            "devolve as linhas de `medicoes_obras` que estão nos PDFs, com a coluna `arquivo`."
        ),
        tipo="arquivos",
        unidade="boletins",
        n_padrao=5,
        n_min=1,
        n_max=200,
        gerar=gerar_boletins_pdf,
        parametros=(Parametro("gabarito", False, "True devolve as linhas das tabelas dos PDFs", bool),),
        arquivos=(("boletim_NNN.pdf", "Um boletim de medição por arquivo, A4 paisagem"),),
        colunas=tuple(Coluna(c, "texto", "Coluna da tabela do PDF") for c in COLUNAS_PDF),
        peculiaridades=(
            Peculiaridade(
                "tabelas",
                "Todas as tabelas extraídas com pdfplumber batem com o gabarito, linha a linha",
                None,
                _medir_pdf_tabelas,
            ),
            Peculiaridade(
                "multipagina",
                "O boletim_002.pdf (ou o único, com n=1) tem a tabela em duas páginas, com o cabeçalho "
                "repetido na 2ª",
                None,
                _medir_multipagina,
            ),
        ),
        modulos=("05",),
        n_teste=4,
        extras={"gabarito": gabarito_boletins},
    )
    return (planilhas, despachos, oficio, boletins)


CONJUNTOS = _conjuntos()
