"""BambooHR careers site: `GET https://{company}.bamboohr.com/careers/list` lists the open
jobs; `GET /careers/{id}/detail` gives each one's description, posting date and pay."""

from __future__ import annotations

from typing import Any

from jobs.postings import Posting
from jobs.scrapers import fields
from jobs.scrapers.base import BoardNotFound, build_url, parse_each, path_segment
from jobs.scrapers.board import Board
from jobs.scrapers.http import HttpClient
from jobs.scrapers.remotive import parse_salary
from jobs.vocabulary import Workplace

# BambooHR's locationType: 0 on-site, 1 remote, 2 hybrid.
_LOCATION_TYPES = {"0": Workplace.ONSITE, "1": Workplace.REMOTE, "2": Workplace.HYBRID}


class BambooHRAdapter(Board):
    kind = "bamboohr"
    vendor = "BambooHR"
    base_url = "https://{token}.bamboohr.com"

    path_template = "/careers/list"

    def detail_url(self, token: str, api_url: str | None, job_id: str) -> str:
        return build_url(self.base(token), api_url, f"/careers/{path_segment(job_id)}/detail")

    async def fetch(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        """One envelope: the list and each job's detail by id."""
        listing = await client.get_json(self.endpoint(token, api_url))
        result = fields.as_dict(listing).get("result")
        details: dict[str, Any] = {}
        for item in map(fields.as_dict, result if isinstance(result, list) else []):
            job_id = item.get("id")
            if isinstance(job_id, bool) or not isinstance(job_id, str | int) or not str(job_id):
                continue  # parse() reports it
            try:
                details[str(job_id)] = await client.get_json(
                    self.detail_url(token, api_url, str(job_id))
                )
            except BoardNotFound:
                continue  # closed since the list was read: the list entry stays
        return [{"token": token, "list": listing, "details": details}]

    async def fetch_preview(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        """The list only, without details: enough to count and show."""
        listing = await client.get_json(self.endpoint(token, api_url))
        return [{"token": token, "list": listing, "details": {}}]

    def parse(self, payloads: list[Any], *, company: str) -> list[Posting]:
        postings: list[Posting] = []
        for raw in payloads:
            envelope = fields.require_dict(raw, "BambooHR fetch")
            token = fields.clean_text(envelope.get("token"))
            items = fields.jobs_list(envelope.get("list"), "result", "BambooHR list")
            postings += _parse_items(items, fields.as_dict(envelope.get("details")), token, company)
        return postings


def _parse_items(
    items: list[Any], details: dict[str, Any], token: str, company: str
) -> list[Posting]:
    return parse_each(items, lambda item: _posting(item, details, token, company), where="BambooHR")


def _posting(raw: Any, details: dict[str, Any], token: str, company: str) -> Posting:
    item = fields.require_dict(raw, "job")
    job_id = fields.required_id(item)
    opening = fields.as_dict(
        fields.as_dict(fields.as_dict(details.get(job_id)).get("result")).get("jobOpening")
    )
    job = {**item, **opening}
    place = _place(job)
    salary = parse_salary(job.get("compensation"))
    url = fields.web_url(job.get("jobOpeningShareUrl")) or f"{adapter.base(token)}/careers/{job_id}"
    stated = _LOCATION_TYPES.get(fields.clean_text(str(job.get("locationType") or "")))
    if job.get("isRemote") is True:
        stated = Workplace.REMOTE
    return Posting(
        external_id=job_id,
        title=fields.required_text(job, "jobOpeningName"),
        company=company,
        url=url,
        location=place,
        workplace=stated or fields.infer_workplace([place]),
        department=fields.clean_text(job.get("departmentLabel")),
        employment_type=fields.employment_type(job.get("employmentStatusLabel")),
        description_html=fields.html_text(job.get("description")),
        apply_url=url,
        **salary.posting_fields(),
        posted_at=fields.parse_datetime(job.get("datePosted")),
    )


def _place(job: dict[str, Any]) -> str:
    ats = fields.as_dict(job.get("atsLocation"))
    location = fields.as_dict(job.get("location"))
    return fields.join_unique(
        [
            fields.clean_text(ats.get("city") or location.get("city")),
            fields.clean_text(ats.get("state") or ats.get("province") or location.get("state")),
            fields.clean_text(ats.get("country")),
        ],
        sep=", ",
    )


adapter = BambooHRAdapter()
