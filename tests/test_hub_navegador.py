"""End to end in a real browser (Playwright + Debian's Chromium) against a real JupyterHub on loopback: one
instructor and two learners, from release to feedback (`automatiza.hub_tour`). Saves the screenshots the site
and lesson 00 use in build/capturas/. Never skipped in CI (AUTOMATIZA_EXIGIR_NAVEGADOR=1)."""

from __future__ import annotations

import os

import pytest
from conftest import ROOT

from automatiza import hub_tour
from automatiza.paths import Project

pytestmark = [pytest.mark.navegador, pytest.mark.lento]


@pytest.fixture(scope="module")
def tour(tmp_path_factory) -> hub_tour.Tour:
    project = Project.at(ROOT)
    try:
        hub_tour.check_machine(project)
    except hub_tour.TourUnavailable as exc:
        if os.environ.get("AUTOMATIZA_EXIGIR_NAVEGADOR") == "1":
            pytest.fail(f"{exc} (AUTOMATIZA_EXIGIR_NAVEGADOR=1 exige o teste no navegador)")
        pytest.skip(str(exc))
    return hub_tour.run(project, project.build / "capturas", keep=tmp_path_factory.mktemp("hub"))


def test_learners_get_jupyterlab_in_portuguese_without_instructor_tools(tour):
    for learner in tour.learners:
        assert tour.facts[f"files {learner}"] == ["licoes"], "só as lições na pasta de quem aprende"
        assert "Arquivo de texto" in tour.facts[f"launcher {learner}"]  # the launcher, in pt-BR
        menu = tour.facts[f"menu {learner}"]
        assert "Assignment List" in menu
        assert not {"Formgrader", "Create Assignment", "Course List"} & set(menu)
    assert {"Formgrader", "Assignment List"} <= set(tour.facts["instructor menu"])


def test_validate_shows_the_portuguese_message_first(tour):
    right, wrong = (tour.facts[f"validate {learner}"] for learner in tour.learners)
    assert "Success" in right
    assert "Traceback" not in wrong and "File " not in wrong, "a mensagem vem sem traceback"
    # the only line of the error is the pt-BR message of the failed check: expected, got, hint
    assert "Total de horas da semana: esperava 16, mas veio 13. Dica:" in wrong


def test_each_learner_fetches_only_their_own_feedback(tour):
    first, second = tour.learners
    assert "3 de 3" in tour.facts[f"feedback {first}"].replace("\n", " ")
    wrong = tour.facts[f"feedback {second}"]
    assert "2 de 3" in wrong.replace("\n", " ")
    assert "confira(" not in wrong and "BEGIN HIDDEN" not in wrong
    assert tour.facts["other feedback, own server"] == 404
    assert tour.facts["other feedback, other server"] in (302, 403, 404)
    for what in ("other workspace", "cohort", "exchange feedback list", "exercises"):
        assert tour.facts[what] != 0, f"{what}: quem aprende não pode abrir"


def test_screenshots_for_the_site_are_saved(tour):
    assert set(tour.screenshots) == set(hub_tour.SCREENSHOTS)
    for path in tour.screenshots.values():
        assert path.stat().st_size > 10_000
