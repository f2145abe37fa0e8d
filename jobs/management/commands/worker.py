"""`manage.py worker`: the background worker (huey consumer) that `make run` starts.

It runs the queued tasks (scheduled scrapes, "scrape now", and the tasks of other apps) on
JOBSENTINEL_WORKER_THREADS threads, and its scheduler sweeps every
JOBSENTINEL_SCHEDULE_TICK_SECONDS. SIGTERM and Ctrl-C stop it cleanly: no new task is taken,
scrapes in progress end as interrupted ("worker stopped"), and it exits 0.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import autodiscover_modules
from huey.consumer import Consumer
from huey.contrib.djhuey import HUEY

from jobs.scraping import shared_engine
from jobs.tasks import Sweeper

logger = logging.getLogger("jobs.worker")

# How long a stop waits for tasks to wrap up (an ingest in progress, runs being closed).
SHUTDOWN_TIMEOUT = 30.0


class WorkerConsumer(Consumer):
    """huey's consumer, stopping the same way on SIGTERM and SIGINT: fetches in progress are
    cancelled (their runs end as interrupted), then the threads are given time to finish."""

    sweeper: Sweeper | None = None

    def stop(self, graceful: bool = False) -> None:
        if self.sweeper is not None:
            self.sweeper.stop()
        cancelled = shared_engine().cancel_all()
        if cancelled:
            logger.info("stopping: %d scrape(s) in progress end as interrupted", cancelled)
        super().stop(graceful=True)


def queue_description() -> str:
    if settings.REDIS_URL:
        parts = urlsplit(settings.REDIS_URL)
        where = f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"
        return f"queue {HUEY.name!r} on Redis ({where}, shared by every worker using it)"
    return f"queue {HUEY.name!r} in SQLite ({HUEY.storage_kwargs.get('filename')}, this machine)"


class Command(BaseCommand):
    help = "Run the background worker: scheduled scrapes, 'scrape now', other queued tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="worker threads (default: JOBSENTINEL_WORKER_THREADS)",
        )
        parser.add_argument(
            "--no-schedule",
            action="store_true",
            help="run queued tasks only; do not sweep (no scheduled scrapes from this worker)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        autodiscover_modules("tasks")
        verbosity = int(options["verbosity"])
        # huey announces itself in several lines and logs every task; one line is enough here.
        logging.getLogger("huey").setLevel(logging.INFO if verbosity >= 2 else logging.WARNING)
        config: dict[str, Any] = dict(settings.HUEY.get("consumer", {}))
        if options["threads"] is not None:
            config["workers"] = max(1, options["threads"])
        config.update(worker_type="thread", periodic=True, shutdown_timeout=SHUTDOWN_TIMEOUT)
        consumer = WorkerConsumer(HUEY, **config)
        every = settings.SCHEDULE_TICK_SECONDS
        if not options["no_schedule"]:
            consumer.sweeper = Sweeper()
        logger.info(
            "worker started: %s, %d threads, %d fetches at once, %s",
            queue_description(),
            config["workers"],
            settings.SCRAPE_CONCURRENCY,
            "no schedule" if consumer.sweeper is None else f"sweeping every {every:g} s",
        )
        if consumer.sweeper is not None:
            consumer.sweeper.start(every)
        consumer.run()
        logger.info("worker stopped")
