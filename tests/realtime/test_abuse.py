"""Abuse of the protocol on a real daphne: frames over daphne's limit, repeated resumes, and
subscriptions naming events that do not exist."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import Daphne
from tests.realtime.test_churn import publish_elsewhere

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 10.0
DAPHNE_LIMIT = 64 * 1024  # what `manage.py serve` passes as --websocket-max-message-size


async def frames_until_quiet(ws: ClientConnection, quiet: float = 1.5) -> list[dict[str, Any]]:
    frames = []
    with contextlib.suppress(TimeoutError):
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), quiet)))
    return [f for f in frames if f["type"] != "heartbeat"]


async def test_a_frame_over_daphnes_limit_gets_1009_and_a_close_frame(daphne_factory: Any) -> None:
    server: Daphne = daphne_factory(["--websocket-max-message-size", str(DAPHNE_LIMIT)])
    async with connect(server.ws_url, max_size=None) as ws:
        assert json.loads(await ws.recv())["type"] == "connected"
        await ws.send(json.dumps({"type": "ping", "pad": "x" * 100_000}))  # ~100 KB
        with contextlib.suppress(ConnectionClosed):
            while True:  # until the server closes; a timeout fails the test
                await asyncio.wait_for(ws.recv(), WAIT)
    assert ws.protocol.close_rcvd is not None, "the server dropped TCP without a close frame"
    assert ws.close_code == 1009
    # And the server is fine: a new client connects.
    async with connect(server.ws_url) as again:
        assert json.loads(await again.recv())["type"] == "connected"


async def test_ten_repeated_resumes_cost_one_replay(daphne_factory: Any) -> None:
    server: Daphne = daphne_factory()
    count = 1200  # three replay pages
    await publish_elsewhere(server, count)
    async with connect(server.ws_url, max_size=None) as ws:
        assert json.loads(await ws.recv())["type"] == "connected"
        for _ in range(10):
            await ws.send(
                json.dumps({"type": "subscribe", "events": ["new_job"], "last_event_id": 0})
            )
        frames = await frames_until_quiet(ws)
    kinds = [f["type"] for f in frames]
    print(f"ten resumes from 0 over {count} events: {len(frames)} frames received")
    assert kinds.count("subscribed") == 10
    ids = [f["id"] for f in frames if f["type"] == "new_job"]
    assert len(ids) == count  # 1,200, not 12,000
    assert ids == sorted(set(ids))
    assert len(frames) == count + 10


async def test_subscribe_with_one_unknown_name_applies_the_known_ones(daphne_factory: Any) -> None:
    server: Daphne = daphne_factory()
    async with connect(server.ws_url) as ws:
        assert json.loads(await ws.recv())["type"] == "connected"
        await ws.send(json.dumps({"type": "subscribe", "events": ["new_job", "heartbeat"]}))
        reply = json.loads(await ws.recv())
        assert reply["data"] == {"events": ["new_job"], "ignored": ["heartbeat"]}
        await ws.send(json.dumps({"type": "subscribe", "events": ["bogus"]}))
        error = json.loads(await ws.recv())
        assert error["data"]["code"] == "unknown_event"
        assert error["data"]["unknown"] == ["bogus"]
