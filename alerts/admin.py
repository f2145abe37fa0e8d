"""Alerts in the admin: channels (target and secret write-only, shown masked), deliveries and
alerts (read-only records). Saving a channel goes through the same service as everywhere."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from alerts import services
from alerts.masking import mask_target
from alerts.models import Alert, Channel, ChannelKind, Delivery


class ChannelAdminForm(forms.ModelForm[Channel]):
    target = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="An address or URL. Never shown again once saved; leave empty to keep it.",
    )
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Webhooks: the signing secret (16+ characters). Leave empty to keep it.",
    )

    class Meta:
        model = Channel
        fields = list(services.WRITABLE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        fields = {name: data[name] for name in services.WRITABLE if name in data}
        existing = self.instance if self.instance.pk else None
        if (
            existing is None
            and fields.get("kind") == ChannelKind.WEBHOOK
            and not fields.get("secret")
        ):
            self.add_error("secret", "A webhook needs a signing secret (it is not shown again).")
            return data
        try:
            services.channel_check(channel=existing, **fields)
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                self.add_error(key if key in self.fields else None, errors)
        return data


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin[Channel]):
    form = ChannelAdminForm
    list_display = ("name", "kind", "masked_target", "mode", "enabled", "created_at")
    list_filter = ("kind", "mode", "enabled")
    actions = ("send_test",)

    @admin.display(description="target")
    def masked_target(self, channel: Channel) -> str:
        return mask_target(channel.kind, channel.target)

    def save_model(self, request: HttpRequest, obj: Channel, form: Any, change: bool) -> None:
        fields = {
            name: form.cleaned_data[name] for name in services.WRITABLE if name in form.cleaned_data
        }
        if change:
            services.channel_update(channel=Channel.objects.get(pk=obj.pk), **fields)
        else:
            channel, _ = services.channel_create(**fields)
            obj.pk = channel.pk

    def delete_model(self, request: HttpRequest, obj: Channel) -> None:
        services.channel_delete(channel=obj)

    @admin.action(description="Send a test message")
    def send_test(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        for channel in queryset:
            services.send_test(channel=channel, send_now=False)
        self.message_user(
            request, f"Queued {queryset.count()} test message(s); see Deliveries.", messages.SUCCESS
        )


class ReadOnly(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly):
    list_display = ("created_at", "channel", "kind", "reason", "status_text", "attempts")
    list_filter = ("status", "kind", "channel")
    list_select_related = ("channel",)
    exclude = ("payload",)


@admin.register(Alert)
class AlertAdmin(ReadOnly):
    list_display = ("created_at", "channel", "reason", "job", "source", "route", "delivery")
    list_filter = ("reason", "route", "channel")
    list_select_related = ("channel", "job", "source")
    raw_id_fields = ("job", "source", "delivery")
