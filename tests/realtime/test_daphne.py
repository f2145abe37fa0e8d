"""The endpoint on a real daphne process, with the `websockets` client, as a user's script
would see it; and events committed by another process (a management command) reaching it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from tests.conftest import Daphne, free_port, require_redis, run_manage

WAIT = 5

CREATE_JOB = (
    "from tests.factories import make_job; "
    "job = make_job(title='From another process'); print(job.pk)"
)


async def create_job_elsewhere(server: Daphne) -> int:
    """Create a job in a separate `manage.py` process configured like the server (same
    database, same delivery mode); returns its id."""
    command = ("shell", "--verbosity", "0", "-c", CREATE_JOB)
    result = await asyncio.to_thread(run_manage, *command, env=server.env)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


async def recv(ws: ClientConnection, timeout: float = WAIT) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def recv_type(ws: ClientConnection, wanted: str, timeout: float = WAIT) -> dict[str, Any]:
    """The next message of a type, skipping heartbeats."""
    while True:
        message = await recv(ws, timeout)
        if message["type"] == wanted:
            return message
        assert message["type"] == "heartbeat", message


async def drain_until_closed(ws: ClientConnection) -> None:
    """Read (error replies) until the server closes the socket."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            await recv(ws)


async def test_no_origin_connects_and_plays_the_guide(daphne_factory) -> None:
    server: Daphne = daphne_factory()
    async with connect(server.ws_url) as ws:  # like wscat: no Origin header
        assert (await recv(ws))["type"] == "connected"
        await ws.send('{"type": "ping"}')
        assert (await recv(ws))["type"] == "pong"
        await ws.send('{"type": "subscribe", "events": ["new_job"]}')
        assert (await recv(ws))["data"] == {"events": ["new_job"]}
        await ws.send("garbage")
        assert (await recv(ws))["data"]["code"] == "invalid_json"
        await ws.send(b"\x01\x02")
        assert (await recv(ws))["data"]["code"] == "invalid_message"
        await ws.send('{"type": "ping"}')
        assert (await recv(ws))["type"] == "pong"


async def test_foreign_origin_is_refused_own_origin_allowed(daphne_factory) -> None:
    server: Daphne = daphne_factory()
    with pytest.raises(InvalidStatus) as refused:
        async with connect(server.ws_url, origin=Origin("https://evil.example")):
            pass
    assert refused.value.response.status_code == 403
    async with connect(server.ws_url, origin=Origin(server.http_url)) as ws:
        assert (await recv(ws))["type"] == "connected"


async def test_heartbeats_arrive_on_schedule(daphne_factory) -> None:
    server: Daphne = daphne_factory(JOBSENTINEL_WS_HEARTBEAT_SECONDS="1")
    async with connect(server.ws_url) as ws:
        connected = await recv(ws)
        assert connected["data"]["heartbeat_interval"] == 1.0
        loop = asyncio.get_running_loop()
        start = loop.time()
        beats = []
        for _ in range(3):
            beat = await recv(ws, timeout=3)
            assert beat["type"] == "heartbeat"
            beats.append(loop.time() - start)
        # Roughly one a second (wide bounds: this is a loaded CI box, not a benchmark).
        assert 1.5 <= beats[-1] <= 6


async def test_rate_limit_holds(daphne_factory) -> None:
    server: Daphne = daphne_factory(JOBSENTINEL_WS_RATE_PER_MINUTE="5")
    async with connect(server.ws_url) as ws:
        await recv(ws)
        for _ in range(5):
            await ws.send('{"type": "ping"}')
            assert (await recv(ws))["type"] == "pong"
        await ws.send('{"type": "ping"}')
        assert (await recv(ws))["data"]["code"] == "rate_limited"
        for _ in range(30):
            try:
                await ws.send('{"type": "ping"}')
            except ConnectionClosed:
                break
        await drain_until_closed(ws)
        assert ws.close_code == 4429


async def test_connection_cap_holds(daphne_factory) -> None:
    server: Daphne = daphne_factory(JOBSENTINEL_WS_MAX_CONNECTIONS_PER_IP="2")
    async with connect(server.ws_url) as one, connect(server.ws_url) as two:
        await recv(one)
        await recv(two)
        async with connect(server.ws_url) as three:
            assert (await recv(three))["data"]["code"] == "over_capacity"
            with pytest.raises(ConnectionClosed):
                await recv(three)
            assert three.close_code == 1013


async def test_oversized_message_closes_with_1009_not_1006(daphne_factory) -> None:
    server: Daphne = daphne_factory(["--websocket-max-message-size", str(64 * 1024)])
    async with connect(server.ws_url, max_size=None) as ws:
        await recv(ws)
        await ws.send(json.dumps({"type": "ping", "pad": "x" * 20_000}))
        assert (await recv(ws))["data"]["code"] == "message_too_large"
        with pytest.raises(ConnectionClosed):
            await recv(ws)
        assert ws.close_code == 1009


@pytest.mark.parametrize("mode", ["embedded", "redis"])
async def test_event_from_another_process_reaches_the_socket(daphne_factory, mode: str) -> None:
    redis_url = require_redis() if mode == "redis" else None
    server: Daphne = daphne_factory(REDIS_URL=redis_url)
    async with connect(server.ws_url) as ws:
        assert (await recv(ws))["type"] == "connected"
        job_id = await create_job_elsewhere(server)
        message = await recv_type(ws, "new_job")
        assert message["data"]["job_id"] == job_id
        assert message["data"]["title"] == "From another process"


async def test_resume_after_reconnect_gets_exactly_the_missed_events(daphne_factory) -> None:
    server: Daphne = daphne_factory()
    async with connect(server.ws_url) as ws:
        last_id = (await recv(ws))["data"]["last_event_id"]
    missed = []
    for _ in range(3):
        missed.append(await create_job_elsewhere(server))
    async with connect(f"{server.ws_url}?last_event_id={last_id}") as ws:
        assert (await recv(ws))["type"] == "connected"
        replayed = [await recv_type(ws, "new_job") for _ in range(3)]
        assert [m["data"]["job_id"] for m in replayed] == missed
        ids = [m["id"] for m in replayed]
        assert ids == sorted(ids)
        assert ids[0] > last_id
        live_id = await create_job_elsewhere(server)
        live = await recv_type(ws, "new_job")
        assert live["data"]["job_id"] == live_id
        with pytest.raises(TimeoutError):
            await recv_type(ws, "new_job", timeout=1)  # nothing twice


async def test_sigterm_closes_sockets_with_1012(daphne_factory) -> None:
    server: Daphne = daphne_factory()
    async with connect(server.ws_url) as one, connect(server.ws_url) as two:
        await recv(one)
        await recv(two)
        await asyncio.to_thread(server.stop, signal.SIGTERM)
        for ws in (one, two):
            await drain_until_closed(ws)
            assert ws.close_code == 1012


def test_health_is_503_when_the_channel_layer_is_down(daphne_factory) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    server: Daphne = daphne_factory(healthy=False, REDIS_URL=dead)
    response = httpx.get(f"{server.http_url}/api/v1/health", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["channel_layer"] == {"status": "unavailable", "mode": "redis"}


def test_health_is_503_when_the_database_is_down(daphne_factory) -> None:
    dead = f"postgres://postgres@127.0.0.1:{free_port()}/nothing"
    server: Daphne = daphne_factory(healthy=False, DATABASE_URL=dead)
    response = httpx.get(f"{server.http_url}/api/v1/health", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "unavailable"
    assert body["last_event_id"] is None
