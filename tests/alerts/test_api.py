"""The alerts REST API: channels created and changed through the services' validation, the
target and secret never returned, a test queued, deliveries listed with their status."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from alerts.models import Channel, Delivery, DeliveryKind, DeliveryStatus
from tests.alerts.helpers import add_channel

pytestmark = pytest.mark.django_db
BASE = "/api/v1/alerts"
HOOK = "https://hooks.slack.com/services/T000/B000/SECRETPART"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def test_alert_paths_are_in_the_schema() -> None:
    paths = {p for p in SchemaGenerator().get_schema(request=None, public=True)["paths"]}
    assert {p for p in paths if p.startswith(f"{BASE}/")} == {
        f"{BASE}/channels/", f"{BASE}/channels/{{id}}/", f"{BASE}/channels/{{id}}/test/",
        f"{BASE}/deliveries/", f"{BASE}/deliveries/{{id}}/",
    }  # fmt: skip


def test_create_masks_the_target_and_returns_a_generated_secret_once(api: APIClient) -> None:
    response = api.post(
        f"{BASE}/channels/",
        {"kind": "webhook", "target": "http://127.0.0.1:9/in/TOKENPART",
         "quiet_hours": "22:00-07:00", "time_zone": "Europe/Berlin", "digest_at": "08:15",
         "reasons": ["new_match", "reopened"]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body: dict[str, Any] = response.json()
    channel = Channel.objects.get()
    assert body["id"] == channel.pk
    assert body["secret"] == channel.secret
    assert len(body["secret"]) >= 32
    assert "TOKENPART" not in body["target"]
    assert body["quiet_hours"] == "22:00-07:00"
    assert body["digest_at"] == "08:15"
    assert body["has_secret"] is True
    again = api.get(f"{BASE}/channels/{channel.pk}/").json()
    assert "secret" not in again
    assert channel.secret not in str(again)
    assert "TOKENPART" not in str(api.get(f"{BASE}/channels/").json())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "slack", "target": "javascript:alert(1)"}, "target"),
        ({"kind": "slack", "target": HOOK, "time_zone": "Nowhere/City"}, "time_zone"),
        ({"kind": "slack", "target": HOOK, "quiet_hours": "07:00-07:00"}, "quiet_hours"),
        ({"kind": "slack", "target": HOOK, "quiet_hours": "7pm-7am"}, "quiet_hours"),
        ({"kind": "slack", "target": HOOK, "min_score": 2}, "min_score"),
        ({"kind": "slack", "target": HOOK, "reasons": ["new_match", "x"]}, "reasons"),
        ({"kind": "slack", "target": HOOK, "starts_after_event": 0}, "starts_after_event"),
        ({"kind": "fax", "target": HOOK}, "kind"),
        ({"kind": "slack", "target": HOOK, "digest_at": "noon"}, "digest_at"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(
    api: APIClient, body: dict[str, Any], field: str
) -> None:
    response = api.post(f"{BASE}/channels/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Channel.objects.exists()


def test_patch_keeps_the_target_when_empty_and_validates(api: APIClient) -> None:
    channel = add_channel("slack", HOOK)
    url = f"{BASE}/channels/{channel.pk}/"
    response = api.patch(url, {"target": "", "enabled": False, "mode": "daily"}, format="json")
    assert response.status_code == 200
    channel.refresh_from_db()
    assert (channel.target, channel.enabled, channel.mode) == (HOOK, False, "daily")
    bad = api.patch(url, {"time_zone": "Atlantis/Capital"}, format="json")
    assert bad.status_code == 400
    channel.refresh_from_db()
    assert channel.time_zone == "UTC"
    assert api.patch(url, {"kind": "email"}, format="json").status_code == 400


def test_test_is_queued_and_deliveries_list_with_status(api: APIClient) -> None:
    channel = add_channel("slack", HOOK)
    response = api.post(f"{BASE}/channels/{channel.pk}/test/")
    assert response.status_code == 202
    delivery = Delivery.objects.get()
    assert delivery.kind == DeliveryKind.TEST
    assert response.json()["id"] == str(delivery.id)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, last_error="HTTP 404 Not Found"
    )
    listed = api.get(f"{BASE}/deliveries/", {"channel": channel.pk}).json()
    [row] = listed["results"]
    assert row["status_text"] == "failed: HTTP 404 Not Found"
    other = add_channel("discord", "https://discord.com/api/webhooks/1/other")
    assert api.post(f"{BASE}/channels/{other.pk}/test/").status_code == 202
    assert len(api.get(f"{BASE}/deliveries/").json()["results"]) == 2
    [again] = api.get(f"{BASE}/deliveries/", {"channel": channel.pk}).json()["results"]
    assert again["id"] == str(delivery.id)
    assert api.get(f"{BASE}/deliveries/", {"channel": "x"}).status_code == 400
    assert api.get(f"{BASE}/deliveries/not-a-uuid/").status_code == 404
    assert api.get(f"{BASE}/deliveries/{delivery.pk}/").status_code == 200


def test_delete(api: APIClient) -> None:
    channel = add_channel("slack", HOOK)
    assert api.delete(f"{BASE}/channels/{channel.pk}/").status_code == 204
    assert not Channel.objects.exists()
    assert api.delete(f"{BASE}/channels/{channel.pk}/").status_code == 404


@override_settings(API_KEYS=frozenset({"k" * 32}))
def test_keys_protect_the_alerts_api(api: APIClient) -> None:
    assert api.get(f"{BASE}/channels/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION="Bearer " + "k" * 32)
    assert api.get(f"{BASE}/channels/").status_code == 200
