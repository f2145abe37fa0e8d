"""HttpClient: identification, retries, backoff, Retry-After, pacing and error mapping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from jobs.scrapers.base import BoardNotFound, FetchFailed, PayloadError, RateLimited, SourceError
from jobs.scrapers.http import USER_AGENT, HttpClient, retry_after_seconds
from jobsentinel import __version__

from .conftest import FakeTime, json_response

URL = "https://boards.example.com/v1/boards/acme/jobs"


async def test_sends_user_agent_and_returns_json(respx_mock: respx.MockRouter, client: HttpClient):
    route = respx_mock.get(URL).mock(return_value=json_response({"jobs": []}))

    assert await client.get_json(URL) == {"jobs": []}

    request = route.calls.last.request
    assert request.headers["User-Agent"] == f"JobSentinel/{__version__} (+self-hosted job watcher)"
    assert request.headers["User-Agent"] == USER_AGENT
    assert request.headers["Accept"] == "application/json"


async def test_params_are_added_to_the_urls_own_query(
    respx_mock: respx.MockRouter, client: HttpClient
):
    route = respx_mock.get("https://api.example.com/v0/postings/acme").mock(
        return_value=json_response([])
    )

    await client.get_json(
        "https://api.example.com/v0/postings/acme?mode=json", params={"skip": 0, "limit": 100}
    )

    assert dict(route.calls.last.request.url.params) == {
        "mode": "json",
        "skip": "0",
        "limit": "100",
    }


async def test_timeouts_are_connect_10s_read_30s():
    async with HttpClient() as client:
        timeout = client._client.timeout
    assert (timeout.connect, timeout.read) == (10.0, 30.0)


async def test_429_honours_retry_after_seconds(
    respx_mock: respx.MockRouter, client: HttpClient, fake_time: FakeTime
):
    respx_mock.get(URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}),
            json_response({"ok": True}),
        ]
    )

    assert await client.get_json(URL) == {"ok": True}
    assert fake_time.sleeps == [7.0]


async def test_429_honours_retry_after_http_date(
    respx_mock: respx.MockRouter, client: HttpClient, fake_time: FakeTime
):
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    respx_mock.get(URL).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": later}), json_response([])]
    )

    await client.get_json(URL)

    [slept] = fake_time.sleeps
    assert 25 <= slept <= 30


async def test_429_without_retry_after_backs_off(
    respx_mock: respx.MockRouter, client: HttpClient, fake_time: FakeTime
):
    respx_mock.get(URL).mock(side_effect=[httpx.Response(429), json_response([])])

    await client.get_json(URL)

    assert fake_time.sleeps == [0.5]


async def test_persistent_429_raises_rate_limited_after_the_attempts(
    respx_mock: respx.MockRouter, client: HttpClient, fake_time: FakeTime
):
    route = respx_mock.get(URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "2"}))

    with pytest.raises(RateLimited, match="429") as caught:
        await client.get_json(URL)

    assert route.call_count == 3
    assert fake_time.sleeps == [2.0, 2.0]  # no pointless sleep after the last attempt
    assert caught.value.retry_after == 2.0


async def test_retry_after_beyond_the_cap_gives_up_at_once(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient], fake_time: FakeTime
):
    route = respx_mock.get(URL).mock(
        return_value=httpx.Response(429, headers={"Retry-After": "3600"})
    )

    async with make_client(max_retry_after=120.0) as client:
        with pytest.raises(RateLimited, match="3600 s") as caught:
            await client.get_json(URL)

    assert route.call_count == 1
    assert fake_time.sleeps == []
    assert caught.value.retry_after == 3600.0


async def test_500_then_success(
    respx_mock: respx.MockRouter, client: HttpClient, fake_time: FakeTime
):
    route = respx_mock.get(URL).mock(
        side_effect=[httpx.Response(500), json_response({"jobs": [1]})]
    )

    assert await client.get_json(URL) == {"jobs": [1]}
    assert route.call_count == 2
    assert fake_time.sleeps == [0.5]


async def test_backoff_is_exponential_with_jitter(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient], fake_time: FakeTime
):
    respx_mock.get(URL).mock(return_value=httpx.Response(503))
    jitters = iter([0.0, 0.999])

    async with make_client(max_attempts=3, backoff_base=1.0, jitter=lambda: next(jitters)) as c:
        with pytest.raises(FetchFailed, match="503"):
            await c.get_json(URL)

    # attempt 1: 1 s times [0.5, 1.5); attempt 2: 2 s times [0.5, 1.5)
    assert fake_time.sleeps == [0.5, pytest.approx(2 * 1.499)]


async def test_timeout_then_success(
    respx_mock: respx.MockRouter, client: HttpClient, fake_time: FakeTime
):
    respx_mock.get(URL).mock(side_effect=[httpx.ReadTimeout("slow"), json_response([])])

    assert await client.get_json(URL) == []
    assert fake_time.sleeps == [0.5]


async def test_persistent_timeout_raises_fetch_failed(
    respx_mock: respx.MockRouter, client: HttpClient, fake_time: FakeTime
):
    route = respx_mock.get(URL).mock(side_effect=httpx.ConnectTimeout("no answer"))

    with pytest.raises(FetchFailed, match="timed out") as caught:
        await client.get_json(URL)

    assert route.call_count == 3
    assert fake_time.sleeps == [0.5, 1.0]
    assert isinstance(caught.value.__cause__, httpx.ConnectTimeout)
    assert URL in str(caught.value)


async def test_persistent_network_error_raises_fetch_failed(
    respx_mock: respx.MockRouter, client: HttpClient
):
    respx_mock.get(URL).mock(side_effect=httpx.ConnectError("connection refused"))

    with pytest.raises(FetchFailed, match="ConnectError"):
        await client.get_json(URL)


async def test_garbage_json_raises_payload_error_describing_it(
    respx_mock: respx.MockRouter, client: HttpClient
):
    body = "<html><body>Service temporarily moved " + "x" * 500 + "</body></html>"
    route = respx_mock.get(URL).mock(return_value=httpx.Response(200, text=body))

    with pytest.raises(PayloadError, match="not JSON") as caught:
        await client.get_json(URL)

    assert str(caught.value).endswith("(HTML page, 552 bytes, status 200)")
    assert "Service" not in str(caught.value)  # described, never quoted
    assert route.call_count == 1  # a wrong body does not get better by asking again


async def test_404_raises_board_not_found_without_retrying(
    respx_mock: respx.MockRouter, client: HttpClient
):
    route = respx_mock.get(URL).mock(return_value=httpx.Response(404, json={"status": 404}))

    with pytest.raises(BoardNotFound, match="404"):
        await client.get_json(URL)

    assert route.call_count == 1


async def test_other_4xx_raises_source_error_without_retrying(
    respx_mock: respx.MockRouter, client: HttpClient
):
    route = respx_mock.get(URL).mock(return_value=httpx.Response(403))

    with pytest.raises(SourceError, match="403 Forbidden") as caught:
        await client.get_json(URL)

    assert type(caught.value) is SourceError
    assert route.call_count == 1


async def test_redirects_are_followed(respx_mock: respx.MockRouter, client: HttpClient):
    moved = "https://boards.example.com/v1/boards/acme-inc/jobs"
    respx_mock.get(URL).mock(return_value=httpx.Response(301, headers={"Location": moved}))
    respx_mock.get(moved).mock(return_value=json_response({"jobs": []}))

    assert await client.get_json(URL) == {"jobs": []}


async def test_paces_requests_to_the_same_host(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient], fake_time: FakeTime
):
    respx_mock.get(url__startswith="https://a.example.com/").mock(return_value=json_response([]))
    respx_mock.get(url__startswith="https://b.example.com/").mock(return_value=json_response([]))

    async with make_client(pace_seconds=1.0) as client:
        await client.get_json("https://a.example.com/1")
        await client.get_json("https://b.example.com/1")  # another host: no wait
        assert fake_time.sleeps == []
        await client.get_json("https://a.example.com/2")
        assert fake_time.sleeps == [1.0]
        fake_time.now += 5  # plenty of time passed: no wait
        await client.get_json("https://a.example.com/3")
        assert fake_time.sleeps == [1.0]


async def test_pace_queues_concurrent_requests(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient]
):
    respx_mock.get(url__startswith="https://a.example.com/").mock(return_value=json_response([]))
    asked: list[float] = []

    async def sleep(seconds: float) -> None:  # time stands still while they all queue
        asked.append(seconds)

    async with make_client(pace_seconds=1.0, sleep=sleep, clock=lambda: 50.0) as client:
        await asyncio.gather(*(client.get_json(f"https://a.example.com/{n}") for n in range(3)))

    # Each caller claimed its own slot before sleeping: now, now + 1 s, now + 2 s.
    assert sorted(asked) == [1.0, 2.0]


async def test_closes_its_httpx_client():
    async with HttpClient() as client:
        pass
    assert client._client.is_closed


def test_needs_at_least_one_attempt():
    with pytest.raises(ValueError, match="max_attempts"):
        HttpClient(max_attempts=0)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # already past
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_seconds(header: str | None, expected: float | None):
    now = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert retry_after_seconds(header, now) == expected


async def test_accepts_an_httpx_transport(make_client: Callable[..., HttpClient]):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"via": "transport"})

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        assert await client.get_json(URL) == {"via": "transport"}

    assert seen[0].headers["User-Agent"] == USER_AGENT
