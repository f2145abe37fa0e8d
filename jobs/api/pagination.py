"""Page-number pagination with a client-chosen page size, capped so one request cannot ask
for the whole table."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class ApiPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200
