"""What an alert says, built once per delivery and rendered per channel.

A delivery's payload is the wire format's body without its `id` and `timestamp` (those come
from the delivery row): `{"type", "reason", "jobs": [card, ...]}`, plus `"board"` for a board
that went dark. Renderers are pure functions of that payload, so a retry sends the same text.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string

from jobs.job_fields import job_headline
from jobs.models import Job, SalaryInterval, Source

TOP_REASONS = 3
REASON_TITLES = {
    "new_match": "New match",
    "reopened": "Reopened",
    "updated": "Changed",
    "closed": "Closed before you applied",
    "board_dark": "Board gone dark",
    "digest": "Digest",
    "held": "Held during quiet hours",
    "test": "Test",
}

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
DISCORD_TITLE = 256
DISCORD_DESCRIPTION = 4096
DISCORD_EMBEDS = 10
DISCORD_TOTAL = 6000
DISCORD_CONTENT = 2000
# Slack's limits: 50 blocks, 3000 characters per section text, 150 per header.
SLACK_BLOCKS = 50
SLACK_SECTION = 3000
SLACK_HEADER = 150


def _salary(job: Job) -> str | None:
    low, high = job.salary_min, job.salary_max
    if low is None and high is None:
        return None

    def fmt(value: Decimal) -> str:
        return f"{value:,.0f}"

    if low is not None and high is not None and low != high:
        amount = f"{fmt(low)}-{fmt(high)}"
    else:
        amount = fmt(low if low is not None else high)  # type: ignore[arg-type]
    text = f"{job.salary_currency} {amount}".strip()
    if job.salary_interval and job.salary_interval != SalaryInterval.UNKNOWN:
        text += f" / {job.salary_interval}"
    return text


def job_card(job: Job) -> dict[str, Any]:
    """The wire format's job object."""
    reasons = sorted(
        (r for r in job.score_reasons or [] if isinstance(r, dict)),
        key=lambda r: -abs(float(r.get("points", 0) or 0)),
    )
    return {
        **job_headline(job),
        "salary": _salary(job),
        "score": round(job.score, 4),
        "reasons": [str(r.get("detail") or r.get("rule")) for r in reasons[:TOP_REASONS]],
        "url": job.url,
        "apply_url": job.apply_url or job.url,
        "status": job.status,
    }


def board_card(source: Source, *, error: str) -> dict[str, Any]:
    return {
        "source_id": source.pk,
        "name": source.name,
        "kind": source.kind,
        "token": source.token,
        "error": error[:500],
    }


def payload(kind: str, reason: str, cards: list[dict[str, Any]]) -> dict[str, Any]:
    """A delivery's stored content. Cards of jobs and of boards (`source_id`) are kept apart."""
    jobs = [c for c in cards if "job_id" in c]
    boards = [c for c in cards if "source_id" in c and "job_id" not in c]
    body: dict[str, Any] = {"type": kind, "reason": reason, "jobs": sort_jobs(jobs)}
    if boards:
        body["boards"] = boards
    return body


def sort_jobs(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(jobs, key=lambda c: (-float(c.get("score") or 0), c.get("title", "")))


def by_company(jobs: list[dict[str, Any]]) -> OrderedDict[str, list[dict[str, Any]]]:
    """Companies in order of their best job's score, each company's jobs by score."""
    groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for card in sort_jobs(jobs):
        groups.setdefault(card.get("company") or "Unknown company", []).append(card)
    return groups


@dataclass(frozen=True)
class Envelope:
    """A delivery's identity and content, as the renderers need it."""

    id: str
    timestamp: str
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body["type"])

    @property
    def reason(self) -> str:
        return str(self.body.get("reason", ""))

    @property
    def jobs(self) -> list[dict[str, Any]]:
        return list(self.body.get("jobs", []))

    @property
    def boards(self) -> list[dict[str, Any]]:
        return list(self.body.get("boards", []))


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def headline(message: Envelope) -> str:
    jobs, boards = message.jobs, message.boards
    if message.kind == "test":
        return "JobSentinel test alert: this channel works"
    if message.kind == "digest" or len(jobs) + len(boards) > 1:
        count = len(jobs) + len(boards)
        noun = "job" if count == 1 else "jobs"
        label = "quiet-hours summary" if message.reason == "held" else "digest"
        return f"JobSentinel {label}: {count} {noun}"
    if boards:
        return f"Board gone dark: {boards[0]['name']}"
    card = jobs[0] if jobs else {}
    prefix = REASON_TITLES.get(message.reason, message.reason)
    return f"{prefix}: {card.get('title', '')} at {card.get('company', '')}"


def job_line(card: dict[str, Any]) -> str:
    """One plain-text line: title, company, where, pay, score."""
    parts = [f"{card['title']} — {card['company']}"]
    where = ", ".join(p for p in (card.get("location"), card.get("workplace")) if p)
    if where and card.get("workplace") != "unknown":
        parts.append(where)
    elif card.get("location"):
        parts.append(card["location"])
    if card.get("salary"):
        parts.append(card["salary"])
    parts.append(f"score {float(card.get('score') or 0):.2f}")
    return " · ".join(parts)


def board_line(board: dict[str, Any]) -> str:
    return f"{board['name']} ({board['kind']}:{board['token']}) stopped answering: {board['error']}"


def text_body(message: Envelope) -> str:
    """Plain text: email's text part, ntfy's body, the fallback text of Slack."""
    lines: list[str] = []
    if message.kind == "test":
        lines.append("This is a test message from JobSentinel. Alerts will arrive like this.")
    for board in message.boards:
        lines.append(board_line(board))
    if message.kind == "digest" or len(message.jobs) > 1:
        for company, cards in by_company(message.jobs).items():
            lines.append(f"\n{company}")
            for card in cards:
                lines.append(f"  • {job_line(card)}")
                lines.append(f"    {card['url']}")
    else:
        for card in message.jobs:
            lines.append(job_line(card))
            if card.get("reasons"):
                lines.append("Why: " + "; ".join(card["reasons"]))
            lines.append(f"Job: {card['url']}")
            if card.get("apply_url") and card["apply_url"] != card["url"]:
                lines.append(f"Apply: {card['apply_url']}")
    return "\n".join(lines).strip()


# --- per channel ----------------------------------------------------------------------------


def webhook_body(message: Envelope) -> bytes:
    body = {
        "type": message.kind,
        "id": message.id,
        "timestamp": message.timestamp,
        "jobs": message.jobs,
        "reason": message.reason,
    }
    if message.boards:
        body["boards"] = message.boards
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def ntfy_message(message: Envelope) -> dict[str, str]:
    jobs = message.jobs
    click = jobs[0]["url"] if len(jobs) == 1 else ""
    top = max((float(c.get("score") or 0) for c in jobs), default=0.0)
    return {
        "title": headline(message),
        "body": text_body(message),
        "click": click,
        "priority": "4" if top >= 0.8 or message.boards else "3",
        "tags": "briefcase" if not message.boards else "warning",
    }


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_job(card: dict[str, Any]) -> str:
    title = _slack_escape(card["title"])
    lines = [f"*<{card['url']}|{title}>* — {_slack_escape(card['company'])}"]
    details = [card.get("location"), card.get("salary"), f"score {float(card['score']):.2f}"]
    lines.append(" · ".join(_slack_escape(str(d)) for d in details if d))
    if card.get("reasons"):
        lines.append("_" + _slack_escape("; ".join(card["reasons"])) + "_")
    if card.get("apply_url") and card["apply_url"] != card["url"]:
        lines.append(f"<{card['apply_url']}|Apply>")
    return "\n".join(lines)


def slack_message(message: Envelope) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _truncate(headline(message), SLACK_HEADER)},
        }
    ]
    if message.kind == "test":
        blocks.append(_section("This is a test message from JobSentinel."))
    for board in message.boards:
        blocks.append(_section(_slack_escape(board_line(board))))
    for company, cards in by_company(message.jobs).items():
        if len(message.jobs) > 1:
            blocks.append(_section(f"*{_slack_escape(company)}*"))
        for card in cards:
            blocks.append(_section(_slack_job(card)))
    if len(blocks) > SLACK_BLOCKS:
        hidden = len(blocks) - (SLACK_BLOCKS - 1)
        blocks = blocks[: SLACK_BLOCKS - 1]
        blocks.append(_section(f"…and {hidden} more: open JobSentinel to see them all."))
    return {"text": _truncate(headline(message), SLACK_SECTION), "blocks": blocks}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _truncate(text, SLACK_SECTION)}}


def _discord_job(card: dict[str, Any]) -> str:
    lines = [f"**[{card['title']}]({card['url']})**"]
    details = [card.get("location"), card.get("salary"), f"score {float(card['score']):.2f}"]
    lines.append(" · ".join(str(d) for d in details if d))
    if card.get("reasons"):
        lines.append("*" + "; ".join(card["reasons"]) + "*")
    if card.get("apply_url") and card["apply_url"] != card["url"]:
        lines.append(f"[Apply]({card['apply_url']})")
    return "\n".join(lines)


def discord_message(message: Envelope) -> dict[str, Any]:
    """One embed per company (digests) or per job, inside every one of Discord's limits."""
    embeds: list[dict[str, Any]] = []
    for board in message.boards:
        embeds.append(
            {"title": f"Board gone dark: {board['name']}", "description": board_line(board)}
        )
    groups = by_company(message.jobs)
    if len(message.jobs) == 1:
        card = message.jobs[0]
        embeds.append(
            {
                "title": f"{card['title']} — {card['company']}",
                "url": card["url"],
                "description": _discord_job(card),
            }
        )
    else:
        for company, cards in groups.items():
            embeds.append(
                {"title": company, "description": "\n\n".join(_discord_job(c) for c in cards)}
            )
    if message.kind == "test":
        embeds.append({"title": "Test", "description": "This is a test message from JobSentinel."})
    # Each embed's own limits first, then the count, then the total across embeds.
    for embed in embeds:
        embed["title"] = _truncate(embed["title"], DISCORD_TITLE)
        embed["description"] = _truncate(embed["description"], DISCORD_DESCRIPTION)
    # Room for the "More" embed is kept aside whether or not it is needed.
    more_room = 100
    kept: list[dict[str, Any]] = []
    budget = DISCORD_TOTAL - more_room
    for embed in embeds[: DISCORD_EMBEDS - 1]:
        size = len(embed["title"]) + len(embed["description"])
        if size > budget:
            room = budget - len(embed["title"])
            if room < 40:
                break
            embed["description"] = _truncate(embed["description"], room)
            size = len(embed["title"]) + len(embed["description"])
        budget -= size
        kept.append(embed)
    if len(embeds) == DISCORD_EMBEDS and len(kept) == DISCORD_EMBEDS - 1:
        last = embeds[-1]
        if len(last["title"]) + len(last["description"]) <= budget + more_room:
            kept.append(last)
    dropped = len(embeds) - len(kept)
    if dropped:
        kept.append({"title": "More", "description": f"…and {dropped} more in JobSentinel."})
    content = _truncate(headline(message), DISCORD_CONTENT)
    return {"content": content, "embeds": kept, "allowed_mentions": {"parse": []}}


def email_message(message: Envelope) -> tuple[str, str, str]:
    """(subject, text, html). The HTML is a Django template, escaped like any page."""
    context = {
        "headline": headline(message),
        "message": message,
        "groups": list(by_company(message.jobs).items()),
        "single": len(message.jobs) == 1 and message.kind != "digest",
        "boards": message.boards,
        "is_test": message.kind == "test",
    }
    html = render_to_string("alerts/email.html", context)
    return headline(message), text_body(message), html
