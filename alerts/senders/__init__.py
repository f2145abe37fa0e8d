"""One sender per channel kind. Each takes a channel and a message and answers with an
`Outcome`; none writes to the database (the caller records the outcome)."""

from __future__ import annotations

from collections.abc import Callable

from alerts.masking import scrub, secrets_in_use
from alerts.messages import Envelope
from alerts.models import Channel, ChannelKind
from alerts.senders import chat, email, webhook
from alerts.senders.outcome import Outcome

SENDERS: dict[str, Callable[[Channel, Envelope], Outcome]] = {
    ChannelKind.EMAIL: email.send,
    ChannelKind.NTFY: chat.send_ntfy,
    ChannelKind.SLACK: chat.send_slack,
    ChannelKind.DISCORD: chat.send_discord,
    ChannelKind.WEBHOOK: webhook.send,
    ChannelKind.APPRISE: chat.send_apprise,
}


def send(channel: Channel, message: Envelope) -> Outcome:
    try:
        with secrets_in_use(channel.target, channel.secret):
            outcome = SENDERS[channel.kind](channel, message)
    except Exception as exc:  # a sender bug must not stop the other deliveries
        outcome = Outcome.retry(f"unexpected {type(exc).__name__}: {exc}")
    # Whatever a library put in its error text, no target or secret leaves here.
    return outcome.scrubbed(lambda text: scrub(text, channel.target, channel.secret))


__all__ = ["Outcome", "send"]
