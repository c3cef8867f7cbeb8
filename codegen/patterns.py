"""Check the regular expressions a discovery document gives its parameters.

Generated clients ``re.fullmatch`` every path value against its parameter's ``pattern``
before sending (see :mod:`gapi_runtime.encoding`), so a pattern is code we run on the
caller's data. :func:`problem` returns why a pattern must not be used, or ``None``:

* it must compile with Python's :mod:`re`;
* back-references and conditionals are refused (they defeat the analysis below and no
  real document uses them in a path pattern);
* patterns whose backtracking can explode are refused. The analysis is structural and
  conservative, in the spirit of star-height checkers such as safe-regex, refined so that
  delimited repetitions like ``(?:[-a-z0-9]{1,63}\\.)*`` (compute's zone names) pass:

  - a repetition whose body can match the empty string (``(a?)*``);
  - a repetition whose body holds another repetition, unless the body starts or ends with
    a single-character *delimiter* that nothing else in the body can match (``(\\w+,)*``
    is fine: every iteration ends at a ``,``; ``(a+)+`` and ``(.*a){20}`` are not);
  - alternatives inside a repetition that can start with the same character, unless they
    are plain strings none of which is a prefix of another (``(a|ab)*`` is refused);
  - two repetitions in one sequence that compete for the same characters — the end of
    the first can also be matched by what follows it, and vice versa (``.*.*``,
    ``a*b*a*``; ``[^/]+/.*`` is fine because ``/`` ends the first).

Character sets are compared on a finite sample alphabet (ASCII, a few non-ASCII
representatives and every literal of the pattern), which is exact for the ASCII classes
real documents use and errs towards refusing for exotic ones.
"""

from __future__ import annotations

import functools
import re
import sys
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

if sys.version_info >= (3, 11):
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _p  # type: ignore[attr-defined]
else:  # pragma: no cover - Python 3.10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import sre_constants as _c
        import sre_parse as _p

#: Longest pattern accepted (the longest in the bundled documents is under 700 characters).
MAX_PATTERN_LENGTH = 4096

_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT}
if hasattr(_c, "POSSESSIVE_REPEAT"):
    _REPEATS.add(_c.POSSESSIVE_REPEAT)
_GROUPS = {_c.SUBPATTERN}
if hasattr(_c, "ATOMIC_GROUP"):
    _GROUPS.add(_c.ATOMIC_GROUP)
_SINGLE = {_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN}
_ZERO_WIDTH = {_c.AT, _c.ASSERT, _c.ASSERT_NOT}
_REFUSED = {_c.GROUPREF, _c.GROUPREF_EXISTS}

#: Characters every class is evaluated on, besides the pattern's own literals.
_BASE_ALPHABET = frozenset(chr(code) for code in range(128)) | frozenset("\x85\xa0é߿\u2028\u3000中\U0001f600")

_CATEGORIES = {
    name: re.compile(expression)
    for name, expression in (
        ("CATEGORY_DIGIT", r"\d"),
        ("CATEGORY_NOT_DIGIT", r"\D"),
        ("CATEGORY_SPACE", r"\s"),
        ("CATEGORY_NOT_SPACE", r"\S"),
        ("CATEGORY_WORD", r"\w"),
        ("CATEGORY_NOT_WORD", r"\W"),
        ("CATEGORY_LINEBREAK", r"\n"),
        ("CATEGORY_NOT_LINEBREAK", r"[^\n]"),
    )
}


#: The shape of nearly every real path pattern, ``^projects/[^/]+/locations/[^/]+$``:
#: ``/``-separated plain words and ``[^/]+``, optionally ending in ``.*``. Linear to match,
#: so the analysis is skipped.
_SEGMENT = r"(?:[A-Za-z0-9_:@~-]+|\[\^/\]\+)"
_RESOURCE_NAME = re.compile(rf"\^?{_SEGMENT}(?:/{_SEGMENT})*(?:/\.\*)?\$?")


class _Risky(Exception):
    pass


@functools.lru_cache(maxsize=8192)
def problem(pattern: str) -> str | None:
    """Why ``pattern`` may not be run on path values, or ``None`` when it is fine."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"pattern is longer than {MAX_PATTERN_LENGTH} characters"
    if _RESOURCE_NAME.fullmatch(pattern):
        return None
    compiled = compile_problem(pattern)
    if compiled is not None:
        return compiled
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = _p.parse(pattern)
        _Analysis(pattern, parsed.state.flags).check(list(parsed))
    except _Risky as exc:
        return str(exc)
    except RecursionError:
        return "pattern is nested too deeply"
    return None


def compile_problem(pattern: str) -> str | None:
    """Why Python's :mod:`re` cannot compile ``pattern``, or ``None``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern)
    except re.error as exc:
        return f"pattern does not compile: {exc.msg}" + (f" at position {exc.pos}" if exc.pos is not None else "")
    except (RecursionError, OverflowError, ValueError, MemoryError) as exc:
        return f"pattern does not compile: {type(exc).__name__}"
    return None


@dataclass(frozen=True)
class _Info:
    """What a piece of a pattern can match, summarized."""

    nullable: bool
    first: frozenset[str]
    last: frozenset[str]
    chars: frozenset[str]
    loops: bool  # holds a repetition of more than one iteration


_EMPTY = _Info(True, frozenset(), frozenset(), frozenset(), False)


class _Analysis:
    def __init__(self, pattern: str, flags: int) -> None:
        self.ignore_case = bool(flags & re.IGNORECASE)
        self.dot_all = bool(flags & re.DOTALL)
        alphabet = set(_BASE_ALPHABET) | set(pattern)
        if self.ignore_case:
            alphabet |= {char.swapcase() for char in alphabet if len(char.swapcase()) == 1}
        self.alphabet = frozenset(alphabet)
        self._items: dict[tuple[Any, int], _Info] = {}

    # --- summaries -------------------------------------------------------------------
    def info(self, items: Sequence[tuple[Any, Any]]) -> _Info:
        parts = [self.item(op, av) for op, av in items]
        return _sequence(parts)

    def item(self, op: Any, av: Any) -> _Info:
        key = (op, id(av))
        cached = self._items.get(key)
        if cached is None:
            cached = self._items[key] = self._item(op, av)
        return cached

    def _item(self, op: Any, av: Any) -> _Info:
        if op in _SINGLE:
            chars = self.charset(op, av)
            return _Info(False, chars, chars, chars, False)
        if op in _ZERO_WIDTH:
            return _EMPTY
        if op in _GROUPS:
            return self.info(av[-1])
        if op is _c.BRANCH:
            infos = [self.info(branch) for branch in av[1]]
            return _Info(
                any(info.nullable for info in infos),
                frozenset().union(*(info.first for info in infos)),
                frozenset().union(*(info.last for info in infos)),
                frozenset().union(*(info.chars for info in infos)),
                any(info.loops for info in infos),
            )
        if op in _REPEATS:
            low, high, body = av
            inner = self.info(body)
            return _Info(low == 0 or inner.nullable, inner.first, inner.last, inner.chars, high > 1 or inner.loops)
        if op in _REFUSED:
            raise _Risky("back-references and conditionals are not allowed in patterns")
        raise _Risky(f"unsupported pattern construct {op}")

    def charset(self, op: Any, av: Any) -> frozenset[str]:
        if op is _c.LITERAL:
            matches = {chr(av)}
        elif op is _c.NOT_LITERAL:
            matches = {char for char in self.alphabet if char != chr(av)}
        elif op is _c.ANY:
            matches = {char for char in self.alphabet if self.dot_all or char != "\n"}
        else:
            matches = {char for char in self.alphabet if self.in_class(av, char)}
        if self.ignore_case:
            matches |= {char.swapcase() for char in matches if len(char.swapcase()) == 1}
        return frozenset(matches)

    def in_class(self, items: Iterable[tuple[Any, Any]], char: str) -> bool:
        negate = False
        hit = False
        code = ord(char)
        for op, av in items:
            if op is _c.NEGATE:
                negate = True
            elif op is _c.LITERAL:
                hit = hit or code == av
            elif op is _c.RANGE:
                hit = hit or av[0] <= code <= av[1]
            elif op is _c.CATEGORY:
                regex = _CATEGORIES.get(str(av))
                if regex is None:
                    raise _Risky(f"unsupported character class {av}")
                hit = hit or regex.fullmatch(char) is not None
            else:
                raise _Risky(f"unsupported character class item {op}")
        return hit != negate

    # --- risk checks -----------------------------------------------------------------
    def check(self, items: list[tuple[Any, Any]]) -> None:
        """Check the sequence ``items`` and everything nested in it."""
        self.check_sequence(items)
        for op, av in items:
            if op in _GROUPS:
                self.check(list(av[-1]))
            elif op in (_c.ASSERT, _c.ASSERT_NOT):
                self.check(list(av[1]))
            elif op is _c.BRANCH:
                for branch in av[1]:
                    self.check(list(branch))
            elif op in _REPEATS:
                self.check_repeat(av[0], av[1], list(av[2]))
                self.check(list(av[2]))
            elif op in _REFUSED:
                self.item(op, av)  # raises

    def check_repeat(self, low: int, high: int, body: list[tuple[Any, Any]]) -> None:
        if high <= 1:
            return
        inner = self.info(body)
        if inner.nullable:
            raise _Risky("a repeated group can match the empty string")
        if self.empty_twice(body):
            raise _Risky("a repeated group holds an optional part that can also match the empty string")
        for branch_set in self.branches(body):
            self.check_alternatives(branch_set)
        elements = _flatten(body)
        if all(self.rigid(op, av) for op, av in elements):
            return  # every iteration is matched one way only
        index = self.delimiter(elements)
        if index is None:
            if inner.loops:
                raise _Risky("nested quantifiers without a delimiter risk catastrophic backtracking")
            raise _Risky("a repeated group of varying length needs a delimiter at its start or end")
        # The delimiter fixes where each iteration ends; inside one, the match must be unique too,
        # or the ways multiply across iterations.
        self.check_pairs(elements[:index] + elements[index + 1 :], optional=True)

    def empty_twice(self, items: Iterable[tuple[Any, Any]]) -> bool:
        """True if some quantified part can match the empty string in two ways (``(a*)?``)."""
        for op, av in items:
            if op in _REPEATS:
                if av[0] < av[1] and self.info(av[2]).nullable:
                    return True
                if self.empty_twice(av[2]):
                    return True
            elif op in _GROUPS:
                if self.empty_twice(av[-1]):
                    return True
            elif op is _c.BRANCH:
                if sum(1 for branch in av[1] if self.info(branch).nullable) > 1:
                    return True
                if any(self.empty_twice(branch) for branch in av[1]):
                    return True
        return False

    def rigid(self, op: Any, av: Any) -> bool:
        """True if the element always matches one way: a character, a fixed count of rigid
        elements, or alternatives that are plain strings (prefix-free: see check_alternatives)."""
        if op in _SINGLE:
            return True
        if op in _REPEATS:
            return bool(av[0] == av[1] and all(self.rigid(o, a) for o, a in _flatten(av[2])))
        if op is _c.BRANCH:
            return all(_literal_text(branch) is not None for branch in av[1])
        return False

    def delimiter(self, elements: list[tuple[Any, Any]]) -> int | None:
        """The index of a first or last single character that nothing else in ``elements`` matches."""
        for index in (0, len(elements) - 1):
            op, av = elements[index]
            if op not in _SINGLE:
                continue
            others = self.info(elements[:index] + elements[index + 1 :]).chars
            if not self.charset(op, av) & others:
                return index
        return None

    def branches(self, items: list[tuple[Any, Any]]) -> Iterable[list[list[tuple[Any, Any]]]]:
        for op, av in items:
            if op is _c.BRANCH:
                yield [list(branch) for branch in av[1]]
                for branch in av[1]:
                    yield from self.branches(list(branch))
            elif op in _GROUPS:
                yield from self.branches(list(av[-1]))
            elif op in _REPEATS:
                yield from self.branches(list(av[2]))

    def check_alternatives(self, branches: list[list[tuple[Any, Any]]]) -> None:
        literals = [_literal_text(branch) for branch in branches]
        if all(text is not None for text in literals):
            words = [text for text in literals if text is not None]
            if self.ignore_case:
                words = [word.casefold() for word in words]
            for index, word in enumerate(words):
                for other in words[index + 1 :]:
                    if word.startswith(other) or other.startswith(word):
                        raise _Risky("alternatives inside a repetition overlap (one is a prefix of another)")
            return
        summaries = [self.info(branch) for branch in branches]
        for index, summary in enumerate(summaries):
            for second in summaries[index + 1 :]:
                if summary.nullable or second.nullable or summary.first & second.first:
                    raise _Risky("alternatives inside a repetition can match the same text")

    def check_sequence(self, items: list[tuple[Any, Any]]) -> None:
        self.check_pairs(_flatten(items), optional=False)

    def check_pairs(self, elements: list[tuple[Any, Any]], optional: bool) -> None:
        """Refuse two variable elements that compete for the same characters.

        Variable: repetitions of more than one iteration and anything holding one, and (with
        ``optional``, inside repeated groups) optional parts and alternatives too.
        """

        def variable(op: Any, av: Any) -> bool:
            if self.item(op, av).loops:  # a repetition, or an optional group or alternative holding one
                return True
            if op in _REPEATS:
                return bool(optional and av[0] != av[1])
            return op is _c.BRANCH and optional and not self.rigid(op, av)

        indexes = [index for index, (op, av) in enumerate(elements) if variable(op, av)]
        if len(indexes) < 2:
            return
        infos = [self.item(op, av) for op, av in elements]
        for position, start in enumerate(indexes):
            first = infos[start]
            for end in indexes[position + 1 :]:
                following = _sequence(infos[start + 1 : end + 1])
                if following.first & first.chars and first.last & following.chars:
                    raise _Risky("adjacent quantifiers compete for the same characters (polynomial backtracking)")


def _sequence(parts: Sequence[_Info]) -> _Info:
    first: set[str] = set()
    for part in parts:
        first |= part.first
        if not part.nullable:
            break
    last: set[str] = set()
    for part in reversed(parts):
        last |= part.last
        if not part.nullable:
            break
    return _Info(
        all(part.nullable for part in parts),
        frozenset(first),
        frozenset(last),
        frozenset().union(*(part.chars for part in parts)),
        any(part.loops for part in parts),
    )


def _flatten(items: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """The sequence with groups inlined and zero-width assertions dropped."""
    result: list[tuple[Any, Any]] = []
    for op, av in items:
        if op in _GROUPS:
            result.extend(_flatten(av[-1]))
        elif op not in _ZERO_WIDTH:
            result.append((op, av))
    return result


def _literal_text(items: Iterable[tuple[Any, Any]]) -> str | None:
    """The fixed string a branch matches, or None when it is not a plain string."""
    chars = []
    for op, av in _flatten(items):
        if op is not _c.LITERAL:
            return None
        chars.append(chr(av))
    return "".join(chars)
