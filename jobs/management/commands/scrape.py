"""`manage.py scrape [--source TOKEN ...] [--every SECONDS] [--dry-run]`."""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import QuerySet

from jobs.models import Source
from jobs.scraping import Scraper, SourceOutcome
from jobs.signals import scrape_cycle_finished


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def install_interrupt_handlers() -> dict[int, Any]:
    """Ctrl-C and SIGTERM end the runs in progress as interrupted. Installed explicitly for
    SIGINT too: a process started from a non-interactive shell's background job inherits SIGINT
    *ignored*, and Python then never installs its own handler, so Ctrl-C (or a supervisor's
    SIGINT) would be lost and the scrape would run on to the end."""
    return {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}


class Command(BaseCommand):
    help = "Scrape the watched job boards once, or every SECONDS with --every."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source", action="append", default=[], metavar="TOKEN",
            help="only this board (its token, or KIND:TOKEN); repeatable",
        )  # fmt: skip
        parser.add_argument("--every", type=int, metavar="SECONDS", help="repeat every SECONDS")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="fetch and report what would change; keep nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        every: int | None = options["every"]
        if every is not None and every < 1:
            raise CommandError("--every must be at least 1 second")
        self.verbosity = int(options["verbosity"])
        dry_run = bool(options["dry_run"])
        sources = self.select(options["source"])
        previous = install_interrupt_handlers()
        scraper = Scraper()
        try:
            while True:
                outcomes = self.cycle(scraper, sources, dry_run=dry_run)
                scrape_cycle_finished.send(sender=self.__class__, dry_run=dry_run)
                if every is None:
                    break
                time.sleep(every)
                sources = self.select(options["source"])
        except KeyboardInterrupt:
            runs = scraper.interrupted
            if runs:
                ids = ", ".join(str(run.pk) for run in runs)
                self.stderr.write(f"Interrupted: run {ids} recorded as interrupted.")
            else:
                self.stderr.write("Stopped (no scrape was in progress).")
            sys.exit(130)
        finally:
            scraper.close()
            for sig, handler in previous.items():  # when called in-process (call_command)
                signal.signal(sig, handler)
        if outcomes and all(not o.ok for o in outcomes):
            raise CommandError("every selected source failed")

    def select(self, wanted: list[str]) -> list[Source]:
        queryset: QuerySet[Source] = Source.objects.filter(enabled=True).order_by("id")
        if not wanted:
            return list(queryset)
        chosen: list[Source] = []
        for item in wanted:
            kind, _, token = item.rpartition(":")
            matches = Source.objects.filter(token=token, **({"kind": kind} if kind else {}))
            if not matches:
                raise CommandError(f"no source with token {item!r}; see the admin's Sources")
            chosen.extend(m for m in matches if m not in chosen)
        return chosen

    def cycle(
        self, scraper: Scraper, sources: list[Source], *, dry_run: bool
    ) -> list[SourceOutcome]:
        if not sources and self.verbosity >= 1:
            self.stdout.write("No sources to scrape: add one with `manage.py add_source`.")
        outcomes = []
        for outcome in scraper.run_many(sources, dry_run=dry_run):
            outcomes.append(outcome)
            self.report(outcome, dry_run=dry_run)
            label = f"scraped {outcome.source.name} ({outcome.source.kind})"
            self.progress(len(outcomes) + 1, len(sources), label)
        self.progress(len(sources), len(sources), "done", final=True)
        return outcomes

    def progress(self, done: int, total: int, label: str, *, final: bool = False) -> None:
        """A progress bar on a terminal; nothing when output goes to a file or a pipe."""
        if self.verbosity < 1 or total == 0 or not self.stdout.isatty():
            return
        width = 24
        filled = int(width * (done - (0 if final else 1)) / total)
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if final else ""
        self.stdout.write(f"\r[{bar}] {done}/{total} {label[:50]:<50}", ending=end)
        self.stdout.flush()

    def report(self, outcome: SourceOutcome, *, dry_run: bool) -> None:
        if self.verbosity < 1:
            return
        prefix = "\r" if self.stdout.isatty() else ""
        name = f"{outcome.source.name} ({outcome.source.kind}:{outcome.source.token})"
        if not outcome.ok:
            self.stdout.write(prefix + self.style.ERROR(f"{name}: failed: {outcome.error}"))
            return
        assert outcome.result is not None
        line = f"{name}: {outcome.result.summary()}"
        if dry_run:
            line += " (dry run: nothing was kept)"
        self.stdout.write(prefix + self.style.SUCCESS(line))
        if dry_run and self.verbosity >= 2:
            for external_id, changes in outcome.result.changes.items():
                self.stdout.write(f"  {external_id}: would change {', '.join(changes)}")
