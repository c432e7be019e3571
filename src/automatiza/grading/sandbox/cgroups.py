"""Memory and processes as one total per kernel, with a cgroup per kernel.

`Controller.find()` looks for a place where this process can make cgroups with the memory and pids
controllers, in this order:

- cgroup v2 (`/sys/fs/cgroup/cgroup.controllers` lists memory and pids): as root, under /sys/fs/cgroup; as a
  regular user, only inside a subtree that systemd delegated to them (the current cgroup is writable, as
  under `systemd-run --user --scope -p Delegate=yes`); the processes of that cgroup move to a leaf first
  (cgroup v2 allows controllers only on cgroups without processes of their own);
- cgroup v1 (memory and pids hierarchies mounted and writable, i.e. root on a v1 or hybrid machine).

Each kernel gets `<run>/k<n>` with memory.max (v1: memory.limit_in_bytes), no swap (memory.swap.max = 0;
v1: memory.memsw.limit_in_bytes where swap accounting exists) and pids.max. The forked kernel writes itself
into the group before it enters its namespaces, so every process it starts counts in the same total; when
the kernel ends, the zygote kills what is left in the group and removes it.

Where none of this is possible, `find()` returns None with the reason, and the kernel keeps the rlimits
(`isolation.Limits`): address space per process and RLIMIT_NPROC in the kernel's own uid or user namespace.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def own_cgroup_v2() -> Path | None:
    """This process's cgroup v2 folder (from /proc/self/cgroup)."""
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        if line.startswith("0::"):
            return ROOT / line[3:].strip().lstrip("/")
    return None


def own_cgroup_v1(hierarchy: str) -> Path:
    """This process's folder in a cgroup v1 hierarchy (the run's groups nest there, under its limits)."""
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        _, names, path = line.split(":", 2)
        if hierarchy in names.split(","):
            folder = ROOT / hierarchy / path.strip().lstrip("/")
            if folder.is_dir():
                return folder
    return ROOT / hierarchy


def describe_machine() -> str:
    """What the cgroup probe sees here, in English, for reports and test messages."""
    v2 = (ROOT / "cgroup.controllers").is_file()
    parts = [f"uid={os.geteuid()}"]
    if v2:
        parts.append(f"cgroup v2 controllers: {_read(ROOT / 'cgroup.controllers').strip() or '-'}")
    else:
        v1 = [name for name in ("memory", "pids") if (ROOT / name / "cgroup.procs").is_file()]
        unified = _read(ROOT / "unified" / "cgroup.controllers").strip()
        parts.append(
            f"no cgroup v2 at {ROOT} (v1 hierarchies: {', '.join(v1) or 'none'}; "
            f"hybrid unified controllers: {unified or 'none'})"
        )
    return "; ".join(parts)


@dataclass
class Controller:
    """Where this run makes the kernels' cgroups: one run folder per hierarchy (v2: one; v1: memory, pids)."""

    version: int
    runs: tuple[Path, ...]

    @classmethod
    def find(cls, name: str) -> tuple[Controller | None, str]:
        """A controller with a run folder called `name`, or None and why not (pt-BR)."""
        if (ROOT / "cgroup.controllers").is_file():
            return cls._find_v2(name)
        if all((ROOT / h / "cgroup.procs").is_file() for h in ("memory", "pids")):
            runs = (own_cgroup_v1("memory") / name, own_cgroup_v1("pids") / name)
            try:
                for run in runs:
                    run.mkdir(mode=0o755, exist_ok=True)
            except OSError as exc:
                cls(1, runs).remove()
                return None, f"cgroup v1 sem permissão de escrita ({exc.strerror})"
            controller = cls(1, runs)
            controller.remove_stale()
            return controller, ""
        return None, "nem cgroup v2 com memory e pids nem cgroup v1 montados"

    @classmethod
    def _find_v2(cls, name: str) -> tuple[Controller | None, str]:
        needed = {"memory", "pids"}
        if os.geteuid() == 0:
            base = ROOT
        else:
            base = own_cgroup_v2()
            if base is None or not os.access(base, os.W_OK) or not os.access(base / "cgroup.procs", os.W_OK):
                return None, (
                    "cgroup v2 sem subárvore delegada a este usuário (rode com 'systemd-run --user --scope "
                    "-p Delegate=yes' ou como root)"
                )
        available = set(_read(base / "cgroup.controllers").split())
        if not needed <= available:
            return None, f"cgroup v2 sem os controladores memory e pids em {base}"
        try:
            try:
                _write(base / "cgroup.subtree_control", "+memory +pids")
            except OSError as exc:
                if exc.errno != errno.EBUSY or base == ROOT:
                    raise
                # processes in `base` itself: move them to a leaf, then controllers can be enabled
                leaf = base / "automatiza-processos"
                leaf.mkdir(exist_ok=True)
                for pid in _read(base / "cgroup.procs").split():
                    with contextlib.suppress(OSError):
                        _write(leaf / "cgroup.procs", pid)
                _write(base / "cgroup.subtree_control", "+memory +pids")
            run = base / name
            run.mkdir(mode=0o755, exist_ok=True)
            _write(run / "cgroup.subtree_control", "+memory +pids")
        except OSError as exc:
            return None, f"cgroup v2 recusou os controladores memory e pids em {base} ({exc.strerror})"
        controller = cls(2, (run,))
        controller.remove_stale()
        return controller, ""

    def remove_stale(self) -> None:
        """Remove run folders of zygotes that no longer exist (a grader killed with SIGKILL leaves them)."""
        for run in self.runs:
            prefix = run.name.rsplit("-", 1)[0] + "-"
            for other in run.parent.glob(prefix + "*"):
                pid = other.name[len(prefix) :]
                if other == run or not pid.isdigit() or Path(f"/proc/{pid}").exists():
                    continue
                Controller(self.version, (other,)).remove()

    def create(self, kernel: str, memory_bytes: int, processes: int) -> list[Path]:
        """The kernel's cgroup folder(s), with the limits set."""
        made: list[Path] = []
        try:
            for run in self.runs:
                group = run / kernel
                group.mkdir(mode=0o755)
                made.append(group)
            if self.version == 2:
                group = made[0]
                _write(group / "memory.max", str(memory_bytes))
                if (group / "memory.swap.max").exists():
                    _write(group / "memory.swap.max", "0")
                _write(group / "pids.max", str(processes))
            else:
                memory, pids = made
                _write(memory / "memory.limit_in_bytes", str(memory_bytes))
                if (memory / "memory.memsw.limit_in_bytes").exists():
                    _write(memory / "memory.memsw.limit_in_bytes", str(memory_bytes))
                _write(pids / "pids.max", str(processes))
        except OSError:
            for group in made:
                with contextlib.suppress(OSError):
                    group.rmdir()
            raise
        return made

    @staticmethod
    def attach(groups: list[str]) -> None:
        """Move the calling process into `groups` (in the forked kernel, before it enters its namespaces)."""
        for group in groups:
            _write(Path(group) / "cgroup.procs", str(os.getpid()))

    @staticmethod
    def destroy(groups: list[str]) -> None:
        """Kill every process left in `groups` and remove them."""
        for group in map(Path, groups):
            if (group / "cgroup.kill").exists():
                with contextlib.suppress(OSError):
                    _write(group / "cgroup.kill", "1")
            for _ in range(50):
                pids = _read(group / "cgroup.procs").split()
                if not pids:
                    break
                for pid in pids:
                    with contextlib.suppress(OSError, ValueError):
                        os.kill(int(pid), signal.SIGKILL)
                time.sleep(0.01)
            with contextlib.suppress(OSError):
                group.rmdir()

    def remove(self) -> None:
        """Remove the run folders (after every kernel's group is gone)."""
        for run in self.runs:
            if run.is_dir():
                self.destroy([str(p) for p in run.iterdir() if p.is_dir()])
                with contextlib.suppress(OSError):
                    run.rmdir()

    @staticmethod
    def peak_memory(groups: list[str]) -> int | None:
        """Highest memory use the kernel's group saw, in bytes (for reports); None when unknown."""
        for group in map(Path, groups):
            for name in ("memory.peak", "memory.max_usage_in_bytes"):
                text = _read(group / name).strip()
                if text.isdigit():
                    return int(text)
        return None
