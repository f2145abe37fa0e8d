"""Server-rendered pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jobs.models import Job, Preferences, Source

FEED_SIZE = 100


def feed(request: HttpRequest) -> HttpResponse:
    jobs = list(Job.objects.for_feed()[:FEED_SIZE])
    context = {
        "jobs": jobs,
        "sources": Source.objects.all(),
        "preferences": Preferences.load(),
    }
    return render(request, "jobs/feed.html", context)
