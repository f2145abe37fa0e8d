"""Credentials inside a source's api_url (`https://user:pass@host`) are refused wherever a
source is created or changed (API 400, add_source non-zero exit, admin form), and a row saved
before that rule never shows or sends them."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from jobs.models import Source
from jobs.scraping import Scraper
from tests.conftest import run_manage

pytestmark = pytest.mark.django_db

SECRET = "hunter2-secret"
WITH_CREDENTIALS = [
    f"https://alice:{SECRET}@api.eu.lever.co",
    f"https://{SECRET}@api.eu.lever.co",
    f"http://alice:{SECRET}@127.0.0.1:8080/mirror",
]


@pytest.mark.parametrize("api_url", WITH_CREDENTIALS)
def test_the_api_refuses_credentials_with_a_400(api_url: str) -> None:
    api = APIClient()
    response = api.post(
        "/api/v1/sources/", {"kind": "lever", "token": "acme", "api_url": api_url}, format="json"
    )

    assert response.status_code == 400
    [message] = response.json()["api_url"]
    assert "must not carry a user name or password" in message
    assert SECRET not in response.content.decode()
    assert not Source.objects.exists()


def test_the_api_refuses_credentials_on_change_too() -> None:
    source = Source.objects.create(kind="lever", token="acme", name="Acme")
    response = APIClient().patch(
        f"/api/v1/sources/{source.pk}/", {"api_url": WITH_CREDENTIALS[0]}, format="json"
    )

    assert response.status_code == 400
    assert SECRET not in response.content.decode()
    source.refresh_from_db()
    assert source.api_url == ""


def test_add_source_exits_non_zero_and_never_prints_them() -> None:
    result = run_manage("add_source", "lever", "acme", "--api-url", WITH_CREDENTIALS[0])

    assert result.returncode != 0
    assert "must not carry a user name or password" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert not Source.objects.filter(token="acme").exists()


def test_the_admin_forms_refuse_them(admin_client: Client) -> None:
    added = admin_client.post(
        reverse("admin:jobs_source_add"),
        {"url": "https://jobs.lever.co/acme", "name": "Acme", "api_url": WITH_CREDENTIALS[0]},
    )
    source = Source.objects.create(kind="lever", token="acme", name="Acme")
    changed = admin_client.post(
        reverse("admin:jobs_source_change", args=[source.pk]),
        {"kind": "lever", "token": "acme", "name": "Acme", "api_url": WITH_CREDENTIALS[0]},
    )

    for response in (added, changed):
        # The form again, with the error (its input field shows what this admin just typed).
        assert response.status_code == 200
        assert "must not carry a user name or password" in response.content.decode()
    source.refresh_from_db()
    assert source.api_url == ""
    assert Source.objects.count() == 1


def test_an_old_row_with_credentials_is_never_shown_nor_fetched(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = Source.objects.create(
        kind="greenhouse", token="acme", name="Acme", api_url=WITH_CREDENTIALS[2]
    )

    shown = APIClient().get(f"/api/v1/sources/{source.pk}/").json()
    with caplog.at_level(logging.DEBUG), Scraper() as scraper:
        outcome = scraper.run(source)

    assert shown["api_url"] == "http://***@127.0.0.1:8080/mirror"
    assert "must not carry a user name or password" in outcome.error
    assert SECRET not in outcome.error
    assert SECRET not in caplog.text
    assert outcome.run is not None
    outcome.run.refresh_from_db()
    assert SECRET not in outcome.run.error_message
