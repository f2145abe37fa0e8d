"""Writes. Channels are created and changed here (validated the same way for the page, the
admin, the API and the commands); alerts are made from the event log here; deliveries are
claimed, sent and recorded here.

Every function that depends on the time takes `now`, so tests drive the clock.
"""

from __future__ import annotations

import logging
import secrets
import time as clock
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from alerts import rules, schedule
from alerts.messages import Envelope, board_card, job_card, payload
from alerts.models import (
    ALL_REASONS,
    Alert,
    Channel,
    ChannelKind,
    Cursor,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    JobScope,
    Mode,
    Route,
)
from alerts.senders import Outcome, send
from jobs.models import Job, Preferences
from realtime import log
from realtime.events import iso_timestamp
from realtime.models import Event

logger = logging.getLogger("alerts")

# Retries: the first within 10 s, doubling, at most 10 minutes apart, given up after 24 hours.
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 600.0
GIVE_UP_AFTER = timedelta(hours=24)
# Ids skipped by the cursor that may still commit are looked for again this long.
HOLE_TTL_SECONDS = 600.0
MAX_HOLES = 10_000
EVENTS_PER_PASS = 500
DELIVERIES_PER_PASS = 50


# --- channels -------------------------------------------------------------------------------

_email = EmailValidator()


def _is_http_url(target: str) -> bool:
    """Any http(s) URL with a host: public, loopback, or a bare name on a home network
    (`http://ntfy/alerts`, which Django's URLValidator refuses for having no TLD)."""
    if any(c.isspace() or ord(c) < 32 for c in target):
        return False
    try:
        parts = urlsplit(target)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def clean_target(kind: str, target: str) -> str:
    target = (target or "").strip()
    if not target:
        raise ValidationError({"target": "A target is required."})
    if kind == ChannelKind.EMAIL:
        try:
            _email(target)
        except ValidationError:
            raise ValidationError({"target": f"{target!r} is not an email address."}) from None
        return target
    if kind == ChannelKind.APPRISE:
        try:
            import apprise  # noqa: F401  (an optional extra)
        except ImportError:
            raise ValidationError(
                {"kind": "Apprise is not installed: pip install 'jobsentinel[apprise]'."}
            ) from None
        if "://" not in target:
            raise ValidationError({"target": "An Apprise URL looks like scheme://... ."})
        return target
    if not _is_http_url(target):
        raise ValidationError(
            {"target": "Not an http:// or https:// URL (any host, loopback included)."}
        )
    if kind == ChannelKind.NTFY and len(target.split("://", 1)[1].rstrip("/").split("/")) < 2:
        raise ValidationError(
            {"target": "An ntfy target is the server and topic: https://server/topic."}
        )
    return target


@dataclass
class ChannelFields:
    """Every writable field of a channel, as validated input."""

    kind: str
    target: str
    name: str = ""
    secret: str = ""
    enabled: bool = True
    scope: str = JobScope.SCORE
    min_score: float | None = None
    reasons: list[str] = field(default_factory=lambda: list(ALL_REASONS))
    mode: str = Mode.INSTANT
    digest_at: time = time(9, 0)
    digest_weekday: int = 0
    time_zone: str = "UTC"
    quiet_start: time | None = None
    quiet_end: time | None = None
    max_per_hour: int = 60


WRITABLE = tuple(ChannelFields.__dataclass_fields__)


def _validate(values: ChannelFields) -> ChannelFields:
    errors: dict[str, list[str]] = {}

    def check(name: str, test: bool, message: str) -> None:
        if not test:
            errors.setdefault(name, []).append(message)

    check(
        "kind", values.kind in ChannelKind.values, f"Use one of: {', '.join(ChannelKind.values)}."
    )
    if not errors:
        try:
            values.target = clean_target(values.kind, values.target)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    values.name = (values.name or "").strip()[:100]
    check("scope", values.scope in JobScope.values, f"Use one of: {', '.join(JobScope.values)}.")
    check(
        "min_score",
        values.min_score is None or 0.0 <= values.min_score <= 1.0,
        "A score is between 0 and 1.",
    )
    unknown = [r for r in values.reasons if r not in ALL_REASONS]
    check(
        "reasons",
        not unknown,
        f"Unknown: {', '.join(map(str, unknown))}; use {', '.join(ALL_REASONS)}.",
    )
    check("reasons", bool(values.reasons), "Choose at least one kind of change.")
    check("mode", values.mode in Mode.values, f"Use one of: {', '.join(Mode.values)}.")
    check("digest_weekday", 0 <= values.digest_weekday <= 6, "0 (Monday) to 6 (Sunday).")
    check("max_per_hour", values.max_per_hour >= 1, "At least 1.")
    try:
        schedule.zone(values.time_zone)
    except schedule.ScheduleError as exc:
        errors.setdefault("time_zone", []).append(str(exc))
    try:
        schedule.check_quiet_hours(values.quiet_start, values.quiet_end)
    except schedule.ScheduleError as exc:
        errors.setdefault("quiet_hours", []).append(str(exc))
    if values.kind == ChannelKind.WEBHOOK and values.secret and len(values.secret) < 16:
        errors.setdefault("secret", []).append("Use at least 16 characters.")
    if errors:
        raise ValidationError(errors)
    values.reasons = [r for r in ALL_REASONS if r in values.reasons]
    if not values.name:
        values.name = f"{values.kind} {values.target.split('://')[-1].split('/')[0]}"[:100]
    return values


def channel_check(*, channel: Channel | None = None, **fields: Any) -> None:
    """Validate a new channel's fields, or an edit of `channel`, without saving anything."""
    if channel is not None:
        current = {name: getattr(channel, name) for name in WRITABLE}
        fields = {
            **current,
            **{k: v for k, v in fields.items() if v or k not in ("target", "secret")},
        }
    _validate(ChannelFields(**fields))


def channel_create(*, now: datetime | None = None, **fields: Any) -> tuple[Channel, str]:
    """Validate and save a channel. Returns it and, for a webhook created without a secret,
    the generated secret (shown once: it is never displayed again)."""
    unknown = set(fields) - set(WRITABLE)
    if unknown:
        raise ValidationError({name: "Not a channel field." for name in sorted(unknown)})
    values = _validate(ChannelFields(**fields))
    generated = ""
    if values.kind == ChannelKind.WEBHOOK and not values.secret:
        generated = values.secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        # No backfill: the channel alerts on events committed after this point.
        channel = Channel.objects.create(
            starts_after_event=log.latest_id(), created_at=now or timezone.now(), **vars(values)
        )
    logger.info("alert channel %s (%s) added", channel.pk, channel.kind)
    return channel, generated


def channel_update(*, channel: Channel, **changes: Any) -> Channel:
    unknown = set(changes) - set(WRITABLE)
    if unknown:
        raise ValidationError({name: "Not a channel field." for name in sorted(unknown)})
    current = {name: getattr(channel, name) for name in WRITABLE}
    # An empty target or secret in an edit keeps the saved one: it is never shown to re-type.
    for name in ("target", "secret"):
        if name in changes and not changes[name]:
            del changes[name]
    values = _validate(ChannelFields(**{**current, **changes}))
    changed = [name for name in WRITABLE if getattr(channel, name) != getattr(values, name)]
    for name in changed:
        setattr(channel, name, getattr(values, name))
    if changed:
        channel.save(update_fields=changed)
    return channel


def channel_delete(*, channel: Channel) -> None:
    channel.delete()


# --- from events to alerts ------------------------------------------------------------------


def _read_events(cursor: Cursor, *, limit: int) -> list[Event]:
    now = clock.time()
    holes = {int(i): float(t) for i, t in cursor.holes if now - float(t) < HOLE_TTL_SECONDS}
    condition = Q(id__gt=cursor.last_event_id)
    if holes:
        condition |= Q(id__in=list(holes))
    rows = list(Event.objects.filter(condition).order_by("id")[:limit])
    for row in rows:
        holes.pop(row.id, None)
        if row.id > cursor.last_event_id:
            first_missing = cursor.last_event_id + 1
            for missing in range(first_missing, min(row.id, first_missing + MAX_HOLES)):
                holes.setdefault(missing, now)
            cursor.last_event_id = row.id
    cursor.holes = [[i, t] for i, t in sorted(holes.items())][-MAX_HOLES:]
    return rows


def _hourly_counts(channels: Iterable[Channel], now: datetime) -> dict[int, int]:
    since = now - timedelta(hours=1)
    counts: dict[int, int] = {}
    for channel in channels:
        counts[channel.pk] = Alert.objects.filter(
            channel=channel, route=Route.INSTANT, created_at__gt=since
        ).count()
    return counts


def ingest_events(*, now: datetime | None = None, limit: int = EVENTS_PER_PASS) -> int:
    """Read the events committed since the last call and make their alerts, all in one
    transaction with the cursor: a crash leaves either both or neither."""
    now = now or timezone.now()
    created = 0
    with transaction.atomic():
        cursor, _ = Cursor.objects.select_for_update().get_or_create(id=1)
        events = _read_events(cursor, limit=limit)
        relevant = [e for e in events if e.type in rules.EVENT_TYPES]
        channels = list(Channel.objects.filter(enabled=True))
        if relevant and channels:
            created = _make_alerts(relevant, channels, now=now)
        cursor.save()
    return created


def _make_alerts(events: list[Event], channels: list[Channel], *, now: datetime) -> int:
    job_ids = {i for e in events if (i := rules.job_id_of(e)) is not None}
    jobs = Job.objects.select_related("source").in_bulk(list(job_ids))
    threshold = Preferences.load().notify_threshold
    sent_this_hour = _hourly_counts(channels, now)
    created = 0
    for event in events:
        job_id = rules.job_id_of(event)
        found = rules.candidates(event, jobs.get(job_id) if job_id is not None else None)
        for candidate in found:
            for channel in channels:
                if event.id <= channel.starts_after_event:
                    continue
                if not rules.wants(channel, candidate, threshold=threshold):
                    continue
                if _alert_exists(channel, event, candidate):
                    continue
                route = _route(channel, now=now, sent_this_hour=sent_this_hour)
                card = (
                    job_card(candidate.job)
                    if candidate.job is not None
                    else board_card(candidate.source, error=candidate.error)  # type: ignore[arg-type]
                )
                alert = Alert.objects.create(
                    channel=channel,
                    job=candidate.job,
                    source=candidate.source,
                    reason=candidate.reason,
                    event_id=event.id,
                    card=card,
                    route=route,
                    created_at=now,
                )
                if route == Route.INSTANT:
                    sent_this_hour[channel.pk] += 1
                    delivery = Delivery.objects.create(
                        channel=channel,
                        kind=DeliveryKind.JOB_ALERT,
                        payload=payload(DeliveryKind.JOB_ALERT, alert.reason, [card]),
                        next_attempt_at=now,
                        created_at=now,
                    )
                    alert.delivery = delivery
                    alert.save(update_fields=["delivery"])
                created += 1
    return created


def _alert_exists(channel: Channel, event: Event, candidate: rules.Candidate) -> bool:
    same = Alert.objects.filter(channel=channel, reason=candidate.reason)
    if candidate.job is not None:
        return same.filter(Q(job=candidate.job) | Q(event_id=event.id)).exists()
    spell = Q(source=candidate.source, event_id__gt=candidate.spell_start)
    return same.filter(spell | Q(event_id=event.id)).exists()


def _route(channel: Channel, *, now: datetime, sent_this_hour: dict[int, int]) -> str:
    if channel.mode != Mode.INSTANT:
        return Route.DIGEST
    if schedule.in_quiet_hours(now, channel.quiet_start, channel.quiet_end, channel.time_zone):
        return Route.HELD
    if sent_this_hour[channel.pk] >= channel.max_per_hour:
        return Route.DIGEST  # over the cap: the rest wait for the next digest
    return Route.INSTANT


# --- held alerts and digests become deliveries ----------------------------------------------


def _bundle(channel: Channel, alerts: list[Alert], *, reason: str, now: datetime) -> Delivery:
    cards = [a.card for a in alerts]
    if reason == "held" and len(alerts) == 1:
        kind, reason = DeliveryKind.JOB_ALERT, alerts[0].reason
    else:
        kind = DeliveryKind.DIGEST
    delivery = Delivery.objects.create(
        channel=channel,
        kind=kind,
        payload=payload(kind, reason, cards),
        next_attempt_at=now,
        created_at=now,
    )
    Alert.objects.filter(id__in=[a.id for a in alerts], delivery__isnull=True).update(
        delivery=delivery
    )
    return delivery


def _bundle_waiting(
    route: str,
    *,
    reason: str,
    now: datetime,
    due: Callable[[Channel, QuerySet[Alert]], QuerySet[Alert] | None],
    bundled: Callable[[Channel], None] = lambda channel: None,
) -> int:
    """For each channel with alerts waiting on `route`: lock the channel (two workers must not
    bundle the same alerts), let `due` pick what goes now (None: nothing yet), bundle that as
    one delivery and call `bundled` in the same transaction. Returns how many were made."""
    made = 0
    waiting = Alert.objects.filter(route=route, delivery__isnull=True)
    for channel_id in set(waiting.values_list("channel_id", flat=True)):
        with transaction.atomic():
            channel = Channel.objects.select_for_update().get(pk=channel_id)
            chosen = due(channel, waiting.filter(channel=channel))
            alerts = [] if chosen is None else list(chosen.order_by("id"))
            if alerts:
                _bundle(channel, alerts, reason=reason, now=now)
                bundled(channel)
                made += 1
    return made


def release_held(*, now: datetime | None = None, force: bool = False) -> int:
    """Alerts held by quiet hours go out together once the quiet hours are over."""
    moment = now or timezone.now()

    def due(channel: Channel, held: QuerySet[Alert]) -> QuerySet[Alert] | None:
        quiet = schedule.in_quiet_hours(
            moment, channel.quiet_start, channel.quiet_end, channel.time_zone
        )
        return None if quiet and not force else held

    return _bundle_waiting(Route.HELD, reason="held", now=moment, due=due)


def last_digest_moment(channel: Channel, *, now: datetime) -> datetime:
    weekday = channel.digest_weekday if channel.mode == Mode.WEEKLY else None
    return schedule.last_digest_time(
        now, at=channel.digest_at, weekday=weekday, tz=channel.time_zone
    )


def make_digests(*, now: datetime | None = None, force: bool = False) -> int:
    """At each channel's digest time, what waited for it goes out as one message: the alerts
    made before that moment (later ones wait for the next digest). A worker that was down at
    the time sends it when it is back."""
    moment = now or timezone.now()

    def due(channel: Channel, waiting: QuerySet[Alert]) -> QuerySet[Alert]:
        if force:
            return waiting
        return waiting.filter(created_at__lte=last_digest_moment(channel, now=moment))

    def sent(channel: Channel) -> None:
        channel.last_digest_at = moment
        channel.save(update_fields=["last_digest_at"])

    return _bundle_waiting(Route.DIGEST, reason="digest", now=moment, due=due, bundled=sent)


# --- sending --------------------------------------------------------------------------------


def lease_seconds() -> float:
    # Long enough for the slowest attempt (SMTP: connect, TLS, login, data) to finish.
    return settings.ALERTS_TIMEOUT_SECONDS * 6


def backoff(attempts: int) -> float:
    return min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)


def envelope(delivery: Delivery) -> Envelope:
    return Envelope(str(delivery.id), iso_timestamp(delivery.created_at), delivery.payload)


def _claimable(now: datetime, *, force: bool) -> Q:
    """Conditions on the delivery row alone. The claim is one UPDATE with only these: a
    database re-checks them on the row it locks, so two workers cannot both claim it (a
    join or subquery here would be read from the statement's snapshot instead)."""
    pending = Q(status=DeliveryStatus.PENDING)
    if not force:
        pending &= Q(next_attempt_at__lte=now)
    abandoned = Q(status=DeliveryStatus.SENDING, lease_until__lt=now)
    return pending | abandoned


def _due(now: datetime, *, force: bool) -> Q:
    sendable = Q(channel__enabled=True) | Q(kind=DeliveryKind.TEST)
    return _claimable(now, force=force) & sendable


def send_due(
    *, now: datetime | None = None, force: bool = False, limit: int = DELIVERIES_PER_PASS
) -> int:
    """Claim and send the deliveries that are due; returns how many were attempted. Without
    `now`, each claim reads the clock afresh (its lease starts when its attempt does)."""
    ids = list(
        Delivery.objects.filter(_due(now or timezone.now(), force=force))
        .order_by("next_attempt_at", "created_at")
        .values_list("id", flat=True)[:limit]
    )
    attempted = 0
    for delivery_id in ids:
        moment = now or timezone.now()
        if attempt(delivery_id=delivery_id, now=moment, force=force) is not None:
            attempted += 1
    return attempted


def attempt(*, delivery_id: Any, now: datetime, force: bool = False) -> Delivery | None:
    """Send one delivery if it can be claimed (another worker may have it)."""
    lease = now + timedelta(seconds=lease_seconds())
    claimed = Delivery.objects.filter(_claimable(now, force=force), pk=delivery_id).update(
        status=DeliveryStatus.SENDING, lease_until=lease
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("channel").get(pk=delivery_id)
    outcome = send(delivery.channel, envelope(delivery))
    return record_outcome(delivery=delivery, outcome=outcome, now=now)


def record_outcome(*, delivery: Delivery, outcome: Outcome, now: datetime) -> Delivery:
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or now
    delivery.lease_until = None
    if outcome.ok:
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.last_error = ""
    elif outcome.permanent:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = outcome.reason
    elif now - delivery.first_attempt_at >= GIVE_UP_AFTER:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = f"gave up after 24 hours of retries; last: {outcome.reason}"
    else:
        wait = (
            outcome.retry_after if outcome.retry_after is not None else backoff(delivery.attempts)
        )
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now + timedelta(seconds=max(wait, 1.0))
        delivery.last_error = outcome.reason
    delivery.save(
        update_fields=[
            "attempts", "first_attempt_at", "lease_until", "status", "sent_at", "last_error",
            "next_attempt_at",
        ]
    )  # fmt: skip
    level = logging.INFO if outcome.ok else logging.WARNING
    logger.log(
        level,
        "alert delivery %s to channel %s (%s): %s",
        delivery.pk,
        delivery.channel_id,
        delivery.channel.kind,
        delivery.status_text,
    )
    return delivery


def send_test(*, channel: Channel, now: datetime | None = None, send_now: bool = True) -> Delivery:
    """A `type: test` message. Sent at once when asked (the command), else by the worker."""
    now = now or timezone.now()
    sample = Job.objects.open().order_by("-score").select_related("source").first()
    cards = [job_card(sample)] if sample is not None else []
    delivery = Delivery.objects.create(
        channel=channel,
        kind=DeliveryKind.TEST,
        payload=payload(DeliveryKind.TEST, "test", cards),
        next_attempt_at=now,
        created_at=now,
    )
    if send_now:
        return attempt(delivery_id=delivery.pk, now=now) or delivery
    return delivery


@dataclass
class PassResult:
    alerts: int = 0
    released: int = 0
    digests: int = 0
    attempted: int = 0

    def __str__(self) -> str:
        return (
            f"{self.alerts} new alerts, {self.released} released from quiet hours, "
            f"{self.digests} digests, {self.attempted} deliveries attempted"
        )


def run_pass(*, now: datetime | None = None, force: bool = False) -> PassResult:
    """One turn of the alert machinery: events → alerts → deliveries → sent. With `force`
    (`alerts --flush`), digests go now whether due or not, held alerts are released, and
    every pending delivery is tried now. Without `now`, each step reads the clock itself: a
    pass that spends minutes on slow receivers must not claim with a stale time."""
    result = PassResult()
    while True:
        made = ingest_events(now=now)
        result.alerts += made
        if (
            made == 0
            and not Event.objects.filter(
                id__gt=Cursor.objects.values_list("last_event_id", flat=True).first() or 0
            ).exists()
        ):
            break
    result.released = release_held(now=now, force=force)
    result.digests = make_digests(now=now, force=force)
    # Forced: everything pending once (a retry that fails again waits for its next turn).
    limit = 100_000 if force else DELIVERIES_PER_PASS
    while True:
        attempted = send_due(now=now, force=force, limit=limit)
        result.attempted += attempted
        if attempted < limit or force:
            break
    return result
