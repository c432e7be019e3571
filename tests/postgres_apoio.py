"""A throwaway PostgreSQL server for the tests and the benchmark: Debian's PostgreSQL binaries, a cluster in
a temp folder, listening on loopback only (a free port) and on a unix socket in that folder, with password
(SCRAM) authentication. initdb refuses to run as root, so as root the cluster belongs to Debian's `postgres`
system user; any other user runs it as themselves."""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE = "AUTOMATIZA_EXIGIR_POSTGRES"
SUPERUSER = "automatiza"


class Unavailable(Exception):
    """PostgreSQL cannot be started on this machine (the message says why)."""


@dataclass
class Server:
    host: str
    port: int
    password: str
    folder: Path

    def url(self, database: str = "postgres", *, driver: str = "postgresql") -> str:
        return f"{driver}://{SUPERUSER}:{self.password}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its plain `postgresql://` URL (as a user would type it)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _bin() -> Path:
    for version in ("15", "16", "17"):
        folder = Path(f"/usr/lib/postgresql/{version}/bin")
        if (folder / "initdb").exists():
            return folder
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise Unavailable("o PostgreSQL não está instalado (Debian: apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


@contextlib.contextmanager
def server() -> Iterator[Server]:
    """Start a PostgreSQL server for the duration of the block; Unavailable if it cannot start."""
    binaries = _bin()
    owner = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            reason = "como root, o initdb precisa do usuário 'postgres' (pacote postgresql)"
            raise Unavailable(reason) from None
        owner = "postgres"
    folder = Path(tempfile.mkdtemp(prefix="automatiza-pg-"))
    data = folder / "dados"
    password = secrets.token_hex(12)
    try:
        (folder / "senha").write_text(password)
        if owner:
            entry = pwd.getpwnam(owner)
            for path in (folder, folder / "senha"):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        folder.chmod(0o700)
        init = [
            str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=scram-sha-256",
            f"--pwfile={folder / 'senha'}", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        ]  # fmt: skip
        _run(_as_owner(init, owner), "initdb")
        (folder / "senha").unlink()
        port = _free_port()
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c max_connections=40"
        start = [str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w"]
        _run(_as_owner([*start, "start"], owner), "pg_ctl start")
        try:
            yield Server("127.0.0.1", port, password, folder)
        finally:
            subprocess.run(
                _as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], owner),
                capture_output=True,
                timeout=60,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"{what}: {exc}") from None
    if done.returncode != 0:
        raise Unavailable(f"{what} falhou: {(done.stderr or done.stdout).strip()[-800:]}")


def unavailable(reason: str) -> None:
    """Skip where PostgreSQL cannot start; under AUTOMATIZA_EXIGIR_POSTGRES=1 (.ci/run) fail instead."""
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{REQUIRE}=1 e o PostgreSQL não pôde ser iniciado: {reason}")
    pytest.skip(f"PostgreSQL indisponível nesta máquina: {reason}")


def wait_until(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()
