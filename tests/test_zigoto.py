"""The zygote's typed protocol, its resistance to malformed input, and the kernel provisioner on top of it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest
import zmq.asyncio
from jupyter_client.manager import AsyncKernelManager

from automatiza.grading import kernels
from automatiza.grading.sandbox import isolation, protocol, zygote
from automatiza.grading.sandbox.provisioner import ForkedKernelManager, ZygoteProvisioner

MESSAGES = [
    protocol.Configure(
        preload=["pandas"],
        protected=[],
        plan=json.loads(isolation.Plan.none().to_json()),
        probe_uid=0,
        probe_folder="/tmp/x",
    ),
    protocol.Spawn(1, "/tmp/k1", "/tmp/k1/trabalho", "/tmp/k1/kernel.json", "/tmp/k1/kernel.log", {"A": "b"}),
    protocol.Quit(),
    protocol.Ready(plan={}, level="SEM ISOLAMENTO", failures=[], unprotected=["x"], pid=12),
    protocol.Started(id=1, pid=13),
    protocol.Exited(pid=13, code=-9, log="fim"),
    protocol.Rejected("ruim", id=None),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.op)
def test_every_message_goes_and_comes_back(message):
    kinds = protocol.COMMANDS if message.op in protocol.COMMANDS else protocol.EVENTS
    line = message.to_json()
    assert "\n" not in line
    assert protocol.decode(line, kinds) == message
    assert protocol.decode(line.encode(), kinds) == message


@pytest.mark.parametrize(
    "line",
    [
        b"isto nao e json",
        b"[1, 2]",
        b'{"op": "fork"}',
        b'{"id": 1}',
        b'{"op": "spawn", "id": 1}',  # fields missing
        b'{"op": "spawn", "id": "1", "folder": "a", "workdir": "b", "connection": "c", "log": "d"}',
        b'{"op": "spawn", "id": true, "folder": "a", "workdir": "b", "connection": "c", "log": "d"}',
        b'{"op": "spawn", "id": 1, "folder": "a", "workdir": "b", "connection": "c", "log": "d", '
        b'"env": {"A": 1}}',
        b'{"op": "spawn", "id": 1, "folder": "a", "workdir": "b", "connection": "c", "log": "d", "extra": 1}',
        b'{"op": "configure", "preload": "pandas", "protected": [], "plan": {}, "probe_uid": 0, '
        b'"probe_folder": ""}',
        b'{"op": "ready", "plan": {}, "level": "", "failures": [], "unprotected": [], "pid": 1}',  # an event
        b"[" * 100_000,
        b'{"op": "quit", "x": "' + b"a" * (protocol.MAX_LINE_BYTES + 1) + b'"}',
    ],
)
def test_malformed_commands_are_refused(line):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(line, protocol.COMMANDS)


def test_imports_of_the_notebooks_are_collected_without_magics():
    sources = [
        "%matplotlib inline\nimport pandas as pd\nfrom sklearn.linear_model import LinearRegression",
        "!pip list\nif True:\n    %time x = 1\n    import numpy.linalg\n",
        "from . import local\nimport os, json",
        "def broken(:",
    ]
    assert zygote.imported_modules(sources) == [
        "json",
        "numpy.linalg",
        "os",
        "pandas",
        "sklearn.linear_model",
    ]


def test_preload_skips_what_must_not_be_imported_before_a_fork_and_pandas_sees_a_kernel():
    code = (
        "import builtins, sys, threading\n"
        "from automatiza.grading.sandbox import zygote\n"
        "failed = zygote.preload(['pandas', 'matplotlib.pyplot', 'ipywidgets', 'tqdm.auto', 'nao_existe'])\n"
        "import pandas\n"
        "print(failed, pandas.get_option('display.max_columns'), hasattr(builtins, 'get_ipython'),\n"
        "      sorted(m for m in sys.modules if m in ('matplotlib.pyplot', 'ipywidgets', 'tqdm.auto')),\n"
        "      threading.active_count())\n"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    # 20 columns as in a Jupyter kernel (a terminal gets 0), no pyplot, widgets or threads before the forks
    assert done.stdout.split("\n")[0] == "['nao_existe'] 20 False [] 1"


def test_warming_fills_the_pattern_caches_and_leaves_nothing_a_notebook_sees():
    code = (
        "import builtins, sys, threading, tokenize\n"
        "from automatiza.grading.sandbox import zygote\n"
        "zygote.preload([])\n"
        "before = tokenize._compile.cache_info().currsize\n"
        "zygote.warm_caches()\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "print(before, tokenize._compile.cache_info().currsize, InteractiveShell.initialized(),\n"
        "      hasattr(builtins, 'get_ipython'), sys.displayhook is sys.__displayhook__,\n"
        "      threading.active_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # the forked kernels inherit tokenize's compiled pattern; no shell, hook or thread exists before the forks
    assert done.stdout.split("\n")[0] == "0 1 False False True 1"


async def _with_zygote(tmp_path, body):
    base = kernels.make_base(str(tmp_path))
    z = kernels.Zygote.launch(base, {**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    try:
        await z.start(isolation.Plan.none(), ["json"], [], os.geteuid(), xmode="Context", trusted=True)
        return await body(z)
    finally:
        await z.close()


@pytest.mark.lento
def test_the_zygote_refuses_garbage_and_keeps_forking(tmp_path):
    async def body(z: kernels.Zygote):
        for line in (b"lixo\n", b'{"op": "spawn", "id": 99}\n', b"\xff\xfe\n", b'{"op": "configure"}\n'):
            z.process.stdin.write(line)
        z.process.stdin.write(b"x" * (protocol.MAX_LINE_BYTES + 10) + b"\n")
        z.process.stdin.flush()
        km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(z.base / "ipc"))
        km.provisioner = ZygoteProvisioner(zygote=z, kernel_spec=km.kernel_spec, parent=km)
        await km.start_kernel(cwd=str(tmp_path))
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=30)
            reply = await kc.execute(
                "import os", reply=True, user_expressions={"r": "(os.getppid(), os.getcwd())"}, timeout=30
            )
            parent, cwd = eval(reply["content"]["user_expressions"]["r"]["data"]["text/plain"])
            assert parent == z.process.pid  # forked by the zygote
            assert cwd == str(tmp_path)
            assert await km.is_alive()
            pid = km.provisioner.pid
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        assert not await km.is_alive()
        assert z.exit_code(pid) is not None
        assert len(z.rejected) >= 5, z.rejected
        return True

    assert asyncio.run(_with_zygote(tmp_path, body))


@pytest.mark.lento
def test_a_refused_spawn_fails_that_request_only(tmp_path):
    async def body(z: kernels.Zygote):
        ident = 10_000
        future = asyncio.get_running_loop().create_future()
        z._started[ident] = future
        z.process.stdin.write(b'{"op": "spawn", "id": 10000, "folder": 5}\n')
        z.process.stdin.flush()
        with pytest.raises(kernels.ZygoteError, match="folder"):
            await asyncio.wait_for(future, 10)
        return z.process.poll() is None  # the zygote goes on

    assert asyncio.run(_with_zygote(tmp_path, body))


@pytest.mark.lento
def test_a_kernelspec_names_the_provisioner_by_its_entry_point(tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager

    spec_dir = tmp_path / "specs" / "zigoto-teste"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (zigoto)",
        "language": "python",
        "metadata": {
            "kernel_provisioner": {
                "provisioner_name": "automatiza-zygote",
                "config": {"zygote_name": "teste"},
            }
        },
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))

    async def body(z: kernels.Zygote):
        ZygoteProvisioner.register("teste", z)
        try:
            km = AsyncKernelManager(
                kernel_name="zigoto-teste",
                kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path / "specs")]),
                transport="ipc",
                ip=str(z.base / "ipc"),
            )
            await km.start_kernel(cwd=str(tmp_path))
            assert isinstance(km.provisioner, ZygoteProvisioner)
            kc = km.client()
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=30)
                reply = await kc.execute("import os", reply=True, user_expressions={"p": "os.getppid()"})
                assert reply["content"]["user_expressions"]["p"]["data"]["text/plain"] == str(z.process.pid)
            finally:
                kc.stop_channels()
                await km.shutdown_kernel(now=True)
        finally:
            ZygoteProvisioner.register("teste", None)
        return True

    assert asyncio.run(_with_zygote(tmp_path, body))


def test_the_kernel_manager_deletes_nothing_through_a_swapped_sockets_folder(tmp_path):
    """jupyter_client's clean-up removes the connection file and `<ip>-<port>` socket files; run as root on a
    kernel folder whose `conexao` the kernel's uid swapped for a link, it would delete files of those names
    anywhere on the host. The forked kernel's manager leaves its folder to the zygote (`rmtree`, no links)."""

    class NoZygote:  # what the manager reads of a zygote before any kernel starts
        base = tmp_path
        context = zmq.asyncio.Context()

    decoys = tmp_path / "alvo"
    decoys.mkdir()
    folder = tmp_path / "k1"
    folder.mkdir()
    km = ForkedKernelManager(NoZygote(), folder)  # type: ignore[arg-type]
    km.write_connection_file()
    (folder / "conexao").rmdir()
    (folder / "conexao").symlink_to(decoys)  # what a learner's code can do in its own folder
    for port in km.ports:
        (decoys / f"k-{port}").write_text("não apague")
    asyncio.run(km.cleanup_resources())
    NoZygote.context.term()
    assert sorted(p.name for p in decoys.iterdir()) == sorted(f"k-{port}" for port in km.ports)
    assert (folder / "kernel.json").exists()  # the zygote removes the folder, links and all, not the manager
