"""The zygote's protocol: every message between `zygote.py` and its client (`kernels.Zygote`), typed once.

JSON lines over the zygote's stdin (commands) and stdout (events); each line is one object whose "op" names
the message. Both sides encode with `to_json` and decode with `decode`, which checks the op, that every
field is present with its type and that there is nothing else: a malformed line raises `ProtocolError`
(the zygote answers it with `Rejected` and goes on; it never crashes on its input).

Commands: `Configure` (once, first), `Spawn` (fork one kernel), `Quit`.
Events: `Ready` (configured, with the probed plan), `Started` (a kernel's pid), `Exited` (a kernel's exit
code, or minus the signal number, and the tail of its log), `Rejected` (a command that was refused).
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, ClassVar

MAX_LINE_BYTES = 4 * 1024 * 1024  # a longer line is refused (an environment or plan is a few KB)


class ProtocolError(ValueError):
    """A line that is not a valid message."""


@dataclass(frozen=True)
class Message:
    op: ClassVar[str] = ""

    def to_json(self) -> str:
        """One line (without its newline)."""
        return json.dumps({"op": self.op, **asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        hints = typing.get_type_hints(cls)
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names - {"op"}
        if unknown:
            raise ProtocolError(f"{cls.op}: campos desconhecidos {sorted(unknown)}")
        values = {}
        for f in fields(cls):
            if f.name not in data:
                if f.default is MISSING and f.default_factory is MISSING:
                    raise ProtocolError(f"{cls.op}: falta o campo {f.name!r}")
                continue
            value = data[f.name]
            if not _matches(value, hints[f.name]):
                raise ProtocolError(f"{cls.op}: campo {f.name!r} com tipo inválido")
            values[f.name] = value
        return cls(**values)


def _matches(value: object, kind: object) -> bool:
    """Whether a decoded JSON value has the type `kind` (int, str, bool, list[X], dict[str, X], X | None)."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, option) for option in typing.get_args(kind))
    if kind is type(None):
        return value is None
    if kind is Any:
        return True
    if origin is list:
        (item,) = typing.get_args(kind)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict:
        key, item = typing.get_args(kind)
        pairs = value.items() if isinstance(value, dict) else ()
        return isinstance(value, dict) and all(_matches(k, key) and _matches(v, item) for k, v in pairs)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------
# commands (client -> zygote)


@dataclass(frozen=True)
class Configure(Message):
    """The run's configuration. `plan` is `isolation.Plan` as a dict; `trusted` is for course lessons (no
    guard, no cgroup per kernel, no disk quota: the plan is `Plan.none` there)."""

    op: ClassVar[str] = "configure"
    preload: list[str]
    protected: list[str]
    plan: dict[str, Any]
    probe_uid: int
    probe_folder: str
    xmode: str = "Plain"
    trusted: bool = False


@dataclass(frozen=True)
class Spawn(Message):
    """Fork one kernel. `folder`: its own scratch folder (removed when it exits); `workdir`: its working
    directory; `connection`: its connection file; `key`: the guard's key in hex ("" when trusted)."""

    op: ClassVar[str] = "spawn"
    id: int
    folder: str
    workdir: str
    connection: str
    log: str
    env: dict[str, str] = field(default_factory=dict)
    uid: int | None = None
    key: str = ""


@dataclass(frozen=True)
class Quit(Message):
    op: ClassVar[str] = "quit"


# ----------------------------------------------------------------------------------------------------------
# events (zygote -> client)


@dataclass(frozen=True)
class Ready(Message):
    op: ClassVar[str] = "ready"
    plan: dict[str, Any]
    level: str
    failures: list[str]
    unprotected: list[str]
    pid: int


@dataclass(frozen=True)
class Started(Message):
    op: ClassVar[str] = "started"
    id: int
    pid: int


@dataclass(frozen=True)
class Exited(Message):
    op: ClassVar[str] = "exited"
    pid: int
    code: int
    log: str = ""


@dataclass(frozen=True)
class Rejected(Message):
    """A command the zygote refused (`id`: the spawn it was, when known) and why, in pt-BR."""

    op: ClassVar[str] = "rejected"
    reason: str
    id: int | None = None


COMMANDS: dict[str, type[Message]] = {m.op: m for m in (Configure, Spawn, Quit)}
EVENTS: dict[str, type[Message]] = {m.op: m for m in (Ready, Started, Exited, Rejected)}


def decode(line: str | bytes, accepted: dict[str, type[Message]]) -> Message:
    """The message in one line, if it is one of `accepted` (`COMMANDS` or `EVENTS`); else `ProtocolError`."""
    if len(line) > MAX_LINE_BYTES:
        raise ProtocolError(f"linha com mais de {MAX_LINE_BYTES} bytes")
    try:
        data = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"JSON inválido: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("a mensagem não é um objeto JSON")
    kind = accepted.get(data.get("op"))  # type: ignore[arg-type]
    if kind is None:
        raise ProtocolError(f"operação desconhecida: {str(data.get('op'))[:40]!r}")
    return kind.from_dict(data)


def spawn_id(line: str | bytes) -> int | None:
    """The `id` of a line that looked like a spawn, to say which one was rejected (None if unknown)."""
    try:
        data = json.loads(line)
        ident = data.get("id") if isinstance(data, dict) else None
    except (ValueError, RecursionError):
        return None
    return ident if isinstance(ident, int) and not isinstance(ident, bool) else None
