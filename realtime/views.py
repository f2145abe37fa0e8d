"""HTTP views of the real-time side: the health check and the socket URL's plain-HTTP answer."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from jobsentinel import __version__
from realtime import log, publish
from realtime.connections import registry
from realtime.hub import delivery_counts

logger = logging.getLogger(__name__)

LAYER_CHECK_TIMEOUT = 2.0


def _database_ok() -> tuple[bool, int | None]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, log.latest_id()
    except Exception as exc:
        logger.warning("health: database unavailable: %s", exc)
        return False, None


async def _layer_ok() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        channel = await layer.new_channel()
        await asyncio.wait_for(layer.send(channel, {"type": "health.check"}), LAYER_CHECK_TIMEOUT)
        message = await asyncio.wait_for(layer.receive(channel), LAYER_CHECK_TIMEOUT)
        return bool(message.get("type") == "health.check")
    except Exception as exc:
        logger.warning("health: channel layer unavailable: %s", exc)
        return False


async def health(request: HttpRequest) -> JsonResponse:
    db_ok, last_event_id = await sync_to_async(_database_ok)()
    layer_ok = await _layer_ok()
    healthy = db_ok and layer_ok
    body: dict[str, Any] = {
        "status": "ok" if healthy else "degraded",
        "version": __version__,
        "database": "ok" if db_ok else "unavailable",
        "channel_layer": {"status": "ok" if layer_ok else "unavailable", "mode": publish.mode()},
        "active_connections": registry.total,  # the whole server's, every web process's
        "last_event_id": last_event_id,
        "delivery": delivery_counts(),
    }
    workers = registry.workers()
    if workers is not None:  # one of `serve`'s web processes: each one's share
        body["workers"] = [asdict(worker) for worker in workers]
    return JsonResponse(body, status=200 if healthy else 503)


def websocket_over_http(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        "This is a WebSocket endpoint: connect with ws:// (or wss://), "
        "e.g. `wscat -c ws://HOST:PORT/api/v1/ws/jobs`.\n",
        status=426,
        content_type="text/plain; charset=utf-8",
    )
    response["Upgrade"] = "websocket"
    response["Connection"] = "Upgrade"
    return response
