"""Workday career sites: the `cxs` JSON API behind `{tenant}.{wdN}.myworkdayjobs.com`.

- List: `POST /wday/cxs/{tenant}/{site}/jobs` with `{"limit", "offset", "appliedFacets",
  "searchText"}`. Workday answers HTTP 400 to a `limit` above 20, gives `total` on the first
  page only (later pages say 0), and serves no job past offset 2,000.
- Detail: `GET /wday/cxs/{tenant}/{site}{externalPath}` for the description, the requisition
  id, the start date, the time type and the hiring organisation.

The token is `{tenant}.{wdN}/{site}` (e.g. `acme.wd5/External`). A board with more than 2,000
jobs cannot be listed whole, so such a fetch is marked incomplete and no job is closed for
missing from it.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from jobs.postings import Posting
from jobs.scrapers import fields
from jobs.scrapers.base import BoardNotFound, PayloadError, build_url, parse_each, path_segment
from jobs.scrapers.board import Board
from jobs.scrapers.http import HttpClient
from jobs.vocabulary import Workplace

PAGE_SIZE = 20  # Workday's maximum: a larger limit is an HTTP 400
MAX_OFFSET = 2000  # Workday serves nothing past this offset
TOKEN = re.compile(r"(?P<tenant>[A-Za-z0-9_-]+)\.(?P<wd>[wW][dD]\d{1,3})/(?P<site>[A-Za-z0-9_.-]+)")

_POSTED = re.compile(
    r"posted\s+(?:(?P<today>today)|(?P<yesterday>yesterday)|(?P<days>\d+)(?P<plus>\+)?\s+days?\s+ago)",
    re.IGNORECASE,
)


def split_token(token: str) -> tuple[str, str, str]:
    """(tenant, wdN, site) of a `{tenant}.{wdN}/{site}` token, or ValueError."""
    match = TOKEN.fullmatch(token)
    if not match:
        raise ValueError(
            f"workday token {token!r} should read TENANT.wdN/SITE, e.g. acme.wd5/External"
        )
    return match["tenant"], match["wd"].lower(), match["site"]


def board_url(token: str) -> str:
    tenant, wd, site = split_token(token)
    return f"https://{tenant.lower()}.{wd}.myworkdayjobs.com/{site}"


class WorkdayAdapter(Board):
    kind = "workday"
    vendor = "Workday"

    def __init__(self, *, page_size: int = PAGE_SIZE, max_offset: int = MAX_OFFSET) -> None:
        self.page_size = min(page_size, PAGE_SIZE)
        self.max_offset = max_offset

    def base(self, token: str) -> str:
        tenant, wd, _site = split_token(token)
        return f"https://{tenant.lower()}.{wd}.myworkdayjobs.com"

    def _site_path(self, token: str) -> str:
        tenant, _wd, site = split_token(token)
        return f"/wday/cxs/{path_segment(tenant)}/{path_segment(site)}"

    def path(self, token: str) -> str:
        return self._site_path(token) + "/jobs"

    def detail_url(self, token: str, api_url: str | None, external_path: str) -> str:
        return build_url(self.base(token), api_url, self._site_path(token) + external_path)

    async def fetch(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        """One envelope: every list page, each job's detail, and when it was fetched (the
        list's dates are relative to that)."""
        url = self.endpoint(token, api_url)
        fetched_at = datetime.now(UTC)
        pages: list[Any] = []
        total: int | None = None
        offset = 0
        while offset < self.max_offset:
            body = {
                "appliedFacets": {},
                "limit": self.page_size,
                "offset": offset,
                "searchText": "",
            }
            page = await client.post_json(url, body)
            pages.append(page)
            postings = fields.as_dict(page).get("jobPostings")
            if not isinstance(postings, list) or not postings:
                break
            if total is None:
                total = _int(fields.as_dict(page).get("total"))
            offset += len(postings)
            if total is not None and offset >= total:
                break
        details: dict[str, Any] = {}
        for path in _external_paths(pages):
            try:
                details[path] = await client.get_json(self.detail_url(token, api_url, path))
            except BoardNotFound:
                # Closed between the list and its detail: the list entry is still shown.
                continue
        return [
            {
                "token": token,
                "fetched_at": fetched_at.isoformat(),
                "pages": pages,
                "details": details,
                "total": total,
            }
        ]

    async def fetch_preview(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        """The first page and its first job's detail (which names the company): enough to
        count (the page's `total`) and show, in two requests."""
        body = {"appliedFacets": {}, "limit": self.page_size, "offset": 0, "searchText": ""}
        page = await client.post_json(self.endpoint(token, api_url), body)
        details: dict[str, Any] = {}
        for path in _external_paths([page])[:1]:
            with contextlib.suppress(BoardNotFound):
                details[path] = await client.get_json(self.detail_url(token, api_url, path))
        return [
            {
                "token": token,
                "fetched_at": datetime.now(UTC).isoformat(),
                "pages": [page],
                "details": details,
                "total": _int(fields.as_dict(page).get("total")),
            }
        ]

    def declared_total(self, payloads: list[Any]) -> int | None:
        totals = [_int(fields.as_dict(envelope).get("total")) for envelope in payloads]
        return (
            sum(t for t in totals if t is not None) if any(t is not None for t in totals) else None
        )

    def is_complete(self, payloads: list[Any]) -> bool:
        """False when the board has more jobs than Workday lets anyone page through."""
        for envelope in payloads:
            total = _int(fields.as_dict(envelope).get("total"))
            if total is not None and total > self.max_offset:
                return False
        return True

    def parse(self, payloads: list[Any], *, company: str) -> list[Posting]:
        return [posting for raw in payloads for posting in _parse_envelope(raw, company)]


def _parse_envelope(raw: Any, company: str) -> list[Posting]:
    envelope = fields.require_dict(raw, "Workday fetch")
    token = fields.clean_text(envelope.get("token"))
    fetched_at = fields.parse_datetime(envelope.get("fetched_at")) or datetime.now(UTC)
    details = fields.as_dict(envelope.get("details"))
    items = [
        item
        for page in fields.require_list(envelope.get("pages"), "Workday pages")
        for item in _page_items(page)
    ]
    return parse_each(
        items,
        lambda item: _posting(item, details, token, company, fetched_at),
        where="Workday",
    )


def _page_items(page: Any) -> list[Any]:
    postings = fields.require_dict(page, "Workday page").get("jobPostings")
    if postings is None:
        return []
    return fields.require_list(postings, "Workday page 'jobPostings'")


def _external_paths(pages: list[Any]) -> list[str]:
    paths: dict[str, None] = {}
    for page in pages:
        postings = fields.as_dict(page).get("jobPostings")
        for item in map(fields.as_dict, postings if isinstance(postings, list) else []):
            path = _external_path(item)
            if path:
                paths.setdefault(path, None)
    return list(paths)


def _external_path(item: dict[str, Any]) -> str:
    path = fields.clean_text(item.get("externalPath"))
    # A path of our own choosing would let a board aim requests anywhere on the host.
    return path if re.fullmatch(r"/job/[^?#\s]+", path) and ".." not in path else ""


def _posting(
    raw: Any, details: dict[str, Any], token: str, company: str, fetched_at: datetime
) -> Posting:
    item = fields.require_dict(raw, "job")
    path = _external_path(item)
    if not path:
        raise PayloadError("'externalPath' is missing or not a /job/... path")
    detail = fields.as_dict(details.get(path))
    info = fields.as_dict(detail.get("jobPostingInfo"))
    locations = [
        fields.clean_text(info.get("location")),
        *fields.strings(info.get("additionalLocations")),
    ]
    if not any(locations):
        locations = [fields.clean_text(item.get("locationsText"))]
    stated = _workplace(info.get("remoteType") or item.get("remoteType"))
    url = fields.web_url(info.get("externalUrl")) or f"{board_url(token)}{path}"
    return Posting(
        external_id=path,
        title=fields.clean_text(info.get("title")) or fields.required_text(item, "title"),
        company=fields.clean_text(fields.as_dict(detail.get("hiringOrganization")).get("name"))
        or company,
        url=url,
        location=fields.join_unique(locations),
        workplace=stated or fields.infer_workplace(locations, concrete_is_onsite=False),
        employment_type=fields.employment_type(info.get("timeType")),
        description_html=fields.html_text(info.get("jobDescription")),
        # Workday's application starts at the job page's /apply.
        apply_url=f"{url.rstrip('/')}/apply" if info.get("canApply") is True else "",
        posted_at=fields.parse_datetime(info.get("startDate"))
        or posted_on(info.get("postedOn") or item.get("postedOn"), fetched_at),
    )


def _workplace(value: object) -> Workplace | None:
    # Workday's remoteType: "Remote", "Hybrid", "On-site", and some tenants' "Flexible".
    if fields.clean_text(value).lower() == "flexible":
        return Workplace.HYBRID
    return fields.stated_workplace(value)


def posted_on(value: object, now: datetime) -> datetime | None:
    """The day a job was posted, from Workday's "Posted Today", "Posted Yesterday", "Posted 3
    Days Ago". "Posted 30+ Days Ago" says only "long ago": None rather than a wrong date that
    would drift a day each scrape. Days start at midnight UTC, so a date read on two days
    of one week is the same date."""
    match = _POSTED.search(fields.clean_text(value))
    if not match or match["plus"]:
        return None
    days = 0 if match["today"] else 1 if match["yesterday"] else int(match["days"])
    day = (now.astimezone(UTC) - timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


adapter = WorkdayAdapter()
