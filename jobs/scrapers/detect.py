"""Which job board a URL points at: its kind and token, from the URL alone (pure).

Recognised: board URLs, job URLs and embeds of every supported vendor, with or without a
scheme, `www.`, trailing paths, query strings or job ids. `find_in_page` looks for the same
URLs inside a careers page's HTML (iframes, scripts, links); fetching that page is
`jobs.scrapers.discover`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, quote, unquote, urljoin, urlsplit

from jobs.scrapers.registry import validate_token

LEVER_EU_API = "https://api.eu.lever.co"


@dataclass(frozen=True, slots=True)
class Detected:
    """A board: its kind, its canonical token, and the API base it needs ("" for the
    vendor's usual one; Lever's EU boards need the EU API)."""

    kind: str
    token: str
    api_url: str = ""


# Words that sit where a company's subdomain would, but are the vendor's own.
_VENDOR_SUBDOMAINS = frozenset(
    {"www", "app", "api", "apply", "careers", "jobs", "help", "support", "blog", "status",
     "developers", "developer", "docs", "marketplace", "partners", "login", "static", "cdn"}
)  # fmt: skip
_LOCALE = re.compile(r"[a-z]{2}(?:-[a-z]{2,4})?", re.IGNORECASE)
_WORKDAY_HOST = re.compile(r"([a-z0-9_-]+)\.(wd\d{1,3})\.myworkday(?:jobs|site)\.com")


def _segments(path: str) -> list[str]:
    return [unquote(part) for part in path.split("/") if part]


def _first(segments: list[str], *, skip: frozenset[str] = frozenset()) -> str | None:
    for part in segments:
        if part.lower() not in skip:
            return part
    return None


def _subdomain(host: str, suffix: str) -> str | None:
    if not host.endswith(suffix):
        return None
    label = host[: -len(suffix)]
    if not label or "." in label or label in _VENDOR_SUBDOMAINS:
        return None
    return label


def _greenhouse(host: str, segments: list[str], query: dict[str, list[str]]) -> str | None:
    if host in ("boards-api.greenhouse.io", "api.greenhouse.io", "boards-api.eu.greenhouse.io"):
        # /v1/boards/{token}/jobs
        if len(segments) >= 3 and segments[0] == "v1" and segments[1] == "boards":
            return segments[2]
        return None
    if host not in (
        "boards.greenhouse.io",
        "job-boards.greenhouse.io",
        "boards.eu.greenhouse.io",
        "job-boards.eu.greenhouse.io",
    ):
        return None
    if segments[:1] == ["embed"]:
        # /embed/job_board?for={t}, /embed/job_board/js?for={t}, /embed/job_app?for={t}
        names = query.get("for") or []
        return names[0] if names else None
    return _first(segments)


def _lever(host: str, segments: list[str]) -> Detected | None:
    if host in ("jobs.lever.co", "jobs.eu.lever.co"):
        token = _first(segments)
        eu = host == "jobs.eu.lever.co"
    elif host in ("api.lever.co", "api.eu.lever.co"):
        # /v0/postings/{site}
        ok = len(segments) >= 3 and segments[:2] == ["v0", "postings"]
        token = segments[2] if ok else None
        eu = host == "api.eu.lever.co"
    else:
        return None
    return Detected("lever", token, LEVER_EU_API if eu else "") if token else None


def _ashby(host: str, segments: list[str]) -> str | None:
    if host == "jobs.ashbyhq.com":
        return _first(segments, skip=frozenset({"api"}))
    if host == "api.ashbyhq.com" and segments[:2] == ["posting-api", "job-board"]:
        return segments[2] if len(segments) >= 3 else None
    return None


def _workable(host: str, segments: list[str]) -> str | None:
    if host == "apply.workable.com":
        if segments[:4] == ["api", "v1", "widget", "accounts"] and len(segments) >= 5:
            return segments[4]
        if segments[:3] == ["api", "v3", "accounts"] and len(segments) >= 4:
            return segments[3]
        # /j/{shortcode} is one job with no company in its URL: nothing to watch.
        return _first(segments) if segments[:1] not in (["j"], ["api"]) else None
    return _subdomain(host, ".workable.com")


def _smartrecruiters(host: str, segments: list[str]) -> str | None:
    if host in ("careers.smartrecruiters.com", "jobs.smartrecruiters.com"):
        return _first(segments, skip=frozenset({"oneclick-ui", "sr-jobs", "widget"}))
    if host == "api.smartrecruiters.com" and segments[:2] == ["v1", "companies"]:
        return segments[2] if len(segments) >= 3 else None
    return None


def _workday(host: str, segments: list[str]) -> str | None:
    match = _WORKDAY_HOST.fullmatch(host)
    if not match:
        return None
    tenant, wd = match.groups()
    parts = list(segments)
    if parts[:2] == ["wday", "cxs"]:  # the API itself: /wday/cxs/{tenant}/{site}/...
        return f"{tenant}.{wd}/{parts[3]}" if len(parts) >= 4 else None
    if parts and _LOCALE.fullmatch(parts[0]):
        parts = parts[1:]
    if parts[:1] == ["recruiting"] and len(parts) >= 3:  # myworkdaysite.com/recruiting/{t}/{site}
        parts = parts[2:]
    site = _first(parts[:1])
    if not site or site.lower() in ("job", "details", "login"):
        return None
    return f"{tenant}.{wd}/{site}"


# Vendors whose token is the subdomain of one host.
_SUBDOMAIN_HOSTS: tuple[tuple[str, str], ...] = (
    ("recruitee", ".recruitee.com"),
    ("personio", ".jobs.personio.de"),
    ("personio", ".jobs.personio.com"),
    ("bamboohr", ".bamboohr.com"),
    ("breezy", ".breezy.hr"),
)


def _by_path(host: str, segments: list[str], query: dict[str, list[str]]) -> Detected | None:
    finders: tuple[tuple[str, Callable[[], str | None]], ...] = (
        ("greenhouse", lambda: _greenhouse(host, segments, query)),
        ("ashby", lambda: _ashby(host, segments)),
        ("workable", lambda: _workable(host, segments)),
        ("smartrecruiters", lambda: _smartrecruiters(host, segments)),
        ("workday", lambda: _workday(host, segments)),
    )
    for kind, finder in finders:
        token = finder()
        if token:
            return Detected(kind, token)
    return None


def detect_url(text: str) -> Detected | None:
    """The board `text` points at, or None when it is no board URL this project knows."""
    parts = _split(text)
    if parts is None:
        return None
    host, path, query_string = parts
    segments = _segments(path)
    query = parse_qs(query_string)
    found = _lever(host, segments) or _by_path(host, segments, query)
    if found is None:
        for kind, suffix in _SUBDOMAIN_HOSTS:
            label = _subdomain(host, suffix)
            if label:
                found = Detected(kind, label)
                break
    if found is None:
        return None
    try:
        token = validate_token(found.kind, found.token)
    except ValueError:
        return None
    return Detected(found.kind, token, found.api_url)


def _split(text: str) -> tuple[str, str, str] | None:
    """(host without www. and port, path, query) of a URL written with or without a scheme."""
    text = text.strip()
    if not text or any(char.isspace() for char in text):
        return None
    if text.startswith("//"):
        text = "https:" + text
    elif not re.match(r"[a-z][a-z0-9+.-]*://", text, re.IGNORECASE):
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or "." not in host:
        return None
    if host.startswith("www."):
        host = host[4:]
    return host, parts.path, parts.query


def is_web_url(text: str) -> bool:
    """Whether `text` reads as a web address at all (scheme optional)."""
    return _split(text) is not None


def normalized_url(text: str) -> str:
    """`text` with https:// in front when it has no scheme."""
    text = text.strip()
    if text.startswith("//"):
        return "https:" + text
    if not re.match(r"[a-z][a-z0-9+.-]*://", text, re.IGNORECASE):
        return "https://" + text
    return text


def public_board_url(kind: str, token: str) -> str:
    """The board as a person opens it in a browser."""
    t = quote(token, safe="")
    if kind == "workday":
        tenant, _, site = token.partition("/")
        return f"https://{tenant}.myworkdayjobs.com/{quote(site, safe='')}"
    return {
        "greenhouse": f"https://job-boards.greenhouse.io/{t}",
        "lever": f"https://jobs.lever.co/{t}",
        "ashby": f"https://jobs.ashbyhq.com/{t}",
        "remotive": f"https://remotive.com/remote-jobs/{t}",
        "smartrecruiters": f"https://careers.smartrecruiters.com/{t}",
        "workable": f"https://apply.workable.com/{t}/",
        "recruitee": f"https://{t}.recruitee.com/",
        "personio": f"https://{t}.jobs.personio.de/",
        "bamboohr": f"https://{t}.bamboohr.com/careers",
        "breezy": f"https://{t}.breezy.hr/",
    }.get(kind, "")


# --- careers pages ----------------------------------------------------------------------------

# Where in a page a board URL was found, most telling first: an embedded board is the
# company's own; a script loads a board widget; a link may be one of many.
PLACES = ("iframe", "script", "link")
_URL_IN_TEXT = re.compile(
    r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}(?::\d+)?[^\s\"'<>()\\]*"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:greenhouse\.io|lever\.co|ashbyhq\.com|workable\.com"
    r"|smartrecruiters\.com|recruitee\.com|personio\.de|personio\.com|bamboohr\.com|breezy\.hr"
    r"|myworkdayjobs\.com|myworkdaysite\.com)[^\s\"'<>()\\]*",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Found:
    board: Detected
    place: str  # "redirect", "iframe", "script" or "link"
    url: str


class _Collector(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.urls: list[tuple[str, str]] = []
        self._in_script = False

    def _add(self, place: str, value: str | None) -> None:
        if value and value.strip():
            self.urls.append((place, urljoin(self.base, value.strip())))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("iframe", "frame", "embed"):
            self._add("iframe", values.get("src") or values.get("data-src"))
        elif tag == "object":
            self._add("iframe", values.get("data"))
        elif tag == "script":
            self._in_script = True
            self._add("script", values.get("src"))
        elif tag in ("a", "area", "link"):
            self._add("link", values.get("href"))
        elif tag == "form":
            self._add("link", values.get("action"))
        elif tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            target = re.search(r"url\s*=\s*['\"]?([^'\";]+)", values.get("content") or "", re.I)
            self._add("redirect", target.group(1) if target else None)
        for name in ("data-url", "data-href", "data-board-url"):
            self._add("link", values.get(name))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            for match in _URL_IN_TEXT.finditer(data):
                self.urls.append(("script", match.group(0)))


def find_in_page(page_url: str, html: str) -> list[Found]:
    """Every board URL in a careers page, redirects first, then iframes, scripts, links
    (each in page order), each board once."""
    collector = _Collector(page_url)
    try:
        collector.feed(html)
        collector.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    order = {"redirect": 0, **{place: n + 1 for n, place in enumerate(PLACES)}}
    ranked = sorted(enumerate(collector.urls), key=lambda item: (order[item[1][0]], item[0]))
    found: dict[Detected, Found] = {}
    for _, (place, url) in ranked:
        board = detect_url(url)
        if board is not None and board not in found:
            found[board] = Found(board, place, url)
    return list(found.values())
