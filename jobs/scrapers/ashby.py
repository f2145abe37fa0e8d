"""Ashby public posting API: `GET /posting-api/job-board/{name}?includeCompensation=true`,
one page with every job on the board. Ashby's payloads carry no company name, so the
source's display name is used."""

from __future__ import annotations

import re
from typing import Any

from jobs.postings import Posting
from jobs.scrapers import fields
from jobs.scrapers.board import Board

# Compensation intervals read "1 YEAR", "1 HOUR", ...; any other multiple has no equivalent.
_INTERVAL = re.compile(r"1 (HOUR|DAY|WEEK|MONTH|YEAR)")


class AshbyAdapter(Board):
    kind = "ashby"
    vendor = "Ashby"
    base_url = "https://api.ashbyhq.com"

    # Without includeCompensation the payload has no pay at all.
    path_template = "/posting-api/job-board/{token}?includeCompensation=true"

    def posting(self, raw: Any, company: str) -> Posting | None:
        return _posting(raw, company)


def _posting(raw: Any, company: str) -> Posting | None:
    job = fields.require_dict(raw, "job")
    external_id = fields.required_id(job)
    # Unlisted jobs are reachable by link only: the company is not advertising them.
    if job.get("isListed") is False:
        return None
    locations = _locations(job)
    salary = _salary(job.get("compensation"))
    return Posting(
        external_id=external_id,
        title=fields.required_text(job, "title"),
        company=company,
        url=fields.required_url(job, "jobUrl"),
        location=fields.join_unique(locations),
        workplace=fields.workplace(
            locations, stated=job.get("workplaceType"), remote=job.get("isRemote")
        ),
        department=fields.clean_text(job.get("department")) or fields.clean_text(job.get("team")),
        employment_type=fields.employment_type(job.get("employmentType")),
        description_html=fields.html_text(job.get("descriptionHtml")),
        apply_url=fields.web_url(job.get("applyUrl")),
        **salary.posting_fields(),
        posted_at=fields.parse_datetime(job.get("publishedAt")),
    )


def _locations(job: dict[str, Any]) -> list[str]:
    secondary = job.get("secondaryLocations")
    others = secondary if isinstance(secondary, list) else []
    return [
        fields.clean_text(job.get("location")),
        *(fields.clean_text(fields.as_dict(item).get("location")) for item in others),
    ]


def _salary(value: Any) -> fields.Salary:
    components = fields.as_dict(value).get("summaryComponents")
    for component in map(fields.as_dict, components if isinstance(components, list) else []):
        if component.get("compensationType") != "Salary":
            continue  # equity, bonus and commission are not pay bands
        match = _INTERVAL.fullmatch(fields.clean_text(component.get("interval")).upper())
        band = fields.salary(
            component.get("minValue"),
            component.get("maxValue"),
            component.get("currencyCode"),
            match.group(1).lower() if match else "",
        )
        if band != fields.NO_SALARY:
            return band
    return fields.NO_SALARY


adapter = AshbyAdapter()
