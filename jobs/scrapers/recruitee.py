"""Recruitee careers site API: `GET https://{company}.recruitee.com/api/offers/`, one answer
with every published offer. The company's subdomain is the token; with an api_url the same
path is asked of that host."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from jobs.postings import Posting
from jobs.scrapers import fields
from jobs.scrapers.board import Board

_INTERVALS = {
    "hour": "hour", "hourly": "hour", "day": "day", "daily": "day", "week": "week",
    "weekly": "week", "month": "month", "monthly": "month", "year": "year", "yearly": "year",
    "annual": "year", "annually": "year",
}  # fmt: skip
# Recruitee writes some dates as "2025-10-01 09:30:12 UTC", others as ISO 8601.
_UTC_SUFFIX = re.compile(r"\s*UTC$", re.IGNORECASE)


class RecruiteeAdapter(Board):
    kind = "recruitee"
    vendor = "Recruitee"
    base_url = "https://{token}.recruitee.com"
    jobs_key = "offers"

    path_template = "/api/offers/"

    def posting(self, raw: Any, company: str) -> Posting | None:
        return _posting(raw, company)


def _posting(raw: Any, company: str) -> Posting | None:
    offer = fields.require_dict(raw, "offer")
    external_id = fields.required_id(offer)
    status = fields.clean_text(offer.get("status"))
    if status and status != "published":
        return None  # drafts and closed offers are not on the careers site
    places = _places(offer)
    salary = _salary(offer.get("salary"))
    return Posting(
        external_id=external_id,
        title=fields.required_text(offer, "title"),
        company=fields.clean_text(offer.get("company_name")) or company,
        url=fields.required_url(offer, "careers_url"),
        location=fields.join_unique(places),
        workplace=fields.workplace(
            places,
            remote=offer.get("remote"),
            hybrid=offer.get("hybrid"),
            onsite=offer.get("on_site"),
        ),
        department=fields.clean_text(offer.get("department")),
        employment_type=_employment_type(offer),
        description_html="\n".join(
            part
            for part in (
                fields.html_text(offer.get("description")),
                fields.html_text(offer.get("requirements")),
            )
            if part.strip()
        ),
        apply_url=fields.web_url(offer.get("careers_apply_url")),
        **salary.posting_fields(),
        posted_at=recruitee_datetime(offer.get("published_at"))
        or recruitee_datetime(offer.get("created_at")),
    )


def recruitee_datetime(value: object) -> datetime | None:
    """Both of Recruitee's spellings: "2025-10-01 09:30:12 UTC" and ISO 8601."""
    if isinstance(value, str):
        value = _UTC_SUFFIX.sub("+00:00", value.strip()) if _UTC_SUFFIX.search(value) else value
    return fields.parse_datetime(value)


def _places(offer: dict[str, Any]) -> list[str]:
    listed = offer.get("locations")
    names = [
        fields.clean_text(loc.get("name"))
        or fields.join_unique(
            [fields.clean_text(loc.get("city")), fields.clean_text(loc.get("country"))], sep=", "
        )
        for loc in map(fields.as_dict, listed if isinstance(listed, list) else [])
    ]
    if any(names):
        return names
    return [
        fields.clean_text(offer.get("location"))
        or fields.join_unique(
            [fields.clean_text(offer.get("city")), fields.clean_text(offer.get("country"))],
            sep=", ",
        )
    ]


def _employment_type(offer: dict[str, Any]) -> str:
    # "fulltime_permanent", "parttime_fixed_term", "internship", ...: the kind comes first.
    code = fields.clean_text(offer.get("employment_type_code")).split("_")[0]
    return fields.employment_type(code) if code else ""


def _salary(value: Any) -> fields.Salary:
    band = fields.as_dict(value)
    # Amounts come as numbers or as strings ("50000", "50000.0") depending on the account.
    interval = _INTERVALS.get(fields.clean_text(band.get("period")).lower(), "")
    return fields.salary(band.get("min"), band.get("max"), band.get("currency"), interval)


adapter = RecruiteeAdapter()
