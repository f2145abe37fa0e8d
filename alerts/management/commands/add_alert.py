"""`manage.py add_alert KIND TARGET [--name N] [--min-score S] [--digest daily|weekly]
[--max-per-hour N] [--at HH:MM] [--quiet HH:MM-HH:MM] [--time-zone ZONE] [--secret S]`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from alerts import schedule, services
from alerts.masking import mask_target
from alerts.models import ALL_REASONS, ChannelKind, JobScope, Mode

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = (
        "Send alerts to a channel: KIND is one of " + ", ".join(ChannelKind.values) + ". "
        "TARGET is an email address, an ntfy https://server/topic, a Slack/Discord/webhook URL "
        "or an Apprise URL. Instant unless --digest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", help=", ".join(ChannelKind.values))
        parser.add_argument("target", help="address or URL (shown masked once saved)")
        parser.add_argument("--name", default="", help="a label for the channel")
        parser.add_argument(
            "--min-score", type=float, help="alert on jobs scoring at least this (0 to 1)"
        )
        parser.add_argument(
            "--jobs",
            choices=JobScope.values,
            default=JobScope.SCORE,
            help="which jobs: score (at or above the threshold), starred, any",
        )
        parser.add_argument(
            "--on",
            default=",".join(ALL_REASONS),
            help=f"which changes, comma-separated (default all): {', '.join(ALL_REASONS)}",
        )
        parser.add_argument(
            "--digest", choices=["daily", "weekly"], help="digest instead of instant"
        )
        parser.add_argument("--at", default="09:00", help="digest time HH:MM (local)")
        parser.add_argument("--weekday", choices=WEEKDAYS, default="mon", help="weekly digest day")
        parser.add_argument("--max-per-hour", type=int, default=60, help="cap of instant alerts")
        parser.add_argument("--quiet", help="quiet hours HH:MM-HH:MM (end exclusive)")
        parser.add_argument("--time-zone", default="UTC", help="e.g. Europe/Berlin")
        parser.add_argument(
            "--secret", default="", help="webhook signing secret (default: generated)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            quiet = schedule.parse_quiet_hours(options["quiet"]) if options["quiet"] else None
            at = schedule.parse_time(options["at"], what="--at")
        except schedule.ScheduleError as exc:
            raise CommandError(str(exc)) from None
        try:
            channel, generated = services.channel_create(
                kind=str(options["kind"]).lower(),
                target=options["target"],
                name=options["name"],
                secret=options["secret"],
                scope=options["jobs"],
                min_score=options["min_score"],
                reasons=[r.strip() for r in options["on"].split(",") if r.strip()],
                mode=options["digest"] or Mode.INSTANT,
                digest_at=at,
                digest_weekday=WEEKDAYS.index(options["weekday"]),
                time_zone=options["time_zone"],
                quiet_start=quiet[0] if quiet else None,
                quiet_end=quiet[1] if quiet else None,
                max_per_hour=options["max_per_hour"],
            )
        except ValidationError as exc:
            raise CommandError(error_text(exc)) from None
        if options["verbosity"] >= 1:
            target = mask_target(channel.kind, channel.target)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Alerting {channel.name!r}: {channel.kind} {target}, {channel.mode} "
                    f"(id {channel.pk})."
                )
            )
        if generated:
            # Printed once, here: it is never shown again.
            self.stdout.write(f"Signing secret (keep it; it is not shown again): {generated}")
