"""Which logged events a channel alerts on, and why. Reads only: the event, the job or board
it names, and the channel's rules.

An event yields candidates (a reason and the job or board); a channel keeps those whose reason
it wants and whose job passes its scope:
- `new_match`: a new job (`new_job`) whose score is at least the threshold / starred / any;
- `reopened`: a closed job opened again (`job_updated` with `status`, now open), same scope;
- `updated`: salary or title changed on a starred job;
- `closed`: a starred (or "interested") job closed before you applied;
- `board_dark`: a watched board failed `DARK_AFTER_FAILURES` scrapes in a row, or is flagged
  `gone_dark` by board health; announced once per dark spell (until a scrape finds jobs again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alerts.models import Channel, JobScope, Reason
from jobs.models import ApplicationStatus, Job, JobStatus, Source
from realtime.events import EventType
from realtime.models import Event

DARK_AFTER_FAILURES = 3
NOT_YET_APPLIED = frozenset({ApplicationStatus.NONE, ApplicationStatus.INTERESTED})
EVENT_TYPES = (EventType.NEW_JOB, EventType.JOB_UPDATED, EventType.SCRAPE_COMPLETED)


@dataclass(frozen=True)
class Candidate:
    reason: str
    job: Job | None = None
    source: Source | None = None
    # The job as the event saw it: the scope is judged on this, not on later changes.
    score: float = 0.0
    starred: bool = False
    error: str = ""
    # Board alerts: the event id after which this dark spell began (one alert per spell).
    spell_start: int = 0


def job_id_of(event: Event) -> int | None:
    if event.type == EventType.NEW_JOB or event.type == EventType.JOB_UPDATED:
        value = event.data.get("job_id")
    else:
        return None
    return value if isinstance(value, int) else None


def candidates(event: Event, job: Job | None) -> list[Candidate]:
    if event.type == EventType.SCRAPE_COMPLETED:
        return _board_candidates(event)
    if job is None or job.hidden or job.duplicate_of_id is not None:
        return []
    summary: dict[str, Any] = (
        event.data if event.type == EventType.NEW_JOB else event.data.get("job", {})
    )
    score = float(summary.get("score", job.score) or 0.0)
    starred = bool(summary.get("starred", job.starred))
    status = summary.get("status", job.status)
    found: list[Candidate] = []

    def add(reason: str) -> None:
        found.append(Candidate(reason=reason, job=job, score=score, starred=starred))

    if event.type == EventType.NEW_JOB:
        add(Reason.NEW_MATCH)
        return found
    changes = set(event.data.get("changes", []))
    if "status" in changes and status == JobStatus.OPEN:
        add(Reason.REOPENED)
    if "status" in changes and status == JobStatus.CLOSED:
        marked = starred or job.application_status == ApplicationStatus.INTERESTED
        if marked and job.application_status in NOT_YET_APPLIED:
            add(Reason.CLOSED)
    if changes & {"salary", "title"} and starred:
        add(Reason.UPDATED)
    return found


def _board_candidates(event: Event) -> list[Candidate]:
    data = event.data
    source_id = data.get("source_id")
    if not isinstance(source_id, int):
        return []
    failing = data.get("status") == "failed" and _failed_streak(event, source_id)
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return []
    # Board health's flag (a board that had jobs answering 404 or empty twice). It is read
    # now, not as it was at the event: a run that found jobs was not dark, whatever it says.
    empty_run = data.get("status") == "failed" or not data.get("jobs_found")
    flagged = empty_run and source.gone_dark
    if not (failing or flagged):
        return []
    error = data.get("error_message") or "the board answers with no jobs"
    return [
        Candidate(
            reason=Reason.BOARD_DARK,
            source=source,
            error=error,
            spell_start=_last_alive(event, source_id),
        )
    ]


def _completed_before(event: Event, source_id: int) -> Any:
    # Read from the event log itself, so the answer does not depend on when the event is read
    # (the source row may have moved on since).
    return Event.objects.filter(
        type=EventType.SCRAPE_COMPLETED, id__lt=event.id, data__source_id=source_id
    )


def _failed_streak(event: Event, source_id: int) -> bool:
    """This failed run and the ones before it make `DARK_AFTER_FAILURES` in a row."""
    earlier = _completed_before(event, source_id).order_by("-id")
    statuses = [
        d.get("status") for d in earlier.values_list("data", flat=True)[: DARK_AFTER_FAILURES - 1]
    ]
    return len(statuses) == DARK_AFTER_FAILURES - 1 and all(s == "failed" for s in statuses)


def _last_alive(event: Event, source_id: int) -> int:
    """The id of the last scrape that found jobs: a dark spell is what came after it, and is
    alerted once."""
    alive = _completed_before(event, source_id).filter(
        data__status="succeeded", data__jobs_found__gt=0
    )
    return alive.order_by("-id").values_list("id", flat=True).first() or 0


def wants(channel: Channel, candidate: Candidate, *, threshold: float) -> bool:
    """Does this channel's rules keep this candidate?"""
    if candidate.reason not in channel.reasons:
        return False
    if candidate.reason in (Reason.NEW_MATCH, Reason.REOPENED):
        if channel.scope == JobScope.STARRED:
            return candidate.starred
        if channel.scope == JobScope.SCORE:
            limit = channel.min_score if channel.min_score is not None else threshold
            return candidate.score >= limit
    return True
