"""Who may open the socket: browser origins and API keys."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import WebsocketDenier

from jobsentinel.apikeys import is_valid_key, key_from_asgi, keys_required
from jobsentinel.origins import origin_allowed


class OriginValidator:
    """Refuses browsers from foreign sites (the rule of `jobsentinel.origins`, which the CSRF
    check of session writes shares). Unlike channels' AllowedHostsOriginValidator, a
    client that sends no Origin at all (wscat, scripts: not a browser) is let through, since
    cross-site abuse needs a browser and browsers always send one."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            origin = _header(scope, b"origin")
            # "null" (sandboxed iframes, file:// pages) fails origin_allowed: never trusted.
            secure = scope.get("scheme") == "wss"
            host = _header(scope, b"host")
            if origin is not None and not origin_allowed(origin, secure=secure, host=host):
                return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


class SessionsWhenKeysRequired:
    """channels' cookie, session and user middleware around the socket only while API keys are
    configured: that is the only time the socket asks who is logged in (`socket_authorized`).
    Without keys, every socket would carry a session, a user and three more copies of its scope
    (and their coroutines) for nothing. Checked per connection, like the keys themselves."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.with_sessions = AuthMiddlewareStack(application)

    def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Awaitable[Any]:
        # Hands back the inner application's coroutine rather than awaiting it: no frame of
        # its own for the socket's lifetime.
        application = self.with_sessions if keys_required() else self.application
        return application(scope, receive, send)


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
