"""Lever: endpoints (EU), paging, parsing, shape errors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from jobs.scrapers.base import PayloadError, scrape
from jobs.scrapers.http import HttpClient
from jobs.scrapers.lever import LeverAdapter, adapter

from .conftest import json_response, load

PAGES = [load("lever_page1.json"), load("lever_page2.json")]
P1, P2, P3 = (
    "5f0c2a8e-1b2c-4d3e-8f90-0a1b2c3d4e5f",
    "6a1d3b9f-2c3d-4e4f-9a01-1b2c3d4e5f60",
    "7b2e4c0a-3d4e-4f50-8b12-2c3d4e5f6071",
)


def parse(pages: list[Any] = PAGES, company: str = "Globex") -> dict[str, Any]:
    return {p.external_id: p for p in adapter.parse(pages, company=company)}


def test_endpoint_global_and_eu():
    assert adapter.endpoint("globex", None) == "https://api.lever.co/v0/postings/globex?mode=json"
    assert adapter.endpoint("globex", "https://api.eu.lever.co") == (
        "https://api.eu.lever.co/v0/postings/globex?mode=json"
    )
    assert adapter.endpoint("globex", "https://api.eu.lever.co/") == (
        "https://api.eu.lever.co/v0/postings/globex?mode=json"
    )


async def test_fetch_pages_while_a_page_is_full(respx_mock: respx.MockRouter, client: HttpClient):
    def page(request: httpx.Request) -> httpx.Response:
        skip = int(request.url.params["skip"])
        return json_response({0: PAGES[0], 2: PAGES[1]}[skip])

    route = respx_mock.get("https://api.eu.lever.co/v0/postings/globex").mock(side_effect=page)

    payloads = await LeverAdapter(page_size=2).fetch(client, "globex", "https://api.eu.lever.co")

    assert payloads == PAGES
    sent = [dict(call.request.url.params) for call in route.calls]
    assert sent == [
        {"mode": "json", "skip": "0", "limit": "2"},
        {"mode": "json", "skip": "2", "limit": "2"},
    ]


async def test_fetch_stops_after_an_empty_full_boundary_page(
    respx_mock: respx.MockRouter, client: HttpClient
):
    route = respx_mock.get("https://api.lever.co/v0/postings/globex").mock(
        side_effect=[json_response(PAGES[0]), json_response([])]
    )

    payloads = await LeverAdapter(page_size=2).fetch(client, "globex", None)

    assert route.call_count == 2
    assert len(adapter.parse(payloads, company="Globex")) == 2


async def test_fetch_one_short_page_is_one_request(
    respx_mock: respx.MockRouter, client: HttpClient
):
    route = respx_mock.get("https://api.lever.co/v0/postings/globex").mock(
        return_value=json_response(PAGES[0])
    )

    result = await scrape(adapter, client, "globex", None, "Globex")

    assert route.call_count == 1
    assert route.calls.last.request.url.params["limit"] == "100"
    assert result.complete is True
    assert [p.external_id for p in result.postings] == [P1, P2]


async def test_a_server_ignoring_skip_is_stopped(respx_mock: respx.MockRouter, client: HttpClient):
    respx_mock.get("https://api.lever.co/v0/postings/globex").mock(
        return_value=json_response(PAGES[0])
    )

    with pytest.raises(PayloadError, match="after 3 pages"):
        await LeverAdapter(page_size=2, max_pages=3).fetch(client, "globex", None)


def test_parses_both_pages():
    assert list(parse()) == [P1, P2, P3]


def test_hybrid_job_with_monthly_salary_and_lists():
    job = parse()[P1]
    assert job.title == "Staff Platform Engineer"
    assert job.company == "Globex"
    assert job.url == f"https://jobs.lever.co/globex/{P1}"
    assert job.apply_url == f"https://jobs.lever.co/globex/{P1}/apply"
    assert job.location == "São Paulo, Brazil; Lisbon, Portugal"
    assert job.workplace == "hybrid"
    assert job.department == "Engineering"
    assert job.employment_type == "Full-time"
    assert job.posted_at == datetime(2025, 10, 1, 10, 0, tzinfo=UTC)
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_interval) == (
        Decimal(25000),
        Decimal(32000),
        "BRL",
        "month",
    )
    assert job.description_html == (
        "<div>Join our <b>platform</b> team.</div>\n"
        "<h3>What you&#x27;ll do</h3>\n<ul><li>Run Kubernetes</li><li>Write Go & Python</li></ul>\n"
        "<h3>Requirements</h3>\n<ul><li>5+ years</li></ul>\n"
        "<div>We offer equal opportunities.</div>"
    )


def test_remote_contract_with_swapped_hourly_range():
    job = parse()[P2]
    assert job.workplace == "remote"
    assert job.department == "Data"  # no department: the team
    assert job.employment_type == "Contract"
    assert (job.salary_min, job.salary_max, job.salary_interval) == (
        Decimal(70),
        Decimal(85),
        "hour",
    )


def test_unspecified_workplace_and_missing_salary():
    job = parse()[P3]
    assert job.location == "Zürich"
    assert job.workplace == "unknown"  # Lever says "unspecified": a city alone is no answer
    assert job.salary_min is job.salary_max is None
    assert (job.salary_currency, job.salary_interval) == ("", "")
    assert "<h3>Benefits</h3>" in job.description_html


def test_unspecified_workplace_with_remote_location_is_remote():
    page = [dict(PAGES[1][0], categories={"location": "Remote, Europe"})]
    assert parse([page])[P3].workplace == "remote"


def test_one_time_interval_keeps_the_amounts_without_an_interval():
    page = [
        dict(
            PAGES[1][0],
            salaryRange={"min": 5000, "max": 5000, "currency": "usd", "interval": "one-time"},
        )
    ]
    job = parse([page])[P3]
    assert (job.salary_min, job.salary_currency, job.salary_interval) == (Decimal(5000), "USD", "")


def test_a_job_repeated_across_pages_is_kept_once():
    assert len(adapter.parse([PAGES[0], PAGES[0]], company="Globex")) == 2


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        ([{"ok": False, "error": "Document not found"}], "Lever page should be a JSON array"),
        (["x"], "got str"),
        ([[{"id": "a", "hostedUrl": "https://jobs.lever.co/g/a"}]], "'text' is missing"),
    ],
)
def test_shape_errors(pages: list[Any], message: str):
    with pytest.raises(PayloadError, match=message):
        adapter.parse(pages, company="Globex")
