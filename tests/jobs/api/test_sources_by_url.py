"""POST /api/v1/sources/ with {"url", "api_url", "name", "force", "dry_run"}: detection, the
one fetch and its summary, 422 for a board that errs or has no jobs, refusals; and the
board health fields in what the API shows."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from jobs.models import ScrapeStatus, Source
from jobs.services import source_health_record
from tests.boards import greenhouse_job
from tests.factories import make_job, make_source
from tests.vendor_boards import VendorFarm, install_all

URL = "/api/v1/sources/"
pytestmark = pytest.mark.django_db


def test_careers_page_url_is_detected_fetched_and_saved(api: APIClient, vendor_farm: VendorFarm):
    install_all(vendor_farm)
    vendor_farm.text("/careers", '<iframe src="https://careers.smartrecruiters.com/Umbrella">')
    response = api.post(
        URL, {"url": f"{vendor_farm.url}/careers", "api_url": vendor_farm.url}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    source = Source.objects.get()
    assert (body["id"], body["kind"], body["token"], body["name"]) == (
        source.pk,
        "smartrecruiters",
        "Umbrella",
        "Umbrella Corp",
    )
    assert body["preview"]["summary"] == "smartrecruiters board 'Umbrella': 3 open jobs"
    assert body["preview"]["found_via"] == "careers page (iframe)"
    assert body["board_url"] == "https://careers.smartrecruiters.com/Umbrella"
    assert response["Location"].endswith(f"/api/v1/sources/{source.pk}/")


def test_dry_run_answers_the_summary_and_saves_nothing(api: APIClient, vendor_farm: VendorFarm):
    install_all(vendor_farm)
    body = {"url": "https://vandelay.jobs.personio.de/", "api_url": vendor_farm.url}
    response = api.post(URL, {**body, "dry_run": True}, format="json")
    assert response.status_code == 200
    assert response.json()["summary"] == "personio board 'vandelay': 2 open jobs"
    assert response.json()["name"] == "Vandelay Industries GmbH"
    assert not Source.objects.exists()


def test_board_error_is_422_unless_forced(api: APIClient, vendor_farm: VendorFarm):
    body = {"url": "https://jobs.ashbyhq.com/gone", "api_url": vendor_farm.url}
    response = api.post(URL, body, format="json")
    assert response.status_code == 422
    assert "HTTP 404" in response.json()["preview"]["error"]
    assert "not saved" in response.json()["detail"]
    assert not Source.objects.exists()
    forced = api.post(URL, {**body, "force": True}, format="json")
    assert forced.status_code == 201
    assert Source.objects.get().token == "gone"


def test_empty_board_is_422(api: APIClient, vendor_farm: VendorFarm):
    vendor_farm.greenhouse("quiet", [])
    response = api.post(
        URL, {"url": "boards.greenhouse.io/quiet", "api_url": vendor_farm.url}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["preview"]["summary"] == (
        "greenhouse board 'quiet': the board lists no open jobs"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "nonsense"}, "url"),
        ({"url": "https://jobs.lever.co/acme", "kind": "lever", "token": "acme"}, "url"),
        ({"url": "https://jobs.lever.co/acme", "api_url": "https://u:p@mirror.example"},
         "api_url"),
        ({"url": "https://jobs.lever.co/acme", "force": "maybe"}, "force"),
        ({}, "kind"),
    ],
)  # fmt: skip
def test_bad_input_is_400(api: APIClient, body: dict[str, object], field: str):
    # Each is refused before any request is made.
    response = api.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Source.objects.exists()


def test_duplicate_by_url_is_refused_even_with_force(api: APIClient, vendor_farm: VendorFarm):
    vendor_farm.greenhouse("acme", [greenhouse_job(1, "Engineer")])
    make_source(kind="greenhouse", token="acme", name="Acme")
    response = api.post(
        URL,
        {"url": "https://www.job-boards.greenhouse.io/ACME/jobs/1?x=y", "force": True},
        format="json",
    )
    assert response.status_code == 400
    assert "already watched" in response.json()["token"][0]
    assert Source.objects.count() == 1
    assert vendor_farm.requests == []  # refused before any fetch


def test_health_fields_are_shown(api: APIClient):
    source = make_source(kind="breezy", token="stark", name="Stark")
    make_job(source)
    source_health_record(source=source, status=ScrapeStatus.FAILED, found=None,
                         error="GET x: HTTP 404", board_missing=True)  # fmt: skip
    source_health_record(source=source, status=ScrapeStatus.FAILED, found=None,
                         error="GET x: HTTP 404", board_missing=True)  # fmt: skip
    body = api.get(f"{URL}{source.pk}/").json()
    assert body["gone_dark"] is True
    assert body["last_error"] == "GET x: HTTP 404"
    assert body["consecutive_failures"] == 2
    assert body["open_jobs"] == 1
    assert body["board_url"] == "https://stark.breezy.hr/"
    assert body["last_success_at"] is None
