"""Shared fixtures: the real checkout and one full course build reused by the slow tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from automatiza import cli
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
