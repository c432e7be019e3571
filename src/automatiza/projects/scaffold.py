"""`automatiza projeto novo`: a replication package another agency can run with two commands.

The package holds a parameterized robot notebook run by papermill, synthetic sample data with its
dictionary, tests, exact pins, a license, the canvas and the baseline measurements that the impact comes
from. Everything is plain files: the receiving agency needs Python 3.11 and this folder, not this course.
"""

from __future__ import annotations

import re
import unicodedata
from importlib import metadata
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
from packaging.requirements import Requirement

ROBOT_REQUIREMENTS = ("pandas", "papermill", "ipykernel", "pytest")
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{2,60}$")


class ScaffoldError(Exception):
    """The package cannot be created (pt-BR message)."""


def slug(text: str) -> str:
    """'Conferência de Medições' -> 'conferencia-de-medicoes'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def pinned_closure(names: tuple[str, ...] = ROBOT_REQUIREMENTS) -> list[str]:
    """`name==version` for `names` and everything they need, as installed here (exact, reproducible)."""
    pins: dict[str, str] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        key = name.lower().replace("_", "-")
        if key in pins:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency not installed here is not needed by the robot either
        pins[key] = f"{dist.metadata['Name']}=={dist.version}"
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                pending.append(req.name)
    return sorted(pins.values(), key=str.lower)


def _canvas(title: str, institution: str, sphere: str) -> str:
    return f"""\
# Canvas do projeto: preencha uma vez, com a equipe e o dono do processo.
# `automatiza projeto verificar .` confere os campos; os números de impacto saem dos dados
# (medicoes/linha_de_base.csv e o log do robô), não deste arquivo.
projeto: "{title}"
resumo: "Robô que confere os boletins de medição de obras e aponta itens acima do previsto."
instituicao: "{institution}"
esfera: {sphere}          # estadual ou municipal
unidade: "Diretoria de Obras"
problema: >-
  Todo mês a equipe confere à mão, item por item, se a quantidade medida acumulada de cada contrato
  passa da quantidade prevista no projeto. São dezenas de contratos e a conferência toma dias.
dono_do_processo: "Chefe da Divisão de Medições"
equipe:
  - "Analista de obras (autora do robô)"
  - "Engenheiro fiscal (validação)"
meta: >-
  Conferir todos os boletins do mês no mesmo dia em que chegam, sem perder nenhum item acima do previsto.
linha_de_base:
  arquivo: medicoes/linha_de_base.csv   # um caso por linha: data;minutos (minutos vazios = não cronometrado)
  como_medimos: "Cronometramos a conferência manual de parte dos boletins recebidos em três meses."
automacao:
  minutos_restantes_por_caso: 4          # a pessoa ainda confere o relatório do robô
  manutencao_horas_por_mes: 2            # ajustes e acompanhamento do robô
  registro_do_robo: registros/execucoes.jsonl
dados:
  - nome: "Boletins de medição"
    origem: "Planilhas exportadas do sistema de obras (amostra sintética em dados/exemplo)"
    dados_pessoais: false
riscos:
  - "Mudança no formato da planilha exportada: o robô para e avisa qual coluna faltou."
  - "Item novo sem quantidade prevista: vai para revisão humana."
lgpd: "Os boletins não têm dados pessoais; nomes de fiscais ficam fora da amostra e dos relatórios."
manutencao: "Analista de obras da Diretoria, com apoio do Escritório Central."
premissas:
  - "O volume dos próximos meses é parecido com o dos meses medidos."
"""


def _readme(title: str) -> str:
    return f"""\
# {title}

Pacote de replicação de um projeto do Automatiza.MG: um robô que outro órgão pode instalar, testar e rodar
nos próprios dados. O que ele resolve, para quem e com que impacto está em `canvas.yml`.

## Dois comandos

Num computador com Python 3.11 (Linux ou WSL):

```bash
./projeto robo      # prepara o ambiente (.venv), roda o robô nos dados de exemplo e grava saida/
./projeto testar    # prepara o ambiente e roda os testes
```

Para rodar nos seus dados: `./projeto robo --dados PASTA --saida PASTA`. Cada execução fica registrada
em `registros/execucoes.jsonl` (início, duração, casos, situação): é daí que sai o tempo do robô usado no
cálculo das horas economizadas.

## O que há aqui

| arquivo | o quê |
| --- | --- |
| `robo.ipynb` | o robô: um notebook com parâmetros (papermill) |
| `robo.py` | roda o notebook, registra a execução e diz onde parou se algo falhar |
| `conferencia.py` | as funções do robô, testadas em `testes/` |
| `dados/exemplo/` | dados de exemplo sintéticos; o significado de cada coluna está em `dados/DICIONARIO.md` |
| `medicoes/linha_de_base.csv` | a medição do processo antes do robô (um caso por linha) |
| `canvas.yml` | o canvas do projeto |
| `requirements.txt` | versões exatas das bibliotecas |

## Dados e LGPD

Só dados sintéticos ou anonimizados viajam neste pacote. Antes de compartilhar, rode
`automatiza projeto verificar .`: ele recusa CPFs, e-mails, senhas e tokens em arquivos e em saídas de
notebooks.

Licença: MIT (arquivo `LICENSE`).
"""


LICENSE = """\
MIT License

Copyright (c) {year} {holder}

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the
following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial
portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT
LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO
EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN
AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE
OR OTHER DEALINGS IN THE SOFTWARE.
"""

RUNNER_SCRIPT = """\
#!/usr/bin/env bash
# ./projeto robo     prepara o ambiente (.venv) e roda o robô (opções: --dados PASTA --saida PASTA)
# ./projeto testar   prepara o ambiente e roda os testes
set -euo pipefail
cd "$(dirname "$0")"
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv || {
    echo "erro: não consegui criar .venv (no Debian: apt install python3-venv)" >&2; exit 3; }
fi
marca=".venv/.instalado-$(sha256sum requirements.txt | cut -c1-16)"
if [ ! -f "$marca" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  rm -f .venv/.instalado-*; touch "$marca"
fi
tarefa=${1:-}; shift || true
case $tarefa in
  robo) exec .venv/bin/python robo.py "$@" ;;
  testar) exec .venv/bin/python -m pytest -q testes "$@" ;;
  *) sed -n '2,3p' "$0" | sed 's/^# //'; exit 2 ;;
esac
"""

ROBOT_RUNNER = '''\
"""Roda o robô (robo.ipynb) com o papermill e registra a execução em registros/execucoes.jsonl."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import papermill as pm

RAIZ = Path(__file__).resolve().parent


def registrar(arquivo: Path, registro: dict) -> None:
    arquivo.parent.mkdir(parents=True, exist_ok=True)
    with arquivo.open("a", encoding="utf-8") as log:
        log.write(json.dumps(registro, ensure_ascii=False) + "\\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Roda o robô e registra a execução.")
    parser.add_argument("--dados", default=str(RAIZ / "dados" / "exemplo"), help="pasta com os boletins")
    parser.add_argument("--saida", default=str(RAIZ / "saida"), help="pasta dos resultados")
    parser.add_argument("--registro", default=str(RAIZ / "registros" / "execucoes.jsonl"))
    args = parser.parse_args(argv)
    saida = Path(args.saida)
    saida.mkdir(parents=True, exist_ok=True)
    inicio, situacao, casos, erro = time.perf_counter(), "ok", 0, ""
    comeco = datetime.now(timezone.utc).isoformat(timespec="seconds")
    try:
        pm.execute_notebook(
            str(RAIZ / "robo.ipynb"),
            str(saida / "robo-executado.ipynb"),
            parameters={"pasta_dados": str(Path(args.dados).resolve()), "pasta_saida": str(saida.resolve())},
            kernel_name="python3",
            progress_bar=False,
            cwd=str(RAIZ),
        )
        casos = json.loads((saida / "resumo.json").read_text(encoding="utf-8"))["casos"]
    except pm.PapermillExecutionError as exc:
        situacao, erro = "erro", f"{exc.ename}: {exc.evalue}"
        print(f"erro: o robô parou na célula {exc.exec_count}: {erro}", file=sys.stderr)
        print(f"Veja {saida / 'robo-executado.ipynb'}: a célula que falhou está marcada.", file=sys.stderr)
    segundos = round(time.perf_counter() - inicio, 3)
    registrar(
        Path(args.registro),
        {"inicio": comeco, "segundos": segundos, "casos": casos, "status": situacao, "erro": erro},
    )
    if situacao == "ok":
        print(f"Robô concluído: {casos} caso(s) em {segundos:.1f} s. Resultados em {saida}.")
    return 0 if situacao == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
'''

ROBOT_LOGIC = '''\
"""Funções do robô: conferir os boletins de medição contra as quantidades previstas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

COLUNAS = ["contrato", "item", "quantidade_prevista", "quantidade_acumulada", "preco_unitario"]


def ler_boletins(pasta: Path) -> pd.DataFrame:
    """Junta os CSV da pasta (separador ';', vírgula decimal) numa tabela com a coluna `arquivo`."""
    arquivos = sorted(Path(pasta).glob("*.csv"))
    if not arquivos:
        raise FileNotFoundError(f"nenhum arquivo .csv em {pasta}")
    partes = []
    for arquivo in arquivos:
        tabela = pd.read_csv(arquivo, sep=";", decimal=",", encoding="utf-8")
        if faltam := [c for c in COLUNAS if c not in tabela.columns]:
            raise ValueError(f"{arquivo.name}: faltam as colunas {', '.join(faltam)}")
        partes.append(tabela.assign(arquivo=arquivo.name))
    return pd.concat(partes, ignore_index=True)


def conferir(boletins: pd.DataFrame) -> pd.DataFrame:
    """Uma linha por item acima do previsto, com o excesso em quantidade e em reais."""
    excesso = boletins["quantidade_acumulada"] - boletins["quantidade_prevista"]
    acima = boletins.assign(excesso=excesso, valor_excedente=excesso * boletins["preco_unitario"])
    acima = acima[acima["excesso"] > 0]
    return acima.sort_values(["contrato", "item"]).reset_index(drop=True)
'''

ROBOT_TESTS = '''\
"""Testes do robô: as funções em tabelas pequenas e o robô inteiro nos dados de exemplo."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

RAIZ = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(RAIZ))

from conferencia import conferir  # noqa: E402


def test_conferir_aponta_so_o_que_passa_do_previsto():
    tabela = pd.DataFrame(
        {
            "contrato": ["C1", "C1", "C2"],
            "item": ["1.1", "1.2", "2.1"],
            "quantidade_prevista": [10.0, 5.0, 3.0],
            "quantidade_acumulada": [12.0, 5.0, 2.0],
            "preco_unitario": [100.0, 10.0, 1.0],
        }
    )
    acima = conferir(tabela)
    assert list(acima["item"]) == ["1.1"]  # igual ao previsto não é excesso
    assert acima.loc[0, "valor_excedente"] == 200.0


def test_robo_nos_dados_de_exemplo(tmp_path):
    registro = tmp_path / "execucoes.jsonl"
    saida = tmp_path / "saida"
    comando = [sys.executable, str(RAIZ / "robo.py"), "--saida", str(saida), "--registro", str(registro)]
    subprocess.run(comando, check=True, timeout=300)
    resumo = json.loads((tmp_path / "saida" / "resumo.json").read_text(encoding="utf-8"))
    assert resumo["casos"] > 0
    assert json.loads(registro.read_text(encoding="utf-8").splitlines()[-1])["status"] == "ok"
'''

DICTIONARY = """\
# Dicionário de dados

Todos os dados desta pasta são **sintéticos**: gerados para o exemplo, sem nenhum dado real.

## `exemplo/boletins_*.csv`

Um arquivo por mês; separador `;`, vírgula decimal, UTF-8. Uma linha por item de contrato.

| coluna | tipo | significado |
| --- | --- | --- |
| `contrato` | texto | número do contrato de obra |
| `item` | texto | código do serviço na planilha do contrato |
| `quantidade_prevista` | número | quantidade do projeto (contratada) |
| `quantidade_acumulada` | número | quantidade medida somada até este boletim |
| `preco_unitario` | número | preço unitário em reais |

## `../medicoes/linha_de_base.csv`

A medição do processo antes do robô: um caso (boletim conferido) por linha; separador `;`.

| coluna | tipo | significado |
| --- | --- | --- |
| `data` | data dd/mm/aaaa | dia em que o boletim chegou |
| `minutos` | número ou vazio | minutos da conferência manual, quando cronometrada |
"""


def _robot_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('pasta_dados = "dados/exemplo"\npasta_saida = "saida"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# Robô: conferência dos boletins de medição\n\n"
            "Lê os boletins da pasta `pasta_dados`, aponta os itens cuja quantidade acumulada passou da "
            "prevista e grava `conferencia.csv` e `resumo.json` em `pasta_saida`. Rode com "
            "`./projeto robo` (o papermill troca os parâmetros abaixo)."
        ),
        params,
        nbformat.v4.new_code_cell(
            "import json\nfrom pathlib import Path\n\nfrom conferencia import conferir, ler_boletins\n\n"
            "boletins = ler_boletins(Path(pasta_dados))\nacima = conferir(boletins)\n"
            "saida = Path(pasta_saida)\nsaida.mkdir(parents=True, exist_ok=True)\n"
            'acima.to_csv(saida / "conferencia.csv", sep=";", decimal=",", index=False)\n'
            "casos = int(boletins['arquivo'].nunique())\n"
            'resumo = {"casos": casos, "itens": len(boletins), "itens_acima": len(acima)}\n'
            '(saida / "resumo.json").write_text(json.dumps(resumo), encoding="utf-8")\nresumo'
        ),
    ]
    return nb


def _sample_data(folder: Path, seed: int) -> None:
    """Synthetic boletins (one file per case) and the baseline measurements, deterministic by `seed`."""
    rng = np.random.default_rng(seed)
    examples = folder / "dados" / "exemplo"
    examples.mkdir(parents=True)
    for number in range(1, 7):
        items = 8
        planned = rng.integers(10, 200, items).astype(float)
        accumulated = np.round(planned * rng.uniform(0.5, 1.15, items), 2)
        table = pd.DataFrame(
            {
                "contrato": f"{seed % 100:02d}.{number:03d}/2026",
                "item": [f"{number}.{i}" for i in range(1, items + 1)],
                "quantidade_prevista": planned,
                "quantidade_acumulada": accumulated,
                "preco_unitario": np.round(rng.uniform(20, 900, items), 2),
            }
        )
        table.to_csv(examples / f"boletins_{number:02d}.csv", sep=";", decimal=",", index=False)
    days = pd.bdate_range("2026-03-01", "2026-05-31")
    chosen = np.sort(rng.choice(len(days), size=int(rng.integers(150, 240)), replace=True))
    minutes = np.where(rng.random(chosen.size) < 0.4, np.round(rng.normal(38, 8, chosen.size), 1), np.nan)
    baseline = pd.DataFrame({"data": days[chosen].strftime("%d/%m/%Y"), "minutos": minutes})
    (folder / "medicoes").mkdir()
    baseline.to_csv(folder / "medicoes" / "linha_de_base.csv", sep=";", decimal=",", index=False)


def create(target: Path, title: str, institution: str, sphere: str, seed: int = 2026) -> Path:
    """Write a new replication package at `target` (which must not exist yet)."""
    if target.exists():
        raise ScaffoldError(f"{target} já existe: escolha outro nome ou apague a pasta")
    if not NAME.match(target.name):
        raise ScaffoldError(
            f"nome '{target.name}' inválido: use de 3 a 61 letras minúsculas sem acento, números e hífens"
        )
    if sphere not in ("estadual", "municipal"):
        raise ScaffoldError("esfera: use 'estadual' ou 'municipal'")
    target.mkdir(parents=True)
    (target / "canvas.yml").write_text(_canvas(title, institution, sphere), encoding="utf-8")
    (target / "README.md").write_text(_readme(title), encoding="utf-8")
    (target / "LICENSE").write_text(
        LICENSE.format(year=pd.Timestamp.today().year, holder=institution), encoding="utf-8"
    )
    (target / "requirements.txt").write_text("\n".join(pinned_closure()) + "\n", encoding="utf-8")
    runner = target / "projeto"
    runner.write_text(RUNNER_SCRIPT, encoding="utf-8")
    runner.chmod(0o755)
    (target / "robo.py").write_text(ROBOT_RUNNER, encoding="utf-8")
    (target / "conferencia.py").write_text(ROBOT_LOGIC, encoding="utf-8")
    nbformat.write(_robot_notebook(), target / "robo.ipynb")
    (target / "testes").mkdir()
    (target / "testes" / "test_robo.py").write_text(ROBOT_TESTS, encoding="utf-8")
    _sample_data(target, seed)
    (target / "dados" / "DICIONARIO.md").write_text(DICTIONARY, encoding="utf-8")
    (target / ".gitignore").write_text(".venv/\nsaida/\n__pycache__/\n", encoding="utf-8")
    return target
