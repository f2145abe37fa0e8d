"""`add_alert` and `alerts`: ids printed, bad input refused with nothing saved, targets masked,
a test message sent, --flush sending what waits."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from alerts.models import Channel, Delivery, DeliveryStatus, Mode
from tests.alerts.receivers import Answer, HttpReceiver
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_add_alert_prints_the_id_and_saves_every_option(receiver: HttpReceiver) -> None:
    out = run(
        "add_alert", "slack", receiver.url("/services/T1/B2/secretpart"), "--name", "Team",
        "--min-score", "0.8", "--digest", "weekly", "--at", "07:45", "--weekday", "fri",
        "--max-per-hour", "5", "--quiet", "22:00-07:00", "--time-zone", "Europe/Berlin",
    )  # fmt: skip
    channel = Channel.objects.get()
    assert f"(id {channel.pk})" in out
    assert "secretpart" not in out  # masked
    assert (channel.name, channel.min_score, channel.mode) == ("Team", 0.8, Mode.WEEKLY)
    assert (channel.digest_at, channel.digest_weekday, channel.max_per_hour) == (time(7, 45), 4, 5)
    assert (channel.quiet_start, channel.quiet_end) == (time(22), time(7))
    assert channel.time_zone == "Europe/Berlin"


@pytest.mark.parametrize(
    "target",
    [
        "http://ntfy/alerts",
        "http://127.0.0.1:8080/t",
        "https://[::1]/t",
        "http://homeassistant.local:8123/api/webhook/x",
    ],
)
def test_add_alert_takes_any_http_target(target: str) -> None:
    run("add_alert", "ntfy", target)
    assert Channel.objects.get().target == target


def test_add_alert_webhook_secret_generated_and_printed_once(receiver: HttpReceiver) -> None:
    out = run("add_alert", "webhook", receiver.url())
    channel = Channel.objects.get()
    assert len(channel.secret) >= 32
    assert channel.secret in out
    listing = run("alerts")
    assert channel.secret not in listing
    assert receiver.url() not in listing


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["webhook", "ftp://example.com/x"], "http:// or https://"),
        (["slack", "not a url"], "http:// or https://"),
        (["slack", "https://"], "http:// or https://"),
        (["slack", "https://x.example:99999/hook"], "http:// or https://"),
        (["slack", "https://x.example/a b"], "http:// or https://"),
        (["email", "nobody"], "not an email address"),
        (["ntfy", "https://ntfy.sh"], "server and topic"),
        (["pager", "https://x.example/y"], "kind"),
        (["webhook", "https://x.example/y", "--time-zone", "Mars/Olympus"], "unknown time zone"),
        (["webhook", "https://x.example/y", "--quiet", "22:00-22:00"], "empty range"),
        (["webhook", "https://x.example/y", "--quiet", "25:00-07:00"], "HH:MM"),
        (["webhook", "https://x.example/y", "--quiet", "22:00"], "22:00-07:00"),
        (["webhook", "https://x.example/y", "--at", "9pm"], "HH:MM"),
        (["webhook", "https://x.example/y", "--min-score", "1.5"], "between 0 and 1"),
        (["webhook", "https://x.example/y", "--max-per-hour", "0"], "At least 1"),
        (["webhook", "https://x.example/y", "--on", "new_match,lunch"], "lunch"),
        (["webhook", "https://x.example/y", "--secret", "short"], "16 characters"),
    ],
)
def test_add_alert_refuses_bad_input_and_saves_nothing(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("add_alert", *args)
    assert not Channel.objects.exists()


def test_add_alert_apprise_without_the_extra_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)  # as if not installed
    with pytest.raises(CommandError, match="Apprise is not installed"):
        run("add_alert", "apprise", "tgram://bot/chat")
    assert not Channel.objects.exists()


def test_alerts_lists_channels_and_deliveries_with_failures_named(receiver: HttpReceiver) -> None:
    receiver.default = Answer(410, body="gone")
    run("add_alert", "discord", receiver.url("/api/webhooks/1/tok"), "--min-score", "0")
    make_job(score=0.9)
    run("alerts", "--flush")
    out = run("alerts")
    channel = Channel.objects.get()
    assert f"(id {channel.pk})" in out
    assert "failed: HTTP 410 Gone: gone" in out
    assert "/api/webhooks/1/tok" not in out


def test_alerts_test_sends_a_test_message(receiver: HttpReceiver) -> None:
    run("add_alert", "webhook", receiver.url(), "--secret", "x" * 20)
    channel = Channel.objects.get()
    out = run("alerts", "--test", str(channel.pk))
    assert "sent" in out
    body = receiver.wait_for(1)[0].json()
    assert body["type"] == "test"
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_alerts_test_of_a_failing_channel_is_an_error(receiver: HttpReceiver) -> None:
    receiver.default = Answer(403, body="forbidden")
    run("add_alert", "webhook", receiver.url(), "--secret", "x" * 20)
    with pytest.raises(CommandError, match="failed: HTTP 403"):
        run("alerts", "--test", str(Channel.objects.get().pk))
    with pytest.raises(CommandError, match="no alert channel with id 999"):
        run("alerts", "--test", "999")


def test_flush_sends_digests_and_held_alerts_now(receiver: HttpReceiver) -> None:
    run("add_alert", "webhook", receiver.url("/digest"), "--digest", "weekly", "--min-score", "0",
        "--secret", "x" * 20)  # fmt: skip
    # Quiet from an hour ago to an hour from now (UTC).
    now = datetime.now(UTC)
    quiet = f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=1):%H:%M}"
    run("add_alert", "webhook", receiver.url("/quiet"), "--quiet", quiet,
        "--min-score", "0", "--secret", "x" * 20)  # fmt: skip
    make_job(score=0.9)
    out = run("alerts", "--flush")
    assert "2 deliveries attempted" in out
    paths = sorted(r.path for r in receiver.wait_for(2))
    assert paths == ["/digest", "/quiet"]
