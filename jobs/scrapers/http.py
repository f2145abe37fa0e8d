"""A polite JSON client for job-board APIs: identifies itself, paces requests per host,
retries what is worth retrying, and turns every failure into a `SourceError`.

It also treats every board as potentially hostile: an answer is read at most
`max_response_bytes` after decompression (counted while streaming, so a gzip bomb is cut
without ever being held), one request with all its retries has an overall `deadline` (httpx's
read timeout restarts on every byte, so a board dripping bytes would otherwise hold a worker
forever), redirects leave the board's host only for public addresses, and nothing a board
sends is ever quoted into an error message (errors reach the API and every socket).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import socket
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from jobs.scrapers.base import (
    BoardNotFound,
    DeadlineExceeded,
    FetchFailed,
    PayloadError,
    RateLimited,
    ResponseTooLarge,
    SourceError,
    redact_url,
)
from jobsentinel import __version__

USER_AGENT = f"JobSentinel/{__version__} (+self-hosted job watcher)"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_REDIRECTS = 5
# Defaults of the limits; Django's settings (JOBSENTINEL_MAX_RESPONSE_BYTES,
# JOBSENTINEL_MAX_BOARD_BYTES, JOBSENTINEL_FETCH_DEADLINE_SECONDS,
# JOBSENTINEL_BOARD_DEADLINE_SECONDS) default to these too (a test keeps them in step), and
# `jobs.scraping` passes the configured values in.
DEFAULT_MAX_RESPONSE_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_BOARD_BYTES = 100 * 1024 * 1024
DEFAULT_DEADLINE = 120.0
DEFAULT_BOARD_DEADLINE = 900.0
# Decompressed bytes produced per step: what is held beyond the body itself while inflating.
_INFLATE_STEP = 256 * 1024
# Only what this module can inflate under its byte cap; httpx would otherwise also offer br/zstd
# when those packages happen to be installed.
_ACCEPT_ENCODING = "gzip, deflate"

Sleep = Callable[[float], Awaitable[Any]]
Resolve = Callable[[str, int], Awaitable[list[str]]]
_T = TypeVar("_T")
_PAGE_ACCEPT = {"Accept": "text/html, application/xml;q=0.9, */*;q=0.8"}


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched web page or feed: where it ended up after redirects, and its text."""

    url: str
    text: str
    content_type: str = ""
    redirects: tuple[str, ...] = ()
    status: int = 200
    location: str = ""  # where a redirect points, when it was not followed


@dataclass(slots=True)
class _BoardBudget:
    """Bytes one board may still send across all its pages and detail requests."""

    remaining: int


# Set by `HttpClient.counting_board()` around one board's fetch; shared (the object, not the
# variable) by tasks an adapter starts for pages in parallel.
_board_budget: ContextVar[_BoardBudget | None] = ContextVar("board_budget", default=None)


@dataclass(frozen=True, slots=True)
class _Answer:
    """A successful answer, read whole (within the byte cap)."""

    response: httpx.Response
    body: bytearray
    redirects: tuple[str, ...]


class _Retry(Exception):
    """One attempt failed in a way worth another try; carries the final error to raise."""

    def __init__(self, error: SourceError, delay: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        # The wait the server asked for (Retry-After); None means use the backoff.
        self.delay = delay


class HttpClient:
    """Wraps one `httpx.AsyncClient`; use as `async with HttpClient() as client:`.

    Limits: `max_response_bytes` and `deadline` per request, `max_board_bytes` and
    `board_deadline` per board (see `counting_board` and `scrape`); `jobs.scraping.http_client()`
    builds a client with the configured ones. `sleep`, `clock`, `jitter`, `resolve` and
    `transport` are there so tests run instantly and offline.
    """

    def __init__(
        self,
        *,
        pace_seconds: float = 1.0,
        max_attempts: int = 3,
        backoff_base: float = 0.5,
        max_retry_after: float = 120.0,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_board_bytes: int = DEFAULT_MAX_BOARD_BYTES,
        deadline: float = DEFAULT_DEADLINE,
        board_deadline: float = DEFAULT_BOARD_DEADLINE,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        resolve: Resolve | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.pace_seconds = pace_seconds
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.max_retry_after = max_retry_after
        self.max_response_bytes = max_response_bytes
        self.max_board_bytes = max_board_bytes
        self.deadline = deadline
        self.board_deadline = board_deadline
        if min(self.max_response_bytes, self.max_board_bytes) < 1:
            raise ValueError("byte limits must be positive")
        if min(self.deadline, self.board_deadline) <= 0:
            raise ValueError("deadlines must be positive")
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._resolve = resolve or resolve_host
        # Per host, the earliest moment the next request may start.
        self._next_slot: dict[str, float] = {}
        self._client = httpx.AsyncClient(
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Accept-Encoding": _ACCEPT_ENCODING,
            },
            timeout=timeout,
            # Redirects are followed by `_send`, which checks where each one leads.
            follow_redirects=False,
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    @contextmanager
    def counting_board(self) -> Iterator[None]:
        """Count every answer read inside the block against `max_board_bytes`: a board that
        pages must not get around the per-answer cap by sending many pages."""
        reset = _board_budget.set(_BoardBudget(self.max_board_bytes))
        try:
            yield
        finally:
            _board_budget.reset(reset)

    async def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        """GET `url` (its own query kept, `params` added) and decode its JSON body, retrying
        network errors, timeouts, 5xx and 429 within the deadline. Raises BoardNotFound,
        RateLimited, FetchFailed (DeadlineExceeded), PayloadError (ResponseTooLarge) or
        SourceError."""
        return await self._request("GET", _with_params(url, params), _decode_json)

    async def post_json(self, url: str, body: Any) -> Any:
        """POST `body` as JSON and decode the JSON answer, with get_json's retries, limits and
        errors (boards whose search API is a POST, such as Workday's)."""
        return await self._request("POST", _with_params(url, None), _decode_json, json=body)

    async def get_page(self, url: str, *, follow_redirects: bool = True) -> Page:
        """GET a web page or a non-JSON feed (a careers page, an XML feed): its text, the URL
        it ended at and the redirects on the way, with get_json's retries, limits and
        errors. With follow_redirects=False a redirect is returned as it is (status and
        location), so the caller can look at where it points before going there (and should
        pass it through `check_redirect` before fetching it)."""
        return await self._request(
            "GET",
            _with_params(url, None),
            _decode_page,
            follow_redirects=follow_redirects,
            headers=_PAGE_ACCEPT,
        )

    async def check_redirect(self, origin: str, target: str) -> None:
        """Raise SourceError unless a redirect from `origin` to `target` may be followed: the
        rule this client applies to the redirects it follows itself, for callers that follow
        them one at a time."""
        await self._check_redirect("GET", _with_params(origin, None), _with_params(target, None))

    async def _request(
        self,
        method: str,
        url: httpx.URL,
        decode: Callable[[str, _Answer], _T],
        *,
        follow_redirects: bool = True,
        **request: Any,
    ) -> _T:
        # The deadline starts with the first attempt: waiting for this host's turn behind
        # other boards of the same vendor is pacing, not the board being slow.
        await self._wait_for_turn(url)
        ends_at = self._clock() + self.deadline
        try:
            async with asyncio.timeout(self.deadline):
                answer = await self._attempts(method, url, ends_at, follow_redirects, request)
        except TimeoutError:
            raise DeadlineExceeded(
                f"{method} {redact_url(url)}: no complete answer within the"
                f" {self.deadline:g} s deadline per request (retries included)"
            ) from None
        return decode(f"{method} {redact_url(answer.response.request.url)}", answer)

    async def _attempts(
        self,
        method: str,
        url: httpx.URL,
        ends_at: float,
        follow_redirects: bool,
        request: dict[str, Any],
    ) -> _Answer:
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                await self._wait_for_turn(url)
            try:
                return await self._attempt(method, url, follow_redirects, request)
            except _Retry as retry:
                if attempt == self.max_attempts:
                    raise retry.error from retry.__cause__
                delay = self._delay(attempt, retry.delay)
                if self._clock() + delay >= ends_at:
                    # Sleeping past the deadline only to be cut off: fail with the real reason.
                    raise retry.error from retry.__cause__
                await self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    def _delay(self, attempt: int, asked: float | None) -> float:
        if asked is not None:
            return asked
        # Exponential backoff, ±50 % jitter so many sources failing together spread out.
        return self.backoff_base * 2 ** (attempt - 1) * (0.5 + self._jitter())

    async def _attempt(
        self, method: str, url: httpx.URL, follow_redirects: bool, request: dict[str, Any]
    ) -> _Answer:
        shown = f"{method} {redact_url(url)}"
        try:
            response, redirects = await self._send(method, url, follow_redirects, request)
            try:
                self._check_status(response)
                body = await self._read_body(response)
            finally:
                await response.aclose()
        except httpx.TimeoutException as error:
            raise _Retry(FetchFailed(f"{shown}: timed out ({self._tries()})")) from error
        except httpx.UnsupportedProtocol as error:
            raise SourceError(f"{shown}: {error}") from error
        except httpx.TransportError as error:
            message = f"{shown}: {type(error).__name__}: {error} ({self._tries()})"
            raise _Retry(FetchFailed(message)) from error
        return _Answer(response, body, redirects)

    async def _send(
        self, method: str, url: httpx.URL, follow_redirects: bool, request: dict[str, Any]
    ) -> tuple[httpx.Response, tuple[str, ...]]:
        """Send a request and follow its redirects, each only where `_check_redirect` allows.
        Returns a streamed response (the caller reads and closes it) and the URLs that
        redirected on the way."""
        outgoing = self._client.build_request(method, url, **request)
        redirects: list[str] = []
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._client.send(outgoing, stream=True)
            next_request = response.next_request
            if next_request is None or not follow_redirects:
                return response, tuple(redirects)
            await response.aclose()
            await self._check_redirect(method, url, next_request.url)
            redirects.append(str(outgoing.url))
            outgoing = next_request
        raise SourceError(f"{method} {redact_url(url)}: more than {MAX_REDIRECTS} redirects")

    async def _check_redirect(self, method: str, board: httpx.URL, target: httpx.URL) -> None:
        """A redirect may stay on the board's own host (same port, or http → https), or go
        to a host whose every address is public. Anything else would let a board make this
        machine fetch from its own loopback or private network (SSRF)."""
        shown = f"{method} {redact_url(board)}"
        if target.scheme not in ("http", "https"):
            raise SourceError(f"{shown}: redirected to a non-http(s) URL; not followed")
        if same_host(board, target):
            return
        host = target.raw_host.decode("ascii", "replace")
        try:
            addresses = await self._resolve(host, _port(target))
        except OSError:
            raise SourceError(
                f"{shown}: redirected to {host}, which does not resolve; not followed"
            ) from None
        if not addresses or not all(is_public_address(address) for address in addresses):
            raise SourceError(
                f"{shown}: redirected to {host}, a loopback, private or reserved address;"
                " not followed"
            )

    async def _wait_for_turn(self, url: httpx.URL) -> None:
        """Keep `pace_seconds` between requests to one host. The slot is claimed before
        sleeping, so concurrent callers queue up instead of all waking at once."""
        host = url.netloc.decode("ascii").lower()
        now = self._clock()
        start = max(now, self._next_slot.get(host, now))
        self._next_slot[host] = start + self.pace_seconds
        if start > now:
            await self._sleep(start - now)

    def _check_status(self, response: httpx.Response) -> None:
        """Errors by status, before any of the body is read."""
        what = f"{response.request.method} {redact_url(response.request.url)}"
        status = response.status_code
        if status == 404:
            raise BoardNotFound(f"{what}: HTTP 404, no such board (check the token)")
        if status == 429:
            raise self._rate_limited(what, response)
        if status >= 500:
            raise _Retry(FetchFailed(f"{what}: HTTP {_status(status)} ({self._tries()})"))
        if status >= 400:
            raise SourceError(f"{what}: HTTP {_status(status)}")

    async def _read_body(self, response: httpx.Response) -> bytearray:
        """The body, decompressed, or ResponseTooLarge as soon as it passes the cap."""
        what = f"{response.request.method} {redact_url(response.request.url)}"
        budget = _board_budget.get()
        if budget is not None and budget.remaining < self.max_response_bytes:
            limit = budget.remaining
            too_large = ResponseTooLarge(
                f"{what}: the board's answers together passed {_size(self.max_board_bytes)}"
                " (JOBSENTINEL_MAX_BOARD_BYTES); stopped reading"
            )
        else:
            limit = self.max_response_bytes
            too_large = ResponseTooLarge(
                f"{what}: answer larger than {_size(limit)} (JOBSENTINEL_MAX_RESPONSE_BYTES);"
                " stopped reading"
            )
        if response.is_stream_consumed:
            # Built in memory by a test transport, and already decoded by httpx.
            inflater: Inflater | None = Inflater(None)
            chunks: AsyncIterator[bytes] = _one(response.content)
        else:
            inflater = Inflater.for_encoding(response.headers.get("Content-Encoding", ""))
            chunks = response.aiter_raw()
        if inflater is None:
            raise PayloadError(f"{what}: answer in an unsupported Content-Encoding")
        declared = response.headers.get("Content-Length", "")
        if inflater.identity and declared.isdigit() and int(declared) > limit:
            raise too_large
        body = bytearray()
        try:
            async for chunk in chunks:
                if not inflater.feed(chunk, body, limit):
                    raise too_large
            if not inflater.finish(body, limit):
                raise too_large
        except CorruptBody as error:
            raise PayloadError(f"{what}: the answer has {error}") from None
        if budget is not None:
            budget.remaining -= len(body)
        return body

    def _rate_limited(self, what: str, response: httpx.Response) -> RateLimited | _Retry:
        wait = retry_after_seconds(response.headers.get("Retry-After"), datetime.now(UTC))
        error = RateLimited(f"{what}: HTTP 429, rate limited ({self._tries()})", retry_after=wait)
        if wait is not None and wait > self.max_retry_after:
            # Asking again before the server's time is up would only earn more 429s: give up
            # now and let the next scheduled run try.
            return RateLimited(f"{what}: HTTP 429, rate limited for {wait:.0f} s", retry_after=wait)
        return _Retry(error, delay=wait)

    def _tries(self) -> str:
        return f"{self.max_attempts} attempt{'s' if self.max_attempts != 1 else ''}"


def _decode_json(what: str, answer: _Answer) -> Any:
    try:
        return json.loads(answer.body)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
        # Described, never quoted: the text of a page is the board's, and this message is
        # shown by the API and broadcast to every socket.
        headers, status = answer.response.headers, answer.response.status_code
        description = describe_body(answer.body, headers.get("Content-Type", ""), status, error)
        raise PayloadError(f"{what}: the answer is not JSON ({description})") from None


def _decode_page(what: str, answer: _Answer) -> Page:
    response = answer.response
    return Page(
        url=str(response.request.url),
        text=_text(answer.body, response.charset_encoding),
        content_type=response.headers.get("Content-Type", ""),
        redirects=answer.redirects,
        status=response.status_code,
        location=response.headers.get("Location", "") if response.is_redirect else "",
    )


def _text(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset no codec knows
        return body.decode("utf-8", errors="replace")


class CorruptBody(Exception):
    """A compressed body that does not inflate."""


class Inflater:
    """Decompresses a body chunk by chunk into a bytearray without ever letting it grow past
    a limit (plus one step): zlib's `max_length` stops inflating where the cap is."""

    def __init__(self, wbits: int | None) -> None:
        self.identity = wbits is None
        self._wbits = wbits
        self._zlib = None if wbits is None else zlib.decompressobj(wbits)
        self._started = False

    @classmethod
    def for_encoding(cls, header: str) -> Inflater | None:
        """An inflater for a Content-Encoding value, or None when it is not one we asked for."""
        encoding = header.strip().lower()
        if encoding in ("", "identity"):
            return cls(None)
        if encoding in ("gzip", "x-gzip"):
            return cls(16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return cls(zlib.MAX_WBITS)
        return None

    def feed(self, data: bytes, body: bytearray, limit: int) -> bool:
        """Append `data`, inflated, to `body`; False as soon as `body` would pass `limit`."""
        if self._zlib is None:
            if len(body) + len(data) > limit:
                return False
            body += data
            return True
        while data:
            if self._zlib.eof:
                raise CorruptBody("data after the end of its compressed body")
            try:
                out = self._zlib.decompress(data, min(_INFLATE_STEP, limit - len(body) + 1))
            except zlib.error:
                if self._wbits == zlib.MAX_WBITS and not self._started:
                    # "deflate" is sent both zlib-wrapped (the standard) and raw.
                    self._wbits = -zlib.MAX_WBITS
                    self._zlib = zlib.decompressobj(self._wbits)
                    continue
                raise CorruptBody("a corrupt compressed body") from None
            self._started = True
            body += out
            if len(body) > limit:
                return False
            if self._zlib.eof and self._zlib.unused_data:
                if self._wbits != 16 + zlib.MAX_WBITS:
                    raise CorruptBody("data after the end of its compressed body")
                # Another gzip member follows (concatenated gzip is valid).
                data = self._zlib.unused_data
                self._zlib = zlib.decompressobj(self._wbits)
            else:
                data = self._zlib.unconsumed_tail
        return True

    def finish(self, body: bytearray, limit: int) -> bool:
        if self._zlib is None:
            return True
        body += self._zlib.flush(limit - len(body) + 1)
        return len(body) <= limit


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (what a connection to it might use)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address; False for loopback, private, link-local,
    carrier-grade NAT, multicast, reserved and unparseable ones."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return ip.is_global and not ip.is_multicast


def same_host(board: httpx.URL, target: httpx.URL) -> bool:
    """The same host name and port, or the http → https upgrade of it on default ports."""
    if board.raw_host.lower() != target.raw_host.lower():
        return False
    if _port(board) == _port(target):
        return True
    return (board.scheme, _port(board), target.scheme, _port(target)) == (
        "http",
        80,
        "https",
        443,
    )


def describe_body(body: bytes, content_type: str, status: int, error: ValueError) -> str:
    """What a non-JSON answer is, in words and size only ("HTML page, 51 KB, status 200")."""
    media = content_type.split(";", 1)[0].strip().lower()
    start = body[:512].lstrip().lower()
    if not body.strip():
        kind = "empty body"
    elif media in ("text/html", "application/xhtml+xml") or start.startswith(
        (b"<!doctype html", b"<html")
    ):
        kind = "HTML page"
    elif media.endswith(("/xml", "+xml")) or start.startswith(b"<?xml"):
        kind = "XML document"
    elif media == "application/json" or media.endswith("+json") or start[:1] in (b"{", b"["):
        where = (
            f" at line {error.lineno} column {error.colno}"
            if isinstance(error, json.JSONDecodeError)
            else ", not UTF-8"
        )
        kind = f"invalid JSON{where}"
    elif media == "text/plain":
        kind = "plain text"
    else:
        kind = "a body of another type"
    return f"{kind}, {_size(len(body))}, status {status}"


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header, given as seconds or as an HTTP date; None if absent
    or unreadable. A date in the past means "now"."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _with_params(url: str, params: dict[str, Any] | None) -> httpx.URL:
    # httpx would replace the URL's query with `params`; endpoints carry their own
    # (?mode=json, ?content=true), so merge instead.
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise SourceError(f"GET {redact_url(url)}: invalid URL: {error}") from error
    return parsed.copy_merge_params(params) if params else parsed


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _status(status: int) -> str:
    # The standard phrase, never the server's own (which is free text a board chooses).
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count / (1024 * 1024):.1f} MB"
