"""A jupyter_client kernel provisioner whose kernels are forked by a running zygote (`kernels.Zygote`).

Any `AsyncKernelManager` can use it, so nbclient and papermill run notebooks on forked kernels through their
supported hooks (nbclient's and papermill's ``km=``):

    km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=...)
    km.provisioner = ZygoteProvisioner(zygote=zygote, kernel_spec=km.kernel_spec, parent=km)

or, for a kernelspec, by name (``metadata.kernel_provisioner.provisioner_name: "automatiza-zygote"``, with
``config: {"zygote_name": ...}`` naming a zygote registered with `ZygoteProvisioner.register`); the entry
point is declared in pyproject.toml.

The kernel command line is not used: the zygote forks a process that has already imported ipykernel and
the notebooks' modules. Liveness and exit codes come from the zygote's `Exited` events, not from polling a
child process; signals go to the kernel's process group (it is a session leader).
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from typing import Any, ClassVar

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import KernelProvisionerBase
from traitlets import Unicode

from automatiza.grading.kernels import Zygote


class ZygoteProvisioner(KernelProvisionerBase):  # type: ignore[misc]
    """Kernels forked by a zygote; `zygote` (or `zygote_name`, see `register`) says which."""

    zygote_name = Unicode("", config=True, help="Name of a zygote registered with `register`.")
    registered: ClassVar[dict[str, Zygote]] = {}

    def __init__(self, zygote: Zygote | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.zygote = zygote
        self.pid: int | None = None
        self.folder: str | None = None
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
        """Write the connection file (the kernel manager chooses transport and addresses)."""
        km = self.parent
        kwargs.pop("extra_arguments", None)
        if km is not None:
            km.write_connection_file()
            self.connection_info = km.get_connection_info()
            cmd = km.format_kernel_cmd()
        else:
            cmd = list(self.kernel_spec.argv) if self.kernel_spec else []
        return await super().pre_launch(cmd=cmd, **kwargs)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Ask the zygote for a kernel in `cwd` with `env`; `cmd` is not used (the kernel is forked)."""
        zygote = self._zygote()
        km = self.parent
        self.folder = tempfile.mkdtemp(prefix="k", dir=zygote.base)
        self.cwd = str(kwargs.get("cwd") or os.getcwd())
        env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        coroutine = zygote.spawn(
            folder=self.folder,
            workdir=self.cwd,
            connection=str(km.connection_file),
            log=os.path.join(self.folder, "kernel.log"),
            env=env,
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
        """To the kernel's process group, while the zygote has not reported its exit."""
        if self.pid is None or self._zygote().exit_code(self.pid) is not None:
            return
        with contextlib.suppress(ProcessLookupError):
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
