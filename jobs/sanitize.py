"""Board HTML → HTML that is safe to show (nh3, the Ammonia sanitizer), and → the visible
text that search, snippets and scoring read (`html_to_text`).

Images, iframes and anything else that would fetch from another host are dropped: opening a
job in JobSentinel must not tell a third party anything (tracking pixels included).

One-line fields (title, company, location, ...) also lose the invisible characters that let a
board make a title read differently from what it is: bidirectional controls (a right-to-left
override shows "moc.elgoog" as "google.com") and zero-width characters. NUL is removed from
everything (PostgreSQL refuses it in text), and lone surrogates (valid in JSON, not in UTF-8)
become U+FFFD.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = frozenset(nh3.ALLOWED_TAGS) - {"img", "map", "area", "nav", "center"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}

# Most of a stored description: enough for any real posting; a board sending megabytes would
# otherwise be stored whole and slow down every page that lists it.
DESCRIPTION_MAX_CHARS = 100_000
# Raw HTML looked at before sanitizing (markup and dropped tags take room).
DESCRIPTION_RAW_MAX_CHARS = 4 * DESCRIPTION_MAX_CHARS

# Bidi embeddings/overrides/isolates, LRM/RLM/ALM, and zero-width space/joiners/word joiner/BOM.
_INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff]")
# Control characters other than whitespace (which one-line fields collapse to spaces anyway).
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_WHITESPACE = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` without NUL and with lone surrogates replaced: what every database accepts."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", text)
    return text


def one_line(text: str, max_chars: int) -> str:
    """A display line: storable, no controls or invisible characters, whitespace collapsed,
    at most `max_chars` long."""
    if not (text.isascii() and text.isprintable()):  # printable ASCII has nothing to remove
        text = _CONTROLS.sub("", _INVISIBLE.sub("", storable(text)))
    return _WHITESPACE.sub(" ", text).strip()[:max_chars].rstrip()


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def safe_description(html: str) -> str:
    """Board HTML → sanitized HTML of at most DESCRIPTION_MAX_CHARS. A cut is sanitized again,
    so a tag or entity cut in half is dropped and open tags are closed."""
    safe = sanitize_html(storable(html[:DESCRIPTION_RAW_MAX_CHARS]))
    limit = DESCRIPTION_MAX_CHARS
    while len(safe) > DESCRIPTION_MAX_CHARS:
        cut = sanitize_html(safe[:limit])
        # Closing tags added by the sanitizer take room too: cut that much more next time.
        limit -= max(len(cut) - DESCRIPTION_MAX_CHARS, 0) + 64
        safe = cut if len(cut) <= DESCRIPTION_MAX_CHARS else safe
        if limit <= 0:
            return ""
    return safe


class _TextExtractor(HTMLParser):
    # Tags whose content is never visible text (and, in unsanitized board HTML, may be code).
    _SKIP = frozenset({"script", "style", "template", "head", "title"})
    # Tags that end a line, so "<li>Python</li><li>Django</li>" doesn't become "PythonDjango".
    _BLOCK = frozenset(
        {
            "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
            "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
            "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th",
            "tr", "ul",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")
            if tag == "pre":
                self._pre_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <hr/>: a line break, and never opens a skipped section.
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        # Source newlines are just whitespace in HTML (only <pre> keeps them); lines come
        # from block tags. Inline tags add nothing, so "<b>Kuber</b>netes" stays one word.
        self.parts.append(data if self._pre_depth else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment: tags dropped, entities decoded, script/style content
    removed, one line per block element (no blank lines), runs of spaces collapsed."""
    if not html:
        return ""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (" ".join(raw.split()) for raw in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
