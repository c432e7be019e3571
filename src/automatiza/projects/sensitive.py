"""What must not travel in a replication package: CPFs, e-mails, passwords, tokens and private keys.

Every file is read without following links and only up to a bound; notebooks are scanned cell by cell so
that a finding says whether it sits in the code or in a stored output.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from validate_docbr import CPF

MAX_FILE_BYTES = 20_000_000
SKIPPED_FOLDERS = {".venv", ".git", "__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
EXAMPLE_DOMAINS = re.compile(r"@(?:[\w-]+\.)*(?:example|exemplo)\.(?:com|org|net|gov\.br|com\.br)$", re.I)

CPF_PATTERN = re.compile(r"(?<![\d.])(\d{3}\.?\d{3}\.?\d{3}-?\d{2})(?![\d.])")
EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b(senha|password|passwd|pwd|token|api[_-]?key|secret|segredo|chave)\w*\b[\"']?\s*[:=]\s*"
    r"[\"']([^\"'\s]{6,})[\"']"
)
TOKEN_PATTERNS = {
    "chave de API (sk-)": re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"),
    "token do GitHub": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    "chave da AWS": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "token do Slack": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "chave privada": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
}
SECRET_IN_CONFIG = re.compile(  # `senha: abc123` in .env, YAML, INI files, where values go unquoted
    r"(?im)^\s*(?:export\s+)?(?:\w+_)?(senha|password|passwd|pwd|token|api[_-]?key|secret|segredo)(?:_\w+)?"
    r"\s*[:=](?!=)\s*([A-Za-z0-9_\-+/=!@$%^&*.]{6,})\s*$"
)
CONFIG_SUFFIXES = {".env", ".yml", ".yaml", ".ini", ".cfg", ".conf", ".toml", ".txt", ".properties", ""}
PLACEHOLDER = re.compile(r"(?i)^(x+|\*+|<.*>|\$\{.*\}|sua[_-]?.*|seu[_-]?.*|troque.*|changeme|exemplo.*)$")


@dataclass(frozen=True)
class Finding:
    path: str
    where: str  # "linha 12", "célula 3 (código)", "célula 3 (saída)"
    kind: str
    sample: str  # masked, so the report itself does not spread the data

    def describe(self) -> str:
        return f"{self.path}, {self.where}: {self.kind} ({self.sample})"


def mask(text: str) -> str:
    return text[:3] + "…" + text[-2:] if len(text) > 6 else "…"


def scan_text(text: str, config: bool = False) -> list[tuple[int, str, str]]:
    """(line, kind, masked sample) for every sensitive item in `text` (`config`: a settings file)."""
    found: list[tuple[int, str, str]] = []
    validator = CPF()
    for number, line in enumerate(text.splitlines(), start=1):
        for match in CPF_PATTERN.finditer(line):
            digits = re.sub(r"\D", "", match.group(1))
            if len(set(digits)) > 1 and validator.validate(digits):
                found.append((number, "CPF", mask(match.group(1))))
        for match in EMAIL_PATTERN.finditer(line):
            if not EXAMPLE_DOMAINS.search(match.group(0)):
                found.append((number, "e-mail", mask(match.group(0))))
        for match in SECRET_ASSIGNMENT.finditer(line):
            if not PLACEHOLDER.match(match.group(2)):
                found.append((number, f"senha ou token em '{match.group(1)}'", mask(match.group(2))))
        if config:
            for match in SECRET_IN_CONFIG.finditer(line):
                if not PLACEHOLDER.match(match.group(2)):
                    found.append((number, f"senha ou token em '{match.group(1)}'", mask(match.group(2))))
        for kind, pattern in TOKEN_PATTERNS.items():
            found += [(number, kind, mask(m.group(0))) for m in pattern.finditer(line)]
    return found


def read_bounded(path: Path) -> bytes | None:
    """The bytes of a regular file, opened without following links; None if it is not a regular file."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        return handle.read(MAX_FILE_BYTES + 1)


def _notebook_findings(rel: str, data: bytes) -> list[Finding] | None:
    try:
        nb = json.loads(data)
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError):
        return None
    findings = []
    for index, cell in enumerate(cells, start=1):
        source = "".join(cell.get("source", ""))
        findings += [Finding(rel, f"célula {index} (código)", k, s) for _, k, s in scan_text(source)]
        for output in cell.get("outputs", []):
            texts = [output.get("text", ""), output.get("evalue", ""), *output.get("data", {}).values()]
            text = "\n".join("".join(t) if isinstance(t, list) else str(t) for t in texts)
            findings += [Finding(rel, f"célula {index} (saída)", k, s) for _, k, s in scan_text(text)]
    return findings


def scan(package: Path) -> tuple[list[Finding], list[str]]:
    """Sensitive findings in every file of `package`, and files that could not be scanned (with why)."""
    findings: list[Finding] = []
    refused: list[str] = []
    for folder, dirs, files in os.walk(package, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_FOLDERS)
        here = Path(folder)
        for name in [d for d in dirs if (here / d).is_symlink()]:
            refused.append(f"{(here / name).relative_to(package)}: link simbólico (não viaja num pacote)")
            dirs.remove(name)
        for name in sorted(files):
            path = here / name
            rel = str(path.relative_to(package))
            if path.is_symlink():
                refused.append(f"{rel}: link simbólico (não viaja num pacote)")
                continue
            data = read_bounded(path)
            if data is None:
                refused.append(f"{rel}: não é um arquivo comum")
                continue
            if len(data) > MAX_FILE_BYTES:
                refused.append(f"{rel}: maior que {MAX_FILE_BYTES // 1_000_000} MB; não dá para conferir")
                continue
            if b"\0" in data[:8192]:
                continue  # binary (images, spreadsheets): not scanned as text
            if name.endswith(".ipynb") and (nb_findings := _notebook_findings(rel, data)) is not None:
                findings += nb_findings
                continue
            text = data.decode("utf-8", errors="replace")
            config = path.suffix.lower() in CONFIG_SUFFIXES or name.startswith(".env")
            findings += [Finding(rel, f"linha {n}", k, s) for n, k, s in scan_text(text, config)]
    return findings, refused
