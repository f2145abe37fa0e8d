"""A local board farm: one real HTTP server on 127.0.0.1 that answers like each vendor's API
(Workday's cxs POST with its 20-per-page limit, SmartRecruiters' offset pages, Workable,
Recruitee, Personio's XML, BambooHR, Breezy, Greenhouse) and serves careers pages and
redirects. Tests point a source's api_url at it; nothing reaches the network."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).parent / "jobs" / "scrapers" / "fixtures"

Answer = tuple[int, str, bytes, dict[str, str]]  # status, content type, body, extra headers
Route = Callable[[dict[str, list[str]], bytes], Answer]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def _json(payload: Any, status: int = 200) -> Answer:
    return status, "application/json", json.dumps(payload).encode(), {}


class VendorFarm:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[tuple[str, str]] = []
        farm = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                farm.requests.append((method, self.path))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                route = farm.routes.get((method, parts.path))
                if route is None:
                    status, kind, data, headers = _json({"error": "not found"}, 404)
                else:
                    status, kind, data, headers = route(parse_qs(parts.query), body)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> VendorFarm:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- generic routes ---------------------------------------------------------------------

    def json(self, path: str, payload: Any, *, method: str = "GET", status: int = 200) -> None:
        self.routes[(method, path)] = lambda query, body: _json(payload, status)

    def text(self, path: str, text: str, content_type: str = "text/html; charset=utf-8") -> None:
        self.routes[("GET", path)] = lambda query, body: (200, content_type, text.encode(), {})

    def redirect(self, path: str, location: str) -> None:
        self.routes[("GET", path)] = lambda query, body: (
            302,
            "text/html",
            b"",
            {"Location": location},
        )

    # --- vendors ------------------------------------------------------------------------------

    def greenhouse(self, token: str, jobs: list[dict[str, Any]]) -> None:
        self.json(f"/v1/boards/{token}/jobs", {"jobs": jobs, "meta": {"total": len(jobs)}})

    def workday(
        self, tenant: str, site: str, items: list[dict[str, Any]], details: dict[str, Any]
    ) -> None:
        """Pages as Workday serves them: 400 above 20 per page, `total` on the first only."""

        def listing(query: dict[str, list[str]], body: bytes) -> Answer:
            request = json.loads(body or b"{}")
            limit, offset = int(request.get("limit", 20)), int(request.get("offset", 0))
            if limit > 20:
                return _json({"errorCode": "HTTP_400", "message": "limit must be <= 20"}, 400)
            page = items[offset : offset + limit]
            return _json({"total": len(items) if offset == 0 else 0, "jobPostings": page})

        self.routes[("POST", f"/wday/cxs/{tenant}/{site}/jobs")] = listing
        for path, detail in details.items():
            self.json(f"/wday/cxs/{tenant}/{site}{path}", detail)

    def smartrecruiters(
        self, company: str, content: list[dict[str, Any]], details: dict[str, Any]
    ) -> None:
        base = f"/v1/companies/{company}/postings"

        def listing(query: dict[str, list[str]], body: bytes) -> Answer:
            limit = int(query.get("limit", ["10"])[0])
            offset = int(query.get("offset", ["0"])[0])
            page = content[offset : offset + limit]
            return _json(
                {"offset": offset, "limit": limit, "totalFound": len(content), "content": page}
            )

        self.routes[("GET", base)] = listing
        for posting_id, detail in details.items():
            self.json(f"{base}/{posting_id}", detail)


@pytest.fixture
def vendor_farm() -> Iterator[VendorFarm]:
    with VendorFarm() as farm:
        yield farm


def install_all(farm: VendorFarm) -> None:
    """Every new vendor's fixture board on the farm (subdomain vendors share its host)."""
    pages = [fixture("workday_page1.json"), fixture("workday_page2.json")]
    items = [item for page in pages for item in page["jobPostings"]]
    farm.workday("acme", "External", items, fixture("workday_details.json"))
    sr_pages = [fixture("smartrecruiters_page1.json"), fixture("smartrecruiters_page2.json")]
    detail = fixture("smartrecruiters_detail.json")
    farm.smartrecruiters(
        "Umbrella", [p for page in sr_pages for p in page["content"]], {detail["id"]: detail}
    )
    farm.json("/api/v1/widget/accounts/hooli", fixture("workable_account.json"))
    farm.json("/api/offers/", fixture("recruitee_offers.json"))
    farm.text("/xml", fixture_text("personio_feed.xml"), "text/xml; charset=utf-8")
    farm.json("/careers/list", fixture("bamboohr_list.json"))
    farm.json("/careers/42/detail", fixture("bamboohr_detail_42.json"))
    farm.json("/json", fixture("breezy_positions.json"))
