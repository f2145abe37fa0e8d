"""Email through the SMTP server of `JOBSENTINEL_EMAIL_URL`: multipart text + HTML."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend

from alerts.messages import Envelope, email_message
from alerts.models import Channel
from alerts.senders.outcome import Outcome
from alerts.senders.webhook import DELIVERY_HEADER

SCHEMES = {"smtp": (25, False, False), "smtp+tls": (587, True, False), "smtps": (465, False, True)}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str
    password: str
    starttls: bool
    ssl: bool


def parse_email_url(url: str) -> SmtpConfig:
    """`smtp://host:port`, `smtp+tls://user:pass@host:port` (STARTTLS), `smtps://...` (TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(s + '://' for s in SCHEMES)}")
    if not parts.hostname:
        raise ValueError("no host")
    default_port, starttls, ssl = SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError("the port is not a number from 1 to 65535") from None
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        starttls=starttls,
        ssl=ssl,
    )


def send(channel: Channel, message: Envelope) -> Outcome:
    if not settings.EMAIL_URL:
        return Outcome.retry("JOBSENTINEL_EMAIL_URL is not set: no SMTP server to send through")
    config = parse_email_url(settings.EMAIL_URL)
    subject, text, html = email_message(message)
    mail = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.EMAIL_FROM,
        to=[channel.target],
        headers={
            "Message-ID": f"<{message.id}@jobsentinel>",
            DELIVERY_HEADER: message.id,
        },
    )
    mail.attach_alternative(html, "text/html")
    backend = EmailBackend(
        host=config.host,
        port=config.port,
        username=config.username or None,
        password=config.password or None,
        use_tls=config.starttls,
        use_ssl=config.ssl,
        timeout=settings.ALERTS_TIMEOUT_SECONDS,
        fail_silently=False,
    )
    try:
        backend.send_messages([mail])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        reason = f"recipient refused (SMTP {', '.join(str(c) for c in codes)})"
        if all(400 <= code < 500 for code in codes):
            return Outcome.retry(reason)
        return Outcome.refused(reason)
    except smtplib.SMTPAuthenticationError as exc:
        return Outcome.refused(f"SMTP login refused ({exc.smtp_code})")
    except smtplib.SMTPResponseException as exc:
        said = exc.smtp_error
        text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
        reason = f"SMTP {exc.smtp_code}: {text[:200]}"
        if 400 <= exc.smtp_code < 500:
            return Outcome.retry(reason)
        return Outcome.refused(reason)
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        return Outcome.retry(f"SMTP server unreachable ({type(exc).__name__}: {exc})")
    return Outcome.sent()
