"""Remotive: endpoint (category), parsing, free-text salaries, incomplete feed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import respx

from jobs.scrapers.base import PayloadError, scrape
from jobs.scrapers.http import HttpClient
from jobs.scrapers.remotive import Salary, adapter, parse_salary

from .conftest import json_response, load


def parse(payload: Any = None, company: str = "Remotive") -> dict[str, Any]:
    payload = load("remotive_jobs.json") if payload is None else payload
    return {p.external_id: p for p in adapter.parse([payload], company=company)}


def test_endpoint_category_all_and_api_url():
    assert adapter.endpoint("software-dev", None) == (
        "https://remotive.com/api/remote-jobs?category=software-dev"
    )
    assert adapter.endpoint("all", None) == "https://remotive.com/api/remote-jobs"
    assert adapter.endpoint("data", "https://mirror.example.net") == (
        "https://mirror.example.net/api/remote-jobs?category=data"
    )


def test_parses_every_job_as_remote():
    postings = parse()
    assert list(postings) == ["1987654", "1987655", "1987656", "1987657"]
    assert {p.workplace for p in postings.values()} == {"remote"}


def test_job_fields():
    job = parse()["1987654"]
    assert job.title == "Senior Django Developer"
    assert job.company == "Umbrella Labs"
    assert (
        job.url == "https://remotive.com/remote-jobs/software-dev/senior-django-developer-1987654"
    )
    assert job.location == "USA, Canada"
    assert job.department == "Software Development"
    assert job.employment_type == "Full-time"
    assert job.description_html == "<p>Work on <b>Django</b> from anywhere.</p>"
    assert job.posted_at == datetime(2025, 10, 10, 12, 0, tzinfo=UTC)  # naive means UTC
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_interval) == (
        Decimal(100000),
        Decimal(120000),
        "USD",
        "year",
    )


def test_unicode_company_and_euro_salary():
    job = parse()["1987655"]
    assert job.company == "Société Générale du Code"
    assert job.employment_type == "Contract"
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_interval) == (
        Decimal(60000),
        Decimal(80000),
        "EUR",
        "year",
    )


def test_hourly_pounds_and_missing_salary_and_company_fallback():
    postings = parse(company="Remotive feed")
    hourly = postings["1987656"]
    assert (hourly.salary_min, hourly.salary_max, hourly.salary_currency) == (
        Decimal(40),
        Decimal(55),
        "GBP",
    )
    assert hourly.salary_interval == "hour"
    assert hourly.employment_type == "Freelance"
    empty = postings["1987657"]
    assert empty.company == "Remotive feed"
    assert empty.salary_min is empty.salary_max is None


def S(low: int | str | None, high: int | str | None, currency: str = "", interval: str = ""):
    def dec(value: int | str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    return Salary(dec(low), dec(high), currency, interval)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$100k - $120k", S(100000, 120000, "USD", "year")),
        ("$100K-$120K/year", S(100000, 120000, "USD", "year")),
        ("100-120k USD", S(100000, 120000, "USD", "year")),
        ("€60.000 \u2013 €80.000", S(60000, 80000, "EUR", "year")),
        ("€ 55,000 - 65,000 per annum", S(55000, 65000, "EUR", "year")),
        ("£40k", S(40000, 40000, "GBP", "year")),
        ("£40 - £55/hour", S(40, 55, "GBP", "hour")),
        ("$50/hr", S(50, 50, "USD", "hour")),
        ("USD 8,000 - 10,000 per month", S(8000, 10000, "USD", "month")),
        ("$500 - $700 daily", S(500, 700, "USD", "day")),
        ("CA$90k - CA$110k", S(90000, 110000, "CAD", "year")),
        ("Up to $150k", S(None, 150000, "USD", "year")),
        ("From €70k", S(70000, None, "EUR", "year")),
        ("$120,000+", S(120000, None, "USD", "year")),
        ("$1.5k - $2k monthly", S(1500, 2000, "USD", "month")),
        ("$130k - $100k", S(100000, 130000, "USD", "year")),
        ("90000 - 110000", S(90000, 110000, "", "year")),
        ("45 - 60", S(45, 60, "", "")),
    ],
)
def test_parse_salary(text: str, expected: Salary):
    assert parse_salary(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "Competitive", "DOE", None, 120000, "$0"])
def test_parse_salary_gives_up_quietly(text: Any):
    assert parse_salary(text) == Salary()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"jobs": "x"}, "'jobs' should be a JSON array, got str"),
        ([], "got list"),
        ({"job-count": 0}, "got null"),
        ({"jobs": [{"url": "https://remotive.com/x", "title": "T"}]}, "'id' is missing"),
    ],
)
def test_shape_errors(payload: Any, message: str):
    with pytest.raises(PayloadError, match=message):
        adapter.parse([payload], company="Remotive")


async def test_scrape_is_incomplete(respx_mock: respx.MockRouter, client: HttpClient):
    route = respx_mock.get("https://remotive.com/api/remote-jobs").mock(
        return_value=json_response(load("remotive_jobs.json"))
    )

    result = await scrape(adapter, client, "software-dev", None, "Remotive")

    assert route.calls.last.request.url.params["category"] == "software-dev"
    assert result.complete is False  # a feed of the newest jobs: absence means nothing
    assert len(result.postings) == 4
