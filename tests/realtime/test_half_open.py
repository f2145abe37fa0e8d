"""A half-open peer (connected, then silent: never reads, never answers a ping) is freed by
daphne's protocol pings within about ping interval + ping timeout, while a live client, which
answers pings, stays connected through the same period.

daphne is started with `--ping-interval 1 --ping-timeout 1`; `manage.py serve` uses 20 and 30.
daphne looks for idle sockets every 2 s, so the expected worst case is about 1 + 2 + 1 s; the
deadline leaves room for a loaded machine. The count comes from `GET /api/v1/health`
(`active_connections`), which must itself stay quick: see the last test.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.conftest import Daphne, require_redis

PING_INTERVAL = 1
PING_TIMEOUT = 1
FREED_WITHIN = 8.0  # seconds: 1 + 1, daphne's 2 s check period, and slack for a loaded box
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
OP_TEXT, OP_CLOSE, OP_PING = 0x1, 0x8, 0x9

pytestmark = pytest.mark.django_db(transaction=True)


def start(daphne_factory: Any) -> Daphne:
    server: Daphne = daphne_factory(
        ["--ping-interval", str(PING_INTERVAL), "--ping-timeout", str(PING_TIMEOUT)],
    )
    return server


@contextlib.contextmanager
def half_open_peer(server: Daphne) -> Iterator[tuple[socket.socket, bytes]]:
    """A WebSocket opened by hand over a raw TCP socket; after the 101 the caller never reads
    from it or writes to it, so daphne's pings go unanswered. Yields the socket and whatever
    came after the response headers (the start of the first frames, if any)."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /api/v1/ws/jobs HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(4096)
            assert chunk, f"connection closed during the handshake: {response!r}"
            response += chunk
        head_bytes, rest = response.split(b"\r\n\r\n", 1)
        head = head_bytes.decode("latin-1")
        status, *header_lines = head.split("\r\n")
        assert status.split(" ")[1] == "101", head
        headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        assert headers["sec-websocket-accept"] == accept
        yield sock, rest
    finally:
        sock.close()


def read_until_dropped(sock: socket.socket, timeout: float = 5) -> bytes:
    """What the server sent to the silent peer, read only after it was dropped."""
    sock.settimeout(timeout)
    received = b""
    with contextlib.suppress(ConnectionResetError):  # an aborted connection ends with a RST
        while chunk := sock.recv(65536):
            received += chunk
    return received


def server_opcodes(data: bytes) -> list[int]:
    """Opcodes of the (unmasked) server frames in `data`, everything after the 101's headers."""
    opcodes = []
    while len(data) >= 2:
        length = data[1] & 0x7F
        offset = 2
        if length == 126:
            length, offset = int.from_bytes(data[2:4], "big"), 4
        elif length == 127:
            length, offset = int.from_bytes(data[2:10], "big"), 10
        opcodes.append(data[0] & 0x0F)
        data = data[offset + length :]
    return opcodes


async def active_connections(client: httpx.AsyncClient, server: Daphne) -> int:
    response = await client.get(f"{server.http_url}/api/v1/health")
    return int(response.json()["active_connections"])


async def wait_for_active(
    client: httpx.AsyncClient, server: Daphne, wanted: int, deadline: float
) -> float:
    """Poll the health check until `active_connections == wanted`; the time it was seen."""
    seen = []
    while True:
        count = await active_connections(client, server)
        now = time.monotonic()
        if count == wanted:
            return now
        seen.append(count)
        assert now < deadline, f"active_connections never reached {wanted}; saw {seen[-10:]}"
        await asyncio.sleep(0.1)


async def test_half_open_peer_is_freed_within_ping_interval_plus_timeout(daphne_factory) -> None:
    server = start(daphne_factory)
    async with httpx.AsyncClient(timeout=5) as client:
        with half_open_peer(server) as (peer, early):
            opened = time.monotonic()
            await wait_for_active(client, server, 1, opened + 5)
            freed = await wait_for_active(client, server, 0, opened + FREED_WITHIN)
            # Not freed early by something else: it had a ping interval to answer.
            assert freed - opened >= PING_INTERVAL
            received = await asyncio.to_thread(read_until_dropped, peer)
    opcodes = server_opcodes(early + received)
    assert OP_TEXT in opcodes  # the `connected` message, never read
    assert OP_PING in opcodes  # the ping it never answered


async def test_a_live_client_stays_while_a_half_open_one_is_freed(daphne_factory) -> None:
    server = start(daphne_factory)
    async with (
        httpx.AsyncClient(timeout=5) as client,
        connect(server.ws_url) as live,  # `websockets` answers pings by itself
    ):
        assert '"connected"' in str(await asyncio.wait_for(live.recv(), 5))
        with half_open_peer(server):
            opened = time.monotonic()
            await wait_for_active(client, server, 2, opened + 5)
            freed = await wait_for_active(client, server, 1, opened + FREED_WITHIN)
            assert freed - opened >= PING_INTERVAL
        # Several more ping rounds: the live client is still there and still answers.
        await asyncio.sleep(PING_INTERVAL + PING_TIMEOUT + 2)
        assert await active_connections(client, server) == 1
        await live.send('{"type": "ping"}')
        while '"pong"' not in str(reply := await asyncio.wait_for(live.recv(), 5)):
            assert '"heartbeat"' in str(reply), reply
        assert live.close_code is None
        await live.close()
        await wait_for_active(client, server, 0, time.monotonic() + 5)


@pytest.mark.parametrize(
    "mode",
    [
        "embedded",
        "redis",
    ],
)
async def test_health_stays_ok_and_quick_while_sockets_are_open(daphne_factory, mode: str) -> None:
    redis_url = require_redis() if mode == "redis" else None
    server: Daphne = daphne_factory(REDIS_URL=redis_url)
    async with httpx.AsyncClient(timeout=10) as client, connect(server.ws_url) as ws:
        assert '"connected"' in str(await asyncio.wait_for(ws.recv(), 5))
        for _ in range(3):
            started = time.monotonic()
            response = await client.get(f"{server.http_url}/api/v1/health")
            assert response.json()["channel_layer"] == {"status": "ok", "mode": mode}
            assert response.status_code == 200
            assert response.json()["active_connections"] == 1
            assert time.monotonic() - started < 1.0
