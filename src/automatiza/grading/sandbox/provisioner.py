"""A jupyter_client kernel provisioner whose kernels are forked by a running zygote (`kernels.Zygote`), and
the kernel manager that both `automatiza executar` and the grader use with it.

Any `AsyncKernelManager` can use the provisioner, so nbclient and papermill run notebooks on forked kernels
through their supported hooks (papermill's ``kernel_manager_class``, nbclient's ``km=``):

    km = ForkedKernelManager(zygote=zygote)            # or any AsyncKernelManager with
    km.provisioner = ZygoteProvisioner(zygote=zygote, kernel_spec=km.kernel_spec, parent=km)

or, for a kernelspec, by name (``metadata.kernel_provisioner.provisioner_name: "automatiza-zygote"``, with
``config: {"zygote_name": ...}`` naming a zygote registered with `ZygoteProvisioner.register`); the entry
point is declared in pyproject.toml.

The kernel command line is not used: the zygote forks a process that has already imported ipykernel and
the notebooks' modules. Liveness and exit codes come from the zygote's `Exited` events, not from polling a
child process. SIGINT goes to the kernel process alone (in a PID namespace its shim forwards it: the whole
group would get it twice); other signals go to its process group (it is a session leader).
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import KernelProvisionerBase
from traitlets import CaselessStrEnum, Unicode

if TYPE_CHECKING:
    from automatiza.grading.kernels import Zygote


class ZygoteProvisioner(KernelProvisionerBase):  # type: ignore[misc]
    """Kernels forked by a zygote; `zygote` (or `zygote_name`, see `register`) says which.

    `folder`: the kernel's own folder (its log, and whatever the caller laid out there; the zygote removes
    it when the kernel exits), by default a new one in the zygote's; `uid`: the uid the kernel runs as
    (root grader only); `guard_key`: the key of the kernel's guard (`sandbox/guard.py`)."""

    zygote_name = Unicode("", config=True, help="Name of a zygote registered with `register`.")
    registered: ClassVar[dict[str, Zygote]] = {}

    def __init__(
        self,
        zygote: Zygote | None = None,
        folder: str | None = None,
        uid: int | None = None,
        guard_key: bytes = b"",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.zygote = zygote
        self.folder = folder
        self.uid = uid
        self.guard_key = guard_key
        self.pid: int | None = None
        self.cwd: str | None = None
        self._running = False

    @classmethod
    def register(cls, name: str, zygote: Zygote | None) -> None:
        """Make a started zygote available to kernelspecs that name it (None removes it)."""
        if zygote is None:
            cls.registered.pop(name, None)
        else:
            cls.registered[name] = zygote

    def _zygote(self) -> Zygote:
        zygote = self.zygote or self.registered.get(self.zygote_name)
        if zygote is None or zygote.loop is None:
            raise RuntimeError(
                f"nenhum zigoto iniciado para o provisionador de kernels (zygote_name={self.zygote_name!r})"
            )
        return zygote

    @property
    def has_process(self) -> bool:
        return self._running

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Write the connection file (the kernel manager chooses transport and addresses); with a `uid`, it
        becomes the kernel's (it reads it to bind its sockets)."""
        km = self.parent
        kwargs.pop("extra_arguments", None)
        if self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="k", dir=self._zygote().base)
        if km is not None:
            km.write_connection_file()
            self.connection_info = km.get_connection_info()
            if self.uid is not None and os.geteuid() == 0:
                os.lchown(km.connection_file, self.uid, self.uid)
        return await super().pre_launch(cmd=[], **kwargs)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Ask the zygote for a kernel in `cwd` with `env`; `cmd` is not used (the kernel is forked)."""
        zygote = self._zygote()
        assert self.folder is not None
        self.cwd = str(kwargs.get("cwd") or os.getcwd())
        env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        coroutine = zygote.spawn(
            folder=self.folder,
            workdir=self.cwd,
            connection=str(self.parent.connection_file),
            log=os.path.join(self.folder, "kernel.log"),
            env=env,
            uid=self.uid,
            key=self.guard_key.hex(),
        )
        self.pid = await zygote.call(coroutine)
        self._running = True
        return self.connection_info

    async def poll(self) -> int | None:
        if self.pid is None:
            return 0
        return self._zygote().exit_code(self.pid)

    async def wait(self) -> int | None:
        if self.pid is None:
            return 0
        zygote = self._zygote()
        code = await zygote.call(zygote.wait_exit(self.pid, None))
        self._running = False
        return code

    async def send_signal(self, signum: int) -> None:
        """While the zygote has not reported the kernel's exit: SIGINT to the kernel, others to its group."""
        if self.pid is None or self._zygote().exit_code(self.pid) is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if signum == signal.SIGINT:
                os.kill(self.pid, signum)
                return
            try:
                os.killpg(self.pid, signum)
            except PermissionError:
                os.kill(self.pid, signum)

    async def kill(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        """Nothing to do: the zygote removes the kernel's folder when it exits (`pid` stays, to find its
        log in `Zygote.logs`)."""

    def resolve_path(self, path: str) -> str | None:
        full = os.path.join(self.cwd or "", os.path.expanduser(path))
        return full if os.path.exists(full) else None

    async def get_provisioner_info(self) -> dict[str, Any]:
        info = await super().get_provisioner_info()
        info.update(pid=self.pid, folder=self.folder, zygote_name=self.zygote_name)
        return info

    async def load_provisioner_info(self, provisioner_info: dict) -> None:
        await super().load_provisioner_info(provisioner_info)
        self.pid = provisioner_info.get("pid")
        self.folder = provisioner_info.get("folder")
        self.zygote_name = provisioner_info.get("zygote_name", "")
        self._running = self.pid is not None


_SPECS: dict[str, KernelSpec] = {}  # looked up once per process (a lookup reads every kernelspec folder)


class ForkedKernelManager(AsyncKernelManager):
    """An `AsyncKernelManager` whose kernel a zygote forks (`ZygoteProvisioner`), in a folder of its own:
    the connection file and the IPC sockets live there (no TCP port: works without a network), and the
    zygote removes it when the kernel exits, so this manager never deletes files in it (the kernel's uid
    may own that folder: a root process must not follow what it put there)."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    def __init__(
        self,
        zygote: Zygote,
        folder: Path | None = None,
        uid: int | None = None,
        guard_key: bytes = b"",
        **kwargs: Any,
    ) -> None:
        folder = folder or Path(tempfile.mkdtemp(prefix="k", dir=zygote.base))
        (folder / "conexao").mkdir(mode=0o700, exist_ok=True)
        kwargs.setdefault("kernel_name", "python3")
        kwargs.setdefault("context", zygote.context)  # one ZMQ context for the run, not one per kernel
        super().__init__(
            ip=str(folder / "conexao" / "k"), connection_file=str(folder / "kernel.json"), **kwargs
        )
        self.zygote = zygote
        self.folder = folder
        self.provisioner = ZygoteProvisioner(
            zygote=zygote,
            folder=str(folder),
            uid=uid,
            guard_key=guard_key,
            kernel_spec=self.kernel_spec,
            parent=self,
        )

    @property
    def kernel_spec(self) -> KernelSpec | None:
        if self.kernel_name not in _SPECS:
            _SPECS[self.kernel_name] = self.kernel_spec_manager.get_kernel_spec(self.kernel_name)
        return _SPECS[self.kernel_name]

    @property
    def pid(self) -> int | None:
        return self.provisioner.pid if isinstance(self.provisioner, ZygoteProvisioner) else None

    def cleanup_connection_file(self) -> None:
        """The zygote removes the kernel's folder (see the class docstring)."""

    def cleanup_ipc_files(self) -> None:
        """The zygote removes the kernel's folder (see the class docstring)."""
