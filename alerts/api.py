"""The alerts REST API under /api/v1/alerts/: channels (targets and secrets write-only, shown
masked), their test message, and the deliveries with their status. Writes go through
`alerts.services`, which validates them exactly as the page, admin and commands do."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from alerts import schedule, services
from alerts.masking import mask_target
from alerts.models import ALL_REASONS, Channel, ChannelKind, Delivery, JobScope, Mode
from jobs.api.filters import MAX_ID
from jobs.api.schema import (
    DETAIL_ERRORS,
    PAGE_ERRORS,
    WRITE_ERRORS,
    filtered_collection,
)
from jobs.api.serializers import StrictSerializer
from jobs.api.views import ANY_SEGMENT, FilteredCollection


def quiet_hours_text(channel: Channel) -> str | None:
    if channel.quiet_start is None or channel.quiet_end is None:
        return None
    return f"{channel.quiet_start:%H:%M}-{channel.quiet_end:%H:%M}"


class ChannelSerializer(serializers.ModelSerializer[Channel]):
    target = serializers.SerializerMethodField(help_text="Masked: never shown whole once saved.")
    has_secret = serializers.SerializerMethodField()
    quiet_hours = serializers.SerializerMethodField(help_text="HH:MM-HH:MM, end exclusive.")
    digest_at = serializers.TimeField(format="%H:%M")

    class Meta:
        model = Channel
        fields = [
            "id", "name", "kind", "target", "has_secret", "enabled", "scope", "min_score",
            "reasons", "mode", "digest_at", "digest_weekday", "time_zone", "quiet_hours",
            "max_per_hour", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_target(self, channel: Channel) -> str:
        return mask_target(channel.kind, channel.target)

    def get_has_secret(self, channel: Channel) -> bool:
        return bool(channel.secret)

    def get_quiet_hours(self, channel: Channel) -> str | None:
        return quiet_hours_text(channel)


class ChannelCreatedSerializer(ChannelSerializer):
    secret = serializers.CharField(
        help_text="A generated webhook secret, returned once, on creation only; else empty."
    )

    class Meta(ChannelSerializer.Meta):
        fields = [*ChannelSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class ChannelWriteSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    target = serializers.CharField(max_length=2000, help_text="Address or URL; write-only.")
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    secret = serializers.CharField(
        max_length=200, required=False, allow_blank=True, write_only=True
    )
    enabled = serializers.BooleanField(required=False)
    scope = serializers.ChoiceField(choices=JobScope.choices, required=False)
    min_score = serializers.FloatField(
        min_value=0.0, max_value=1.0, required=False, allow_null=True
    )
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=ALL_REASONS), required=False, allow_empty=False
    )
    mode = serializers.ChoiceField(choices=Mode.choices, required=False)
    digest_at = serializers.CharField(required=False, help_text="HH:MM, local time.")
    digest_weekday = serializers.IntegerField(min_value=0, max_value=6, required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    quiet_hours = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="HH:MM-HH:MM or empty."
    )
    max_per_hour = serializers.IntegerField(min_value=1, max_value=100_000, required=False)

    def to_fields(self) -> dict[str, Any]:
        """Validated data in the services' terms."""
        values = dict(self.validated_data)
        if "digest_at" in values:
            try:
                values["digest_at"] = schedule.parse_time(values["digest_at"])
            except schedule.ScheduleError as exc:
                raise ValidationError({"digest_at": [str(exc)]}) from None
        if "quiet_hours" in values:
            text = values.pop("quiet_hours")
            try:
                start, end = schedule.parse_quiet_hours(text) if text else (None, None)
            except schedule.ScheduleError as exc:
                raise ValidationError({"quiet_hours": [str(exc)]}) from None
            values.update(quiet_start=start, quiet_end=end)
        return values


class ChannelUpdateSerializer(ChannelWriteSerializer):
    kind = None  # type: ignore[assignment]
    target = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="Empty keeps the saved one."
    )


def _as_400(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    reason = serializers.CharField(read_only=True)
    status_text = serializers.CharField(
        read_only=True, help_text='What a person reads, e.g. "failed: HTTP 404 Not Found".'
    )
    jobs = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id", "channel", "kind", "reason", "status", "status_text", "attempts",
            "next_attempt_at", "sent_at", "last_error", "created_at", "jobs",
        ]  # fmt: skip
        read_only_fields = fields

    def get_jobs(self, delivery: Delivery) -> int:
        return len(delivery.payload.get("jobs", []))


class DeliveryFilter(serializers.Serializer[Any]):
    channel = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


@extend_schema_view(
    list=extend_schema(
        summary="List alert channels",
        responses={200: ChannelSerializer(many=True), **PAGE_ERRORS},
    ),
    retrieve=extend_schema(
        summary="An alert channel", responses={200: ChannelSerializer, **DETAIL_ERRORS}
    ),
    create=extend_schema(
        summary="Add an alert channel",
        description="Validated like `manage.py add_alert`: a bad URL, time zone or quiet hours "
        "is a 400 and nothing is saved. A webhook without a secret gets one, returned once.",
        request=ChannelWriteSerializer,
        responses={201: ChannelCreatedSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change an alert channel",
        request=ChannelUpdateSerializer,
        responses={200: ChannelSerializer, **WRITE_ERRORS, **DETAIL_ERRORS},
    ),
    destroy=extend_schema(
        summary="Remove an alert channel",
        responses={204: None, **DETAIL_ERRORS},
    ),
)
class ChannelViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Channel]
):
    queryset = Channel.objects.order_by("id")
    serializer_class = ChannelSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = ANY_SEGMENT

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ChannelWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            channel, generated = services.channel_create(**serializer.to_fields())
        except DjangoValidationError as exc:
            raise _as_400(exc) from None
        data = ChannelSerializer(channel).data
        return Response({**data, "secret": generated}, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        channel = self.get_object()
        serializer = ChannelUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            services.channel_update(channel=channel, **serializer.to_fields())
        except DjangoValidationError as exc:
            raise _as_400(exc) from None
        return Response(ChannelSerializer(channel).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.channel_delete(channel=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send a test message",
        operation_id="alerts_channels_test",
        description="Queues a `type: test` message; the worker sends it within seconds. "
        "The delivery it answers with shows the outcome.",
        request=None,
        responses={
            202: OpenApiResponse(DeliverySerializer, description="The test is queued."),
            401: DETAIL_ERRORS[401],
            403: WRITE_ERRORS[403],
            404: DETAIL_ERRORS[404],
        },
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        delivery = services.send_test(channel=self.get_object(), send_now=False)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@filtered_collection(
    DeliverySerializer,
    DeliveryFilter,
    list_summary="Recent alert deliveries, newest first",
    detail_summary="An alert delivery",
)
class DeliveryViewSet(FilteredCollection[Delivery]):
    queryset = Delivery.objects.order_by("-created_at", "id")
    serializer_class = DeliverySerializer
    filter_class = DeliveryFilter
    filter_lookups = {"channel": "channel_id"}
