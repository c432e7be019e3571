"""The program file: the real one is valid and complete; broken ones fail with useful pt-BR messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from automatiza import curriculum
from automatiza.curriculum import CurriculumError


def test_real_program_lists_every_module_of_the_brief(project):
    cur = project.curriculum()
    assert [m.id for m in cur.modulos] == [f"{i:02d}" for i in range(15)]
    assert [s.id for s in cur.etapas] == ["capacitacao", "imersao", "projetos", "evento"]
    assert {m.id for m in cur.written} >= {"00", "01", "02", "03", "04", "05"}
    assert all(m.objetivos and m.tarefa for m in cur.modulos)


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "programa.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def valid(project) -> dict:
    return yaml.safe_load(project.curriculum_file.read_text(encoding="utf-8"))


def _problems(tmp_path: Path, data: dict) -> list[str]:
    with pytest.raises(CurriculumError) as info:
        curriculum.load(_write(tmp_path, data))
    assert str(tmp_path / "programa.yml") in str(info.value)  # the message names the file
    return info.value.problems


def test_missing_field_is_named(tmp_path, valid):
    del valid["modulos"][1]["titulo"]
    assert _problems(tmp_path, valid) == ["modulos[1].titulo: campo obrigatório ausente"]


def test_unknown_stage_lists_the_valid_ones(tmp_path, valid):
    valid["modulos"][2]["etapa"] = "capacitaçao"
    (problem,) = _problems(tmp_path, valid)
    assert problem.startswith("modulos[2] (módulo 02).etapa: a etapa 'capacitaçao' não existe")
    assert "capacitacao, imersao, projetos, evento" in problem


def test_bad_status_and_id_and_typo(tmp_path, valid):
    valid["modulos"][0]["situacao"] = "pronto"
    valid["modulos"][3]["id"] = "3"
    valid["modulos"][4]["objetivo"] = ["x"]
    problems = _problems(tmp_path, valid)
    assert any(
        p.startswith("modulos[0].situacao: valor inválido; use um destes:") and "'pronto'" in p
        for p in problems
    )
    assert any(p.startswith("modulos[3].id: formato inválido") for p in problems)
    assert "modulos[4].objetivo: campo desconhecido (confira a grafia)" in problems


def test_cross_references(tmp_path, valid):
    valid["modulos"][5]["id"] = "04"
    valid["modulos"][6]["prerequisitos"] = ["99", "07"]
    valid["modulos"][7]["semana"] = 20
    problems = _problems(tmp_path, valid)
    assert "modulos: identificador repetido '04'" in problems
    assert "modulos[6] (módulo 06).prerequisitos: o módulo '99' não existe" in problems
    assert any("'07' deveria ser um módulo anterior" in p for p in problems)
    assert any(
        p.startswith("modulos[7] (módulo 07).semana: a semana 20 está fora da etapa") for p in problems
    )


def test_written_module_needs_a_lesson(tmp_path, valid):
    valid["modulos"][3]["situacao"] = "escrito"
    valid["modulos"][3]["licoes"] = []
    (problem,) = _problems(tmp_path, valid)
    assert problem == "modulos[3]: um módulo 'escrito' precisa de pelo menos uma lição em 'licoes'"


def test_invalid_yaml_gives_line(tmp_path):
    path = tmp_path / "programa.yml"
    path.write_text("programa:\n  titulo: [sem fechar\netapas: []\n", encoding="utf-8")
    with pytest.raises(CurriculumError) as info:
        curriculum.load(path)
    assert info.value.problems[0].startswith("YAML inválido (linha")


def test_missing_file(tmp_path):
    with pytest.raises(CurriculumError, match="arquivo não encontrado"):
        curriculum.load(tmp_path / "nao-existe.yml")
