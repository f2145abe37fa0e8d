"""The Alerts page and the admin: channels masked, forms validated by the services, secrets
shown once, failures shown as "failed: reason", CSRF and the page's policy kept."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client, override_settings

from alerts.models import Channel, Delivery, DeliveryKind, DeliveryStatus
from realtime.log import latest_id
from tests.alerts.helpers import add_channel
from tests.factories import make_job

pytestmark = pytest.mark.django_db
HOOK = "https://discord.com/api/webhooks/123/SECRETPART"


def form(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "discord", "target": HOOK, "name": "", "secret": "", "scope": "score",
        "min_score": "", "reasons": ["new_match", "reopened"], "mode": "instant",
        "digest_at": "09:00", "digest_weekday": "0", "time_zone": "UTC", "quiet_hours": "",
        "max_per_hour": "60",
    }  # fmt: skip
    data.update(fields)
    return data


def test_page_lists_masked_channels_and_failed_deliveries(client: Client) -> None:
    channel = add_channel("discord", HOOK, name="My Discord")
    Delivery.objects.create(
        channel=channel, kind=DeliveryKind.JOB_ALERT, payload={"type": "job_alert",
        "reason": "new_match", "jobs": []}, status=DeliveryStatus.FAILED,
        last_error="HTTP 404 Not Found",
    )  # fmt: skip
    response = client.get("/alerts/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "My Discord" in html
    assert "SECRETPART" not in html
    assert "https://discord.com/…" in html
    assert "failed: HTTP 404 Not Found" in html
    assert "<script" not in html  # no inline (or any) script: the CSP holds
    assert "form-action 'self'" in response["Content-Security-Policy"]
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert '<meta name="referrer" content="same-origin">' in html


def test_add_from_the_page(client: Client) -> None:
    response = client.post("/alerts/channels/", form(quiet_hours="23:00-06:30",
                           time_zone="Asia/Tokyo"))  # fmt: skip
    assert response.status_code == 302
    channel = Channel.objects.get()
    assert channel.kind == "discord"
    assert channel.reasons == ["new_match", "reopened"]
    assert str(channel.quiet_start) == "23:00:00"
    assert channel.time_zone == "Asia/Tokyo"
    assert "Channel added." in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"target": "ftp://x/y"}, "Not an http:// or https:// URL"),
        ({"time_zone": "Moon/Base"}, "unknown time zone"),
        ({"quiet_hours": "10:00-10:00"}, "empty range"),
        ({"quiet_hours": "late"}, "must look like 22:00-07:00"),
        ({"digest_at": "25:00"}, "HH:MM"),
        ({"kind": "email", "target": "not-an-address"}, "is not an email address"),
    ],
)
def test_bad_input_on_the_page_says_why_and_saves_nothing(
    client: Client, fields: dict[str, str], message: str
) -> None:
    response = client.post("/alerts/channels/", form(**fields))
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Channel.objects.exists()


def test_a_generated_webhook_secret_is_shown_once(client: Client) -> None:
    response = client.post("/alerts/channels/", form(kind="webhook", target="http://127.0.0.1:9/h"))
    assert response.status_code == 200
    secret = Channel.objects.get().secret
    assert re.search(rf"<code data-secret>{re.escape(secret)}</code>", response.content.decode())
    assert secret not in client.get("/alerts/").content.decode()


def test_test_pause_and_remove_buttons(client: Client) -> None:
    channel = add_channel("discord", HOOK)
    assert client.post(f"/alerts/channels/{channel.pk}/test").status_code == 302
    assert Delivery.objects.get().kind == DeliveryKind.TEST
    client.post(f"/alerts/channels/{channel.pk}/toggle")
    channel.refresh_from_db()
    assert channel.enabled is False
    assert client.get(f"/alerts/channels/{channel.pk}/delete").status_code == 405
    client.post(f"/alerts/channels/{channel.pk}/delete")
    assert not Channel.objects.exists()


def test_page_forms_need_csrf() -> None:
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/alerts/channels/", form()).status_code == 403
    assert not Channel.objects.exists()


@override_settings(API_KEYS=frozenset({"k" * 32}))
def test_page_is_private_when_keys_are_configured(client: Client) -> None:
    assert client.get("/alerts/").status_code == 302
    assert client.post("/alerts/channels/", form()).status_code == 302
    assert not Channel.objects.exists()


def test_admin_masks_and_validates_through_the_services(admin_client: Client) -> None:
    channel = add_channel("discord", HOOK, name="Ops")
    listing = admin_client.get("/admin/alerts/channel/").content.decode()
    assert "Ops" in listing
    assert "SECRETPART" not in listing
    change = admin_client.get(f"/admin/alerts/channel/{channel.pk}/change/").content.decode()
    assert "SECRETPART" not in change
    data = {
        "name": "Ops", "kind": "discord", "target": "", "secret": "", "enabled": "on",
        "scope": "score", "min_score": "", "reasons": '["new_match"]', "mode": "instant",
        "digest_at": "09:00", "digest_weekday": "0", "time_zone": "Mars/Base",
        "quiet_start": "", "quiet_end": "", "max_per_hour": "60",
    }  # fmt: skip
    refused = admin_client.post(f"/admin/alerts/channel/{channel.pk}/change/", data)
    assert refused.status_code == 200
    assert "unknown time zone" in refused.content.decode().replace("&#x27;", "'")
    data["time_zone"] = "Europe/Paris"
    saved = admin_client.post(f"/admin/alerts/channel/{channel.pk}/change/", data)
    assert saved.status_code == 302
    channel.refresh_from_db()
    assert (channel.target, channel.time_zone, channel.reasons) == (
        HOOK,
        "Europe/Paris",
        ["new_match"],
    )
    assert admin_client.get("/admin/alerts/delivery/").status_code == 200
    assert admin_client.get("/admin/alerts/alert/").status_code == 200


def test_admin_adds_a_channel_through_the_service(admin_client: Client) -> None:
    data = {
        "name": "Hook", "kind": "webhook", "target": "http://127.0.0.1:9/hook", "secret": "",
        "enabled": "on", "scope": "any", "min_score": "", "reasons": '["new_match"]',
        "mode": "daily", "digest_at": "07:30", "digest_weekday": "0", "time_zone": "UTC",
        "quiet_start": "", "quiet_end": "", "max_per_hour": "60",
    }  # fmt: skip
    refused = admin_client.post("/admin/alerts/channel/add/", data)
    assert refused.status_code == 200
    assert "needs a signing secret" in refused.content.decode()
    assert not Channel.objects.exists()
    data["secret"] = "a-long-enough-secret-123"
    make_job()  # an event before the channel: no backfill of it
    assert admin_client.post("/admin/alerts/channel/add/", data).status_code == 302
    channel = Channel.objects.get()
    assert (channel.kind, channel.mode, channel.scope) == ("webhook", "daily", "any")
    assert channel.starts_after_event == latest_id() > 0
