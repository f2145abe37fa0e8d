"""Who may open the socket: browser origins and API keys."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host

from jobsentinel.apikeys import is_valid_key, key_from_asgi, keys_required


def origin_allowed(origin: str) -> bool:
    if origin in settings.CORS_ORIGINS:
        return True
    parsed = urlsplit(origin)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        return False
    host = parsed.hostname if parsed.port is None else f"{parsed.hostname}:{parsed.port}"
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return validate_host(parsed.hostname, allowed) or validate_host(host, allowed)


class OriginValidator:
    """Refuses browsers from foreign sites. Unlike channels' AllowedHostsOriginValidator, a
    client that sends no Origin at all (wscat, scripts: not a browser) is let through, since
    cross-site abuse needs a browser and browsers always send one."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            origin = _header(scope, b"origin")
            # "null" (sandboxed iframes, file:// pages) fails origin_allowed: never trusted.
            if origin is not None and not origin_allowed(origin):
                return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def socket_authorized(scope: dict[str, Any]) -> bool:
    """With API keys configured, a socket needs a key or a logged-in session."""
    if not keys_required():
        return True
    user = scope.get("user")
    if user is not None and getattr(user, "is_authenticated", False):
        return True
    return is_valid_key(key_from_asgi(scope.get("headers", []), scope.get("query_string", b"")))


def client_ip(scope: dict[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
