"""post_save receivers: Job and ScrapeRun saves become logged events (sent after commit).

The payloads keep the guide's fields and add what a live page needs to update in place.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from jobs.job_fields import job_headline, public_changes
from jobs.models import Job, ScrapeRun, ScrapeStatus
from jobs.signals import jobs_rescored, scrape_cycle_finished
from realtime import log
from realtime.events import EventType
from realtime.record import record

SNIPPET_CHARS = 240


def job_summary(job: Job) -> dict[str, Any]:
    """The fields a feed row shows; shared by new_job and job_updated."""
    return {
        **job_headline(job),
        "score": round(job.score, 4),
        "url": job.url,
        "status": job.status,
        "hidden": job.hidden,
        "starred": job.starred,
        "source": job.source.kind,
        "source_id": job.source_id,
        "posted_at": job.posted_at.isoformat() if job.posted_at else None,
        "snippet": job.description_text[:SNIPPET_CHARS],
    }


def on_job_saved(
    sender: type[Job],
    instance: Job,
    created: bool,
    raw: bool,
    update_fields: frozenset[str] | None,
    **kwargs: Any,
) -> None:
    if raw:  # loading fixtures
        return
    if created:
        # A duplicate of a job already shown on another source is kept, not announced.
        if instance.duplicate_of_id is None:
            record(EventType.NEW_JOB, job_summary(instance))
        return
    # The save computed its own diff (`TracksLoadedValues`); update_fields plays no part.
    changes = public_changes(instance.saved_changes)
    if not changes:
        return
    data = {"job_id": instance.pk, "changes": changes, "new_score": round(instance.score, 4)}
    data["job"] = job_summary(instance)
    record(EventType.JOB_UPDATED, data)


def scrape_source_fields(run: ScrapeRun) -> dict[str, Any]:
    source = run.source
    return {
        "source": source.kind,
        "source_id": source.pk,
        "source_name": source.name,
        "run_id": run.pk,
    }


def on_scrape_run_saved(
    sender: type[ScrapeRun],
    instance: ScrapeRun,
    created: bool,
    raw: bool,
    update_fields: frozenset[str] | None,
    **kwargs: Any,
) -> None:
    if raw:
        return
    if created:
        record(
            EventType.SCRAPE_STARTED,
            {
                **scrape_source_fields(instance),
                "expected_duration_seconds": instance.expected_duration_seconds,
                "started_at": instance.started_at.isoformat(),
            },
        )
        return
    if instance.status == ScrapeStatus.RUNNING:
        return
    if "status" not in instance.saved_changes:
        return
    record(
        EventType.SCRAPE_COMPLETED,
        {
            **scrape_source_fields(instance),
            "status": instance.status,
            "jobs_found": instance.jobs_found,
            "new_jobs": instance.new_jobs,
            "updated_jobs": instance.updated_jobs,
            "closed_jobs": instance.closed_jobs,
            "duration_seconds": instance.duration_seconds,
            "errors": instance.errors,
            "error_message": instance.error_message,
        },
    )


def on_jobs_rescored(sender: type[Job], changed: int, **kwargs: Any) -> None:
    record(EventType.JOBS_RESCORED, {"changed": changed})


def on_scrape_cycle_finished(sender: object, dry_run: bool = False, **kwargs: Any) -> None:
    if not dry_run:  # a dry run changes nothing, the log included
        log.prune()


def connect() -> None:
    scrape_cycle_finished.connect(on_scrape_cycle_finished, dispatch_uid="realtime.prune")
    jobs_rescored.connect(on_jobs_rescored, dispatch_uid="realtime.jobs_rescored")
    post_save.connect(on_job_saved, sender=Job, dispatch_uid="realtime.job_saved")
    post_save.connect(on_scrape_run_saved, sender=ScrapeRun, dispatch_uid="realtime.run_saved")
