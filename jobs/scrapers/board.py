"""The skeleton of an adapter: where the board is, how it is fetched, how its jobs are listed.

Most vendors answer one JSON GET with every job of the board in a list; an adapter for such a
vendor only says where (`base_url`, `path_template`), under which key the jobs are
(`jobs_key`) and how one job becomes a `Posting` (`posting`). Vendors with pages, details or
another format override `fetch` and `parse` and keep the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jobs.postings import Posting
from jobs.scrapers import fields
from jobs.scrapers.base import PayloadError, build_url, parse_each, path_segment
from jobs.scrapers.http import HttpClient


class Board:
    kind: str
    # How messages name the vendor ("Greenhouse"): in errors and skipped-job reasons.
    vendor: str
    # False for feeds that show only the newest jobs: a job missing from them is not closed.
    complete: bool = True
    # The vendor's host. Boards on the company's own subdomain write it as a template with
    # `{token}` (host names are case-insensitive, so it is lower-cased).
    base_url: str
    # The key of the job list in the answer; None when the answer is the list itself.
    jobs_key: str | None = "jobs"

    def base(self, token: str) -> str:
        return self.base_url.format(token=token.lower())

    # The board's path and query under its host; `{token}` stands for the token, quoted.
    path_template: str

    def path(self, token: str) -> str:
        return self.path_template.format(token=path_segment(token))

    def endpoint(self, token: str, api_url: str | None) -> str:
        """The board's URL: the vendor's path under its host, or under `api_url`, which
        replaces the scheme and host (an EU instance, a mirror)."""
        return build_url(self.base(token), api_url, self.path(token))

    async def fetch(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        return [await client.get_json(self.endpoint(token, api_url))]

    def jobs(self, payload: object) -> list[Any]:
        if self.jobs_key is None:
            return fields.require_list(payload, f"{self.vendor} jobs")
        return fields.jobs_list(payload, self.jobs_key, self.vendor)

    def parse(self, payloads: list[Any], *, company: str) -> list[Posting]:
        items = [item for payload in payloads for item in self.jobs(payload)]
        return parse_each(items, lambda item: self.posting(item, company), where=self.vendor)

    def posting(self, raw: Any, company: str) -> Posting | None:
        """One job of the board as a Posting; None leaves it out on purpose (unlisted)."""
        raise NotImplementedError


class PagedBoard(Board):
    """A board listed in pages of `page_size` jobs, by offset."""

    def __init__(self, *, page_size: int = 100, max_pages: int = 100) -> None:
        self.page_size = page_size
        # Far beyond any real board: past it the server is ignoring the offset.
        self.max_pages = max_pages

    async def pages(
        self,
        client: HttpClient,
        url: str,
        params: Callable[[int], dict[str, int]],
        last: Callable[[list[Any]], bool],
    ) -> list[Any]:
        """Every page: `params(offset)` asks for one, `last(pages so far)` says when to stop."""
        pages: list[Any] = []
        for number in range(self.max_pages):
            pages.append(await client.get_json(url, params=params(number * self.page_size)))
            if last(pages):
                return pages
        raise PayloadError(f"{self.vendor} {url}: still more jobs after {self.max_pages} pages")
