"""Recruitee careers site API: `GET https://{company}.recruitee.com/api/offers/`, one answer
with every published offer. The company's subdomain is the token; with an api_url the same
path is asked of that host."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from jobs.postings import Posting
from jobs.scrapers.base import (
    as_dict,
    build_url,
    clean_text,
    currency_code,
    employment_type,
    html_text,
    infer_workplace,
    jobs_list,
    join_unique,
    ordered_range,
    parse_datetime,
    parse_each,
    require_dict,
    required_id,
    required_text,
    required_url,
    to_decimal,
    web_url,
)
from jobs.scrapers.http import HttpClient
from jobs.vocabulary import Workplace

_INTERVALS = {
    "hour": "hour", "hourly": "hour", "day": "day", "daily": "day", "week": "week",
    "weekly": "week", "month": "month", "monthly": "month", "year": "year", "yearly": "year",
    "annual": "year", "annually": "year",
}  # fmt: skip
# Recruitee writes some dates as "2025-10-01 09:30:12 UTC", others as ISO 8601.
_UTC_SUFFIX = re.compile(r"\s*UTC$", re.IGNORECASE)


def host_base(token: str) -> str:
    return f"https://{token.lower()}.recruitee.com"


class RecruiteeAdapter:
    kind: str = "recruitee"
    complete: bool = True

    def endpoint(self, token: str, api_url: str | None) -> str:
        return build_url(host_base(token), api_url, "/api/offers/")

    async def fetch(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        return [await client.get_json(self.endpoint(token, api_url))]

    def parse(self, payloads: list[Any], *, company: str) -> list[Posting]:
        offers = [o for payload in payloads for o in jobs_list(payload, "offers", "Recruitee")]
        return parse_each(offers, lambda offer: _posting(offer, company), where="Recruitee")


def _posting(raw: Any, company: str) -> Posting | None:
    offer = require_dict(raw, "offer")
    external_id = required_id(offer)
    status = clean_text(offer.get("status"))
    if status and status != "published":
        return None  # drafts and closed offers are not on the careers site
    places = _places(offer)
    low, high, currency, interval = _salary(offer.get("salary"))
    return Posting(
        external_id=external_id,
        title=required_text(offer, "title"),
        company=clean_text(offer.get("company_name")) or company,
        url=required_url(offer, "careers_url"),
        location=join_unique(places),
        workplace=_workplace(offer, places),
        department=clean_text(offer.get("department")),
        employment_type=_employment_type(offer),
        description_html="\n".join(
            part
            for part in (html_text(offer.get("description")), html_text(offer.get("requirements")))
            if part.strip()
        ),
        apply_url=web_url(offer.get("careers_apply_url")),
        salary_min=low,
        salary_max=high,
        salary_currency=currency,
        salary_interval=interval,
        posted_at=recruitee_datetime(offer.get("published_at"))
        or recruitee_datetime(offer.get("created_at")),
    )


def recruitee_datetime(value: object) -> datetime | None:
    """Both of Recruitee's spellings: "2025-10-01 09:30:12 UTC" and ISO 8601."""
    if isinstance(value, str):
        value = _UTC_SUFFIX.sub("+00:00", value.strip()) if _UTC_SUFFIX.search(value) else value
    return parse_datetime(value)


def _places(offer: dict[str, Any]) -> list[str]:
    listed = offer.get("locations")
    names = [
        clean_text(loc.get("name"))
        or join_unique([clean_text(loc.get("city")), clean_text(loc.get("country"))], sep=", ")
        for loc in map(as_dict, listed if isinstance(listed, list) else [])
    ]
    if any(names):
        return names
    return [
        clean_text(offer.get("location"))
        or join_unique([clean_text(offer.get("city")), clean_text(offer.get("country"))], sep=", ")
    ]


def _workplace(offer: dict[str, Any], places: list[str]) -> str:
    if offer.get("remote") is True:
        return Workplace.REMOTE
    if offer.get("hybrid") is True:
        return Workplace.HYBRID
    if offer.get("on_site") is True:
        return Workplace.ONSITE
    return infer_workplace(places)


def _employment_type(offer: dict[str, Any]) -> str:
    # "fulltime_permanent", "parttime_fixed_term", "internship", ...: the kind comes first.
    code = clean_text(offer.get("employment_type_code")).split("_")[0]
    return employment_type(code) if code else ""


def _salary(value: Any) -> tuple[Decimal | None, Decimal | None, str, str]:
    salary = as_dict(value)
    # Amounts come as numbers or as strings ("50000", "50000.0") depending on the account.
    low, high = ordered_range(to_decimal(salary.get("min")), to_decimal(salary.get("max")))
    if low is None and high is None:
        return None, None, "", ""
    period = clean_text(salary.get("period")).lower()
    return low, high, currency_code(salary.get("currency")), _INTERVALS.get(period, "")


adapter = RecruiteeAdapter()
