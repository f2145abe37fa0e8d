"""Workable's public widget API: `GET /api/v1/widget/accounts/{subdomain}?details=true`, one
answer with the account's name and every published job (with its description)."""

from __future__ import annotations

from typing import Any

from jobs.postings import Posting
from jobs.scrapers import fields
from jobs.scrapers.base import parse_each
from jobs.scrapers.board import Board


class WorkableAdapter(Board):
    kind = "workable"
    vendor = "Workable"
    base_url = "https://apply.workable.com"

    # details=true adds each job's description.
    path_template = "/api/v1/widget/accounts/{token}?details=true"

    def parse(self, payloads: list[Any], *, company: str) -> list[Posting]:
        postings: list[Posting] = []
        for payload in payloads:
            name = (
                fields.clean_text(fields.require_dict(payload, "Workable account").get("name"))
                or company
            )
            jobs = fields.jobs_list(payload, "jobs", "Workable")
            postings += _parse_jobs(jobs, name)
        return postings


def _parse_jobs(jobs: list[Any], company: str) -> list[Posting]:
    return parse_each(jobs, lambda job: _posting(job, company), where="Workable")


def _posting(raw: Any, company: str) -> Posting:
    job = fields.require_dict(raw, "job")
    places = _places(job)
    return Posting(
        external_id=fields.required_id(job, "shortcode"),
        title=fields.required_text(job, "title"),
        company=company,
        url=fields.required_url(job, "url")
        if job.get("url")
        else fields.required_url(job, "shortlink"),
        location=fields.join_unique(places),
        workplace=fields.workplace(
            places, stated=job.get("workplace"), remote=job.get("telecommuting")
        ),
        department=fields.clean_text(job.get("department"))
        or fields.clean_text(job.get("function")),
        employment_type=fields.employment_type(job.get("employment_type")),
        description_html=fields.html_text(job.get("description")),
        apply_url=fields.web_url(job.get("application_url")),
        posted_at=fields.parse_datetime(job.get("published_on"))
        or fields.parse_datetime(job.get("created_at")),
    )


def _places(job: dict[str, Any]) -> list[str]:
    """Every visible location as "City, Region, Country"; the job's own fields if none."""
    listed = job.get("locations")
    places = [
        fields.join_unique(
            [
                fields.clean_text(loc.get("city")),
                fields.clean_text(loc.get("region")),
                fields.clean_text(loc.get("country")),
            ],
            sep=", ",
        )
        for loc in map(fields.as_dict, listed if isinstance(listed, list) else [])
        if loc.get("hidden") is not True
    ]
    if not any(places):
        places = [
            fields.join_unique(
                [fields.clean_text(job.get(key)) for key in ("city", "state", "country")], sep=", "
            )
        ]
    return places


adapter = WorkableAdapter()
