"""`manage.py add_source URL [--name NAME] [--api-url URL] [--dry-run] [--force]` and the
explicit `manage.py add_source KIND TOKEN [--name NAME] [--api-url URL]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobs.models import SourceKind
from jobs.services import BoardPreview, BoardRequest, SourceRefused, source_add


class Command(BaseCommand):
    help = (
        "Watch a company's job board. URL is a board URL, a job URL or the company's careers "
        "page: the board's kind and token are detected, it is fetched once and summarised, "
        "and saved only if it answered with open jobs (or with --force). The explicit form "
        "KIND TOKEN (KIND: " + ", ".join(SourceKind.values) + ") saves without fetching."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "target", metavar="URL|KIND", help="a board or careers page URL, or a kind"
        )
        parser.add_argument("token", nargs="?", help="with KIND: the board's token")
        parser.add_argument("--name", default="", help="company display name (default: detected)")
        parser.add_argument(
            "--api-url",
            default="",
            help="send every request for the board to this scheme and host "
            "(e.g. https://api.eu.lever.co, a mirror); a careers page is still read from its URL",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="only fetch and summarise; save nothing"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="save even if the board answers with an error or lists no jobs",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target = str(options["target"]).strip()
        token = options["token"]
        explicit = token is not None
        if not explicit and target.lower() in SourceKind.values:
            raise CommandError(f"{target}: give the board's TOKEN too (add_source KIND TOKEN)")
        if explicit and target.lower() not in SourceKind.values:
            raise CommandError(
                f"unknown kind {target.lower()!r}; use one of: {', '.join(SourceKind.values)}"
            )
        try:
            preview, source = source_add(
                board=BoardRequest(
                    url="" if explicit else target,
                    kind=target.lower() if explicit else "",
                    token=str(token) if explicit else "",
                    api_url=str(options["api_url"] or ""),
                    name=str(options["name"] or ""),
                ),
                force=bool(options["force"]),
                dry_run=bool(options["dry_run"]),
            )
        except SourceRefused as refused:
            if refused.preview is not None:
                self.show(refused.preview, options)
            raise CommandError(str(refused)) from None
        if source is None:
            assert preview is not None  # a dry run always fetches
            self.show(preview, options)
            if options["verbosity"] >= 1:
                self.stdout.write("Dry run: nothing was saved.")
            return
        if preview is not None:
            self.show(preview, options)
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"Watching {source} (id {source.pk})."))

    def show(self, preview: BoardPreview, options: dict[str, Any]) -> None:
        if options["verbosity"] < 1:
            return
        self.stdout.write(f"Found via {preview.found_via}: {preview.board_url}")
        line = preview.summary()
        style = self.style.SUCCESS if preview.ok else self.style.WARNING
        self.stdout.write(style(line))
        if preview.ok:
            self.stdout.write(f"Company: {preview.name}")
        if preview.others:
            self.stdout.write(f"The page also points at: {', '.join(preview.others)}")
