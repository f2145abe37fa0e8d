"""OpenAPI details drf-spectacular cannot infer: the error answers each operation may give,
and that request bodies take no fields beyond the documented ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

from jobs.api.authentication import KEY_HEADER
from jobs.api.serializers import ErrorSerializer
from jobsentinel.apikeys import keys_required

BAD_REQUEST = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="Invalid input: an object mapping each bad field or parameter to a list of "
    'messages, e.g. {"min_score": ["A valid number is required."]}.',
)
UNAUTHORIZED = OpenApiResponse(
    response=ErrorSerializer,
    description="API keys are configured and the request has no valid key or session.",
)
FORBIDDEN = OpenApiResponse(
    response=ErrorSerializer, description="A session-authenticated write without a CSRF token."
)
NOT_FOUND = OpenApiResponse(response=ErrorSerializer, description="No such object (or page).")
CONFLICT = OpenApiResponse(
    response=ErrorSerializer, description="The source cannot be scraped now (disabled or busy)."
)

V = TypeVar("V", bound=type)

READ_ERRORS: dict[int, OpenApiResponse] = {401: UNAUTHORIZED}
# Lists answer 404 for a page past the end.
PAGE_ERRORS: dict[int, OpenApiResponse] = {401: UNAUTHORIZED, 404: NOT_FOUND}
FILTERED_LIST_ERRORS: dict[int, OpenApiResponse] = {400: BAD_REQUEST, **PAGE_ERRORS}
DETAIL_ERRORS: dict[int, OpenApiResponse] = {401: UNAUTHORIZED, 404: NOT_FOUND}
WRITE_ERRORS: dict[int, OpenApiResponse] = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
}


def filtered_collection(
    serializer: type[Any], filters: type[Any], *, list_summary: str, detail_summary: str
) -> Callable[[V], V]:
    """The schema of a read-only, filtered collection's `list` and `retrieve`, as a class
    decorator: every such collection documents the same errors."""
    return extend_schema_view(
        list=extend_schema(
            summary=list_summary,
            parameters=[filters],
            responses={200: serializer(many=True), **FILTERED_LIST_ERRORS},
        ),
        retrieve=extend_schema(
            summary=detail_summary, responses={200: serializer, **DETAIL_ERRORS}
        ),
    )


def forbid_unknown_request_fields(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: mark request bodies `additionalProperties: false`, which is what
    the strict write serializers enforce (an unknown field is a 400)."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, component in schemas.items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents both key headers as alternatives; and, when the server runs without keys,
    that no credentials are needed at all. Registered by being imported (views import this
    module)."""

    target_class = "jobs.api.authentication.ApiKeyAuthentication"
    name = ["bearerAuth", "apiKeyAuth"]

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict[str, Any]]:
        return [
            {"type": "http", "scheme": "bearer", "description": "An API key as a bearer token."},
            {"type": "apiKey", "in": "header", "name": KEY_HEADER},
        ]

    def get_security_requirement(self, auto_schema: AutoSchema) -> list[dict[str, list[Any]]]:
        requirements: list[dict[str, list[Any]]] = [{"bearerAuth": []}, {"apiKeyAuth": []}]
        if not keys_required():
            requirements.append({})
        return requirements
