"""The small parsing helpers adapters share: they turn loosely typed vendor JSON into the
values of a `Posting`, raising PayloadError where a required value is missing. Pure functions,
no I/O and no Django, so every adapter's `parse` can be tested from fixture files."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from jobs.scrapers.base import PayloadError
from jobs.vocabulary import Workplace

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
    return _present(str(value).strip(), key, "is empty")


def required_text(job: dict[str, Any], key: str) -> str:
    return _present(clean_text(job.get(key)), key, "is missing or empty")


def web_url(value: object) -> str:
    """An http(s) URL or "": a `javascript:` link from a board must never reach a page."""
    text = value.strip() if isinstance(value, str) else ""
    return text if urlsplit(text).scheme in ("http", "https") else ""


def required_url(job: dict[str, Any], key: str) -> str:
    return _present(web_url(job.get(key)), key, "is missing or not an http(s) URL")


def _present(value: str, key: str, problem: str) -> str:
    """`value` (what was read of `job[key]`), or PayloadError saying what is wrong with it."""
    if not value:
        raise PayloadError(f"{key!r} {problem}")
    return value


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


@dataclass(frozen=True, slots=True)
class Salary:
    """A pay band as a board states it; `interval` is a SalaryInterval value or ""."""

    min: Decimal | None = None
    max: Decimal | None = None
    currency: str = ""
    interval: str = ""

    def posting_fields(self) -> dict[str, Any]:
        """The band as a Posting's salary fields."""
        return {
            "salary_min": self.min,
            "salary_max": self.max,
            "salary_currency": self.currency,
            "salary_interval": self.interval,
        }


NO_SALARY = Salary()


def salary(low: object, high: object, currency: object, interval: str) -> Salary:
    """A band from a vendor's amount fields (numbers or numeric strings), in order; NO_SALARY
    when neither amount is a positive number, whatever the currency says."""
    lowest, highest = ordered_range(to_decimal(low), to_decimal(high))
    if lowest is None and highest is None:
        return NO_SALARY
    return Salary(lowest, highest, currency_code(currency), interval)


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


def workplace(
    places: Iterable[str],
    *,
    stated: object = None,
    remote: object = None,
    hybrid: object = None,
    onsite: object = None,
    concrete_is_onsite: bool = True,
) -> str:
    """What the vendor says, most explicit first: its own workplace field (`stated`) when it
    names one we know; then its flags, each counting only when it is exactly true; then the
    place names (see infer_workplace)."""
    named = stated_workplace(stated)
    if named:
        return named
    for flag, meaning in (
        (remote, Workplace.REMOTE),
        (hybrid, Workplace.HYBRID),
        (onsite, Workplace.ONSITE),
    ):
        if flag is True:
            return meaning
    return infer_workplace(places, concrete_is_onsite=concrete_is_onsite)


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
