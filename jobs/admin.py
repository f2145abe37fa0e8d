"""The admin, arranged for browsing jobs as a user would."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from jobs.models import Job, Preferences, ScrapeRun, Source
from jobs.scraping import start_background_scrape
from jobs.services import SourceBusy, rescore_jobs


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
        # Save one by one (not queryset.update) so each change is a job_updated event.
        count = 0
        for job in queryset:
            for name, value in values.items():
                setattr(job, name, value)
            job.save(update_fields=list(values))
            count += 1
        self.message_user(request, f"{count} job(s) updated.", messages.SUCCESS)

    @admin.action(description="Hide selected jobs")
    def hide(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._set(request, queryset, hidden=True)

    @admin.action(description="Unhide selected jobs")
    def unhide(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._set(request, queryset, hidden=False)

    @admin.action(description="Star selected jobs")
    def star(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._set(request, queryset, starred=True)

    @admin.action(description="Unstar selected jobs")
    def unstar(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        self._set(request, queryset, starred=False)


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


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin[Source]):
    list_display = (
        "name",
        "kind",
        "token",
        "enabled",
        "open_jobs",
        "health",
        "last_success_at",
        "consecutive_failures",
    )
    list_filter = ("kind", "enabled", "gone_dark")
    search_fields = ("name", "token")
    readonly_fields = (
        "last_success_at", "last_failure_at", "consecutive_failures", "last_error", "open_jobs",
        "dark_fetches", "gone_dark", "created_at",
    )  # fmt: skip
    actions = ("scrape_now",)

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
                start_background_scrape(source)
                started += 1
            except SourceBusy as busy:
                self.message_user(request, str(busy), messages.WARNING)
        self.message_user(
            request,
            f"Started {started} scrape(s); follow them under Scrape runs or on the live feed.",
            messages.SUCCESS,
        )


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin[Preferences]):
    def save_model(self, request: HttpRequest, obj: Preferences, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        changed = rescore_jobs()
        self.message_user(request, f"Preferences saved; {changed} job score(s) changed.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Preferences.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Preferences | None = None) -> bool:
        return False
