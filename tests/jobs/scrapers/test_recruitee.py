"""Recruitee offers API: endpoint per subdomain, both date formats, string or number
salaries, workplace flags, shape errors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import respx

from jobs.scrapers.base import PayloadError, scrape
from jobs.scrapers.http import HttpClient
from jobs.scrapers.recruitee import adapter, recruitee_datetime

from .conftest import json_response, load

OFFERS = load("recruitee_offers.json")


def parse(payload: Any = OFFERS) -> dict[str, Any]:
    return {p.external_id: p for p in adapter.parse([payload], company="PP")}


def test_endpoint_on_the_company_host_or_the_api_url():
    assert adapter.endpoint("pied-piper", None) == "https://pied-piper.recruitee.com/api/offers/"
    assert adapter.endpoint("pied-piper", "http://127.0.0.1:9") == (
        "http://127.0.0.1:9/api/offers/"
    )


async def test_fetch(respx_mock: respx.MockRouter, client: HttpClient):
    route = respx_mock.get("https://pied-piper.recruitee.com/api/offers/").mock(
        return_value=json_response(OFFERS)
    )
    result = await scrape(adapter, client, "pied-piper", None, "PP")
    assert route.call_count == 1
    assert [p.external_id for p in result.postings] == ["1843021", "1843022"]  # no draft


def test_hybrid_offer_with_string_salary_and_utc_suffix_date():
    job = parse()["1843021"]
    assert job.title == "Python Developer"
    assert job.company == "Pied Piper"
    assert job.url == "https://pied-piper.recruitee.com/o/python-developer"
    assert job.apply_url == "https://pied-piper.recruitee.com/o/python-developer/c/new"
    assert job.location == "Rotterdam, Netherlands; Utrecht, Netherlands"
    assert job.workplace == "hybrid"
    assert job.department == "Engineering"
    assert job.employment_type == "Full-time"
    assert job.description_html == "<p>Build our <em>API</em>.</p>\n<ul><li>Django</li></ul>"
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_interval) == (
        Decimal(55000),
        Decimal("70000.0"),
        "EUR",
        "year",
    )
    assert job.posted_at == datetime(2025, 10, 1, 9, 30, 12, tzinfo=UTC)


def test_remote_internship_with_number_salary_swapped_and_iso_date():
    job = parse()["1843022"]
    assert job.workplace == "remote"
    assert job.location == ""
    assert job.employment_type == "Internship"
    assert (job.salary_min, job.salary_max, job.salary_interval) == (
        Decimal(15),
        Decimal(18),
        "hour",
    )
    assert job.posted_at == datetime(2025, 9, 20, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-10-01 09:30:12 UTC", datetime(2025, 10, 1, 9, 30, 12, tzinfo=UTC)),
        ("2025-10-01T09:30:12.000Z", datetime(2025, 10, 1, 9, 30, 12, tzinfo=UTC)),
        ("2025-10-01T11:30:12+02:00", datetime(2025, 10, 1, 9, 30, 12, tzinfo=UTC)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_both_date_formats(value: Any, expected: datetime | None):
    assert recruitee_datetime(value) == expected


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"offers": "x"}, "'offers' should be a JSON array"),
        ([], "Recruitee should be a JSON object"),
        ({"offers": [{"id": 1, "title": "t", "careers_url": "ftp://x"}]}, "careers_url"),
    ],
)
def test_shape_errors(payload: Any, message: str):
    with pytest.raises(PayloadError, match=message):
        adapter.parse([payload], company="PP")
