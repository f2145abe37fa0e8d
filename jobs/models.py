"""What JobSentinel keeps: the boards it watches, the jobs found there, each scrape, and the
user's preferences. Models stay thin; writes live in `jobs.services`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from jobs import job_fields
from jobs.scrapers.registry import ADAPTERS
from jobs.vocabulary import RemotePreference, SalaryInterval, Workplace


class UnsaidChange(Exception):
    """A write of tracked fields that cannot say what it changed (so no event could be right)."""


class TracksLoadedValues(models.Model):
    """The diff of every save, computed by the save itself.

    The values of `TRACKED_FIELDS` are remembered as loaded (or last written); `save()`
    compares against them and leaves the tracked fields it really changes in
    `saved_changes` for the post_save receivers, whatever the caller passed as
    `update_fields` (which only narrows what is written). A save of an existing row that was
    never loaded has nothing to compare with: it must name its `update_fields`, or it raises.
    """

    TRACKED_FIELDS: ClassVar[tuple[str, ...]] = ()

    saved_changes: frozenset[str]
    _loaded_values: dict[str, Any]

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        self.saved_changes = self._changes(
            update_fields, inserting=bool(kwargs.get("force_insert"))
        )
        # One transaction for the row and whatever post_save receivers write beside it (the
        # event log), so neither can commit without the other. No savepoint when nested.
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
        # Receivers ran inside super().save() against the old values; now these are written.
        self._remember(self.TRACKED_FIELDS if update_fields is None else update_fields)

    def _changes(self, update_fields: Iterable[str] | None, *, inserting: bool) -> frozenset[str]:
        # A new object is a new row, unless it names the pk of one that exists (then Django
        # updates that row, and nothing here knows what it held).
        if self._state.adding and (self.pk is None or inserting):
            return frozenset()
        loaded: dict[str, Any] | None = getattr(self, "_loaded_values", None)
        if loaded is None:
            if update_fields is None:
                raise UnsaidChange(
                    f"{type(self).__name__} #{self.pk} was not loaded from the database, so "
                    "its save cannot tell what changed: load it first, or pass update_fields"
                )
            loaded = {}
        if update_fields is None:
            # Django writes only the loaded fields of a partly loaded object; reading a
            # deferred one here would also cost a query.
            deferred = self.get_deferred_fields()
            names: Iterable[str] = [n for n in self.TRACKED_FIELDS if n not in deferred]
        else:
            names = update_fields
        return frozenset(
            name
            for name in names
            if name in self.TRACKED_FIELDS
            and (name not in loaded or getattr(self, name) != loaded[name])
        )

    def _remember(self, names: Iterable[str]) -> None:
        loaded: dict[str, Any] = self.__dict__.setdefault("_loaded_values", {})
        deferred = self.get_deferred_fields()  # reading one would query the database
        for name in names:
            if name in self.TRACKED_FIELDS and name not in deferred:
                loaded[name] = getattr(self, name)

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Any:
        instance = super().from_db(db, field_names, values)
        instance._loaded_values = {
            name: value
            for name, value in zip(field_names, values, strict=True)
            if name in cls.TRACKED_FIELDS
        }
        return instance

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        fields = kwargs.get("fields")
        self._remember(self.TRACKED_FIELDS if fields is None else fields)


# The kinds of board, one per adapter, in the registry's order: an adapter declares its kind
# and its vendor's name, and nothing else lists them. (The type stubs know only the class form
# of TextChoices, hence the ignore.)
SourceKind = models.TextChoices(  # type: ignore[call-overload]
    "SourceKind", [(a.kind.upper(), (a.kind, a.vendor)) for a in ADAPTERS.values()]
)


class Source(models.Model):
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    token = models.CharField(
        max_length=200, help_text="The board's token: the company slug in the board URL."
    )
    name = models.CharField(max_length=200, help_text="Company display name.")
    api_url = models.URLField(
        blank=True, help_text="Replaces the vendor's scheme and host (e.g. an EU instance)."
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # Board health, written by jobs.services.source_health_record after every scrape.
    last_error = models.TextField(blank=True, help_text="Why the last scrape failed, if it did.")
    open_jobs = models.PositiveIntegerField(
        default=0, help_text="Open jobs from this board after its last finished scrape."
    )
    dark_fetches = models.PositiveSmallIntegerField(
        default=0, help_text="Consecutive scrapes that found the board missing (404) or empty."
    )
    gone_dark = models.BooleanField(
        default=False,
        help_text="A board that had jobs answered 404 or empty twice in a row: the company "
        "may have moved to another board. Its jobs are kept.",
    )
    scrape_interval = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(10)],
        help_text="Seconds between scheduled scrapes; empty for JOBSENTINEL_SCRAPE_INTERVAL.",
    )

    class Meta:
        ordering = ["name", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "token"], name="source_kind_token_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=SourceKind.values), name="source_kind_known"
            ),
            models.CheckConstraint(condition=~Q(token=""), name="source_token_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}:{self.token})"

    @property
    def interval_seconds(self) -> int:
        """Seconds between scheduled scrapes: its own, else the instance's default."""
        return self.scrape_interval or settings.SCRAPE_INTERVAL


class JobStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ApplicationStatus(models.TextChoices):
    NONE = "", "Not applied"
    INTERESTED = "interested", "Interested"
    APPLIED = "applied", "Applied"
    INTERVIEWING = "interviewing", "Interviewing"
    OFFER = "offer", "Offer"
    REJECTED = "rejected", "Rejected"


# Application statuses that mean "applied" (the feed's Applied view).
APPLIED_STATUSES: tuple[str, ...] = (
    ApplicationStatus.APPLIED,
    ApplicationStatus.INTERVIEWING,
    ApplicationStatus.OFFER,
    ApplicationStatus.REJECTED,
)


class JobQuerySet(models.QuerySet["Job"]):
    # Bulk writes send no post_save, so they may only touch bookkeeping fields: a change a
    # user would care about must be a save (one job_updated each) or announce itself.
    def update(self, **kwargs: Any) -> int:
        _refuse_unannounced(kwargs)
        return super().update(**kwargs)

    def bulk_update(
        self, objs: Iterable[Job], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        names = list(fields)
        _refuse_unannounced(names)
        return super().bulk_update(objs, names, batch_size=batch_size)

    def bulk_update_announced(self, objs: Sequence[Job], fields: Sequence[str]) -> int:
        """`bulk_update` for a caller that announces the change itself, once for all (a
        rescore sends one `jobs_rescored`): the one way to write tracked fields in bulk."""
        # A plain queryset: Django's bulk_update runs through update(), which refuses these.
        unguarded: models.QuerySet[Job] = models.QuerySet(model=self.model, using=self.db)
        written = unguarded.bulk_update(objs, fields)
        for job in objs:
            job._remember(fields)
        return written

    def open(self) -> JobQuerySet:
        return self.filter(status=JobStatus.OPEN)

    def visible(self) -> JobQuerySet:
        return self.filter(hidden=False, duplicate_of__isnull=True)

    def for_feed(self) -> JobQuerySet:
        return self.visible().select_related("source").order_by("-first_seen", "-id")


def _refuse_unannounced(fields: Iterable[str]) -> None:
    tracked = sorted(set(fields) & set(job_fields.TRACKED_FIELDS))
    if tracked:
        raise UnsaidChange(
            f"a bulk write of {', '.join(tracked)} would change jobs without a job_updated "
            "event: save each job, or use bulk_update_announced and send one event"
        )


class Job(TracksLoadedValues):
    TRACKED_FIELDS = job_fields.TRACKED_FIELDS

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="jobs")
    external_id = models.CharField(max_length=200)
    title = models.CharField(max_length=500)
    company = models.CharField(max_length=200)
    location = models.CharField(max_length=500, blank=True)
    workplace = models.CharField(
        max_length=10, choices=Workplace.choices, default=Workplace.UNKNOWN.value
    )
    department = models.CharField(max_length=200, blank=True)
    employment_type = models.CharField(max_length=100, blank=True)
    description_html = models.TextField(blank=True, help_text="Sanitized HTML.")
    description_text = models.TextField(blank=True)
    url = models.URLField(max_length=1000)
    apply_url = models.URLField(max_length=1000, blank=True)
    salary_min = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    salary_max = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    salary_currency = models.CharField(max_length=3, blank=True)
    salary_interval = models.CharField(
        max_length=10,
        choices=SalaryInterval.choices,
        blank=True,
        default=SalaryInterval.UNKNOWN.value,
    )
    posted_at = models.DateTimeField(null=True, blank=True)
    first_seen = models.DateTimeField(default=timezone.now, db_index=True)
    last_seen = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.OPEN)
    score = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    score_reasons = models.JSONField(default=list, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    fingerprint = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="Same job on two sources: normalized company + title + location.",
    )
    missed_fetches = models.PositiveSmallIntegerField(
        default=0, help_text="Consecutive complete fetches of its board that did not list it."
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    # User fields: a scrape never writes these.
    hidden = models.BooleanField(default=False)
    starred = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    application_status = models.CharField(
        max_length=20, choices=ApplicationStatus.choices, blank=True, default=""
    )

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-first_seen", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="job_source_external_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0.0) & Q(score__lte=1.0), name="job_score_between_0_and_1"
            ),
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="job_status_known"
            ),
            models.CheckConstraint(
                condition=Q(salary_min__isnull=True)
                | Q(salary_max__isnull=True)
                | Q(salary_min__lte=models.F("salary_max")),
                name="job_salary_min_not_above_max",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-score"], name="job_status_score"),
            # Every scrape asks for one board's open jobs (missing ones, the health count);
            # without it SQLite's planner picks the status index and reads every open job of
            # every board, so a cycle's cost grew with the square of the boards.
            models.Index(fields=["source", "status"], name="job_source_status"),
        ]

    def __str__(self) -> str:
        return f"{self.title} at {self.company}"


class ScrapeStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    INTERRUPTED = "interrupted", "Interrupted"


class ScrapeRunQuerySet(models.QuerySet["ScrapeRun"]):
    """Typed queryset of runs (the API's filters are written against it)."""

    def live(self, now: datetime) -> ScrapeRunQuerySet:
        """Running, and its process renewed the lease in time: it owns its source."""
        return self.filter(status=ScrapeStatus.RUNNING, lease_expires_at__gt=now)

    def abandoned(self, now: datetime) -> ScrapeRunQuerySet:
        """Still marked running, but nobody renewed its lease: its process is gone. (No lease
        at all: a run recorded before leases existed.)"""
        return self.filter(status=ScrapeStatus.RUNNING).filter(
            Q(lease_expires_at__lte=now) | Q(lease_expires_at__isnull=True)
        )


class ScrapeRun(TracksLoadedValues):
    TRACKED_FIELDS = ("status",)

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(
        max_length=12, choices=ScrapeStatus.choices, default=ScrapeStatus.RUNNING
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    jobs_found = models.PositiveIntegerField(default=0)
    new_jobs = models.PositiveIntegerField(default=0)
    updated_jobs = models.PositiveIntegerField(default=0)
    closed_jobs = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    expected_duration_seconds = models.FloatField(null=True, blank=True)
    # Renewed while the run's process works on it; once past, the run is abandoned.
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    objects = ScrapeRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ScrapeStatus.values), name="scraperun_status_known"
            ),
        ]
        # The scheduler asks "when did this source last start?" for every source each tick.
        indexes = [models.Index(fields=["source", "-started_at"], name="scraperun_source_started")]

    def __str__(self) -> str:
        return f"{self.source} {self.status} at {self.started_at:%Y-%m-%d %H:%M}"

    def is_live(self, now: datetime) -> bool:
        """The rule of `ScrapeRunQuerySet.live`, for a run already loaded."""
        return (
            self.status == ScrapeStatus.RUNNING
            and self.lease_expires_at is not None
            and self.lease_expires_at > now
        )


class Preferences(models.Model):
    """One row: what the user wants. `Preferences.load()` returns it, creating it if needed."""

    title_keywords = models.JSONField(default=list, blank=True)
    title_blocklist = models.JSONField(default=list, blank=True)
    boost_keywords = models.JSONField(
        default=dict, blank=True, help_text='Keyword → weight, e.g. {"python": 2, "django": 1}.'
    )
    excluded_keywords = models.JSONField(default=list, blank=True)
    denied_companies = models.JSONField(default=list, blank=True)
    preferred_locations = models.JSONField(default=list, blank=True)
    remote_preference = models.CharField(
        max_length=20, choices=RemotePreference.choices, default=RemotePreference.ANY.value
    )
    salary_floor = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    salary_target = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    salary_currency = models.CharField(max_length=3, default="USD")
    notify_threshold = models.FloatField(
        default=0.7, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "preferences"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="preferences_single_row"),
            models.CheckConstraint(
                condition=Q(notify_threshold__gte=0.0) & Q(notify_threshold__lte=1.0),
                name="preferences_threshold_between_0_and_1",
            ),
        ]

    def __str__(self) -> str:
        return "Preferences"

    @classmethod
    def load(cls) -> Preferences:
        prefs, _ = cls.objects.get_or_create(id=1)
        return prefs
