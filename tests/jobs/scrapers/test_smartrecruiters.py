"""SmartRecruiters: offset paging by totalFound, a detail per posting, parsing, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from jobs.scrapers.base import PayloadError, SourceError, scrape
from jobs.scrapers.http import HttpClient
from jobs.scrapers.smartrecruiters import SmartRecruitersAdapter, adapter

from .conftest import json_response, load

LIST = "https://api.smartrecruiters.com/v1/companies/Umbrella/postings"
PAGES = [load("smartrecruiters_page1.json"), load("smartrecruiters_page2.json")]
DETAIL = load("smartrecruiters_detail.json")
SRE, CSM, LAB = "744000061234567", "744000061234568", "744000061234569"


def parse(details: dict[str, Any] | None = None) -> dict[str, Any]:
    envelope = {"pages": PAGES, "details": {SRE: DETAIL} if details is None else details}
    return {p.external_id: p for p in adapter.parse([envelope], company="Umbrella")}


def test_endpoint():
    assert adapter.endpoint("Umbrella", None) == LIST
    assert adapter.endpoint("Umbrella", "http://127.0.0.1:9") == (
        "http://127.0.0.1:9/v1/companies/Umbrella/postings"
    )


async def test_fetch_pages_by_offset_and_details(respx_mock: respx.MockRouter, client: HttpClient):
    def listing(request: httpx.Request) -> httpx.Response:
        return json_response(PAGES[int(request.url.params["offset"]) // 2])

    route = respx_mock.get(LIST).mock(side_effect=listing)
    detail = respx_mock.get(f"{LIST}/{SRE}").mock(return_value=json_response(DETAIL))
    others = respx_mock.get(url__regex=rf"{LIST}/74400006123456[89]$").mock(
        return_value=httpx.Response(404)
    )

    result = await scrape(SmartRecruitersAdapter(page_size=2), client, "Umbrella", None, "U")

    assert [dict(c.request.url.params) for c in route.calls] == [
        {"limit": "2", "offset": "0"},
        {"limit": "2", "offset": "2"},
    ]
    assert detail.call_count == 1
    assert others.call_count == 2
    assert sorted(p.external_id for p in result.postings) == [SRE, CSM, LAB]
    assert result.complete is True


async def test_an_empty_board_is_one_request(respx_mock: respx.MockRouter, client: HttpClient):
    route = respx_mock.get(LIST).mock(
        return_value=json_response({"offset": 0, "limit": 100, "totalFound": 0, "content": []})
    )
    result = await scrape(adapter, client, "Umbrella", None, "U")
    assert route.call_count == 1
    assert result.postings == []


async def test_a_server_ignoring_offset_is_stopped(
    respx_mock: respx.MockRouter, client: HttpClient
):
    respx_mock.get(LIST).mock(return_value=json_response(dict(PAGES[0], totalFound=10_000)))
    with pytest.raises(PayloadError, match="after 3 pages"):
        await SmartRecruitersAdapter(page_size=2, max_pages=3).fetch(client, "Umbrella", None)


async def test_a_detail_error_other_than_404_fails(
    respx_mock: respx.MockRouter, client: HttpClient
):
    respx_mock.get(LIST).mock(return_value=json_response(dict(PAGES[1], totalFound=1)))
    respx_mock.get(f"{LIST}/{LAB}").mock(return_value=httpx.Response(403))
    with pytest.raises(SourceError, match="HTTP 403"):
        await adapter.fetch(client, "Umbrella", None)


def test_hybrid_posting_with_job_ad():
    job = parse()[SRE]
    assert job.title == "Site Reliability Engineer"
    assert job.company == "Umbrella Corp"
    assert job.url == (
        "https://jobs.smartrecruiters.com/Umbrella/744000061234567-site-reliability-engineer"
    )
    assert job.apply_url.endswith("?oga=true")
    assert job.location == "Amsterdam, NH, Netherlands"
    assert job.workplace == "hybrid"
    assert job.department == "Platform"
    assert job.employment_type == "Full-time"
    assert job.posted_at == datetime(2025, 10, 2, 8, 15, 30, tzinfo=UTC)
    assert job.description_html == (
        "<h3>Company Description</h3>\n<p>We make medicine.</p>\n"
        "<h3>Job Description</h3>\n<p>Keep <b>prod</b> up.</p>\n"
        "<h3>Qualifications</h3>\n<ul><li>Linux</li></ul>"
    )


def test_remote_contract_without_detail():
    job = parse()[CSM]
    assert job.workplace == "remote"
    assert job.location == "US"
    assert job.department == "Customer Service"  # no department: the function
    assert job.employment_type == "Contract"
    assert job.url == f"https://jobs.smartrecruiters.com/Umbrella/{CSM}"
    assert job.description_html == ""


def test_onsite_from_a_named_place():
    job = parse()[LAB]
    assert job.location == "Raccoon City, MO, US"
    assert job.workplace == "onsite"
    assert job.employment_type == "Part-time"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("x", "SmartRecruiters fetch should be a JSON object"),
        ({"pages": [{"content": None}]}, "'content' should be a JSON array"),
        ({"pages": [{"content": [{"id": "1"}]}]}, "no job could be parsed"),
    ],
)
def test_shape_errors(payload: Any, message: str):
    with pytest.raises(PayloadError, match=message):
        adapter.parse([payload], company="U")
