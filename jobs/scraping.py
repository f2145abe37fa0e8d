"""One scrape of one or more sources: fetch (async I/O), then ingest (sync ORM), with a
ScrapeRun per source so every scrape is visible as scrape_started → scrape_completed.

A failing source never stops the others and never touches its jobs: its run ends as failed
with the error kept. Ctrl-C ends the current run as interrupted.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction

from jobs.models import ScrapeRun, ScrapeStatus, Source
from jobs.scrapers import (
    BoardNotFound,
    FetchResult,
    HttpClient,
    SourceError,
    get_adapter,
    scrape,
)
from jobs.services import (
    IngestResult,
    SourceBusy,
    http_client,
    ingest_postings,
    scrape_run_finish,
    scrape_run_start,
)

logger = logging.getLogger(__name__)


@dataclass
class SourceOutcome:
    source: Source
    run: ScrapeRun | None
    result: IngestResult | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


class _DryRunRollback(Exception):
    """Raised inside the dry-run transaction so nothing it did is kept."""


class Scraper:
    """Scrapes sources one after another on one event loop and one HTTP client, so the
    per-host pace holds across boards of the same vendor."""

    def __init__(self, client_factory: Callable[[], HttpClient] = http_client) -> None:
        self._client_factory = client_factory
        self._loop = asyncio.new_event_loop()
        self._client: HttpClient | None = None

    def close(self) -> None:
        if self._client is not None:
            self._loop.run_until_complete(self._client.aclose())
        self._loop.close()

    def __enter__(self) -> Scraper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, source: Source) -> FetchResult:
        async def go() -> FetchResult:
            if self._client is None:
                self._client = self._client_factory()
            adapter = get_adapter(source.kind)
            return await scrape(
                adapter, self._client, source.token, source.api_url or None, source.name
            )

        return self._loop.run_until_complete(go())

    def run(
        self, source: Source, *, dry_run: bool = False, run: ScrapeRun | None = None
    ) -> SourceOutcome:
        """Scrape one source. `run` continues a run already started (by the API or admin)."""
        if dry_run:
            return self._dry_run(source)
        try:
            run = run or scrape_run_start(source=source)
        except SourceBusy as busy:
            logger.info("skipping %s: %s", source, busy)
            return SourceOutcome(source, None, None, str(busy))
        try:
            fetched = self.fetch(source)
            result = ingest_postings(
                source=source,
                postings=fetched.postings,
                complete=fetched.complete,
                skipped=fetched.skipped,
            )
        except SourceError as exc:
            logger.warning("scrape of %s failed: %s", source, exc)
            missing = isinstance(exc, BoardNotFound)
            finished = _finish(run, ScrapeStatus.FAILED, error=str(exc), board_missing=missing)
            return SourceOutcome(source, finished, None, str(exc))
        except KeyboardInterrupt:
            _finish(run, ScrapeStatus.INTERRUPTED, error="interrupted")
            raise
        except DatabaseError as exc:
            logger.error("scrape of %s failed on the database: %s", source, exc)
            connection.close()  # a dropped connection must not poison the next source
            return SourceOutcome(
                source,
                _finish(run, ScrapeStatus.FAILED, error=f"database error: {exc}"),
                None,
                str(exc),
            )
        except Exception as exc:  # a bug must fail this run, not the scheduler and the server
            logger.exception("scrape of %s crashed", source)
            error = f"internal error: {type(exc).__name__}; see the server log"
            return SourceOutcome(
                source, _finish(run, ScrapeStatus.FAILED, error=error), None, error
            )
        return SourceOutcome(source, _finish(run, ScrapeStatus.SUCCEEDED, result=result), result)

    def _dry_run(self, source: Source) -> SourceOutcome:
        """Fetch for real, ingest inside a transaction that is rolled back: the counts are what
        a real scrape would do, and nothing is kept (no rows, no events)."""
        try:
            fetched = self.fetch(source)
        except SourceError as exc:
            return SourceOutcome(source, None, None, str(exc))
        result: IngestResult | None = None
        try:
            with transaction.atomic():
                result = ingest_postings(
                    source=source,
                    postings=fetched.postings,
                    complete=fetched.complete,
                    skipped=fetched.skipped,
                )
                raise _DryRunRollback
        except _DryRunRollback:
            pass
        return SourceOutcome(source, None, result)


def _finish(
    run: ScrapeRun,
    status: str,
    *,
    result: IngestResult | None = None,
    error: str = "",
    board_missing: bool = False,
) -> ScrapeRun:
    """Finish a run, retrying a few times: after a database restart the first query fails on a
    dead connection, and a run left "running" would mislead everyone."""
    for attempt in range(5):
        try:
            return scrape_run_finish(
                run=run, status=status, result=result, error=error, board_missing=board_missing
            )
        except DatabaseError as exc:
            logger.warning(
                "could not record the end of run %s (attempt %d): %s", run.pk, attempt + 1, exc
            )
            connection.close()
            time.sleep(min(2.0**attempt, 10.0))
    return run


def start_background_scrape(source: Source) -> ScrapeRun:
    """Start a scrape of one source in a background thread of this process and return its run
    at once (status running); its progress arrives as events like any other scrape."""
    run = scrape_run_start(source=source)

    def work() -> None:
        try:
            with Scraper() as scraper:
                scraper.run(source, run=run)
        except Exception:
            logger.exception("background scrape of %s crashed", source)
            _finish(run, ScrapeStatus.FAILED, error="internal error; see the server log")
        finally:
            connection.close()  # this thread's own connection

    # The run row must be visible to the thread (and to clients) before it starts.
    transaction.on_commit(
        lambda: threading.Thread(target=work, name=f"scrape-{source.pk}", daemon=True).start()
    )
    return run
