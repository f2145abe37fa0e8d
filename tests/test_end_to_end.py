"""The whole path, with real processes: a local Greenhouse-shaped board, `manage.py add_source`
and `manage.py scrape` as subprocesses, a `websockets` client on a real daphne."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.boards import BoardServer, greenhouse_job
from tests.conftest import Daphne, require_redis, run_manage

WAIT = 10


async def manage(server: Daphne, *args: str) -> str:
    result = await asyncio.to_thread(run_manage, *args, env=server.env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def collect_scrape(ws: ClientConnection) -> list[dict[str, Any]]:
    """Messages from scrape_started up to and including scrape_completed (heartbeats skipped)."""
    messages: list[dict[str, Any]] = []
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        if message["type"] == "heartbeat":
            continue
        messages.append(message)
        if message["type"] == "scrape_completed":
            return messages


@pytest.mark.parametrize("mode", ["embedded", "redis"])
async def test_scrapes_flow_to_the_socket(
    daphne_factory, board_server: BoardServer, mode: str
) -> None:
    redis_url = require_redis() if mode == "redis" else None
    server: Daphne = daphne_factory(REDIS_URL=redis_url)
    board = board_server.board
    board.jobs["acme"] = [
        greenhouse_job(101, "Senior Backend Engineer"),
        greenhouse_job(102, "Data Engineer", location="Berlin"),
        greenhouse_job(103, "Site Reliability Engineer"),
    ]
    await manage(
        server, "add_source", "greenhouse", "acme", "--name", "Acme", "--api-url", board_server.url
    )

    async with connect(server.ws_url) as ws:
        assert json.loads(await ws.recv())["type"] == "connected"

        output = await manage(server, "scrape")
        assert "3 found, 3 new" in output
        first = await collect_scrape(ws)
        assert [m["type"] for m in first] == [
            "scrape_started",
            "new_job",
            "new_job",
            "new_job",
            "scrape_completed",
        ]
        assert first[0]["data"]["source"] == "greenhouse"
        assert first[0]["data"]["source_name"] == "Acme"
        assert {m["data"]["title"] for m in first[1:4]} == {
            "Senior Backend Engineer", "Data Engineer", "Site Reliability Engineer",
        }  # fmt: skip
        done = first[-1]["data"]
        assert (done["jobs_found"], done["new_jobs"], done["updated_jobs"], done["errors"]) == (
            3,
            3,
            0,
            0,
        )
        ids = {m["data"]["title"]: m["data"]["job_id"] for m in first[1:4]}

        # The board edits one job and drops another.
        board.jobs["acme"] = [
            greenhouse_job(101, "Staff Backend Engineer"),
            greenhouse_job(102, "Data Engineer", location="Berlin"),
        ]
        await manage(server, "scrape")
        second = await collect_scrape(ws)
        assert [m["type"] for m in second] == ["scrape_started", "job_updated", "scrape_completed"]
        updated = second[1]["data"]
        assert updated["job_id"] == ids["Senior Backend Engineer"]
        assert updated["changes"] == ["title"]
        assert updated["job"]["title"] == "Staff Backend Engineer"
        done = second[-1]["data"]
        assert (
            done["jobs_found"],
            done["new_jobs"],
            done["updated_jobs"],
            done["closed_jobs"],
        ) == (2, 0, 1, 0)

        # Missing from a second complete fetch: closed.
        await manage(server, "scrape")
        third = await collect_scrape(ws)
        assert [m["type"] for m in third] == ["scrape_started", "job_updated", "scrape_completed"]
        assert third[1]["data"]["job_id"] == ids["Site Reliability Engineer"]
        assert third[1]["data"]["changes"] == ["status"]
        assert third[1]["data"]["job"]["status"] == "closed"
        assert third[-1]["data"]["closed_jobs"] == 1
