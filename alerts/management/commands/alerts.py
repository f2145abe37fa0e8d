"""`manage.py alerts [--test ID] [--flush]`: channels, recent deliveries, a test message, or
everything pending sent now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alerts import services
from alerts.masking import mask_target
from alerts.models import Channel, Delivery, DeliveryStatus

RECENT = 20


class Command(BaseCommand):
    help = (
        "List alert channels and recent deliveries; --test ID sends a test message; --flush "
        "sends everything pending now (digests whether due or not, alerts held by quiet hours)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--test", type=int, metavar="ID", help="send a test to channel ID")
        parser.add_argument("--flush", action="store_true", help="deliver everything pending now")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["test"] is not None:
            self._test(options["test"])
            return
        if options["flush"]:
            result = services.run_pass(force=True)
            self.stdout.write(f"Flushed: {result}.")
            failed = Delivery.objects.filter(status=DeliveryStatus.FAILED).count()
            if failed and options["verbosity"] >= 1:
                self.stdout.write(
                    f"{failed} deliveries have failed; `manage.py alerts` lists them."
                )
            return
        self._list()

    def _test(self, channel_id: int) -> None:
        channel = Channel.objects.filter(pk=channel_id).first()
        if channel is None:
            raise CommandError(
                f"no alert channel with id {channel_id} (`manage.py alerts` lists them)"
            )
        delivery = services.send_test(channel=channel)
        line = f"Test to {channel.name!r} ({channel.kind}): {delivery.status_text}"
        if delivery.status == DeliveryStatus.SENT:
            self.stdout.write(self.style.SUCCESS(line))
        elif delivery.status == DeliveryStatus.FAILED:
            raise CommandError(line)
        else:
            self.stdout.write(self.style.WARNING(line + " (the worker retries it)"))

    def _list(self) -> None:
        channels = list(Channel.objects.all())
        if not channels:
            self.stdout.write("No alert channels. Add one with `manage.py add_alert KIND TARGET`.")
        for channel in channels:
            state = "" if channel.enabled else " [disabled]"
            quiet = (
                f", quiet {channel.quiet_start:%H:%M}-{channel.quiet_end:%H:%M}"
                if channel.quiet_start and channel.quiet_end
                else ""
            )
            self.stdout.write(
                f"(id {channel.pk}) {channel.name} — {channel.kind} "
                f"{mask_target(channel.kind, channel.target)}, {channel.mode}{quiet}{state}"
            )
        deliveries = list(Delivery.objects.recent()[:RECENT])
        if deliveries:
            self.stdout.write("\nRecent deliveries:")
        for delivery in deliveries:
            self.stdout.write(
                f"  {delivery.created_at:%Y-%m-%d %H:%M} {delivery.channel.name}: "
                f"{delivery.kind} {delivery.reason} — {delivery.status_text} [{delivery.pk}]"
            )
