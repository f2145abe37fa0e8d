"""The live feed page: rendered from the database first, then kept live over the WebSocket by
`realtime/static/realtime/feed.js`. It lives here, beside the event log, because the page's
resume point (the last event id) must be read together with the jobs it shows."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jobs.models import Job, Preferences, ScrapeRun, ScrapeStatus, Source
from jobsentinel.apikeys import keys_required
from realtime import log
from realtime.events import EVENT_TYPES

FEED_SIZE = 100


def _feed_jobs() -> list[Job]:
    return list(Job.objects.for_feed()[:FEED_SIZE])


def _monitor() -> list[dict[str, Any]]:
    """Per source: its running run (if any) and its last finished one, in two queries."""
    sources = list(Source.objects.order_by("name"))
    newest = (
        ScrapeRun.objects.values("source_id", "status")
        .annotate(newest=Max("id"))
        .values_list("newest", flat=True)
    )
    slots: dict[int, dict[str, ScrapeRun]] = {}
    for run in ScrapeRun.objects.filter(id__in=list(newest)):
        slot = slots.setdefault(run.source_id, {})
        key = "running" if run.status == ScrapeStatus.RUNNING else "last"
        if key not in slot or slot[key].id < run.id:
            slot[key] = run
    return [{"source": source, **slots.get(source.pk, {})} for source in sources]


# The page's own scripts and styles only; sockets to this host. Board links still open.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _locked(request: HttpRequest) -> HttpResponse | None:
    """With API keys configured the feed is private too: a login (the admin's) opens it."""
    if keys_required() and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


def _with_policy(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def feed(request: HttpRequest) -> HttpResponse:
    if (refusal := _locked(request)) is not None:
        return refusal
    # Read the resume point BEFORE the jobs: whatever commits in between is replayed to the
    # page when it connects, never missed.
    last_event_id = log.latest_id()
    context = {
        "jobs": _feed_jobs(),
        "monitor": _monitor(),
        "preferences": Preferences.load(),
        "last_event_id": last_event_id,
        "event_types": EVENT_TYPES,
        "heartbeat_seconds": settings.WS_HEARTBEAT_SECONDS,
    }
    return _with_policy(render(request, "realtime/feed.html", context))


def feed_jobs(request: HttpRequest) -> HttpResponse:
    """Only the job list, for the page to refresh after a bulk rescore."""
    if (refusal := _locked(request)) is not None:
        return refusal
    return _with_policy(render(request, "realtime/_job_list.html", {"jobs": _feed_jobs()}))
