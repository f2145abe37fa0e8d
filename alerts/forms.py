"""The Alerts page's form: text as typed, turned into the services' fields. All the rules
(URL, time zone, quiet hours, ...) are the services' own, so the page says what the command
line and the API say."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from alerts import schedule
from alerts.models import ALL_REASONS, ChannelKind, JobScope, Mode, Reason

WEEKDAY_CHOICES = [(str(n), name) for n, name in enumerate(
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
)]  # fmt: skip
# Service error keys → form fields (the rest are shown above the form).
FIELD_OF = {"quiet_hours": "quiet_hours", "digest_at": "digest_at"}


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=ChannelKind.choices)
    target = forms.CharField(
        max_length=2000,
        help_text="An email address, or the URL (ntfy topic, Slack/Discord/webhook URL, Apprise).",
    )
    name = forms.CharField(max_length=100, required=False)
    secret = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Webhooks: the signing secret (empty: one is generated and shown once).",
    )
    scope = forms.ChoiceField(choices=JobScope.choices, initial=JobScope.SCORE, label="Jobs")
    min_score = forms.FloatField(
        required=False,
        min_value=0.0,
        max_value=1.0,
        label="Minimum score",
        help_text="Empty: the preferences' notify threshold.",
    )
    reasons = forms.MultipleChoiceField(
        choices=Reason.choices,
        initial=ALL_REASONS,
        widget=forms.CheckboxSelectMultiple,
        label="Changes",
    )
    mode = forms.ChoiceField(choices=Mode.choices, initial=Mode.INSTANT, label="Send")
    digest_at = forms.CharField(initial="09:00", label="Digest time (HH:MM)")
    digest_weekday = forms.ChoiceField(choices=WEEKDAY_CHOICES, initial="0", label="Weekly on")
    time_zone = forms.CharField(initial="UTC", max_length=64, label="Time zone")
    quiet_hours = forms.CharField(
        required=False, label="Quiet hours", help_text="e.g. 22:00-07:00 (end exclusive)."
    )
    max_per_hour = forms.IntegerField(initial=60, min_value=1, label="At most per hour")

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        quiet = data.pop("quiet_hours")
        try:
            start, end = schedule.parse_quiet_hours(quiet) if quiet else (None, None)
        except schedule.ScheduleError as exc:
            raise ValidationError({"quiet_hours": str(exc)}) from None
        try:
            data["digest_at"] = schedule.parse_time(data["digest_at"], what="digest time")
        except schedule.ScheduleError as exc:
            raise ValidationError({"digest_at": str(exc)}) from None
        data.update(quiet_start=start, quiet_end=end, digest_weekday=int(data["digest_weekday"]))
        return data

    def add_service_errors(self, exc: ValidationError) -> None:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        for key, messages in errors.items():
            field = key if key in self.fields else FIELD_OF.get(key)
            for message in messages:
                self.add_error(field, message)
