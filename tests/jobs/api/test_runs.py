"""/api/v1/runs/: newest first, filtered by source and status; one run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from jobs.models import ScrapeRun, ScrapeStatus, Source
from tests.factories import make_source
from tests.jobs.api.helpers import ids

pytestmark = pytest.mark.django_db

URL = "/api/v1/runs/"
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def make_run(source: Source, minutes: int, status: str = ScrapeStatus.SUCCEEDED) -> ScrapeRun:
    return ScrapeRun.objects.create(
        source=source, status=status, started_at=T0 + timedelta(minutes=minutes)
    )


def test_newest_first_with_filters(api: APIClient) -> None:
    acme, globex = make_source(), make_source()
    old = make_run(acme, 0)
    failed = make_run(globex, 10, ScrapeStatus.FAILED)
    new = make_run(acme, 20)
    assert ids(api.get(URL)) == [new.pk, failed.pk, old.pk]
    assert ids(api.get(URL, {"source": str(acme.pk)})) == [new.pk, old.pk]
    assert ids(api.get(URL, {"status": "failed"})) == [failed.pk]
    assert ids(api.get(URL, {"source": str(acme.pk), "status": "failed"})) == []


@pytest.mark.parametrize(
    "params", [{"status": "done"}, {"source": "x"}, {"source": "0"}, {"source": str(2**63)}]
)
def test_bad_filters_are_400(api: APIClient, params: dict[str, str]) -> None:
    response = api.get(URL, params)
    assert response.status_code == 400
    assert list(response.json()) == list(params)


def test_detail(api: APIClient) -> None:
    source = make_source(name="Acme")
    run = ScrapeRun.objects.create(
        source=source,
        status=ScrapeStatus.FAILED,
        jobs_found=3,
        errors=1,
        error_message="HTTP 500 from the board",
        duration_seconds=1.5,
    )
    body = api.get(f"{URL}{run.pk}/").json()
    assert body["url"] == f"http://testserver/api/v1/runs/{run.pk}/"
    assert body["source"]["name"] == "Acme"
    assert (body["status"], body["jobs_found"], body["errors"], body["error_message"]) == (
        "failed",
        3,
        1,
        "HTTP 500 from the board",
    )
    assert api.get(f"{URL}999999/").status_code == 404


def test_runs_are_read_only(api: APIClient) -> None:
    run = make_run(make_source(), 0)
    assert api.post(URL, {}, format="json").status_code == 405
    assert api.patch(f"{URL}{run.pk}/", {"status": "failed"}, format="json").status_code == 405
    assert api.delete(f"{URL}{run.pk}/").status_code == 405
