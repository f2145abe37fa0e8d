"""The Alerts page, `/alerts/`: channels and their rules, "send test", and recent deliveries
with their status. Plain forms, no script; each action is a POST with a CSRF token."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from alerts import services
from alerts.api import quiet_hours_text
from alerts.forms import ChannelForm
from alerts.masking import mask_target
from alerts.models import Channel, Delivery
from jobsentinel.apikeys import keys_required
from realtime.pages import CONTENT_SECURITY_POLICY

RECENT_DELIVERIES = 30
# The feed's policy, and forms that post only here.
POLICY = CONTENT_SECURITY_POLICY + "; form-action 'self'"


def _locked(request: HttpRequest) -> HttpResponse | None:
    """With API keys configured the page is private, like the feed: the admin's login opens it."""
    if keys_required() and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return None


def _render(request: HttpRequest, *, form: ChannelForm | None = None, status: int = 200,
            notice: str = "", secret: str = "") -> HttpResponse:  # fmt: skip
    channels = [
        {
            "channel": channel,
            "target": mask_target(channel.kind, channel.target),
            "quiet": quiet_hours_text(channel),
        }
        for channel in Channel.objects.order_by("id")
    ]
    context: dict[str, Any] = {
        "channels": channels,
        "deliveries": Delivery.objects.recent()[:RECENT_DELIVERIES],
        "form": form or ChannelForm(),
        "notice": notice or _notice(request),
        "secret": secret,
    }
    response = render(request, "alerts/page.html", context, status=status)
    response["Content-Security-Policy"] = POLICY
    return response


def _notice(request: HttpRequest) -> str:
    done = request.GET.get("done", "")
    return {
        "added": "Channel added.",
        "tested": "Test message queued: its status shows below within seconds.",
        "enabled": "Channel enabled.",
        "disabled": "Channel paused.",
        "deleted": "Channel removed.",
    }.get(done, "")


def _back(done: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('alerts:page')}?done={done}")


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    if (refusal := _locked(request)) is not None:
        return refusal
    return _render(request)


@require_POST
def add_channel(request: HttpRequest) -> HttpResponse:
    if (refusal := _locked(request)) is not None:
        return refusal
    form = ChannelForm(request.POST)
    if form.is_valid():
        try:
            channel, generated = services.channel_create(**form.service_fields())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if generated:
                # Shown once, in this answer only (never stored in a cookie or a redirect).
                return _render(request, notice=f"Channel {channel.name!r} added.", secret=generated)
            return _back("added")
    return _render(request, form=form, status=400)


def _channel_action(request: HttpRequest, channel_id: int, action: str) -> HttpResponse:
    if (refusal := _locked(request)) is not None:
        return refusal
    channel = get_object_or_404(Channel, pk=channel_id)
    if action == "test":
        services.send_test(channel=channel, send_now=False)
        return _back("tested")
    if action == "toggle":
        services.channel_update(channel=channel, enabled=not channel.enabled)
        return _back("enabled" if channel.enabled else "disabled")
    services.channel_delete(channel=channel)
    return _back("deleted")


@require_POST
def test_channel(request: HttpRequest, channel_id: int) -> HttpResponse:
    return _channel_action(request, channel_id, "test")


@require_POST
def toggle_channel(request: HttpRequest, channel_id: int) -> HttpResponse:
    return _channel_action(request, channel_id, "toggle")


@require_POST
def delete_channel(request: HttpRequest, channel_id: int) -> HttpResponse:
    return _channel_action(request, channel_id, "delete")
