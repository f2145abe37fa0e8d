"""The seven new board kinds end to end, with real processes: a local farm answering like
Workday, SmartRecruiters, Workable, Recruitee, Personio, BambooHR and Breezy;
`manage.py add_source URL --api-url` (one of them found through a careers page) and
`manage.py scrape` as subprocesses; the jobs' fields in the database and their new_job events
on a real daphne's socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from websockets.asyncio.client import ClientConnection, connect

from jobs.models import Job, Source
from tests.conftest import Daphne, require_redis, run_manage
from tests.vendor_boards import VendorFarm, install_all

WAIT = 30

URLS = [
    "https://acme.wd5.myworkdayjobs.com/en-US/External",
    "https://jobs.smartrecruiters.com/Umbrella/744000061234567-site-reliability-engineer",
    "apply.workable.com/hooli/",
    "https://pied-piper.recruitee.com/",
    "https://vandelay.jobs.personio.de/",
    "https://dunder.bamboohr.com/careers",
]
EXPECTED_NEW = 3 + 3 + 2 + 2 + 2 + 3 + 2


async def manage(server: Daphne, *args: str) -> str:
    result = await asyncio.to_thread(run_manage, *args, env=server.env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def events_until_cycle_done(ws: ClientConnection, sources: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    completed = 0
    while completed < sources:
        message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        if message["type"] == "heartbeat":
            continue
        messages.append(message)
        completed += message["type"] == "scrape_completed"
    return messages


@pytest.fixture
async def close_db_threads() -> AsyncIterator[None]:
    """This test reads the database through sync_to_async's thread: close that connection,
    or PostgreSQL refuses to drop the test database."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.mark.parametrize("mode", ["embedded", "redis"])
async def test_new_kinds_flow_from_url_to_socket(
    daphne_factory: Any, vendor_farm: VendorFarm, mode: str, close_db_threads: None
) -> None:
    redis_url = require_redis() if mode == "redis" else None
    server: Daphne = daphne_factory(REDIS_URL=redis_url)
    install_all(vendor_farm)
    # Breezy is added through the company's own careers page, which embeds the board.
    vendor_farm.text("/careers", '<h1>Careers</h1><iframe src="https://stark.breezy.hr/embed">')

    for url in URLS:
        output = await manage(server, "add_source", url, "--api-url", vendor_farm.url)
        assert "open jobs" in output
        assert "(id " in output
    output = await manage(
        server, "add_source", f"{vendor_farm.url}/careers", "--api-url", vendor_farm.url
    )
    assert "careers page (iframe)" in output
    assert "breezy board 'stark': 2 open jobs" in output
    kinds = await sync_to_async(lambda: sorted(Source.objects.values_list("kind", flat=True)))()
    assert kinds == sorted(
        ["workday", "smartrecruiters", "workable", "recruitee", "personio", "bamboohr", "breezy"]
    )

    async with connect(server.ws_url) as ws:
        assert json.loads(await ws.recv())["type"] == "connected"
        output = await manage(server, "scrape")
        messages = await events_until_cycle_done(ws, 7)

    assert "failed" not in output, output
    new_jobs = [m["data"] for m in messages if m["type"] == "new_job"]
    assert len(new_jobs) == EXPECTED_NEW
    by_title = {job["title"]: job for job in new_jobs}
    assert by_title["Senior Backend Engineer"]["source"] == "workday"
    assert by_title["Senior Backend Engineer"]["workplace"] == "hybrid"
    assert by_title["Senior Backend Engineer"]["company"] == "Acme Europe GmbH"
    assert by_title["Site Reliability Engineer"]["location"] == "Amsterdam, NH, Netherlands"
    assert by_title["Python Developer"]["posted_at"] == "2025-10-01T09:30:12+00:00"
    assert by_title["Backend Engineer (m/w/d)"]["source"] == "personio"
    assert by_title["Product Designer"]["workplace"] == "onsite"
    assert by_title["Technical Writer"]["workplace"] == "remote"
    completed = [m["data"] for m in messages if m["type"] == "scrape_completed"]
    assert sorted(c["source"] for c in completed) == kinds
    assert all(c["errors"] == 0 for c in completed)

    def stored() -> dict[str, Job]:
        return {job.title: job for job in Job.objects.select_related("source")}

    jobs = await sync_to_async(stored)()
    assert len(jobs) == EXPECTED_NEW
    backend = jobs["Senior Backend Engineer"]
    assert backend.employment_type == "Full-time"
    assert backend.location == "Berlin, Germany; Munich, Germany"
    assert backend.posted_at == datetime(2025, 10, 6, tzinfo=UTC)
    assert "payment" in backend.description_text
    python = jobs["Python Developer"]
    assert (python.salary_min, python.salary_max, python.salary_currency) == (
        Decimal(55000),
        Decimal(70000),
        "EUR",
    )
    assert python.salary_interval == "year"
    assert python.apply_url == "https://pied-piper.recruitee.com/o/python-developer/c/new"
    payroll = jobs["Payroll Specialist"]
    assert (payroll.salary_min, payroll.salary_interval, payroll.department) == (
        Decimal(60000),
        "year",
        "Finance",
    )
    assert jobs["Werkstudent Marketing"].employment_type == "Working student"
    assert jobs["Site Reliability Engineer"].apply_url.endswith("?oga=true")
    assert jobs["Senior Frontend Engineer"].department == "Engineering"
    designer = jobs["Product Designer"]
    assert (designer.salary_min, designer.salary_max) == (Decimal(110000), Decimal(130000))

    # The farm answers 400 to more than 20 per page: a clean run shows the limit held.
    workday_posts = [path for method, path in vendor_farm.requests if method == "POST"]
    assert workday_posts

    def health() -> list[tuple[str, int, bool, str]]:
        return [
            (s.kind, s.open_jobs, s.gone_dark, s.last_error)
            for s in Source.objects.order_by("kind")
        ]

    assert all(
        open_jobs > 0 and not dark and not error
        for _, open_jobs, dark, error in await sync_to_async(health)()
    )


async def test_api_watch_by_url_under_daphne(
    daphne_factory: Any, vendor_farm: VendorFarm, close_db_threads: None
) -> None:
    """The API's add (detection and the board fetch inside a web request) on a real server."""
    server: Daphne = daphne_factory()
    install_all(vendor_farm)
    vendor_farm.text("/careers", '<a href="https://apply.workable.com/hooli/">Jobs</a>')
    body = {"url": f"{vendor_farm.url}/careers", "api_url": vendor_farm.url}
    async with httpx.AsyncClient(base_url=server.http_url, timeout=60) as client:
        dry = await client.post("/api/v1/sources/", json={**body, "dry_run": True})
        assert dry.status_code == 200, dry.text
        assert dry.json()["summary"] == "workable board 'hooli': 2 open jobs"
        created = await client.post("/api/v1/sources/", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["preview"]["found_via"] == "careers page (link)"
        again = await client.post("/api/v1/sources/", json={**body, "force": True})
        assert again.status_code == 400
        assert "already watched" in again.json()["token"][0]
    names = await sync_to_async(lambda: list(Source.objects.values_list("name", flat=True)))()
    assert names == ["Hooli"]
