"""Greenhouse: endpoint, parsing of a documented payload, shape errors, fetch."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import respx

from jobs.scrapers.base import PayloadError, SourceError, scrape
from jobs.scrapers.greenhouse import adapter
from jobs.scrapers.http import HttpClient

from .conftest import json_response, load


def parse(payload: Any, company: str = "Acme") -> dict[str, Any]:
    return {p.external_id: p for p in adapter.parse([payload], company=company)}


def test_endpoint_default_and_api_url():
    assert adapter.endpoint("acme", None) == (
        "https://boards-api.greenhouse.io/v1/boards/acme/jobs?content=true"
    )
    assert adapter.endpoint("acme", "https://gh-mirror.example.org/") == (
        "https://gh-mirror.example.org/v1/boards/acme/jobs?content=true"
    )


@pytest.mark.parametrize("bad", ["ftp://example.org", "example.org", "https://x.org/?a=1"])
def test_endpoint_refuses_a_bad_api_url(bad: str):
    with pytest.raises(SourceError, match="api_url"):
        adapter.endpoint("acme", bad)


def test_parses_every_job():
    postings = parse(load("greenhouse_jobs.json"))
    assert list(postings) == ["4012345007", "4012345008", "4012345009", "4012345010"]
    assert all(isinstance(key, str) for key in postings)


def test_remote_job_fields():
    job = parse(load("greenhouse_jobs.json"))["4012345007"]
    assert job.title == "Senior Backend Engineer (Python)"
    assert job.company == "Acme Robotics"  # company_name wins over the source's name
    assert job.url == "https://job-boards.greenhouse.io/acme/jobs/4012345007"
    assert job.location == "Remote - US"
    assert job.workplace == "remote"
    assert job.department == "Engineering"
    assert job.employment_type == "Full-time"
    assert job.posted_at == datetime(2025, 9, 30, 13, 15, tzinfo=UTC)  # first_published
    assert job.posted_at.tzinfo is UTC
    assert (job.salary_min, job.salary_max, job.salary_currency, job.salary_interval) == (
        None,
        None,
        "",
        "",
    )


def test_content_is_unescaped_once():
    job = parse(load("greenhouse_jobs.json"))["4012345007"]
    assert job.description_html == (
        "<p>We build <strong>robots</strong> &amp; the software that runs them.</p>"
        "<ul><li>Python &amp; Django</li></ul>"
    )


def test_unicode_city_is_onsite_and_company_falls_back():
    job = parse(load("greenhouse_jobs.json"), company="Acme Zürich AG")["4012345008"]
    assert job.company == "Acme Zürich AG"
    assert job.title == "Ingénieur·e Machine Learning"
    assert job.location == "Zürich, Switzerland"
    assert job.workplace == "onsite"
    assert job.department == "Research, Machine Learning"
    # Unescaped once: the HTML itself keeps its own entity.
    assert job.description_html == "<p>Grüezi! Rejoignez l&#39;équipe à Zürich.</p>"
    assert job.posted_at == datetime(2025, 10, 1, 8, 0, tzinfo=UTC)  # updated_at, "Z"


def test_hybrid_and_unknown_workplaces():
    postings = parse(load("greenhouse_jobs.json"))
    assert postings["4012345009"].workplace == "hybrid"
    unknown = postings["4012345010"]
    assert (unknown.workplace, unknown.location, unknown.posted_at) == ("unknown", "", None)


def test_remote_office_makes_a_city_location_remote():
    payload = load("greenhouse_jobs.json")
    job = payload["jobs"][0]
    job["location"] = {"name": "New York, NY"}
    assert parse(payload)["4012345007"].workplace == "remote"


def test_location_falls_back_to_office_names():
    payload = load("greenhouse_jobs.json")
    payload["jobs"][1]["location"] = None
    assert parse(payload)["4012345008"].location == "Zürich"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"jobs": "x"}, "'jobs' should be a JSON array, got str"),
        ([], "should be a JSON object, got list"),
        ({"meta": {"total": 0}}, "'jobs' should be a JSON array, got null"),
        (None, "got null"),
    ],
)
def test_wrong_top_level_shape_is_an_error(payload: Any, message: str):
    with pytest.raises(PayloadError, match=message.replace("(", r"\(")):
        adapter.parse([payload], company="Acme")


def test_a_malformed_job_is_skipped_and_the_rest_kept():
    payload = load("greenhouse_jobs.json")
    del payload["jobs"][0]["id"]
    payload["jobs"][1]["title"] = "   "
    payload["jobs"].append("not a job")
    assert list(parse(payload)) == ["4012345009", "4012345010"]


def test_a_board_of_only_malformed_jobs_is_an_error():
    payload = {"jobs": [{"title": "No id"}, {"id": 1, "absolute_url": "https://x.org/1"}]}
    with pytest.raises(PayloadError, match=r"no job could be parsed.*'id' is missing"):
        adapter.parse([payload], company="Acme")


def test_an_empty_board_is_fine():
    assert adapter.parse([{"jobs": [], "meta": {"total": 0}}], company="Acme") == []


def test_non_http_url_is_refused():
    payload = load("greenhouse_jobs.json")
    payload["jobs"] = payload["jobs"][:2]
    payload["jobs"][0]["absolute_url"] = "javascript:alert(1)"
    assert list(parse(payload)) == ["4012345008"]


async def test_scrape_fetches_and_parses(respx_mock: respx.MockRouter, client: HttpClient):
    route = respx_mock.get("https://boards-api.greenhouse.io/v1/boards/acme/jobs").mock(
        return_value=json_response(load("greenhouse_jobs.json"))
    )

    result = await scrape(adapter, client, "acme", None, "Acme")

    assert route.calls.last.request.url.params["content"] == "true"
    assert result.complete is True
    assert len(result.postings) == 4
