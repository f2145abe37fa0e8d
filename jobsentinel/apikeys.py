"""API keys: which keys are valid, and how a request carries one. Shared by the REST API and
the WebSocket endpoint (the REST API also accepts an `X-API-Key` header; the socket, for browsers
that cannot set headers, `?api_key=`)."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from urllib.parse import parse_qs

from django.conf import settings


def keys_required() -> bool:
    return bool(settings.API_KEYS)


def is_valid_key(candidate: str | None) -> bool:
    if not candidate:
        return False
    # Compare against every key in constant time so timing does not reveal a prefix.
    matched = False
    for key in settings.API_KEYS:
        matched |= hmac.compare_digest(candidate.encode(), key.encode())
    return matched


def key_from_authorization(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def key_from_asgi(headers: Iterable[tuple[bytes, bytes]], query_string: bytes) -> str | None:
    """The key from `Authorization: Bearer KEY`, else from `?api_key=KEY`."""
    for name, value in headers:
        if name.lower() == b"authorization":
            found = key_from_authorization(value.decode("latin-1"))
            if found:
                return found
    values = parse_qs(query_string.decode("latin-1")).get("api_key")
    return values[0] if values else None
