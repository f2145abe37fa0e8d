"""The closed sets of values a job and the preferences are described with, declared once.

Plain enums, not Django choices: the board parsers and scoring use them without a configured
Django. They read like Django's TextChoices (`Workplace.choices`, `.values`, `.labels`, a
member's `.label`), and the models build their field choices from them.
"""

from __future__ import annotations

from enum import EnumType, StrEnum
from typing import Self


class _LabeledChoiceType(EnumType):
    # The class-level `choices` / `values` / `labels` of Django's TextChoices, so code written
    # against those (forms, serializers, filters) reads these enums the same way.
    @property
    def choices(cls) -> list[tuple[str, str]]:
        """(value, label) pairs, the shape Django's `choices=` takes."""
        return [(member.value, member.label) for member in cls._labeled()]

    @property
    def values(cls) -> list[str]:
        return [member.value for member in cls._labeled()]

    @property
    def labels(cls) -> list[str]:
        return [member.label for member in cls._labeled()]

    def _labeled(cls) -> list[LabeledChoice]:
        return list(cls.__members__.values())


class LabeledChoice(StrEnum, metaclass=_LabeledChoiceType):
    """A string enum whose members also carry the label forms and the admin show:
    `REMOTE = "remote", "Remote"`."""

    _value_: str
    label: str

    def __new__(cls, value: str, label: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class Workplace(LabeledChoice):
    REMOTE = "remote", "Remote"
    HYBRID = "hybrid", "Hybrid"
    ONSITE = "onsite", "On-site"
    UNKNOWN = "unknown", "Unknown"


class SalaryInterval(LabeledChoice):
    UNKNOWN = "", "Unknown"
    HOUR = "hour", "Per hour"
    DAY = "day", "Per day"
    WEEK = "week", "Per week"
    MONTH = "month", "Per month"
    YEAR = "year", "Per year"


class RemotePreference(LabeledChoice):
    ANY = "any", "Any"
    REMOTE_ONLY = "remote_only", "Remote only"
    REMOTE_OR_HYBRID = "remote_or_hybrid", "Remote or hybrid"
    ONSITE_ONLY = "onsite_only", "On-site only"
