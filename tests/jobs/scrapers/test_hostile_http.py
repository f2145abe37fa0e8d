"""HttpClient against hostile boards: byte caps after decompression, the overall deadline,
where redirects may lead, and error messages that describe a board's answer without quoting
it. The subprocess versions (real `manage.py scrape`, peak RSS) are in
tests/reliability/test_hostile_boards.py."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import respx

from jobs.scrapers.base import (
    DeadlineExceeded,
    FetchFailed,
    PayloadError,
    ResponseTooLarge,
    SourceError,
)
from jobs.scrapers.http import HttpClient, describe_body, is_public_address, same_host

from .conftest import json_response

URL = "https://boards.example.com/v1/boards/acme/jobs"
MB = 1024 * 1024


def gzip_of_zeros(size: int) -> bytes:
    """A gzip body that inflates to `size` bytes, built without holding them."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(MB)
    parts = [squeeze.compress(block) for _ in range(size // MB)]
    parts.append(squeeze.flush())
    return b"".join(parts)


# --- byte cap ---------------------------------------------------------------------------------


class Chunks(httpx.AsyncByteStream):
    """A body sent in 64 KB chunks, as a socket delivers it (respx would inflate it whole)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), 64 * 1024):
            yield self.data[start : start + 64 * 1024]


async def test_a_gzip_bomb_is_cut_at_the_cap_without_being_held(
    make_client: Callable[..., HttpClient],
):
    bomb = gzip_of_zeros(256 * MB)  # 250 KB on the wire (the 1 GiB one is in reliability/)
    assert len(bomb) < MB

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Chunks(bomb), headers={"Content-Encoding": "gzip"})

    tracemalloc.start()
    try:
        async with make_client(
            max_response_bytes=4 * MB, transport=httpx.MockTransport(handler)
        ) as client:
            with pytest.raises(ResponseTooLarge, match=r"larger than 4\.0 MB") as caught:
                await client.get_json(URL)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # At most the cap plus one inflate step (and small change), never what it inflates to.
    assert peak < 6 * MB, f"peak {peak / MB:.1f} MB"
    assert "JOBSENTINEL_MAX_RESPONSE_BYTES" in str(caught.value)


async def test_a_body_over_the_cap_is_refused_and_not_retried(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient]
):
    route = respx_mock.get(URL).mock(return_value=httpx.Response(200, content=b"[" * (2 * MB)))

    async with make_client(max_response_bytes=MB) as client:
        with pytest.raises(ResponseTooLarge):
            await client.get_json(URL)

    assert route.call_count == 1


async def test_a_streamed_body_without_length_is_counted_while_reading(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient]
):
    sent: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        while True:
            sent.append(64 * 1024)
            yield b" " * (64 * 1024)

    respx_mock.get(URL).mock(return_value=httpx.Response(200, stream=endless()))  # type: ignore[arg-type]

    async with make_client(max_response_bytes=MB) as client:
        with pytest.raises(ResponseTooLarge):
            await client.get_json(URL)

    assert sum(sent) <= MB + 64 * 1024  # stopped reading at the cap


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
async def test_compressed_answers_within_the_cap_decode(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient], encoding: str
):
    payload = {"jobs": [{"id": n, "title": "Engineer " * 20} for n in range(500)]}
    raw = json.dumps(payload).encode()
    if encoding == "gzip":
        body = gzip.compress(raw)
    elif encoding == "deflate":
        body = zlib.compress(raw)
    else:
        squeeze = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        body = squeeze.compress(raw) + squeeze.flush()
    header = "gzip" if encoding == "gzip" else "deflate"
    respx_mock.get(URL).mock(
        return_value=httpx.Response(200, stream=Chunks(body), headers={"Content-Encoding": header})
    )

    async with make_client(max_response_bytes=len(raw)) as client:
        assert await client.get_json(URL) == payload


async def test_concatenated_gzip_members_decode(respx_mock: respx.MockRouter, client: HttpClient):
    body = gzip.compress(b'{"jobs": ') + gzip.compress(b"[1, 2]}")
    respx_mock.get(URL).mock(
        return_value=httpx.Response(200, stream=Chunks(body), headers={"Content-Encoding": "gzip"})
    )

    assert await client.get_json(URL) == {"jobs": [1, 2]}


async def test_a_corrupt_or_unasked_encoding_is_a_payload_error(
    respx_mock: respx.MockRouter, client: HttpClient
):
    respx_mock.get(URL).mock(
        side_effect=[
            httpx.Response(200, stream=Chunks(b"not gzip"), headers={"Content-Encoding": "gzip"}),
            httpx.Response(200, stream=Chunks(b"\x00"), headers={"Content-Encoding": "br"}),
        ]
    )

    with pytest.raises(PayloadError, match="corrupt compressed body"):
        await client.get_json(URL)
    with pytest.raises(PayloadError, match="unsupported Content-Encoding"):
        await client.get_json(URL)


async def test_only_encodings_it_can_cap_are_asked_for(
    respx_mock: respx.MockRouter, client: HttpClient
):
    route = respx_mock.get(URL).mock(return_value=json_response([]))

    await client.get_json(URL)

    assert route.calls.last.request.headers["Accept-Encoding"] == "gzip, deflate"


# --- deadline ---------------------------------------------------------------------------------


async def test_a_dripping_answer_ends_at_the_deadline(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient]
):
    async def drip() -> AsyncIterator[bytes]:
        yield b"["
        while True:  # each byte well within any read timeout
            await asyncio.sleep(0.2)
            yield b" "

    respx_mock.get(URL).mock(return_value=httpx.Response(200, stream=drip()))  # type: ignore[arg-type]

    started = time.monotonic()
    async with make_client(deadline=1.5) as client:
        with pytest.raises(DeadlineExceeded, match=r"within the 1\.5 s deadline") as caught:
            await client.get_json(URL)
    elapsed = time.monotonic() - started

    assert isinstance(caught.value, FetchFailed)
    assert 1.4 <= elapsed < 30, elapsed  # ended by the deadline, not by anything else


async def test_a_retry_that_would_sleep_past_the_deadline_gives_up_with_the_real_reason(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient]
):
    route = respx_mock.get(URL).mock(
        return_value=httpx.Response(429, headers={"Retry-After": "50"})
    )

    async with make_client(deadline=30.0) as client:
        with pytest.raises(SourceError, match="429"):
            await client.get_json(URL)

    assert route.call_count == 1


def test_the_settings_default_to_the_clients_defaults():
    from django.conf import settings

    from jobs.scrapers import http

    assert (settings.MAX_RESPONSE_BYTES, settings.MAX_BOARD_BYTES) == (
        http.DEFAULT_MAX_RESPONSE_BYTES,
        http.DEFAULT_MAX_BOARD_BYTES,
    )
    assert (settings.FETCH_DEADLINE_SECONDS, settings.BOARD_DEADLINE_SECONDS) == (
        http.DEFAULT_DEADLINE,
        http.DEFAULT_BOARD_DEADLINE,
    )
    assert http.DEFAULT_DEADLINE < 180  # a dripping board's fetch ends within three minutes


async def test_scrapes_use_the_configured_limits(settings):
    from jobs.services import http_client

    settings.FETCH_DEADLINE_SECONDS = 7.0
    settings.MAX_RESPONSE_BYTES = 12345
    settings.MAX_BOARD_BYTES = 54321
    settings.BOARD_DEADLINE_SECONDS = 70.0
    async with http_client() as client:
        assert (client.deadline, client.max_response_bytes) == (7.0, 12345)
        assert (client.board_deadline, client.max_board_bytes) == (70.0, 54321)


# --- redirects --------------------------------------------------------------------------------


def resolver(table: dict[str, list[str]]) -> Callable[[str, int], asyncio.Future[list[str]]]:
    async def resolve(host: str, port: int) -> list[str]:
        return table[host]

    return resolve  # type: ignore[return-value]


async def test_a_redirect_to_a_public_address_is_followed(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient]
):
    moved = "https://jobs.elsewhere.example/acme.json"
    respx_mock.get(URL).mock(return_value=httpx.Response(302, headers={"Location": moved}))
    respx_mock.get(moved).mock(return_value=json_response({"jobs": []}))

    resolve = resolver({"jobs.elsewhere.example": ["93.184.216.34", "2606:2800:220:1::1"]})
    async with make_client(resolve=resolve) as client:
        assert await client.get_json(URL) == {"jobs": []}


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["10.1.2.3"],
        ["192.168.0.10"],
        ["169.254.169.254"],  # cloud metadata
        ["100.64.0.1"],  # carrier-grade NAT
        ["::1"],
        ["fd00::1"],
        ["::ffff:127.0.0.1"],
        ["93.184.216.34", "10.0.0.1"],  # one private address is enough to refuse
        [],
    ],
)
async def test_a_redirect_to_a_private_address_is_refused(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient], addresses: list[str]
):
    moved = "http://internal.example/secrets"
    respx_mock.get(URL).mock(return_value=httpx.Response(301, headers={"Location": moved}))
    target = respx_mock.get(moved).mock(return_value=json_response({"secret": 1}))

    async with make_client(resolve=resolver({"internal.example": addresses})) as client:
        with pytest.raises(SourceError, match=r"redirected to internal\.example, a loopback"):
            await client.get_json(URL)

    assert target.call_count == 0


async def test_redirect_loops_end(respx_mock: respx.MockRouter, client: HttpClient):
    respx_mock.get(URL).mock(return_value=httpx.Response(302, headers={"Location": URL}))

    with pytest.raises(SourceError, match="more than 5 redirects"):
        await client.get_json(URL)


def test_same_host_means_host_and_port_or_the_https_upgrade():
    board = httpx.URL("http://127.0.0.1:8080/jobs")
    assert same_host(board, httpx.URL("http://127.0.0.1:8080/other"))
    assert not same_host(board, httpx.URL("http://127.0.0.1:6379/"))
    assert not same_host(board, httpx.URL("http://127.0.0.2:8080/"))
    assert not same_host(board, httpx.URL("http://localhost:8080/"))
    assert same_host(httpx.URL("http://a.example/x"), httpx.URL("https://A.example/x"))
    assert not same_host(httpx.URL("https://a.example/x"), httpx.URL("http://a.example:8443/"))


def test_public_addresses():
    assert is_public_address("93.184.216.34")
    assert is_public_address("2606:2800:220:1::1")
    for address in ("127.0.0.1", "0.0.0.0", "224.0.0.1", "fe80::1%eth0", "::", "nonsense"):
        assert not is_public_address(address), address


# --- errors say what, never quote ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"<!DOCTYPE html><title>x</title>" + b"a" * 52_000, "", "HTML page, 51 KB, status 200"),
        (b"<?xml version='1.0'?><jobs/>", "text/xml", "XML document, 28 bytes, status 200"),
        (b"Down for maintenance", "text/plain; charset=utf-8", "plain text, 20 bytes"),
        (b"", "application/json", "empty body, 0 bytes"),
        (b'{"jobs": [1, 2,', "application/json", "invalid JSON at line 1 column 16, 15 bytes"),
        (b"\x89PNG\r\n", "image/png", "a body of another type, 6 bytes"),
    ],
)
def test_non_json_answers_are_described(body: bytes, content_type: str, expected: str):
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)) as caught:
        json.loads(body)
    assert describe_body(body, content_type, 200, caught.value).startswith(expected)


async def test_the_servers_reason_phrase_is_never_echoed(
    respx_mock: respx.MockRouter, client: HttpClient
):
    respx_mock.get(URL).mock(
        return_value=httpx.Response(403, extensions={"reason_phrase": b"<script>alert(1)</script>"})
    )

    with pytest.raises(SourceError) as caught:
        await client.get_json(URL)

    assert str(caught.value) == f"GET {URL}: HTTP 403 Forbidden"


async def test_credentials_in_a_url_never_reach_an_error(
    respx_mock: respx.MockRouter, client: HttpClient
):
    respx_mock.get(url__startswith="https://boards.example.com/").mock(
        return_value=httpx.Response(200, text="<html>nope</html>")
    )

    with pytest.raises(PayloadError) as caught:
        await client.get_json("https://alice:s3cret@boards.example.com/v1/boards/acme/jobs")

    assert "s3cret" not in str(caught.value)
    assert "alice" not in str(caught.value)
    assert "https://***@boards.example.com/" in str(caught.value)


# --- pages and POSTs get the same limits ---------------------------------------------------


async def test_get_page_follows_own_host_redirects_and_reports_them(
    respx_mock: respx.MockRouter, client: HttpClient
):
    moved = "https://boards.example.com/careers"
    respx_mock.get(URL).mock(return_value=httpx.Response(301, headers={"Location": moved}))
    respx_mock.get(moved).mock(
        return_value=httpx.Response(
            200, text="<html>Jobs</html>", headers={"Content-Type": "text/html; charset=utf-8"}
        )
    )

    page = await client.get_page(URL)

    assert (page.url, page.text, page.redirects) == (moved, "<html>Jobs</html>", (URL,))
    assert page.content_type.startswith("text/html")


async def test_post_json_is_capped_like_get(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient]
):
    route = respx_mock.post(URL).mock(return_value=httpx.Response(200, content=b" " * (2 * MB)))

    async with make_client(max_response_bytes=MB) as client:
        with pytest.raises(ResponseTooLarge, match=r"^POST "):
            await client.post_json(URL, {"limit": 20})

    assert json.loads(route.calls.last.request.content) == {"limit": 20}


async def test_a_page_redirecting_to_a_private_address_is_refused(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient]
):
    respx_mock.get(URL).mock(
        return_value=httpx.Response(302, headers={"Location": "http://10.0.0.5/admin"})
    )

    async with make_client() as client:
        with pytest.raises(SourceError, match=r"redirected to 10\.0\.0\.5"):
            await client.get_page(URL)


async def test_a_board_cannot_get_around_the_cap_by_paging(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient]
):
    page = json.dumps([{"id": n, "text": "x" * 1000} for n in range(100)]).encode()  # 100 KB
    respx_mock.get(url__startswith=URL).mock(return_value=httpx.Response(200, content=page))

    async with make_client(max_response_bytes=MB, max_board_bytes=MB) as client:
        for _ in range(20):  # outside a board: only the per-answer cap applies
            await client.get_json(URL)
        with client.counting_board():
            for number in range(10):  # ten pages of 100 KB fit in 1 MB
                await client.get_json(URL, params={"page": number})
            with pytest.raises(ResponseTooLarge, match="JOBSENTINEL_MAX_BOARD_BYTES") as caught:
                await client.get_json(URL, params={"page": 10})
        with client.counting_board():  # the next board starts afresh
            await client.get_json(URL)

    assert "the board's answers together passed 1.0 MB" in str(caught.value)


async def test_scrape_counts_one_board_at_a_time(
    respx_mock: respx.MockRouter, make_client: Callable[..., HttpClient]
):
    from jobs.scrapers import get_adapter, scrape

    page = json.dumps([{"id": n, "text": "x" * 1000} for n in range(100)]).encode()
    respx_mock.get(url__startswith="https://api.example.com/v0/postings/acme").mock(
        return_value=httpx.Response(200, content=page)
    )

    async with make_client(max_board_bytes=5 * len(page) // 2) as client:
        with pytest.raises(ResponseTooLarge, match="together passed"):
            await scrape(get_adapter("lever"), client, "acme", "https://api.example.com", "Acme")


async def test_get_page_can_hand_back_a_redirect_and_check_where_it_leads(
    respx_mock: respx.MockRouter, client: HttpClient
):
    careers = "https://acme.example/careers"
    respx_mock.get(careers).mock(
        return_value=httpx.Response(302, headers={"Location": "http://127.0.0.1:6379/"})
    )

    page = await client.get_page(careers, follow_redirects=False)

    assert (page.status, page.location) == (302, "http://127.0.0.1:6379/")
    with pytest.raises(SourceError, match=r"redirected to 127\.0\.0\.1, a loopback"):
        await client.check_redirect(page.url, page.location)
    await client.check_redirect(page.url, "https://acme.example/jobs")  # its own host


async def test_a_board_of_many_slow_pages_ends_at_the_board_deadline(
    make_client: Callable[..., HttpClient],
):
    from jobs.scrapers import get_adapter, scrape

    full_page = [{"id": n} for n in range(100)]  # Lever asks for the next page after a full one
    asked: list[str] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        await asyncio.sleep(0.5)  # each page well within the per-request deadline
        return httpx.Response(200, json=full_page)

    started = time.monotonic()
    async with make_client(
        transport=httpx.MockTransport(slow), deadline=10.0, board_deadline=2.0
    ) as client:
        with pytest.raises(DeadlineExceeded, match=r"not fetched within 2 s") as caught:
            await scrape(get_adapter("lever"), client, "acme", "https://api.example.com", "Acme")
    elapsed = time.monotonic() - started

    assert "JOBSENTINEL_BOARD_DEADLINE_SECONDS" in str(caught.value)
    assert 2 <= elapsed < 30, elapsed
    assert 2 <= len(asked) <= 6
