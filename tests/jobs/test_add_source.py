"""`add_source URL`: detection, the one fetch and its summary, refusals (unknown URL, board
error, no jobs, duplicates), --force, --dry-run, --api-url; against a local board farm."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from jobs.models import Source
from tests.boards import greenhouse_job
from tests.vendor_boards import VendorFarm, install_all

pytestmark = pytest.mark.django_db


def add(*args: str) -> str:
    out = StringIO()
    call_command("add_source", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.parametrize(
    ("url", "kind", "token", "jobs", "name"),
    [
        ("https://acme.wd5.myworkdayjobs.com/en-US/External/job/Berlin/X_R-1", "workday",
         "acme.wd5/External", 3, "Acme Europe GmbH"),
        ("careers.smartrecruiters.com/Umbrella", "smartrecruiters", "Umbrella", 3,
         "Umbrella Corp"),
        ("https://apply.workable.com/hooli/j/8F1C2D3E4A", "workable", "hooli", 2, "Hooli"),
        ("https://www.pied-piper.recruitee.com/o/python-developer", "recruitee", "pied-piper", 2,
         "Pied Piper"),
        ("vandelay.jobs.personio.de/job/1544862?display=en", "personio", "vandelay", 2,
         "Vandelay Industries GmbH"),
        ("https://dunder.bamboohr.com/careers/42", "bamboohr", "dunder", 3, "dunder"),
        ("stark.breezy.hr", "breezy", "stark", 2, "Stark Industries"),
    ],
)  # fmt: skip
def test_every_new_kind_by_url(
    vendor_farm: VendorFarm, url: str, kind: str, token: str, jobs: int, name: str
):
    install_all(vendor_farm)
    output = add(url, "--api-url", vendor_farm.url)
    source = Source.objects.get()
    assert (source.kind, source.token, source.name, source.api_url) == (
        kind,
        token,
        name,
        vendor_farm.url,
    )
    assert f"{kind} board '{token}': {jobs} open jobs" in output
    assert f"(id {source.pk})" in output
    assert source.open_jobs == jobs


def test_workday_preview_asks_one_page_of_twenty(vendor_farm: VendorFarm):
    install_all(vendor_farm)
    add("https://acme.wd5.myworkdayjobs.com/External", "--api-url", vendor_farm.url, "--dry-run")
    assert [r for r in vendor_farm.requests if r[0] == "POST"] == [
        ("POST", "/wday/cxs/acme/External/jobs")
    ]


def test_careers_page_with_an_iframe_is_read_from_its_own_url(vendor_farm: VendorFarm):
    install_all(vendor_farm)
    vendor_farm.text(
        "/careers",
        '<h1>Join us</h1><iframe src="https://acme.wd5.myworkdayjobs.com/en-US/External">',
    )
    output = add(f"{vendor_farm.url}/careers", "--api-url", vendor_farm.url, "--name", "Acme")
    source = Source.objects.get()
    assert (source.kind, source.token, source.name) == ("workday", "acme.wd5/External", "Acme")
    assert "careers page (iframe)" in output
    assert ("GET", "/careers") in vendor_farm.requests


@pytest.mark.parametrize(
    ("page", "via"),
    [
        ('<a href="https://apply.workable.com/hooli/">Open roles</a>', "link"),
        ('<script src="https://apply.workable.com/hooli/widget.js"></script>', "script"),
        ("<script>var board = 'apply.workable.com/api/v1/widget/accounts/hooli';</script>",
         "script"),
    ],
)  # fmt: skip
def test_careers_page_with_a_link_or_a_script(vendor_farm: VendorFarm, page: str, via: str):
    install_all(vendor_farm)
    vendor_farm.text("/jobs", page)
    output = add(f"{vendor_farm.url}/jobs", "--api-url", vendor_farm.url)
    assert Source.objects.get().token == "hooli"
    assert f"careers page ({via})" in output


def test_careers_page_that_redirects_to_a_board(vendor_farm: VendorFarm):
    vendor_farm.greenhouse("acme", [greenhouse_job(1, "Engineer")])
    vendor_farm.redirect("/careers", "/careers/")
    vendor_farm.redirect("/careers/", "https://job-boards.greenhouse.io/acme")
    output = add(f"{vendor_farm.url}/careers", "--api-url", vendor_farm.url)
    assert (Source.objects.get().kind, Source.objects.get().token) == ("greenhouse", "acme")
    assert "careers page (redirect)" in output
    assert "greenhouse board 'acme': 1 open job" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("not a url",), "is not a web address"),
        (("greenhouse",), "give the board's TOKEN too"),
        (("monster", "acme"), "unknown kind 'monster'"),
        (("https://boards.greenhouse.io/acme", "--api-url", "ftp://x"), "not an http(s) URL"),
        (("https://boards.greenhouse.io/acme", "--api-url", "https://u:p@h.example"),
         "user name or password"),
    ],
)  # fmt: skip
def test_bad_input(args: tuple[str, ...], message: str):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        add(*args)
    assert not Source.objects.exists()


def test_unknown_careers_page_is_refused(vendor_farm: VendorFarm):
    vendor_farm.text("/careers", "<p>Send your CV to jobs@acme.example</p>")
    with pytest.raises(CommandError, match="no job board found"):
        add(f"{vendor_farm.url}/careers")
    assert not Source.objects.exists()


def test_unreachable_careers_page_is_refused(vendor_farm: VendorFarm):
    with pytest.raises(CommandError, match=r"could not read the careers page.*404"):
        add(f"{vendor_farm.url}/nothing-here")
    assert not Source.objects.exists()


def test_board_error_is_not_saved_unless_forced(vendor_farm: VendorFarm):
    # No route for this board: the farm answers 404.
    with pytest.raises(CommandError, match=r"greenhouse board 'gone': GET .*HTTP 404.*force"):
        add("https://boards.greenhouse.io/gone", "--api-url", vendor_farm.url)
    assert not Source.objects.exists()
    output = add("https://boards.greenhouse.io/gone", "--api-url", vendor_farm.url, "--force")
    assert Source.objects.get().token == "gone"
    assert "Watching" in output


def test_empty_board_is_not_saved_unless_forced(vendor_farm: VendorFarm):
    vendor_farm.greenhouse("quiet", [])
    with pytest.raises(CommandError, match="lists no open jobs"):
        add("boards.greenhouse.io/quiet", "--api-url", vendor_farm.url)
    assert not Source.objects.exists()
    add("boards.greenhouse.io/quiet", "--api-url", vendor_farm.url, "--force")
    assert Source.objects.get().open_jobs == 0


def test_dry_run_only_summarises(vendor_farm: VendorFarm):
    install_all(vendor_farm)
    output = add("stark.breezy.hr", "--api-url", vendor_farm.url, "--dry-run")
    assert "breezy board 'stark': 2 open jobs" in output
    assert "Company: Stark Industries" in output
    assert "nothing was saved" in output
    assert not Source.objects.exists()


def test_duplicates_however_written_are_refused_even_with_force(vendor_farm: VendorFarm):
    install_all(vendor_farm)
    add("https://apply.workable.com/hooli/", "--api-url", vendor_farm.url)
    for again in (
        "apply.workable.com/HOOLI",
        "https://www.apply.workable.com/hooli/j/9A2B3C4D5E?utm=x",
        "https://hooli.workable.com",
    ):
        with pytest.raises(CommandError, match="already watched"):
            add(again, "--api-url", vendor_farm.url, "--force")
    with pytest.raises(CommandError, match="already watched"):
        add("workable", "Hooli")
    assert Source.objects.count() == 1


def test_explicit_form_saves_without_fetching_and_can_preview(vendor_farm: VendorFarm):
    install_all(vendor_farm)
    output = add("workday", "ACME.WD5/External", "--api-url", vendor_farm.url, "--dry-run")
    assert "workday board 'acme.wd5/External': 3 open jobs" in output
    assert not Source.objects.exists()
    before = len(vendor_farm.requests)
    add("workday", "ACME.WD5/External", "--api-url", vendor_farm.url)
    assert Source.objects.get().token == "acme.wd5/External"
    assert len(vendor_farm.requests) == before
