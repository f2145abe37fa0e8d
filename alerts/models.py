"""Alerts: where to send them (channels and their rules), what happened (alerts, one per
channel, job and reason, ever) and what was sent (deliveries, each with its retry state).

Models stay thin; every write goes through `alerts.services`."""

from __future__ import annotations

import uuid
from datetime import time

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    NTFY = "ntfy", "ntfy"
    SLACK = "slack", "Slack"
    DISCORD = "discord", "Discord"
    WEBHOOK = "webhook", "Signed webhook"
    APPRISE = "apprise", "Apprise URL"


class JobScope(models.TextChoices):
    SCORE = "score", "Score at or above the threshold"
    STARRED = "starred", "Starred jobs only"
    ANY = "any", "Any job"


class Reason(models.TextChoices):
    """Why an alert exists; also the wire format's `reason`."""

    NEW_MATCH = "new_match", "New match"
    REOPENED = "reopened", "Reopened"
    UPDATED = "updated", "Salary or title changed on a starred job"
    CLOSED = "closed", "Closed before you applied"
    BOARD_DARK = "board_dark", "A watched board gone dark"


ALL_REASONS: list[str] = list(Reason.values)


def default_reasons() -> list[str]:
    return list(ALL_REASONS)


class Mode(models.TextChoices):
    INSTANT = "instant", "Instant"
    DAILY = "daily", "Daily digest"
    WEEKLY = "weekly", "Weekly digest"


class Channel(models.Model):
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    # An address, or a URL that usually embeds a token: shown masked once saved.
    target = models.TextField()
    # The HMAC key of a signed webhook.
    secret = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True)
    scope = models.CharField(max_length=10, choices=JobScope.choices, default=JobScope.SCORE)
    min_score = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Empty: the preferences' notify threshold.",
    )
    reasons = models.JSONField(default=default_reasons)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.INSTANT)
    digest_at = models.TimeField(
        default=time(9, 0), help_text="Local time of digests (and of the overflow of the cap)."
    )
    digest_weekday = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(6)], help_text="0 = Monday (weekly digests)."
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True, help_text="Exclusive.")
    max_per_hour = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    # No backfill: events up to this id happened before the channel existed.
    starts_after_event = models.BigIntegerField(default=0)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ChannelKind.values), name="channel_kind_known"
            ),
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="channel_mode_known"),
            models.CheckConstraint(
                condition=Q(quiet_start__isnull=True, quiet_end__isnull=True)
                | Q(quiet_start__isnull=False, quiet_end__isnull=False),
                name="channel_quiet_hours_both_or_none",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class DeliveryKind(models.TextChoices):
    JOB_ALERT = "job_alert", "Job alert"
    DIGEST = "digest", "Digest"
    TEST = "test", "Test"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    def recent(self) -> DeliveryQuerySet:
        return self.select_related("channel").order_by("-created_at")


class Delivery(models.Model):
    """One message to one channel. Its id is the `X-JobSentinel-Delivery` header and the
    body's `id`: the same on every retry, so a receiver can drop a repeat."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=10, choices=DeliveryKind.choices)
    # The message as built when the delivery was made: every retry sends the same content.
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A sender that died mid-send (killed worker) leaves this behind; once past, it is retried.
    lease_until = models.DateTimeField(null=True, blank=True)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="delivery_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.channel} ({self.status})"

    @property
    def reason(self) -> str:
        return str(self.payload.get("reason", ""))

    @property
    def status_text(self) -> str:
        """What a person reads: "failed: HTTP 404" or "retrying: ..." or the status."""
        if self.status == DeliveryStatus.FAILED:
            return f"failed: {self.last_error}"
        if self.status == DeliveryStatus.PENDING and self.last_error:
            return f"retrying ({self.attempts} attempts): {self.last_error}"
        return str(self.status)


class Route(models.TextChoices):
    INSTANT = "instant", "Instant"
    HELD = "held", "Held by quiet hours"
    DIGEST = "digest", "Next digest"


class Alert(models.Model):
    """Something a channel's rules matched, created in the same transaction that moves the
    event cursor past its event. At most one per (channel, job, reason), ever."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="alerts")
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.ForeignKey(
        "jobs.Source", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    event_id = models.BigIntegerField()
    # The job (or board) as it was when the event was read: what the message shows.
    card = models.JSONField()
    route = models.CharField(max_length=10, choices=Route.choices)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "job", "reason"],
                condition=Q(job__isnull=False),
                name="alert_once_per_channel_job_reason",
            ),
            models.UniqueConstraint(
                fields=["channel", "event_id", "reason"], name="alert_once_per_channel_event"
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "route", "delivery"], name="alert_waiting"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} #{self.event_id} for {self.channel}"


class Cursor(models.Model):
    """One row: how far the event log has been read, and ids skipped over that may still
    commit (on PostgreSQL a transaction that took a lower id can commit after a higher one)."""

    last_event_id = models.BigIntegerField(default=0)
    # [[event id, first seen as missing (unix seconds)], ...]
    holes = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"alerts read through #{self.last_event_id}"
