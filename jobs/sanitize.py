"""Board HTML → HTML that is safe to show. Uses nh3 (the Ammonia sanitizer).

Images, iframes and anything else that would fetch from another host are dropped: opening a
job in JobSentinel must not tell a third party anything (tracking pixels included).
"""

from __future__ import annotations

import nh3

from jobs.scoring import plain_text

ALLOWED_TAGS = frozenset(nh3.ALLOWED_TAGS) - {"img", "map", "area", "nav", "center"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def html_to_text(html: str) -> str:
    return plain_text(html)
