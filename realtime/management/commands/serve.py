"""`manage.py serve`: what `make run` starts. N daphne processes (`--workers`) accepting on one
socket bound here on $HOST:$PORT, plus the background worker, all supervised (a child that dies
is restarted, the others keep running); Ctrl-C (or SIGTERM) stops them all."""

from __future__ import annotations

import argparse
import functools
import socket
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobsentinel.exposure import serve_refusal
from jobsentinel.supervisor import ChildSpec, Supervisor
from realtime.connections import ConnectionTable

# daphne's own limits sit above the app's (JOBSENTINEL_WS_MAX_MESSAGE_BYTES), so an oversized
# message gets the app's 1009 close instead of a dropped TCP connection.
DAPHNE_MAX_MESSAGE_BYTES = 64 * 1024
# An idle socket is pinged after PING_INTERVAL s and dropped PING_TIMEOUT s later without a pong:
# half-open peers are freed within their sum.
PING_INTERVAL = 20
PING_TIMEOUT = 30


# Connections the kernel queues on the listening socket before a web process accepts them:
# above Twisted's 50, so a burst of reconnects (every client after a restart) is not refused.
# The kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 1024


def daphne_command(fd: int) -> list[str]:
    """daphne serving on the listening socket inherited as descriptor `fd`."""
    return [
        sys.executable,
        "-m",
        "daphne",
        "--fd",
        str(fd),
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


def listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound once here and shared by every web process (each
    inherits it and accepts on it), so a web process that restarts never unbinds the port.
    Raises CommandError saying why when it cannot be bound (a busy port, an unknown host),
    before anything is announced or started."""
    address_text = host.strip("[]")
    # As daphne bound by itself: IPv6 for an IPv6 literal, IPv4 for anything else (a name such
    # as localhost included, whichever family the resolver would list first).
    family = socket.AF_INET6 if ":" in address_text else socket.AF_INET
    try:
        infos = socket.getaddrinfo(
            address_text, port, family, socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        family, kind, proto, _, address = infos[0]
    except OSError as exc:
        raise CommandError(f"Cannot serve on {host}:{port}: cannot resolve {host}: {exc}") from None
    listener = socket.socket(family, kind, proto)
    try:
        # As Twisted binds: a port left in TIME_WAIT by a previous run is not "in use".
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(LISTEN_BACKLOG)
    except OSError as exc:
        listener.close()
        raise CommandError(
            f"Cannot serve on {host}:{port}: {exc.strerror or exc}. Another server is probably "
            "running there: stop it, or choose another port (PORT=8001 make run, or --port)."
        ) from None
    listener.setblocking(False)  # Twisted requires it of an adopted socket
    return listener


def web_specs(listener: socket.socket, table: ConnectionTable, workers: int) -> list[ChildSpec]:
    """N daphne processes on one listening socket, each with its row of the connection table,
    which is zeroed when the process exits so that its sockets are no longer counted."""
    fds = (listener.fileno(), table.fd)
    return [
        ChildSpec(
            "web",
            daphne_command(listener.fileno()),
            index=worker,
            pass_fds=fds,
            env={
                "JOBSENTINEL_CONNECTION_TABLE_FD": str(table.fd),
                "JOBSENTINEL_WEB_WORKER_INDEX": str(worker),
            },
            on_exit=functools.partial(table.release, worker),
        )
        for worker in range(1, workers + 1)
    ]


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
            help="web server processes sharing the port (env JOBSENTINEL_WEB_WORKERS)",
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
        if not 1 <= web_workers <= settings.WEB_WORKERS_MAX:
            raise CommandError(
                f"--workers {web_workers}: the number of web server processes must be between "
                f"1 and {settings.WEB_WORKERS_MAX} (about one per CPU core; see docs/deployment.md)"
            )
        listener = listen(host, port)
        table = ConnectionTable.create(web_workers)
        specs = web_specs(listener, table, web_workers)
        if not (options["no_worker"] or options["no_scheduler"]):
            specs.append(ChildSpec("worker", worker_command()))
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        processes = f" ({web_workers} web processes)" if web_workers > 1 else ""
        self.stdout.write(f"JobSentinel on http://{shown}:{port}/{processes} (Ctrl-C stops)")
        try:
            Supervisor(specs).run()
        finally:
            listener.close()
            table.close()
        self.stdout.write("Stopped.")
