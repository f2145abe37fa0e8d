"""What every job-board adapter shares: its errors, its contract, and the small parsing helpers
that turn loosely typed vendor JSON into `Posting`s.

Adapters split I/O (`fetch`, which only downloads payloads) from parsing (`parse`, a pure
function of those payloads) so parsing can be tested from fixture files without a network.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit

from jobs.postings import Posting
from jobs.vocabulary import Workplace

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


# --- Shape checks ---------------------------------------------------------------------------


def type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def require_dict(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} should be a JSON object, got {type_name(value)}")
    return value


def require_list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(f"{what} should be a JSON array, got {type_name(value)}")
    return value


def jobs_list(payload: object, key: str, what: str) -> list[Any]:
    """`payload[key]` of a `{key: [...]}` payload, or PayloadError."""
    return require_list(require_dict(payload, what).get(key), f"{what} {key!r}")


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


# --- Fields ---------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")


def clean_text(value: object) -> str:
    """A display string: stripped, inner runs of whitespace collapsed; non-strings → ""."""
    if not isinstance(value, str):
        return ""
    return _WHITESPACE.sub(" ", value).strip()


def as_dict(value: object) -> dict[str, Any]:
    """An optional nested object: anything but a dict reads as empty."""
    return value if isinstance(value, dict) else {}


def strings(value: object) -> list[str]:
    """An optional list of display strings; non-strings in it read as ""."""
    return [clean_text(item) for item in value] if isinstance(value, list) else []


def html_text(value: object) -> str:
    return value if isinstance(value, str) else ""


def required_id(job: dict[str, Any], key: str = "id") -> str:
    value = job.get(key)
    # bool is an int subclass, and True is no one's job id.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(f"{key!r} is missing or not a string/number ({type_name(value)})")
    text = str(value).strip()
    if not text:
        raise PayloadError(f"{key!r} is empty")
    return text


def required_text(job: dict[str, Any], key: str) -> str:
    text = clean_text(job.get(key))
    if not text:
        raise PayloadError(f"{key!r} is missing or empty")
    return text


def web_url(value: object) -> str:
    """An http(s) URL or "": a `javascript:` link from a board must never reach a page."""
    text = value.strip() if isinstance(value, str) else ""
    return text if urlsplit(text).scheme in ("http", "https") else ""


def required_url(job: dict[str, Any], key: str) -> str:
    url = web_url(job.get(key))
    if not url:
        raise PayloadError(f"{key!r} is missing or not an http(s) URL")
    return url


def unescape_html(value: object) -> str:
    """Greenhouse sends its HTML entity-escaped ("&lt;p&gt;")."""
    return html.unescape(value) if isinstance(value, str) else ""


def join_unique(values: Iterable[str], sep: str = "; ") -> str:
    """Non-empty values in order, each once."""
    seen: dict[str, None] = {}
    for value in values:
        if value:
            seen.setdefault(value, None)
    return sep.join(seen)


def parse_datetime(value: object) -> datetime | None:
    """An ISO 8601 string as an aware UTC datetime (naive means UTC); None when absent or
    unreadable, since a posting date is nice to have, not a reason to drop the job."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # "0001-01-01T00:00+01:00" has no UTC time
        return None


def from_epoch_ms(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def to_decimal(value: object) -> Decimal | None:
    """A positive amount as Decimal, else None. Floats go through str() so 0.1 stays 0.1."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount > 0 else None


def currency_code(value: object) -> str:
    code = clean_text(value).upper()
    return code if re.fullmatch(r"[A-Z]{3}", code) else ""


def ordered_range(
    low: Decimal | None, high: Decimal | None
) -> tuple[Decimal | None, Decimal | None]:
    # The jobs table refuses min > max; a board that swapped them still means the same band.
    if low is not None and high is not None and low > high:
        return high, low
    return low, high


_REMOTE_WORD = re.compile(r"\bremote\b", re.IGNORECASE)
_HYBRID_WORD = re.compile(r"\bhybrid\b", re.IGNORECASE)


def stated_workplace(value: object) -> Workplace | None:
    """A vendor's own workplace field ("remote", "Hybrid", "onsite", "on-site", "ON_SITE") as
    a Workplace; None when it says nothing we know ("unspecified", empty, junk)."""
    word = re.sub(r"[\s_-]", "", clean_text(value)).lower()
    return next((w for w in Workplace if w == word and w is not Workplace.UNKNOWN), None)


def infer_workplace(places: Iterable[str], *, concrete_is_onsite: bool = True) -> str:
    """Workplace from location names: "Remote" anywhere wins, then "Hybrid"; any other named
    place means on-site (when the vendor's silence implies it); nothing at all is unknown."""
    names = [name for name in places if name]
    if any(_REMOTE_WORD.search(name) for name in names):
        return Workplace.REMOTE
    if any(_HYBRID_WORD.search(name) for name in names):
        return Workplace.HYBRID
    return Workplace.ONSITE if names and concrete_is_onsite else Workplace.UNKNOWN


_EMPLOYMENT_TYPES = {
    "fulltime": "Full-time",
    "parttime": "Part-time",
    "contract": "Contract",
    "contractor": "Contract",
    "intern": "Internship",
    "internship": "Internship",
    "temporary": "Temporary",
    "freelance": "Freelance",
}


def employment_type(value: object) -> str:
    """One spelling across vendors ("FullTime", "full_time", "Full-time" → "Full-time");
    anything unrecognised is kept as the board wrote it."""
    text = clean_text(value)
    key = re.sub(r"[\s_-]", "", text).lower()
    return _EMPLOYMENT_TYPES.get(key, text)
