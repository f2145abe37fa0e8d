"""/api/v1/sources/: list, add (validated), change, and start a scrape."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from jobs.models import Job, JobStatus, ScrapeRun, ScrapeStatus, Source
from realtime.models import Event
from tests.boards import BoardServer, greenhouse_job
from tests.factories import make_job, make_source
from tests.jobs.api.helpers import results
from tests.workers import Worker

URL = "/api/v1/sources/"


def snapshot() -> list[dict[str, Any]]:
    return [dict(row) for row in Source.objects.order_by("id").values()]


@pytest.mark.django_db
class TestRead:
    def test_list_with_open_job_counts(self, api: APIClient) -> None:
        busy = make_source(name="Busy")
        idle = make_source(name="Idle", enabled=False)
        make_job(busy)
        make_job(busy)
        make_job(busy, status=JobStatus.CLOSED)
        rows = results(api.get(URL))
        assert [(r["id"], r["open_jobs"], r["enabled"]) for r in rows] == [
            (busy.pk, 2, True),
            (idle.pk, 0, False),
        ]
        assert rows[0]["url"] == f"http://testserver/api/v1/sources/{busy.pk}/"

    def test_detail(self, api: APIClient) -> None:
        source = make_source(name="Acme", kind="ashby")
        body = api.get(f"{URL}{source.pk}/").json()
        assert (body["id"], body["kind"], body["name"], body["open_jobs"]) == (
            source.pk,
            "ashby",
            "Acme",
            0,
        )
        assert api.get(f"{URL}999999/").status_code == 404


@pytest.mark.django_db
class TestCreate:
    def test_adds_a_board_with_the_token_as_default_name(self, api: APIClient) -> None:
        response = api.post(URL, {"kind": "greenhouse", "token": " acme "}, format="json")
        assert response.status_code == 201, response.content
        source = Source.objects.get()
        assert (source.kind, source.token, source.name, source.api_url, source.enabled) == (
            "greenhouse",
            "acme",
            "acme",
            "",
            True,
        )
        assert response["Location"] == f"http://testserver/api/v1/sources/{source.pk}/"
        assert response.json()["open_jobs"] == 0

    def test_name_and_api_url(self, api: APIClient) -> None:
        body = {
            "kind": "lever",
            "token": "acme",
            "name": "Acme Robotics",
            "api_url": "https://api.eu.lever.co/",
        }
        assert api.post(URL, body, format="json").status_code == 201
        source = Source.objects.get()
        assert (source.name, source.api_url) == ("Acme Robotics", "https://api.eu.lever.co")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"kind": "monster", "token": "acme"}, "kind"),
            ({"token": "acme"}, "kind"),
            ({"kind": "greenhouse"}, "token"),
            ({"kind": "greenhouse", "token": "../etc"}, "token"),
            ({"kind": "greenhouse", "token": ".."}, "token"),
            ({"kind": "greenhouse", "token": "   "}, "token"),
            ({"kind": "greenhouse", "token": "a" * 201}, "token"),
            ({"kind": "greenhouse", "token": "acme", "api_url": "ftp://mirror"}, "api_url"),
            ({"kind": "greenhouse", "token": "acme", "api_url": "not a url"}, "api_url"),
            ({"kind": "greenhouse", "token": "acme", "enabled": False}, "enabled"),
            ({"kind": "greenhouse", "token": "acme", "id": 7}, "id"),
        ],
    )
    def test_bad_input_is_400_naming_the_field(
        self, api: APIClient, body: dict[str, Any], field: str
    ) -> None:
        response = api.post(URL, body, format="json")
        assert response.status_code == 400
        assert field in response.json()
        assert not Source.objects.exists()

    def test_a_board_already_watched_is_refused(self, api: APIClient) -> None:
        existing = make_source(kind="greenhouse", token="acme", name="Acme")
        before = snapshot()
        response = api.post(URL, {"kind": "greenhouse", "token": "ACME"}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "token": [f"greenhouse board 'ACME' is already watched as 'Acme' (id {existing.pk})"]
        }
        assert snapshot() == before
        # The same token on another kind of board is another board.
        assert api.post(URL, {"kind": "lever", "token": "acme"}, format="json").status_code == 201


@pytest.mark.django_db
class TestUpdate:
    def test_enable_rename_and_repoint(self, api: APIClient) -> None:
        source = make_source(name="Old")
        body = {"enabled": False, "name": "  New  ", "api_url": "http://mirror.local:8080/"}
        response = api.patch(f"{URL}{source.pk}/", body, format="json")
        assert response.status_code == 200, response.content
        source.refresh_from_db()
        assert (source.enabled, source.name, source.api_url) == (
            False,
            "New",
            "http://mirror.local:8080",
        )
        assert response.json()["name"] == "New"
        api.patch(f"{URL}{source.pk}/", {"api_url": ""}, format="json")
        source.refresh_from_db()
        assert source.api_url == ""

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"kind": "lever"}, "kind"),
            ({"token": "other"}, "token"),
            ({"name": ""}, "name"),
            ({"name": "x" * 201}, "name"),
            ({"enabled": "sometimes"}, "enabled"),
            ({"api_url": "javascript:alert(1)"}, "api_url"),
            ({"enabled": False, "consecutive_failures": 0}, "consecutive_failures"),
            ({"scrape_interval": 5}, "scrape_interval"),
            ({"scrape_interval": "often"}, "scrape_interval"),
        ],
    )
    def test_bad_input_is_400_and_changes_nothing(
        self, api: APIClient, body: dict[str, Any], field: str
    ) -> None:
        source = make_source()
        before = snapshot()
        response = api.patch(f"{URL}{source.pk}/", body, format="json")
        assert response.status_code == 400
        assert list(response.json()) == [field]
        assert snapshot() == before

    def test_scrape_interval_is_set_and_cleared(self, api: APIClient) -> None:
        source = make_source()
        assert api.get(f"{URL}{source.pk}/").json()["scrape_interval"] is None
        response = api.patch(f"{URL}{source.pk}/", {"scrape_interval": 3600}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["scrape_interval"] == 3600
        source.refresh_from_db()
        assert source.interval_seconds == 3600
        api.patch(f"{URL}{source.pk}/", {"scrape_interval": None}, format="json")
        source.refresh_from_db()
        assert source.scrape_interval is None
        assert source.interval_seconds == 900  # JOBSENTINEL_SCRAPE_INTERVAL's default

    def test_no_delete(self, api: APIClient) -> None:
        source = make_source()
        assert api.delete(f"{URL}{source.pk}/").status_code == 405
        assert Source.objects.filter(pk=source.pk).exists()


@pytest.mark.django_db
def test_a_disabled_source_is_not_scraped(api: APIClient) -> None:
    source = make_source(enabled=False)
    response = api.post(f"{URL}{source.pk}/scrape/")
    assert response.status_code == 409
    assert "disabled" in response.json()["detail"]
    assert not ScrapeRun.objects.exists()


@pytest.mark.django_db
def test_scraping_an_unknown_source_is_404(api: APIClient) -> None:
    assert api.post(f"{URL}999999/scrape/").status_code == 404


def wait_for_run(run_id: int, timeout: float = 30.0) -> ScrapeRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = ScrapeRun.objects.get(pk=run_id)
        if run.status != ScrapeStatus.RUNNING:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still running after {timeout} s")


@pytest.mark.django_db(transaction=True)
def test_scrape_starts_in_the_background_and_reports_its_run(
    api: APIClient, board_server: BoardServer, worker_factory: Callable[..., Worker]
) -> None:
    worker_factory("--no-schedule")  # the background: a real worker on this run's queue
    board_server.board.jobs["acme"] = [
        greenhouse_job(1, "Backend Engineer"),
        greenhouse_job(2, "Data Engineer"),
    ]
    board_server.board.delay = 0.5  # long enough to ask again while it runs
    source = Source.objects.create(
        kind="greenhouse", token="acme", name="Acme", api_url=board_server.url
    )

    response = api.post(f"{URL}{source.pk}/scrape/")
    assert response.status_code == 202, response.content
    body = response.json()
    run_url = f"http://testserver/api/v1/runs/{body['id']}/"
    assert body["status"] == "running"
    assert body["url"] == run_url
    assert response["Location"] == run_url
    assert body["source"]["id"] == source.pk

    try:
        again = api.post(f"{URL}{source.pk}/scrape/")
        assert again.status_code == 409
        assert "already being scraped" in again.json()["detail"]
    finally:
        # Never leave the worker writing into the next test's database.
        run = wait_for_run(body["id"], timeout=60)
    assert (run.status, run.jobs_found, run.new_jobs, run.errors) == ("succeeded", 2, 2, 0)
    assert Job.objects.filter(source=source).count() == 2
    finished = api.get(run_url).json()
    assert (finished["status"], finished["new_jobs"], finished["jobs_found"]) == (
        "succeeded",
        2,
        2,
    )
    assert ScrapeRun.objects.count() == 1  # the refused second scrape made no run
    assert list(Event.objects.filter(type__startswith="scrape").values_list("type", flat=True)) == [
        "scrape_started",
        "scrape_completed",
    ]
