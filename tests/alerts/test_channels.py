"""Each channel's message as its real receiver gets it: ntfy, Slack, Discord (within its
limits) and email through a real SMTP server."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.header import decode_header, make_header
from typing import Any

import pytest

from alerts import messages, services
from alerts.models import Delivery, DeliveryStatus
from tests.alerts.helpers import add_channel
from tests.alerts.receivers import HttpReceiver, SmtpReceiver
from tests.factories import make_job, make_source

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_ntfy_plain_text_with_title_click_priority_tags(receiver: HttpReceiver) -> None:
    add_channel("ntfy", receiver.url("/jobs-topic"))
    job = make_job(title="Ingénieur Python 🐍", score=0.85, location="Paris")
    services.run_pass(now=T0)
    [request] = receiver.wait_for(1)
    assert request.path == "/jobs-topic"
    title = str(make_header(decode_header(request.headers["title"])))
    assert title == f"New match: Ingénieur Python 🐍 at {job.company}"
    assert request.headers["click"] == job.url
    assert request.headers["priority"] == "4"
    assert request.headers["tags"] == "briefcase"
    text = request.body.decode()
    assert "Ingénieur Python 🐍" in text
    assert "Paris" in text
    assert f"Job: {job.url}" in text


def test_slack_text_and_blocks(receiver: HttpReceiver) -> None:
    add_channel("slack", receiver.url("/services/T/B/X"))
    make_job(title="Data <Engineer> & more", score=0.9, apply_url="https://apply.example/1")
    services.run_pass(now=T0)
    body = receiver.wait_for(1)[0].json()
    assert body["text"].startswith("New match: Data <Engineer>")
    assert body["blocks"][0]["type"] == "header"
    section = body["blocks"][1]["text"]["text"]
    assert "Data &lt;Engineer&gt; &amp; more" in section  # Slack's own escaping
    assert "<https://apply.example/1|Apply>" in section


def _many_cards(count: int, title_length: int) -> list[dict[str, Any]]:
    cards = []
    for n in range(count):
        cards.append(
            {
                "job_id": n, "title": f"{n} " + "T" * title_length, "company": f"Company {n % 13}",
                "location": "Remote " * 20, "workplace": "remote", "salary": "USD 1-2 / year",
                "score": n / count, "reasons": ["a reason " * 30] * 3,
                "url": f"https://example.com/{n}", "apply_url": f"https://example.com/a/{n}",
                "status": "open",
            }
        )  # fmt: skip
    return cards


@pytest.mark.parametrize(("count", "title_length"), [(1, 400), (3, 50), (40, 300), (200, 40)])
def test_discord_embeds_stay_within_discords_limits(count: int, title_length: int) -> None:
    kind = "job_alert" if count == 1 else "digest"
    body = messages.payload(
        kind, "new_match" if count == 1 else "digest", _many_cards(count, title_length)
    )
    out = messages.discord_message(messages.Envelope("id", "2026-11-30T12:00:00.000Z", body))
    embeds = out["embeds"]
    assert 1 <= len(embeds) <= 10
    assert len(out["content"]) <= 2000
    total = 0
    for embed in embeds:
        assert len(embed["title"]) <= 256
        assert len(embed["description"]) <= 4096
        total += len(embed["title"]) + len(embed["description"])
    assert total <= 6000
    if count > 10:
        assert embeds[-1]["title"] == "More"


def test_slack_blocks_stay_within_slacks_limits() -> None:
    body = messages.payload("digest", "digest", _many_cards(120, 300))
    out = messages.slack_message(messages.Envelope("id", "2026-11-30T12:00:00.000Z", body))
    assert len(out["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in out["blocks"])
    assert "more" in out["blocks"][-1]["text"]["text"]


def test_discord_digest_embed_per_company_sorted_by_score(receiver: HttpReceiver) -> None:
    add_channel("discord", receiver.url("/api/webhooks/1/abc"), mode="daily")
    acme, globex = make_source(name="Acme"), make_source(name="Globex")
    make_job(acme, company="Acme", title="Acme one", score=0.6)
    make_job(globex, company="Globex", title="Globex one", score=0.9)
    services.run_pass(now=T0, force=True)
    body = receiver.wait_for(1)[0].json()
    assert body["content"] == "JobSentinel digest: 2 jobs"
    assert [e["title"] for e in body["embeds"]] == ["Globex", "Acme"]
    assert body["allowed_mentions"] == {"parse": []}


def test_email_multipart_text_and_html_through_smtp(
    smtp_receiver: SmtpReceiver, settings: Any
) -> None:
    settings.EMAIL_URL = smtp_receiver.url
    settings.EMAIL_FROM = "JobSentinel <alerts@example.com>"
    add_channel("email", "me@example.com")
    job = make_job(title="Platform <Engineer>", score=0.9, location="Berlin")
    services.run_pass(now=T0)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SENT, delivery.status_text
    [mail] = smtp_receiver.inbox
    assert mail["To"] == "me@example.com"
    assert mail["From"] == "JobSentinel <alerts@example.com>"
    assert mail["Subject"] == f"New match: Platform <Engineer> at {job.company}"
    assert mail["Message-ID"] == f"<{delivery.id}@jobsentinel>"
    text_part = mail.get_body(preferencelist=("plain",))
    html_part = mail.get_body(preferencelist=("html",))
    assert text_part is not None
    assert html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert "Platform <Engineer>" in text
    assert job.url in text
    assert "Platform &lt;Engineer&gt;" in html  # escaped in HTML
    assert f'href="{job.url}"' in html


def test_email_without_a_server_configured_is_retried_with_the_reason(settings: Any) -> None:
    settings.EMAIL_URL = None
    add_channel("email", "me@example.com")
    make_job(score=0.9)
    services.run_pass(now=T0)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert "JOBSENTINEL_EMAIL_URL is not set" in delivery.last_error


def test_smtp_url_forms() -> None:
    from alerts.senders.email import parse_email_url

    plain = parse_email_url("smtp://mail.local:2525")
    assert (plain.host, plain.port, plain.starttls, plain.ssl) == ("mail.local", 2525, False, False)
    tls = parse_email_url("smtp+tls://me%40x.com:p%3Ass@smtp.x.com")
    assert (tls.port, tls.starttls, tls.username, tls.password) == (587, True, "me@x.com", "p:ss")
    assert parse_email_url("smtps://u:p@smtp.x.com").ssl
    with pytest.raises(ValueError, match="scheme"):
        parse_email_url("http://smtp.x.com")


def test_apprise_url_through_apprise_to_a_real_receiver(
    receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    add_channel("apprise", f"json://127.0.0.1:{receiver.port}/apprise/TOKEN-xyz")
    job = make_job(title="SRE", score=0.9)
    services.run_pass(now=T0)
    [request] = receiver.wait_for(1)
    assert request.path == "/apprise/TOKEN-xyz"
    body = request.json()
    assert body["title"] == f"New match: SRE at {job.company}"
    assert job.url in body["message"]
    assert Delivery.objects.get().status == DeliveryStatus.SENT
    assert "TOKEN-xyz" not in "\n".join(r.getMessage() for r in caplog.records)
