"""What the API shows and accepts.

Write serializers are "strict": a field they do not accept (unknown, or read-only such as a
job's title) is a 400 naming it. Silently dropping it would let a client believe it changed
something it cannot change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from jobs.models import (
    ApplicationStatus,
    Job,
    Preferences,
    ScrapeRun,
    Source,
    SourceKind,
)
from jobs.preferences import (
    MAX_BOOST,
    MAX_LIST_ITEMS,
    PREFERENCE_FIELDS,
    clean_preferences,
    stored_boosts,
)
from jobs.scrapers.base import redact_url
from jobs.scrapers.detect import public_board_url
from jobs.scrapers.registry import MAX_TOKEN_LENGTH
from jobs.services import SourceRefused, source_api_url_clean

# --- strict input --------------------------------------------------------------------------


class RefuseUnknownFields:
    """Serializer mixin: a body field that the serializer does not write is an error."""

    fields: Any  # provided by the serializer this is mixed into

    def to_internal_value(self, data: Any) -> Any:
        unknown = self._unknown_field_errors(data)
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except ValidationError as exc:
            # Report unknown fields together with the others, in one answer.
            if unknown and isinstance(exc.detail, dict):
                raise ValidationError({**exc.detail, **unknown}) from None
            raise
        if unknown:
            raise ValidationError(unknown)
        return value

    def _unknown_field_errors(self, data: object) -> dict[str, list[str]]:
        if not isinstance(data, Mapping):
            return {}  # DRF itself answers "expected a dictionary"
        writable = sorted(name for name, field in self.fields.items() if not field.read_only)
        message = f"This field cannot be written here; writable fields: {', '.join(writable)}."
        return {str(name): [message] for name in data if name not in writable}


class StrictSerializer(RefuseUnknownFields, serializers.Serializer[Any]):
    pass


class StrictModelSerializer(RefuseUnknownFields, serializers.ModelSerializer[Any]):
    pass


def clean_api_url(value: str) -> str:
    """An optional base URL replacing the vendor's scheme and host; "" means the vendor's.
    The same rule as adding a source (jobs.services.source_api_url_clean)."""
    try:
        return source_api_url_clean(value)
    except SourceRefused as refused:
        raise ValidationError([str(refused)]) from None


# --- sources -------------------------------------------------------------------------------


class SourceSummarySerializer(serializers.ModelSerializer[Source]):
    """The source of a job or a run, as shown inside it."""

    class Meta:
        model = Source
        fields = ("id", "kind", "token", "name")
        read_only_fields = fields


class SourceSerializer(serializers.ModelSerializer[Source]):
    url = serializers.HyperlinkedIdentityField(view_name="api:source-detail")
    # A plain string: "" (the vendor's own host) is not a URI, so `format: uri` would be wrong.
    api_url = serializers.CharField(
        read_only=True, help_text="Replaces the vendor's scheme and host; empty: the vendor's."
    )
    open_jobs = serializers.SerializerMethodField(
        help_text="Open jobs from this board (counted now when listed through the API)."
    )
    board_url = serializers.SerializerMethodField(
        help_text="The board as a person would open it in a browser."
    )

    class Meta:
        model = Source
        fields: tuple[str, ...] = (
            "id", "url", "kind", "token", "name", "api_url", "enabled", "created_at",
            "board_url", "last_success_at", "last_failure_at", "consecutive_failures",
            "last_error", "open_jobs", "gone_dark", "scrape_interval",
        )  # fmt: skip
        read_only_fields: tuple[str, ...] = fields

    def get_open_jobs(self, source: Source) -> int:
        # Counted by the view's queryset (one query for the list); otherwise the count kept
        # on the row at the last scrape.
        return int(getattr(source, "live_open_jobs", source.open_jobs))

    def get_board_url(self, source: Source) -> str:
        return public_board_url(source.kind, source.token)

    def to_representation(self, instance: Source) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        # Credentials are refused on the way in; a row saved before that rule never shows them.
        data["api_url"] = redact_url(instance.api_url) if instance.api_url else ""
        return data


class SourceCreateSerializer(StrictSerializer):
    """A board to watch: a URL (board, job or careers page) whose board is detected and fetched
    once, or the explicit kind and token (saved without a fetch unless `dry_run`)."""

    url = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="A board URL, a job URL or the company's careers page.",
    )
    kind = serializers.ChoiceField(choices=SourceKind.choices, required=False)
    token = serializers.CharField(
        max_length=MAX_TOKEN_LENGTH,
        required=False,
        help_text="With `kind`: the board's token (the company slug in its URL).",
    )
    name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Default: detected or token."
    )
    api_url = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Every request for the board goes to this scheme and host, e.g. "
        "https://api.eu.lever.co; a careers page is still read from its own URL.",
    )
    force = serializers.BooleanField(
        required=False, default=False, help_text="Save even if the board errs or has no jobs."
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Only fetch and summarise; save nothing."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        url = (attrs.get("url") or "").strip()
        if url and ("kind" in attrs or "token" in attrs):
            raise ValidationError({"url": ["Give either a url or a kind and token, not both."]})
        if not url:
            if "kind" not in attrs:
                raise ValidationError({"kind": ["Give a url, or a kind and a token."]})
            if "token" not in attrs:
                raise ValidationError({"token": ["This field is required with kind."]})
        return attrs


class BoardPreviewSerializer(serializers.Serializer[Any]):
    """What one fetch of a board showed."""

    kind = serializers.CharField()
    token = serializers.CharField()
    api_url = serializers.CharField()
    name = serializers.CharField()
    board_url = serializers.CharField()
    open_jobs = serializers.IntegerField()
    error = serializers.CharField(
        help_text="Why the board cannot be watched as it is; empty if ok."
    )
    found_via = serializers.CharField(
        help_text='"url", "kind and token", or "careers page (iframe|script|link|redirect)".'
    )
    others = serializers.ListField(
        child=serializers.CharField(), help_text="Other boards the careers page pointed at."
    )
    summary = serializers.CharField(help_text="e.g. \"greenhouse board 'acme': 37 open jobs\".")


class BoardRefusedSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    preview = BoardPreviewSerializer()


class SourceCreatedSerializer(SourceSerializer):
    preview = BoardPreviewSerializer(
        read_only=True, allow_null=True, help_text="The fetch before saving; null for kind+token."
    )

    class Meta(SourceSerializer.Meta):
        fields = (*SourceSerializer.Meta.fields, "preview")
        read_only_fields = fields


class SourceUpdateSerializer(StrictModelSerializer):
    """What can change on a watched source; its kind and token cannot."""

    name = serializers.CharField(max_length=200, required=False)

    class Meta:
        model = Source
        fields = ("enabled", "name", "api_url", "scrape_interval")

    def validate_api_url(self, value: str) -> str:
        return clean_api_url(value)


# --- jobs ----------------------------------------------------------------------------------


class ScoreReasonSerializer(serializers.Serializer[Any]):
    rule = serializers.CharField()
    points = serializers.FloatField()
    detail = serializers.CharField()


@extend_schema_field(ScoreReasonSerializer(many=True))
class ScoreReasonsField(serializers.JSONField):
    """Passes the stored reasons through as they are: rows edited by hand must not turn a
    read into a 500."""


JOB_LIST_FIELDS = (
    "id", "source", "title", "company", "location", "workplace", "department",
    "employment_type", "url", "apply_url", "salary_min", "salary_max", "salary_currency",
    "salary_interval", "posted_at", "first_seen", "last_seen", "closed_at", "status", "score",
    "duplicate_of", "hidden", "starred", "application_status",
)  # fmt: skip


class JobSerializer(serializers.ModelSerializer[Job]):
    """A job as a list row."""

    source = SourceSummarySerializer(read_only=True)  # type: ignore[assignment]
    # Often empty (apply on the posting's page): a plain string, not `format: uri`.
    apply_url = serializers.CharField(read_only=True)

    class Meta:
        model = Job
        fields: tuple[str, ...] = JOB_LIST_FIELDS
        read_only_fields: tuple[str, ...] = fields


class JobDetailSerializer(JobSerializer):
    score_reasons = ScoreReasonsField(read_only=True)

    class Meta(JobSerializer.Meta):
        fields = (
            *JOB_LIST_FIELDS,
            "external_id",
            "score_reasons",
            "description_html",
            "description_text",
            "notes",
        )
        read_only_fields = fields


class JobUpdateSerializer(StrictModelSerializer):
    """The user's own fields of a job; a scrape never writes these."""

    notes = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    application_status = serializers.ChoiceField(
        choices=ApplicationStatus.choices, required=False, allow_blank=True
    )

    class Meta:
        model = Job
        fields = ("hidden", "starred", "notes", "application_status")
        extra_kwargs = {"hidden": {"required": False}, "starred": {"required": False}}


# --- scrape runs ---------------------------------------------------------------------------


class ScrapeRunSerializer(serializers.ModelSerializer[ScrapeRun]):
    url = serializers.HyperlinkedIdentityField(view_name="api:run-detail")
    source = SourceSummarySerializer(read_only=True)  # type: ignore[assignment]

    class Meta:
        model = ScrapeRun
        fields = (
            "id", "url", "source", "status", "started_at", "finished_at", "duration_seconds",
            "expected_duration_seconds", "jobs_found", "new_jobs", "updated_jobs", "closed_jobs",
            "errors", "error_message",
        )  # fmt: skip
        read_only_fields = fields


# --- preferences ---------------------------------------------------------------------------
# The fields below check JSON types only (a number is not a list); every rule a value must
# follow lives in `jobs.preferences.clean_preferences`, shared with the page and the admin.


class JsonStringField(serializers.CharField):
    """A JSON string only: CharField would turn 3 into "3", hiding a malformed list."""

    default_error_messages = {"invalid": "Not a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


def _term_list(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=JsonStringField(allow_blank=True, trim_whitespace=False),
        required=False,
        help_text=f"{help_text} At most {MAX_LIST_ITEMS} entries.",
    )


class JsonNumberField(serializers.FloatField):
    """A JSON number only: FloatField would also take "2" or true, which in a hand-written
    boost map is more likely a mistake than a weight."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return float(super().to_internal_value(data))


class BoostKeywordsField(serializers.DictField):
    def to_representation(self, value: Any) -> dict[str, float]:
        # Rows written before the rules existed (a plain list) are shown, not a 500.
        return stored_boosts(value)


class PreferencesSerializer(StrictModelSerializer):
    """What the user wants: the scoring rules every open job is scored by."""

    title_keywords = _term_list("Words the title should contain (any of them).")
    title_blocklist = _term_list("Titles containing any of these score 0.")
    excluded_keywords = _term_list("Jobs mentioning any of these score 0.")
    denied_companies = _term_list("Jobs at these companies score 0.")
    preferred_locations = _term_list("Locations that earn the location credit.")
    boost_keywords = BoostKeywordsField(
        child=JsonNumberField(),
        required=False,
        help_text='Keyword → weight, e.g. {"python": 2, "django": 1}; negative weights demote. '
        f"Weights from -{MAX_BOOST:g} to {MAX_BOOST:g}.",
    )
    salary_floor = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, required=False
    )
    salary_target = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, required=False
    )
    salary_currency = JsonStringField(required=False, help_text="ISO 4217 code, e.g. USD.")
    notify_threshold = serializers.FloatField(required=False, help_text="From 0 to 1.")

    class Meta:
        model = Preferences
        fields: tuple[str, ...] = (*PREFERENCE_FIELDS, "updated_at")
        read_only_fields = ("updated_at",)
        extra_kwargs = {"remote_preference": {"required": False}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.partial:
            # PUT replaces the whole preferences: a forgotten field must be an error, not a
            # value silently kept from before.
            for field in self.fields.values():
                if not field.read_only:
                    field.required = True

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            return clean_preferences(attrs, current=self.instance)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None


class PreferencesUpdateResultSerializer(PreferencesSerializer):
    """The preferences after a change, and how many jobs it rescored."""

    rescored = serializers.IntegerField(
        read_only=True, help_text="How many open jobs got a new score."
    )

    class Meta(PreferencesSerializer.Meta):
        fields = (*PreferencesSerializer.Meta.fields, "rescored")


class ErrorSerializer(serializers.Serializer[Any]):
    """The body of every error that is not about specific fields."""

    detail = serializers.CharField()
