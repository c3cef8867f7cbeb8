"""Turn a method's arguments into a URL: http.proto path encoding and query encoding.

No argument can re-target a request:

* path values must ``re.fullmatch`` their parameter's pattern (not a prefix match; ``$``
  does not accept a trailing newline), and are percent-encoded as google/api/http.proto
  prescribes: ``{var}`` keeps only ``[-_.~0-9A-Za-z]``, ``{+var}`` also ``/``. So ``?``,
  ``#``, ``%``, ``\\``, ``@``, ``:`` and spaces are always encoded — unlike RFC 6570
  reserved expansion, which lets ``?`` and ``#`` through;
* a path whose segments would include ``.`` or ``..`` is refused, since URL normalization
  (urllib3 does it, so do proxies) would turn it into another resource;
* CR, LF, NUL and every other byte outside those sets only ever reach the wire
  percent-encoded (``%0D``, ``%0A``, ``%00``), in paths and queries alike: a value cannot
  end the request line, add a header, add query parameters or end the query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from gapi_runtime.spec import MethodSpec, PathParam, repeated_items

#: Longest path value checked against a pattern. Bounds the work of a regular expression
#: on caller data (Google front ends refuse URLs far shorter than this anyway).
MAX_PATTERN_VALUE = 8192

# Text made only of characters that are never encoded skips quote(): most values are such.
_PLAIN = re.compile(r"[-_.~0-9A-Za-z]+").fullmatch
_PLAIN_WITH_SLASH = re.compile(r"[-_.~/0-9A-Za-z]+").fullmatch
# One encoder for all requests: json.dumps() with arguments builds a new encoder per call.
_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode_path_value(param_name: str, value: object, reserved: bool, pattern_holder: PathParam | None = None) -> str:
    """Check and percent-encode one path value.

    Raises ValueError, before any I/O, when the value is empty, does not fully match the
    parameter's pattern (or is longer than :data:`MAX_PATTERN_VALUE` when it has one), holds
    a ``.`` or ``..`` segment (URL normalization would turn it into another resource) or
    cannot be encoded as UTF-8.
    """
    text = value if type(value) is str else _scalar(value)
    if pattern_holder is not None and _sent_as_is(pattern_holder, text):
        return text
    if not text:
        raise ValueError(f"path parameter {param_name!r} must not be empty")
    if pattern_holder is not None:
        regex = pattern_holder.regex()
        if regex is not None:
            if len(text) > MAX_PATTERN_VALUE:
                raise ValueError(f"path parameter {param_name!r} is longer than {MAX_PATTERN_VALUE} characters")
            if regex.fullmatch(text) is None:
                raise ValueError(
                    f"path parameter {param_name!r}: {text!r} does not match the pattern {regex.pattern!r}"
                )
    if "." in text:
        segments = text.split("/") if reserved else (text,)
        if any(segment in (".", "..") for segment in segments):
            raise ValueError(f"path parameter {param_name!r}: {text!r} has a '.' or '..' segment")
    if (_PLAIN_WITH_SLASH if reserved else _PLAIN)(text) is not None:
        return text
    try:
        return quote(text, safe="/" if reserved else "")
    except UnicodeEncodeError:
        raise ValueError(f"path parameter {param_name!r}: {text!r} is not valid Unicode text") from None


def _sent_as_is(param: PathParam, text: str) -> bool:
    """True when ``text`` passes every check unchanged: it matches the pattern, needs no
    percent-encoding and has no ``.`` (so no dot segment). One regular-expression run
    (:meth:`PathParam.plain_match`); any other text takes :func:`encode_path_value`'s
    complete checks."""
    matcher = param._plain_match or param.plain_match()
    return len(text) <= MAX_PATTERN_VALUE and matcher(text) is not None


def build_path(spec: MethodSpec[Any], values: Sequence[object]) -> str:
    """The method's path (relative to the service URL) with ``values`` filled in."""
    parts = spec.path
    params = spec.path_params
    if not params:
        return parts[0]
    if len(params) == 1:  # most methods: no list to build and join
        param = params[0]
        value = values[0]
        # _sent_as_is, written out: this is every call's path
        matcher = param._plain_match or param.plain_match()
        if type(value) is not str or len(value) > MAX_PATTERN_VALUE or matcher(value) is None:
            value = encode_path_value(param.name, value, param.reserved, param)
        path = parts[0] + value + parts[1]
    else:
        pieces = [parts[0]]
        for index, param in enumerate(params):
            pieces.append(encode_path_value(param.name, values[index], param.reserved, param))
            pieces.append(parts[index + 1])
        path = "".join(pieces)
    if "." in path and any(segment in (".", "..") for segment in path.split("/")):
        # Values next to each other or next to a literal '.' can still form a dot segment.
        raise ValueError(f"{spec.id}: the request path {path!r} would have a '.' or '..' segment")
    return path


def build_query(names: Sequence[str], values: Sequence[object]) -> str:
    """``?a=1&b=x&b=y`` for the values that are not None (``""`` when there are none).

    Booleans become ``true``/``false``, sequences (not text) repeat the key, everything else is
    ``str()``-ed; keys and values are percent-encoded (space as ``%20``).
    """
    pairs: list[str] = []
    for name, value in zip(names, values, strict=True):
        if value is None:
            continue
        key = _quote_component(name)
        items = repeated_items(value)
        if items is not None:
            pairs.extend(f"{key}={_quote_component(_scalar(item))}" for item in items)
        else:
            pairs.append(f"{key}={_quote_component(_scalar(value))}")
    return "?" + "&".join(pairs) if pairs else ""


def _quote_component(text: str) -> str:
    """``quote(text, safe="")``, without its cost for text that needs no encoding."""
    return text if _PLAIN(text) is not None else quote(text, safe="")


def encode_json(body: Mapping[str, Any]) -> bytes:
    """A request body as compact UTF-8 JSON: what ``json.dumps`` gives, without building an encoder."""
    if not body:
        return b"{}"
    return _JSON_ENCODER.encode(body).encode("utf-8")


def decode_json(data: bytes) -> Any:
    """A response body's JSON value (``json.loads``); ``{}``, the empty message, is common enough to skip it."""
    if data == b"{}":
        return {}
    return json.loads(data)


def _scalar(value: object) -> str:
    if type(value) is str:
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TypeError(f"expected a string or number, got {type(value).__name__}")
