"""Greenhouse Job Board API: `GET /v1/boards/{token}/jobs?content=true`, one page with every
open job on the board."""

from __future__ import annotations

from typing import Any

from jobs.postings import Posting
from jobs.scrapers import fields
from jobs.scrapers.board import Board

# Greenhouse has no employment-type field; boards that publish one do so as custom metadata.
_EMPLOYMENT_METADATA = {"employment type", "employment_type", "job type", "commitment"}


class GreenhouseAdapter(Board):
    kind = "greenhouse"
    vendor = "Greenhouse"
    base_url = "https://boards-api.greenhouse.io"

    # content=true adds the description, departments and offices to each job.
    path_template = "/v1/boards/{token}/jobs?content=true"

    def posting(self, raw: Any, company: str) -> Posting:
        return _posting(raw, company)


def _posting(raw: Any, company: str) -> Posting:
    job = fields.require_dict(raw, "job")
    location = fields.clean_text(fields.as_dict(job.get("location")).get("name"))
    offices = _named(job.get("offices"))
    return Posting(
        external_id=fields.required_id(job),
        title=fields.required_text(job, "title"),
        company=fields.clean_text(job.get("company_name")) or company,
        url=fields.required_url(job, "absolute_url"),
        location=location or fields.join_unique(offices),
        workplace=fields.infer_workplace([location, *offices]),
        department=fields.join_unique(_named(job.get("departments")), sep=", "),
        employment_type=_employment_type(job.get("metadata")),
        description_html=fields.unescape_html(job.get("content")),
        posted_at=fields.parse_datetime(job.get("first_published"))
        or fields.parse_datetime(job.get("updated_at")),
    )


def _named(value: Any) -> list[str]:
    """The `name`s of an optional list of `{"name": ...}` objects (departments, offices)."""
    items = value if isinstance(value, list) else []
    return [fields.clean_text(fields.as_dict(item).get("name")) for item in items]


def _employment_type(metadata: Any) -> str:
    # `metadata` is null unless the board defines custom fields.
    if not isinstance(metadata, list):
        return ""
    for field in map(fields.as_dict, metadata):
        if fields.clean_text(field.get("name")).lower() in _EMPLOYMENT_METADATA:
            value = field.get("value")
            return fields.employment_type(value[0] if isinstance(value, list) and value else value)
    return ""


adapter = GreenhouseAdapter()
