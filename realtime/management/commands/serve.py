"""`manage.py serve`: what `make run` starts. daphne on $HOST:$PORT plus the background worker,
both supervised (a child that dies is restarted, the other keeps running); Ctrl-C (or SIGTERM)
stops them all."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobsentinel.exposure import serve_refusal
from jobsentinel.supervisor import ChildSpec, Supervisor

# daphne's own limits sit above the app's (JOBSENTINEL_WS_MAX_MESSAGE_BYTES), so an oversized
# message gets the app's 1009 close instead of a dropped TCP connection.
DAPHNE_MAX_MESSAGE_BYTES = 64 * 1024
# An idle socket is pinged after PING_INTERVAL s and dropped PING_TIMEOUT s later without a pong:
# half-open peers are freed within their sum.
PING_INTERVAL = 20
PING_TIMEOUT = 30


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


def port_in_use(host: str, port: int) -> str | None:
    """Why `host:port` cannot be bound (another server holds it), or None. Checked before
    anything is announced, so a busy port fails at once instead of after the worker started."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As daphne binds: a port left in TIME_WAIT by a previous run is not "in use".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def worker_command() -> list[str]:
    return [sys.executable, str(settings.BASE_DIR / "manage.py"), "worker"]


class Command(BaseCommand):
    help = "Serve the web app and WebSocket endpoint with daphne, and run the background worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.HOST, help="Address to bind (env HOST).")
        parser.add_argument("--port", type=int, default=settings.PORT, help="Port (env PORT).")
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.WEB_WORKERS,
            help="web server processes (env JOBSENTINEL_WEB_WORKERS; 1 for now)",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="serve only: no background worker (scheduled scrapes and 'scrape now' wait "
            "for a `manage.py worker` started elsewhere)",
        )
        # The name of --no-worker before the worker existed.
        parser.add_argument("--no-scheduler", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        port: int = options["port"]
        web_workers: int = options["workers"]
        refusal = serve_refusal(bind=host)
        if refusal is not None:
            raise CommandError(refusal)
        if web_workers != 1:
            raise CommandError("--workers: only 1 web server process is supported for now")
        busy = port_in_use(host, port)
        if busy is not None:
            raise CommandError(
                f"Cannot serve on {host}:{port}: {busy}. Another server is probably running "
                "there: stop it, or choose another port (PORT=8001 make run, or --port)."
            )
        specs = [
            ChildSpec("web", daphne_command(host, port), index=i + 1) for i in range(web_workers)
        ]
        if not (options["no_worker"] or options["no_scheduler"]):
            specs.append(ChildSpec("worker", worker_command()))
        self.stdout.write(f"JobSentinel on http://{host}:{port}/ (Ctrl-C stops)")
        Supervisor(specs).run()
        self.stdout.write("Stopped.")
