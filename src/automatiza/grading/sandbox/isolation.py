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

Totals (`probe_totals`, `grading.sandbox.cgroups`): where a cgroup with memory and pids can be made (root,
or a user with a delegated cgroup v2 subtree), each kernel's memory and processes are one total; otherwise
memory is limited per process only. As root, the kernel's folder is a tmpfs of `Limits.disk_mb`
(`quota_folder`); as a regular user only each file is limited. Not done: a kernel may use its CPU share
until its CPU-time limit.
"""

from __future__ import annotations

import contextlib
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
    disk_mb: int = 512  # the kernel's folder (working folder, HOME, TMPDIR) is a tmpfs this big (root)

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
    disk_quota: bool = False  # the kernel's folder is a tmpfs of `limits.disk_mb` (root only)

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
        if self.totals:
            parts.append(f"memória e processos somados por kernel ({self.totals})")
        else:
            parts.append("memória por processo e número de processos pelo usuário do kernel (sem cgroup)")
        if self.disk_quota:
            parts.append(f"cota de disco de {self.limits.disk_mb} MB na pasta do kernel")
        else:
            parts.append(f"cota de disco só por arquivo ({self.limits.file_mb} MB)")
        parts.append("limite de CPU")
        parts.append("sem rede" if self.network else "COM rede")
        return " + ".join(parts)

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


def _private_view(keep: list[str], writable: list[str], limits: Limits, fresh_proc: bool) -> None:
    """In a new mount namespace: hide every top-level folder but the system ones, bind `keep` (read-only)
    and `writable` back, private size-limited /tmp and /dev/shm, a minimal /dev and a fresh /proc."""
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


def _become_shim(child: int) -> None:
    """The process outside the new PID namespace: forward signals to the kernel (PID 1 inside), wait for
    it and exit the same way, so the zygote sees the kernel's own exit. Never returns."""
    code = 1
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

        def forward(number: int, _frame: object) -> None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, number)

        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(number, forward)
        _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            signal.signal(-code, signal.SIG_DFL)
            os.kill(os.getpid(), -code)
            code = 128 - code
    finally:
        os._exit(code)


def apply(plan: Plan, uid: int | None, writable: list[str]) -> None:
    """Enter the sandbox described by `plan` (once, in the forked child, before the kernel starts).

    With `plan.pid` this forks: the caller becomes the shim (`_become_shim`, never returns) and only the
    sandboxed child, PID 1 of its namespace, returns."""
    if plan.userns:
        _enter_user_namespace()
    flags = (CLONE_NEWNET | CLONE_NEWIPC) if plan.network else 0
    flags |= CLONE_NEWNS if plan.mounts else 0
    flags |= CLONE_NEWPID if plan.pid else 0
    if flags:
        unshare(flags)
    if plan.pid:
        child = os.fork()
        if child != 0:
            _become_shim(child)
    if plan.mounts:
        _private_view(list(plan.keep), writable, plan.limits, fresh_proc=plan.pid)
    if plan.userns:
        _drop_capabilities()
    elif plan.uid and uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    plan.limits.apply(own_uid=plan.userns or (plan.uid and uid is not None))
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid, which clears it


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
    try:
        apply(plan, uid, [folder])
    except OSError as exc:
        result["error"] = str(exc)
        return result
    problems = result["problems"]
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


def _run_probe(plan: Plan, uid: int, folder: str) -> dict:
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
    return controller, replace(plan, totals=f"cgroup v{controller.version}", totals_note="")


def probe_disk_quota(plan: Plan, folder: str) -> Plan:
    """`plan` with `disk_quota` on if this process can put a kernel's folder on a tmpfs of its own (root)."""
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
