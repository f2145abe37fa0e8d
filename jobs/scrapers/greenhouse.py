"""Greenhouse Job Board API: `GET /v1/boards/{token}/jobs?content=true`, one page with every
open job on the board."""

from __future__ import annotations

from typing import Any

from jobs.postings import Posting
from jobs.scrapers.base import (
    as_dict,
    build_url,
    clean_text,
    employment_type,
    infer_workplace,
    jobs_list,
    join_unique,
    parse_datetime,
    parse_each,
    path_segment,
    require_dict,
    required_id,
    required_text,
    required_url,
    unescape_html,
)
from jobs.scrapers.http import HttpClient

DEFAULT_BASE = "https://boards-api.greenhouse.io"

# Greenhouse has no employment-type field; boards that publish one do so as custom metadata.
_EMPLOYMENT_METADATA = {"employment type", "employment_type", "job type", "commitment"}


class GreenhouseAdapter:
    kind: str = "greenhouse"
    complete: bool = True

    def endpoint(self, token: str, api_url: str | None) -> str:
        # content=true adds the description, departments and offices to each job.
        return build_url(
            DEFAULT_BASE, api_url, f"/v1/boards/{path_segment(token)}/jobs?content=true"
        )

    async def fetch(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        return [await client.get_json(self.endpoint(token, api_url))]

    def parse(self, payloads: list[Any], *, company: str) -> list[Posting]:
        jobs = [job for payload in payloads for job in jobs_list(payload, "jobs", "Greenhouse")]
        return parse_each(jobs, lambda job: _posting(job, company), where="Greenhouse")


def _posting(raw: Any, company: str) -> Posting:
    job = require_dict(raw, "job")
    location = clean_text(as_dict(job.get("location")).get("name"))
    offices = _named(job.get("offices"))
    return Posting(
        external_id=required_id(job),
        title=required_text(job, "title"),
        company=clean_text(job.get("company_name")) or company,
        url=required_url(job, "absolute_url"),
        location=location or join_unique(offices),
        workplace=infer_workplace([location, *offices]),
        department=join_unique(_named(job.get("departments")), sep=", "),
        employment_type=_employment_type(job.get("metadata")),
        description_html=unescape_html(job.get("content")),
        posted_at=parse_datetime(job.get("first_published"))
        or parse_datetime(job.get("updated_at")),
    )


def _named(value: Any) -> list[str]:
    """The `name`s of an optional list of `{"name": ...}` objects (departments, offices)."""
    items = value if isinstance(value, list) else []
    return [clean_text(as_dict(item).get("name")) for item in items]


def _employment_type(metadata: Any) -> str:
    # `metadata` is null unless the board defines custom fields.
    if not isinstance(metadata, list):
        return ""
    for field in map(as_dict, metadata):
        if clean_text(field.get("name")).lower() in _EMPLOYMENT_METADATA:
            value = field.get("value")
            return employment_type(value[0] if isinstance(value, list) and value else value)
    return ""


adapter = GreenhouseAdapter()
