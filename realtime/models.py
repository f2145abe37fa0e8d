"""The event log: every event that was committed, in order. Its id is the resume position."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from realtime.events import EVENT_TYPES, encode, envelope


class Event(models.Model):
    id = models.BigAutoField(primary_key=True)
    type = models.CharField(max_length=40, choices=[(t, t) for t in EVENT_TYPES])
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["type", "id"], name="event_type_id")]

    def __str__(self) -> str:
        return f"#{self.id} {self.type}"

    def encoded(self) -> str:
        return encode(envelope(self.type, self.data, timestamp=self.created_at, event_id=self.id))


class LogMark(models.Model):
    """One row: the highest event id removed by retention, so a stale resume point is known."""

    pruned_through = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"pruned through #{self.pruned_through}"
