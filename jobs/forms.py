"""The preferences form of the page and of the admin: lists typed as text, weights as numbers.

The form only turns text into values; whether a value is acceptable is decided by
`jobs.preferences.clean_preferences`, the same rules the REST API applies, and its messages
are shown next to the field they are about.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from jobs.models import Preferences
from jobs.preferences import (
    MAX_BOOST,
    PREFERENCE_FIELDS,
    clean_preferences,
    format_boosts,
    format_terms,
    parse_boosts,
    parse_terms,
)


class _TypedInTextField(forms.CharField):
    """A value typed as text in a textarea: parsed on the way in, written back as text on the
    way out (a redisplayed form shows the text as typed)."""

    rows = 3

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": self.rows}))
        super().__init__(**kwargs)

    def as_text(self, value: Any) -> str:
        raise NotImplementedError

    def parse(self, text: str) -> Any:
        raise NotImplementedError

    def prepare_value(self, value: Any) -> str:
        return value if isinstance(value, str) else self.as_text(value)

    def to_python(self, value: Any) -> Any:
        return self.parse(str(super().to_python(value) or ""))


class TermListField(_TypedInTextField):
    """A list of words or phrases typed comma-separated or one per line."""

    def as_text(self, value: Any) -> str:
        return format_terms(value)

    def parse(self, text: str) -> list[str]:
        return parse_terms(text)


class BoostField(_TypedInTextField):
    """Keywords with a weight each, `python: 2`, one per line or comma-separated."""

    rows = 4

    def as_text(self, value: Any) -> str:
        return format_boosts(value)

    def parse(self, text: str) -> dict[str, float]:
        return parse_boosts(text)


_LIST_HELP = "Comma-separated or one per line."


class PreferencesForm(forms.ModelForm[Preferences]):
    title_keywords = TermListField(
        label="Title keywords", help_text=f"Words the title should contain. {_LIST_HELP}"
    )
    title_blocklist = TermListField(
        label="Blocked title words", help_text=f"A title with any of these scores 0. {_LIST_HELP}"
    )
    boost_keywords = BoostField(
        label="Boost keywords",
        help_text=(
            "One per line as keyword: weight, e.g. python: 2. The weight is a number from "
            f"{-MAX_BOOST:g} to {MAX_BOOST:g} (negative demotes); without one it counts 1."
        ),
    )
    excluded_keywords = TermListField(
        label="Excluded keywords", help_text=f"A job mentioning any of these scores 0. {_LIST_HELP}"
    )
    denied_companies = TermListField(
        label="Companies to skip", help_text=f"Jobs at these companies score 0. {_LIST_HELP}"
    )
    preferred_locations = TermListField(
        label="Preferred locations", help_text=f"Places you can work from. {_LIST_HELP}"
    )
    salary_currency = forms.CharField(label="Currency", help_text="3-letter code, e.g. USD, EUR.")
    notify_threshold = forms.FloatField(
        label="Notify from score",
        widget=forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "1"}),
        help_text="Browser notifications for new jobs scoring at least this (0 to 1).",
    )

    class Meta:
        model = Preferences
        fields = PREFERENCE_FIELDS
        # The amounts' fields come from the model (its digits and decimal places).
        labels = {"salary_floor": "Salary floor", "salary_target": "Salary target"}
        help_texts = {
            "salary_floor": "Yearly. A job stating less scores 0.",
            "salary_target": "Yearly. A job paying this or more gets the full salary credit.",
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The shared rules decide; their messages land on the field they are about. Fields
        # whose text could not even be read already carry their own message.
        readable = {name: cleaned[name] for name in PREFERENCE_FIELDS if name in cleaned}
        try:
            cleaned.update(clean_preferences(readable, current=self.instance))
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                if name in self.fields and name not in self.errors:
                    self.add_error(name, messages)
        return cleaned

    def values(self) -> dict[str, Any]:
        """The cleaned values, as `jobs.services.preferences_update` takes them."""
        return {name: self.cleaned_data[name] for name in PREFERENCE_FIELDS}
