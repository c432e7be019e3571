"""Isolation of learners' code on Linux, with or without root, failing closed.

Each kernel is a child forked by the zygote (`zygote.py`) that calls `apply()` before any learner code runs:

1. a uid of its own: as root, a reserved uid no other process or file has (`reserve_uids`); as a regular
   user, a user namespace where the kernel is uid 1000 with no capabilities left (outside it is still the
   instructor's uid, so what keeps it from the instructor's files is 2 and 3, not file permissions);
2. new PID namespace (the kernel is PID 1 and sees only its own processes in a fresh `/proc`; the process the
   zygote knows is a small shim that forwards signals and exits like the kernel), new network namespace
   (only a loopback that is down) and new IPC namespace;
3. new mount namespace: every top-level folder outside a small system allowlist (`/usr`, `/lib*`, `/bin`,
   `/sbin`, `/etc`, `/sys`) is hidden under an empty read-only tmpfs, so the course folder, the repository
   with the solutions, the gradebook, other kernels' folders and the instructor's home are not even
   visible; the Python installation is bound back read-only and the kernel's own folder read-write; `/tmp`
   and `/dev/shm` are private tmpfs with a size limit; `/dev` holds only null, zero, full, random, urandom
   and tty;
4. `no_new_privs` and `setrlimit` for CPU time, address space, processes (a total for the kernel: its uid or
   its user namespace has no other process), file size and open files.

`probe()` checks, in a forked child, that all of this works here and that the protected folders are out of
reach. Where it does not, the plan comes back with `warnings` saying what is missing and the grader refuses
to run learner code (`unavailable_message`), unless the instructor passes `--sem-isolamento` (a `Plan` with
everything off, recorded as such in the summary and the JSON report).

Totals, the best the machine allows (the plan says which applies; `describe()`, the summary and the JSON
report repeat it):

- memory and processes as one hard total per kernel where a cgroup with memory and pids can be made (root,
  or a user with a delegated cgroup v2 subtree: `probe_totals`, `grading.sandbox.cgroups`);
- otherwise memory as a SAMPLED total (`memory_sampling`): the shim, outside the kernel's PID namespace,
  sums the PSS (`/proc/<pid>/smaps_rollup`; RSS from `statm` where that cannot be read) of every process
  of the namespace every `SAMPLE_SECONDS` (4x as often near the limit) and, when the sum passes
  `Limits.memory_mb`, kills the namespace's PID 1 (the kernel dies, and with it every process of the
  namespace) and writes `MEMORY_MARK` to the kernel's log, which the grader reports as "memória esgotada".
  It is NOT a hard limit like a cgroup: an allocation faster than one sample can overshoot until the next
  one (each process is still stopped by its own RLIMIT_AS of `memory_mb`), and memory that is not mapped by
  any process (files in the kernel's tmpfs folders, /tmp and /dev/shm, which have their own sizes; memfd
  files not mapped, each limited by RLIMIT_FSIZE; kernel buffers) is not in the sum;
- processes: RLIMIT_NPROC is a total for the kernel in both modes. As root, the kernel's uid is reserved
  for it (no other process has it). In a user namespace, Linux (5.14 or newer) counts RLIMIT_NPROC per
  (user namespace, uid), so it counts the kernel's processes (and its shim) only, never the instructor's
  other programs; on older kernels it counted every process of the instructor's uid.

Disk quota on the kernel's folder (working folder, HOME, TMPDIR): a tmpfs of `Limits.disk_mb` in both modes.
As root the zygote mounts it before the fork (`quota_folder`, `disk_quota`). Without root the kernel mounts
it itself, inside its own user and mount namespaces (tmpfs may be mounted there without privileges:
`disk_quota_userns`, `_quota_in_namespace`): what the grader made in the folder is copied in first, the
grader's folder stays visible read-only at `ORIGIN` (where `receive()` copies the submission's files from,
in the kernel, when the grader hands it a submission), and the sockets folder is bound back from the host
and made read-only once the kernel has bound its sockets (`apply()` returns that `seal`). In both modes the
kernel's log is the host file opened before the sandbox (limited by RLIMIT_FSIZE, read by the zygote with
`files.tail`). `probe()` checks every mechanism the plan names (the sampled sum sees a child's memory, the
quota stops a write, the grader's folder and the sealed sockets folder are read-only) and fails closed.
Not done: a kernel may use its CPU share until its CPU-time limit.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import resource
import select
import signal
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from automatiza.errors import SetupError
from automatiza.grading.sandbox import cgroups

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 24, 38, 47
O_PATH = 0o10000000
INNER_UID = 1000  # the kernel's uid inside its user namespace (when the grader is not root)

# top-level folders a kernel may see; everything else at the top is hidden (/dev and /proc are rebuilt)
SYSTEM_TOP = frozenset({"usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "dev", "proc", "sys"})
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
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
    tmp_mb: int = 256  # the kernel's private /tmp (tmpfs)
    shm_mb: int = 64  # the kernel's private /dev/shm (tmpfs)
    disk_mb: int = 512  # the kernel's folder (working folder, HOME, TMPDIR) is a tmpfs this big

    def apply(self, own_uid: bool = True) -> None:
        """Set the limits. RLIMIT_NPROC counts the processes of the uid (in a user namespace: of the uid in
        that namespace), so it is set only when the kernel has a uid of its own (with the instructor's uid it
        would count their other programs too); then it is a total for the kernel."""

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

    uid: bool = True  # a uid of its own (a reserved uid as root, a user namespace otherwise)
    mounts: bool = True  # private file system view (mount namespace)
    network: bool = True  # no network (network and IPC namespaces)
    pid: bool = True  # own processes only (PID namespace, fresh /proc)
    userns: bool = False  # the uid of its own comes from a user namespace (the grader is not root)
    limits: Limits = field(default_factory=Limits)
    keep: tuple[str, ...] = ()  # folders bound back read-only (the Python installation)
    secrets: tuple[str, ...] = ()  # folders that must stay unreadable (course, sources, gradebook)
    warnings: tuple[str, ...] = ()  # what the probe found missing, in pt-BR: the plan is not usable
    totals: str = ""  # "cgroup v2" or "cgroup v1": memory and processes are one total per kernel
    totals_note: str = ""  # why there is no cgroup per kernel (pt-BR), when `totals` is empty
    disk_quota: bool = False  # the kernel folder is a tmpfs of `limits.disk_mb` mounted by the zygote (root)
    disk_quota_userns: bool = False  # ... mounted by the kernel in its own user namespace (not root)
    memory_sampling: bool = False  # no cgroup: the shim samples the memory total and kills past it

    @classmethod
    def wanted(cls, **kwargs: object) -> Plan:
        """Full isolation, through a user namespace when this process is not root."""
        return cls(userns=os.geteuid() != 0, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def none(cls, **kwargs: object) -> Plan:
        """No isolation at all (`--sem-isolamento`)."""
        return cls(uid=False, mounts=False, network=False, pid=False, userns=False, **kwargs)  # type: ignore[arg-type]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        data["limits"] = Limits(**data["limits"])
        for key in ("keep", "secrets", "warnings"):
            data[key] = tuple(data[key])
        return cls(**data)

    @property
    def isolated(self) -> bool:
        return self.uid or self.mounts or self.network or self.pid

    def describe(self) -> str:
        """The isolation level in pt-BR, e.g. 'usuário sem privilégios (uid reservado) + ... + sem rede'."""
        if not self.isolated:
            return (
                "SEM ISOLAMENTO (--sem-isolamento): o código dos alunos rodou com o seu usuário, "
                "vendo os seus arquivos e com rede"
            )
        parts = []
        if self.uid:
            how = "namespace de usuário" if self.userns else "uid reservado"
            parts.append(f"usuário sem privilégios ({how})")
        parts.append("sistema de arquivos restrito" if self.mounts else "SEM sistema de arquivos restrito")
        parts.append("processos isolados" if self.pid else "SEM namespace de processos")
        parts += self.describe_totals()
        parts.append("limite de CPU")
        parts.append("sem rede" if self.network else "COM rede")
        return " + ".join(parts)

    def describe_totals(self) -> list[str]:
        """How memory, processes and the disk add up per kernel, in pt-BR (one item each)."""
        if self.totals:
            parts = [f"memória e processos somados por kernel ({self.totals})"]
        elif self.memory_sampling:
            processes = "namespace de usuário" if self.userns else "uid reservado"
            parts = [
                f"memória somada por kernel por amostragem (sem cgroup: o kernel é encerrado quando a soma "
                f"passa de {self.limits.memory_mb} MB)",
                f"processos somados por kernel (RLIMIT_NPROC no {processes})",
            ]
        else:
            parts = ["memória por processo e número de processos pelo usuário do kernel (sem cgroup)"]
        if self.disk_quota or self.disk_quota_userns:
            how = "tmpfs do root" if self.disk_quota else "tmpfs no namespace de usuário do kernel"
            parts.append(f"cota de disco de {self.limits.disk_mb} MB na pasta do kernel ({how})")
        else:
            parts.append(f"cota de disco só por arquivo ({self.limits.file_mb} MB)")
        return parts

    def report(self) -> dict[str, object]:
        """The mechanisms behind the limits, for the JSON report."""
        if self.totals:
            memory, processes = self.totals, self.totals
        elif self.memory_sampling:
            memory = "amostragem"
            processes = "RLIMIT_NPROC (" + ("namespace de usuário" if self.userns else "uid reservado") + ")"
        else:
            memory, processes = "", ""
        quota = "tmpfs (root)" if self.disk_quota else "tmpfs (namespace de usuário)"
        has_quota = self.disk_quota or self.disk_quota_userns
        return {
            "memoria_total": memory,
            "processos_total": processes,
            "cota_de_disco": quota if has_quota else "",
            "cota_de_disco_mb": self.limits.disk_mb if has_quota else None,
        }

    @property
    def full(self) -> bool:
        return self.uid and self.mounts and self.network and self.pid and not self.warnings


class IsolationUnavailable(SetupError):
    """The machine cannot isolate learners' code; `str()` explains in pt-BR what is missing and the fix."""


def unavailable_message(plan: Plan) -> str:
    """Why grading is refused here and what the instructor can do, in pt-BR."""
    missing = "; ".join(plan.warnings) or "isolamento incompleto"
    root = not plan.userns  # root with reserved uids; otherwise a user namespace was what failed
    lines = [
        "O corretor não consegue isolar o código dos alunos nesta máquina, e por isso não corrige: "
        "sem isolamento, o código de uma entrega roda como você, lê as soluções e o banco de notas e "
        "acessa a rede.",
        f"O que falhou: {missing}.",
        "Como resolver:",
    ]
    if root:
        lines.append(
            "  - como root, o corretor precisa criar namespaces (mount, rede, PID); num contêiner isso "
            "costuma estar bloqueado: rode o contêiner com --cap-add SYS_ADMIN (e seccomp/AppArmor que "
            "permitam unshare) ou corrija fora dele, com um usuário comum;"
        )
    else:
        lines += [
            "  - o Linux precisa permitir namespaces de usuário a usuários comuns (o Debian permite): "
            "confira que 'sysctl user.max_user_namespaces' é maior que 0 ('No space left on device' "
            "quer dizer 0 ou esgotado) e, no Debian 11 ou anterior, "
            "'sysctl kernel.unprivileged_userns_clone=1';",
            "  - no Ubuntu 24.04 ou mais novo, o AppArmor bloqueia: 'sudo sysctl "
            "kernel.apparmor_restrict_unprivileged_userns=0' (ou um perfil do AppArmor para o Python);",
            "  - num contêiner (Docker), rode-o com --security-opt seccomp=unconfined e --security-opt "
            "apparmor=unconfined, ou corrija fora dele;",
        ]
    lines.append(
        "Para corrigir assim mesmo, sabendo que nada fica protegido, acrescente --sem-isolamento ao comando "
        "(o resumo e o relatório JSON registram que a correção foi feita sem isolamento)."
    )
    return "\n".join(lines)


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


def _tmpfs(target: str, size_mb: int, mode: str = "1777") -> None:
    os.makedirs(target, exist_ok=True)
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"mode={mode},size={size_mb}m")


def _private_view(
    keep: list[str], writable: list[str], limits: Limits, fresh_proc: bool, quota: bool = False
) -> list[str]:
    """In a new mount namespace: hide every top-level folder but the system ones, bind `keep` (read-only)
    and `writable` back, private size-limited /tmp and /dev/shm, a minimal /dev and a fresh /proc. With
    `quota`, each writable folder becomes a tmpfs of `limits.disk_mb` (`_quota_in_namespace`); returns the
    sockets folders to make read-only once the kernel has bound its sockets."""
    to_seal: list[str] = []
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    wanted = [(p, False) for p in keep] + [(p, True) for p in writable]
    handles = {p: (os.open(p, O_PATH), stat.S_ISDIR(os.stat(p).st_mode), rw) for p, rw in wanted}
    devices = {name: os.open(f"/dev/{name}", O_PATH) for name in DEVICES if os.path.exists(f"/dev/{name}")}
    hidden = [
        f"/{name}"
        for name in sorted(os.listdir("/"))
        if name not in SYSTEM_TOP and os.path.isdir(f"/{name}") and not os.path.islink(f"/{name}")
    ]
    try:
        for top in hidden:
            if top == "/tmp":
                mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={limits.tmp_mb}m")
            else:
                mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
            inside = [p for p in handles if _is_within(p, top)]
            for path in _outermost(inside):
                fd, is_dir, rw = handles[path]
                _make_mountpoint(path, is_dir)
                mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
                if not rw:
                    mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
            if top != "/tmp":
                mount(None, top, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=0755,size=64k")
        if quota:
            for path in writable:
                to_seal += _quota_in_namespace(path, limits.disk_mb)
        # /dev: only harmless devices, bound from the host's; /dev/shm private and limited
        mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k")
        for name, fd in devices.items():
            _make_mountpoint(f"/dev/{name}", False)
            mount(f"/proc/self/fd/{fd}", f"/dev/{name}", None, MS_BIND)
        for name, target in (
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ):
            os.symlink(target, f"/dev/{name}")
        _tmpfs("/dev/shm", limits.shm_mb)
        mount(None, "/dev", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k")
        if fresh_proc:
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    finally:
        for fd, _, _ in handles.values():
            os.close(fd)
        for fd in devices.values():
            os.close(fd)
    return to_seal


ORIGIN = ".corretor"  # in a kernel's folder with a quota in its namespace: the grader's folder, read-only
SOCKETS = "conexao"  # the kernel's ZMQ sockets (kernels.py): bound back from the grader's folder
NOT_COPIED = frozenset({"kernel.log", SOCKETS})  # the log is the host file, already open as stdout/stderr


def _quota_in_namespace(folder: str, size_mb: int) -> list[str]:
    """Put a tmpfs of `size_mb` over `folder` (in this mount namespace only) holding a copy of what the grader
    made there; the grader's folder stays visible read-only at `folder/ORIGIN` and its sockets folder is bound
    back read-write (returned, to be sealed read-only by `apply()`'s `seal`). Needs CAP_SYS_ADMIN in the
    namespace: a user namespace of its own is enough, since tmpfs may be mounted there."""
    import shutil

    origin = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    sockets = None
    with contextlib.suppress(FileNotFoundError):
        sockets = os.open(os.path.join(folder, SOCKETS), O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0700,size={size_mb}m")
        source = f"/proc/self/fd/{origin}"
        for entry in os.scandir(source):
            if entry.name in NOT_COPIED:
                continue
            target = os.path.join(folder, entry.name)
            if entry.is_dir(follow_symlinks=False):
                shutil.copytree(entry.path, target, symlinks=True)
            elif entry.is_file(follow_symlinks=False):
                shutil.copy2(entry.path, target, follow_symlinks=False)
        view = os.path.join(folder, ORIGIN)
        os.mkdir(view, 0o500)
        mount(source, view, None, MS_BIND)
        mount(None, view, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        if sockets is None:
            return []
        target = os.path.join(folder, SOCKETS)
        os.mkdir(target, 0o700)
        mount(f"/proc/self/fd/{sockets}", target, None, MS_BIND)
        return [target]
    finally:
        os.close(origin)
        if sockets is not None:
            os.close(sockets)


def receive(workdir: str) -> int:
    """In the kernel, before any learner code: copy the files the grader put in its own working folder
    (visible at `ORIGIN`) into the kernel's, on the quota's tmpfs. Returns how many files were copied; a
    submission bigger than the quota fails here with ENOSPC, as the grader's copy does as root."""
    import shutil

    folder, name = os.path.split(os.path.normpath(workdir))
    source = os.path.join(folder, ORIGIN, name)
    copied = 0
    for root, dirs, names in os.walk(source):
        target = os.path.join(workdir, os.path.relpath(root, source))
        os.makedirs(target, exist_ok=True)
        for entry in names:
            path = os.path.join(root, entry)
            if os.path.isfile(path) and not os.path.islink(path):
                shutil.copyfile(path, os.path.join(target, entry))
                copied += 1
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
    return copied


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _enter_user_namespace() -> None:
    """A user namespace where this process is uid/gid INNER_UID (outside: still the caller's ids)."""
    uid, gid = os.geteuid(), os.getegid()
    unshare(CLONE_NEWUSER)
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{INNER_UID} {uid} 1\n")
    _write("/proc/self/gid_map", f"{INNER_UID} {gid} 1\n")


def _drop_capabilities() -> None:
    """No capability left in the user namespace (the mounts above can never be undone from inside)."""
    for cap in range(64):
        if _libc.prctl(ctypes.c_int(PR_CAPBSET_DROP), ctypes.c_ulong(cap), 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    _libc.prctl(ctypes.c_int(PR_CAP_AMBIENT), ctypes.c_ulong(4), 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()
    _check(_libc.capset(header, data), "capset")


SAMPLE_SECONDS = 0.2  # the shim sums the kernel's memory this often (4x as often past 3/4 of the limit)
MEMORY_MARK = "automatiza: memória esgotada"  # the shim's line in the kernel's log when it kills for memory
_READ_BYTES = 8192  # of one /proc file (smaps_rollup is about 1 KB)


def _process_memory(proc: str, pid: str) -> int:
    """Bytes of memory of one process: its PSS (`smaps_rollup`), else its RSS (`statm`, readable by
    anyone), else 0 (the process is gone)."""
    for name in ("smaps_rollup", "statm"):
        try:
            fd = os.open(f"{proc}/{pid}/{name}", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            data = os.read(fd, _READ_BYTES)
        except OSError:
            continue
        finally:
            os.close(fd)
        if name == "statm":
            fields = data.split()
            return int(fields[1]) * os.sysconf("SC_PAGE_SIZE") if len(fields) > 1 else 0
        for line in data.splitlines():
            if line.startswith(b"Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def namespace_memory(proc: str = "/proc") -> int:
    """Bytes: the memory of every process listed in `proc` (the kernel's own /proc: its PID namespace)."""
    return sum(_process_memory(proc, name) for name in os.listdir(proc) if name.isdigit())


def _supervise(child: int, limit: int, host_proc: int) -> int:
    """Wait for `child` (PID 1 of the kernel's namespace) and kill it when the memory of its namespace passes
    `limit` bytes; returns its wait status. The kernel's /proc is the one mounted over the host's (whose
    device is `host_proc`), in the mount namespace this shim shares with it: nothing is summed before."""
    pidfd = None
    with contextlib.suppress(OSError, AttributeError):
        pidfd = os.pidfd_open(child)
    poller = select.poll()
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
    try:
        while True:
            pid, status = os.waitpid(child, os.WNOHANG)
            if pid:
                return status
            wait = SAMPLE_SECONDS
            try:
                own = os.stat("/proc").st_dev != host_proc
                total = namespace_memory() if own else 0
            except OSError:
                own, total = False, 0
            if total > limit:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)  # PID 1: every process of the namespace goes with it
                _, status = os.waitpid(child, 0)
                note = (
                    f"\n{MEMORY_MARK}: os processos do kernel somavam {total // 2**20} MB, acima do limite "
                    f"total de {limit // 2**20} MB (soma medida por amostragem); o kernel foi encerrado\n"
                )
                with contextlib.suppress(OSError):
                    os.write(2, note.encode())
                return status
            if total > limit * 3 // 4:
                wait = SAMPLE_SECONDS / 4
            if pidfd is not None:
                poller.poll(int(wait * 1000))
            else:
                time.sleep(wait)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _become_shim(child: int, plan: Plan, host_proc: int) -> None:
    """The process outside the new PID namespace: forward signals to the kernel (PID 1 inside), wait for
    it and exit the same way, so the zygote sees the kernel's own exit; with `plan.memory_sampling`, kill it
    when its namespace's memory passes the limit (`_supervise`). Never returns."""
    code = 1
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

        def forward(number: int, _frame: object) -> None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, number)

        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(number, forward)
        if plan.memory_sampling and plan.mounts:
            status = _supervise(child, plan.limits.memory_mb * 1024 * 1024, host_proc)
        else:
            _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            with contextlib.suppress(OSError, ValueError):  # SIGKILL and SIGSTOP have no handler to reset
                signal.signal(-code, signal.SIG_DFL)
            os.kill(os.getpid(), -code)
            code = 128 - code
    finally:
        os._exit(code)


def apply(plan: Plan, uid: int | None, writable: list[str]) -> Callable[[], None]:
    """Enter the sandbox described by `plan` (once, in the forked child, before the kernel starts).

    With `plan.pid` this forks: the caller becomes the shim (`_become_shim`, never returns) and only the
    sandboxed child, PID 1 of its namespace, returns. Returns `seal`, which the caller MUST call once the
    kernel has bound its sockets and before any learner code: with a quota in the user namespace, it makes
    the sockets folder read-only and only then drops the namespace's capabilities (otherwise it does
    nothing: everything was already done here)."""
    if plan.userns:
        _enter_user_namespace()
    flags = (CLONE_NEWNET | CLONE_NEWIPC) if plan.network else 0
    flags |= CLONE_NEWNS if plan.mounts else 0
    flags |= CLONE_NEWPID if plan.pid else 0
    if flags:
        unshare(flags)
    if plan.pid:
        host_proc = os.stat("/proc").st_dev  # before the child mounts its own /proc over it
        child = os.fork()
        if child != 0:
            _become_shim(child, plan, host_proc)
    to_seal: list[str] = []
    if plan.mounts:
        quota = plan.userns and plan.disk_quota_userns
        to_seal = _private_view(list(plan.keep), writable, plan.limits, fresh_proc=plan.pid, quota=quota)
    if plan.userns and not to_seal:
        _drop_capabilities()
    elif not plan.userns and plan.uid and uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    plan.limits.apply(own_uid=plan.userns or (plan.uid and uid is not None))
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid, which clears it

    def seal() -> None:
        if not to_seal:
            return
        for path in to_seal:
            mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        to_seal.clear()
        _drop_capabilities()

    return seal


# ----------------------------------------------------------------------------------------------------------
# probing what the OS allows (in the zygote, as root)


def _probe_child(plan: Plan, uid: int, folder: str) -> dict:
    """Runs in a forked child: apply the plan, then check what the kernel could and could not do."""
    result: dict = {"ok": False, "problems": []}
    outer_uid = os.geteuid()
    outside = {}  # what each secret is on the host: seen again inside, the same inode means it leaks
    for path in plan.secrets:
        try:
            info = os.stat(path)
            outside[path] = (info.st_dev, info.st_ino)
        except OSError:
            pass
    host_proc = os.stat("/proc").st_dev
    # the quota is checked small: a 1 MB tmpfs stops a 2 MB file as the real one stops a file past disk_mb
    tried = replace(plan, limits=replace(plan.limits, disk_mb=PROBE_QUOTA_MB))
    try:
        seal = apply(tried, uid, [folder])
        if plan.disk_quota_userns:  # as the kernel's sockets before the seal: a file in the host's folder
            open(os.path.join(folder, SOCKETS, "antes"), "w").close()
        seal()
    except OSError as exc:
        result["error"] = str(exc)
        return result
    problems = result["problems"]
    if plan.disk_quota_userns:
        problems += _check_quota_in_namespace(folder)
    if plan.memory_sampling:
        problems += _check_sampling(host_proc)
    for path in plan.keep:
        try:
            os.listdir(path)
        except OSError as exc:
            problems.append(f"o Python não pode ser lido em {path} ({exc.strerror})")
    for path in plan.secrets:
        if plan.mounts and any(_is_within(keep, path) for keep in plan.keep):
            continue  # e.g. /root holding the Python installation: only the kept folder is visible there
        try:
            info = os.stat(path)
            if (info.st_dev, info.st_ino) != outside.get(path):
                continue  # an empty stand-in (the tmpfs over a hidden top folder), not the real one
            if os.path.isdir(path):
                os.listdir(path)
            else:
                open(path, "rb").close()
            problems.append(f"o código dos alunos consegue ler {path}")
        except OSError:
            pass
    try:
        with open(os.path.join(folder, "sonda"), "w") as fh:
            fh.write("ok")
    except OSError as exc:
        problems.append(f"o kernel não pode escrever na própria pasta ({exc.strerror})")
    if plan.uid and (os.getuid() == 0 or (not plan.userns and os.getuid() == outer_uid)):
        problems.append("o kernel não ganhou um usuário próprio")
    if plan.pid and plan.mounts:
        visible = [name for name in os.listdir("/proc") if name.isdigit()]
        if len(visible) > 2:
            problems.append(f"o kernel vê {len(visible)} processos que não são dele")
    if plan.network:
        import socket

        names = [name for _, name in socket.if_nameindex()]
        if names != ["lo"]:
            problems.append(f"interfaces de rede visíveis: {names}")
    result["ok"] = not problems
    return result


PROBE_QUOTA_MB = 1
PROBE_MEMORY_MB = 32


def _check_quota_in_namespace(folder: str) -> list[str]:
    """In the probe, after `seal`: the folder's quota stops a write, the grader's folder and the sealed
    sockets folder are read-only, and the sockets folder is the grader's (problems in pt-BR)."""
    problems = []
    path = os.path.join(folder, "cota")
    try:
        with open(path, "wb") as fh:
            fh.write(b"x" * (2 * PROBE_QUOTA_MB * 1024 * 1024))
        problems.append("a cota da pasta do kernel (tmpfs no namespace de usuário) não limitou a escrita")
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            problems.append(f"a cota de disco da pasta do kernel falhou de outro jeito ({exc.strerror})")
    with contextlib.suppress(OSError):
        os.unlink(path)
    for where, what in ((ORIGIN, "a pasta do corretor"), (SOCKETS, "a pasta dos soquetes selada")):
        try:
            open(os.path.join(folder, where, "depois"), "w").close()
            problems.append(f"{what} aceita escrita do kernel (escaparia da cota)")
        except OSError:
            pass
    if not os.path.exists(os.path.join(folder, ORIGIN, SOCKETS, "antes")):
        problems.append("os soquetes do kernel não ficariam visíveis para o corretor")
    return problems


def _check_sampling(host_proc: int) -> list[str]:
    """In the probe, as PID 1 of its namespace: the sum that the shim samples sees a child's memory."""
    if os.stat("/proc").st_dev == host_proc:
        return ["o kernel não tem /proc próprio: a soma da sua memória não pode ser medida"]
    before = namespace_memory()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            block = b"x" * (PROBE_MEMORY_MB * 1024 * 1024)
            os.write(write_fd, b"1")
            time.sleep(30 + len(block) % 2)
        finally:
            os._exit(0)
    os.close(write_fd)
    try:
        os.read(read_fd, 1)
        grown = namespace_memory() - before
    finally:
        os.close(read_fd)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if grown < PROBE_MEMORY_MB * 1024 * 1024 * 3 // 4:
        return [
            f"a soma da memória dos processos do kernel não viu {PROBE_MEMORY_MB} MB de um processo filho "
            f"(cresceu {grown // 2**20} MB): sem cgroup, não há limite total de memória"
        ]
    return []


def _run_probe(plan: Plan, uid: int, folder: str) -> dict:
    if plan.disk_quota_userns:
        os.makedirs(os.path.join(folder, SOCKETS), mode=0o700, exist_ok=True)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child (with plan.pid, the shim; the sandboxed grandchild writes the answer)
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
    """`wanted` if it works here; otherwise `wanted` with `warnings` saying, in pt-BR, what failed (the
    grader then refuses to run learner code). A plan without isolation is returned as it is.

    `folder` is an empty scratch folder owned by `uid`, used as the probe's own folder."""
    if not wanted.isolated:
        return wanted
    # without a cgroup (`probe_totals` turns this off where there is one) and without root, these are the
    # totals this machine allows: the plan names them and the probe checks them
    wanted = replace(
        wanted,
        memory_sampling=wanted.pid and wanted.mounts and not wanted.totals,
        disk_quota_userns=wanted.userns and wanted.mounts,
    )
    result = _run_probe(wanted, uid, folder)
    if result.get("ok"):
        return replace(wanted, warnings=())
    problems = list(result.get("problems") or [])
    if result.get("error"):
        problems.insert(0, f"o sistema recusou: {result['error']}")
    return replace(wanted, warnings=tuple(problems or ["a sonda de isolamento falhou"]))


# ----------------------------------------------------------------------------------------------------------
# memory and processes as one total per kernel (cgroups), probed in the zygote


def probe_totals(plan: Plan, name: str) -> tuple[cgroups.Controller | None, Plan]:
    """A cgroup controller for this run if a kernel can really be put in a group with memory and pids
    limits here, and the plan saying which (`totals`) or why not (`totals_note`)."""
    controller, why = cgroups.Controller.find(name)
    if controller is not None:
        try:
            made = controller.create("sonda", plan.limits.memory_mb * 1024 * 1024, plan.limits.processes)
        except OSError as exc:
            controller.remove()
            controller, why = None, f"o cgroup recusou os limites ({exc.strerror})"
        else:
            pid = os.fork()
            if pid == 0:
                try:
                    cgroups.Controller.attach([str(p) for p in made])
                    inside = Path("/proc/self/cgroup").read_text()
                    os._exit(0 if inside.count(f"/{name}/sonda") >= len(made) else 1)
                except BaseException:  # noqa: BLE001
                    os._exit(1)
            _, status = os.waitpid(pid, 0)
            cgroups.Controller.destroy([str(p) for p in made])
            if os.waitstatus_to_exitcode(status) != 0:
                controller.remove()
                controller, why = None, "um processo não pôde entrar no cgroup"
    if controller is None:
        return None, replace(plan, totals="", totals_note=why)
    return controller, replace(
        plan, totals=f"cgroup v{controller.version}", totals_note="", memory_sampling=False
    )


def probe_disk_quota(plan: Plan, folder: str) -> Plan:
    """`plan` with `disk_quota` on if this process can put a kernel's folder on a tmpfs of its own (root;
    without root, `probe()` already set and checked `disk_quota_userns`)."""
    if os.geteuid() != 0:
        return replace(plan, disk_quota=False)
    try:
        os.makedirs(folder, exist_ok=True)
        quota_folder(folder, 1, None)
        release_folder(folder)
    except OSError:
        return replace(plan, disk_quota=False)
    return replace(plan, disk_quota=True)


def quota_folder(folder: str, size_mb: int, uid: int | None) -> None:
    """Put `folder` (made by the grader: working folder, HOME, connection file) on a tmpfs of `size_mb`,
    owned by `uid`: everything the kernel writes there counts against one total. As root, in the zygote."""
    import shutil

    original = folder + ".original"
    os.rename(folder, original)
    os.mkdir(folder, 0o700)
    owner = f",uid={uid},gid={uid}" if uid is not None else ""
    mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0700,size={size_mb}m{owner}")
    try:
        shutil.copytree(original, folder, symlinks=True, dirs_exist_ok=True)
        if uid is not None:
            for root, names, files in os.walk(folder):
                for name in [*names, *files]:
                    os.lchown(os.path.join(root, name), uid, uid)
    except BaseException:
        release_folder(folder)
        raise
    finally:
        shutil.rmtree(original, ignore_errors=True)


def release_folder(folder: str) -> None:
    """Detach the kernel folder's tmpfs (its pages are freed with it) and remove the folder."""
    import shutil

    _libc.umount2(folder.encode(), ctypes.c_int(2))  # MNT_DETACH; harmless when nothing is mounted there
    shutil.rmtree(folder, ignore_errors=True)


def kernel_groups(controller: cgroups.Controller | None, plan: Plan, name: str) -> list[str]:
    """The new kernel's cgroup folders with its limits ([] without a controller)."""
    if controller is None:
        return []
    limits = plan.limits
    return [str(p) for p in controller.create(name, limits.memory_mb * 1024 * 1024, limits.processes)]


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
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW
            handle = os.fdopen(os.open(lock, flags, 0o600), "a")
        except OSError:  # someone else's lock file (or a link planted in /tmp): use another block
            continue
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


def can_become(uid: int) -> bool:
    """Whether this process can switch to `uid` (not so for root of a container that maps one uid only)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


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
