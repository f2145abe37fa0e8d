"""ntfy, Slack- and Discord-style incoming webhooks, and Apprise. Targets may be any http(s)
URL (self-hosted ntfy, Mattermost's Slack-format hooks): no vendor host is assumed."""

from __future__ import annotations

from email.header import Header

from alerts.messages import (
    Envelope,
    discord_message,
    headline,
    ntfy_message,
    slack_message,
    text_body,
)
from alerts.models import Channel
from alerts.senders import http
from alerts.senders.outcome import Outcome
from alerts.senders.webhook import DELIVERY_HEADER


def _header(value: str) -> str:
    """HTTP headers are Latin-1; ntfy reads RFC 2047 for anything else (accents, emoji)."""
    try:
        value.encode("ascii")
    except UnicodeEncodeError:
        return Header(value, "utf-8").encode(maxlinelen=10_000)
    return value


def send_ntfy(channel: Channel, message: Envelope) -> Outcome:
    parts = ntfy_message(message)
    headers = {
        "Title": _header(parts["title"]),
        "Priority": parts["priority"],
        "Tags": parts["tags"],
        DELIVERY_HEADER: message.id,
        "Content-Type": "text/plain; charset=utf-8",
    }
    if parts["click"]:
        headers["Click"] = parts["click"]
    return http.post(channel.target, headers=headers, content=parts["body"].encode())


def send_slack(channel: Channel, message: Envelope) -> Outcome:
    return http.post(channel.target, json=slack_message(message))


def send_discord(channel: Channel, message: Envelope) -> Outcome:
    return http.post(channel.target, json=discord_message(message))


def send_apprise(channel: Channel, message: Envelope) -> Outcome:
    try:
        import apprise  # an optional extra: pip install jobsentinel[apprise]
    except ImportError:
        return Outcome.refused("Apprise is not installed (pip install 'jobsentinel[apprise]')")
    sender = apprise.Apprise()
    if not sender.add(channel.target):
        return Outcome.refused("Apprise does not understand this URL")
    if sender.notify(title=headline(message), body=text_body(message)):
        return Outcome.sent()
    return Outcome.retry("Apprise reported that the notification was not delivered")
