"""What one attempt came to: sent, worth retrying (maybe after a time the receiver asked for),
or refused for good."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

MAX_RETRY_AFTER = 3600.0
# How much of a receiver's error body goes into the reason shown to the user.
ERROR_BODY_CHARS = 200


@dataclass(frozen=True)
class Outcome:
    ok: bool
    permanent: bool = False
    reason: str = ""
    retry_after: float | None = None

    @classmethod
    def sent(cls) -> Outcome:
        return cls(ok=True)

    @classmethod
    def retry(cls, reason: str, retry_after: float | None = None) -> Outcome:
        return cls(ok=False, reason=reason, retry_after=retry_after)

    @classmethod
    def refused(cls, reason: str) -> Outcome:
        return cls(ok=False, permanent=True, reason=reason)

    def scrubbed(self, clean: Callable[[str], str]) -> Outcome:
        return replace(self, reason=clean(self.reason))


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def from_response(response: httpx.Response) -> Outcome:
    """2xx sent; 429 and 5xx retried (after `Retry-After` when given); anything else (other
    4xx, a redirect: hooks are not followed elsewhere) refused at once."""
    code = response.status_code
    if 200 <= code < 300:
        return Outcome.sent()
    detail = f"HTTP {code} {response.reason_phrase}".strip()
    body = response.text[:ERROR_BODY_CHARS].strip() if response.content else ""
    if body:
        detail += f": {body}"
    if code == 429:
        return Outcome.retry(detail, retry_after_seconds(response.headers.get("Retry-After")))
    if code >= 500:
        return Outcome.retry(detail, retry_after_seconds(response.headers.get("Retry-After")))
    return Outcome.refused(detail)


def from_transport_error(exc: httpx.HTTPError) -> Outcome:
    if isinstance(exc, httpx.TimeoutException):
        return Outcome.retry(f"timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return Outcome.refused(f"bad target URL ({type(exc).__name__})")
    return Outcome.retry(f"could not connect ({type(exc).__name__}: {exc})")
