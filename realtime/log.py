"""Reading the event log (resume pages, the latest id) and pruning it past retention.

Events are written by `realtime.record`, the first step of delivery.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import reduce

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from realtime.models import Event, LogMark


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """What a consumer needs to deliver an event, with no ORM object attached."""

    id: int
    type: str
    text: str


def latest_id() -> int:
    return Event.objects.aggregate(latest=Max("id"))["latest"] or 0


def pruned_through() -> int:
    mark = LogMark.objects.filter(id=1).values_list("pruned_through", flat=True).first()
    return mark or 0


def events_page(
    after: int, types: Iterable[str], *, limit: int = 500, until: int | None = None
) -> list[LoggedEvent]:
    """Up to `limit` logged events after id `after` (and up to `until`), in id order, of the
    given types."""
    rows = Event.objects.filter(id__gt=after, type__in=list(types))
    if until is not None:
        rows = rows.filter(id__lte=until)
    rows = rows.order_by("id")[:limit]
    return [LoggedEvent(row.id, row.type, row.encoded()) for row in rows]


def events_by_id(
    ranges: Sequence[tuple[int, int]], after: int | None, *, limit: int = 500
) -> list[LoggedEvent]:
    """Up to `limit` logged events, in id order, whose ids are in one of the inclusive
    `ranges` or (when `after` is given) above `after`."""
    parts = [Q(id__range=bounds) for bounds in ranges]
    if after is not None:
        parts.append(Q(id__gt=after))
    if not parts:
        return []
    rows = Event.objects.filter(reduce(operator.or_, parts)).order_by("id")[:limit]
    return [LoggedEvent(row.id, row.type, row.encoded()) for row in rows]


def prune(*, older_than: timedelta | None = None) -> int:
    """Drop events past retention, remembering the highest id dropped."""
    age = older_than or timedelta(days=settings.EVENT_RETENTION_DAYS)
    cutoff = timezone.now() - age
    with transaction.atomic():
        doomed = Event.objects.filter(created_at__lt=cutoff)
        highest = doomed.aggregate(highest=Max("id"))["highest"]
        if highest is None:
            return 0
        deleted, _ = Event.objects.filter(id__lte=highest).delete()
        mark, _ = LogMark.objects.select_for_update().get_or_create(id=1)
        if highest > mark.pruned_through:
            mark.pruned_through = highest
            mark.save(update_fields=["pruned_through"])
    return deleted
