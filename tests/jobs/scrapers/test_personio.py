"""Personio XML feed: endpoint per subdomain, parsing, a hardened parser (no entity
expansion, no external entities), shape errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from jobs.scrapers.base import PayloadError, scrape
from jobs.scrapers.http import HttpClient
from jobs.scrapers.personio import adapter

from .conftest import FIXTURES

FEED = (FIXTURES / "personio_feed.xml").read_text(encoding="utf-8")


def parse(xml: str = FEED) -> dict[str, Any]:
    envelope = {"token": "vandelay", "xml": xml}
    return {p.external_id: p for p in adapter.parse([envelope], company="Vandelay")}


def test_endpoint():
    assert adapter.endpoint("vandelay", None) == "https://vandelay.jobs.personio.de/xml?language=en"
    assert adapter.endpoint("vandelay", "http://127.0.0.1:9") == (
        "http://127.0.0.1:9/xml?language=en"
    )


async def test_fetch(respx_mock: respx.MockRouter, client: HttpClient):
    route = respx_mock.get("https://vandelay.jobs.personio.de/xml").mock(
        return_value=httpx.Response(200, text=FEED, headers={"Content-Type": "text/xml"})
    )
    result = await scrape(adapter, client, "vandelay", None, "Vandelay")
    assert route.call_count == 1
    assert route.calls.last.request.url.params["language"] == "en"
    assert [p.external_id for p in result.postings] == ["1544862", "1544863"]


def test_onsite_permanent_full_time_position():
    job = parse()["1544862"]
    assert job.title == "Backend Engineer (m/w/d)"
    assert job.company == "Vandelay Industries GmbH"
    assert job.url == "https://vandelay.jobs.personio.de/job/1544862"
    assert job.apply_url == "https://vandelay.jobs.personio.de/job/1544862#apply"
    assert job.location == "München; Berlin"
    assert job.workplace == "onsite"
    assert job.department == "Engineering"
    assert job.employment_type == "Full-time"
    assert job.description_html == (
        "<h3>Deine Aufgaben</h3>\n<ul><li>APIs in Kotlin</li></ul>\n"
        "<h3>Dein Profil</h3>\n<p>3+ Jahre <b>Erfahrung</b></p>"
    )
    assert job.posted_at == datetime(2025, 9, 29, 10, 11, 12, tzinfo=UTC)


def test_remote_working_student_without_subcompany():
    job = parse()["1544863"]
    assert job.company == "Vandelay"
    assert job.workplace == "remote"
    assert job.employment_type == "Working student"
    assert job.posted_at == datetime(2025, 10, 5, 6, 0, tzinfo=UTC)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<workzag-jobs><position><id>1</id><name>&lol2;</name></position></workzag-jobs>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<workzag-jobs><position><id>1</id><name>&secret;</name></position></workzag-jobs>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_entities_are_refused(xml: str):
    with pytest.raises(PayloadError, match="refused"):
        parse(xml)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("", "empty"),
        ("<html><body>Not found</body></html>", "root is <html>"),
        ("<workzag-jobs><position>", "not XML"),
        ("<workzag-jobs><position><name>x</name></position></workzag-jobs>", "<id>"),
    ],
)
def test_shape_errors(xml: str, message: str):
    with pytest.raises(PayloadError, match=message):
        parse(xml)


def test_an_empty_feed_has_no_jobs():
    assert parse("<workzag-jobs></workzag-jobs>") == {}
