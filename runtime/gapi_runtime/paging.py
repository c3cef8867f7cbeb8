"""Page iteration for list methods, independent of how a page is fetched.

A list method pages when it takes a ``pageToken`` query parameter and its response has a
``nextPageToken`` (or, as bigquery ``tabledata.list`` answers, a ``pageToken``).
:func:`iterate` asks for pages until the token is missing or empty, sends
every other argument (``pageSize``, filters, …) unchanged with each page, and raises
:class:`~gapi_runtime.errors.PagingError` instead of looping forever when the server hands
out a token it handed out before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from gapi_runtime.errors import PagingError

__all__ = ["PAGE_TOKEN", "items", "items_of", "iterate", "next_token", "start"]

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


def iterate(
    fetch: Callable[[Sequence[object]], PageT],
    method_id: str,
    query_names: Sequence[str],
    query_values: Sequence[object],
    field: str = NEXT_PAGE_TOKEN,
) -> Iterator[PageT]:
    """Yield ``fetch(query_values)`` for each page, with ``pageToken`` set to the next token
    (the response's ``field`` member)."""
    index, values, seen = start(query_names, query_values)
    return _pages(fetch, method_id, index, values, seen, field)


def start(query_names: Sequence[str], query_values: Sequence[object]) -> tuple[int, list[object], set[str]]:
    """Where ``pageToken`` sits among the query values, a mutable copy of them, and the tokens
    seen so far (the starting token, if any: the server handing it out again is a repeat)."""
    index = list(query_names).index(PAGE_TOKEN)
    values = list(query_values)
    seen: set[str] = set()
    first = values[index]
    if isinstance(first, str) and first:
        seen.add(first)
    return index, values, seen


def _pages(
    fetch: Callable[[Sequence[object]], PageT],
    method_id: str,
    index: int,
    values: list[object],
    seen: set[str],
    field: str,
) -> Iterator[PageT]:
    while True:
        page = fetch(tuple(values))
        yield page
        token = next_token(page, seen, method_id, field)
        if token is None:
            return
        values[index] = token


def items(pages: Iterable[Any], field: str) -> Iterator[Any]:
    """The elements of each page's ``field`` list, across all pages (missing field: none)."""
    for page in pages:
        yield from items_of(page, field)


def items_of(page: object, field: str) -> Sequence[Any]:
    """The elements of one page's ``field`` list (none when the field is missing or empty)."""
    values = page.get(field) if isinstance(page, dict) else None
    return values if isinstance(values, list) else ()
