"""What every job-board adapter shares: its errors, its contract, the one-board scrape and the
URL rules. The helpers that read vendor JSON are in `jobs.scrapers.fields`; the skeleton most
adapters are built on is `jobs.scrapers.board.Board`.

Adapters split I/O (`fetch`, which only downloads payloads) from parsing (`parse`, a pure
function of those payloads) so parsing can be tested from fixture files without a network.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit

from jobs.postings import Posting

if TYPE_CHECKING:
    from jobs.scrapers.http import HttpClient

logger = logging.getLogger(__name__)


class SourceError(Exception):
    """A source could not be scraped. `str(error)` is written to the scrape run's
    error_message, so it says what failed and where, in one line."""


class BoardNotFound(SourceError):
    """The board does not exist (HTTP 404): usually a mistyped token or a closed board."""


class PayloadError(SourceError):
    """The response is not the JSON the vendor documents: garbage, or a changed shape."""


class RateLimited(SourceError):
    """The vendor kept answering HTTP 429."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        # Seconds the vendor asked us to wait, when it said so; a scheduler may use it.
        self.retry_after = retry_after


class FetchFailed(SourceError):
    """Network errors, timeouts or 5xx answers outlasted the retries."""


class DeadlineExceeded(FetchFailed):
    """A request (retries included) took longer than its overall deadline: a board that
    answers too slowly, or drips its answer byte by byte."""


class ResponseTooLarge(PayloadError):
    """The answer (after decompression) passed the byte cap; reading stopped there."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """Postings from one fetch. `complete` is True when the board lists every open job, so a
    job missing from it may be closed; False for feeds that show only the newest jobs.
    `skipped` says why each job the board listed but that could not be parsed was left out."""

    postings: list[Posting]
    complete: bool
    skipped: list[str] = field(default_factory=list)


class Adapter(Protocol):
    """One job-board vendor. Implementations are stateless and shared."""

    kind: str
    vendor: str  # the vendor's name as people write it ("SmartRecruiters")
    complete: bool

    def endpoint(self, token: str, api_url: str | None) -> str:
        """The board's URL: the vendor's usual path under its host, or under `api_url`,
        which replaces the scheme and host (an EU instance, a mirror)."""
        ...

    async def fetch(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        """Download the board's raw JSON payloads (one per page). I/O only."""
        ...

    def parse(self, payloads: list[Any], *, company: str) -> list[Posting]:
        """Turn payloads into postings. Pure; raises PayloadError on a changed shape.
        `company` is the source's display name, for vendors whose payloads carry none."""
        ...


async def scrape(
    adapter: Adapter, client: HttpClient, token: str, api_url: str | None, company: str
) -> FetchResult:
    """Fetch and parse one board."""
    try:
        async with asyncio.timeout(client.board_deadline):
            with client.counting_board():
                payloads = await adapter.fetch(client, token, api_url)
    except TimeoutError:
        # Each request has its own deadline; this bounds a board of many slow pages.
        raise DeadlineExceeded(
            f"{adapter.kind} board {token!r}: not fetched within {client.board_deadline:g} s"
            " (JOBSENTINEL_BOARD_DEADLINE_SECONDS)"
        ) from None
    complete = adapter.complete
    # An adapter whose board may be too large to list whole (Workday) says so per fetch.
    is_complete = getattr(adapter, "is_complete", None)
    if complete and is_complete is not None:
        complete = bool(is_complete(payloads))
    with collect_skipped() as skipped:
        postings = adapter.parse(payloads, company=company)
    return FetchResult(postings, complete=complete, skipped=skipped)


# Jobs that `parse_each` left out, for the run's error count. A context variable rather than a
# return value so that every adapter's `parse` keeps returning a plain list of postings.
_skipped_jobs: ContextVar[list[str] | None] = ContextVar("skipped_jobs", default=None)


@contextmanager
def collect_skipped() -> Iterator[list[str]]:
    """Collect the reasons of jobs skipped by `parse_each` while the block runs."""
    skipped: list[str] = []
    reset = _skipped_jobs.set(skipped)
    try:
        yield skipped
    finally:
        _skipped_jobs.reset(reset)


# --- URLs -----------------------------------------------------------------------------------


def build_url(default_base: str, api_url: str | None, path: str) -> str:
    """`path` (with its query) under `api_url` when given, else under `default_base`.

    Only the scheme and host (and any path prefix, for a mirror) come from `api_url`: a
    query or fragment there would be silently mangled, so it is refused instead.
    """
    base = (api_url or "").strip() or default_base
    try:
        check_api_url(base)
    except ValueError as error:
        raise SourceError(str(error)) from None
    return base.rstrip("/") + path


def check_api_url(value: str) -> str:
    """`value` if it can be a source's api_url, else ValueError saying why (never repeating
    credentials): an http(s) URL with a host, and no credentials, query or fragment.

    Credentials are refused because a URL is shown by the API, put in error messages and
    logged; a board that needs a login is not a public board.
    """
    parts = urlsplit(value)
    if parts.username is not None or parts.password is not None:
        raise ValueError("api_url must not carry a user name or password")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"api_url {value!r} is not an http(s) URL with a host")
    if parts.query or parts.fragment:
        raise ValueError(f"api_url {value!r} must not carry a query or fragment")
    return value


def redact_url(url: object) -> str:
    """`url` as text with any `user:password@` replaced by `***@`, for messages and logs."""
    text = str(url)
    parts = urlsplit(text)
    if "@" not in parts.netloc:
        return text
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def path_segment(token: str) -> str:
    # Tokens are validated on the way in, but quoting keeps a stray "/" or "?" from ever
    # changing which URL is asked for.
    return quote(token, safe="")


def parse_each(
    items: Iterable[Any], parse_one: Callable[[Any], Posting | None], *, where: str
) -> list[Posting]:
    """Parse every job, skipping (and logging) one that is malformed so that one odd job
    cannot hide a whole board; if there were jobs and none parsed, the shape has changed
    and that is an error. Duplicate ids (a job that moved between pages) keep the first.
    `parse_one` returns None for a job that is deliberately left out (e.g. unlisted)."""
    postings: dict[str, Posting] = {}
    problems: list[str] = []
    left_out = 0
    for index, item in enumerate(items):
        try:
            posting = parse_one(item)
        except PayloadError as error:
            problems.append(f"job #{index}: {error}")
            continue
        if posting is None:
            left_out += 1
            continue
        postings.setdefault(posting.external_id, posting)
    if problems:
        if not postings and left_out == 0:
            raise PayloadError(f"{where}: no job could be parsed; first problem: {problems[0]}")
        logger.warning("%s: skipped %d malformed job(s): %s", where, len(problems), problems)
        skipped = _skipped_jobs.get()
        if skipped is not None:
            skipped.extend(problems)
    return list(postings.values())
