"""Workable widget API: endpoint, fetch, parsing, shape errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import respx

from jobs.scrapers.base import PayloadError, scrape
from jobs.scrapers.http import HttpClient
from jobs.scrapers.workable import adapter

from .conftest import json_response, load

ACCOUNT = load("workable_account.json")


def parse(payload: Any = ACCOUNT, company: str = "Hooli source") -> dict[str, Any]:
    return {p.external_id: p for p in adapter.parse([payload], company=company)}


def test_endpoint():
    assert adapter.endpoint("hooli", None) == (
        "https://apply.workable.com/api/v1/widget/accounts/hooli?details=true"
    )
    assert adapter.endpoint("hooli", "http://127.0.0.1:9/") == (
        "http://127.0.0.1:9/api/v1/widget/accounts/hooli?details=true"
    )


async def test_fetch_is_one_request(respx_mock: respx.MockRouter, client: HttpClient):
    route = respx_mock.get("https://apply.workable.com/api/v1/widget/accounts/hooli").mock(
        return_value=json_response(ACCOUNT)
    )
    result = await scrape(adapter, client, "hooli", None, "Hooli")
    assert route.call_count == 1
    assert route.calls.last.request.url.params["details"] == "true"
    assert [p.external_id for p in result.postings] == ["8F1C2D3E4A", "9A2B3C4D5E"]


def test_onsite_job_with_several_visible_locations():
    job = parse()["8F1C2D3E4A"]
    assert job.title == "Senior Frontend Engineer"
    assert job.company == "Hooli"  # the account's name
    assert job.url == "https://apply.workable.com/j/8F1C2D3E4A"
    assert job.apply_url == "https://apply.workable.com/j/8F1C2D3E4A/apply"
    assert job.location == "Athens, Attica, Greece; Limassol, Cyprus"
    assert job.workplace == "onsite"
    assert job.department == "Engineering"
    assert job.employment_type == "Full-time"
    assert job.description_html == "<p>Ship the <strong>new</strong> app.</p>"
    assert job.posted_at == datetime(2025, 10, 3, tzinfo=UTC)


def test_telecommuting_contract():
    job = parse()["9A2B3C4D5E"]
    assert job.workplace == "remote"
    assert job.location == "United States"
    assert job.department == "Documentation"
    assert job.employment_type == "Contract"


def test_stated_workplace_wins_and_a_missing_name_uses_the_source():
    payload = {"jobs": [dict(ACCOUNT["jobs"][0], workplace="hybrid")]}
    job = parse(payload)["8F1C2D3E4A"]
    assert job.workplace == "hybrid"
    assert job.company == "Hooli source"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "Workable account should be a JSON object"),
        ({"name": "x"}, "'jobs' should be a JSON array"),
        ({"jobs": [{"title": "No code", "url": "https://x.example/j"}]}, "'shortcode'"),
    ],
)
def test_shape_errors(payload: Any, message: str):
    with pytest.raises(PayloadError, match=message):
        adapter.parse([payload], company="H")
