"""Writes. Every change to jobs and scrape runs goes through these functions.

Saves go through `Model.save()` so that post_save receivers see them (new jobs, changed fields
in `update_fields`); only bookkeeping that must not make an event (bumping `last_seen`) uses
`QuerySet.update()`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, TypeGuard

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import DatabaseError, DataError, IntegrityError, connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from jobs.fingerprints import content_hash, fingerprint
from jobs.job_fields import BOARD_FIELDS, USER_FIELDS
from jobs.models import Job, JobStatus, Preferences, ScrapeRun, ScrapeStatus, Source, SourceKind
from jobs.postings import Posting
from jobs.preferences import clean_preferences
from jobs.sanitize import (
    DESCRIPTION_MAX_CHARS,
    html_to_text,
    one_line,
    safe_description,
    storable,
)
from jobs.scoring import ScoringPrefs, score_posting
from jobs.scrapers import HttpClient, SourceError, get_adapter, validate_token
from jobs.scrapers.base import check_api_url
from jobs.scrapers.detect import Detected, public_board_url
from jobs.scrapers.discover import NotABoard, resolve
from jobs.scrapers.fields import ordered_range
from jobs.signals import jobs_rescored
from jobs.vocabulary import SalaryInterval, Workplace

# A job missing from this many consecutive complete fetches of its board is closed.
MISSES_BEFORE_CLOSE = 2
# Feeds that only list the newest jobs (remotive) cannot say a job is gone: close by age.
FEED_JOB_MAX_AGE = timedelta(days=30)
MAX_SALARY = Decimal(10) ** 10
# One-line fields, cut to their column's length so one over-long title cannot fail a scrape.
ONE_LINE_FIELDS = ("title", "company", "location", "department", "employment_type")
# Posting dates outside this window are a board's bug, and some (year 1, year 9999) cannot
# even be shown in every time zone.
EARLIEST_POSTED_AT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_POSTED_AHEAD = timedelta(days=366)
# Django rebuilds `.values` on every access; these are checked once per posting.
_WORKPLACES = frozenset(Workplace.values)
_INTERVALS = frozenset(SalaryInterval.values)


@cache
def _max_length(name: str) -> int:
    column = Job._meta.get_field(name)
    if not isinstance(column, models.Field) or column.max_length is None:
        raise TypeError(f"Job.{name} is not a field with a max_length")
    return column.max_length


def http_client() -> HttpClient:
    """An HttpClient with the configured limits for what a board may send."""
    return HttpClient(
        max_response_bytes=settings.MAX_RESPONSE_BYTES,
        max_board_bytes=settings.MAX_BOARD_BYTES,
        deadline=settings.FETCH_DEADLINE_SECONDS,
        board_deadline=settings.BOARD_DEADLINE_SECONDS,
    )


@dataclass
class IngestResult:
    found: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    reopened: int = 0
    duplicates: int = 0
    changes: dict[str, list[str]] = field(default_factory=dict)  # external id → changed fields
    # Jobs the board listed that were left out, each with why ("job '123': posted_at ...").
    skipped: list[str] = field(default_factory=list)
    # The board's open jobs when the ingest committed (its health shows them), known from
    # what it read and wrote; None where no ingest counted them.
    open_jobs: int | None = None

    def summary(self) -> str:
        text = (
            f"{self.found} found, {self.new} new, {self.updated} updated, "
            f"{self.closed} closed, {self.unchanged} unchanged"
        )
        return f"{text}, {len(self.skipped)} skipped" if self.skipped else text

    def skipped_message(self) -> str:
        """What the run's error message says about skipped jobs ("" when none were)."""
        if not self.skipped:
            return ""
        count = len(self.skipped)
        return f"{count} job{'s' if count != 1 else ''} skipped; first: {self.skipped[0]}"


def clean_posting(posting: Posting) -> Posting:
    """The posting as it may be stored: no NUL or lone surrogate anywhere; one-line fields
    without controls and invisible characters and cut to their column; values outside a
    field's choices dropped to its "unknown"."""
    values: dict[str, Any] = {
        name: storable(value)
        for name in ("external_id", "url", "apply_url", "salary_currency", "description_html")
        if isinstance(value := getattr(posting, name), str)
    }
    for name in ONE_LINE_FIELDS:
        values[name] = one_line(getattr(posting, name) or "", _max_length(name))
    values["external_id"] = values.get("external_id", "").strip()
    if posting.workplace not in _WORKPLACES:
        values["workplace"] = Workplace.UNKNOWN
    if posting.salary_interval not in _INTERVALS:
        values["salary_interval"] = SalaryInterval.UNKNOWN
    if len(values.get("salary_currency", "")) > _max_length("salary_currency"):
        values["salary_currency"] = ""
    if len(values.get("apply_url", "")) > _max_length("apply_url"):
        values["apply_url"] = ""  # optional: the job is still worth showing without it
    return replace(posting, **values)


def posting_problem(posting: Posting, *, now: datetime) -> str | None:
    """Why a cleaned posting cannot be stored, or None. Checked before saving, so that one bad
    job is left out with a reason instead of failing its board."""
    if not posting.external_id:
        return "empty id"
    if len(posting.external_id) > _max_length("external_id"):
        return f"id longer than {_max_length('external_id')} characters"
    if not posting.title:
        return "empty title"
    if not posting.url:
        return "no URL"
    if len(posting.url) > _max_length("url"):
        return f"URL longer than {_max_length('url')} characters"
    when = posting.posted_at
    if when is not None:
        if when.tzinfo is None:
            return "posted_at has no time zone"
        if not EARLIEST_POSTED_AT <= when <= now + LATEST_POSTED_AHEAD:
            return f"posted_at {when.date().isoformat()} out of range"
    return None


def posting_fields(posting: Posting, prefs: ScoringPrefs, *, now: datetime) -> dict[str, Any]:
    """The scraped fields of a Job, computed from a cleaned posting (sanitized, capped,
    hashed, scored)."""
    safe_html = safe_description(posting.description_html)
    result = score_posting(posting, prefs, now=now)
    values: dict[str, Any] = {name: getattr(posting, name) for name in BOARD_FIELDS}
    values.update(
        description_html=safe_html,
        description_text=html_to_text(safe_html)[:DESCRIPTION_MAX_CHARS],
        content_hash=content_hash(posting),
        fingerprint=fingerprint(posting.company, posting.title, posting.location),
        score=result.score,
        score_reasons=result.reasons_json(),
    )
    for name in ("salary_min", "salary_max"):
        # The columns hold 12 digits; a board's typo (a salary of 1e15) must not break the row.
        if values[name] is not None and not 0 <= values[name] < MAX_SALARY:
            values[name] = None
    values["salary_min"], values["salary_max"] = ordered_range(
        values["salary_min"], values["salary_max"]
    )
    return values


def _find_original(source: Source, print_: str) -> Job | None:
    """An open job from another source with the same fingerprint: this one is its duplicate."""
    if not print_:
        return None
    return (
        Job.objects.filter(fingerprint=print_, status=JobStatus.OPEN, duplicate_of__isnull=True)
        .exclude(source=source)
        .order_by("id")
        .first()
    )


def _shows_stored(status: str, stored_hash: str, posting: Posting) -> bool:
    """An open job whose board shows exactly what is stored: nothing to write."""
    return status == JobStatus.OPEN and stored_hash == content_hash(posting)


def _unchanged(existing: Job | None, posting: Posting) -> TypeGuard[Job]:
    return existing is not None and _shows_stored(existing.status, existing.content_hash, posting)


def job_upsert(
    *, source: Source, posting: Posting, prefs: ScoringPrefs, existing: Job | None, now: datetime
) -> tuple[Job, list[str]]:
    """Create or update one job from a cleaned posting. Returns the job and the fields that
    changed (["created"] for a new job, [] when nothing changed). Unchanged jobs are not
    written here at all."""
    if _unchanged(existing, posting):
        return existing, []
    if existing is not None and existing.content_hash == content_hash(posting):
        values = {}  # closed, and back as it was: only its status changes
    else:
        values = posting_fields(posting, prefs, now=now)
    if existing is None:
        job = Job(source=source, external_id=posting.external_id, first_seen=now, last_seen=now)
        for name, value in values.items():
            setattr(job, name, value)
        job.duplicate_of = _find_original(source, values["fingerprint"])
        job.save()
        return job, ["created"]
    changed = [name for name, value in values.items() if getattr(existing, name) != value]
    for name in changed:
        setattr(existing, name, values[name])
    if existing.status == JobStatus.CLOSED:  # it came back
        existing.status, existing.closed_at = JobStatus.OPEN, None
        changed += ["status", "closed_at"]
    if not changed:
        return existing, []
    existing.last_seen, existing.missed_fetches = now, 0
    existing.save(update_fields=[*changed, "last_seen", "missed_fetches"])
    return existing, changed


def ingest_postings(
    *,
    source: Source,
    postings: Iterable[Posting],
    complete: bool,
    now: datetime | None = None,
    skipped: Sequence[str] = (),
) -> IngestResult:
    """Upsert one fetch of a board, in one transaction; then close what has gone.

    `complete` says the fetch lists every open job of the board (so absence means something).
    A complete fetch with no postings at all is treated as suspicious, not as "all closed".
    A job that cannot be stored is left out and counted in `result.skipped` (with the reasons
    of jobs the parser already left out, `skipped`); the rest of the board is kept.
    """
    now = now or timezone.now()
    result = IngestResult(skipped=list(skipped))
    unique: dict[str, Posting] = {}
    listed: set[str] = set()
    for raw in postings:  # boards occasionally list a job twice: the last one wins
        posting = clean_posting(raw)
        listed.add(posting.external_id)
        problem = posting_problem(posting, now=now)
        if problem is not None:
            result.skipped.append(f"job {posting.external_id[:40]!r}: {problem}")
            unique.pop(posting.external_id, None)
        else:
            unique[posting.external_id] = posting
    result.found = len(listed)
    with transaction.atomic():
        known = _known_jobs(source)
        untouched: list[int] = []
        to_write: list[tuple[str, Posting]] = []
        open_before = sum(job.is_open for job in known.values())
        for external_id, posting in unique.items():
            stored = known.get(external_id)
            if stored is not None and stored.unchanged(posting):
                # Nothing to write, so no savepoint either (two statements per job).
                untouched.append(stored.pk)
            else:
                to_write.append((external_id, posting))
        result.unchanged = len(untouched)
        if to_write:
            untouched += _write_jobs(source, to_write, known, result, now)
        # One statement for everything unchanged: no per-job write, no event.
        Job.objects.filter(pk__in=untouched).update(last_seen=now, missed_fetches=0)
        # The queries that find gone jobs run only when a job known to be open may be gone:
        # jobs written above are open and seen now, so only those already known can be.
        if complete and listed:
            # A job listed but skipped is still on the board: it must not count as missing.
            if any(job.is_open and external_id not in listed for external_id, job in known.items()):
                result.closed = _close_missing(source, listed, now)
        elif not complete:
            cutoff = now - FEED_JOB_MAX_AGE
            if any(job.is_open and job.last_seen < cutoff for job in known.values()):
                result.closed = _close_stale(source, now)
    # A job refused by the database kept its state, so it is in none of these counts.
    result.open_jobs = open_before + result.new + result.reopened - result.closed
    return result


@dataclass(frozen=True, slots=True)
class _KnownJob:
    """What ingest needs of a stored job to see that the board did not change it: values,
    not a model instance, since most jobs of most scrapes are unchanged."""

    pk: int
    content_hash: str
    status: str
    last_seen: datetime

    @property
    def is_open(self) -> bool:
        return self.status == JobStatus.OPEN

    def unchanged(self, posting: Posting) -> bool:
        return _shows_stored(self.status, self.content_hash, posting)


def _known_jobs(source: Source) -> dict[str, _KnownJob]:
    rows = source.jobs.order_by().values_list(
        "external_id", "pk", "content_hash", "status", "last_seen"
    )
    return {
        external_id: _KnownJob(pk, stored_hash, status, last_seen)
        for external_id, pk, stored_hash, status, last_seen in rows
    }


def _write_jobs(
    source: Source,
    to_write: Sequence[tuple[str, Posting]],
    known: Mapping[str, _KnownJob],
    result: IngestResult,
    now: datetime,
) -> list[int]:
    """Create or update the jobs the board changed (or reopened), in board order, counting
    each in `result`; returns the ids of those that turned out to need no write."""
    prefs = ScoringPrefs.from_model(Preferences.load())
    stored_ids = [known[external_id].pk for external_id, _ in to_write if external_id in known]
    # Loaded through the source's manager, so each job's `source` is this very object.
    stored = source.jobs.in_bulk(stored_ids) if stored_ids else {}
    untouched: list[int] = []
    for external_id, posting in to_write:
        current = stored.get(known[external_id].pk) if external_id in known else None
        try:
            # A savepoint per written job: the last line of defence for a value the
            # database refuses although it passed the checks above.
            with transaction.atomic():
                job, changed = job_upsert(
                    source=source, posting=posting, prefs=prefs, existing=current, now=now
                )
        except (DatabaseError, ValueError) as error:
            if not _is_data_error(error):
                raise
            result.skipped.append(f"job {external_id[:40]!r}: refused by the database")
            continue
        if changed == ["created"]:
            result.new += 1
            result.duplicates += job.duplicate_of_id is not None
        elif changed:
            result.updated += 1
            result.reopened += "closed_at" in changed
            result.changes[external_id] = changed
        else:
            result.unchanged += 1
            untouched.append(job.pk)
    return untouched


def _is_data_error(error: Exception) -> bool:
    """A value one row carried (too long, out of range, NUL, a violated constraint), as
    opposed to the database being unreachable, which must fail the run instead."""
    if isinstance(error, DataError | IntegrityError):
        return True
    # psycopg refuses NUL in a string with ValueError before it reaches the server.
    return isinstance(error, ValueError) and not isinstance(error, DatabaseError)


def _close(job: Job, now: datetime) -> None:
    job.status, job.closed_at = JobStatus.CLOSED, now
    job.save(update_fields=["status", "closed_at", "missed_fetches"])
    _show_duplicates_of(job)


def _show_duplicates_of(original: Job) -> None:
    """The original of a cross-source duplicate closed: its oldest open duplicate is shown
    again (announced as a job_updated), and the others now point at that one."""
    duplicates = list(original.duplicates.filter(status=JobStatus.OPEN).order_by("id"))
    if not duplicates:
        return
    shown, rest = duplicates[0], duplicates[1:]
    shown.duplicate_of = None
    shown.save(update_fields=["duplicate_of_id"])
    # Still hidden, so no event: bookkeeping only.
    Job.objects.filter(pk__in=[job.pk for job in rest]).update(duplicate_of=shown)


def _close_missing(source: Source, listed: set[str], now: datetime) -> int:
    closed = 0
    for job in source.jobs.filter(status=JobStatus.OPEN).exclude(external_id__in=listed):
        job.missed_fetches += 1
        if job.missed_fetches >= MISSES_BEFORE_CLOSE:
            _close(job, now)
            closed += 1
        else:
            Job.objects.filter(pk=job.pk).update(missed_fetches=job.missed_fetches)
    return closed


def _close_stale(source: Source, now: datetime) -> int:
    stale = source.jobs.filter(status=JobStatus.OPEN, last_seen__lt=now - FEED_JOB_MAX_AGE)
    jobs = list(stale)
    for job in jobs:
        _close(job, now)
    return len(jobs)


# --- scrape runs -------------------------------------------------------------------------------


def expected_duration(source: Source, *, sample: int = 5) -> float | None:
    """Average duration of this source's last successful runs; None when there are none."""
    durations = (
        ScrapeRun.objects.filter(
            source=source, status=ScrapeStatus.SUCCEEDED, duration_seconds__isnull=False
        )
        .order_by("-started_at")
        .values_list("duration_seconds", flat=True)[:sample]
    )
    recent = [d for d in durations if d is not None]
    return round(sum(recent) / len(recent), 1) if recent else None


# Why a run whose process vanished is closed: shown in the API, the admin and scrape_completed.
ABANDONED_MESSAGE = "worker stopped: the scrape's process ended before finishing it"


class ScrapeRefused(Exception):
    """A scrape of this source cannot start now (`scrape_refusal` says why)."""


class SourceBusy(ScrapeRefused):
    """The source is already being scraped; two scrapes of one board would race on its rows."""


class SourceDisabled(ScrapeRefused):
    """The user turned this source off; nothing scrapes it until it is enabled again."""


def disabled_message(source: Source) -> str:
    return f"Source {source.pk} ({source.name}) is disabled; enable it first."


# A run started by "scrape now" waits in the queue before a worker takes it (and renews it):
# it gets this many leases of patience, so a busy queue does not have it reaped unstarted.
QUEUED_LEASES = 5


def lease_deadline(now: datetime | None = None, *, leases: int = 1) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=settings.RUN_LEASE_SECONDS * leases)


def running_run_id(source: Source) -> int | None:
    """The run that owns `source` now: running with a lease still valid. A run whose process
    died stops counting when its lease runs out, so the source is free again."""
    return (
        ScrapeRun.objects.filter(source=source)
        .live(timezone.now())
        .values_list("id", flat=True)
        .first()
    )


def busy_message(source: Source, run_id: int) -> str:
    return f"Source {source.pk} ({source.name}) is already being scraped (run {run_id})."


def scrape_refusal(source: Source) -> str | None:
    """Why `source` cannot be scraped now, or None."""
    if not source.enabled:
        return disabled_message(source)
    running = running_run_id(source)
    return None if running is None else busy_message(source, running)


def scrape_run_start(*, source: Source, queued: bool = False) -> ScrapeRun:
    """Start a run with a fresh lease (longer when `queued`: it waits for a worker); raises
    SourceBusy if a live run holds the source. This is the one guard against scraping a board
    twice at once, whichever process, thread or machine asks: the row lock makes "check, then
    start" one step."""
    with transaction.atomic():
        if connection.features.has_select_for_update:
            Source.objects.select_for_update().filter(pk=source.pk).first()
        # SQLite has no row locks and needs none here: its IMMEDIATE transaction already holds
        # the database's write lock, which serializes every writer.
        now = timezone.now()
        running = list(ScrapeRun.objects.filter(source=source, status=ScrapeStatus.RUNNING))
        for other in running:
            if other.is_live(now):
                raise SourceBusy(busy_message(source, other.pk))
        # This source's own abandoned run is closed here rather than at the next sweep, so the
        # log never shows two runs of one source "running".
        for stale in running:
            _close_abandoned(stale, now)
        run = ScrapeRun(
            source=source,
            started_at=now,
            lease_expires_at=lease_deadline(now, leases=QUEUED_LEASES if queued else 1),
            expected_duration_seconds=expected_duration(source),
        )
        run.save()
    return run


def scrape_runs_renew(*, run_ids: Iterable[int]) -> int:
    """Extend the lease of these runs (those still running); returns how many. Bookkeeping: one
    statement, no event."""
    ids = list(run_ids)
    if not ids:
        return 0
    return ScrapeRun.objects.filter(pk__in=ids, status=ScrapeStatus.RUNNING).update(
        lease_expires_at=lease_deadline()
    )


def scrape_runs_reap(*, now: datetime | None = None) -> list[ScrapeRun]:
    """Close every run whose lease ran out as interrupted; returns them. Each is re-read under
    a lock so that two sweepers (two workers) close it once, with one scrape_completed."""
    now = now or timezone.now()
    closed = []
    for run_id in ScrapeRun.objects.abandoned(now).values_list("id", flat=True):
        with transaction.atomic():
            run = (
                ScrapeRun.objects.select_for_update()
                .select_related("source")
                .abandoned(now)
                .filter(pk=run_id)
                .first()
            )
            if run is not None:
                _close_abandoned(run, now)
                closed.append(run)
    return closed


def _close_abandoned(run: ScrapeRun, now: datetime) -> None:
    run.status, run.finished_at = ScrapeStatus.INTERRUPTED, now
    run.duration_seconds = round((now - run.started_at).total_seconds(), 3)
    run.errors, run.error_message = max(run.errors, 1), ABANDONED_MESSAGE
    run.save(update_fields=["status", "finished_at", "duration_seconds", "errors",
                            "error_message"])  # fmt: skip


def _last_starts(sources: Iterable[int] | None = None) -> dict[int, datetime]:
    """When each source's last run started; an interrupted run does not count (its work was
    never done, so the source is due again)."""
    runs = ScrapeRun.objects.exclude(status=ScrapeStatus.INTERRUPTED)
    if sources is not None:
        runs = runs.filter(source_id__in=list(sources))
    return dict(
        runs.values("source_id").annotate(last=Max("started_at")).values_list("source_id", "last")
    )


def source_is_due(source: Source, *, now: datetime | None = None) -> bool:
    """Enabled, and no run started within its interval."""
    now = now or timezone.now()
    last = _last_starts([source.pk]).get(source.pk)
    return source.enabled and (
        last is None or last <= now - timedelta(seconds=source.interval_seconds)
    )


def sources_due(*, now: datetime | None = None) -> list[Source]:
    """Every source that `source_is_due`, never-scraped ones first, then the longest waiting."""
    now = now or timezone.now()
    last_started = _last_starts()
    due = []
    for source in Source.objects.filter(enabled=True).order_by("id"):
        last = last_started.get(source.pk)
        if last is None or last <= now - timedelta(seconds=source.interval_seconds):
            due.append((last is not None, last or now, source))
    return [source for _, _, source in sorted(due, key=lambda item: (item[0], item[1]))]


def scrape_run_finish(
    *,
    run: ScrapeRun,
    status: str,
    result: IngestResult | None = None,
    error: str = "",
    board_missing: bool = False,
) -> ScrapeRun:
    """End a run and record what it says about the board's health. `board_missing`: the
    board answered 404 (it no longer exists under this token)."""
    now = timezone.now()
    run.status = status
    run.finished_at = now
    run.duration_seconds = round((now - run.started_at).total_seconds(), 3)
    if result is not None:
        run.jobs_found, run.new_jobs = result.found, result.new
        run.updated_jobs, run.closed_jobs = result.updated, result.closed
    skipped = result.skipped_message() if result is not None else ""
    if status == ScrapeStatus.SUCCEEDED:
        # A kept board may still have left some jobs out: each is one error of the run.
        run.errors = len(result.skipped) if result is not None else 0
        error = error or skipped
    else:
        run.errors = max(run.errors, 1)
    run.error_message = error[:2000]
    with transaction.atomic():
        run.save(
            update_fields=[
                "status", "finished_at", "duration_seconds", "jobs_found", "new_jobs",
                "updated_jobs", "closed_jobs", "errors", "error_message",
            ]
        )  # fmt: skip
        source_health_record(
            source=run.source,
            status=status,
            found=None if result is None else result.found,
            open_jobs=None if result is None else result.open_jobs,
            error=error,
            board_missing=board_missing,
            now=now,
        )
    return run


# A board that had jobs and then answers 404 or empty this many scrapes in a row has gone dark.
DARK_AFTER = 2
HEALTH_FIELDS = (
    "last_success_at", "last_failure_at", "consecutive_failures", "last_error", "open_jobs",
    "dark_fetches", "gone_dark",
)  # fmt: skip


def source_health_record(
    *,
    source: Source,
    status: str,
    found: int | None,
    open_jobs: int | None = None,
    error: str = "",
    board_missing: bool = False,
    now: datetime | None = None,
) -> Source:
    """Update a source's board health after a scrape ended with `status`. `open_jobs`: the
    board's open jobs as its ingest counted them (else they are counted here).

    "Gone dark" means the board had jobs and then answered 404 or an empty list DARK_AFTER
    times in a row: usually the company moved to another board. Nothing is closed for it
    (ingest keeps jobs through an empty fetch); it is a hint for the user.
    """
    now = now or timezone.now()
    dark_signal = False
    if status == ScrapeStatus.SUCCEEDED:
        source.last_success_at, source.consecutive_failures, source.last_error = now, 0, ""
        dark_signal = found == 0
    elif status == ScrapeStatus.FAILED:
        source.last_failure_at = now
        source.consecutive_failures += 1
        source.last_error = error[:2000]
        dark_signal = board_missing
    else:  # interrupted: says nothing about the board
        return source
    if open_jobs is None:
        open_jobs = source.jobs.filter(status=JobStatus.OPEN).count()
    source.open_jobs = open_jobs
    source.dark_fetches = source.dark_fetches + 1 if dark_signal else 0
    # Whether it ever had jobs is asked only of a board that looks dark (rarely).
    source.gone_dark = source.dark_fetches >= DARK_AFTER and source.jobs.exists()
    source.save(update_fields=list(HEALTH_FIELDS))
    return source


# --- preferences -----------------------------------------------------------------------------


RESCORE_BATCH = 500


def rescore_jobs(*, now: datetime | None = None) -> int:
    """Score every open job again with the current preferences; save only those whose score
    changed. Returns how many changed.

    A preference change can move thousands of scores at once. One job_updated per job would
    flood every socket, so the new scores are written in bulk (no post_save) and a single
    `jobs_rescored` signal (→ one `jobs_rescored` event) tells clients to refresh their list.
    """
    now = now or timezone.now()
    prefs = ScoringPrefs.from_model(Preferences.load())
    changed = 0
    last_id = 0
    with transaction.atomic():
        while True:
            batch = list(Job.objects.open().filter(id__gt=last_id).order_by("id")[:RESCORE_BATCH])
            if not batch:
                break
            dirty = []
            for job in batch:
                result = score_posting(job_as_posting(job), prefs, now=now)
                if abs(result.score - job.score) >= 1e-4:
                    job.score, job.score_reasons = result.score, result.reasons_json()
                    dirty.append(job)
            Job.objects.bulk_update_announced(dirty, ["score", "score_reasons"])
            changed += len(dirty)
            last_id = batch[-1].id
        if changed:
            jobs_rescored.send(sender=Job, changed=changed)
    return changed


def job_update(*, job: Job, values: Mapping[str, Any]) -> list[str]:
    """Set a job's user fields (hidden, starred, application status, notes): the one write
    behind the API, the admin's actions and the pages. Only the fields whose value really
    changes are saved, so `job_updated.changes` names exactly those; returns them."""
    refused = sorted(set(values) - set(USER_FIELDS))
    if refused:
        raise ValueError(f"not user fields (a scrape owns them): {', '.join(refused)}")
    changed = [name for name, value in values.items() if getattr(job, name) != value]
    for name in changed:
        setattr(job, name, values[name])
    if changed:
        job.save(update_fields=changed)
    return changed


def job_as_posting(job: Job) -> Posting:
    return Posting(
        external_id=job.external_id, **{name: getattr(job, name) for name in BOARD_FIELDS}
    )


def preferences_update(**values: Any) -> tuple[Preferences, int]:
    """Change the preferences and rescore, in one transaction. Returns the preferences and
    how many jobs changed. Raises ValidationError (naming each bad field) and changes
    nothing when a value breaks a rule of `jobs.preferences`."""
    with transaction.atomic():
        prefs = Preferences.load()
        for name, value in clean_preferences(values, current=prefs).items():
            setattr(prefs, name, value)
        prefs.full_clean()
        prefs.save()
        return prefs, rescore_jobs()


# --- watching a board ------------------------------------------------------------------------


class SourceRefused(ValueError):
    """A board that cannot be added, and why. `field` names the input at fault (for the API's
    400 body); `preview` is the board's summary when it was fetched."""

    def __init__(
        self, message: str, *, field: str = "url", preview: BoardPreview | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.preview = preview


class DuplicateSource(SourceRefused):
    """The board is already watched (same kind and token, however the URL was written)."""


@dataclass(frozen=True)
class BoardRequest:
    """A board as a user names it, by every way in (command, API, admin, page): a URL (a
    board, a job or a careers page) or a kind and token; an API host that replaces the
    vendor's; a display name (default: the company the board gives)."""

    url: str = ""
    kind: str = ""
    token: str = ""
    api_url: str = ""
    name: str = ""


@dataclass(frozen=True)
class BoardPreview:
    """What one fetch of a board showed, before it is saved."""

    kind: str
    token: str
    api_url: str
    name: str
    board_url: str
    open_jobs: int = 0
    error: str = ""
    found_via: str = "kind and token"
    others: tuple[str, ...] = ()  # other boards a careers page pointed at, as "kind:token"

    @property
    def ok(self) -> bool:
        return not self.error and self.open_jobs > 0

    def summary(self) -> str:
        head = f"{self.kind} board '{self.token}'"
        if self.error:
            return f"{head}: {self.error}"
        jobs = "1 open job" if self.open_jobs == 1 else f"{self.open_jobs} open jobs"
        return f"{head}: {jobs}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "token": self.token, "api_url": self.api_url, "name": self.name,
            "board_url": self.board_url, "open_jobs": self.open_jobs, "error": self.error,
            "found_via": self.found_via, "others": list(self.others), "summary": self.summary(),
        }  # fmt: skip


MAX_NAME_LENGTH = 200


def source_api_url_clean(value: str) -> str:
    """An optional base URL replacing the vendor's scheme and host; "" means the vendor's.
    One rule for the command, the API and the admin."""
    value = (value or "").strip().rstrip("/")
    if not value:
        return ""
    try:
        # The fetch-time rule first: credentials are refused before anything echoes the URL.
        check_api_url(value)
        URLValidator(schemes=["http", "https"])(value)
    except ValueError as exc:
        raise SourceRefused(str(exc), field="api_url") from None
    except DjangoValidationError:
        raise SourceRefused(f"api_url {value!r} is not an http(s) URL", field="api_url") from None
    return value


def source_update(*, source: Source, values: Mapping[str, Any]) -> Source:
    """Change a watched source's settings (name, api_url, enabled, interval). Only these
    columns are written: a scrape finishing meanwhile writes the health fields of the same
    row, and a full save from this copy would undo that."""
    if "api_url" in values:
        values = {**values, "api_url": source_api_url_clean(values["api_url"])}
    for name, value in values.items():
        setattr(source, name, value)
    if values:
        source.save(update_fields=list(values))
    return source


def source_find_duplicate(*, kind: str, token: str) -> Source | None:
    """The watched source for this board, however its token's case was written."""
    return Source.objects.filter(kind=kind, token__iexact=token).first()


def _refuse_duplicate(kind: str, token: str) -> None:
    existing = source_find_duplicate(kind=kind, token=token)
    if existing is not None:
        raise DuplicateSource(
            f"{kind} board '{token}' is already watched as {existing.name!r} (id {existing.pk})",
            field="token",
        )


def _board_token(kind: str, token: str) -> str:
    """The token in its canonical spelling, or SourceRefused naming the field at fault."""
    if kind not in SourceKind.values:
        raise SourceRefused(
            f"unknown kind {kind!r}; use one of: {', '.join(SourceKind.values)}", field="kind"
        )
    try:
        return validate_token(kind, token)
    except ValueError as error:
        raise SourceRefused(str(error), field="token") from None


def source_create(*, kind: str, token: str, name: str, api_url: str = "") -> Source:
    """Save a board to watch: the one write behind add_source, the API and the admin.
    Checks everything again, so no caller can skip a rule."""
    token = _board_token(kind, token)
    api_url = source_api_url_clean(api_url)
    name = (name or "").strip() or token
    if len(name) > MAX_NAME_LENGTH:
        raise SourceRefused(f"name is longer than {MAX_NAME_LENGTH} characters", field="name")
    _refuse_duplicate(kind, token)
    try:
        with transaction.atomic():
            source = Source(kind=kind, token=token, name=name, api_url=api_url)
            source.save()
    except IntegrityError:  # the same board added by a concurrent request
        raise DuplicateSource(f"{kind} board '{token}' is already watched", field="token") from None
    return source


def source_preview(
    *, board: BoardRequest, client_factory: Callable[[], HttpClient] = http_client
) -> BoardPreview:
    """Find the board (`url`, or `kind` and `token`), refuse it if already watched, and fetch
    it once to count its jobs. A board that answers with an error gives a preview whose
    `error` says so; input that names no board raises SourceRefused."""
    board = replace(board, api_url=source_api_url_clean(board.api_url), name=board.name.strip())
    # async_to_sync, not asyncio.run: the duplicate check inside goes back to this thread and
    # its database connection (and works from a web request's worker thread too).
    return async_to_sync(_preview)(board, client_factory)


async def _preview(request: BoardRequest, client_factory: Callable[[], HttpClient]) -> BoardPreview:
    others: tuple[str, ...]
    async with client_factory() as client:
        if request.kind or request.token:
            if request.url:
                raise SourceRefused("give either a URL or a kind and token, not both")
            board = Detected(request.kind, _board_token(request.kind, request.token))
            found_via, others = "kind and token", ()
        else:
            if not request.url.strip():
                raise SourceRefused("give a board or careers page URL, or a kind and token")
            try:
                resolution = await resolve(client, request.url)
            except NotABoard as error:
                raise SourceRefused(str(error)) from None
            except SourceError as error:
                raise SourceRefused(str(error)) from None
            board, found_via = resolution.board, resolution.found_via
            others = tuple(f"{b.kind}:{b.token}" for b in resolution.others)
        await sync_to_async(_refuse_duplicate)(board.kind, board.token)
        effective_api = request.api_url or board.api_url
        preview = BoardPreview(
            kind=board.kind,
            token=board.token,
            api_url=effective_api,
            name=request.name or board.token,
            board_url=public_board_url(board.kind, board.token),
            found_via=found_via,
            others=others,
        )
        adapter = get_adapter(board.kind)
        try:
            fetch = getattr(adapter, "fetch_preview", adapter.fetch)
            payloads = await fetch(client, board.token, effective_api or None)
            postings = adapter.parse(payloads, company="")
        except SourceError as error:
            return replace(preview, error=str(error))
        declared = getattr(adapter, "declared_total", None)
        total = declared(payloads) if declared is not None else None
        companies = Counter(p.company for p in postings if p.company)
        company = companies.most_common(1)[0][0] if companies else ""
        count = max(len(postings), total or 0)
        return replace(
            preview,
            open_jobs=count,
            name=request.name or company or board.token,
            error="" if count else "the board lists no open jobs",
        )


def source_add(
    *,
    board: BoardRequest,
    force: bool = False,
    dry_run: bool = False,
    client_factory: Callable[[], HttpClient] = http_client,
) -> tuple[BoardPreview | None, Source | None]:
    """Watch a board given as a URL (board, job or careers page) or as kind and token: find it,
    fetch it once, and save it unless this is a dry run. A board that answers with an error
    or lists no jobs is saved only with `force`; an unknown URL or a board already watched
    never is. The explicit kind-and-token form is saved without a fetch (the user named the
    board exactly; no preview then), unless it is a dry run."""
    if (board.kind or board.token) and not board.url and not dry_run:
        return None, source_create(
            kind=board.kind, token=board.token, name=board.name, api_url=board.api_url
        )
    preview = source_preview(board=board, client_factory=client_factory)
    if dry_run:
        return preview, None
    if not preview.ok and not force:
        raise SourceRefused(
            f"{preview.summary()}; not saved (force saves it anyway)", preview=preview
        )
    source = source_create(
        kind=preview.kind,
        token=preview.token,
        name=preview.name,
        api_url=board.api_url or preview.api_url,
    )
    if preview.ok:
        source.open_jobs = preview.open_jobs
        source.save(update_fields=["open_jobs"])
    return preview, source
