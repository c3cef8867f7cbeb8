"""Turn a method's arguments into a URL: http.proto path encoding and query encoding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from codegen.runtime.spec import MethodSpec


def encode_path_value(param_name: str, value: object, reserved: bool, pattern_holder: Any = None) -> str:
    """Check and percent-encode one path value.

    Raises ValueError, before any I/O, when the value is empty, does not fully match the
    parameter's pattern, holds a ``.`` or ``..`` segment (URL normalization would turn it
    into another resource) or cannot be encoded as UTF-8.
    """
    text = _scalar(value)
    if not text:
        raise ValueError(f"path parameter {param_name!r} must not be empty")
    if pattern_holder is not None:
        regex = pattern_holder.regex()
        if regex is not None and regex.fullmatch(text) is None:
            raise ValueError(f"path parameter {param_name!r}: {text!r} does not match the pattern {regex.pattern!r}")
    if "." in text:
        segments = text.split("/") if reserved else (text,)
        if any(segment in (".", "..") for segment in segments):
            raise ValueError(f"path parameter {param_name!r}: {text!r} has a '.' or '..' segment")
    try:
        return quote(text, safe="/" if reserved else "")
    except UnicodeEncodeError:
        raise ValueError(f"path parameter {param_name!r}: {text!r} is not valid Unicode text") from None


def build_path(spec: MethodSpec[Any], values: Sequence[object]) -> str:
    """The method's path (relative to the service URL) with ``values`` filled in."""
    parts = spec.path
    if not spec.path_params:
        return parts[0]
    pieces = [parts[0]]
    for index, param in enumerate(spec.path_params):
        pieces.append(encode_path_value(param.name, values[index], param.reserved, param))
        pieces.append(parts[index + 1])
    return "".join(pieces)


def build_query(names: Sequence[str], values: Sequence[object]) -> str:
    """``?a=1&b=x&b=y`` for the values that are not None (``""`` when there are none).

    Booleans become ``true``/``false``, sequences repeat the key, everything else is
    ``str()``-ed; keys and values are percent-encoded (space as ``%20``).
    """
    pairs: list[str] = []
    for name, value in zip(names, values, strict=True):
        if value is None:
            continue
        key = quote(name, safe="")
        if isinstance(value, (list, tuple)):
            pairs.extend(f"{key}={quote(_scalar(item), safe='')}" for item in value)
        else:
            pairs.append(f"{key}={quote(_scalar(value), safe='')}")
    return "?" + "&".join(pairs) if pairs else ""


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
