"""From a committed change to a message at a real receiver: formats, signature, exactly once,
retries, failures, quiet hours, digests and the hourly cap, with a controlled clock."""

from __future__ import annotations

import logging
import time as time_module
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from alerts import services
from alerts.models import Alert, Delivery, DeliveryStatus, Route
from alerts.senders.webhook import signature
from jobs.models import ApplicationStatus, JobStatus
from tests.alerts.helpers import SECRET, add_channel, docs_verify
from tests.alerts.receivers import Answer, HttpReceiver
from tests.factories import make_job, make_source

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_webhook_signed_and_verified_by_the_docs_snippet(receiver: HttpReceiver) -> None:
    channel = add_channel("webhook", receiver.url("/in"))
    job = make_job(
        title="Senior Python Engineer",
        score=0.9,
        salary_min=Decimal(120000),
        salary_max=Decimal(150000),
        salary_currency="USD",
        salary_interval="year",
        apply_url="https://boards.example.com/apply/1",
        score_reasons=[
            {"rule": "title", "points": 0.4, "detail": "title matches 'python'"},
            {"rule": "remote", "points": 0.2, "detail": "remote"},
        ],
    )
    result = services.run_pass(now=T0)
    assert (result.alerts, result.attempted) == (1, 1)
    [request] = receiver.wait_for(1)
    delivery = Delivery.objects.get(channel=channel)
    assert delivery.status == DeliveryStatus.SENT
    assert request.headers["x-jobsentinel-delivery"] == str(delivery.id)
    assert docs_verify()(SECRET, request.body, request.headers["x-jobsentinel-signature"])
    assert not docs_verify()("another-secret-0123456789", request.body,
                             request.headers["x-jobsentinel-signature"])  # fmt: skip
    assert not docs_verify()(
        SECRET, request.body + b" ", request.headers["x-jobsentinel-signature"]
    )
    body = request.json()
    assert body["type"] == "job_alert"
    assert body["reason"] == "new_match"
    assert body["id"] == str(delivery.id)
    assert body["timestamp"].endswith("Z")
    [card] = body["jobs"]
    assert card["job_id"] == job.pk
    assert card["title"] == "Senior Python Engineer"
    assert card["salary"] == "USD 120,000-150,000 / year"
    assert card["reasons"][0] == "title matches 'python'"
    assert card["apply_url"] == "https://boards.example.com/apply/1"
    assert set(card) == {"job_id", "title", "company", "location", "workplace", "salary",
                         "score", "reasons", "url", "apply_url", "status"}  # fmt: skip


def test_an_old_signature_fails_the_docs_check() -> None:
    verify = docs_verify()
    body = b'{"type":"test"}'
    # The snippet checks freshness against the real clock (as a receiver would), so "old" is an
    # hour before now, not before the test's fixed T0 (which is only an hour from some real now).
    an_hour_ago = int(time_module.time()) - 3600
    assert verify(SECRET, body, signature(SECRET, body, timestamp=an_hour_ago)) is False
    assert verify(SECRET, body, signature(SECRET, body, timestamp=int(time_module.time()))) is True


def test_no_backfill_and_below_threshold_is_not_alerted(receiver: HttpReceiver) -> None:
    make_job(score=0.9)  # before the channel existed
    add_channel("webhook", receiver.url(), min_score=0.6)
    make_job(score=0.3)  # below its threshold
    assert services.run_pass(now=T0).alerts == 0
    assert receiver.received == []


def test_each_channel_job_reason_once_ever(receiver: HttpReceiver) -> None:
    add_channel("webhook", receiver.url())
    job = make_job(score=0.8)
    services.run_pass(now=T0)
    services.run_pass(now=at(1))
    # Closed and reopened twice: "reopened" is alerted once.
    for _ in range(2):
        job.status = JobStatus.CLOSED
        job.save(update_fields=["status"])
        job.status = JobStatus.OPEN
        job.save(update_fields=["status"])
        services.run_pass(now=at(2))
    reasons = [r.json()["reason"] for r in receiver.wait_for(2)]
    assert sorted(reasons) == ["new_match", "reopened"]
    assert Alert.objects.count() == 2
    assert len(receiver.received) == 2


def test_retries_500_then_429_honouring_retry_after_with_one_delivery_id(
    receiver: HttpReceiver,
) -> None:
    receiver.script = [Answer(500, body="boom"), Answer(429, {"Retry-After": "7"}), Answer(200)]
    add_channel("webhook", receiver.url())
    make_job(score=0.9)
    services.run_pass(now=T0)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert "HTTP 500" in delivery.last_error
    first_wait = (delivery.next_attempt_at - T0).total_seconds()
    assert 0 < first_wait <= 10  # backoff starts within 10 s
    assert services.run_pass(now=at(first_wait - 1)).attempted == 0  # not due yet
    services.run_pass(now=at(first_wait))
    delivery.refresh_from_db()
    assert "HTTP 429" in delivery.last_error
    assert delivery.next_attempt_at == at(first_wait + 7)  # Retry-After honoured
    services.run_pass(now=at(first_wait + 7))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 3
    ids = {r.headers["x-jobsentinel-delivery"] for r in receiver.wait_for(3)}
    assert ids == {str(delivery.id)}
    assert len({r.body for r in receiver.received}) == 1  # the same message each time


def test_backoff_doubles_caps_at_ten_minutes_and_gives_up_after_a_day(
    receiver: HttpReceiver,
) -> None:
    receiver.default = Answer(503)
    add_channel("webhook", receiver.url())
    make_job(score=0.9)
    now = T0
    services.run_pass(now=now)
    delivery = Delivery.objects.get()
    waits = []
    while delivery.status == DeliveryStatus.PENDING:
        waits.append((delivery.next_attempt_at - now).total_seconds())
        now = delivery.next_attempt_at
        services.send_due(now=now)
        delivery.refresh_from_db()
    assert waits[:4] == [5, 10, 20, 40]
    assert max(waits) == 600
    assert now - T0 >= timedelta(hours=24)
    assert now - T0 < timedelta(hours=24, minutes=11)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.status_text.startswith("failed: gave up after 24 hours")


def test_a_4xx_fails_at_once_and_says_failed(receiver: HttpReceiver) -> None:
    receiver.default = Answer(404, body="no such hook")
    add_channel("slack", receiver.url("/services/T000/B000/XXXX"))
    make_job(score=0.9)
    services.run_pass(now=T0)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert delivery.status_text == "failed: HTTP 404 Not Found: no such hook"
    assert services.run_pass(now=at(3600)).attempted == 0


def test_a_timeout_is_retried(receiver: HttpReceiver, settings: object) -> None:
    settings.ALERTS_TIMEOUT_SECONDS = 0.5  # type: ignore[attr-defined]
    receiver.script = [Answer(200, delay=2.0)]
    add_channel("webhook", receiver.url())
    make_job(score=0.9)
    services.run_pass(now=T0)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert "timed out" in delivery.last_error
    services.run_pass(now=at(5))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_an_unreachable_receiver_is_retried() -> None:
    from tests.conftest import free_port

    add_channel("webhook", f"http://127.0.0.1:{free_port()}/hook")
    make_job(score=0.9)
    services.run_pass(now=T0)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert "could not connect" in delivery.last_error


def test_quiet_hours_hold_then_release_together_within_a_minute(receiver: HttpReceiver) -> None:
    # 22:00-07:00 in Berlin (UTC+1 in November): 21:00-06:00 UTC.
    add_channel("webhook", receiver.url(), quiet_start=time(22), quiet_end=time(7),
                time_zone="Europe/Berlin")  # fmt: skip
    night = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    make_job(score=0.9, title="First")
    make_job(score=0.7, title="Second")
    services.run_pass(now=night)
    assert receiver.received == []
    assert Alert.objects.filter(route=Route.HELD).count() == 2
    services.run_pass(now=datetime(2026, 12, 1, 5, 59, 59, tzinfo=UTC))  # 06:59:59 local
    assert receiver.received == []
    services.run_pass(now=datetime(2026, 12, 1, 6, 0, 30, tzinfo=UTC))  # quiet hours over
    [request] = receiver.wait_for(1)
    body = request.json()
    assert body["type"] == "digest"
    assert body["reason"] == "held"
    assert [j["title"] for j in body["jobs"]] == ["First", "Second"]


def test_daily_digest_at_its_local_time_grouped_by_company_by_score(
    receiver: HttpReceiver,
) -> None:
    add_channel("webhook", receiver.url(), mode="daily", digest_at=time(8, 30),
                time_zone="America/New_York")  # fmt: skip
    acme, globex = make_source(name="Acme"), make_source(name="Globex")
    make_job(acme, company="Acme", title="A low", score=0.6)
    make_job(globex, company="Globex", title="G top", score=0.95)
    make_job(acme, company="Acme", title="A high", score=0.9)
    morning = datetime(2026, 12, 1, 13, 29, tzinfo=UTC)  # 08:29 in New York
    services.run_pass(now=morning)
    assert receiver.received == []
    services.run_pass(now=morning + timedelta(minutes=1))
    [request] = receiver.wait_for(1)
    body = request.json()
    assert body["type"] == "digest"
    assert [j["title"] for j in body["jobs"]] == ["G top", "A high", "A low"]
    # The next day's digest is not sent empty, and nothing is sent twice.
    services.run_pass(now=morning + timedelta(days=1, minutes=1))
    assert len(receiver.received) == 1


def test_weekly_digest_waits_for_its_weekday(receiver: HttpReceiver) -> None:
    add_channel("webhook", receiver.url(), mode="weekly", digest_at=time(9), digest_weekday=4)
    make_job(score=0.9)
    services.run_pass(now=datetime(2026, 12, 3, 9, 0, tzinfo=UTC))  # a Thursday
    assert receiver.received == []
    services.run_pass(now=datetime(2026, 12, 4, 9, 0, tzinfo=UTC))  # Friday 09:00
    assert receiver.wait_for(1)[0].json()["type"] == "digest"


def test_over_the_hourly_cap_the_rest_wait_for_the_digest(receiver: HttpReceiver) -> None:
    add_channel("webhook", receiver.url(), max_per_hour=2, digest_at=time(18))
    for n in range(5):
        make_job(score=0.9, title=f"Job {n}")
    services.run_pass(now=T0)
    assert len(receiver.wait_for(2)) == 2
    assert Alert.objects.filter(route=Route.DIGEST).count() == 3
    services.run_pass(now=datetime(2026, 11, 30, 18, 0, tzinfo=UTC))
    digest = receiver.wait_for(3)[2].json()
    assert digest["type"] == "digest"
    assert len(digest["jobs"]) == 3


def test_change_reasons_on_starred_and_marked_jobs(receiver: HttpReceiver) -> None:
    add_channel("webhook", receiver.url(), min_score=0.99)
    job = make_job(score=0.5, starred=True)
    services.run_pass(now=T0)
    assert receiver.received == []  # below the threshold: no new_match
    job.salary_min = Decimal(90000)
    job.save(update_fields=["salary_min"])
    job.title = "Staff Engineer"
    job.save(update_fields=["title"])
    job.status = JobStatus.CLOSED
    job.save(update_fields=["status"])
    applied = make_job(score=0.5, starred=True, application_status=ApplicationStatus.APPLIED)
    applied.status = JobStatus.CLOSED
    applied.save(update_fields=["status"])
    unstarred = make_job(score=0.5)
    unstarred.title = "Changed"
    unstarred.save(update_fields=["title"])
    services.run_pass(now=at(1))
    got = sorted((r.json()["reason"], r.json()["jobs"][0]["job_id"]) for r in receiver.wait_for(2))
    assert got == [("closed", job.pk), ("updated", job.pk)]


def test_a_board_gone_dark_is_alerted_once_per_spell(receiver: HttpReceiver) -> None:
    from jobs.models import ScrapeRun, ScrapeStatus

    add_channel("webhook", receiver.url())
    source = make_source(name="Initech")

    def run(status: str) -> None:
        scrape = ScrapeRun.objects.create(source=source)
        scrape.status = status
        scrape.jobs_found = 0 if status == ScrapeStatus.FAILED else 5
        scrape.error_message = "HTTP 503" if status == ScrapeStatus.FAILED else ""
        scrape.save(update_fields=["status", "error_message", "jobs_found"])

    for status in ["succeeded", "failed", "failed", "failed", "failed", "succeeded",
                   "failed", "failed", "failed"]:  # fmt: skip
        run(status)
    services.run_pass(now=T0)
    bodies = [r.json() for r in receiver.wait_for(2)]
    assert len(receiver.received) == 2
    assert {b["reason"] for b in bodies} == {"board_dark"}
    assert bodies[0]["boards"][0]["name"] == "Initech"
    assert bodies[0]["boards"][0]["error"] == "HTTP 503"


def test_nothing_secret_in_any_log_line(
    receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slack_path = "/services/T0SECRET/B0SECRET/abcdefSECRETTOKEN"
    receiver.by_path[slack_path] = [Answer(500, body=f"bad hook {slack_path}"),
                                    Answer(404, body=slack_path)]  # fmt: skip
    add_channel("slack", receiver.url(slack_path))
    add_channel("webhook", receiver.url("/hook/with-TOKEN-in-path"), secret="HMAC-KEY-0123456789")
    make_job(score=0.9)
    services.run_pass(now=T0)
    services.run_pass(now=at(60))
    assert caplog.records, "the deliveries were expected to log"
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("SECRET", "TOKEN", "HMAC-KEY"):
        assert secret not in text
    for delivery in Delivery.objects.all():
        assert "SECRET" not in delivery.last_error
        assert "TOKEN" not in delivery.last_error


def test_a_board_flagged_gone_dark_is_alerted_once_per_spell(receiver: HttpReceiver) -> None:
    """Board health's `gone_dark` flag (a board answering 404 or empty) counts too."""
    from jobs.models import ScrapeRun, Source

    add_channel("webhook", receiver.url())
    source = make_source(name="Hooli")

    def run(jobs_found: int) -> None:
        scrape = ScrapeRun.objects.create(source=source)
        scrape.status, scrape.jobs_found = "succeeded", jobs_found
        scrape.save(update_fields=["status", "jobs_found"])

    run(4)
    Source.objects.filter(pk=source.pk).update(gone_dark=True)  # as board health sets it
    run(0)
    run(0)
    services.run_pass(now=T0)
    [request] = receiver.wait_for(1)
    assert request.json()["boards"][0]["error"] == "the board answers with no jobs"
    assert len(receiver.received) == 1
