"""The API's views. Thin: validate with a serializer, then read a queryset or call a service."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Count, Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer, Serializer
from rest_framework.views import APIView

from jobs.api.filters import JobFilter, RunFilter, filter_jobs, validated
from jobs.api.schema import (
    CONFLICT,
    DETAIL_ERRORS,
    FILTERED_LIST_ERRORS,
    PAGE_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    filtered_collection,
)
from jobs.api.serializers import (
    BoardPreviewSerializer,
    BoardRefusedSerializer,
    JobDetailSerializer,
    JobSerializer,
    JobUpdateSerializer,
    PreferencesSerializer,
    PreferencesUpdateResultSerializer,
    ScrapeRunSerializer,
    SourceCreatedSerializer,
    SourceCreateSerializer,
    SourceSerializer,
    SourceUpdateSerializer,
)
from jobs.models import (
    Job,
    JobQuerySet,
    JobStatus,
    Preferences,
    ScrapeRun,
    Source,
)
from jobs.services import (
    BoardRequest,
    DuplicateSource,
    SourceBusy,
    SourceRefused,
    job_update,
    preferences_update,
    scrape_refusal,
    source_add,
    source_update,
)
from jobs.tasks import scrape_now

# Any path segment reaches the view, so that an id such as "0.5" gets the API's JSON 404
# rather than the URL resolver's HTML one (the router's default pattern excludes dots).
ANY_SEGMENT = r"[^/]+"


M = TypeVar("M", bound=Model)


class FilteredCollection(viewsets.ReadOnlyModelViewSet[M]):
    """A read-only collection whose list takes filters: `filter_class` checks them by the
    same rules as every list (a bad parameter is a 400 naming it), and `filter_lookups` maps
    each filter to the field it narrows (an absent filter narrows nothing)."""

    lookup_value_regex = ANY_SEGMENT
    filter_class: type[Serializer[Any]]
    filter_lookups: dict[str, str]

    def get_queryset(self) -> QuerySet[M]:
        queryset = super().get_queryset()
        if self.action == "list":
            params = validated(self.filter_class, self.request)
            wanted = {
                field: params[name] for name, field in self.filter_lookups.items() if name in params
            }
            queryset = queryset.filter(**wanted)
        return queryset


# A PATCH: the object, the body checked by its update serializer, the write through a service,
# and the object as its read serializer shows it.
def patch_of(view: GenericAPIView[M], checker: type[BaseSerializer[Any]]) -> tuple[M, Any]:
    instance = view.get_object()
    serializer = checker(instance, data=view.request.data, partial=True)
    serializer.is_valid(raise_exception=True)
    return instance, serializer.validated_data


def shown(view: GenericAPIView[M], instance: M, shape: type[BaseSerializer[Any]]) -> Response:
    return Response(shape(instance, context=view.get_serializer_context()).data)


# --- jobs ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List jobs",
        description="Visible jobs (not hidden, not duplicates) unless `include_hidden` is set; "
        "newest first unless `ordering` says otherwise.",
        parameters=[JobFilter],
        responses={200: JobSerializer(many=True), **FILTERED_LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="A job with its description and score reasons",
        responses={200: JobDetailSerializer, **DETAIL_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a job's user fields",
        description="Only `hidden`, `starred`, `notes` and `application_status` can be "
        "written; any other field is a 400. Live clients get a `job_updated` event.",
        request=JobUpdateSerializer,
        responses={200: JobDetailSerializer, **WRITE_ERRORS, **DETAIL_ERRORS},
    ),
)
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Job]):
    queryset = Job.objects.select_related("source")
    http_method_names = ["get", "patch", "head", "options"]
    lookup_value_regex = ANY_SEGMENT

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if self.action == "list":
            return JobSerializer
        if self.action == "partial_update":
            return JobUpdateSerializer
        return JobDetailSerializer

    def get_queryset(self) -> JobQuerySet:
        jobs = Job.objects.select_related("source")
        if self.action == "list":
            jobs = filter_jobs(jobs, validated(JobFilter, self.request))
        return jobs

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        job, values = patch_of(self, JobUpdateSerializer)
        job_update(job=job, values=values)
        return shown(self, job, JobDetailSerializer)


# --- sources -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List watched sources", responses={200: SourceSerializer(many=True), **PAGE_ERRORS}
    ),
    retrieve=extend_schema(
        summary="A watched source", responses={200: SourceSerializer, **DETAIL_ERRORS}
    ),
    create=extend_schema(
        summary="Watch a job board",
        description="Give `url` (a board URL, a job URL or the company's careers page): the "
        "board is detected, fetched once and saved if it lists open jobs (or with `force`). "
        "`dry_run` only answers the summary (200). The explicit `kind` and `token` are saved "
        "without a fetch. A board already watched is refused (400) even with `force`; a "
        "board that answers with an error or no jobs is 422 with its summary.",
        request=SourceCreateSerializer,
        responses={
            201: SourceCreatedSerializer,
            200: OpenApiResponse(BoardPreviewSerializer, description="The dry run's summary."),
            422: OpenApiResponse(
                BoardRefusedSerializer, description="The board errs or has no jobs; not saved."
            ),
            **WRITE_ERRORS,
        },
    ),
    partial_update=extend_schema(
        summary="Enable, disable, rename or re-point a source",
        request=SourceUpdateSerializer,
        responses={200: SourceSerializer, **WRITE_ERRORS, **DETAIL_ERRORS},
    ),
)
class SourceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Source]
):
    queryset = Source.objects.all()
    serializer_class = SourceSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = ANY_SEGMENT

    def get_queryset(self) -> QuerySet[Source]:
        return Source.objects.annotate(
            live_open_jobs=Count("jobs", filter=Q(jobs__status=JobStatus.OPEN))
        ).order_by("name", "kind", "id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = SourceCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            options = dict(serializer.validated_data)
            preview, source = source_add(
                force=options.pop("force", False),
                dry_run=options.pop("dry_run", False),
                board=BoardRequest(**options),
            )
        except SourceRefused as refused:
            if refused.preview is not None and not isinstance(refused, DuplicateSource):
                # The board exists but answered with an error or no jobs.
                body = {"detail": str(refused), "preview": refused.preview.as_dict()}
                return Response(body, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
            raise ValidationError({refused.field: [str(refused)]}) from None
        if source is None:  # dry run
            return Response(preview.as_dict() if preview else {}, status=status.HTTP_200_OK)
        data = SourceSerializer(source, context=self.get_serializer_context()).data
        data["preview"] = preview.as_dict() if preview else None
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        source, values = patch_of(self, SourceUpdateSerializer)
        source_update(source=source, values=values)
        return shown(self, source, SourceSerializer)

    @extend_schema(
        summary="Scrape a source now",
        operation_id="sources_scrape",
        description="Starts a run, queues its scrape for the background worker and answers at "
        "once with the run (status `running`); its progress arrives as scrape events, and the "
        "run's `url` "
        "(also in `Location`) shows the outcome.",
        request=None,
        responses={
            202: OpenApiResponse(ScrapeRunSerializer, description="The scrape has started."),
            401: DETAIL_ERRORS[401],
            403: WRITE_ERRORS[403],
            404: DETAIL_ERRORS[404],
            409: CONFLICT,
        },
    )
    @action(detail=True, methods=["post"])
    def scrape(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        source = self.get_object()
        refusal = scrape_refusal(source)
        if refusal is not None:
            return Response({"detail": refusal}, status=status.HTTP_409_CONFLICT)
        try:
            # Checks again under a lock on the source row: two requests at once cannot both start.
            run = scrape_now(source=source)
        except SourceBusy as busy:
            return Response({"detail": str(busy)}, status=status.HTTP_409_CONFLICT)
        data = ScrapeRunSerializer(run, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


# --- scrape runs ---------------------------------------------------------------------------


@filtered_collection(
    ScrapeRunSerializer,
    RunFilter,
    list_summary="List scrape runs, newest first",
    detail_summary="A scrape run",
)
class ScrapeRunViewSet(FilteredCollection[ScrapeRun]):
    queryset = ScrapeRun.objects.select_related("source").order_by("-started_at", "-id")
    serializer_class = ScrapeRunSerializer
    filter_class = RunFilter
    filter_lookups = {"source": "source_id", "status": "status"}


# --- preferences ---------------------------------------------------------------------------


class PreferencesView(APIView):
    @extend_schema(
        summary="The preferences jobs are scored by",
        responses={200: PreferencesSerializer, **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(PreferencesSerializer(Preferences.load()).data)

    @extend_schema(
        summary="Replace the preferences and rescore",
        description="Every writable field is required. Open jobs are rescored at once; "
        "`rescored` says how many got a new score.",
        request=PreferencesSerializer,
        responses={200: PreferencesUpdateResultSerializer, **WRITE_ERRORS},
    )
    def put(self, request: Request) -> Response:
        return self._write(request, partial=False)

    @extend_schema(
        summary="Change some preferences and rescore",
        description="Open jobs are rescored at once; `rescored` says how many got a new score.",
        request=PreferencesSerializer,
        responses={200: PreferencesUpdateResultSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request) -> Response:
        return self._write(request, partial=True)

    def _write(self, request: Request, *, partial: bool) -> Response:
        # One transaction: a refused value leaves both the row and the scores as they were.
        with transaction.atomic():
            serializer = PreferencesSerializer(
                Preferences.load(), data=request.data, partial=partial
            )
            serializer.is_valid(raise_exception=True)
            try:
                prefs, rescored = preferences_update(**serializer.validated_data)
            except DjangoValidationError as exc:  # the model's own checks, as a 400
                detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
                raise ValidationError(detail) from None
        return Response({**PreferencesSerializer(prefs).data, "rescored": rescored})


# --- documentation -------------------------------------------------------------------------


def api_docs(request: HttpRequest) -> HttpResponse:
    """A self-contained page that reads the OpenAPI schema: no CDN, nothing from another host
    (Swagger UI and Redoc as drf-spectacular serves them load their scripts from one)."""
    return render(request, "jobs/api_docs.html", {"schema_url": reverse("api:schema")})
