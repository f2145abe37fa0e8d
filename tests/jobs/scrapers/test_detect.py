"""Detection from URLs (every vendor pattern, with and without extras) and from careers
pages (iframe, script, link, meta refresh); garbage and unknown URLs."""

from __future__ import annotations

import pytest

from jobs.scrapers.detect import (
    LEVER_EU_API,
    Detected,
    detect_url,
    find_in_page,
    public_board_url,
)

# (url, kind, token, api_url): each base pattern, then the same with extras.
TABLE = [
    # Greenhouse
    ("https://boards.greenhouse.io/acme", "greenhouse", "acme", ""),
    ("boards.greenhouse.io/acme/jobs/4012345?gh_src=abc", "greenhouse", "acme", ""),
    ("https://job-boards.greenhouse.io/acme", "greenhouse", "acme", ""),
    ("http://www.job-boards.greenhouse.io/acme/jobs/123#app", "greenhouse", "acme", ""),
    ("https://boards.greenhouse.io/embed/job_board?for=acme", "greenhouse", "acme", ""),
    ("boards.greenhouse.io/embed/job_board/js?for=acme&b=https://x", "greenhouse", "acme", ""),
    ("https://boards.greenhouse.io/embed/job_app?for=acme&token=123", "greenhouse", "acme", ""),
    ("https://job-boards.eu.greenhouse.io/acme", "greenhouse", "acme", ""),
    ("https://boards-api.greenhouse.io/v1/boards/acme/jobs?content=true", "greenhouse", "acme", ""),
    # Lever
    ("https://jobs.lever.co/globex", "lever", "globex", ""),
    ("jobs.lever.co/globex/5f0c2a8e-1b2c-4d3e-8f90-0a1b2c3d4e5f/apply", "lever", "globex", ""),
    ("https://jobs.eu.lever.co/globex", "lever", "globex", LEVER_EU_API),
    ("www.jobs.eu.lever.co/globex/abc?lever-source=x", "lever", "globex", LEVER_EU_API),
    ("https://api.lever.co/v0/postings/globex?mode=json", "lever", "globex", ""),
    # Ashby
    ("https://jobs.ashbyhq.com/initech", "ashby", "initech", ""),
    ("jobs.ashbyhq.com/initech/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0/application", "ashby",
     "initech", ""),
    ("https://api.ashbyhq.com/posting-api/job-board/initech", "ashby", "initech", ""),
    # Workable
    ("https://apply.workable.com/hooli/", "workable", "hooli", ""),
    ("apply.workable.com/hooli/j/8F1C2D3E4A/?utm_source=x", "workable", "hooli", ""),
    ("https://hooli.workable.com", "workable", "hooli", ""),
    ("https://apply.workable.com/api/v1/widget/accounts/hooli?details=true", "workable", "hooli",
     ""),
    # SmartRecruiters
    ("https://careers.smartrecruiters.com/Umbrella", "smartrecruiters", "Umbrella", ""),
    ("jobs.smartrecruiters.com/Umbrella/744000061234567-site-reliability-engineer?trid=x",
     "smartrecruiters", "Umbrella", ""),
    ("https://api.smartrecruiters.com/v1/companies/Umbrella/postings", "smartrecruiters",
     "Umbrella", ""),
    # Recruitee
    ("https://pied-piper.recruitee.com", "recruitee", "pied-piper", ""),
    ("Pied-Piper.recruitee.com/o/python-developer?source=x", "recruitee", "pied-piper", ""),
    # Personio
    ("https://vandelay.jobs.personio.de", "personio", "vandelay", ""),
    ("vandelay.jobs.personio.com/job/1544862?language=en&display=en", "personio", "vandelay", ""),
    # BambooHR
    ("https://dunder.bamboohr.com/careers", "bamboohr", "dunder", ""),
    ("dunder.bamboohr.com/careers/42?source=aWQ9MTA%3D", "bamboohr", "dunder", ""),
    ("https://dunder.bamboohr.com/jobs/view.php?id=42", "bamboohr", "dunder", ""),
    # Breezy
    ("https://stark.breezy.hr", "breezy", "stark", ""),
    ("stark.breezy.hr/p/a1b2c3d4e5f6-product-designer?source=x", "breezy", "stark", ""),
    # Workday
    ("https://acme.wd5.myworkdayjobs.com/External", "workday", "acme.wd5/External", ""),
    ("https://acme.wd5.myworkdayjobs.com/en-US/External", "workday", "acme.wd5/External", ""),
    ("acme.wd5.myworkdayjobs.com/en-US/External/job/Berlin/Engineer_R-10442?q=x",
     "workday", "acme.wd5/External", ""),
    ("https://ACME.WD1.myworkdayjobs.com/de-DE/Careers_Site/details/X_R1", "workday",
     "acme.wd1/Careers_Site", ""),
    ("https://acme.wd5.myworkdayjobs.com/wday/cxs/acme/External/jobs", "workday",
     "acme.wd5/External", ""),
    ("https://acme.wd3.myworkdaysite.com/en-US/recruiting/acme/Jobs", "workday", "acme.wd3/Jobs",
     ""),
]  # fmt: skip


@pytest.mark.parametrize(("url", "kind", "token", "api_url"), TABLE)
def test_detects_every_pattern(url: str, kind: str, token: str, api_url: str):
    assert detect_url(url) == Detected(kind, token, api_url)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "acme",
        "not a url at all",
        "ftp://boards.greenhouse.io/acme",
        "javascript:alert(1)",
        "https://example.com/careers",
        "https://greenhouse.io/",
        "https://boards.greenhouse.io/",
        "https://boards.greenhouse.io/embed/job_board",  # no ?for=
        "https://jobs.lever.co/",
        "https://apply.workable.com/j/8F1C2D3E4A",  # one job, no company
        "https://www.recruitee.com/",
        "https://app.recruitee.com/#/dashboard",
        "https://www.bamboohr.com/careers",
        "https://acme.wd5.myworkdayjobs.com/",
        "https://acme.wd5.myworkdayjobs.com/en-US/",
        "https://boards.greenhouse.io.evil.example/acme",
        "https://evil.example/boards.greenhouse.io/acme",
        "https://bad_label.recruitee.com/",
        "http://[::1",
        "https://jobs.lever.co/%2e%2e",
    ],
)
def test_garbage_and_unknown_urls(url: str):
    assert detect_url(url) is None


def test_public_board_urls_detect_back():
    for _, kind, token, _api_url in TABLE:
        assert detect_url(public_board_url(kind, token)) == Detected(kind, token, "")


PAGE = "https://www.acme.example/careers"


def test_iframe():
    html = '<html><body><iframe src="https://jobs.lever.co/acme?embed=true"></iframe></body>'
    (found,) = find_in_page(PAGE, html)
    assert (found.board, found.place) == (Detected("lever", "acme"), "iframe")


def test_script_src_and_inline_script():
    html = """<div id="grnhse_app"></div>
    <script src="https://boards.greenhouse.io/embed/job_board/js?for=acme"></script>"""
    assert [(f.board, f.place) for f in find_in_page(PAGE, html)] == [
        (Detected("greenhouse", "acme"), "script")
    ]
    inline = "<script>window.board = 'https://acme.wd5.myworkdayjobs.com/en-US/External';</script>"
    assert [f.board for f in find_in_page(PAGE, inline)] == [
        Detected("workday", "acme.wd5/External")
    ]
    bare = '<script>load({url: "pied-piper.recruitee.com/api/offers/"})</script>'
    assert [f.board for f in find_in_page(PAGE, bare)] == [Detected("recruitee", "pied-piper")]


def test_link():
    html = """<a href="/about">About</a>
    <a href="https://www.linkedin.com/company/acme">LinkedIn</a>
    <a href="https://apply.workable.com/acme/">Open positions</a>"""
    (found,) = find_in_page(PAGE, html)
    assert (found.board, found.place) == (Detected("workable", "acme"), "link")


def test_meta_refresh_counts_as_a_redirect_and_iframes_beat_links():
    html = """<a href="https://jobs.ashbyhq.com/other">old board</a>
    <iframe data-src="https://acme.breezy.hr/embed"></iframe>
    <meta http-equiv="refresh" content="0; url=https://careers.smartrecruiters.com/Acme">"""
    assert [(f.board.kind, f.place) for f in find_in_page(PAGE, html)] == [
        ("smartrecruiters", "redirect"),
        ("breezy", "iframe"),
        ("ashby", "link"),
    ]


def test_relative_links_resolve_against_the_page():
    html = '<a href="//dunder.bamboohr.com/careers">Jobs</a>'
    assert [f.board for f in find_in_page(PAGE, html)] == [Detected("bamboohr", "dunder")]


def test_a_board_found_twice_is_listed_once():
    html = '<a href="https://jobs.lever.co/acme">a</a><a href="https://jobs.lever.co/acme/1">b</a>'
    assert len(find_in_page(PAGE, html)) == 1


@pytest.mark.parametrize(
    "html",
    ["", "<html><body>We are hiring! Email us.</body></html>", "<a href=", "\x00\xff<<<>>>"],
)
def test_pages_without_a_board(html: str):
    assert find_in_page(PAGE, html) == []
