"""Query-string filters of the list endpoints, validated like any other input: a bad value is
a 400 naming the parameter, never a silently unfiltered list.

Each filter is a serializer (so drf-spectacular documents its fields as query parameters)
plus a function applying the validated values to a queryset.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q
from django.db.models.expressions import OrderBy
from rest_framework import serializers
from rest_framework.request import Request

from jobs.models import (
    APPLIED_STATUSES,
    ApplicationStatus,
    Job,
    JobQuerySet,
    JobStatus,
    ScrapeStatus,
)
from jobs.scoring import GATE_RULES
from jobs.vocabulary import Workplace

# Every ordering ends with the id so that pages never overlap or skip rows of equal keys.
# Jobs without a posting date sort last either way: "newest posted" should not start with
# jobs whose date is unknown.
JOB_ORDERINGS: dict[str, tuple[str | OrderBy, ...]] = {
    "score": ("score", "id"),
    "-score": ("-score", "-id"),
    "first_seen": ("first_seen", "id"),
    "-first_seen": ("-first_seen", "-id"),
    "posted_at": (F("posted_at").asc(nulls_last=True), "id"),
    "-posted_at": (F("posted_at").desc(nulls_last=True), "-id"),
}
DEFAULT_JOB_ORDERING = "-first_seen"
ORDERING_LABELS = {
    "score": "Lowest score first",
    "-score": "Highest score first",
    "first_seen": "Oldest found first",
    "-first_seen": "Newest found first",
    "posted_at": "Oldest posted first",
    "-posted_at": "Newest posted first",
}
# The largest id a database column can hold (64-bit). A bigger one is no id at all; passed
# on, SQLite would raise OverflowError (a 500) where the answer is a 400.
MAX_ID = 2**63 - 1
# Fields the `q` search looks in; each word of `q` must appear in one of them.
SEARCH_FIELDS = ("title", "company", "location", "description_text")


def query_params(request: Request) -> dict[str, str]:
    # A plain dict, not the QueryDict: serializers read a missing boolean in a QueryDict as
    # an unticked checkbox (False), which would turn "no filter" into "not starred".
    return request.query_params.dict()


class JobFilter(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=JobStatus.choices, required=False)
    # The stubs type `Serializer.source` as the attribute path; a field named "source" is fine.
    source = serializers.IntegerField(  # type: ignore[assignment]
        min_value=1, max_value=MAX_ID, required=False, help_text="A source id."
    )
    min_score = serializers.FloatField(min_value=0.0, max_value=1.0, required=False)
    workplace = serializers.ChoiceField(choices=Workplace.choices, required=False)
    company = serializers.CharField(
        required=False, max_length=200, help_text="Part of the company name (any case)."
    )
    q = serializers.CharField(
        required=False,
        max_length=500,
        help_text="Words that must each appear in the title, company, location or description.",
    )
    starred = serializers.BooleanField(required=False)
    application_status = serializers.ChoiceField(
        choices=[c for c in ApplicationStatus.choices if c[0]], required=False
    )
    applied = serializers.BooleanField(
        required=False,
        help_text="true: jobs applied to (applied, interviewing, offer or rejected); "
        "false: the others.",
    )
    gated = serializers.BooleanField(
        required=False,
        help_text="true: only jobs a hard rule of the preferences scored 0 (a denied company, "
        "an excluded keyword, ...); false: none of them.",
    )
    include_hidden = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also list hidden jobs and duplicates of jobs seen on another source.",
    )
    ordering = serializers.ChoiceField(
        choices=list(ORDERING_LABELS.items()), required=False, default=DEFAULT_JOB_ORDERING
    )


def filter_jobs(jobs: JobQuerySet, params: dict[str, Any]) -> JobQuerySet:
    if not params.get("include_hidden"):
        jobs = jobs.visible()
    exact = {
        name: params[name]
        for name in ("status", "workplace", "starred", "application_status")
        if name in params
    }
    if "source" in params:
        exact["source_id"] = params["source"]
    jobs = jobs.filter(**exact)
    if "applied" in params:
        applied = Q(application_status__in=APPLIED_STATUSES)
        jobs = jobs.filter(applied if params["applied"] else ~applied)
    if "gated" in params:
        # A gate zeroes the score and is then the only reason. By subquery, not exclude() on
        # the JSON key: a job without reasons has no key, and NOT (NULL IN ...) drops it.
        gated = Job.objects.filter(score=0, score_reasons__0__rule__in=sorted(GATE_RULES))
        ids = gated.values("pk")
        jobs = jobs.filter(pk__in=ids) if params["gated"] else jobs.exclude(pk__in=ids)
    if "min_score" in params:
        jobs = jobs.filter(score__gte=params["min_score"])
    if params.get("company"):
        jobs = jobs.filter(company__icontains=params["company"])
    for word in str(params.get("q") or "").split():
        jobs = jobs.filter(
            Q.create([(f"{name}__icontains", word) for name in SEARCH_FIELDS], connector=Q.OR)
        )
    return jobs.order_by(*JOB_ORDERINGS[params.get("ordering") or DEFAULT_JOB_ORDERING])


class RunFilter(serializers.Serializer[Any]):
    # The stubs type `Serializer.source` as the attribute path; a field named "source" is fine.
    source = serializers.IntegerField(  # type: ignore[assignment]
        min_value=1, max_value=MAX_ID, required=False, help_text="A source id."
    )
    status = serializers.ChoiceField(choices=ScrapeStatus.choices, required=False)


def validated(filter_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    """The filter values of a request, or a 400 naming each bad parameter."""
    serializer = filter_class(data=query_params(request))
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
