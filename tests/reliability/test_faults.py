"""Faults: a slow reader, Redis restarting, daphne stopped or killed, database connections
dropped mid-scrape. Every test counts events by id: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import connection
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from jobs.models import Job, ScrapeRun
from tests.boards import BoardServer, greenhouse_job
from tests.conftest import ROOT, Daphne, free_port, run_manage

WAIT = 10


def elsewhere(server: Daphne, code: str) -> str:
    result = run_manage("shell", "--verbosity", "0", "-c", code, env=server.env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def publish_elsewhere(server: Daphne, count: int, pad: int = 0) -> list[int]:
    """Log `count` new_job events from another process; returns their event ids."""
    code = (
        "from realtime.record import broadcast_job_update_sync as b\n"
        f"print(','.join(str(b('new_job', {{'job_id': i, 'pad': 'x' * {pad}}}).id) "
        f"for i in range({count})))"
    )
    return [int(i) for i in elsewhere(server, code).split(",")]


def health(server: Daphne) -> dict[str, Any]:
    return httpx.get(f"{server.http_url}/api/v1/health", timeout=5).json()


class Client:
    """A script-like client that resumes from the last id it saw, as the JS client does."""

    def __init__(self, server: Daphne) -> None:
        self.server = server
        self.ids: list[int] = []
        self.ws: ClientConnection | None = None
        self.closes: list[int | None] = []

    @property
    def last_id(self) -> int:
        return max(self.ids, default=0)

    async def connect(self) -> None:
        url = self.server.ws_url + (f"?last_event_id={self.last_id}" if self.ids else "")
        self.ws = await connect(url)
        hello = json.loads(await asyncio.wait_for(self.ws.recv(), WAIT))
        assert hello["type"] == "connected"
        if not self.ids:
            self.ids.append(hello["data"]["last_event_id"])  # the resume point, not an event

    async def read_while(self, producer: Any, timeout: float = 60) -> list[int]:
        """Keep reading while `producer` (a blocking function returning event ids) runs in a
        thread; then read until every id it returned has arrived."""
        assert self.ws is not None
        reading = asyncio.ensure_future(self.read_until({-1}, timeout=timeout))
        ids: list[int] = await asyncio.to_thread(producer)
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, AssertionError):
            await reading
        await self.read_until(set(ids), timeout=timeout)
        return ids

    async def read_until(self, wanted: set[int], timeout: float = WAIT) -> None:
        assert self.ws is not None
        deadline = asyncio.get_running_loop().time() + timeout
        seen = set(self.ids)  # not rebuilt per message: thousands may be read
        while not wanted <= seen:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"missing events {sorted(wanted - seen)}")
            # asyncio.timeout, not wait_for: wait_for (Python 3.11) runs recv in a task of its
            # own, which can outlive this one when it is cancelled (a reader stopped mid-burst)
            # and then holds the socket's one recv against the next reader.
            async with asyncio.timeout(remaining):
                raw = await self.ws.recv()
            message = json.loads(raw)
            if "id" in message:
                self.ids.append(message["id"])
                seen.add(message["id"])

    async def read_until_closed(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            while True:
                async with asyncio.timeout(WAIT):
                    raw = await self.ws.recv()
                message = json.loads(raw)
                if "id" in message:
                    self.ids.append(message["id"])
        self.closes.append(self.ws.close_code)

    def events(self) -> list[int]:
        return self.ids[1:]


async def connected_clients(server: Daphne, count: int) -> list[Client]:
    clients = [Client(server) for _ in range(count)]
    await asyncio.gather(*(client.connect() for client in clients))
    return clients


async def read_everywhere(clients: list[Client], ids: list[int], timeout: float = WAIT) -> None:
    """Every client reads until it has every one of `ids`."""
    await asyncio.gather(*(client.read_until(set(ids), timeout=timeout) for client in clients))


# --- slow reader ---------------------------------------------------------------------------


def raw_socket_that_never_reads(server: Daphne) -> socket.socket:
    """A handshaken WebSocket whose reader has stopped (tiny receive buffer, never read)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(
        b"GET /api/v1/ws/jobs?events=new_job HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    assert b"101" in sock.recv(128)
    return sock


async def test_a_reader_that_stops_is_cut_off_and_others_get_everything(daphne_factory) -> None:
    server: Daphne = daphne_factory(JOBSENTINEL_WS_MAX_BACKLOG_BYTES="65536")
    stuck = raw_socket_that_never_reads(server)
    healthy = Client(server)
    await healthy.connect()
    try:
        assert health(server)["active_connections"] == 2
        # ~8 MB for the stuck socket: more than the kernel buffers hold, so daphne's grows.
        ids = await healthy.read_while(lambda: publish_elsewhere(server, 1000, 8000))
        assert healthy.events() == ids  # all, in order, once
        deadline = time.monotonic() + 15
        while health(server)["active_connections"] != 1:
            assert time.monotonic() < deadline, "the stuck reader was never cut off"
            await asyncio.sleep(0.2)
        assert "closing a socket that stopped reading" in server.log()
    finally:
        stuck.close()
        assert healthy.ws is not None
        await healthy.ws.close()


# --- Redis restarting -------------------------------------------------------------------------


class RedisServer:
    """A private redis-server on a free port, so a test may stop and restart it."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("JOBSENTINEL_REQUIRE_SERVICES"):
                pytest.fail("redis-server is required here (JOBSENTINEL_REQUIRE_SERVICES is set)")
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.5),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    redis = RedisServer(tmp_path)
    redis.start()
    yield redis
    redis.kill()


async def test_redis_restart_loses_nothing_and_needs_no_reconnect(
    daphne_factory, private_redis: RedisServer
) -> None:
    server: Daphne = daphne_factory(REDIS_URL=private_redis.url)
    clients = await connected_clients(server, 3)
    before = await asyncio.to_thread(publish_elsewhere, server, 3)
    await read_everywhere(clients, before)

    private_redis.kill()
    during = await asyncio.to_thread(publish_elsewhere, server, 3)  # live publish fails
    await read_everywhere(clients, during)  # the hub tails the log while the layer fails

    private_redis.start()  # empty: every group membership is gone
    await asyncio.sleep(2.5)  # the hub notices and rejoins
    after = await asyncio.to_thread(publish_elsewhere, server, 3)
    for client in clients:
        await client.read_until(set(after))
        assert client.events() == before + during + after  # each once, in order
        assert client.ws is not None
        assert client.ws.close_code is None  # never reconnected
        await client.ws.close()
    # Only what Redis could not carry was read from the log.
    assert health(server)["delivery"] == {"from_layer": 6, "from_log": 3}


# --- daphne stopped or killed ----------------------------------------------------------------


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
async def test_server_restart_then_resume_delivers_everything_once(
    daphne_factory, how: str
) -> None:
    server: Daphne = daphne_factory()
    clients = [Client(server) for _ in range(5)]
    for client in clients:
        await client.connect()
    first = await asyncio.to_thread(publish_elsewhere, server, 2)
    for client in clients:
        await client.read_until(set(first))

    await asyncio.to_thread(server.stop, getattr(signal, how))
    for client in clients:
        await client.read_until_closed()
    expected_close = 1012 if how == "SIGTERM" else 1006
    assert {c.closes[-1] for c in clients} == {expected_close}

    missed = await asyncio.to_thread(publish_elsewhere, server, 4)  # while the server is down
    await asyncio.to_thread(server.start)

    async def come_back(client: Client) -> None:
        await asyncio.sleep(random.uniform(0, 0.5))  # jitter, as the JS client does
        await client.connect()

    await asyncio.gather(*(come_back(c) for c in clients))
    later = await asyncio.to_thread(publish_elsewhere, server, 2)
    for client in clients:
        await client.read_until(set(missed + later))
        assert client.events() == first + missed + later
        assert client.ws is not None
        await client.ws.close()


# --- database connections dropped during a scrape -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_database_drop_during_a_scrape_fails_the_run_cleanly(board_server: BoardServer) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (the CI's second pass runs it): SQLite has no server to lose")
    from tests.conftest import subprocess_env
    from tests.factories import make_source

    board_server.board.jobs["acme"] = [greenhouse_job(n, f"Engineer {n}") for n in range(1, 6)]
    board_server.board.delay = 3.0
    source = make_source(token="acme", api_url=board_server.url)
    scrape = subprocess.Popen(
        [sys.executable, "manage.py", "scrape"], cwd=ROOT, env=subprocess_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not board_server.board.requests:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with connection.cursor() as cursor:  # what a server restart does to its clients
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    _, stderr = scrape.communicate(timeout=60)
    assert scrape.returncode == 1, stderr  # its only source failed
    run = ScrapeRun.objects.get(source=source)
    assert run.status == "failed"
    assert "database" in run.error_message
    assert not Job.objects.filter(source=source).exists()  # nothing half-written

    board_server.board.delay = 0
    again = run_manage("scrape")
    assert again.returncode == 0, again.stderr
    assert Job.objects.filter(source=source).count() == 5
    assert ScrapeRun.objects.filter(source=source, status="succeeded").count() == 1
