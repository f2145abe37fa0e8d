"""`manage.py serve`: what `make run` starts. daphne on $HOST:$PORT plus the scrape scheduler;
Ctrl-C (or SIGTERM) stops both."""

from __future__ import annotations

import ipaddress
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

# daphne's own limits sit above the app's (JOBSENTINEL_WS_MAX_MESSAGE_BYTES), so an oversized
# message gets the app's 1009 close instead of a dropped TCP connection.
DAPHNE_MAX_MESSAGE_BYTES = 64 * 1024
# An idle socket is pinged after PING_INTERVAL s and dropped PING_TIMEOUT s later without a pong:
# half-open peers are freed within their sum.
PING_INTERVAL = 20
PING_TIMEOUT = 30


def is_loopback(host: str) -> bool:
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def daphne_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "daphne",
        "--bind",
        host,
        "--port",
        str(port),
        "--ping-interval",
        str(PING_INTERVAL),
        "--ping-timeout",
        str(PING_TIMEOUT),
        "--websocket-max-message-size",
        str(DAPHNE_MAX_MESSAGE_BYTES),
        "--websocket_connect_timeout",
        "10",
        "--application-close-timeout",
        "5",
        "jobsentinel.asgi:application",
    ]


class Command(BaseCommand):
    help = "Serve the web app and WebSocket endpoint with daphne, and run the scrape scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.HOST, help="Address to bind (env HOST).")
        parser.add_argument("--port", type=int, default=settings.PORT, help="Port (env PORT).")
        parser.add_argument(
            "--no-scheduler", action="store_true", help="Serve only; do not scrape on a timer."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        port: int = options["port"]
        public = not is_loopback(host) and not settings.ALLOW_UNPROTECTED_PUBLIC
        if public and settings.DEBUG:
            raise CommandError(
                f"Refusing to serve on {host} (not a loopback address) with DJANGO_DEBUG on: "
                "debug pages show settings and code to whoever triggers an error. Set "
                "DJANGO_DEBUG=false (and DJANGO_SECRET_KEY), or "
                "JOBSENTINEL_ALLOW_UNPROTECTED_PUBLIC=true if the network is trusted."
            )
        if public and not settings.API_KEYS:
            raise CommandError(
                f"Refusing to serve on {host} (not a loopback address) without API keys: anyone "
                "on the network could read and change your data. Set JOBSENTINEL_API_KEYS, or "
                "set JOBSENTINEL_ALLOW_UNPROTECTED_PUBLIC=true if the network is trusted."
            )
        children = {"daphne": subprocess.Popen(daphne_command(host, port))}
        if not options["no_scheduler"]:
            scheduler = [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "scrape",
                "--every",
                str(settings.SCRAPE_INTERVAL),
            ]
            children["scheduler"] = subprocess.Popen(scheduler)
        self.stdout.write(f"JobSentinel on http://{host}:{port}/ (Ctrl-C stops)")

        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while not stopping and all(child.poll() is None for child in children.values()):
                time.sleep(0.2)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children.values():
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        if not stopping:
            ended = [name for name, child in children.items() if child.returncode is not None]
            raise CommandError(f"{', '.join(ended)} stopped unexpectedly; shutting down")
