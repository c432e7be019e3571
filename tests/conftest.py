"""Shared fixtures: the real checkout and one full course build reused by the slow tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from automatiza import catalog, cli
from automatiza.paths import Project

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project() -> Project:
    return Project.at(ROOT)


@pytest.fixture(scope="session")
def built_course(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """`automatiza construir` of the real course into a temporary build folder, run once per session."""
    build = tmp_path_factory.mktemp("construcao")
    # the screenshots' JupyterHub tour has its own test (test_hub_navegador.py)
    args = ["--raiz", str(ROOT), "--saida", str(build), "construir", "--jobs", "2", "--sem-capturas"]
    code = cli.main(args)
    assert code == cli.OK, f"automatiza construir terminou com o código {code}"
    return Project.at(ROOT, build)


# tests that need the exercises' catalogs graded by the real nbgrader (one run shared by the session)
CATALOG_TESTS = ("test_catalog_of_wrong_answers", "test_same_points_as_nbgrader")


@pytest.fixture(scope="session")
def catalogs(
    request: pytest.FixtureRequest, project: Project, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, catalog.AssignmentResult]:
    """The catalogs of the assignments the session's tests ask for, graded by `nbgrader autograde` two at a
    time (the machine has two cores), each course folder kept for the tests that compare with it."""
    selected = sorted(
        {
            item.callspec.params["assignment"]
            for item in request.session.items
            if item.originalname in CATALOG_TESTS and hasattr(item, "callspec")
        }
    )
    keep = tmp_path_factory.mktemp("catalogos")
    return {r.assignment: r for r in catalog.grade_many(project, selected, jobs=2, keep=keep)}
