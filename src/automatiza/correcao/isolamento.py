"""Isolation of learners' code on Linux: a private uid per kernel, namespaces and resource limits.

The grader (running as root, usually) asks the zygote (`zigoto.py`) for kernels; each kernel is a forked child
that calls `apply()` before any learner code runs:

1. new mount namespace: every top-level folder outside a small system allowlist (`/usr`, `/lib*`, `/bin`,
   `/sbin`, `/etc`, `/dev`, `/proc`, `/sys`) is hidden under an empty read-only tmpfs, so the course folder,
   the repository with the solutions, the gradebook, other kernels' folders and the instructor's home are not
   even visible; the Python installation and the kernel's own folder are bound back (Python read-only);
2. new network namespace (no interface but a loopback that is down) and new IPC namespace;
3. a uid of its own (no other process or file shares it), no supplementary groups, `no_new_privs`;
4. `setrlimit` for CPU time, address space, processes, file size and open files.

`probe()` tries the strongest plan first and falls back step by step to what the OS allows (e.g. a container
without CAP_SYS_ADMIN cannot create namespaces), and `Plan.describe()` says in pt-BR what was achieved.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import resource
import signal
import stat
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV = 1, 2, 4
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
O_PATH = 0o10000000

# top-level folders a kernel may see; everything else at the top is hidden
SYSTEM_TOP = frozenset({"usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "dev", "proc", "sys"})
# world-writable places inside the allowed folders, hidden too (read-only empty tmpfs)
HIDDEN_INSIDE = ("/dev/shm", "/dev/mqueue")
UID_RANGE = (50000, 59000)  # below systemd's dynamic range (61184-65519) and inside a 65536 uid map

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def encode(text: str | None) -> bytes | None:
        return text.encode() if text is not None else None

    _check(
        _libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
        f"mount {target}",
    )


def prctl(option: int, value: int) -> None:
    _check(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(value), 0, 0, 0), "prctl")


@dataclass(frozen=True)
class Limits:
    """Per-kernel limits. CPU time counts the whole notebook; wall time per cell is nbgrader's timeout."""

    cpu_seconds: int = 600
    memory_mb: int = 3072
    processes: int = 128
    file_mb: int = 64
    open_files: int = 1024
    output_kb: int = 1024  # output kept per cell by the grader (not an rlimit)
    notebook_seconds: int = 900  # wall time for a whole notebook

    def apply(self, own_uid: bool = True) -> None:
        """Set the limits. RLIMIT_NPROC counts every process of the uid, so it is set only when the kernel
        has a uid of its own (with the instructor's uid it would count their other programs too)."""

        def set_limit(kind: int, soft: int, hard: int | None = None) -> None:
            resource.setrlimit(kind, (soft, soft if hard is None else hard))

        set_limit(resource.RLIMIT_CPU, self.cpu_seconds, self.cpu_seconds + 5)
        set_limit(resource.RLIMIT_AS, self.memory_mb * 1024 * 1024)
        if own_uid:
            set_limit(resource.RLIMIT_NPROC, self.processes)
        set_limit(resource.RLIMIT_FSIZE, self.file_mb * 1024 * 1024)
        set_limit(resource.RLIMIT_NOFILE, self.open_files)
        set_limit(resource.RLIMIT_CORE, 0)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too big file fails with an error, not a dead kernel


@dataclass(frozen=True)
class Plan:
    """What each kernel child applies. Serialized as JSON for the zygote."""

    uid: bool = True  # run as a uid of its own (needs root)
    mounts: bool = True  # private file system view (mount namespace)
    network: bool = True  # no network (network namespace)
    limits: Limits = field(default_factory=Limits)
    keep: tuple[str, ...] = ()  # folders bound back read-only (the Python installation)
    secrets: tuple[str, ...] = ()  # folders that must stay unreadable (course, sources, gradebook)
    warnings: tuple[str, ...] = ()  # what the probe found weaker than asked, in pt-BR

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        data["limits"] = Limits(**data["limits"])
        for key in ("keep", "secrets", "warnings"):
            data[key] = tuple(data[key])
        return cls(**data)

    def describe(self) -> str:
        """The isolation level in pt-BR, e.g. 'usuário sem privilégios + ... + sem rede'."""
        parts = ["usuário sem privilégios" if self.uid else "MESMO usuário do corretor"]
        parts.append("sistema de arquivos restrito" if self.mounts else "pastas protegidas só por permissões")
        parts.append("limites de CPU, memória, processos e arquivos")
        parts.append("sem rede" if self.network else "COM rede")
        return " + ".join(parts)

    @property
    def full(self) -> bool:
        return self.uid and self.mounts and self.network and not self.warnings


# ----------------------------------------------------------------------------------------------------------
# what to keep visible and what must stay hidden (computed by the grader, as root, before any fork)


def _pth_folders() -> set[str]:
    """Folders added to the import path by .pth files (editable installs such as this package's src/)."""
    import site

    folders: set[str] = set()
    for packages in site.getsitepackages():
        for pth in Path(packages).glob("*.pth"):
            try:
                lines = pth.read_text(errors="replace").splitlines()
            except OSError:
                continue
            for line in lines:
                line = line.strip()
                if line and not line.startswith(("#", "import ", "import\t")) and os.path.isabs(line):
                    folders.add(line)
    return folders


def python_paths() -> list[str]:
    """Folders the kernel's Python needs: prefixes, the real executable's prefix, library folders on the
    import path and the folders of .pth files. Never the current folder or a script's folder."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    real = Path(os.path.realpath(sys.executable))
    prefixes.add(str(real.parent.parent))
    candidates = set(prefixes) | _pth_folders()
    for entry in sys.path:
        if (
            entry
            and os.path.isabs(entry)
            and any(_is_within(os.path.realpath(entry), os.path.realpath(p)) for p in prefixes)
        ):
            candidates.add(entry)
    found = []
    for path in sorted(candidates):
        if os.path.exists(path):
            found.append(os.path.realpath(path))
            found.append(os.path.abspath(path))
    return _outermost(found)


def _outermost(paths: list[str]) -> list[str]:
    """Drop duplicates and paths inside another path of the list."""
    result: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path == p or path.startswith(p.rstrip("/") + "/") for p in result):
            result.append(path)
    return sorted(result)


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def safe_keep(keep: list[str], secrets: list[str]) -> list[str]:
    """Keep folders minus any that contains a secret (e.g. the repository root itself on sys.path)."""
    secrets = [os.path.realpath(s) for s in secrets]
    return [k for k in keep if k != "/" and not any(_is_within(s, os.path.realpath(k)) for s in secrets)]


# ----------------------------------------------------------------------------------------------------------
# inside the forked child, as root, before the kernel starts


def _make_mountpoint(path: str, is_dir: bool) -> None:
    if is_dir:
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.exists(path):
            open(path, "w").close()


def _private_view(keep: list[str], writable: list[str]) -> None:
    """Mount namespace: hide every top-level folder but the system ones, bind `keep` and `writable` back."""
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    wanted = [(p, False) for p in keep] + [(p, True) for p in writable]
    handles = {p: (os.open(p, O_PATH), stat.S_ISDIR(os.stat(p).st_mode), rw) for p, rw in wanted}
    hidden = [
        f"/{name}"
        for name in sorted(os.listdir("/"))
        if name not in SYSTEM_TOP and os.path.isdir(f"/{name}") and not os.path.islink(f"/{name}")
    ]
    hidden += [p for p in HIDDEN_INSIDE if os.path.isdir(p) and not os.path.islink(p)]
    try:
        for top in hidden:
            mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
            inside = [p for p in handles if _is_within(p, top)]
            for path in _outermost(inside):
                fd, is_dir, rw = handles[path]
                _make_mountpoint(path, is_dir)
                mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
                if not rw:
                    mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
            mount(None, top, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
    finally:
        for fd, _, _ in handles.values():
            os.close(fd)


def apply(plan: Plan, uid: int | None, writable: list[str]) -> None:
    """Enter the sandbox described by `plan` (called once, in the forked child, before the kernel starts)."""
    flags = (CLONE_NEWNET | CLONE_NEWIPC) if plan.network else 0
    if flags:
        unshare(flags)
    if plan.mounts:
        _private_view(list(plan.keep), writable)
    if plan.uid and uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    plan.limits.apply(own_uid=plan.uid and uid is not None)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid, which clears it


# ----------------------------------------------------------------------------------------------------------
# probing what the OS allows (in the zygote, as root)


def _probe_child(plan: Plan, uid: int, folder: str) -> dict:
    """Runs in a forked child: apply the plan, then check what the kernel could and could not do."""
    result: dict = {"ok": False, "problems": [], "readable_secrets": [], "writable_outside": []}
    try:
        apply(plan, uid, [folder])
    except OSError as exc:
        result["error"] = str(exc)
        return result
    for path in plan.keep:
        try:
            os.listdir(path)
        except OSError as exc:
            result["problems"].append(f"o Python não pode ser lido em {path} ({exc.strerror})")
    for path in plan.secrets:
        if plan.mounts and any(_is_within(keep, path) for keep in plan.keep):
            continue  # e.g. /root holding the Python installation: only the kept folder is visible there
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                open(path, "rb").close()
            result["readable_secrets"].append(path)
        except OSError:
            pass
    for place in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(place):
            target = os.path.join(place, f".automatiza-sonda-{os.getpid()}")
            try:
                with open(target, "w"):
                    pass
                os.unlink(target)
                result["writable_outside"].append(place)
            except OSError:
                pass
    try:
        with open(os.path.join(folder, "sonda"), "w") as fh:
            fh.write("ok")
    except OSError as exc:
        result["problems"].append(f"o kernel não pode escrever na própria pasta ({exc.strerror})")
    if plan.network:
        import socket

        names = [name for _, name in socket.if_nameindex()]
        if names != ["lo"]:
            result["problems"].append(f"interfaces de rede visíveis: {names}")
    result["ok"] = not result["problems"]
    return result


def _run_probe(plan: Plan, uid: int, folder: str) -> dict:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            data = _probe_child(plan, uid, folder)
        except BaseException as exc:  # noqa: BLE001 - anything, reported to the parent
            data = {"ok": False, "error": repr(exc)}
        os.write(write_fd, json.dumps(data).encode())
        os._exit(0)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    try:
        return json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        return {"ok": False, "error": "a sonda terminou sem resposta"}


def probe(wanted: Plan, uid: int, folder: str) -> Plan:
    """The strongest plan, at most `wanted`, that works here; `warnings` says what is missing, in pt-BR.

    `folder` is an empty scratch folder owned by `uid`, used as the probe's own folder.
    """
    warnings: list[str] = []
    candidates: list[Plan] = []
    uid_options = [True, False] if wanted.uid and os.geteuid() == 0 else [False]
    for use_uid in uid_options:
        for mounts in [True, False] if wanted.mounts else [False]:
            for network in [True, False] if wanted.network else [False]:
                candidates.append(replace(wanted, uid=use_uid, mounts=mounts, network=network))
    chosen: Plan | None = None
    errors: list[str] = []
    for candidate in candidates:
        result = _run_probe(candidate, uid, folder)
        if result.get("ok"):
            chosen = candidate
            if result["readable_secrets"]:
                warnings.append(
                    "o código dos alunos consegue ler "
                    + ", ".join(result["readable_secrets"])
                    + " (rode chmod o-rwx nessas pastas)"
                )
            if result["writable_outside"]:
                places = ", ".join(result["writable_outside"])
                warnings.append(f"o código dos alunos consegue escrever em {places}")
            break
        errors.append(result.get("error") or "; ".join(result.get("problems", [])))
    if chosen is None:
        chosen = replace(wanted, uid=False, mounts=False, network=False)
        warnings.append("nenhum isolamento funcionou aqui: " + " | ".join(e for e in errors if e))
    if wanted.uid and not chosen.uid:
        if os.geteuid() != 0:
            warnings.append("o corretor não roda como root: o código dos alunos roda com o seu usuário")
        else:
            warnings.append("não foi possível trocar de usuário (" + (errors[0] if errors else "?") + ")")
    if wanted.mounts and not chosen.mounts:
        warnings.append("sem namespace de montagem: as pastas ficam protegidas só pelas permissões")
    if wanted.network and not chosen.network:
        warnings.append("sem namespace de rede: o código dos alunos tem acesso à rede")
    return replace(chosen, warnings=tuple(warnings))


# ----------------------------------------------------------------------------------------------------------
# uids


BLOCK = 512  # uids reserved by one run; two runs at the same time never share a uid


def _busy_uids() -> set[int]:
    busy = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                busy.add(os.stat(f"/proc/{entry}").st_uid)
            except OSError:
                pass
    return busy


def reserve_uids(lock_folder: str) -> tuple[list[int], object]:
    """A block of uids from UID_RANGE for this run, held with an flock until the returned handle is closed.

    The uids have no account; processes still running with them are leftovers of a run that was killed
    (the lock proves no other run owns the block) and are killed first.
    """
    import fcntl
    import pwd

    for number in range((UID_RANGE[1] - UID_RANGE[0]) // BLOCK):
        lock = os.path.join(lock_folder, f"automatiza-corretor-uids-{number}.lock")
        handle = os.fdopen(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600), "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        first = UID_RANGE[0] + number * BLOCK
        busy = _busy_uids()
        uids = []
        for uid in range(first, first + BLOCK):
            try:
                pwd.getpwuid(uid)
                continue
            except KeyError:
                pass
            if uid in busy:
                kill_uid(uid)
            uids.append(uid)
        return uids, handle
    raise RuntimeError("todos os blocos de usuários do corretor estão em uso por outras correções")


def kill_uid(uid: int) -> None:
    """SIGKILL every process of `uid` (kill(-1) from a short-lived child that becomes that uid)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for _ in range(3):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")


def remove_files_of(uid: int, places: tuple[str, ...] = WORLD_WRITABLE) -> None:
    """Delete what `uid` left in world-writable folders (only needed without a private file system view)."""
    import shutil

    for place in places:
        try:
            entries = list(os.scandir(place))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    pass
