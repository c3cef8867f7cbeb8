"""Per-method request plans, built once when a generated module is imported."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Generic, TypeVar

ResponseT = TypeVar("ResponseT")


@dataclass(frozen=True)
class PathParam:
    """One ``{var}`` / ``{+var}`` in a method's path.

    ``reserved`` (``{+var}``) keeps ``/`` unencoded; either way every other character
    outside ``[-_.~0-9A-Za-z]`` is percent-encoded, as google/api/http.proto prescribes.
    """

    name: str
    reserved: bool = False
    pattern: str | None = None
    _regex: list[re.Pattern[str]] = field(default_factory=list, repr=False, compare=False)

    def regex(self) -> re.Pattern[str] | None:
        """The compiled pattern, compiled on first use so imports stay cheap."""
        if self.pattern is None:
            return None
        if not self._regex:
            self._regex.append(re.compile(self.pattern))
        return self._regex[0]


@dataclass(frozen=True)
class MethodSpec(Generic[ResponseT]):
    """Everything the runtime needs to send one method's request.

    ``path`` holds the literal parts around the variables: ``len(path) == len(path_params) + 1``.
    ``query`` holds the wire names of the query parameters, in the order the generated
    method passes their values.
    """

    id: str
    http_method: str
    path: tuple[str, ...]
    path_params: tuple[PathParam, ...] = ()
    query: tuple[str, ...] = ()
    has_body: bool = False
    api_version: str = ""
    data_wrapper: bool = False
    deprecated: bool = False
