"""The course JupyterHub's configuration, built from the cohort (the real hub runs in test_hub_navegador)."""

from __future__ import annotations

import getpass
import sqlite3
import stat
import sys

import pytest
from conftest import ROOT
from traitlets.config import Config

from automatiza import cli, hub
from automatiza.grading import cohort
from automatiza.paths import Project


def _cohort(tmp_path, roster: str = "id,nome\nana,Ana Souza\nbeto,Beto Lima\n"):
    folder = tmp_path / "2026-1"
    folder.mkdir()
    (folder / "alunos.csv").write_text(roster, encoding="utf-8")
    exchange = tmp_path / "2026-1-troca"
    exchange.mkdir()
    (folder / "nbgrader_config.py").write_text(f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n")
    return folder


def test_settings_come_from_the_cohort(tmp_path):
    folder = _cohort(tmp_path)
    settings = hub.settings_for(Project.at(ROOT), folder, ["maria"], memory_mb=1024, cpus=0.5)
    assert settings.learners == ["ana", "beto"] and settings.instructors == ["maria"]
    assert settings.exchange == str(tmp_path / "2026-1-troca")
    assert settings.state == str(tmp_path / "2026-1-hub")
    with pytest.raises(hub.HubError, match="um login por papel"):
        hub.settings_for(Project.at(ROOT), folder, ["ana"])
    with pytest.raises(hub.HubError, match="não é uma turma"):
        hub.settings_for(Project.at(ROOT), tmp_path, ["maria"])


def test_written_configuration_drives_jupyterhub(tmp_path, monkeypatch):
    folder = _cohort(tmp_path)
    settings = hub.settings_for(
        Project.at(ROOT), folder, ["maria"], port=9100, memory_mb=1500, idle_minutes=30
    )
    config_file = hub.write(settings)
    state = tmp_path / "2026-1-hub"
    assert stat.S_IMODE((state / "privado").stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "hub.json").stat().st_mode) == 0o600
    assert (state / "jupyter-aluno" / "labconfig" / "page_config.json").is_file()
    assert "hub.configure(get_config()" in config_file.read_text()

    c = Config()
    hub.configure(c, str(state / "hub.json"))
    assert c.JupyterHub.port == 9100 and c.JupyterHub.ip == "127.0.0.1"
    assert c.Authenticator.allowed_users == {"ana", "beto", "maria"}
    assert c.JupyterHub.load_groups == {"instrutores": {"users": ["maria"]}}
    assert c.Spawner.mem_limit == "1500M" and c.Spawner.cpu_limit == 1.0
    assert c.JupyterHub.authenticator_class == "pam"
    culler = c.JupyterHub.services[0]["command"]
    assert culler[:3] == [sys.executable, "-m", "jupyterhub_idle_culler"] and "--timeout=1800" in culler
    assert c.JupyterHub.spawner_class is hub.CourseSpawner
    assert str(state / "privado" / "jupyterhub.sqlite") in c.JupyterHub.db_url


def test_hub_start_refuses_without_root_or_password(tmp_path, capsys, monkeypatch):
    folder = _cohort(tmp_path)
    monkeypatch.delenv(hub.PASSWORD_ENV, raising=False)
    args = ["--raiz", str(ROOT), "hub", "iniciar", "--turma", str(folder), "--instrutor", "maria"]
    code = cli.main([*args, "--autenticacao", "senha-compartilhada"])
    assert code == cli.SETUP
    err = capsys.readouterr().err
    assert ("precisa rodar como root" in err) if getpass.getuser() != "root" else (hub.PASSWORD_ENV in err)


def test_roster_report_uses_the_hub_logins(tmp_path):
    folder = _cohort(tmp_path)
    private = tmp_path / "2026-1-hub" / "privado"
    private.mkdir(parents=True)
    with sqlite3.connect(private / "jupyterhub.sqlite") as db:
        db.execute("CREATE TABLE users (name TEXT, last_activity TEXT)")
        db.executemany("INSERT INTO users VALUES (?, ?)", [("ana", "2026-03-01"), ("beto", None)])
    assert hub.logged_in(tmp_path / "2026-1-hub") == {"ana"}
    (folder / "submitted" / "masp99" / "00-primeira-entrega").mkdir(parents=True)
    report = cohort.check(folder, logged_in=cohort.logins_of_hub(folder))
    assert report.never_logged_in == ["beto"]
    assert report.unknown == {"masp99": ["00-primeira-entrega"]}
    assert report.missing == {"00-primeira-entrega": ["ana", "beto"]}
    text = "\n".join(report.lines())
    assert "'masp99' entregou 00-primeira-entrega mas não está em alunos.csv" in text
    assert "nunca entraram no JupyterHub (1): beto" in text
