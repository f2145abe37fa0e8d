"""The Alerts page in a real browser against a real daphne: the forms post (CSRF passes with
the page's referrer policy, which keeps the Origin), a bad value is refused on the page, a test
is queued and shows in the deliveries, the CSP holds (no inline script, no errors)."""

from __future__ import annotations

from typing import Any

import pytest

from alerts.models import Channel, Delivery, DeliveryKind
from tests.conftest import Daphne

pytestmark = pytest.mark.browser


def test_add_test_and_pause_a_channel_in_the_browser(page: Any, daphne_factory: Any) -> None:
    server: Daphne = daphne_factory()
    csp_errors: list[str] = []
    page.on(
        "console", lambda m: csp_errors.append(m.text) if "Content Security" in m.text else None
    )
    page.goto(f"{server.http_url}/alerts/")
    assert page.locator("h1").inner_text() == "Alerts"

    page.select_option("#id_kind", "ntfy")
    page.fill("#id_target", "http://127.0.0.1:9/alerts-topic-SECRET")
    page.fill("#id_quiet_hours", "22:00-07:00")
    page.fill("#id_time_zone", "Nowhere/Town")
    page.click("text=Add channel")
    page.wait_for_selector(".field.has-errors")
    assert "unknown time zone" in page.locator(".error").first.inner_text()
    assert not Channel.objects.exists()

    page.fill("#id_target", "http://127.0.0.1:9/alerts-topic-SECRET")  # never re-rendered
    page.fill("#id_time_zone", "Europe/Berlin")
    page.click("text=Add channel")
    page.wait_for_selector("text=Channel added.")
    channel = Channel.objects.get()
    assert channel.time_zone == "Europe/Berlin"
    assert "SECRET" not in page.content()

    page.click(f'[data-channel-id="{channel.pk}"] >> text=Send test')
    page.wait_for_selector("text=Test message queued")
    assert Delivery.objects.get().kind == DeliveryKind.TEST
    assert page.locator("[data-delivery-id]").count() == 1

    page.click(f'[data-channel-id="{channel.pk}"] >> text=Pause')
    page.wait_for_selector("text=Channel paused.")
    channel.refresh_from_db()
    assert channel.enabled is False
    assert page.errors == []
    assert csp_errors == []
