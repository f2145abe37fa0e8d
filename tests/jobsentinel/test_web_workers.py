"""`manage.py serve --workers N`: N daphne processes on the one socket `serve` binds, with the
connection caps and the health count for the whole server, each process supervised.

Which process accepts a connection is the kernel's choice. To put sockets on a chosen worker,
the others are paused (SIGSTOP) while it is opened: only a running process can accept."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import ROOT, Daphne, subprocess_env
from tests.reliability.test_faults import Client, publish_elsewhere
from tests.test_security import close_code_after, each_cap, recv, wait_for_active

pytestmark = pytest.mark.django_db(transaction=True)


class Serve(Daphne):
    """`manage.py serve --no-worker --workers N` on a free port."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int, bind: str) -> None:
        super().__init__(env, log_path, [], bind)
        self.workers = workers

    def command(self) -> list[str]:
        return [sys.executable, "manage.py", "serve", "--no-worker", "--host", self.bind,
                "--port", str(self.port), "--workers", str(self.workers)]  # fmt: skip

    def start(self, timeout: float = 60.0, *, healthy: bool = True) -> Serve:
        super().start(timeout, healthy=healthy)
        self.wait_for_workers()
        return self

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.http_url}/api/v1/health", timeout=5).json())

    def wait_for_workers(self, not_pids: frozenset[int] = frozenset()) -> list[dict[str, Any]]:
        """Every worker running (its row claimed by a live process none of `not_pids`)."""
        deadline = time.monotonic() + 60
        while True:
            workers: list[dict[str, Any]] = self.health()["workers"]
            pids = {w["pid"] for w in workers}
            if len(workers) == self.workers and 0 not in pids and not pids & not_pids:
                return workers
            assert time.monotonic() < deadline, f"workers not all up: {workers}\n{self.log()}"
            time.sleep(0.2)

    def pid_of(self, worker: int) -> int:
        return int(self.health()["workers"][worker - 1]["pid"])

    def counts(self) -> list[int]:
        return [w["active_connections"] for w in self.health()["workers"]]

    @contextlib.contextmanager
    def only(self, worker: int) -> Iterator[None]:
        """New connections go to `worker`: the others are paused meanwhile."""
        paused = [w["pid"] for w in self.health()["workers"] if w["worker"] != worker]
        for pid in paused:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in paused:
                os.kill(pid, signal.SIGCONT)


@pytest.fixture
def serve_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[Serve] = []

    def start(workers: int = 2, bind: str = "127.0.0.1", **env: str) -> Serve:
        log = tmp_path / f"serve-{len(started)}.log"
        server = Serve(subprocess_env(**env), log, workers, bind)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


async def clients_on(server: Serve, worker: int, count: int) -> list[Client]:
    clients = [Client(server) for _ in range(count)]
    with server.only(worker):
        for client in clients:
            await client.connect()
    return clients


async def opened(server: Serve) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await connect(server.ws_url, open_timeout=30)
    return ws, await recv(ws, timeout=30)


def daphne_children(pid: int) -> set[int]:
    found = set()
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with contextlib.suppress(FileNotFoundError):
            if b"daphne" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.add(int(child))
    return found


# In embedded mode, a poll this slow never delivers within a test: each worker's doorbell
# (realtime/doorbell.py), rung by the writer's commit, does.
NO_POLL = {"JOBSENTINEL_RELAY_POLL_SECONDS": "60"}


async def test_both_workers_serve_the_one_port_and_every_socket_gets_every_event(
    serve_factory,
) -> None:
    server: Serve = serve_factory(workers=2, **NO_POLL)
    assert server.process is not None
    pids = {w["pid"] for w in server.health()["workers"]}
    assert len(pids) == 2
    assert pids == daphne_children(server.process.pid)

    first = await clients_on(server, 1, 2)
    second = await clients_on(server, 2, 3)
    assert server.counts() == [2, 3]
    assert server.health()["active_connections"] == 5  # the whole server's, from either worker
    everyone = first + second

    # Published by another process: each worker's relay, woken by its doorbell, finds it in
    # the log.
    before = await asyncio.to_thread(publish_elsewhere, server, 3)
    await asyncio.gather(*(client.read_until(set(before)) for client in everyone))
    assert all(client.events() == before for client in everyone)

    # A client away while events are logged resumes from the last id it saw, on either worker.
    leaving = [first[0], second[0]]
    for client in leaving:
        assert client.ws is not None
        await client.ws.close()
    missed = await asyncio.to_thread(publish_elsewhere, server, 2)
    with server.only(2):
        await leaving[0].connect()  # the first worker's client comes back on the second
    with server.only(1):
        await leaving[1].connect()
    await asyncio.gather(*(client.read_until(set(before + missed)) for client in everyone))
    for client in everyone:
        assert client.events() == before + missed  # nothing lost, nothing twice
        assert client.ws is not None
        await client.ws.close()
    await wait_for_active(server, 0)
    assert server.counts() == [0, 0]


@each_cap(4)
async def test_the_caps_hold_for_the_whole_server_whichever_worker_accepts(
    serve_factory, env: dict[str, str], reason: str
) -> None:
    server: Serve = serve_factory(workers=2, **env)
    sockets: list[ClientConnection] = []
    try:
        for worker in (1, 2):
            with server.only(worker):
                for _ in range(2):
                    ws, first = await opened(server)
                    sockets.append(ws)
                    assert first["type"] == "connected"
        assert server.counts() == [2, 2]
        for worker in (1, 2):  # full: each worker refuses, though it holds only half
            with server.only(worker):
                ws, first = await opened(server)
            assert first["type"] == "error"
            assert first["data"] == {"code": "over_capacity", "message": reason}
            assert await close_code_after(ws) == 1013
        await sockets.pop(0).close()  # a slot freed on the first worker...
        await wait_for_active(server, 3)
        with server.only(2):  # ...is taken on the second
            ws, first = await opened(server)
        sockets.append(ws)
        assert first["type"] == "connected"
        assert server.counts() == [1, 3]
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))


async def test_a_flood_across_workers_admits_exactly_the_cap(serve_factory) -> None:
    """Both workers admitting at once: exactly the cap is admitted, not a socket more (the lock
    that makes it so is shown in tests/realtime/test_connections.py)."""
    server: Serve = serve_factory(workers=2, JOBSENTINEL_WS_MAX_CONNECTIONS="20")
    sockets = await asyncio.gather(*(opened(server) for _ in range(60)))
    try:
        admitted = [ws for ws, first in sockets if first["type"] == "connected"]
        assert len(admitted) == 20
        await wait_for_active(server, 20)
        assert sum(server.counts()) == 20
    finally:
        await asyncio.gather(*(ws.close() for ws, _ in sockets))
    await wait_for_active(server, 0)


async def test_a_killed_worker_is_restarted_and_its_sockets_are_no_longer_counted(
    serve_factory,
) -> None:
    server: Serve = serve_factory(workers=2, **NO_POLL)  # the dead one's doorbell rings nobody
    killed = await clients_on(server, 1, 2)
    kept = await clients_on(server, 2, 3)
    assert server.counts() == [2, 3]
    old = server.pid_of(1)
    other = server.pid_of(2)

    os.kill(old, signal.SIGKILL)
    await asyncio.gather(*(client.read_until_closed() for client in killed))
    assert {client.closes[-1] for client in killed} == {1006}
    # The port stays bound and served while the worker is away or restarting.
    await wait_for_active(server, 3)
    server.wait_for_workers(not_pids=frozenset({old}))
    assert server.pid_of(2) == other  # the other worker untouched...
    assert server.counts() == [0, 3]  # ...and the dead one's sockets no longer counted

    # The other worker's sockets stayed connected and still get events; the killed worker's
    # clients resume (on whichever worker accepts them) with nothing lost.
    missed = await asyncio.to_thread(publish_elsewhere, server, 2)
    await asyncio.gather(*(client.read_until(set(missed)) for client in kept))
    for client in killed:
        await client.connect()
    await asyncio.gather(*(client.read_until(set(missed)) for client in killed))
    for client in killed + kept:
        assert client.events() == missed
        assert client.ws is not None
        await client.ws.close()
    log = server.log()
    assert "exited with status -9" in log
    assert "restarting web" in log


async def test_on_ipv6_each_client_is_counted_by_its_own_address(serve_factory) -> None:
    """The adopted socket is IPv6: peers' addresses come out whole, so the per-address cap
    counts one address (`::1`) as one."""
    server: Serve = serve_factory(workers=2, bind="::1", JOBSENTINEL_WS_MAX_CONNECTIONS_PER_IP="2")
    sockets = [await opened(server) for _ in range(3)]
    try:
        assert [first["type"] for _, first in sockets] == ["connected", "connected", "error"]
        assert sockets[2][1]["data"]["message"] == "too many connections from this address"
        assert "ws connect ip=::1 " in server.log()
    finally:
        await asyncio.gather(*(ws.close() for ws, _ in sockets))


@pytest.mark.parametrize("workers", ["0", "65", "-2"])
def test_a_bad_number_of_workers_is_refused_with_a_clear_message(workers: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "serve", "--no-worker", "--workers", workers],
        cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"--workers {workers}: the number of web server processes must be between 1 and 64" in (
        result.stderr
    )
    assert "JobSentinel on" not in result.stdout  # nothing started


def test_a_bad_web_workers_setting_names_the_variable() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "serve", "--no-worker"],
        cwd=ROOT, env=subprocess_env(JOBSENTINEL_WEB_WORKERS="0"), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "JOBSENTINEL_WEB_WORKERS=0 is below the minimum of 1" in result.stderr
