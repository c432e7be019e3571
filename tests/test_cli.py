"""The command line: pt-BR help and exit codes scripts can trust."""

from __future__ import annotations

import shutil

import pytest

from automatiza import cli


def test_help_is_in_portuguese(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("uso: automatiza")
    assert "mostra esta ajuda e sai" in out and "códigos de saída" in out
    for command in ("verificar", "executar", "liberar", "livro", "construir"):
        assert command in out


def test_usage_errors_exit_2_in_portuguese(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["executar", "--jobs", "0"])
    assert info.value.code == cli.USAGE
    assert "use um número inteiro maior que zero" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        cli.main(["publicar"])
    assert info.value.code == cli.USAGE
    assert "opção inválida: 'publicar'" in capsys.readouterr().err


def test_unknown_module_exits_2(project, capsys):
    assert cli.main(["--raiz", str(project.root), "executar", "--modulo", "99"]) == cli.USAGE
    assert "módulo '99' não existe" in capsys.readouterr().err


def test_outside_the_checkout_uses_the_installed_course(tmp_path, monkeypatch, project):
    """Instructors run commands from their cohort folder, outside the repository."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOMATIZA_RAIZ", raising=False)
    from automatiza.paths import find_root

    assert find_root() == project.root


def test_a_folder_without_a_course_exits_3(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AUTOMATIZA_RAIZ", str(tmp_path))
    assert cli.main(["verificar"]) == cli.SETUP
    assert "programa.yml" in capsys.readouterr().err


def _copy_course(project, tmp_path):
    root = tmp_path / "curso"
    for folder in ("curriculum", "notebooks", "exercises"):
        shutil.copytree(project.root / folder, root / folder)
    return root


def test_verificar_passes_on_the_real_course(project, capsys):
    assert cli.main(["--raiz", str(project.root), "verificar"]) == cli.OK
    assert "Tudo certo" in capsys.readouterr().out


def test_verificar_finds_planted_problems(project, tmp_path, capsys):
    root = _copy_course(project, tmp_path)
    (root / "notebooks" / "01-python-essencial.ipynb").unlink()
    shutil.copy(root / "notebooks" / "00-jupyterlab.ipynb", root / "notebooks" / "99-rascunho.ipynb")
    assert cli.main(["--raiz", str(root), "verificar"]) == cli.FAILED
    out = capsys.readouterr().out
    assert "módulo 01: a lição notebooks/01-python-essencial.ipynb não existe" in out
    assert "99-rascunho.ipynb: notebook fora do programa" in out


def test_invalid_curriculum_exits_3(project, tmp_path, capsys):
    root = _copy_course(project, tmp_path)
    path = root / "curriculum" / "programa.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("situacao: escrito", "situacao: pronto", 1), encoding="utf-8"
    )
    assert cli.main(["--raiz", str(root), "verificar"]) == cli.SETUP
    err = capsys.readouterr().err
    assert "programa.yml" in err and "modulos[0].situacao: valor inválido" in err
