"""BambooHR: list then a detail per job, location types, free-text pay, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from jobs.scrapers.bamboohr import adapter
from jobs.scrapers.base import PayloadError, SourceError, scrape
from jobs.scrapers.http import HttpClient

from .conftest import json_response, load

HOST = "https://dunder.bamboohr.com"
LIST = load("bamboohr_list.json")
DETAIL = load("bamboohr_detail_42.json")


def parse(details: dict[str, Any] | None = None) -> dict[str, Any]:
    envelope = {"token": "dunder", "list": LIST, "details": details or {"42": DETAIL}}
    return {p.external_id: p for p in adapter.parse([envelope], company="Dunder Mifflin")}


def test_endpoints():
    assert adapter.endpoint("dunder", None) == f"{HOST}/careers/list"
    assert adapter.detail_url("dunder", None, "42") == f"{HOST}/careers/42/detail"
    assert adapter.endpoint("dunder", "http://127.0.0.1:9") == "http://127.0.0.1:9/careers/list"


async def test_fetch_list_and_details(respx_mock: respx.MockRouter, client: HttpClient):
    respx_mock.get(f"{HOST}/careers/list").mock(return_value=json_response(LIST))
    d42 = respx_mock.get(f"{HOST}/careers/42/detail").mock(return_value=json_response(DETAIL))
    gone = respx_mock.get(url__regex=rf"{HOST}/careers/(57|61)/detail").mock(
        return_value=httpx.Response(404)
    )
    result = await scrape(adapter, client, "dunder", None, "Dunder Mifflin")
    assert d42.call_count == 1
    assert gone.call_count == 2
    assert [p.external_id for p in result.postings] == ["42", "57", "61"]


async def test_a_failing_list_fails(respx_mock: respx.MockRouter, client: HttpClient):
    respx_mock.get(f"{HOST}/careers/list").mock(return_value=httpx.Response(403))
    with pytest.raises(SourceError, match="HTTP 403"):
        await adapter.fetch(client, "dunder", None)


def test_onsite_job_with_detail_and_pay():
    job = parse()["42"]
    assert job.title == "Payroll Specialist"
    assert job.company == "Dunder Mifflin"
    assert job.url == "https://dunder.bamboohr.com/careers/42"
    assert job.location == "Boise, Idaho, United States"
    assert job.workplace == "onsite"
    assert job.department == "Finance"
    assert job.employment_type == "Full-time"
    assert job.description_html == "<p>Run <strong>payroll</strong> for 300 people.</p>"
    assert job.posted_at == datetime(2025, 10, 2, tzinfo=UTC)
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_interval) == (
        Decimal(60000),
        Decimal(72000),
        "USD",
        "year",
    )


def test_remote_and_hybrid_from_the_list_alone():
    jobs = parse()
    assert jobs["57"].workplace == "remote"
    assert jobs["57"].location == "Toronto, Ontario, Canada"
    assert jobs["57"].employment_type == "Contract"
    assert jobs["57"].url == "https://dunder.bamboohr.com/careers/57"
    assert jobs["61"].workplace == "hybrid"
    assert jobs["61"].employment_type == "Part-time"


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        ("x", "BambooHR fetch should be a JSON object"),
        ({"list": {"result": None}}, "'result' should be a JSON array"),
        ({"list": {"result": [{"id": "1"}]}}, "no job could be parsed"),
    ],
)
def test_shape_errors(envelope: Any, message: str):
    with pytest.raises(PayloadError, match=message):
        adapter.parse([envelope], company="D")
