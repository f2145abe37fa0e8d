"""The pages a job seeker uses: the feed, one job, preferences and the watched sources.

Rendered from the database first (readable without JavaScript), then kept live over the
WebSocket by `realtime/static/realtime/*.js`. They live here, beside the event log, because a
page's resume point (the last event id) must be read together with what it shows, and a
job's history is read from that log.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import InvalidPage, Paginator
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from jobs.forms import PreferencesForm
from jobs.models import (
    Job,
    JobStatus,
    Preferences,
    ScrapeRun,
    ScrapeStatus,
    Source,
    SourceKind,
)
from jobs.services import preferences_update
from jobsentinel.apikeys import keys_required
from realtime import log
from realtime.events import EventType
from realtime.feed_query import PAGE_SIZE, SORTS, FeedQuery, feed_query, parse_ids
from realtime.models import Event

# The page's own scripts and styles only; sockets to this host. Board links still open.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# Event types in words, for the page's live-updates checkboxes: one box per kind of news.
EVENT_GROUPS = (
    ("jobs", "New jobs", (EventType.NEW_JOB,)),
    ("updates", "Updates", (EventType.JOB_UPDATED, EventType.JOBS_RESCORED)),
    ("scrapes", "Scrapes", (EventType.SCRAPE_STARTED, EventType.SCRAPE_COMPLETED)),
)
HISTORY_LIMIT = 200


def _locked(request: HttpRequest) -> HttpResponse | None:
    """With API keys configured the pages are private too: a login (the admin's) opens them."""
    if keys_required() and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # Same-origin, not no-referrer: with no referrer at all a browser sends `Origin: null` on
    # this page's own form posts, which CSRF protection rightly refuses. Other hosts (the
    # boards a job links to) still learn nothing.
    response["Referrer-Policy"] = "same-origin"
    return response


def _monitor() -> list[dict[str, Any]]:
    """Per source: its running run (if any), its last finished one, and its open jobs."""
    sources = list(
        Source.objects.annotate(
            open_count=Count("jobs", filter=Q(jobs__status=JobStatus.OPEN))
        ).order_by("name", "kind", "id")
    )
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
    rows = []
    for source in sources:
        row: dict[str, Any] = {"source": source, **slots.get(source.pk, {})}
        last: ScrapeRun | None = row.get("last")
        # The reason of the last failure, in the board's or the scraper's own words.
        reason = last.error_message if last and last.status != ScrapeStatus.SUCCEEDED else ""
        row["failure"] = getattr(source, "last_error", "") or reason
        rows.append(row)
    return rows


def _common(request: HttpRequest, section: str) -> dict[str, Any]:
    return {
        "section": section,
        "last_event_id": log.latest_id(),
        "heartbeat_seconds": settings.WS_HEARTBEAT_SECONDS,
        "event_groups": EVENT_GROUPS,
    }


# --- the feed ----------------------------------------------------------------------------------


def _feed_page(query: FeedQuery, number: str | None) -> tuple[list[Job], dict[str, Any]]:
    if query.errors:
        return [], {}
    paginator = Paginator(query.jobs(), PAGE_SIZE)
    try:
        page = paginator.page(number or 1)
    except InvalidPage:
        page = paginator.page(paginator.num_pages if paginator.count else 1)
    previous = None
    if page.has_previous():
        number_before = page.previous_page_number()
        previous = query.encoded(page=str(number_before) if number_before > 1 else None)
    paging = {
        "number": page.number,
        "pages": paginator.num_pages,
        "count": paginator.count,
        "previous": previous,
        "next": query.encoded(page=str(page.next_page_number())) if page.has_next() else None,
    }
    return list(page.object_list), paging


@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    if (refusal := _locked(request)) is not None:
        return refusal
    # Read the resume point BEFORE the jobs: whatever commits in between is replayed to the
    # page when it connects, never missed.
    context = _common(request, "feed")
    query = feed_query(request.GET)
    jobs, paging = _feed_page(query, request.GET.get("page"))
    # The Starred and Applied views are this page with their filter set.
    view = next((name for name in ("starred", "applied") if query.params.get(name)), "feed")
    context.update(
        section=view,
        jobs=jobs,
        paging=paging,
        query=query,
        monitor=_monitor(),
        preferences=Preferences.load(),
        sorts=SORTS,
        sources=Source.objects.order_by("name", "kind", "id"),
    )
    return _page(request, "realtime/feed.html", context, status=400 if query.errors else 200)


@require_GET
def feed_jobs(request: HttpRequest) -> HttpResponse:
    """Rows of the feed for the page's script: the current page of its filters (after a
    rescore), or with `ids=` only those of the given jobs that match them (live events)."""
    if (refusal := _locked(request)) is not None:
        return refusal
    query = feed_query(request.GET)
    if query.errors:
        return HttpResponse(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in query.errors.items()),
            status=400,
            content_type="text/plain",
        )
    if "ids" in request.GET:
        try:
            ids = parse_ids(request.GET["ids"])
        except ValueError as exc:
            return HttpResponse(str(exc), status=400, content_type="text/plain")
        jobs = list(query.jobs().filter(pk__in=ids))
    else:
        jobs, _ = _feed_page(query, request.GET.get("page"))
    return _page(request, "realtime/_job_list.html", {"jobs": jobs})


# --- one job -----------------------------------------------------------------------------------


def _history(job: Job) -> list[dict[str, Any]]:
    """What the event log saw happen to this job, oldest first (within its retention)."""
    events = Event.objects.filter(
        type__in=[EventType.NEW_JOB, EventType.JOB_UPDATED], data__job_id=job.pk
    ).order_by("id")[:HISTORY_LIMIT]
    rows = []
    for event in events:
        if event.type == EventType.NEW_JOB:
            text = "First seen"
        else:
            changes = event.data.get("changes") or []
            text = "Changed: " + ", ".join(str(c).replace("_", " ") for c in changes)
            if "score" in changes and event.data.get("new_score") is not None:
                text += f" (score {float(event.data['new_score']):.2f})"
        rows.append({"at": event.created_at, "text": text})
    return rows


@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if (refusal := _locked(request)) is not None:
        return refusal
    context = _common(request, "feed")
    job = get_object_or_404(Job.objects.select_related("source", "duplicate_of"), pk=pk)
    context.update(
        job=job,
        history=_history(job),
        retention_days=settings.EVENT_RETENTION_DAYS,
    )
    return _page(request, "realtime/job.html", context)


# --- preferences -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    if (refusal := _locked(request)) is not None:
        return refusal
    prefs = Preferences.load()
    if request.method == "POST":
        form = PreferencesForm(request.POST, instance=prefs)
        if form.is_valid():
            try:
                _, rescored = preferences_update(**form.values())
            except ValidationError as exc:  # changed meanwhile so that a rule now fails
                for name, problems in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, problems)
            else:
                plural = "" if rescored == 1 else "s"
                messages.success(
                    request, f"Preferences saved; {rescored} job score{plural} changed."
                )
                return redirect("preferences")
    else:
        form = PreferencesForm(instance=prefs)
    context = _common(request, "preferences")
    context["form"] = form
    return _page(request, "realtime/preferences.html", context, status=400 if form.errors else 200)


# --- sources -----------------------------------------------------------------------------------


@require_GET
def sources(request: HttpRequest) -> HttpResponse:
    if (refusal := _locked(request)) is not None:
        return refusal
    context = _common(request, "sources")
    context.update(monitor=_monitor(), kinds=SourceKind.choices)
    return _page(request, "realtime/sources.html", context)
