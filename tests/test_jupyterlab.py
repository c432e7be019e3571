"""The learner workspace and the learner's JupyterLab configuration (a real JupyterLab server answers with
pt-BR as the default language, the instructor tools and news disabled), and screenshots on the site."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT

from automatiza import capturas, cli, jupyterlab
from automatiza.paths import Project


def test_workspace_holds_copies_of_the_lessons_only(tmp_path, capsys):
    folder = tmp_path / "estudo"
    assert cli.main(["--raiz", str(ROOT), "aluno", "preparar", str(folder)]) == cli.OK
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert names == ["licoes"]
    lessons = sorted(p.name for p in (folder / "licoes").iterdir() if p.is_file())
    expected = sorted(p.name for p in jupyterlab.lesson_files(Project.at(ROOT)))
    assert lessons == expected and "00-jupyterlab.ipynb" in lessons
    robot = folder / "licoes" / "12-notebook-robo" / "relatorio_municipio.ipynb"
    assert robot.is_file(), "o notebook que a lição 12 executa vai junto, na pasta com o nome da lição"
    robot.write_text("meu robô", encoding="utf-8")
    first = folder / "licoes" / lessons[0]
    first.write_text("minha versão", encoding="utf-8")
    assert cli.main(["--raiz", str(ROOT), "aluno", "preparar", str(folder)]) == cli.OK
    assert first.read_text(encoding="utf-8") == "minha versão", "a cópia de quem aprende nunca é trocada"
    assert robot.read_text(encoding="utf-8") == "meu robô"
    assert "0 lição(ões) nova(s)" in capsys.readouterr().out


def test_workspace_inside_the_repository_is_refused(capsys):
    assert cli.main(["--raiz", str(ROOT), "aluno", "preparar", str(ROOT / "build" / "estudo")]) == cli.USAGE
    assert "não pode ficar dentro do repositório" in capsys.readouterr().err
    assert not (ROOT / "build" / "estudo").exists()


def test_learner_and_instructor_configurations(tmp_path):
    learner = jupyterlab.learner_config(tmp_path / "a", tmp_path / "troca", "curso-x")
    page = json.loads((learner / "labconfig" / "page_config.json").read_text())
    assert set(page["disabledExtensions"]) == {*jupyterlab.INSTRUCTOR_PLUGINS, jupyterlab.NEWS_PLUGIN}
    server = json.loads((learner / "jupyter_server_config.json").read_text())
    extensions = server["ServerApp"]["jpserver_extensions"]
    assert extensions["nbgrader.server_extensions.formgrader"] is False
    assert extensions["nbgrader.server_extensions.assignment_list"] is True
    nbgrader = (learner / "nbgrader_config.py").read_text()
    assert f"c.Exchange.root = {str(tmp_path / 'troca')!r}" in nbgrader
    assert "c.CourseDirectory.course_id = 'curso-x'" in nbgrader and "xmode=Minimal" in nbgrader
    teacher = jupyterlab.instructor_config(tmp_path / "p", tmp_path / "turma", tmp_path / "troca", "curso-x")
    page = json.loads((teacher / "labconfig" / "page_config.json").read_text())
    assert list(page["disabledExtensions"]) == [jupyterlab.NEWS_PLUGIN]
    assert (
        f"c.CourseDirectory.root = {str(tmp_path / 'turma')!r}"
        in (teacher / "nbgrader_config.py").read_text()
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.lento
def test_real_jupyterlab_speaks_portuguese_and_hides_instructor_tools(tmp_path):
    folder = tmp_path / "estudo"
    jupyterlab.prepare(Project.at(ROOT), folder)
    port = _free_port()
    env = jupyterlab.environment(folder / jupyterlab.CONFIG)
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "config-pessoal")
    env["JUPYTER_DATA_DIR"] = str(tmp_path / "dados")
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=teste",
        f"--ServerApp.root_dir={folder}",
        "--allow-root",
    ]
    proc = subprocess.Popen(
        command, env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"{base}{path}?token=teste", timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""

    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, _ = get("/api/status")
                if status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "o JupyterLab não iniciou"
            time.sleep(0.5)
        _, text = get("/lab/api/settings/@jupyterlab/translation-extension:plugin")
        assert json.loads(text)["schema"]["properties"]["locale"]["default"] == "pt_BR"
        _, text = get("/lab/api/settings/@jupyterlab/apputils-extension:notification")
        assert json.loads(text)["schema"]["properties"]["fetchNews"]["default"] == "false"
        _, text = get("/lab")
        for plugin in jupyterlab.INSTRUCTOR_PLUGINS:
            assert plugin in text  # listed among disabledExtensions in the page config
        assert get("/formgrader")[0] == 404
        _, text = get("/api/contents/")
        assert [item["name"] for item in json.loads(text)["content"]] == ["licoes"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_missing_screenshots_are_dropped_from_the_staged_pages(tmp_path):
    project = Project(root=tmp_path, build=tmp_path / "build")
    (project.build / "capturas").mkdir(parents=True)
    (project.build / "capturas" / "tem.png").write_bytes(b"png")
    out = tmp_path / "livro"
    out.mkdir()
    page = (
        "Antes.\n\n:::{figure} capturas/tem.png\n:alt: existe\n\nLegenda.\n:::\n\n"
        ":::{figure} capturas/falta.png\n:alt: não existe\n\nOutra.\n:::\nDepois.\n"
    )
    (out / "pagina.md").write_text(page, encoding="utf-8")
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["![x](../capturas/falta.png)\n", "fim"]}
        ]
    }
    (out / "licao.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    assert capturas.stage(project, out) == {"tem"}
    text = (out / "pagina.md").read_text(encoding="utf-8")
    assert "capturas/tem.png" in text and "falta" not in text and "Depois." in text and "Legenda." in text
    assert (out / "capturas" / "tem.png").exists()
    assert json.loads((out / "licao.ipynb").read_text())["cells"][0]["source"] == "fim"


def test_site_pages_use_every_screenshot_with_alt_text():
    from automatiza import hub_tour

    used: set[str] = set()
    for page in ("como-usar-o-jupyterlab.md", "como-entregar-as-tarefas.md"):
        text = (ROOT / "book" / page).read_text(encoding="utf-8")
        used |= capturas.referenced(text)
        for block in capturas.FIGURE.finditer(text):
            assert "\n:alt: " in block.group(0), f"{page}: figura sem texto alternativo"
    lesson = (ROOT / "notebooks" / "00-jupyterlab.ipynb").read_text(encoding="utf-8")
    used |= capturas.referenced(
        json.loads(lesson)
        and "".join("".join(c["source"]) for c in json.loads(lesson)["cells"] if c["cell_type"] == "markdown")
    )
    assert used <= set(hub_tour.SCREENSHOTS)
    assert {"tarefas-liberadas", "validar-erro", "devolutiva", "jupyterlab-aluno"} <= used
