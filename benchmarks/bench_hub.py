"""The course JupyterHub under 1 and 10 simulated learners: time from login to the first executed cell, and
memory per learner (their JupyterLab server plus one kernel), measured side by side in one run.

    sudo .venv/bin/python benchmarks/bench_hub.py [--aprendizes 1 10]

Each simulated learner does what the browser does, over HTTP on loopback: opens the login page, logs in
(shared-password authenticator, local accounts made for the run and removed after), waits for their server,
starts a kernel and executes `1 + 1` over the kernel's WebSocket. All learners of a round start at once.
Memory is the proportional set size (PSS) of every process of the learner's account, after the cell.
Needs root (accounts), the proxy installed by ./curso and the Python of the venv readable by every account.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from http.cookies import SimpleCookie
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from automatiza import hub_tour
from automatiza.paths import Project


class Learner:
    def __init__(self, base: str, name: str) -> None:
        self.base, self.name, self.cookies = base, name, {}
        self.client = AsyncHTTPClient(force_instance=True, defaults={"request_timeout": 300})

    def _remember(self, response) -> None:
        for header in response.headers.get_list("Set-Cookie"):
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[(key, morsel["path"] or "/")] = morsel.value

    def _cookie_header(self, path: str) -> str:
        best: dict[str, tuple[int, str]] = {}
        for (key, where), value in self.cookies.items():
            if path.startswith(where) and len(where) >= best.get(key, (-1, ""))[0]:
                best[key] = (len(where), value)
        return "; ".join(f"{k}={v}" for k, (_, v) in best.items())

    def _xsrf(self, path: str) -> str:
        values = [(len(w), v) for (k, w), v in self.cookies.items() if k == "_xsrf" and path.startswith(w)]
        return max(values)[1] if values else ""

    async def fetch(self, path: str, method: str = "GET", body: str | None = None, **headers):
        url = path if path.startswith("http") else self.base + path
        local = urllib.parse.urlsplit(url).path
        request = HTTPRequest(
            url,
            method=method,
            body=body,
            follow_redirects=False,
            headers={"Cookie": self._cookie_header(local), "X-XSRFToken": self._xsrf(local), **headers},
        )
        response = await self.client.fetch(request, raise_error=False)
        self._remember(response)
        return response

    async def first_cell(self) -> float:
        started = time.monotonic()
        await self.fetch("/hub/login")
        form = urllib.parse.urlencode(
            {"username": self.name, "password": hub_tour.PASSWORD, "_xsrf": self._xsrf("/hub/login")}
        )
        login = await self.fetch("/hub/login", "POST", form)
        # like the browser: ask for the learner's JupyterLab and follow the hub (spawn, then the OAuth
        # handshake with the learner's server) until the page itself answers
        lab = f"/user/{self.name}/lab"
        url = urllib.parse.urljoin(self.base + "/hub/login", login.headers.get("Location", "/hub/spawn"))
        for _ in range(2400):
            response = await self.fetch(url)
            if response.code in (301, 302, 303, 307):
                url = urllib.parse.urljoin(url, response.headers["Location"])
                continue
            if response.code == 200 and urllib.parse.urlsplit(url).path.startswith(lab):
                break
            await asyncio.sleep(0.5)  # still spawning: start again from the JupyterLab address
            url = self.base + (lab if response.code < 400 else "/hub/spawn")  # a failed spawn: try again
        else:
            raise RuntimeError(f"o JupyterLab de {self.name} não abriu")
        kernel = await self.fetch(f"/user/{self.name}/api/kernels", "POST", json.dumps({"name": "python3"}))
        kernel_id = json.loads(kernel.body)["id"]
        ws_url = self.base.replace("http", "ws") + f"/user/{self.name}/api/kernels/{kernel_id}/channels"
        connection = await websocket_connect(
            HTTPRequest(ws_url, headers={"Cookie": self._cookie_header(f"/user/{self.name}/")})
        )
        msg_id = uuid.uuid4().hex
        await connection.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": self.name,
                        "session": uuid.uuid4().hex,
                        "msg_type": "execute_request",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {"code": "1 + 1", "silent": False},
                    "channel": "shell",
                }
            )
        )
        while True:
            message = json.loads(await connection.read_message())
            if (
                message.get("parent_header", {}).get("msg_id") == msg_id
                and message["msg_type"] == "execute_reply"
            ):
                break
        elapsed = time.monotonic() - started
        connection.close()
        return elapsed


def pss_of(user: str) -> int:
    """Proportional set size (bytes) of every process of `user`."""
    import pwd

    uid = pwd.getpwnam(user).pw_uid
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if proc.stat().st_uid != uid:
                continue
            for line in (proc / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def round_of(project: Project, count: int) -> tuple[list[float], list[int]]:
    import subprocess

    base = Path(tempfile.mkdtemp(prefix="automatiza-bench-hub-", dir="/tmp"))
    base.chmod(0o755)
    tag = f"{os.getpid() % 10000:04d}"
    instructor = f"b{tag}prof"
    learners = [f"b{tag}a{n:02d}" for n in range(count)]
    try:
        with hub_tour.accounts(base, [instructor, *learners]):
            repo = hub_tour.make_course_copy(project, base, instructor)
            cohort = base / "turmas" / "bench"
            cohort.parent.mkdir()
            subprocess.run(["chown", instructor, str(cohort.parent)], check=True)
            roster = cohort.parent / "alunos.csv"
            roster.write_text("id,nome\n" + "".join(f"{n},Pessoa {n}\n" for n in learners), encoding="utf-8")
            roster.chmod(0o644)
            cli = [sys.executable, "-m", "automatiza.cli", "--raiz", str(repo)]
            home = base / "casas" / instructor
            hub_tour._must(
                hub_tour._as(
                    instructor, [*cli, "turma", "criar", str(cohort), "--alunos", str(roster)], base, home
                ),
                "turma criar",
            )
            with hub_tour.running_hub(project, cohort, instructor, base / "hub.log") as url:

                async def everyone() -> list[float]:
                    return await asyncio.gather(*(Learner(url, n).first_cell() for n in learners))

                times = asyncio.run(everyone())
                time.sleep(2)
                memory = [pss_of(n) for n in learners]
            return times, memory
    finally:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--aprendizes", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args()
    project = Project.at()
    hub_tour.check_machine(project)
    results = {}
    for count in args.aprendizes:
        times, memory = round_of(project, count)
        results[count] = (times, memory)
        mib = [m / 2**20 for m in memory]
        print(
            f"{count:>3} aprendiz(es): login -> 1ª célula executada: mediana "
            f"{statistics.median(times):.1f} s, máx {max(times):.1f} s | memória por aprendiz (servidor + "
            "kernel, PSS): mediana "
            f"{statistics.median(mib):.0f} MiB, máx {max(mib):.0f} MiB",
            flush=True,
        )
    if len(results) > 1:
        first, last = min(results), max(results)
        ratio = statistics.median(results[last][0]) / statistics.median(results[first][0])
        print(f"razão do tempo mediano, {last} vs {first} aprendiz(es): {ratio:.1f}x (2 núcleos)")


if __name__ == "__main__":
    main()
