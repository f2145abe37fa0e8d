"""Background work of the jobs app, run by `manage.py worker` (huey).

- `scrape_source`: scrape one source, or continue the run that "scrape now" started.
- `sweep`: what the worker's scheduler does every JOBSENTINEL_SCHEDULE_TICK_SECONDS: close
  runs whose process died (expired lease), enqueue every source that is due, prune the event
  log. Every step survives a database error (logged; the next tick tries again).

A source is never scraped twice at once: `scrape_run_start` checks and starts under a lock on
the source's row, whichever worker, thread or machine asks. Duplicate queue entries (several
workers sweeping) are harmless: a scheduled scrape that finds its source no longer due does
nothing.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import DatabaseError, connection, transaction
from huey.contrib.djhuey import db_task

from jobs.models import ScrapeRun, ScrapeStatus, Source
from jobs.scraping import Scraper, SourceOutcome, shared_engine
from jobs.services import (
    SourceDisabled,
    disabled_message,
    scrape_run_finish,
    scrape_run_start,
    scrape_runs_reap,
    source_is_due,
    sources_due,
)
from jobs.signals import scrape_cycle_finished

logger = logging.getLogger(__name__)

# The event log is pruned at most this often by one worker (it is a scan of the log).
PRUNE_EVERY_SECONDS = 600.0
# A source this worker queued is not queued again for this long (or its interval, if shorter):
# enough for a backlog to drain without piling up copies, short enough that a scrape skipped
# for a database error is tried again within a minute or two.
REQUEUE_AFTER_SECONDS = 60.0


@db_task()
def scrape_source(source_id: int, run_id: int | None = None) -> None:
    scrape_source_now(source_id, run_id)


def scrape_source_now(source_id: int, run_id: int | None = None) -> SourceOutcome | None:
    """The body of `scrape_source`, callable without the queue. Returns None when there was
    nothing to do (source gone or disabled, or no longer due)."""
    try:
        source = Source.objects.filter(pk=source_id).first()
        if source is None:
            logger.info("source %s no longer exists; nothing to scrape", source_id)
            return None
        run = None
        if run_id is not None:
            run = ScrapeRun.objects.filter(pk=run_id, status=ScrapeStatus.RUNNING).first()
            if run is None:
                # Closed while it waited in the queue (its patience ran out): the scrape was
                # still asked for, so it gets a run of its own.
                logger.info("run %s was closed while queued; scraping %s anew", run_id, source)
        elif not source_is_due(source):
            return None
    except DatabaseError as exc:
        logger.error("scrape of source %s skipped: database error: %s", source_id, exc)
        connection.close()
        return None
    return Scraper(engine=shared_engine()).run(source, run=run)


def scrape_now(*, source: Source) -> ScrapeRun:
    """ "Scrape now" (API, admin, page): start the run here, so the caller can answer with it at
    once, and queue its scrape for a worker after commit. Raises SourceDisabled or SourceBusy
    (both ScrapeRefused): the same rules for every way in."""
    if not source.enabled:
        raise SourceDisabled(disabled_message(source))
    run = scrape_run_start(source=source, queued=True)

    def enqueue() -> None:
        try:
            scrape_source(source.pk, run.pk)
        except Exception as exc:  # the queue is unreachable (Redis down): say so on the run
            logger.exception("could not queue the scrape of %s", source)
            scrape_run_finish(
                run=run, status=ScrapeStatus.FAILED, error=f"could not queue the scrape: {exc}"
            )

    transaction.on_commit(enqueue, robust=True)  # a failure here is logged, never raised
    return run


class Sweeper:
    """The worker's scheduler. One per worker process; several workers each sweep, and the
    database rules keep that safe."""

    def __init__(self, *, enqueue: bool = True) -> None:
        self._enqueue = enqueue
        # Per source, when this process last queued it (see REQUEUE_AFTER_SECONDS).
        self._queued: dict[int, float] = {}
        self._last_prune: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep(self) -> None:
        for step in (self.reap, self.schedule, self.prune):
            try:
                step()
            except DatabaseError as exc:
                logger.warning("sweep: %s skipped, database error: %s", step.__name__, exc)
                connection.close()
            except Exception:  # a bug in one step must not stop the scheduler
                logger.exception("sweep: %s failed", step.__name__)

    def reap(self) -> None:
        for run in scrape_runs_reap():
            logger.warning(
                "run %s of %s abandoned (lease expired): interrupted", run.pk, run.source
            )

    def schedule(self) -> None:
        now = time.monotonic()
        for source in sources_due():
            queued = self._queued.get(source.pk)
            if queued is not None and now - queued < min(
                REQUEUE_AFTER_SECONDS, source.interval_seconds
            ):
                continue
            self._queued[source.pk] = now
            if self._enqueue:
                scrape_source(source.pk)

    def prune(self) -> None:
        now = time.monotonic()
        if self._last_prune is not None and now - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = now
        scrape_cycle_finished.send(sender=Sweeper, dry_run=False)

    def start(self, every: float) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self.sweep()
                self._stop.wait(every)
            connection.close()

        self._thread = threading.Thread(target=loop, name="sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
