"""Database URLs given by instructors (cohort gradebook, hub database): normalized and checked.

SQLite needs nothing; PostgreSQL goes through psycopg 3, the driver installed with the package, so a plain
`postgresql://` (or `postgres://`) URL is rewritten to `postgresql+psycopg://` before nbgrader, JupyterHub or
SQLAlchemy see it. `check` connects once and turns a failure into a pt-BR message that never shows the
password.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

DRIVER = "postgresql+psycopg"
CONNECT_SECONDS = 5


class DatabaseError(ValueError):
    """A database URL that cannot be used (pt-BR message, password hidden)."""


def _parse(url: str) -> URL:
    try:
        return make_url(url.strip())
    except (ArgumentError, ValueError):
        raise DatabaseError(
            "o que foi dado não é uma URL de banco de dados. Exemplos: "
            "postgresql://usuario:senha@servidor:5432/banco ou sqlite:////caminho/gradebook.db"
        ) from None


def normalize(url: str) -> str:
    """The URL with the installed PostgreSQL driver (`postgresql://...` -> `postgresql+psycopg://...`)."""
    parsed = _parse(url)
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgresql", "postgres"):
        if driver not in ("", "psycopg"):
            raise DatabaseError(
                f"o driver '{driver}' do PostgreSQL não vem com o curso; use uma URL postgresql://... "
                f"(o curso usa o psycopg 3: {DRIVER}://...)"
            )
        parsed = parsed.set(drivername=DRIVER)
        return parsed.render_as_string(hide_password=False)
    return url.strip()


def shown(url: str) -> str:
    """The URL safe to print: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(URL inválida)"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and for in-memory SQLite)."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def is_sqlite(url: str) -> bool:
    return _parse(url).get_backend_name() == "sqlite"


def check(url: str) -> None:
    """Connect once (at most CONNECT_SECONDS) and run `SELECT 1`; DatabaseError with a pt-BR hint if not."""
    url = normalize(url)
    if is_sqlite(url):
        return
    try:
        engine = create_engine(url, connect_args={"connect_timeout": CONNECT_SECONDS}, poolclass=NullPool)
    except NoSuchModuleError:
        raise DatabaseError(
            f"não há driver instalado para {shown(url)}: o curso trabalha com SQLite e PostgreSQL"
        ) from None
    except (ArgumentError, ValueError) as exc:
        raise DatabaseError(f"URL de banco inválida {shown(url)}: {exc}") from None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        detail = reason[0] if reason else type(exc).__name__
        raise DatabaseError(
            f"não consegui conectar ao banco {shown(url)} ({detail}). Confira se o servidor PostgreSQL está "
            "rodando e aceita conexões nesse endereço e porta, se o usuário e a senha estão certos e se o "
            "banco existe (crie-o com: createdb NOME)"
        ) from None
    finally:
        engine.dispose()
