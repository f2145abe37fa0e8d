"""Workday: token, endpoints, paging (20 at most, total on page one, the 2,000 cap), details,
relative dates, parsing, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from jobs.scrapers.base import FetchFailed, PayloadError, scrape
from jobs.scrapers.http import HttpClient
from jobs.scrapers.workday import WorkdayAdapter, adapter, posted_on, split_token

from .conftest import json_response, load

TOKEN = "acme.wd5/External"
HOST = "https://acme.wd5.myworkdayjobs.com"
LIST = f"{HOST}/wday/cxs/acme/External/jobs"
PAGES = [load("workday_page1.json"), load("workday_page2.json")]
DETAILS = load("workday_details.json")
BACKEND = "/job/Berlin-Germany/Senior-Backend-Engineer_R-10442"
ANALYST = "/job/Remote-USA/Data-Analyst_R-10398"
WAREHOUSE = "/job/Leipzig/Warehouse-Associate--Night-Shift-_R-09921"
FETCHED = datetime(2025, 10, 9, 23, 30, tzinfo=UTC)


def envelope(pages: list[Any] = PAGES, details: dict[str, Any] = DETAILS) -> dict[str, Any]:
    return {
        "token": TOKEN,
        "fetched_at": FETCHED.isoformat(),
        "pages": pages,
        "details": details,
        "total": 3,
    }


def parse(env: dict[str, Any] | None = None) -> dict[str, Any]:
    return {p.external_id: p for p in adapter.parse([env or envelope()], company="Acme")}


def test_token_parts():
    assert split_token("acme.wd5/External") == ("acme", "wd5", "External")
    assert split_token("big-co.WD103/Careers_Site") == ("big-co", "wd103", "Careers_Site")
    for bad in ("acme", "acme/External", "acme.wd5", "acme.xx5/External", "a.wd1/b/c"):
        with pytest.raises(ValueError, match=r"TENANT\.wdN/SITE"):
            split_token(bad)


def test_endpoints_default_and_api_url():
    assert adapter.endpoint(TOKEN, None) == LIST
    assert adapter.endpoint(TOKEN, "http://127.0.0.1:9000") == (
        "http://127.0.0.1:9000/wday/cxs/acme/External/jobs"
    )
    assert adapter.detail_url(TOKEN, None, BACKEND) == f"{HOST}/wday/cxs/acme/External{BACKEND}"


def test_page_size_never_exceeds_twenty():
    assert WorkdayAdapter(page_size=100).page_size == 20


def _serve(respx_mock: respx.MockRouter, pages: list[Any], *, limit_max: int = 20) -> Any:
    def listing(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["limit"] > limit_max:
            return httpx.Response(400, json={"errorCode": "HTTP_400"})
        index = body["offset"] // body["limit"]
        return json_response(
            pages[index] if index < len(pages) else {"total": 0, "jobPostings": []}
        )

    route = respx_mock.post(LIST).mock(side_effect=listing)
    for path, detail in DETAILS.items():
        respx_mock.get(f"{HOST}/wday/cxs/acme/External{path}").mock(
            return_value=json_response(detail)
        )
    respx_mock.get(f"{HOST}/wday/cxs/acme/External{WAREHOUSE}").mock(
        return_value=httpx.Response(404)
    )
    return route


async def test_fetch_pages_by_total_of_the_first_page(
    respx_mock: respx.MockRouter, client: HttpClient
):
    route = _serve(respx_mock, PAGES)

    result = await scrape(WorkdayAdapter(page_size=2), client, TOKEN, None, "Acme")

    bodies = [json.loads(call.request.content) for call in route.calls]
    assert [(b["offset"], b["limit"]) for b in bodies] == [(0, 2), (2, 2)]
    assert bodies[0]["appliedFacets"] == {}
    assert bodies[0]["searchText"] == ""
    assert sorted(p.external_id for p in result.postings) == sorted([BACKEND, ANALYST, WAREHOUSE])
    assert result.complete is True
    # The job whose detail is gone (404) is still listed, from the list's fields.
    job = next(p for p in result.postings if p.external_id == WAREHOUSE)
    assert job.title == "Warehouse Associate (Night Shift)"
    assert job.description_html == ""


async def test_default_page_size_is_accepted_by_a_strict_server(
    respx_mock: respx.MockRouter, client: HttpClient
):
    route = _serve(respx_mock, [dict(PAGES[0], total=2)])
    result = await scrape(adapter, client, TOKEN, None, "Acme")
    assert json.loads(route.calls[0].request.content)["limit"] == 20
    assert len(result.postings) == 2


async def test_api_url_takes_every_request(respx_mock: respx.MockRouter, client: HttpClient):
    local = "http://127.0.0.1:9000"
    route = respx_mock.post(f"{local}/wday/cxs/acme/External/jobs").mock(
        return_value=json_response(dict(PAGES[0], total=2))
    )
    details = respx_mock.get(url__startswith=f"{local}/wday/cxs/acme/External/job/").mock(
        return_value=json_response(DETAILS[BACKEND])
    )
    await adapter.fetch(client, TOKEN, local)
    assert route.call_count == 1
    assert details.call_count == 2


async def test_the_2000_offset_cap_makes_the_fetch_incomplete(
    respx_mock: respx.MockRouter, client: HttpClient
):
    big = [dict(PAGES[0], total=5000)] + [
        {
            "total": 0,
            "jobPostings": [dict(PAGES[0]["jobPostings"][0], externalPath=f"/job/x/J_{n}")],
        }
        for n in range(10)
    ]

    def listing(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return json_response(big[min(body["offset"] // 2, len(big) - 1)])

    route = respx_mock.post(LIST).mock(side_effect=listing)
    respx_mock.get(url__startswith=f"{HOST}/wday/cxs/").mock(return_value=httpx.Response(404))

    small = WorkdayAdapter(page_size=2, max_offset=6)
    result = await scrape(small, client, TOKEN, None, "Acme")

    assert [json.loads(c.request.content)["offset"] for c in route.calls] == [0, 2, 3, 4, 5]
    assert result.complete is False


async def test_a_list_error_fails_the_fetch(respx_mock: respx.MockRouter, make_client: Any):
    respx_mock.post(LIST).mock(return_value=httpx.Response(503))
    async with make_client(max_attempts=2) as client:
        with pytest.raises(FetchFailed, match=r"POST .*HTTP 503"):
            await adapter.fetch(client, TOKEN, None)


def test_hybrid_job_with_detail():
    job = parse()[BACKEND]
    assert job.title == "Senior Backend Engineer"
    assert job.company == "Acme Europe GmbH"
    assert job.url == f"{HOST}/External{BACKEND}"
    assert job.apply_url == f"{HOST}/External{BACKEND}/apply"
    assert job.location == "Berlin, Germany; Munich, Germany"
    assert job.workplace == "hybrid"
    assert job.employment_type == "Full-time"
    assert job.description_html.startswith("<p>Design <b>payment</b>")
    assert job.posted_at == datetime(2025, 10, 6, tzinfo=UTC)  # startDate wins


def test_remote_part_time_dated_from_posted_yesterday():
    job = parse()[ANALYST]
    assert job.apply_url == ""  # canApply not given
    assert job.workplace == "remote"
    assert job.employment_type == "Part-time"
    assert job.location == "Remote, USA; Austin, TX"
    assert job.posted_at == datetime(2025, 10, 8, tzinfo=UTC)


def test_list_only_job_uses_the_list_and_the_source_name():
    job = parse()[WAREHOUSE]
    assert job.company == "Acme"
    assert job.location == "Leipzig"
    assert job.workplace == "unknown"
    assert job.posted_at is None  # "30+ Days Ago"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Posted Today", datetime(2025, 10, 9, tzinfo=UTC)),
        ("Posted Yesterday", datetime(2025, 10, 8, tzinfo=UTC)),
        ("Posted 3 Days Ago", datetime(2025, 10, 6, tzinfo=UTC)),
        ("posted 1 day ago", datetime(2025, 10, 8, tzinfo=UTC)),
        ("Posted 30+ Days Ago", None),
        ("", None),
        (None, None),
        ("Recently", None),
    ],
)
def test_posted_on(text: Any, expected: datetime | None):
    assert posted_on(text, FETCHED) == expected


def test_an_odd_external_path_is_refused():
    page = {"total": 1, "jobPostings": [{"title": "X", "externalPath": "https://evil.example/"}]}
    with pytest.raises(PayloadError, match="externalPath"):
        adapter.parse([envelope([page], {})], company="Acme")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("garbage", "Workday fetch should be a JSON object"),
        ({"token": TOKEN, "pages": ["x"]}, "Workday page should be a JSON object"),
        ({"token": TOKEN, "pages": [{"jobPostings": {}}]}, "should be a JSON array"),
    ],
)
def test_shape_errors(payload: Any, message: str):
    with pytest.raises(PayloadError, match=message):
        adapter.parse([payload], company="Acme")
