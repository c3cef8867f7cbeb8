"""Per-method request plans, built once when a generated module is imported."""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Generic, TypeVar

ResponseT = TypeVar("ResponseT")
_Matcher = Callable[[str], object]
#: A method's request encoder (see ``gapi_runtime.client.request_encoder``): base URL, path
#: values, query values, body, check enums, warning stack level → URL and encoded body.
RequestEncoder = Callable[[str, Sequence[object], Sequence[object], object, bool, int], tuple[str, "bytes | None"]]


#: The shortcut of a method whose path has one variable (see ``gapi_runtime.client.request_encoder``):
#: ``(head, tail, sent_as_is, query_count, no_body)``. A value that ``sent_as_is`` accepts (and
#: no longer than ``encoding.MAX_PATTERN_VALUE``) makes the path ``head + value + tail`` as it
#: is; a call that also sets none of the ``query_count`` query values and gives no body sends
#: ``no_body``.
PlainPath = tuple[str, str, _Matcher, int, "bytes | None"]


def _never(text: str) -> None:
    """A matcher that accepts nothing."""
    return None


# A pattern made of literal characters that are never encoded and of ``[^/]``/``.`` wildcards
# repeated with ``+`` or ``*`` (anchored or not): most Google Cloud path patterns, such as
# ``^projects/[^/]+/locations/[^/]+$``. Each such pattern is a concatenation of one-character
# classes, so narrowing every class to the never-encoded characters matches exactly the values
# that both match the pattern and need no encoding.
_SIMPLE_PATTERN = re.compile(r"\^?(?:[-_~0-9A-Za-z/]|\[\^/\][+*]|\.[+*])*\$?\Z")
_PLAIN_CHARACTER = "[-_~0-9A-Za-z]"
_PLAIN_CHARACTER_OR_SLASH = "[-_~/0-9A-Za-z]"
# A ``[^/]+`` run before a "/" or at the end: narrowed, it never needs to give characters back,
# so it is made possessive (``++``): the matcher then keeps no backtracking state (~8% faster).
# (A string: compiled by ``re``'s cache at the first matcher, not when this module is imported.)
_RUN_BEFORE_SLASH_OR_END = r"\[\^/\]\+(?=/|\Z)"
#: One or more, possessive where ``re`` has it (Python 3.11+); Python 3.10 gets the plain ``+``,
#: which matches exactly the same values here (the runs it is used for never backtrack usefully).
_ONE_OR_MORE = "++" if sys.version_info >= (3, 11) else "+"


def _plain_matcher(pattern: str | None, reserved: bool) -> _Matcher:
    """:meth:`PathParam.plain_match`'s expression for this pattern and kind of variable."""
    plain = _PLAIN_CHARACTER_OR_SLASH if reserved else _PLAIN_CHARACTER
    if pattern is None:
        return re.compile(plain + _ONE_OR_MORE).fullmatch
    literals = pattern.replace("[^/]", "")
    if _SIMPLE_PATTERN.match(pattern) and (reserved or "/" not in literals):
        narrowed = pattern.removeprefix("^").removesuffix("$")
        narrowed = re.sub(_RUN_BEFORE_SLASH_OR_END, _PLAIN_CHARACTER + _ONE_OR_MORE, narrowed)
        narrowed = narrowed.replace("[^/]", _PLAIN_CHARACTER).replace(".", plain)
        compiled = re.compile(narrowed)
        if compiled.fullmatch("") is None:  # an empty value is refused by the complete checks
            return compiled.fullmatch
    try:  # the pattern as a lookahead: both must match the whole text
        with warnings.catch_warnings():  # Python 3.10 only warns about misplaced global flags
            warnings.simplefilter("error", DeprecationWarning)
            return re.compile(rf"(?=(?:{pattern})\Z){plain}{_ONE_OR_MORE}").fullmatch
    except (re.error, DeprecationWarning):  # e.g. global flags that must stay first: no shortcut
        return _never


class _Frozen:
    """Immutable, compared and hashed by its fields, with a dataclass-like repr.

    Hand-written rather than ``@dataclass(frozen=True)``: a dataclass is compiled with
    ``exec`` when its module is imported, which cost more than everything else in this module.
    """

    __slots__ = ()
    _FIELDS: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickling and copy.copy() rebuild through __init__ (assignment is refused).
        return (self.__class__, self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._FIELDS)
        return f"{type(self).__name__}({fields})"


class PathParam(_Frozen):
    """One ``{var}`` / ``{+var}`` in a method's path.

    ``reserved`` (``{+var}``) keeps ``/`` unencoded; either way every other character
    outside ``[-_.~0-9A-Za-z]`` is percent-encoded, as google/api/http.proto prescribes.
    """

    __slots__ = ("_plain_match", "_regex", "name", "pattern", "reserved")
    _FIELDS = ("name", "reserved", "pattern")
    name: str
    reserved: bool
    pattern: str | None
    _regex: re.Pattern[str] | None
    _plain_match: _Matcher | None

    def __init__(self, name: str, reserved: bool = False, pattern: str | None = None) -> None:
        set_field = object.__setattr__
        set_field(self, "name", name)
        set_field(self, "reserved", reserved)
        set_field(self, "pattern", pattern)
        set_field(self, "_regex", None)
        set_field(self, "_plain_match", None)

    def plain_match(self) -> _Matcher:
        """``fullmatch`` of one expression that accepts exactly the values sent as they are:
        text that matches the pattern (if any), holds only characters that are never
        percent-encoded (``[-_~0-9A-Za-z]``, and ``/`` when reserved) and no ``.`` (so no dot
        segment). Anything else it refuses, and the caller takes the complete checks (which
        raise, or percent-encode, or accept a value with dots).

        Compiled on first use. One scan per value: a simple pattern (see
        :data:`_SIMPLE_PATTERN`) is narrowed to those characters; any other pattern becomes
        a lookahead in front of them.
        """
        matcher = self._plain_match
        if matcher is None:
            matcher = _plain_matcher(self.pattern, self.reserved)
            object.__setattr__(self, "_plain_match", matcher)
        return matcher

    def regex(self) -> re.Pattern[str] | None:
        """The compiled pattern, compiled on first use so imports stay cheap."""
        if self.pattern is None:
            return None
        compiled = self._regex
        if compiled is None:
            compiled = re.compile(self.pattern)
            object.__setattr__(self, "_regex", compiled)
        return compiled


class EnumParam(_Frozen):
    """A parameter whose document lists the values it may take (an ``enum``).

    ``name`` is the Python parameter name (for messages), ``wire`` its name on the wire
    (the query name, or the path variable's Python name for path parameters), ``values`` the
    allowed values in the document's order. Clients check values before any I/O unless
    constructed with ``check_enums=False`` (for values newer than the document).
    """

    __slots__ = ("in_path", "name", "values", "wire")
    _FIELDS = ("name", "wire", "values", "in_path")
    name: str
    wire: str
    values: tuple[str, ...]
    in_path: bool

    def __init__(self, name: str, wire: str, values: tuple[str, ...], in_path: bool = False) -> None:
        set_field = object.__setattr__
        set_field(self, "name", name)
        set_field(self, "wire", wire)
        set_field(self, "values", values)
        set_field(self, "in_path", in_path)


_ONE_VALUE = (str, bytes, bytearray)


def repeated_items(value: object) -> Sequence[object] | None:
    """The values of a repeated parameter given as a sequence (a list, a tuple, a ``range``,
    any other ``Sequence`` but text), else None: one value, sent as a sequence of one."""
    if isinstance(value, (list, tuple)):
        return value
    if isinstance(value, (*_ONE_VALUE, int, float)) or not isinstance(value, Sequence):
        return None
    return value


def check_enums(spec: MethodSpec[Any], path_values: Sequence[object], query_values: Sequence[object]) -> None:
    """ValueError naming the parameter and its allowed values when a value is not one of them."""
    for enum in spec.enums:
        if enum.in_path:
            names = [param.name for param in spec.path_params]
            values = path_values
        else:
            names = list(spec.query)
            values = query_values
        try:
            value = values[names.index(enum.wire)]
        except (ValueError, IndexError):
            continue
        if value is None:
            continue
        for item in repeated_items(value) or (value,):
            if item not in enum.values:
                allowed = ", ".join(repr(v) for v in enum.values)
                raise ValueError(
                    f"{spec.id}: {enum.name}={item!r} is not one of the values the API's document lists "
                    f"({allowed}); construct the client with check_enums=False to send values newer than the document"
                )


_REQUEST_HEADERS: dict[tuple[bool, str], tuple[dict[str, str], Mapping[str, str]]] = {}


def _request_headers(has_body: bool, api_version: str) -> tuple[dict[str, str], Mapping[str, str]]:
    """The headers a method adds to the client's, as a dict and as its read-only view, shared
    by the methods that add the same ones."""
    key = (has_body, api_version)
    headers = _REQUEST_HEADERS.get(key)
    if headers is None:
        own = {"content-type": "application/json"} if has_body else {}
        if api_version:
            own["x-goog-api-version"] = api_version
        headers = _REQUEST_HEADERS[key] = (own, MappingProxyType(own))
    return headers


class MethodSpec(_Frozen, Generic[ResponseT]):
    """Everything the runtime needs to send one method's request.

    ``path`` holds the literal parts around the variables: ``len(path) == len(path_params) + 1``.
    ``query`` holds the wire names of the query parameters, in the order the generated
    method passes their values.
    """

    __slots__ = (
        "_encoder",
        "_header_dict",
        "_plain",
        "api_version",
        "data_wrapper",
        "deprecated",
        "enums",
        "has_body",
        "http_method",
        "id",
        "path",
        "path_params",
        "query",
        "request_headers",
    )
    _FIELDS = (
        "id",
        "http_method",
        "path",
        "path_params",
        "query",
        "has_body",
        "api_version",
        "data_wrapper",
        "deprecated",
        "enums",
    )
    id: str
    http_method: str
    path: tuple[str, ...]
    path_params: tuple[PathParam, ...]
    query: tuple[str, ...]
    has_body: bool
    api_version: str
    data_wrapper: bool
    deprecated: bool
    enums: tuple[EnumParam, ...]
    #: Derived (not a field): the headers every request of the method adds to the client's
    #: (``content-type`` when it sends a JSON body, ``x-goog-api-version``).
    request_headers: Mapping[str, str]
    _header_dict: dict[str, str]  # the same headers, for dict.update() at full speed (never modified)
    _encoder: RequestEncoder | None  # set at the first call (gapi_runtime.client.request_encoder)
    _plain: PlainPath | None  # set with _encoder, for a one-variable path

    def __init__(
        self,
        id: str,
        http_method: str,
        path: tuple[str, ...],
        path_params: tuple[PathParam, ...] = (),
        query: tuple[str, ...] = (),
        has_body: bool = False,
        api_version: str = "",
        data_wrapper: bool = False,
        deprecated: bool = False,
        enums: tuple[EnumParam, ...] = (),
    ) -> None:
        set_field = object.__setattr__
        set_field(self, "id", id)
        set_field(self, "http_method", http_method)
        set_field(self, "path", path)
        set_field(self, "path_params", path_params)
        set_field(self, "query", query)
        set_field(self, "has_body", has_body)
        set_field(self, "api_version", api_version)
        set_field(self, "data_wrapper", data_wrapper)
        set_field(self, "deprecated", deprecated)
        set_field(self, "enums", enums)
        header_dict, request_headers = _request_headers(has_body, api_version)
        set_field(self, "request_headers", request_headers)
        set_field(self, "_header_dict", header_dict)
        set_field(self, "_encoder", None)
        set_field(self, "_plain", None)
