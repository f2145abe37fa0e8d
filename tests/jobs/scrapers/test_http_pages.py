"""HttpClient.post_json and get_page: the same retries and errors as get_json; pages keep
their final URL and redirects, or hand a redirect back unfollowed."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from jobs.scrapers.base import BoardNotFound, FetchFailed, PayloadError
from jobs.scrapers.http import HttpClient

from .conftest import FakeTime, json_response


async def test_post_json_sends_the_body_and_retries_5xx(
    respx_mock: respx.MockRouter, client: HttpClient, fake_time: FakeTime
):
    route = respx_mock.post("https://x.example/jobs").mock(
        side_effect=[httpx.Response(502), json_response({"total": 1})]
    )
    assert await client.post_json("https://x.example/jobs", {"limit": 20}) == {"total": 1}
    assert route.call_count == 2
    assert json.loads(route.calls.last.request.content) == {"limit": 20}
    assert fake_time.sleeps == [0.5]


async def test_post_json_errors_name_the_method(respx_mock: respx.MockRouter, make_client):
    respx_mock.post("https://x.example/jobs").mock(return_value=httpx.Response(503))
    async with make_client(max_attempts=1) as client:
        with pytest.raises(FetchFailed, match=r"^POST https://x\.example/jobs: HTTP 503"):
            await client.post_json("https://x.example/jobs", {})
    respx_mock.post("https://x.example/html").mock(return_value=httpx.Response(200, text="<p>"))
    async with make_client() as client:
        with pytest.raises(PayloadError, match="not JSON"):
            await client.post_json("https://x.example/html", {})


async def test_get_page_follows_redirects_and_keeps_them(
    respx_mock: respx.MockRouter, client: HttpClient
):
    respx_mock.get("https://acme.example/careers").mock(
        return_value=httpx.Response(301, headers={"Location": "https://acme.example/jobs"})
    )
    respx_mock.get("https://acme.example/jobs").mock(
        return_value=httpx.Response(
            200, text="<h1>Jobs</h1>", headers={"Content-Type": "text/html"}
        )
    )
    page = await client.get_page("https://acme.example/careers")
    assert (page.url, page.text, page.status) == ("https://acme.example/jobs", "<h1>Jobs</h1>", 200)
    assert page.redirects == ("https://acme.example/careers",)
    assert page.content_type == "text/html"
    assert "text/html" in respx_mock.calls.last.request.headers["Accept"]


async def test_get_page_can_hand_back_a_redirect(respx_mock: respx.MockRouter, client: HttpClient):
    respx_mock.get("https://acme.example/careers").mock(
        return_value=httpx.Response(302, headers={"Location": "https://jobs.lever.co/acme"})
    )
    page = await client.get_page("https://acme.example/careers", follow_redirects=False)
    assert (page.status, page.location) == (302, "https://jobs.lever.co/acme")


async def test_get_page_404(respx_mock: respx.MockRouter, client: HttpClient):
    respx_mock.get("https://acme.example/gone").mock(return_value=httpx.Response(404))
    with pytest.raises(BoardNotFound, match=r"GET https://acme\.example/gone: HTTP 404"):
        await client.get_page("https://acme.example/gone")
