"""Lever Postings API: `GET /v0/postings/{site}?mode=json&skip=N&limit=100`, paged.

EU-hosted sites live on `https://api.eu.lever.co`: pass it as the source's api_url. Lever's
payloads carry no company name, so the source's display name is used.
"""

from __future__ import annotations

import html
import re
from typing import Any

from jobs.postings import Posting
from jobs.scrapers import fields
from jobs.scrapers.base import parse_each
from jobs.scrapers.board import PagedBoard
from jobs.scrapers.http import HttpClient

# "per-year-salary", "per-month-salary", "per-hour-wage", ...; "one-time" has no interval.
_INTERVAL = re.compile(r"per-(hour|day|week|month|year)-")


class LeverAdapter(PagedBoard):
    kind = "lever"
    vendor = "Lever"
    base_url = "https://api.lever.co"
    path_template = "/v0/postings/{token}?mode=json"

    async def fetch(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        """Every page: a page as long as `limit` may have a successor, a shorter one is last.
        A non-list ends the paging and is left for parse() to report as a changed shape."""
        return await self.pages(
            client,
            self.endpoint(token, api_url),
            lambda offset: {"skip": offset, "limit": self.page_size},
            lambda pages: not isinstance(pages[-1], list) or len(pages[-1]) < self.page_size,
        )

    def parse(self, payloads: list[Any], *, company: str) -> list[Posting]:
        postings = [item for page in payloads for item in fields.require_list(page, "Lever page")]
        return parse_each(postings, lambda item: _posting(item, company), where="Lever")


def _posting(raw: Any, company: str) -> Posting:
    posting = fields.require_dict(raw, "posting")
    categories = fields.as_dict(posting.get("categories"))
    location = fields.clean_text(categories.get("location"))
    all_locations = fields.strings(categories.get("allLocations"))
    salary = _salary(posting.get("salaryRange"))
    return Posting(
        external_id=fields.required_id(posting),
        title=fields.required_text(posting, "text"),
        company=company,
        url=fields.required_url(posting, "hostedUrl"),
        location=fields.join_unique([location, *all_locations]),
        # "unspecified": a city alone does not say the job is on-site, but "Remote" does say remote.
        workplace=fields.workplace(
            [location, *all_locations],
            stated=posting.get("workplaceType"),
            concrete_is_onsite=False,
        ),
        department=fields.clean_text(categories.get("department"))
        or fields.clean_text(categories.get("team")),
        employment_type=fields.employment_type(categories.get("commitment")),
        description_html=_description(posting),
        apply_url=fields.web_url(posting.get("applyUrl")),
        **salary.posting_fields(),
        posted_at=fields.from_epoch_ms(posting.get("createdAt")),
    )


def _description(posting: dict[str, Any]) -> str:
    """Lever splits a posting into a description, titled lists of <li> items and a closing
    `additional` section; the job page shows them in that order."""
    parts = [fields.html_text(posting.get("description"))]
    lists = posting.get("lists")
    for section in map(fields.as_dict, lists if isinstance(lists, list) else []):
        heading = fields.clean_text(section.get("text"))
        items = fields.html_text(section.get("content"))
        if heading:
            parts.append(f"<h3>{html.escape(heading)}</h3>")
        if items:
            parts.append(f"<ul>{items}</ul>")
    parts.append(fields.html_text(posting.get("additional")))
    return "\n".join(part for part in parts if part.strip())


def _salary(value: Any) -> fields.Salary:
    band = fields.as_dict(value)
    match = _INTERVAL.match(fields.clean_text(band.get("interval")))
    interval = match.group(1) if match else ""
    return fields.salary(band.get("min"), band.get("max"), band.get("currency"), interval)


adapter = LeverAdapter()
