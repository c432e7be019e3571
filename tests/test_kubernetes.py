"""The Zero to JupyterHub deployment files: Helm values valid for the chart, hub code that compiles, an
exchange volume every node can mount and an image built on the package's exact pins."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import ROOT

DEPLOY = ROOT / "deploy"
VALUES = DEPLOY / "kubernetes" / "valores-jupyterhub.yaml"


def _merge(base: dict, extra: dict) -> dict:
    """Helm's merge of user values over the chart defaults."""
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_values_are_valid_for_the_z2jh_chart():
    schema = _load(DEPLOY / "kubernetes" / "z2jh-values.schema.yaml")
    defaults = _load(DEPLOY / "kubernetes" / "z2jh-values.default.yaml")
    values = _merge(defaults, _load(VALUES))
    jsonschema.validate(values, schema, cls=jsonschema.Draft7Validator)


def test_schema_check_catches_a_misspelt_key():
    schema = _load(DEPLOY / "kubernetes" / "z2jh-values.schema.yaml")
    values = _merge(_load(DEPLOY / "kubernetes" / "z2jh-values.default.yaml"), _load(VALUES))
    values["singleuser"]["memoria"] = "2G"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(values, schema, cls=jsonschema.Draft7Validator)


def test_hub_code_gives_each_user_their_own_uid_and_learners_no_gradebook():
    code = _load(VALUES)["hub"]["extraConfig"]["automatiza.py"]

    class Group:
        def __init__(self, name):
            self.name = name

    class User:
        def __init__(self, uid, groups):
            self.id, self.groups = uid, [Group(g) for g in groups]

    class Spawner:
        def __init__(self, user):
            self.user, self.environment = user, {"AUTOMATIZA_BANCO_NOTAS": "postgresql://..."}

    class C:
        class KubeSpawner:
            pre_spawn_hook = None

    namespace = {"c": C}
    exec(compile(code, "automatiza.py", "exec"), namespace)
    hook = C.KubeSpawner.pre_spawn_hook
    learner, other, instructor = Spawner(User(7, [])), Spawner(User(8, [])), Spawner(User(9, ["instrutores"]))
    for spawner in (learner, other, instructor):
        hook(spawner)
    assert len({learner.uid, other.uid, instructor.uid}) == 3 and learner.uid >= 100000
    assert "AUTOMATIZA_BANCO_NOTAS" not in learner.environment
    assert instructor.environment["AUTOMATIZA_BANCO_NOTAS"].startswith("postgresql")
    assert learner.environment["JUPYTER_CONFIG_DIR"].endswith("jupyter-aluno")
    assert instructor.environment["JUPYTER_CONFIG_DIR"].endswith("jupyter-instrutor")


def test_exchange_volume_is_shared_across_nodes():
    claim = _load(DEPLOY / "kubernetes" / "troca-pvc.yaml")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    mounts = _load(VALUES)["singleuser"]["storage"]["extraVolumeMounts"]
    volumes = _load(VALUES)["singleuser"]["storage"]["extraVolumes"]
    assert volumes[0]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert mounts[0]["mountPath"] == "/srv/nbgrader/exchange"
    assert "/srv/nbgrader/exchange" in (DEPLOY / "imagem" / "configurar.py").read_text(encoding="utf-8")


def test_dockerfile_lint():
    """The checks a linter like hadolint would make, for what matters here."""
    text = (DEPLOY / "imagem" / "Dockerfile").read_text(encoding="utf-8")
    instructions = [ln for ln in text.splitlines() if ln and not ln.startswith(("#", " "))]
    assert re.search(r"^ARG BASE=debian:12", text, re.M), "a base é o Debian 12 do README"
    assert not re.search(r":latest\b", text)
    assert "pip install -c requirements/constraints.txt ." in text, "versões exatas do pacote"
    assert "rm -rf /var/lib/apt/lists/*" in text and "--no-install-recommends" in text
    users = [ln for ln in instructions if ln.startswith("USER ")]
    assert users and users[-1] != "USER root" and "NB_UID" in users[-1], "a imagem roda sem root"
    assert not any(ln.startswith("ADD ") for ln in instructions), "use COPY, não ADD"
    for path in re.findall(r"^COPY (\S+)", text, re.M):
        assert (ROOT / path).exists(), f"COPY de {path}, que não existe no repositório"



def test_image_configuration_points_instructors_to_the_gradebook(tmp_path, monkeypatch):
    import subprocess
    import sys

    from traitlets.config.loader import PyFileConfigLoader

    script = DEPLOY / "imagem" / "configurar.py"
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True)
    monkeypatch.setenv("AUTOMATIZA_BANCO_NOTAS", "postgresql+psycopg://notas@banco/notas")

    def load(folder: str):
        return PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path / folder)).load_config()

    instructor, learner = load("jupyter-instrutor"), load("jupyter-aluno")
    assert instructor.CourseDirectory.db_url == "postgresql+psycopg://notas@banco/notas"
    assert "db_url" not in learner.CourseDirectory
    assert learner.Exchange.root == instructor.Exchange.root == "/srv/nbgrader/exchange"
