"""The admin, arranged for browsing jobs as a user would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from jobs.forms import PreferencesForm
from jobs.models import Job, Preferences, ScrapeRun, Source
from jobs.services import (
    BoardPreview,
    BoardRequest,
    ScrapeRefused,
    SourceRefused,
    job_update,
    preferences_update,
    source_api_url_clean,
    source_create,
    source_preview,
)
from jobs.tasks import scrape_now


class ScoreBandFilter(admin.SimpleListFilter):
    title = "score"
    parameter_name = "score_band"
    BANDS = {"high": (0.7, 1.01), "medium": (0.4, 0.7), "low": (0.0, 0.4)}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("high", "High (≥ 0.7)"), ("medium", "Medium (0.4 to 0.7)"), ("low", "Low (< 0.4)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Job]) -> QuerySet[Job]:
        band = self.BANDS.get(self.value() or "")
        if band is None:
            return queryset
        return queryset.filter(score__gte=band[0], score__lt=band[1])


def _setting(description: str, **values: bool) -> Callable[..., None]:
    """An admin action that sets a user field of the selected jobs (see JobAdmin._set)."""

    @admin.action(description=description)
    def action(modeladmin: JobAdmin, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        modeladmin._set(request, queryset, **values)

    return action


@admin.register(Job)
class JobAdmin(admin.ModelAdmin[Job]):
    list_display = (
        "title",
        "company",
        "location",
        "score_display",
        "status",
        "source",
        "first_seen",
        "starred",
        "hidden",
    )
    list_filter = ("status", "source", "workplace", ScoreBandFilter, "starred", "hidden")
    search_fields = ("title", "company", "location", "description_text")
    ordering = ("-score", "-first_seen")
    sortable_by = ("title", "company", "score_display", "first_seen", "status")
    list_select_related = ("source",)
    date_hierarchy = "first_seen"
    actions = ("hide", "unhide", "star", "unstar")
    readonly_fields = (
        "source",
        "external_id",
        "first_seen",
        "last_seen",
        "closed_at",
        "content_hash",
        "fingerprint",
        "score",
        "reasons_display",
        "description_preview",
    )
    exclude = ("score_reasons", "description_html")
    list_per_page = 50

    @admin.display(description="score", ordering="score")
    def score_display(self, job: Job) -> str:
        return f"{job.score:.2f}"

    @admin.display(description="score reasons")
    def reasons_display(self, job: Job) -> str:
        reasons = job.score_reasons or []
        if not reasons:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}: {}</li>",
                ((r.get("rule", "?"), r.get("detail", r.get("points", ""))) for r in reasons),
            ),
        )

    @admin.display(description="description")
    def description_preview(self, job: Job) -> str:
        # Shown as plain text: board HTML is sanitized on ingest, and text can never run.
        return format_html("<div style='white-space:pre-wrap'>{}</div>", job.description_text)

    def _set(self, request: HttpRequest, queryset: QuerySet[Job], **values: bool) -> None:
        # One by one through the service (not queryset.update), so each change is a
        # job_updated event.
        count = 0
        for job in queryset:
            job_update(job=job, values=values)
            count += 1
        self.message_user(request, f"{count} job(s) updated.", messages.SUCCESS)

    hide = _setting("Hide selected jobs", hidden=True)
    unhide = _setting("Unhide selected jobs", hidden=False)
    star = _setting("Star selected jobs", starred=True)
    unstar = _setting("Unstar selected jobs", starred=False)


@admin.register(ScrapeRun)
class ScrapeRunAdmin(admin.ModelAdmin[ScrapeRun]):
    list_display = (
        "source",
        "status",
        "started_at",
        "duration_display",
        "jobs_found",
        "new_jobs",
        "updated_jobs",
        "closed_jobs",
        "errors",
    )
    list_filter = ("status", "source")
    list_select_related = ("source",)
    ordering = ("-started_at",)

    @admin.display(description="duration", ordering="duration_seconds")
    def duration_display(self, run: ScrapeRun) -> str:
        return "—" if run.duration_seconds is None else f"{run.duration_seconds:.1f} s"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ScrapeRun | None = None) -> bool:
        return False


class SourceForm(forms.ModelForm[Source]):
    """Changing a watched source: its api_url passes the same rule as when it was added."""

    def clean_api_url(self) -> str:
        try:
            return source_api_url_clean(str(self.cleaned_data.get("api_url") or ""))
        except SourceRefused as exc:
            raise forms.ValidationError(str(exc)) from None


class SourceAddForm(forms.ModelForm[Source]):
    """Adding a source takes a URL, like `add_source URL`: the board is detected and fetched
    once; one that errs or lists no jobs is saved only when "force" is ticked."""

    url = forms.CharField(
        max_length=2000,
        label="URL",
        help_text="A board URL, a job URL or the company's careers page.",
    )
    force = forms.BooleanField(
        required=False, help_text="Save even if the board answers with an error or no jobs."
    )

    class Meta:
        model = Source
        fields = ("url", "name", "api_url", "force")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["name"].help_text = "Default: the company name the board gives."
        self.preview: BoardPreview | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            preview = source_preview(
                board=BoardRequest(
                    url=data.get("url", ""),
                    api_url=data.get("api_url", ""),
                    name=data.get("name", ""),
                )
            )
        except SourceRefused as refused:
            field = refused.field if refused.field in self.fields else None
            raise forms.ValidationError({field: str(refused)} if field else str(refused)) from None
        if not preview.ok and not data.get("force"):
            raise forms.ValidationError(
                f"{preview.summary()}. Not saved: tick “force” to watch it anyway."
            )
        self.preview = preview
        return data

    def _post_clean(self) -> None:
        # The model's own validation would ask for kind and token, which come from the URL.
        pass


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin[Source]):
    form = SourceForm
    list_display = (
        "name",
        "kind",
        "token",
        "enabled",
        "open_jobs",
        "health",
        "last_success_at",
        "consecutive_failures",
        "scrape_interval",
    )
    list_filter = ("kind", "enabled", "gone_dark")
    search_fields = ("name", "token")
    readonly_fields = (
        "last_success_at", "last_failure_at", "consecutive_failures", "last_error", "open_jobs",
        "dark_fetches", "gone_dark", "created_at",
    )  # fmt: skip
    actions = ("scrape_now",)

    def get_form(
        self, request: HttpRequest, obj: Source | None = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[Source]]:
        if obj is None:
            kwargs["form"] = SourceAddForm
            kwargs["fields"] = SourceAddForm.Meta.fields
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Source | None = None) -> Any:
        if obj is None:
            return [(None, {"fields": SourceAddForm.Meta.fields})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Source | None = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        if change or not isinstance(form, SourceAddForm) or form.preview is None:
            return super().save_form(request, form, change)
        preview = form.preview
        source = source_create(
            kind=preview.kind,
            token=preview.token,
            name=preview.name,
            api_url=form.cleaned_data.get("api_url") or preview.api_url,
        )
        self.message_user(request, preview.summary(), messages.INFO)
        return source

    def save_model(self, request: HttpRequest, obj: Source, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
        # When adding, save_form already saved it through jobs.services.source_create.

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)

    @admin.display(description="health")
    def health(self, source: Source) -> str:
        if source.gone_dark:
            return "Gone dark: 404 or empty twice; the company may have moved boards"
        if source.consecutive_failures:
            return f"Failing ({source.consecutive_failures} in a row): {source.last_error[:120]}"
        return "OK" if source.last_success_at else "Not scraped yet"

    @admin.action(description="Scrape selected sources now")
    def scrape_now(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        started = 0
        for source in queryset:
            try:
                scrape_now(source=source)
                started += 1
            except ScrapeRefused as refused:
                self.message_user(request, str(refused), messages.WARNING)
        self.message_user(
            request,
            f"Queued {started} scrape(s) for the worker; follow them under Scrape runs or on the "
            "live feed.",
            messages.SUCCESS,
        )


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin[Preferences]):
    # Lists as text and weights as numbers, checked by the same rules as the page and the API.
    form = PreferencesForm

    def save_model(
        self, request: HttpRequest, obj: Preferences, form: PreferencesForm, change: bool
    ) -> None:
        _, changed = preferences_update(**form.values())
        self.message_user(request, f"Preferences saved; {changed} job score(s) changed.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Preferences.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Preferences | None = None) -> bool:
        return False
