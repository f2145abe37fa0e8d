"""Job-board adapters: download a board's public JSON (`fetch`) and turn it into `Posting`s
(`parse`, pure). `scrape(get_adapter(kind), client, token, api_url, company)` does both."""

from jobs.scrapers.base import (
    Adapter,
    BoardNotFound,
    DeadlineExceeded,
    FetchFailed,
    FetchResult,
    PayloadError,
    RateLimited,
    ResponseTooLarge,
    SourceError,
    scrape,
)
from jobs.scrapers.http import HttpClient
from jobs.scrapers.registry import ADAPTERS, UnknownKind, get_adapter, validate_token

__all__ = [
    "ADAPTERS",
    "Adapter",
    "BoardNotFound",
    "DeadlineExceeded",
    "FetchFailed",
    "FetchResult",
    "HttpClient",
    "PayloadError",
    "RateLimited",
    "ResponseTooLarge",
    "SourceError",
    "UnknownKind",
    "get_adapter",
    "scrape",
    "validate_token",
]
