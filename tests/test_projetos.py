"""Real projects: the canvas, `projeto novo` → `projeto verificar`, the impact and the event's results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from automatiza import cli
from automatiza.projects import canvas, cohort, impact, results, scaffold, sensitive, verify


def _new(tmp_path: Path, name: str = "conferencia-medicoes", **kw) -> Path:
    return scaffold.create(
        tmp_path / name,
        kw.get("title", "Conferência de medições"),
        kw.get("institution", "Prefeitura de Belo Horizonte"),
        kw.get("sphere", "municipal"),
        kw.get("seed", 2026),
    )


def _failed(report: verify.Verification) -> dict[str, str]:
    return {c.name: c.detail for c in report.checks if not c.ok}


def _run_robot(package: Path) -> None:
    subprocess.run([sys.executable, str(package / "robo.py")], check=True, capture_output=True, timeout=300)


@pytest.mark.lento
def test_new_package_passes_verification_in_a_fresh_environment(tmp_path):
    """The scaffold installs from its own pins in a new venv, its tests pass and its robot runs."""
    package = _new(tmp_path)
    code = cli.main(["projeto", "verificar", str(package), "--relatorio", str(tmp_path / "r.json")])
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert code == cli.OK, report
    names = {c["name"] for c in report["verificacoes"] if c["ok"]}
    assert {"instala num ambiente novo", "testes passam", "robô roda nos dados de exemplo"} <= names


def test_package_with_personal_data_or_secrets_is_refused(tmp_path):
    package = _new(tmp_path)
    with (package / "dados" / "exemplo" / "boletins_01.csv").open("a", encoding="utf-8") as f:
        f.write("529.982.247-25;9.9;1;1;1\n")
    (package / "config.py").write_text(
        'API_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"\n', encoding="utf-8"
    )
    (package / ".env").write_text("SENHA_BANCO=Segredo123\n", encoding="utf-8")
    failed = _failed(verify.verify(package, run=False))
    detail = failed["sem dados pessoais nem segredos (CPF, e-mail, senha, token)"]
    assert "boletins_01.csv, linha 10: CPF" in detail
    assert "config.py" in detail and ".env" in detail
    assert "529.982.247-25" not in detail  # the report masks what it found


def test_personal_data_in_a_notebook_output_is_refused(tmp_path):
    package = _new(tmp_path)
    nb = json.loads((package / "robo.ipynb").read_text(encoding="utf-8"))
    nb["cells"][2]["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": ["fiscal: ana.souza@pbh.gov.br\n"]}
    ]
    (package / "robo.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    detail = _failed(verify.verify(package, run=False))[
        "sem dados pessoais nem segredos (CPF, e-mail, senha, token)"
    ]
    assert "robo.ipynb, célula 3 (saída): e-mail" in detail


def test_links_in_a_package_are_refused_and_not_followed(tmp_path):
    package = _new(tmp_path)
    secret = tmp_path / "fora.txt"
    secret.write_text("CPF 529.982.247-25\n", encoding="utf-8")
    (package / "dados" / "atalho.txt").symlink_to(secret)
    findings, refused = sensitive.scan(package)
    assert any("atalho.txt: link simbólico" in r for r in refused)
    assert not findings  # the link's target was not read


def test_missing_readme_and_failing_robot_are_reported(tmp_path):
    package = _new(tmp_path)
    (package / "README.md").unlink()
    logic = package / "conferencia.py"
    logic.write_text(
        logic.read_text(encoding="utf-8").replace('["preco_unitario"]', '["preco"]'), encoding="utf-8"
    )
    failed = _failed(verify.verify(package, reuse_environment=True))
    assert "README.md em português" in failed
    assert "testes passam" in failed
    assert "KeyError" in failed["robô roda nos dados de exemplo"]


def test_canvas_errors_are_in_portuguese(tmp_path):
    path = tmp_path / "canvas.yml"
    path.write_text("projeto: X\nesfera: federal\ncor: azul\n", encoding="utf-8")
    with pytest.raises(canvas.CanvasError) as info:
        canvas.load(path)
    problems = "\n".join(info.value.problems)
    assert "nome do projeto: texto curto demais" in problems
    assert "esfera (estadual ou municipal): use um destes valores: 'estadual' ou 'municipal'" in problems
    assert "cor: campo desconhecido" in problems
    assert "instituição: falta preencher" in problems


def test_impact_is_measured_from_the_baseline_and_the_robot_log(tmp_path):
    package = _new(tmp_path)
    (package / "medicoes" / "linha_de_base.csv").write_text(
        "data;minutos\n02/03/2026;30\n03/03/2026;\n04/03/2026;50\n01/04/2026;\n", encoding="utf-8"
    )
    log = package / "registros" / "execucoes.jsonl"
    log.parent.mkdir()
    runs = [{"segundos": 60, "casos": 10, "status": "ok"}, {"segundos": 999, "casos": 0, "status": "erro"}]
    log.write_text("\n".join(json.dumps(r) for r in runs) + "\n", encoding="utf-8")
    measured = impact.measure(package, canvas.load(package / "canvas.yml"))
    assert measured.cases_per_month == 2  # 4 cases over 2 months
    assert measured.minutes_per_case == 40  # mean of the timed cases only
    assert measured.robot_seconds_per_case == 6  # the failed run does not count
    # (40 - 4) min x 2 cases / 60 - robot 6 s x 2 / 3600 - 2 h maintenance
    assert measured.hours_saved == pytest.approx(36 * 2 / 60 - 12 / 3600 - 2)
    assert any("2 mês(es)" in a for a in measured.assumptions())


def test_results_and_cohort_page_from_two_institutions(tmp_path):
    city = _new(tmp_path, "medicoes-pbh")
    state = _new(
        tmp_path,
        "medicoes-seplag",
        title="Conferência estadual",
        institution="Seplag-MG",
        sphere="estadual",
        seed=7,
    )
    for package in (city, state):
        _run_robot(package)
    files = results.render(city, tmp_path / "evento")
    deck = Presentation(str(files["pptx"]))
    titles = [s.shapes.title.text for s in deck.slides]
    assert titles[0] == "Conferência de medições" and len(titles) == 6
    pictures = [sh for s in deck.slides for sh in s.shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == 1 and pictures[0]._element.nvPicPr.cNvPr.get("descr").startswith("Gráfico")
    assert "horas economizadas por mês" in titles[3]
    doc = Document(str(files["docx"]))
    assert doc.inline_shapes and any("Premissas" in p.text for p in doc.paragraphs)
    page = files["html"].read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "alt='Gráfico de barras" in page

    out = cohort.write([city, state], tmp_path / "turma")
    md = out["md"].read_text(encoding="utf-8")
    assert "| Estado |" in md and "| Município |" in md
    assert "Seplag-MG" in md and "Prefeitura de Belo Horizonte" in md
    table = out["csv"].read_text(encoding="utf-8")
    assert table.count("\n") == 3


def test_scaffold_refuses_existing_folder_and_bad_names(tmp_path):
    _new(tmp_path)
    with pytest.raises(scaffold.ScaffoldError, match="já existe"):
        _new(tmp_path)
    with pytest.raises(scaffold.ScaffoldError, match="inválido"):
        _new(tmp_path, "Nome Com Espaço")
