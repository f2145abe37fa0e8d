"""Personio's public XML feed: `GET https://{company}.jobs.personio.de/xml?language=en`, every
published position of the company in one document (`<workzag-jobs><position>...`).

The feed is parsed with defusedxml: entity expansion ("billion laughs"), external entities
and DTD tricks are refused instead of followed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html import escape
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from jobs.postings import Posting
from jobs.scrapers import fields
from jobs.scrapers.base import PayloadError, parse_each, path_segment
from jobs.scrapers.board import Board
from jobs.scrapers.http import HttpClient

# Personio's values of <employmentType>; <schedule> says full- or part-time.
_EMPLOYMENT = {
    "permanent": "",
    "intern": "Internship",
    "trainee": "Internship",
    "freelance": "Freelance",
    "temporary": "Temporary",
    "working_student": "Working student",
}


class PersonioAdapter(Board):
    kind = "personio"
    vendor = "Personio"
    base_url = "https://{token}.jobs.personio.de"

    path_template = "/xml?language=en"

    async def fetch(self, client: HttpClient, token: str, api_url: str | None) -> list[Any]:
        page = await client.get_page(self.endpoint(token, api_url))
        # The positions carry no URL of their own: the token builds them.
        return [{"token": token, "xml": page.text}]

    def parse(self, payloads: list[Any], *, company: str) -> list[Posting]:
        postings: list[Posting] = []
        for raw in payloads:
            envelope = fields.require_dict(raw, "Personio fetch")
            token = fields.clean_text(envelope.get("token"))
            root = parse_xml(envelope.get("xml"))
            postings += _parse_positions(root.findall("position"), token, company)
        return postings


def parse_xml(text: object) -> ET.Element:
    if not isinstance(text, str) or not text.strip():
        raise PayloadError("Personio feed is empty")
    try:
        root = fromstring(text.encode("utf-8"))
    except DefusedXmlException as error:
        raise PayloadError(f"Personio feed refused: {type(error).__name__}") from error
    except ET.ParseError as error:
        raise PayloadError(f"Personio feed is not XML: {error}") from error
    if root.tag != "workzag-jobs":
        raise PayloadError(f"Personio feed's root is <{root.tag}>, not <workzag-jobs>")
    return root


def _parse_positions(positions: list[ET.Element], token: str, company: str) -> list[Posting]:
    return parse_each(
        positions, lambda position: _posting(position, token, company), where="Personio"
    )


def _text(element: ET.Element, path: str) -> str:
    found = element.find(path)
    return fields.clean_text(found.text if found is not None else "")


def _posting(position: ET.Element, token: str, company: str) -> Posting:
    external_id = _text(position, "id")
    if not external_id:
        raise PayloadError("<id> is missing or empty")
    title = _text(position, "name")
    if not title:
        raise PayloadError("<name> is missing or empty")
    offices = [_text(position, "office")] + [
        fields.clean_text(office.text) for office in position.findall("additionalOffices/office")
    ]
    url = f"{adapter.base(token)}/job/{path_segment(external_id)}"
    return Posting(
        external_id=external_id,
        title=title,
        company=_text(position, "subcompany") or company,
        url=url,
        location=fields.join_unique(offices),
        workplace=fields.infer_workplace(offices),
        department=_text(position, "department") or _text(position, "recruitingCategory"),
        employment_type=_employment_type(position),
        description_html=_description(position),
        apply_url=f"{url}#apply",
        posted_at=fields.parse_datetime(_text(position, "createdAt")),
    )


def _employment_type(position: ET.Element) -> str:
    kind = _EMPLOYMENT.get(_text(position, "employmentType").lower())
    schedule = fields.employment_type(_text(position, "schedule"))
    if kind is None:  # a value Personio did not document: keep what it says
        kind = fields.employment_type(_text(position, "employmentType"))
    return kind or schedule


def _description(position: ET.Element) -> str:
    """Each <jobDescription> is a titled HTML section (its value is CDATA)."""
    parts: list[str] = []
    for section in position.findall("jobDescriptions/jobDescription"):
        name = _text(section, "name")
        value_element = section.find("value")
        value = (value_element.text or "") if value_element is not None else ""
        if not value.strip():
            continue
        if name:
            parts.append(f"<h3>{escape(name)}</h3>")
        parts.append(value.strip())
    return "\n".join(parts)


adapter = PersonioAdapter()
