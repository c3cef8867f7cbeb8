"""The generator's fixed choices: reserved names, standard parameters, layout budgets."""

from __future__ import annotations

import re

#: Module through which generated code reaches the runtime.
RUNTIME_MODULE = "gapi_runtime"
#: The runtime's distribution, and the oldest runtime release that has everything generated
#: code uses; generated packages require ``>=RUNTIME_MIN_VERSION,<next major``.
RUNTIME_DISTRIBUTION = "gapi-runtime"
RUNTIME_MIN_VERSION = "1.0"
#: Every generated package's distribution is this prefix + its package name, ``_`` → ``-``.
DISTRIBUTION_PREFIX = "gapi-"

#: Attributes of the runtime's BaseClient (and of the batch classes, which offer the same
#: resources and top-level methods) that generated resources must not shadow.
CLIENT_RESERVED = (
    "close",
    "base_url",
    "operation",
    "transport",
    "credentials",
    "batch",
    "execute",
    "max_batch_size",
    "universe_domain",
)
#: Names a resource class must not define: builtins its annotations use, and ``functools``,
#: whose ``cached_property`` decorates lazy resources in the class body.
CLASS_RESERVED = ("str", "int", "float", "bool", "object", "functools")
#: Names every generated method takes besides the document's parameters.
METHOD_RESERVED = ("self", "body", "timeout", "retry")
#: The standard query parameters (the document's top-level ``parameters``) that every method
#: takes as keywords when its document lists them, snake_case like all others. Not ``alt``
#: (typed returns depend on it; the runtime owns it), not ``callback``/``uploadType``/
#: ``upload_protocol`` (the runtime's), and never ``key``/``access_token``/``oauth_token``:
#: secrets stay client-level and out of URLs.
STANDARD_PARAMETERS = ("$.xgafv", "fields", "prettyPrint", "quotaUser")
#: Array members of a list response that report where the listing failed (AIP-217's
#: ``unreachable``, compute's ``unreachables``, ``unreachableLocations``, bigtable's
#: ``failedLocations``) or what went wrong (``warnings``), never the listed items: they do not
#: count when the items list of ``<method>_all`` is chosen.
PARTIAL_FAILURE_LISTS = frozenset(
    {"unreachable", "unreachables", "unreachableLocations", "failedLocation", "failedLocations", "warnings"}
)
#: HTTP methods that never carry a body: a ``request`` the document declares on them is ignored.
BODILESS_METHODS = ("GET", "DELETE")
#: Further names of methods that upload media, and of ``<method>_media`` download siblings.
UPLOAD_RESERVED = ("media_body", "media_mime_type")
DOWNLOAD_RESERVED = ("dest", "chunk_size", "progress")
#: ``maxSize`` units of ``mediaUpload`` (as googleapiclient reads them): KB = 2**10 ...
MEDIA_SIZE_SHIFTS = {"KB": 10, "MB": 20, "GB": 30, "TB": 40}
#: Names a schema class must not take in its module: the typing alias, the future import
#: and the builtins that field annotations use.
SCHEMA_RESERVED = ("_t", "annotations", "str", "int", "float", "bool", "object")

#: Big APIs are split so that no generated file is unreasonably large. A resources module
#: holds a top-level resource and as much of its subtree as fits in this many methods and
#: about this many characters of source (estimated: :func:`_estimated_method_size`);
#: subtrees that do not fit get modules of their own, imported when first reached.
MODULE_METHOD_BUDGET = 80
MODULE_SIZE_BUDGET = 200_000
#: Schemas go into one ``schemas.py`` unless their source would exceed about this many
#: characters; then into a ``schemas/`` package of chunks of about this size.
SCHEMA_CHUNK_CHARS = 250_000
#: Longest resources module name derived from resource names (else a numbered name).
MAX_MODULE_NAME = 80

#: A variable of a method's path: ``{name}`` or ``{+name}`` (reserved expansion: keeps ``/``).
PATH_VARIABLE = re.compile(r"\{(\+?)([^{}]*)\}")
