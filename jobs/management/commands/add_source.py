"""`manage.py add_source KIND TOKEN [--name NAME] [--api-url URL]`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator

from jobs.models import Source, SourceKind
from jobs.scrapers import validate_token


class Command(BaseCommand):
    help = "Watch a company's job board: KIND is one of " + ", ".join(SourceKind.values) + "."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", help=f"board kind: {', '.join(SourceKind.values)}")
        parser.add_argument("token", help="the board's token (the company slug in its URL)")
        parser.add_argument("--name", help="company display name (default: the token)")
        parser.add_argument(
            "--api-url",
            default="",
            help="replace the vendor's scheme and host, e.g. https://api.eu.lever.co",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = str(options["kind"]).lower()
        if kind not in SourceKind.values:
            raise CommandError(f"unknown kind {kind!r}; use one of: {', '.join(SourceKind.values)}")
        try:
            token = validate_token(kind, options["token"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        api_url = str(options["api_url"] or "").rstrip("/")
        if api_url:
            try:
                URLValidator(schemes=["http", "https"])(api_url)
            except ValidationError:
                raise CommandError(f"--api-url {api_url!r} is not an http(s) URL") from None
        if Source.objects.filter(kind=kind, token=token).exists():
            raise CommandError(f"{kind} board {token!r} is already watched")
        source = Source.objects.create(
            kind=kind, token=token, name=(options["name"] or token).strip(), api_url=api_url
        )
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"Watching {source} (id {source.pk})."))
