"""jobs.sanitize.html_to_text: the visible text of board HTML, as search and scoring read it."""

from __future__ import annotations

import pytest

from jobs.sanitize import html_to_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("", ""),
        ("plain text", "plain text"),
        ("<p>Hello <b>world</b></p>", "Hello world"),
        ("<ul><li>Python</li><li>Django</li></ul>", "Python\nDjango"),
        ("line one<br>line two<br/>line three", "line one\nline two\nline three"),
        ("R&amp;D &lt;team&gt; &eacute;quipe &#8364;", "R&D <team> équipe €"),
        ("<script>alert('x')</script><style>p{}</style><p>Visible</p>", "Visible"),
        ("<p>  lots   of\n\n   space </p>", "lots of space"),
        ("<p>unclosed <b>tags", "unclosed tags"),
        ("<pre>a\n  b</pre><p>c\nd</p>", "a\nb\nc d"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text
