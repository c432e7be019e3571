"""Reading files a learner controls, from a privileged process, without being tricked.

Learners control two kinds of files the grader reads: the submission folder (``submitted/<aluno>/<tarefa>/``)
and, while their code runs, the kernel's own folder (its log). Everything here:

- opens without following symbolic links (``O_NOFOLLOW``), walking a tree with directory descriptors, so a
  link anywhere in the tree is seen as a link and never resolved (no race between checking and opening);
- opens without blocking (``O_NONBLOCK``): a FIFO cannot hang the grader, and ``fstat`` then refuses it;
- accepts only regular files with a single name (a hard link to a file outside the tree is refused too)
  and folders, and reads at most a bound (per file, per tree, number of entries and depth).

What it does not do: decide whether the content is safe (a notebook is still parsed by nbformat, untrusted
JSON within the bound); protect a file that changes after it was read (the grader uses its copy only).
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class UnsafeFile(Exception):
    """A file the grader refuses to read; `str()` is the pt-BR reason, naming the file."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name} {reason}")


@dataclass(frozen=True)
class Bounds:
    """How much of a submission is read at most."""

    file_bytes: int = 64 * MIB
    total_bytes: int = 256 * MIB
    entries: int = 5000
    depth: int = 24


def kind(mode: int) -> str:
    """What a non-regular file is, in pt-BR."""
    if stat.S_ISLNK(mode):
        return "é um link simbólico"
    if stat.S_ISFIFO(mode):
        return "é um pipe nomeado (FIFO)"
    if stat.S_ISSOCK(mode):
        return "é um socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "é um dispositivo"
    if stat.S_ISDIR(mode):
        return "é uma pasta"
    return "não é um arquivo comum"


def open_regular(name: str | os.PathLike, dir_fd: int | None = None, shown: str | None = None) -> int:
    """Open a regular file for reading: the last component is never followed and nothing blocks.

    Only the last component is untrusted here; for a tree use `read_tree`. Raises `UnsafeFile`."""
    shown = shown or str(name)
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFile(shown, "é um link simbólico") from None
        if exc.errno in (errno.ENXIO, errno.EOPNOTSUPP):  # a socket
            raise UnsafeFile(shown, "é um socket") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UnsafeFile(shown, kind(info.st_mode))
    return fd


def read_fd(fd: int, limit: int, shown: str) -> bytes:
    """At most `limit` bytes from `fd`; `UnsafeFile` if there is more."""
    chunks, size = [], 0
    while True:
        chunk = os.read(fd, min(1 * MIB, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise UnsafeFile(shown, f"passa do limite de {_size(limit)}")


def read_file(
    name: str | os.PathLike, limit: int, dir_fd: int | None = None, shown: str | None = None
) -> bytes:
    """The whole content of a regular file of at most `limit` bytes (see `open_regular`)."""
    fd = open_regular(name, dir_fd, shown)
    try:
        return read_fd(fd, limit, shown or str(name))
    finally:
        os.close(fd)


def tail(path: str | os.PathLike, limit: int) -> str:
    """The last `limit` bytes of a regular file as text; "" if it is missing, unreadable or not regular
    (a kernel's log may have been replaced by a FIFO or a link to /dev/zero)."""
    try:
        fd = open_regular(path)
    except (OSError, UnsafeFile):
        return ""
    try:
        size = os.fstat(fd).st_size
        os.lseek(fd, max(0, size - limit), os.SEEK_SET)
        return os.read(fd, limit).decode(errors="replace")
    except OSError:
        return ""
    finally:
        os.close(fd)


def open_folder(root: Path, relative: str | os.PathLike, shown: str | None = None) -> int:
    """A descriptor of `root / relative`, opening every component of `relative` without following links.

    `root` itself is trusted (the course folder). Raises `UnsafeFile` for a link or a non-folder."""
    fd = os.open(root, FOLDER_FLAGS & ~os.O_NOFOLLOW)
    parts = [p for p in Path(relative).parts if p not in ("", ".")]
    if ".." in parts:
        os.close(fd)
        raise UnsafeFile(shown or str(relative), "sai da pasta do curso")
    try:
        for number, part in enumerate(parts):
            try:
                child = os.open(part, FOLDER_FLAGS, dir_fd=fd)
            except OSError as exc:
                where = shown or str(Path(*parts[: number + 1]))
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafeFile(where, _what(part, fd)) from None
                raise
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


@dataclass
class Tree:
    """A folder read once: relative POSIX paths of its regular files and folders."""

    files: dict[str, bytes] = field(default_factory=dict)
    folders: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def read_tree(fd: int, ignore: list[str], bounds: Bounds = Bounds(), shown: str = "") -> Tree:
    """Read every regular file below the folder descriptor `fd` (names matching `ignore` are skipped
    unread, as nbgrader skips them). Raises `UnsafeFile` at the first link, FIFO, device, socket, hard
    link or bound exceeded: the caller refuses the whole folder."""
    tree = Tree()
    _walk(fd, "", ignore, bounds, tree, 0, shown)
    return tree


def _walk(
    fd: int, prefix: str, ignore: list[str], bounds: Bounds, tree: Tree, depth: int, shown: str
) -> None:
    if depth > bounds.depth:
        raise UnsafeFile(_show(shown, prefix), f"tem mais de {bounds.depth} níveis de pastas")
    with os.scandir(fd) as entries:
        listed = sorted(entries, key=lambda e: e.name)
    for entry in listed:
        relative = f"{prefix}{entry.name}"
        if any(fnmatch.fnmatch(entry.name, pattern) for pattern in ignore):
            tree.ignored.append(relative)
            continue
        if len(tree.files) + len(tree.folders) >= bounds.entries:
            raise UnsafeFile(_show(shown, ""), f"tem mais de {bounds.entries} arquivos e pastas")
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode):
            try:
                child = os.open(entry.name, FOLDER_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # swapped after the listing
                    raise UnsafeFile(_show(shown, relative), _what(entry.name, fd)) from None
                raise
            try:
                tree.folders.append(relative)
                _walk(child, relative + "/", ignore, bounds, tree, depth + 1, shown)
            finally:
                os.close(child)
        elif stat.S_ISREG(info.st_mode):
            name = _show(shown, relative)
            file_fd = open_regular(entry.name, fd, name)
            try:
                opened = os.fstat(file_fd)
                if opened.st_nlink != 1:
                    raise UnsafeFile(name, "tem outro nome fora da entrega (link físico)")
                used = sum(len(v) for v in tree.files.values())
                limit = min(bounds.file_bytes, bounds.total_bytes - used)
                if limit < bounds.file_bytes and opened.st_size > limit:
                    raise UnsafeFile(_show(shown, ""), f"passa do limite de {_size(bounds.total_bytes)}")
                tree.files[relative] = read_fd(file_fd, limit, name)
            finally:
                os.close(file_fd)
        else:
            raise UnsafeFile(_show(shown, relative), kind(info.st_mode))


def _what(name: str, dir_fd: int) -> str:
    """Why `name` (in `dir_fd`) could not be opened as a folder, in pt-BR."""
    try:
        reason = kind(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return "não pôde ser aberto"
    return "não é uma pasta" if reason == "é uma pasta" else reason


def _show(shown: str, relative: str) -> str:
    return f"{shown.rstrip('/')}/{relative}" if shown and relative else (shown or relative)


def _size(limit: int) -> str:
    return f"{limit // MIB} MB" if limit >= MIB else f"{limit} bytes"
