"""Ashby public posting API: `GET /posting-api/job-board/{name}?includeCompensation=true`,
one page with every job on the board. Ashby's payloads carry no company name, so the
source's display name is used."""

from __future__ import annotations

import re
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
    path_segment,
    require_dict,
    required_id,
    required_text,
    required_url,
    stated_workplace,
    to_decimal,
    web_url,
)
from jobs.scrapers.http import HttpClient
from jobs.vocabulary import Workplace

DEFAULT_BASE = "https://api.ashbyhq.com"

# Compensation intervals read "1 YEAR", "1 HOUR", ...; any other multiple has no equivalent.
_INTERVAL = re.compile(r"1 (HOUR|DAY|WEEK|MONTH|YEAR)")


class AshbyAdapter:
    kind: str = "ashby"
    complete: bool = True

    def endpoint(self, token: str, api_url: str | None) -> str:
        # Without includeCompensation the payload has no pay at all.
        path = f"/posting-api/job-board/{path_segment(token)}?includeCompensation=true"
        return build_url(DEFAULT_BASE, api_url, path)

    async def fetch(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        return [await client.get_json(self.endpoint(token, api_url))]

    def parse(self, payloads: list[Any], *, company: str) -> list[Posting]:
        jobs = [job for payload in payloads for job in jobs_list(payload, "jobs", "Ashby")]
        return parse_each(jobs, lambda job: _posting(job, company), where="Ashby")


def _posting(raw: Any, company: str) -> Posting | None:
    job = require_dict(raw, "job")
    external_id = required_id(job)
    # Unlisted jobs are reachable by link only: the company is not advertising them.
    if job.get("isListed") is False:
        return None
    locations = _locations(job)
    low, high, currency, interval = _salary(job.get("compensation"))
    return Posting(
        external_id=external_id,
        title=required_text(job, "title"),
        company=company,
        url=required_url(job, "jobUrl"),
        location=join_unique(locations),
        workplace=_workplace(job, locations),
        department=clean_text(job.get("department")) or clean_text(job.get("team")),
        employment_type=employment_type(job.get("employmentType")),
        description_html=html_text(job.get("descriptionHtml")),
        apply_url=web_url(job.get("applyUrl")),
        salary_min=low,
        salary_max=high,
        salary_currency=currency,
        salary_interval=interval,
        posted_at=parse_datetime(job.get("publishedAt")),
    )


def _locations(job: dict[str, Any]) -> list[str]:
    secondary = job.get("secondaryLocations")
    others = secondary if isinstance(secondary, list) else []
    return [
        clean_text(job.get("location")),
        *(clean_text(as_dict(item).get("location")) for item in others),
    ]


def _workplace(job: dict[str, Any], locations: list[str]) -> str:
    stated = stated_workplace(job.get("workplaceType"))
    if stated:
        return stated
    # Older boards have only the isRemote flag.
    if job.get("isRemote") is True:
        return Workplace.REMOTE
    return infer_workplace(locations)


def _salary(value: Any) -> tuple[Decimal | None, Decimal | None, str, str]:
    components = as_dict(value).get("summaryComponents")
    for component in map(as_dict, components if isinstance(components, list) else []):
        if component.get("compensationType") != "Salary":
            continue  # equity, bonus and commission are not pay bands
        low, high = ordered_range(
            to_decimal(component.get("minValue")), to_decimal(component.get("maxValue"))
        )
        if low is None and high is None:
            continue
        match = _INTERVAL.fullmatch(clean_text(component.get("interval")).upper())
        interval = match.group(1).lower() if match else ""
        return low, high, currency_code(component.get("currencyCode")), interval
    return None, None, "", ""


adapter = AshbyAdapter()
