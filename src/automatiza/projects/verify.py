"""`automatiza projeto verificar`: a replication package checked the way a receiving agency would.

It checks the files a package must have, refuses what must not travel (personal data, secrets, links),
then copies the package to a temporary folder, installs it in a fresh virtual environment from its own
`requirements.txt` and runs its tests and its robot on the sample data there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from automatiza.projects import sensitive
from automatiza.projects.canvas import CANVAS_FILE, CanvasError, load

PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[\w,-]+\])?==[\w.+!-]+(\s*;.*)?$")
STEP_TIMEOUT = 900


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Verification:
    package: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    def describe(self) -> str:
        lines = [f"Verificação do pacote {self.package}"]
        for c in self.checks:
            mark = "ok  " if c.ok else "FALHA"
            lines.append(f"  [{mark}] {c.name}" + (f"\n          {c.detail}" if c.detail else ""))
        lines.append("Pronto para outro órgão replicar." if self.ok else "O pacote NÃO pode viajar assim.")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {"pacote": self.package, "ok": self.ok, "verificacoes": [asdict(c) for c in self.checks]},
            ensure_ascii=False,
            indent=2,
        )


def _structure(package: Path, report: Verification) -> None:
    readme = package / "README.md"
    report.add(
        "README.md em português",
        readme.is_file() and readme.stat().st_size > 200,
        "" if readme.is_file() else "falta o README.md: diga o que o robô faz e os dois comandos",
    )
    licenses = [p for p in ("LICENSE", "LICENSE.md", "LICENCA", "LICENÇA") if (package / p).is_file()]
    report.add("licença", bool(licenses), "" if licenses else "falta o arquivo LICENSE (por exemplo, MIT)")
    try:
        load(package / CANVAS_FILE)
        report.add("canvas.yml preenchido", True)
    except CanvasError as exc:
        report.add("canvas.yml preenchido", False, "; ".join(exc.problems))
    requirements = package / "requirements.txt"
    if requirements.is_file():
        lines = [ln.strip() for ln in requirements.read_text(encoding="utf-8").splitlines()]
        loose = [ln for ln in lines if ln and not ln.startswith("#") and not PIN.match(ln)]
        report.add(
            "versões fixadas (requirements.txt)",
            not loose,
            f"sem versão exata (use ==): {', '.join(loose[:5])}" if loose else "",
        )
    else:
        report.add("versões fixadas (requirements.txt)", False, "falta o requirements.txt")
    robot = package / "robo.ipynb"
    has_params = False
    if robot.is_file():
        try:
            cells = json.loads(robot.read_text(encoding="utf-8"))["cells"]
            has_params = any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells)
        except (ValueError, KeyError, TypeError):
            pass
    report.add(
        "robô com parâmetros (robo.ipynb)",
        has_params,
        "" if has_params else "falta robo.ipynb com uma célula marcada 'parameters' (papermill)",
    )
    has_runner = (package / "robo.py").is_file()
    report.add("robo.py", has_runner, "" if has_runner else "falta robo.py, que roda o robô e registra")
    tests = sorted((package / "testes").glob("test_*.py")) if (package / "testes").is_dir() else []
    report.add("testes", bool(tests), "" if tests else "falta a pasta testes/ com arquivos test_*.py")
    dictionary = package / "dados" / "DICIONARIO.md"
    report.add(
        "dicionário de dados",
        dictionary.is_file(),
        ""
        if dictionary.is_file()
        else "falta dados/DICIONARIO.md: o que significa cada coluna dos dados de exemplo",
    )


def _privacy(package: Path, report: Verification) -> None:
    findings, refused = sensitive.scan(package)
    report.add("nenhum link ou arquivo especial", not refused, "; ".join(refused[:10]))
    by_kind = [f.describe() for f in findings]
    report.add(
        "sem dados pessoais nem segredos (CPF, e-mail, senha, token)",
        not findings,
        "; ".join(by_kind[:10]) + (f" (e mais {len(by_kind) - 10})" if len(by_kind) > 10 else ""),
    )


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[bool, str]:
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, f"passou de {STEP_TIMEOUT} s"
    tail = (done.stdout + done.stderr).strip().splitlines()[-8:]
    return done.returncode == 0, "\n          ".join(tail)


def _fresh_run(package: Path, report: Verification, reuse_environment: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="verificacao-") as tmp:
        copy = Path(tmp) / package.name
        shutil.copytree(
            package,
            copy,
            symlinks=True,
            ignore=shutil.ignore_patterns(".venv", "saida", "registros", "__pycache__", ".git"),
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
        if reuse_environment:
            python = sys.executable
        else:
            base = getattr(sys, "_base_executable", sys.executable)
            made, detail = _run([base, "-m", "venv", str(copy / ".venv")], copy, env)
            if made:
                python = str(copy / ".venv" / "bin" / "python")
                made, detail = _run(
                    [
                        python,
                        "-m",
                        "pip",
                        "install",
                        "-q",
                        "--disable-pip-version-check",
                        "-r",
                        "requirements.txt",
                    ],
                    copy,
                    env,
                )
            if not report.add("instala num ambiente novo", made, "" if made else detail):
                return
        passed, detail = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "testes"], copy, env)
        report.add("testes passam", passed, "" if passed else detail)
        ran, detail = _run(
            [
                python,
                "robo.py",
                "--saida",
                str(Path(tmp) / "saida"),
                "--registro",
                str(Path(tmp) / "execucoes.jsonl"),
            ],
            copy,
            env,
        )
        report.add("robô roda nos dados de exemplo", ran, "" if ran else detail)


def verify(package: Path, *, run: bool = True, reuse_environment: bool = False) -> Verification:
    """Every check of a package; `run=False` skips installing and running (structure and privacy only)."""
    package = package.resolve()
    report = Verification(str(package))
    if not package.is_dir():
        report.add("pasta do pacote", False, f"{package} não existe ou não é uma pasta")
        return report
    _structure(package, report)
    _privacy(package, report)
    if run and (package / "robo.py").is_file() and (package / "requirements.txt").is_file():
        _fresh_run(package, report, reuse_environment)
    return report
