"""SmartRecruiters Posting API: `GET /v1/companies/{id}/postings?limit=100&offset=N` pages
through a company's public postings (`totalFound` says how many), and
`GET /v1/companies/{id}/postings/{postingId}` gives each one's job ad and links."""

from __future__ import annotations

from html import escape
from typing import Any

from jobs.postings import Posting
from jobs.scrapers import fields
from jobs.scrapers.base import BoardNotFound, PayloadError, parse_each, path_segment
from jobs.scrapers.board import PagedBoard
from jobs.scrapers.http import HttpClient

# The job ad's sections, in the order the posting page shows them.
_SECTIONS = ("companyDescription", "jobDescription", "qualifications", "additionalInformation")


class SmartRecruitersAdapter(PagedBoard):
    kind = "smartrecruiters"
    vendor = "SmartRecruiters"
    base_url = "https://api.smartrecruiters.com"
    path_template = "/v1/companies/{token}/postings"
    # Pages of 100 (PagedBoard's default) are the API's maximum.

    def _page(self, offset: int) -> dict[str, int]:
        return {"limit": self.page_size, "offset": offset}

    def _listed_all(self, pages: list[Any]) -> bool:
        content = fields.as_dict(pages[-1]).get("content")
        if not isinstance(content, list) or not content or len(content) < self.page_size:
            return True
        total = fields.as_dict(pages[-1]).get("totalFound")
        seen = sum(len(fields.as_dict(page).get("content") or []) for page in pages)
        return not isinstance(total, int) or seen >= total

    async def fetch(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        """One envelope: the list pages and each posting's detail by id."""
        url = self.endpoint(token, api_url)
        pages = await self.pages(
            client,
            url,
            lambda offset: {"limit": self.page_size, "offset": offset},
            self._listed_all,
        )
        details: dict[str, Any] = {}
        for posting_id in _ids(pages):
            try:
                details[posting_id] = await client.get_json(f"{url}/{path_segment(posting_id)}")
            except BoardNotFound:
                continue  # withdrawn since the list was read: the list entry stays
        return [{"pages": pages, "details": details}]

    async def fetch_preview(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        """The first page only, without details: enough to count (`totalFound`) and show."""
        page = await client.get_json(self.endpoint(token, api_url), params=self._page(0))
        return [{"pages": [page], "details": {}}]

    def declared_total(self, payloads: list[Any]) -> int | None:
        for envelope in payloads:
            pages = fields.as_dict(envelope).get("pages")
            if isinstance(pages, list) and pages:
                total = fields.as_dict(pages[0]).get("totalFound")
                if isinstance(total, int) and not isinstance(total, bool):
                    return total
        return None

    def parse(self, payloads: list[Any], *, company: str) -> list[Posting]:
        postings: list[Posting] = []
        for raw in payloads:
            envelope = fields.require_dict(raw, "SmartRecruiters fetch")
            details = fields.as_dict(envelope.get("details"))
            pages = envelope.get("pages")
            items = [
                item
                for page in (pages if isinstance(pages, list) else [])
                for item in fields.jobs_list(page, "content", "SmartRecruiters page")
            ]
            postings += _parse_items(items, details, company)
        return postings


def _parse_items(items: list[Any], details: dict[str, Any], company: str) -> list[Posting]:
    return parse_each(items, lambda item: _posting(item, details, company), where="SmartRecruiters")


def _ids(pages: list[Any]) -> list[str]:
    ids: dict[str, None] = {}
    for page in pages:
        content = fields.as_dict(page).get("content")
        for item in map(fields.as_dict, content if isinstance(content, list) else []):
            value = item.get("id")
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                ids.setdefault(str(value), None)
    return list(ids)


def _posting(raw: Any, details: dict[str, Any], company: str) -> Posting:
    item = fields.require_dict(raw, "posting")
    posting_id = fields.required_id(item)
    detail = fields.as_dict(details.get(posting_id))
    merged = {**item, **detail}
    location = fields.as_dict(merged.get("location"))
    place = fields.clean_text(location.get("fullLocation")) or fields.join_unique(
        [
            fields.clean_text(location.get("city")),
            fields.clean_text(location.get("region")),
            fields.clean_text(location.get("country")).upper(),
        ],
        sep=", ",
    )
    url = fields.web_url(merged.get("postingUrl"))
    if not url:
        slug = fields.clean_text(fields.as_dict(merged.get("company")).get("identifier"))
        if not slug:
            raise PayloadError("neither 'postingUrl' nor 'company.identifier' is given")
        url = f"https://jobs.smartrecruiters.com/{path_segment(slug)}/{path_segment(posting_id)}"
    return Posting(
        external_id=posting_id,
        title=fields.required_text(merged, "name"),
        company=fields.clean_text(fields.as_dict(merged.get("company")).get("name")) or company,
        url=url,
        location=place,
        # Both flags false is how most postings read, on-site or not: only a place name says so.
        workplace=fields.workplace(
            [place], remote=location.get("remote"), hybrid=location.get("hybrid")
        ),
        department=fields.clean_text(fields.as_dict(merged.get("department")).get("label"))
        or fields.clean_text(fields.as_dict(merged.get("function")).get("label")),
        employment_type=fields.employment_type(
            fields.as_dict(merged.get("typeOfEmployment")).get("label")
        ),
        description_html=_job_ad(detail),
        apply_url=fields.web_url(merged.get("applyUrl")),
        posted_at=fields.parse_datetime(merged.get("releasedDate")),
    )


def _job_ad(detail: dict[str, Any]) -> str:
    sections = fields.as_dict(fields.as_dict(detail.get("jobAd")).get("sections"))
    parts: list[str] = []
    for name in _SECTIONS:
        section = fields.as_dict(sections.get(name))
        text = fields.html_text(section.get("text"))
        if not text.strip():
            continue
        title = fields.clean_text(section.get("title"))
        if title:
            parts.append(f"<h3>{escape(title)}</h3>")
        parts.append(text)
    return "\n".join(parts)


adapter = SmartRecruitersAdapter()
