"""Workable's public widget API: `GET /api/v1/widget/accounts/{subdomain}?details=true`, one
answer with the account's name and every published job (with its description)."""

from __future__ import annotations

from typing import Any

from jobs.postings import Posting
from jobs.scrapers.base import (
    as_dict,
    build_url,
    clean_text,
    employment_type,
    html_text,
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
    stated_workplace,
    web_url,
)
from jobs.scrapers.http import HttpClient
from jobs.vocabulary import Workplace

DEFAULT_BASE = "https://apply.workable.com"


class WorkableAdapter:
    kind: str = "workable"
    complete: bool = True

    def endpoint(self, token: str, api_url: str | None) -> str:
        # details=true adds each job's description.
        path = f"/api/v1/widget/accounts/{path_segment(token)}?details=true"
        return build_url(DEFAULT_BASE, api_url, path)

    async def fetch(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        return [await client.get_json(self.endpoint(token, api_url))]

    def parse(self, payloads: list[Any], *, company: str) -> list[Posting]:
        postings: list[Posting] = []
        for payload in payloads:
            name = clean_text(require_dict(payload, "Workable account").get("name")) or company
            jobs = jobs_list(payload, "jobs", "Workable")
            postings += _parse_jobs(jobs, name)
        return postings


def _parse_jobs(jobs: list[Any], company: str) -> list[Posting]:
    return parse_each(jobs, lambda job: _posting(job, company), where="Workable")


def _posting(raw: Any, company: str) -> Posting:
    job = require_dict(raw, "job")
    places = _places(job)
    return Posting(
        external_id=required_id(job, "shortcode"),
        title=required_text(job, "title"),
        company=company,
        url=required_url(job, "url") if job.get("url") else required_url(job, "shortlink"),
        location=join_unique(places),
        workplace=_workplace(job, places),
        department=clean_text(job.get("department")) or clean_text(job.get("function")),
        employment_type=employment_type(job.get("employment_type")),
        description_html=html_text(job.get("description")),
        apply_url=web_url(job.get("application_url")),
        posted_at=parse_datetime(job.get("published_on")) or parse_datetime(job.get("created_at")),
    )


def _places(job: dict[str, Any]) -> list[str]:
    """Every visible location as "City, Region, Country"; the job's own fields if none."""
    listed = job.get("locations")
    places = [
        join_unique(
            [
                clean_text(loc.get("city")),
                clean_text(loc.get("region")),
                clean_text(loc.get("country")),
            ],
            sep=", ",
        )
        for loc in map(as_dict, listed if isinstance(listed, list) else [])
        if loc.get("hidden") is not True
    ]
    if not any(places):
        places = [
            join_unique(
                [clean_text(job.get(key)) for key in ("city", "state", "country")], sep=", "
            )
        ]
    return places


def _workplace(job: dict[str, Any], places: list[str]) -> str:
    stated = stated_workplace(job.get("workplace"))
    if stated:
        return stated
    if job.get("telecommuting") is True:
        return Workplace.REMOTE
    return infer_workplace(places)


adapter = WorkableAdapter()
