"""How a committed event reaches consumers: the two modes of the design.

- Redis mode (`REDIS_URL` set): after commit, the event is handed to a publisher thread that
  `group_send`s it through the shared layer, so every server process hears it.
- Embedded mode: the in-memory layer only reaches its own process, so each server process runs
  a relay (`realtime.relay`) that tails the event log instead; nothing is sent on commit, which
  is what keeps an event from arriving twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from realtime.events import PUSH_MESSAGE_TYPE, group_name

if TYPE_CHECKING:
    from realtime.models import Event

logger = logging.getLogger(__name__)


def mode() -> str:
    return "redis" if settings.REDIS_URL else "embedded"


def push_message(event_id: int, event_type: str, text: str) -> dict[str, Any]:
    """The channel-layer message for one event; `text` is the envelope, already encoded."""
    return {"type": PUSH_MESSAGE_TYPE, "id": event_id, "event": event_type, "text": text}


def after_commit(event: Event) -> None:
    if mode() != "redis":
        return
    # Encode now, while the row is at hand; the publisher thread only forwards text.
    message = push_message(event.id, event.type, event.encoded())
    target = group_name(event.type)

    def hand_over() -> None:
        from realtime.publisher import publisher

        publisher().submit(target, message)

    # robust: a failure to hand over must never turn a committed write into an exception.
    transaction.on_commit(hand_over, robust=True)
