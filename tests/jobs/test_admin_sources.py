"""The admin's add form for sources takes a URL (detected, fetched once, refused when the board
errs or is empty unless forced, duplicates refused); the list shows board health."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jobs.models import ScrapeStatus, Source
from jobs.services import source_health_record
from tests.factories import make_job, make_source
from tests.vendor_boards import VendorFarm, install_all

pytestmark = pytest.mark.django_db
ADD = reverse("admin:jobs_source_add")


def test_add_form_asks_for_a_url(admin_client: Client):
    page = admin_client.get(ADD).content.decode()
    assert 'name="url"' in page
    assert 'name="force"' in page
    assert 'name="token"' not in page


def test_add_by_url(admin_client: Client, vendor_farm: VendorFarm):
    install_all(vendor_farm)
    response = admin_client.post(
        ADD, {"url": "https://stark.breezy.hr/", "api_url": vendor_farm.url, "name": ""}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    source = Source.objects.get()
    assert (source.kind, source.token, source.name, source.api_url) == (
        "breezy",
        "stark",
        "Stark Industries",
        vendor_farm.url,
    )
    page = admin_client.get(response["Location"]).content.decode()
    assert "reezy board &#x27;stark&#x27;: 2 open jobs" in page  # the admin capitalises it


def test_unknown_url_and_empty_board_are_refused(admin_client: Client, vendor_farm: VendorFarm):
    response = admin_client.post(ADD, {"url": "no url here", "api_url": ""})
    assert response.status_code == 200
    assert "is not a web address" in response.content.decode()
    vendor_farm.greenhouse("quiet", [])
    body = {"url": "boards.greenhouse.io/quiet", "api_url": vendor_farm.url}
    response = admin_client.post(ADD, body)
    assert "lists no open jobs" in response.content.decode()
    assert not Source.objects.exists()
    assert admin_client.post(ADD, {**body, "force": "on"}).status_code == 302
    assert Source.objects.get().token == "quiet"


def test_duplicate_is_refused(admin_client: Client, vendor_farm: VendorFarm):
    make_source(kind="breezy", token="stark")
    response = admin_client.post(ADD, {"url": "https://STARK.breezy.hr/p/x", "force": "on"})
    assert "already watched" in response.content.decode()
    assert Source.objects.count() == 1


def test_changelist_shows_health(admin_client: Client):
    source = make_source(name="Darkco")
    make_job(source)
    for _ in range(2):
        source_health_record(
            source=source, status=ScrapeStatus.FAILED, found=None, error="404", board_missing=True
        )
    page = admin_client.get(reverse("admin:jobs_source_changelist")).content.decode()
    assert "Gone dark" in page
    change = admin_client.get(reverse("admin:jobs_source_change", args=[source.pk]))
    assert change.status_code == 200
