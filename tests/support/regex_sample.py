"""A deterministic example string for a regular expression (for synthesizing path values).

Walks the parsed pattern and picks the first alternative, the smallest useful repeat count
and a preferred character from each class; a repeat of a broad class (``[^/]+``, ``.*``)
takes ``token`` instead, so tests can push interesting characters through it. The result
is checked with ``re.fullmatch``; ``None`` when the walk could not satisfy the pattern.
"""

from __future__ import annotations

import re
import sys
from typing import Any

if sys.version_info >= (3, 11):
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _p  # type: ignore[attr-defined]
else:  # pragma: no cover - Python 3.10
    import sre_constants as _c
    import sre_parse as _p

#: Characters tried, in order, for one position of a character class.
_PREFERRED = "a0xA-_b1.~ "
_CATEGORY_SAMPLES = {
    _c.CATEGORY_DIGIT: "0",
    _c.CATEGORY_NOT_DIGIT: "a",
    _c.CATEGORY_SPACE: " ",
    _c.CATEGORY_NOT_SPACE: "a",
    _c.CATEGORY_WORD: "a",
    _c.CATEGORY_NOT_WORD: "-",
}


def sample(pattern: str, token: str = "x") -> str | None:
    """A string that fully matches ``pattern`` (``token`` fills broad repeats), or None."""
    try:
        parsed = _p.parse(pattern)
        result = _walk(list(parsed), token)
    except (re.error, _Unsatisfiable, RecursionError):
        return None
    if re.fullmatch(pattern, result) is None:
        if token != "x":
            return sample(pattern, "x")
        return None
    return result


class _Unsatisfiable(Exception):
    pass


def _walk(items: list[tuple[Any, Any]], token: str) -> str:
    return "".join(_one(op, av, token) for op, av in items)


def _one(op: Any, av: Any, token: str) -> str:
    if op is _c.LITERAL:
        return chr(av)
    if op is _c.NOT_LITERAL:
        return "a" if av != ord("a") else "b"
    if op is _c.ANY:
        return "a"
    if op is _c.IN:
        return _class_char(av)
    if op is _c.CATEGORY:
        return _CATEGORY_SAMPLES.get(av, "a")
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        low, high, item = av
        item = list(item)
        if len(item) == 1 and item[0][0] in (_c.IN, _c.ANY, _c.NOT_LITERAL, _c.CATEGORY):
            if low <= len(token) <= high and all(_accepts(item[0], char) for char in token):
                return token
        count = max(low, 1) if high >= 1 else 0
        return "".join(_walk(item, token) for _ in range(count))
    if op is _c.SUBPATTERN:
        return _walk(list(av[-1]), token)
    if op is _c.BRANCH:
        return _walk(list(av[1][0]), token)
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return ""
    raise _Unsatisfiable(str(op))


def _accepts(item: tuple[Any, Any], char: str) -> bool:
    op, av = item
    if op is _c.ANY:
        return char != "\n"
    if op is _c.NOT_LITERAL:
        return ord(char) != av
    if op is _c.CATEGORY:
        return bool(re.fullmatch(_category_regex(av), char))
    return _in_class(av, char)


def _category_regex(category: Any) -> str:
    return {
        _c.CATEGORY_DIGIT: r"\d",
        _c.CATEGORY_NOT_DIGIT: r"\D",
        _c.CATEGORY_SPACE: r"\s",
        _c.CATEGORY_NOT_SPACE: r"\S",
        _c.CATEGORY_WORD: r"\w",
        _c.CATEGORY_NOT_WORD: r"\W",
    }.get(category, ".")


def _in_class(items: list[tuple[Any, Any]], char: str) -> bool:
    negate = bool(items) and items[0][0] is _c.NEGATE
    found = False
    for op, av in items[1:] if negate else items:
        if op is _c.LITERAL and ord(char) == av:
            found = True
        elif op is _c.RANGE and av[0] <= ord(char) <= av[1]:
            found = True
        elif op is _c.CATEGORY and re.fullmatch(_category_regex(av), char):
            found = True
    return found != negate


def _class_char(items: list[tuple[Any, Any]]) -> str:
    for char in _PREFERRED:
        if _in_class(items, char):
            return char
    for op, av in items:
        if op is _c.LITERAL:
            return chr(av)
        if op is _c.RANGE:
            return chr(av[0])
    raise _Unsatisfiable("empty class")
