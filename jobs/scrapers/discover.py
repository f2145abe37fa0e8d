"""From anything a user pastes (a board URL, a job URL, a company's careers page) to a board:
the URL itself first; else the careers page is fetched (through the same HttpClient, with the
same limits as a board) and its redirects, iframes, scripts and links are searched."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from jobs.scrapers.base import SourceError
from jobs.scrapers.detect import Detected, detect_url, find_in_page, is_web_url, normalized_url
from jobs.scrapers.http import HttpClient, Page

# Beyond this much HTML a careers page is not read further: board links sit near the top.
MAX_PAGE_CHARS = 2_000_000
MAX_REDIRECTS = 5


class NotABoard(ValueError):
    """Nothing watchable was found; the message says what was tried."""


@dataclass(frozen=True, slots=True)
class Resolution:
    board: Detected
    # How it was found: "url", or "careers page (iframe)", "(script)", "(link)", "(redirect)".
    found_via: str
    # The other boards a careers page pointed at, if any (shown, not watched).
    others: tuple[Detected, ...] = ()


async def resolve(client: HttpClient, text: str) -> Resolution:
    """The board `text` names, or NotABoard. Raises SourceError when the careers page itself
    cannot be fetched."""
    text = text.strip()
    direct = detect_url(text)
    if direct is not None:
        return Resolution(direct, "url")
    if not is_web_url(text):
        raise NotABoard(f"{text[:200]!r} is not a web address (e.g. https://acme.com/careers)")
    url = normalized_url(text)
    page = await _follow(client, url)
    if isinstance(page, Detected):
        return Resolution(page, "careers page (redirect)")
    found = find_in_page(page.url, page.text[:MAX_PAGE_CHARS])
    if not found:
        raise NotABoard(
            f"no job board found at {url}: it neither is nor links to a board of a "
            "supported kind (greenhouse, lever, ashby, workday, smartrecruiters, workable, "
            "recruitee, personio, bamboohr, breezy); paste the board's own URL, or add it "
            "as KIND TOKEN"
        )
    first = found[0]
    return Resolution(
        first.board,
        f"careers page ({first.place})",
        tuple(item.board for item in found[1:]),
    )


async def _follow(client: HttpClient, url: str) -> Page | Detected:
    """The careers page, following redirects one at a time: a redirect to a board is the
    answer itself, and is not fetched as a page."""
    for _ in range(MAX_REDIRECTS + 1):
        try:
            page = await client.get_page(url, follow_redirects=False)
        except SourceError as error:
            raise SourceError(f"could not read the careers page: {error}") from error
        if not page.location:
            return page
        target = urljoin(page.url, page.location)
        board = detect_url(target)
        if board is not None:
            return board
        # Fetched next: only where a redirect may lead (no loopback or private address).
        await client.check_redirect(page.url, target)
        url = target
    raise NotABoard(f"the careers page at {url} redirects more than {MAX_REDIRECTS} times")
