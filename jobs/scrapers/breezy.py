"""Breezy HR careers site: `GET https://{company}.breezy.hr/json`, a JSON array of every
published position (no descriptions: those are only on each position's page)."""

from __future__ import annotations

from typing import Any

from jobs.postings import Posting
from jobs.scrapers.base import (
    as_dict,
    build_url,
    clean_text,
    employment_type,
    infer_workplace,
    join_unique,
    parse_datetime,
    parse_each,
    require_dict,
    require_list,
    required_id,
    required_text,
    required_url,
)
from jobs.scrapers.http import HttpClient
from jobs.scrapers.remotive import parse_salary
from jobs.vocabulary import Workplace


def host_base(token: str) -> str:
    return f"https://{token.lower()}.breezy.hr"


class BreezyAdapter:
    kind: str = "breezy"
    complete: bool = True

    def endpoint(self, token: str, api_url: str | None) -> str:
        return build_url(host_base(token), api_url, "/json")

    async def fetch(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        return [await client.get_json(self.endpoint(token, api_url))]

    def parse(self, payloads: list[Any], *, company: str) -> list[Posting]:
        positions = [p for page in payloads for p in require_list(page, "Breezy positions")]
        return parse_each(positions, lambda p: _posting(p, company), where="Breezy")


def _posting(raw: Any, company: str) -> Posting:
    position = require_dict(raw, "position")
    places = _places(position)
    remote = any(
        as_dict(loc).get("is_remote") is True
        for loc in [position.get("location"), *_list(position.get("locations"))]
    )
    salary = parse_salary(position.get("salary"))
    url = required_url(position, "url")
    return Posting(
        external_id=required_id(position),
        title=required_text(position, "name"),
        company=clean_text(as_dict(position.get("company")).get("name")) or company,
        url=url,
        location=join_unique(places),
        workplace=Workplace.REMOTE if remote else infer_workplace(places),
        department=clean_text(position.get("department")),
        employment_type=employment_type(as_dict(position.get("type")).get("name")),
        apply_url=url.rstrip("/") + "/apply",
        salary_min=salary.min,
        salary_max=salary.max,
        salary_currency=salary.currency,
        salary_interval=salary.interval,
        posted_at=parse_datetime(position.get("published_date")),
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _places(position: dict[str, Any]) -> list[str]:
    locations = _list(position.get("locations")) or [position.get("location")]
    return [_place_name(as_dict(loc)) for loc in locations]


def _place_name(location: dict[str, Any]) -> str:
    name = clean_text(location.get("name"))
    if name:
        return name
    return join_unique(
        [
            clean_text(location.get("city")),
            clean_text(as_dict(location.get("state")).get("name")),
            clean_text(as_dict(location.get("country")).get("name")),
        ],
        sep=", ",
    )


adapter = BreezyAdapter()
