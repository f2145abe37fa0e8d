"""Breezy HR careers site: `GET https://{company}.breezy.hr/json`, a JSON array of every
published position (no descriptions: those are only on each position's page)."""

from __future__ import annotations

from typing import Any

from jobs.postings import Posting
from jobs.scrapers import fields
from jobs.scrapers.board import Board
from jobs.scrapers.remotive import parse_salary
from jobs.vocabulary import Workplace


class BreezyAdapter(Board):
    kind = "breezy"
    vendor = "Breezy"
    base_url = "https://{token}.breezy.hr"
    jobs_key = None  # the answer is the list of positions

    path_template = "/json"

    def posting(self, raw: Any, company: str) -> Posting:
        return _posting(raw, company)


def _posting(raw: Any, company: str) -> Posting:
    position = fields.require_dict(raw, "position")
    places = _places(position)
    remote = any(
        fields.as_dict(loc).get("is_remote") is True
        for loc in [position.get("location"), *_list(position.get("locations"))]
    )
    salary = parse_salary(position.get("salary"))
    url = fields.required_url(position, "url")
    return Posting(
        external_id=fields.required_id(position),
        title=fields.required_text(position, "name"),
        company=fields.clean_text(fields.as_dict(position.get("company")).get("name")) or company,
        url=url,
        location=fields.join_unique(places),
        workplace=Workplace.REMOTE if remote else fields.infer_workplace(places),
        department=fields.clean_text(position.get("department")),
        employment_type=fields.employment_type(fields.as_dict(position.get("type")).get("name")),
        apply_url=url.rstrip("/") + "/apply",
        **salary.posting_fields(),
        posted_at=fields.parse_datetime(position.get("published_date")),
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _places(position: dict[str, Any]) -> list[str]:
    locations = _list(position.get("locations")) or [position.get("location")]
    return [_place_name(fields.as_dict(loc)) for loc in locations]


def _place_name(location: dict[str, Any]) -> str:
    name = fields.clean_text(location.get("name"))
    if name:
        return name
    return fields.join_unique(
        [
            fields.clean_text(location.get("city")),
            fields.clean_text(fields.as_dict(location.get("state")).get("name")),
            fields.clean_text(fields.as_dict(location.get("country")).get("name")),
        ],
        sep=", ",
    )


adapter = BreezyAdapter()
