"""The instructor's cohort panel: per learner, per question (share who lost points and the most common
failing check, as the learner saw it) and per institution, escaped and read without following links."""

from __future__ import annotations

import os

import pytest
from correcao_apoio import TAREFA, make_course, solved, submit
from nbgrader.apps import NbGraderAPI
from traitlets.config.loader import PyFileConfigLoader

from automatiza import cli, cohort_panel
from automatiza.grading import coursedir

pytestmark = pytest.mark.lento


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("turma"))
    (root / "alunos.csv").write_text(
        "id,nome,email,instituicao\n"
        "ana,Ana Souza,,Seplag-MG\nbeto,Beto Lima,,Prefeitura de Belo Horizonte\n"
        "caio,Caio Reis,,Prefeitura de Belo Horizonte\ndani,Dani Melo,,Seplag-MG\n",
        encoding="utf-8",
    )
    submit(root, "ana", solved(root))
    submit(root, "beto", solved(root, q2_resposta="def dobro(x):\n    return x + 2"))
    submit(root, "caio", solved(root, q1_resposta="numero = '<script>alert(1)</script>'"))
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    result = NbGraderAPI(config=config).autograde(TAREFA, "*")
    assert result["success"], result.get("error")
    return root


def test_panel_per_question_learner_and_institution(cohort):
    learners, questions = cohort_panel.collect(coursedir.load(cohort))
    q2 = questions.find("questao", "q2-testes")
    assert (q2["corrigidas"], q2["perderam_pontos"]) == (3, 1)
    assert "dobro" in q2["falha_mais_comum"] and "BEGIN HIDDEN" not in q2["falha_mais_comum"]
    assert "confira_funcao" not in q2["falha_mais_comum"]  # the message, not the test's code
    per_learner, per_institution = cohort_panel.summaries(learners)
    dani = per_learner.find("id", "dani")
    assert dani["entregues"] == 0 and dani["percentual"] == 0
    pbh = per_institution.find("instituicao", "Prefeitura de Belo Horizonte")
    assert (pbh["pessoas"], pbh["entregues"]) == (2, 2)


def test_panel_page_escapes_learner_outputs(cohort, tmp_path):
    files = cohort_panel.write(coursedir.load(cohort), tmp_path / "painel")
    page = files["html"].read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Seplag-MG" in files["instituicoes"].read_text(encoding="utf-8-sig")


def test_panel_does_not_follow_a_link_planted_in_autograded(cohort, tmp_path):
    secret = tmp_path / "segredo.ipynb"
    secret.write_text('{"cells": [], "segredo": "gabarito"}', encoding="utf-8")
    target = next((cohort / "autograded" / "ana" / TAREFA).glob("*.ipynb"))
    assert cohort_panel._read_notebook(target) is not None
    link = target.with_name("link.ipynb")
    os.symlink(secret, link)
    assert cohort_panel._read_notebook(link) is None


def test_panel_command(cohort, capsys):
    assert cli.main(["painel", "--turma", str(cohort)]) == cli.OK
    assert (cohort / "painel" / "painel.html").is_file()
    assert "painel.html" in capsys.readouterr().out
