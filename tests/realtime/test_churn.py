"""Clients that leave at the worst moment, on a real daphne.

A browser that closes a CONNECTING socket sends its close frame right after the handshake;
a flaky network drops the TCP connection right after the 101. Either way the consumer's first
`send` meets a peer that is already gone. Whatever the moment (right after the handshake,
mid-replay, mid-send), the server must give back the connection slot and the per-address count
(`/api/v1/health` shows `active_connections`), leave the hub, and log no traceback.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import struct
import time
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.conftest import Daphne, run_manage

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 400
AT_ONCE = 50  # clients in flight together: enough to race, few enough for a 2-core box
WAIT = 30.0
CLOSE_NORMAL = struct.pack("!H", 1000)


async def active_connections(server: Daphne) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{server.http_url}/api/v1/health")
    return int(response.json()["active_connections"])


async def wait_for_active(server: Daphne, wanted: int, within: float = WAIT) -> int:
    deadline = time.monotonic() + within
    while (count := await active_connections(server)) != wanted:
        if time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.2)
    return count


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask) of under 126 bytes."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + mask + masked


async def vanish(server: Daphne, how: str, query: str = "") -> None:
    """Open a socket by hand, read the 101, then leave: `drop` closes TCP at once, `close`
    sends a close frame first (what a browser does when a CONNECTING socket is closed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /api/v1/ws/jobs{query} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
    assert head.startswith(b"HTTP/1.1 101"), head
    if how == "close":
        writer.write(masked_frame(0x8, CLOSE_NORMAL))
    writer.close()
    with contextlib.suppress(OSError):  # reset by the server: it may have written meanwhile
        await writer.wait_closed()


async def churn(
    server: Daphne, how: str, count: int = CLIENTS, query: str = "", at_once: int = AT_ONCE
) -> None:
    gate = asyncio.Semaphore(at_once)

    async def one() -> None:
        async with gate:
            await vanish(server, how, query)

    await asyncio.gather(*(one() for _ in range(count)))


def app_log(server: Daphne) -> str:
    """The server log without daphne's access lines."""
    return "\n".join(line for line in server.log().splitlines() if '] "' not in line)


def assert_no_traceback(server: Daphne) -> None:
    log = app_log(server)
    for bad in ("Traceback", "Exception inside application", " ERROR "):
        assert bad not in log, log[-6000:]


@pytest.mark.parametrize("how", ["drop", "close"])
async def test_clients_vanishing_after_the_handshake_leave_no_slot(
    daphne_factory: Any, how: str
) -> None:
    server: Daphne = daphne_factory()
    started = time.monotonic()
    await churn(server, how)
    left = await wait_for_active(server, 0)
    elapsed = time.monotonic() - started
    print(f"{CLIENTS} clients ({how}): {left} slots left, {elapsed:.1f} s")
    assert left == 0, app_log(server)[-6000:]
    assert_no_traceback(server)
    # At most one line per departing client; and nothing locked the address out.
    departures = server.log().count("ws disconnect")
    assert departures <= CLIENTS, departures
    async with connect(server.ws_url) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] == "connected"


async def test_per_address_cap_survives_churn(daphne_factory: Any) -> None:
    """With a cap of 20 per address, 400 vanishing clients would lock the address out after
    20 leaked slots: every slot must come back."""
    server: Daphne = daphne_factory(JOBSENTINEL_WS_MAX_CONNECTIONS_PER_IP="20")
    # Ten in flight, under the cap: only leaked slots could make the server refuse one.
    await churn(server, "close", at_once=10)
    assert await wait_for_active(server, 0) == 0
    sockets = [await connect(server.ws_url) for _ in range(20)]
    try:
        for ws in sockets:
            assert json.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] == "connected"
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))
    assert_no_traceback(server)


PUBLISH = (
    "from realtime.record import broadcast_job_update_sync\n"
    "for n in range({count}):\n"
    "    broadcast_job_update_sync('new_job', {{'job_id': n}})\n"
)


async def publish_elsewhere(server: Daphne, count: int) -> None:
    """Commit `count` events from another process (a `manage.py shell`)."""
    command = ("shell", "--verbosity", "0", "-c", PUBLISH.format(count=count))
    result = await asyncio.to_thread(run_manage, *command, env=server.env)
    assert result.returncode == 0, result.stderr


async def test_clients_vanishing_mid_replay_leave_no_slot(daphne_factory: Any) -> None:
    server: Daphne = daphne_factory()
    await publish_elsewhere(server, 3000)
    started = time.monotonic()
    await churn(server, "close", count=100, query="?last_event_id=0")
    await churn(server, "drop", count=100, query="?last_event_id=0")
    left = await wait_for_active(server, 0)
    print(
        f"200 clients leaving mid-replay of 3,000 events: {left} slots left, "
        f"{time.monotonic() - started:.1f} s"
    )
    assert left == 0, app_log(server)[-6000:]
    assert_no_traceback(server)
