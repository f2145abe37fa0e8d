"""Ashby: endpoint, parsing (unlisted jobs, compensation), shape errors, fetch."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import respx

from jobs.scrapers.ashby import adapter
from jobs.scrapers.base import PayloadError, scrape
from jobs.scrapers.http import HttpClient

from .conftest import json_response, load

FOUNDING, DATA, INTERN, SECRET = (
    "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "1c2d3e4f-5061-7283-94a5-b6c7d8e9f001",
    "2d3e4f50-6172-8394-a5b6-c7d8e9f00112",
    "3e4f5061-7283-94a5-b6c7-d8e9f0011223",
)


def parse(payload: Any = None, company: str = "Initech") -> dict[str, Any]:
    payload = load("ashby_board.json") if payload is None else payload
    return {p.external_id: p for p in adapter.parse([payload], company=company)}


def test_endpoint_default_and_api_url():
    assert adapter.endpoint("initech", None) == (
        "https://api.ashbyhq.com/posting-api/job-board/initech?includeCompensation=true"
    )
    assert adapter.endpoint("initech", "http://localhost:8080") == (
        "http://localhost:8080/posting-api/job-board/initech?includeCompensation=true"
    )


def test_unlisted_jobs_are_skipped():
    assert list(parse()) == [FOUNDING, DATA, INTERN]
    assert SECRET not in parse()


def test_onsite_job_with_yearly_salary_ignoring_equity():
    job = parse()[FOUNDING]
    assert job.title == "Founding Engineer"
    assert job.company == "Initech"
    assert job.url == f"https://jobs.ashbyhq.com/initech/{FOUNDING}"
    assert job.apply_url == f"https://jobs.ashbyhq.com/initech/{FOUNDING}/application"
    assert job.location == "San Francisco, CA; New York, NY"
    assert job.workplace == "onsite"
    assert job.department == "Engineering"
    assert job.employment_type == "Full-time"
    assert job.description_html == "<p>Build the <em>first</em> version.</p>"
    assert job.posted_at == datetime(2025, 9, 20, 16, 45, 12, 345000, tzinfo=UTC)
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_interval) == (
        Decimal(180000),
        Decimal(220000),
        "USD",
        "year",
    )


def test_remote_flag_unicode_and_missing_compensation():
    job = parse()[DATA]
    assert job.title == "Engenheira de Dados Sênior"
    assert job.location == "São Paulo"
    assert job.workplace == "remote"  # no workplaceType: isRemote decides
    assert job.department == "Data Platform"  # no department: the team
    assert job.employment_type == "Contract"
    assert "português" in job.description_html
    assert job.salary_min is job.salary_max is None
    assert (job.salary_currency, job.salary_interval) == ("", "")


def test_hybrid_intern_with_monthly_pay_and_offset_date():
    job = parse()[INTERN]
    assert job.workplace == "hybrid"
    assert job.employment_type == "Internship"
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_interval) == (
        Decimal(2000),
        Decimal(2000),
        "EUR",
        "month",
    )
    assert job.posted_at == datetime(2025, 10, 4, 7, 0, tzinfo=UTC)


def test_without_workplace_type_or_remote_flag_a_city_is_onsite():
    payload = load("ashby_board.json")
    del payload["jobs"][0]["workplaceType"]
    assert parse(payload)[FOUNDING].workplace == "onsite"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"jobs": "x"}, "'jobs' should be a JSON array, got str"),
        ([{"id": "x"}], "should be a JSON object, got list"),
        ({"apiVersion": "1"}, "got null"),
        ({"jobs": [{"id": "x", "title": "T"}]}, "'jobUrl' is missing"),
    ],
)
def test_shape_errors(payload: Any, message: str):
    with pytest.raises(PayloadError, match=message):
        adapter.parse([payload], company="Initech")


def test_a_board_of_only_unlisted_jobs_is_empty_not_an_error():
    payload = load("ashby_board.json")
    payload["jobs"] = [payload["jobs"][3]]
    assert parse(payload) == {}


async def test_scrape(respx_mock: respx.MockRouter, client: HttpClient):
    route = respx_mock.get("https://api.ashbyhq.com/posting-api/job-board/initech").mock(
        return_value=json_response(load("ashby_board.json"))
    )

    result = await scrape(adapter, client, "initech", None, "Initech")

    assert route.calls.last.request.url.params["includeCompensation"] == "true"
    assert result.complete is True
    assert len(result.postings) == 3
