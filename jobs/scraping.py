"""Scrapes: fetch (async I/O, on the fetch engine's event loop), then ingest (sync ORM, in the
caller's thread), with a ScrapeRun per source so every scrape is visible as scrape_started →
scrape_completed.

A failing source never stops the others and never touches its jobs: its run ends as failed
with the error kept. Ctrl-C ends the runs in progress as interrupted; so does a worker stopping.
A process that dies without a word leaves runs whose lease (renewed here while they work)
runs out, and the next sweep closes them (`jobs.services.scrape_runs_reap`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
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
    scrape_runs_renew,
)
from jobsentinel.lazy import per_process

logger = logging.getLogger(__name__)

T = TypeVar("T")

INTERRUPTED_MESSAGE = "interrupted"
STOPPED_MESSAGE = "worker stopped: the worker was shut down during the scrape"


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


# --- fetching ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchTarget:
    """What the fetch needs of a source, as plain values: the loop thread never touches the
    ORM."""

    kind: str
    token: str
    api_url: str | None
    name: str
    host: str

    @classmethod
    def of(cls, source: Source) -> FetchTarget:
        api_url = source.api_url or None
        try:
            host = urlsplit(get_adapter(source.kind).endpoint(source.token, api_url)).netloc
        except (SourceError, ValueError):
            host = ""  # the fetch itself reports what is wrong with the URL
        return cls(source.kind, source.token, api_url, source.name, host.lower())


class FetchEngine:
    """One event loop in a thread of its own, with one HTTP client, fetching boards for every
    thread of this process.

    - The client's per-host pace therefore holds across all of them (worker threads included).
    - At most `concurrency` boards are fetched at once, and one host one board at a time: a
      fetch waiting for its host does not take a slot from a board on another host.
    - Callers block only on their own future, and ingest in their own thread, so ingesting one
      board never holds up the fetches of the others.
    """

    def __init__(
        self,
        *,
        concurrency: int | None = None,
        client_factory: Callable[[], HttpClient] = http_client,
    ) -> None:
        self.concurrency = concurrency or settings.SCRAPE_CONCURRENCY
        self._client_factory = client_factory
        self._client: HttpClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._pending: set[concurrent.futures.Future[FetchResult]] = set()
        self._guard = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="scrape-fetches", daemon=True
        )
        self._thread.start()

    def submit(self, source: Source) -> concurrent.futures.Future[FetchResult]:
        future = asyncio.run_coroutine_threadsafe(self._fetch(FetchTarget.of(source)), self._loop)
        with self._guard:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: concurrent.futures.Future[FetchResult]) -> None:
        with self._guard:
            self._pending.discard(future)

    async def _fetch(self, target: FetchTarget) -> FetchResult:
        if self._client is None:
            self._client = self._client_factory()
            self._slots = asyncio.Semaphore(self.concurrency)
        assert self._slots is not None
        lock = self._host_locks.setdefault(target.host, asyncio.Lock())
        async with lock, self._slots:
            return await scrape(
                get_adapter(target.kind), self._client, target.token, target.api_url, target.name
            )

    def cancel_all(self) -> int:
        """Cancel every fetch in progress or waiting (their callers see CancelledError)."""
        with self._guard:
            pending = list(self._pending)
        return sum(future.cancel() for future in pending)

    def close(self) -> None:
        self.cancel_all()
        if self._client is not None:
            closing = asyncio.run_coroutine_threadsafe(self._client.aclose(), self._loop)
            try:
                closing.result(timeout=10)
            except Exception:  # a client that cannot close cleanly must not block shutdown
                logger.warning("the HTTP client did not close cleanly", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()


# The process's fetch engine: the worker's threads share it.
shared_engine = per_process(FetchEngine)


# --- leases ------------------------------------------------------------------------------------


class LeaseKeeper:
    """Renews the lease of every run this process is working on, in one statement every third
    of the lease, from a thread of its own (so a long fetch or ingest cannot starve it). A
    renewal that fails (database restarting) is logged and tried again at the next beat; the
    lease has room for two misses."""

    def __init__(self) -> None:
        self._runs: set[int] = set()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def holding(self, run: ScrapeRun) -> Iterator[None]:
        with self._guard:
            self._runs.add(run.pk)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._beat, name="run-leases", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._guard:
                self._runs.discard(run.pk)

    def held(self) -> set[int]:
        with self._guard:
            return set(self._runs)

    def _beat(self) -> None:
        interval = settings.RUN_LEASE_SECONDS / 3
        while True:
            time.sleep(interval)
            runs = self.held()
            if not runs:
                continue
            try:
                scrape_runs_renew(run_ids=runs)
            except DatabaseError as exc:
                logger.warning("could not renew the lease of runs %s: %s", sorted(runs), exc)
                connection.close()


leases = LeaseKeeper()


# --- scraping ----------------------------------------------------------------------------------


class Scraper:
    """Scrapes sources: `run` one (in the calling thread), `run_many` several at once."""

    def __init__(
        self,
        client_factory: Callable[[], HttpClient] = http_client,
        *,
        concurrency: int | None = None,
        engine: FetchEngine | None = None,
    ) -> None:
        self._own_engine = engine is None
        self.engine = engine or FetchEngine(concurrency=concurrency, client_factory=client_factory)
        # Runs this scraper ended as interrupted on Ctrl-C, so a command reports only real ones.
        self.interrupted: list[ScrapeRun] = []

    def close(self) -> None:
        if self._own_engine:
            self.engine.close()

    def __enter__(self) -> Scraper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, source: Source) -> FetchResult:
        return _wait(self.engine.submit(source))

    def run(
        self, source: Source, *, dry_run: bool = False, run: ScrapeRun | None = None
    ) -> SourceOutcome:
        """Scrape one source. `run` continues a run already started (by the API or admin)."""
        if dry_run:
            return self._dry_run(source, self.engine.submit(source))
        if run is None:
            started = _start(source)
            if isinstance(started, SourceOutcome):
                return started
            run = started
        future = self.engine.submit(source)
        try:
            return self._complete(source, run, future)
        except BaseException:
            future.cancel()
            raise

    def run_many(
        self, sources: Iterable[Source], *, dry_run: bool = False
    ) -> Iterator[SourceOutcome]:
        """Scrape several sources at once (up to the engine's concurrency, one per host at a
        time), yielding each outcome as it is known. A run starts when its fetch does, and
        this thread ingests one board while the others are still being fetched. Ctrl-C ends
        every run in progress as interrupted, then propagates."""
        waiting = [(source, FetchTarget.of(source).host) for source in sources]
        active: dict[concurrent.futures.Future[FetchResult], _Fetching] = {}
        fetched: list[tuple[concurrent.futures.Future[FetchResult], _Fetching]] = []
        busy_hosts: set[str] = set()
        try:
            while waiting or active or fetched:
                # A finished fetch gives its slot (and its host) back before anything is
                # ingested, and the slots are filled again before each ingest: the fetches
                # never wait for this thread's database work.
                if active and not fetched:
                    concurrent.futures.wait(
                        active, timeout=1.0, return_when=concurrent.futures.FIRST_COMPLETED
                    )
                for future in [future for future in active if future.done()]:
                    fetching = active.pop(future)
                    busy_hosts.discard(fetching.host)
                    fetched.append((future, fetching))
                for source, host in list(waiting):
                    if len(active) >= self.engine.concurrency:
                        break
                    if host in busy_hosts:
                        continue
                    waiting.remove((source, host))
                    run: ScrapeRun | None = None
                    if not dry_run:
                        started = _start(source)
                        if isinstance(started, SourceOutcome):
                            yield started
                            continue
                        run = started
                    active[self.engine.submit(source)] = _Fetching(source, run, host)
                    busy_hosts.add(host)
                if not fetched:
                    continue
                future, fetching = fetched.pop(0)
                if fetching.run is None:
                    yield self._dry_run(fetching.source, future)
                else:
                    yield self._complete(fetching.source, fetching.run, future)
        except BaseException:
            for future, fetching in [*active.items(), *fetched]:
                future.cancel()
                run = fetching.run
                if run is not None and run.status == ScrapeStatus.RUNNING:
                    self.interrupted.append(
                        _finish(run, ScrapeStatus.INTERRUPTED, error=INTERRUPTED_MESSAGE)
                    )
            raise

    def _complete(
        self, source: Source, run: ScrapeRun, future: concurrent.futures.Future[FetchResult]
    ) -> SourceOutcome:
        """Wait for the fetch, ingest it, finish the run: every failure ends the run with its
        reason, and only Ctrl-C propagates."""
        with leases.holding(run):
            try:
                fetched = _wait(future)
                result = ingest_postings(
                    source=source,
                    postings=fetched.postings,
                    complete=fetched.complete,
                    skipped=fetched.skipped,
                )
            except SourceError as exc:
                logger.warning("scrape of %s failed: %s", source, exc)
                missing = isinstance(exc, BoardNotFound)
                return _failed(source, run, str(exc), board_missing=missing)
            except concurrent.futures.CancelledError:
                logger.info("scrape of %s stopped with the worker", source)
                _finish(run, ScrapeStatus.INTERRUPTED, error=STOPPED_MESSAGE)
                return SourceOutcome(source, run, None, STOPPED_MESSAGE)
            except KeyboardInterrupt:
                self.interrupted.append(
                    _finish(run, ScrapeStatus.INTERRUPTED, error=INTERRUPTED_MESSAGE)
                )
                raise
            except DatabaseError as exc:
                logger.error("scrape of %s failed on the database: %s", source, exc)
                connection.close()  # a dropped connection must not poison the next source
                return _failed(source, run, f"database error: {exc}")
            except Exception as exc:  # a bug must fail this run, not the worker
                logger.exception("scrape of %s crashed", source)
                return _failed(source, run, f"internal error: {type(exc).__name__}; see the log")
            return SourceOutcome(
                source, _finish(run, ScrapeStatus.SUCCEEDED, result=result), result
            )

    def _dry_run(
        self, source: Source, future: concurrent.futures.Future[FetchResult]
    ) -> SourceOutcome:
        """Fetch for real, ingest inside a transaction that is rolled back: the counts are what
        a real scrape would do, and nothing is kept (no rows, no events)."""
        try:
            fetched = _wait(future)
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


@dataclass(frozen=True, slots=True)
class _Fetching:
    """A board `run_many` asked the engine for (its run None in a dry run)."""

    source: Source
    run: ScrapeRun | None
    host: str


def _wait(future: concurrent.futures.Future[FetchResult]) -> FetchResult:
    # Short waits in a loop rather than one long one: the main thread stays responsive to
    # Ctrl-C whatever the platform does with a signal during a blocking wait.
    while True:
        try:
            return future.result(timeout=0.5)
        except concurrent.futures.TimeoutError:
            continue


def _start(source: Source) -> ScrapeRun | SourceOutcome:
    """Start a run, or the outcome of not starting one (busy, or the database unavailable:
    skipped, with the reason logged; the next tick tries again)."""
    try:
        return _retrying(f"starting a scrape of {source}", lambda: scrape_run_start(source=source))
    except SourceBusy as busy:
        logger.info("skipping %s: %s", source, busy)
        return SourceOutcome(source, None, None, str(busy))
    except DatabaseError as exc:
        logger.error("could not start a scrape of %s (skipped): %s", source, exc)
        return SourceOutcome(source, None, None, f"skipped: database error: {exc}")


def _failed(
    source: Source, run: ScrapeRun, error: str, *, board_missing: bool = False
) -> SourceOutcome:
    finished = _finish(run, ScrapeStatus.FAILED, error=error, board_missing=board_missing)
    return SourceOutcome(source, finished, None, error)


def _finish(run: ScrapeRun, status: str, **outcome: Any) -> ScrapeRun:
    """Finish a run (`outcome`: scrape_run_finish's result, error, board_missing), retrying a
    few times: after a database restart the first query fails on a dead connection, and a run
    left "running" would mislead everyone until its lease ends."""
    try:
        return _retrying(
            f"recording the end of run {run.pk}",
            lambda: scrape_run_finish(run=run, status=status, **outcome),
            attempts=5,
        )
    except DatabaseError:
        return run


def _retrying(what: str, once: Callable[[], T], *, attempts: int = 3) -> T:
    """`once()`, tried again after a database error with a growing pause (1 s, 2 s, ... at
    most 10 s): after a database restart the first query fails on a dead connection, and
    SQLite can answer "database is locked" while many connections open at once. The last
    error is raised."""
    for attempt in range(1, attempts):
        try:
            return once()
        except DatabaseError as exc:
            logger.warning("%s failed (attempt %d of %d): %s", what, attempt, attempts, exc)
            connection.close()
            time.sleep(min(2.0 ** (attempt - 1), 10.0))
    try:
        return once()
    except DatabaseError:
        connection.close()
        raise
