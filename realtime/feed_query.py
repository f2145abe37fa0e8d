"""The feed page's search, sort and filters as they appear in its URL, translated into the REST
API's job filter (`jobs.api.filters`): the page and the API select jobs with one
implementation, and the page only adds its own defaults (open jobs, no gated-out ones).

The URL holds the whole state, so a reload, a bookmark or the back button shows the same list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from jobs.api.filters import JobFilter, filter_jobs
from jobs.models import Job, JobQuerySet

PAGE_SIZE = 100
MAX_IDS = 200
# The sorts the page offers, in its words (the API has the ascending ones too).
SORTS = {
    "-first_seen": "Newest found",
    "-score": "Best score",
    "-posted_at": "Newest posted",
}
# Check boxes of the page and the API filter value each one sets when ticked.
FLAGS = {
    "remote": ("workplace", "remote"),
    "starred": ("starred", "true"),
    "applied": ("applied", "true"),
}
# Passed to the API filter as they are.
PLAIN = ("q", "ordering", "min_score", "source", "application_status")
# Page-only: what the page leaves out unless asked.
INCLUDES = ("include_closed", "include_gated")
KNOWN = (*PLAIN, *FLAGS, *INCLUDES)


@dataclass
class FeedQuery:
    """One request's feed state: the page's own parameters (for the form and links), the
    validated API filter values, and the errors when some parameter was bad."""

    params: dict[str, str]
    filters: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ordering(self) -> str:
        return str(self.filters.get("ordering") or "-first_seen")

    def jobs(self) -> JobQuerySet:
        return filter_jobs(Job.objects.select_related("source"), self.filters)

    def encoded(self, **changes: str | None) -> str:
        """This state as a query string, with some parameters changed (None drops one)."""
        params = {**self.params, **changes}
        return urlencode({k: v for k, v in params.items() if v not in (None, "")})

    @property
    def is_default(self) -> bool:
        return not self.params


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "on", "yes"}


def feed_query(query: Mapping[str, str]) -> FeedQuery:
    params = {name: query[name].strip() for name in KNOWN if query.get(name, "").strip()}
    if params.get("ordering") == "-first_seen":
        params.pop("ordering")  # the default: keep URLs short
    data: dict[str, str] = {name: params[name] for name in PLAIN if name in params}
    for name, (api_name, value) in FLAGS.items():
        if name in params and _truthy(params[name]):
            data[api_name] = value
    if not _truthy(params.get("include_closed", "")):
        data["status"] = "open"
    if not _truthy(params.get("include_gated", "")):
        data["gated"] = "false"
    if params.get("ordering", "-first_seen") not in SORTS:
        # The page keeps live rows in its order; it knows the orders it offers.
        return FeedQuery(
            params=params, errors={"ordering": [f"Sort by one of: {', '.join(SORTS)}."]}
        )
    checked = JobFilter(data=data)
    if not checked.is_valid():
        # Name the page's own parameter: the API names can differ (remote → workplace).
        api_to_page = {api: page for page, (api, _) in FLAGS.items()}
        errors = {api_to_page.get(k, k): [str(m) for m in v] for k, v in checked.errors.items()}
        return FeedQuery(params=params, errors=errors)
    return FeedQuery(params=params, filters=dict(checked.validated_data))


def parse_ids(text: str) -> list[int]:
    """`ids=1,2,3` of the live-rows request; ValueError when malformed."""
    ids = [int(part) for part in text.split(",") if part.strip()]
    if not ids or len(ids) > MAX_IDS or any(n < 1 for n in ids):
        raise ValueError(f"ids must be 1 to {MAX_IDS} positive job ids, comma-separated")
    return ids
