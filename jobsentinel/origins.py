"""The one rule for browser origins, shared by the WebSocket and by Django's CSRF check of
session-authenticated writes (the admin, the REST API with a login).

A browser origin is allowed when it is exactly the server's own origin, as the browser reached
it: the scheme of the connection and the `Host` it sent (host and port, `[::1]` included), that
`Host` being one of `DJANGO_ALLOWED_HOSTS`; or when it is listed in `CORS_ORIGINS`. A page on
another port of the same host is another origin, and `Origin: null` (sandboxed frames,
`file://` pages) is never allowed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.http.request import split_domain_port, validate_host
from django.middleware.csrf import CsrfViewMiddleware

# Django's own fallback when DEBUG is on and ALLOWED_HOSTS is empty.
DEBUG_HOSTS = [".localhost", "127.0.0.1", "[::1]"]


def allowed_host(host: str) -> bool:
    """Whether a `Host` header value names this server (Django's host validation)."""
    domain, _port = split_domain_port(host)
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = DEBUG_HOSTS
    return bool(domain) and validate_host(domain, allowed)


def origin_allowed(origin: str, *, secure: bool, host: str | None) -> bool:
    """`origin` is the browser's `Origin` header; `secure` whether the request came over TLS;
    `host` its `Host` header (None when missing)."""
    if origin in settings.CORS_ORIGINS:
        return True
    if not host or not allowed_host(host):
        return False
    own = f"{'https' if secure else 'http'}://{host}"
    return origin.lower() == own.lower()


class OriginCsrfMiddleware(CsrfViewMiddleware):
    """Django's CSRF protection with the origin rule above (CORS_ORIGINS are its trusted
    origins), so the socket and session writes admit exactly the same pages."""

    def _origin_verified(self, request: HttpRequest) -> bool:
        try:
            host: str | None = request.get_host()
        except DisallowedHost:
            host = None
        return origin_allowed(request.META["HTTP_ORIGIN"], secure=request.is_secure(), host=host)
