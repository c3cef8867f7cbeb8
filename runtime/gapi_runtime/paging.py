"""Page iteration for list methods, independent of how a page is fetched.

A list method pages when it takes a ``pageToken`` — a query parameter, or a member of its
request body (search methods that POST, such as aiplatform ``migratableResources.search``) —
and its response has a ``nextPageToken`` (or, as bigquery ``tabledata.list`` answers, a
``pageToken``). :func:`iterate` asks for pages until the token is missing or empty, sends
every other argument (``pageSize``, filters, the rest of the body) unchanged with each page,
and raises :class:`~gapi_runtime.errors.PagingError` instead of looping forever when the
server hands out a token it handed out before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from gapi_runtime.errors import PagingError

__all__ = ["PAGE_TOKEN", "PageRequests", "items", "items_of", "iterate", "next_token"]

#: The wire name of the request's page token and of the response's next token.
PAGE_TOKEN = "pageToken"
NEXT_PAGE_TOKEN = "nextPageToken"

PageT = TypeVar("PageT")


def next_token(page: object, seen: set[str], method_id: str, field: str = NEXT_PAGE_TOKEN) -> str | None:
    """The token of the page after ``page`` (its ``field`` member: ``nextPageToken``, or
    ``pageToken`` for the methods that answer so), or None at the end; records it in ``seen``."""
    token = page.get(field) if isinstance(page, dict) else None
    if not token:
        return None
    if not isinstance(token, str):
        raise PagingError(f"{method_id}: {field} is a {type(token).__name__}, not a string")
    if token in seen:
        shown = token if len(token) <= 40 else token[:37] + "..."
        raise PagingError(
            f"{method_id}: the server returned the page token {shown!r} a second time; "
            "stopping instead of fetching the same pages forever"
        )
    seen.add(token)
    return token


class PageRequests:
    """The query values and body of each page's request: the first page's are the call's; each
    next one has ``pageToken`` set, in the query when the method takes it there, else in (a
    copy of) the body. ``seen`` holds the tokens sent so far (the starting one, if any: the
    server handing it out again is a repeat)."""

    __slots__ = ("body", "index", "seen", "values")

    def __init__(self, query_names: Sequence[str], query_values: Sequence[object], body: object) -> None:
        self.values = tuple(query_values)
        self.body = body
        self.index = list(query_names).index(PAGE_TOKEN) if PAGE_TOKEN in query_names else -1
        if self.index >= 0:
            first = self.values[self.index]
        else:
            first = body.get(PAGE_TOKEN) if isinstance(body, Mapping) else None
        self.seen: set[str] = {first} if isinstance(first, str) and first else set()

    def advance(self, token: str) -> None:
        """Make the next request ask for the page of ``token``."""
        if self.index >= 0:
            values = list(self.values)
            values[self.index] = token
            self.values = tuple(values)
        else:
            self.body = {**(self.body if isinstance(self.body, Mapping) else {}), PAGE_TOKEN: token}


def iterate(
    fetch: Callable[[Sequence[object], object], PageT],
    method_id: str,
    query_names: Sequence[str],
    query_values: Sequence[object],
    field: str = NEXT_PAGE_TOKEN,
    body: object = None,
) -> Iterator[PageT]:
    """Yield ``fetch(query_values, body)`` for each page, with ``pageToken`` set to the next
    token (the response's ``field`` member)."""
    return _pages(fetch, method_id, PageRequests(query_names, query_values, body), field)


def _pages(
    fetch: Callable[[Sequence[object], object], PageT],
    method_id: str,
    requests: PageRequests,
    field: str,
) -> Iterator[PageT]:
    while True:
        page = fetch(requests.values, requests.body)
        yield page
        token = next_token(page, requests.seen, method_id, field)
        if token is None:
            return
        requests.advance(token)


def items(pages: Iterable[Any], field: str) -> Iterator[Any]:
    """The elements of each page's ``field`` list, across all pages (missing field: none)."""
    for page in pages:
        yield from items_of(page, field)


def items_of(page: object, field: str) -> Sequence[Any]:
    """The elements of one page's ``field`` list (none when the field is missing or empty)."""
    values = page.get(field) if isinstance(page, dict) else None
    return values if isinstance(values, list) else ()
