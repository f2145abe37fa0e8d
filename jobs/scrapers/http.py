"""A polite JSON client for job-board APIs: identifies itself, paces requests per host,
retries what is worth retrying, and turns every failure into a `SourceError`."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from jobs.scrapers.base import (
    BoardNotFound,
    FetchFailed,
    PayloadError,
    RateLimited,
    SourceError,
)
from jobsentinel import __version__

USER_AGENT = f"JobSentinel/{__version__} (+self-hosted job watcher)"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
SNIPPET_CHARS = 120

Sleep = Callable[[float], Awaitable[Any]]
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


class _Retry(Exception):
    """One attempt failed in a way worth another try; carries the final error to raise."""

    def __init__(self, error: SourceError, delay: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        # The wait the server asked for (Retry-After); None means use the backoff.
        self.delay = delay


class HttpClient:
    """Wraps one `httpx.AsyncClient`; use as `async with HttpClient() as client:`.

    `sleep`, `clock`, `jitter` and `transport` are there so tests run instantly and offline.
    """

    def __init__(
        self,
        *,
        pace_seconds: float = 1.0,
        max_attempts: int = 3,
        backoff_base: float = 0.5,
        max_retry_after: float = 120.0,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.pace_seconds = pace_seconds
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        # Per host, the earliest moment the next request may start.
        self._next_slot: dict[str, float] = {}
        self._client = httpx.AsyncClient(
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=timeout,
            # Boards move (a renamed company, http → https); following is what a browser does.
            follow_redirects=True,
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

    async def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        """GET `url` (its own query kept, `params` added) and decode its JSON body, retrying
        network errors, timeouts, 5xx and 429. Raises BoardNotFound, RateLimited,
        FetchFailed, PayloadError or SourceError."""
        return await self._send("GET", _with_params(url, params), self._decode)

    async def post_json(self, url: str, body: Any) -> Any:
        """POST `body` as JSON and decode the JSON answer, with get_json's retries and errors
        (boards whose search API is a POST, such as Workday's)."""
        return await self._send("POST", _with_params(url, None), self._decode, json=body)

    async def get_page(self, url: str, *, follow_redirects: bool = True) -> Page:
        """GET a web page or a non-JSON feed (a careers page, an XML feed): its text, the URL
        it ended at and the redirects on the way, with get_json's retries and errors. With
        follow_redirects=False a redirect is returned as it is (status and location), so the
        caller can look at where it points before going there."""
        return await self._send(
            "GET",
            _with_params(url, None),
            self._decode_page,
            headers=_PAGE_ACCEPT,
            follow_redirects=follow_redirects,
        )

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        decode: Callable[[httpx.Response], _T],
        **request: Any,
    ) -> _T:
        for attempt in range(1, self.max_attempts + 1):
            try:
                return await self._attempt(method, url, decode, request)
            except _Retry as retry:
                if attempt == self.max_attempts:
                    raise retry.error from retry.__cause__
                await self._sleep(self._delay(attempt, retry.delay))
        raise AssertionError("unreachable: the loop returns or raises")

    def _delay(self, attempt: int, asked: float | None) -> float:
        if asked is not None:
            return asked
        # Exponential backoff, ±50 % jitter so many sources failing together spread out.
        return self.backoff_base * 2 ** (attempt - 1) * (0.5 + self._jitter())

    async def _attempt(
        self,
        method: str,
        url: httpx.URL,
        decode: Callable[[httpx.Response], _T],
        request: dict[str, Any],
    ) -> _T:
        await self._wait_for_turn(url)
        try:
            response = await self._client.request(method, url, **request)
        except httpx.TimeoutException as error:
            raise _Retry(FetchFailed(f"{method} {url}: timed out ({self._tries()})")) from error
        except httpx.UnsupportedProtocol as error:
            raise SourceError(f"{method} {url}: {error}") from error
        except httpx.TransportError as error:
            message = f"{method} {url}: {type(error).__name__}: {error} ({self._tries()})"
            raise _Retry(FetchFailed(message)) from error
        return decode(response)

    async def _wait_for_turn(self, url: httpx.URL) -> None:
        """Keep `pace_seconds` between requests to one host. The slot is claimed before
        sleeping, so concurrent callers queue up instead of all waking at once."""
        host = url.netloc.decode("ascii").lower()
        now = self._clock()
        start = max(now, self._next_slot.get(host, now))
        self._next_slot[host] = start + self.pace_seconds
        if start > now:
            await self._sleep(start - now)

    def _check_status(self, response: httpx.Response) -> str:
        """Raise for an unsuccessful answer; return "METHOD URL" for messages."""
        what = f"{response.request.method} {response.request.url}"
        status = response.status_code
        if status == 404:
            raise BoardNotFound(f"{what}: HTTP 404, no such board (check the token)")
        if status == 429:
            raise self._rate_limited(what, response)
        if status >= 500:
            message = f"{what}: HTTP {status} {response.reason_phrase} ({self._tries()})"
            raise _Retry(FetchFailed(message))
        if status >= 400:
            raise SourceError(f"{what}: HTTP {status} {response.reason_phrase}")
        return what

    def _decode(self, response: httpx.Response) -> Any:
        what = self._check_status(response)
        try:
            return response.json()
        except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
            raise PayloadError(
                f"{what}: response is not JSON: {_snippet(response.text)!r}"
            ) from error

    def _decode_page(self, response: httpx.Response) -> Page:
        self._check_status(response)
        return Page(
            url=str(response.url),
            text=response.text,
            content_type=response.headers.get("Content-Type", ""),
            redirects=tuple(str(step.url) for step in response.history),
            status=response.status_code,
            location=response.headers.get("Location", "") if response.is_redirect else "",
        )

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
        raise SourceError(f"GET {url}: invalid URL: {error}") from error
    return parsed.copy_merge_params(params) if params else parsed


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS] + "…"
