"""The generic JSON webhook, signed so a receiver can tell it came from this JobSentinel.

`X-JobSentinel-Signature: t=UNIX_SECONDS,v1=HEX`, HEX = HMAC-SHA256 of f"{t}.{raw_body}" under
the channel's secret. The timestamp is signed too, so a receiver can refuse old replays."""

from __future__ import annotations

import hashlib
import hmac
import time

from alerts.messages import Envelope, webhook_body
from alerts.models import Channel
from alerts.senders import http
from alerts.senders.outcome import Outcome

SIGNATURE_HEADER = "X-JobSentinel-Signature"
DELIVERY_HEADER = "X-JobSentinel-Delivery"


def signature(secret: str, body: bytes, *, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def send(channel: Channel, message: Envelope) -> Outcome:
    body = webhook_body(message)
    headers = {
        "Content-Type": "application/json",
        DELIVERY_HEADER: message.id,
        SIGNATURE_HEADER: signature(channel.secret, body, timestamp=int(time.time())),
    }
    return http.post(channel.target, headers=headers, content=body)
