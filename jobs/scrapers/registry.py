"""The adapters by source kind, and the checks a source's kind and token must pass."""

from __future__ import annotations

import re

from jobs.scrapers import (
    ashby,
    bamboohr,
    breezy,
    greenhouse,
    lever,
    personio,
    recruitee,
    remotive,
    smartrecruiters,
    workable,
    workday,
)
from jobs.scrapers.base import Adapter

ADAPTERS: dict[str, Adapter] = {
    adapter.kind: adapter
    for adapter in (
        greenhouse.adapter,
        lever.adapter,
        ashby.adapter,
        remotive.adapter,
        workday.adapter,
        smartrecruiters.adapter,
        workable.adapter,
        recruitee.adapter,
        personio.adapter,
        bamboohr.adapter,
        breezy.adapter,
    )
}

MAX_TOKEN_LENGTH = 200
_TOKEN = re.compile(r"[A-Za-z0-9._-]+")
# Kinds whose token is the company's subdomain ({t}.recruitee.com): a DNS label, any case.
SUBDOMAIN_KINDS = frozenset({"recruitee", "personio", "bamboohr", "breezy"})
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class UnknownKind(ValueError, KeyError):
    """No adapter for this kind. A ValueError for input checks, and a KeyError for callers
    that treat the registry as the dict it is."""

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"unknown source kind {kind!r}; valid kinds: {', '.join(sorted(ADAPTERS))}"
        )
        self.kind = kind

    def __str__(self) -> str:
        # KeyError would wrap the message in quotes.
        return str(self.args[0])


def get_adapter(kind: str) -> Adapter:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise UnknownKind(kind) from None


def validate_token(kind: str, token: str) -> str:
    """The token, stripped and in its canonical spelling, if it can name a board of `kind`;
    else ValueError saying why.

    Tokens become one path segment of the board URL (or, for some vendors, the subdomain),
    so only URL-safe characters pass, and "." or ".." (which a URL would resolve as a
    directory step) never do. Host names are case-insensitive, so subdomain tokens and
    Workday's `tenant.wdN` are lower-cased: one board has one spelling.
    """
    get_adapter(kind)
    cleaned = token.strip()
    if not cleaned:
        raise ValueError(f"{kind} token must not be empty")
    if len(cleaned) > MAX_TOKEN_LENGTH:
        raise ValueError(f"{kind} token is longer than {MAX_TOKEN_LENGTH} characters")
    if kind == "workday":
        tenant, wd, site = workday.split_token(cleaned)
        return f"{tenant.lower()}.{wd}/{site}"
    if kind in SUBDOMAIN_KINDS:
        lowered = cleaned.lower()
        if not _LABEL.fullmatch(lowered):
            raise ValueError(
                f"{kind} token {cleaned!r} is a subdomain: only letters, digits and '-'"
            )
        return lowered
    if not _TOKEN.fullmatch(cleaned):
        raise ValueError(
            f"{kind} token {cleaned!r} may contain only letters, digits, '-', '_' and '.'"
        )
    if set(cleaned) == {"."}:
        raise ValueError(f"{kind} token {cleaned!r} is not a board name")
    return cleaned
