"""Whether the server is exposed beyond this machine, and what that forbids.

A server is exposed when it binds a non-loopback address, or when `DJANGO_ALLOWED_HOSTS` names
a host that is not local (a reverse proxy publishing it as `jobs.example.com` binds loopback,
yet the world reaches it). An exposed server must have API keys (or the owner's explicit
`JOBSENTINEL_ALLOW_UNPROTECTED_PUBLIC`), and debug pages are never shown to a request whose
`Host` is not local, whatever `DJANGO_DEBUG` says.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_local_host(host: str) -> bool:
    """A host name, address or `DJANGO_ALLOWED_HOSTS` pattern that only this machine reaches:
    `localhost` (and `*.localhost`), loopback addresses (`127.0.0.0/8`, `[::1]`)."""
    name = host.strip().lower().rstrip(".")
    if name in LOCAL_NAMES or name == ".localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def serve_refusal(*, bind: str) -> str | None:
    """Why `serve` must not start on `bind` as configured, or None. The one place for the
    rule; `manage.py serve` calls it before it starts anything."""
    if settings.ALLOW_UNPROTECTED_PUBLIC:
        return None
    override = "JOBSENTINEL_ALLOW_UNPROTECTED_PUBLIC=true if the network is trusted."
    if not is_local_host(bind):
        if settings.DEBUG:
            return (
                f"Refusing to serve on {bind} (not a loopback address) with DJANGO_DEBUG on: "
                "debug pages show settings and code to whoever triggers an error. Set "
                f"DJANGO_DEBUG=false (and DJANGO_SECRET_KEY), or {override}"
            )
        if not settings.API_KEYS:
            return (
                f"Refusing to serve on {bind} (not a loopback address) without API keys: anyone "
                "on the network could read and change your data. Set JOBSENTINEL_API_KEYS, or "
                f"set {override}"
            )
    public = [host for host in settings.ALLOWED_HOSTS if not is_local_host(host)]
    if public and not settings.API_KEYS:
        return (
            f"Refusing to serve: DJANGO_ALLOWED_HOSTS names {', '.join(public)} (not local), "
            "so a reverse proxy or the network can reach this server, and there are no API "
            "keys: anyone could read and change your data. Set JOBSENTINEL_API_KEYS, or set "
            f"{override}"
        )
    return None


def request_is_local(request: HttpRequest) -> bool:
    """Whether the request's Host (as sent, before any validation) is a local one."""
    domain, _port = split_domain_port(request.META.get("HTTP_HOST", ""))
    return bool(domain) and is_local_host(domain)


class LocalDebugPagesMiddleware:
    """With DJANGO_DEBUG on, Django answers errors with pages that show settings, code and URL
    patterns. Those are for the owner at the machine: a request whose Host is not local gets
    the plain error page a production server shows. (Listed first, so it sees every page.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code >= 400
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
            and not request_is_local(request)
        ):
            plain = HttpResponse(
                f"{response.status_code} {response.reason_phrase}\n",
                status=response.status_code,
                content_type="text/plain; charset=utf-8",
            )
            return plain
        return response
