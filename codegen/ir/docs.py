"""The docstring texts of generated code, escaped for a docstring (:func:`codegen.text.docstring`)."""

from __future__ import annotations

from collections.abc import Sequence

from codegen import text
from codegen.discovery import Document, Method, Schema
from codegen.ir.nodes import Param


def param_doc(schema: Schema) -> str:
    """A parameter's ``Args:`` text (plain: the method docstring escapes it)."""
    notes = []
    if schema.deprecated:
        notes.append("Deprecated.")
    if schema.pattern and schema.location == "path":
        notes.append(f"Must match {schema.pattern!r}.")
    if schema.default is not None:
        notes.append(f"Server default: {schema.default!r}.")
    return " ".join([schema.description, *notes]).strip()


def method_doc(method: Method, params: Sequence[Param], body: str, returns_operation: bool) -> str:
    """A method's docstring: description, HTTP line, ``Args:`` and ``Returns:``.

    ``returns_operation``: the response is an operation ``client.operation()`` can follow.
    """
    lines = [*text.wrap(method.description or method.id), ""]
    if method.deprecated:
        lines[:0] = ["Deprecated: the API marks this method as deprecated.", ""]
    lines.append(f"HTTP: {method.http_method} {method.path}")
    lines.append("")
    own = [param for param in params if not param.standard]
    standard = [param.name for param in params if param.standard]
    if own or standard or body != "none":
        lines.append("Args:")
        for param in own:
            lines.extend(_hanging(f"{param.name}: {param.doc or 'See the API reference.'}"))
        if standard:
            lines.extend(
                _hanging(
                    f"{', '.join(standard)}: Standard parameters (partial-response field selector, quota user, "
                    "pretty-printing, error format); see the package README."
                )
            )
        if body != "none":
            optional = " Optional: the request message has no fields." if body == "optional" else ""
            if method.supports_media_upload:
                optional = " Optional: the metadata of an upload (with media_body), or the whole request."
            request = f"The {method.request_ref} request message" if method.request_ref else "The request body"
            lines.extend(_hanging(f"body: {request}.{optional}"))
        if method.supports_media_upload:
            lines.extend(
                _hanging(
                    "media_body: Content to upload (bytes, a path, a binary file object or a "
                    "gapi_runtime.media.MediaUpload): simple or multipart upload, resumable above 5 MiB."
                )
            )
            lines.extend(_hanging("media_mime_type: The content's MIME type (default: guessed from the path)."))
        lines.append("")
    if method.supports_media_download and not (method.response_ref or method.response_schema is not None):
        lines.append("Returns:")
        lines.extend(_hanging("The response body as bytes (the method has no JSON response)."))
    if method.response_ref or method.response_schema is not None:
        lines.append("Returns:")
        returns = f"The {method.response_ref or 'JSON object'} response, decoded from JSON."
        if returns_operation:
            returns += (
                " It describes a long-running operation: the client's ``operation()`` turns it into "
                "a handle that waits for it (``result()``), inspects or cancels it."
            )
        lines.extend(_hanging(returns))
    return text.docstring("\n".join(lines).rstrip())


def media_doc(method_name: str) -> str:
    """The docstring of ``<method>_media``, the download sibling of ``method_name``."""
    doc = (
        f"Download the media of :meth:`{method_name}` (its request with ``alt=media``).\n\n"
        f"Takes the arguments of :meth:`{method_name}`, and:\n\n"
        "Args:\n"
        "    dest: A binary file object (anything with ``write(bytes)``): the content is\n"
        "        streamed into it in ``Range`` requests of ``chunk_size`` bytes, resuming\n"
        "        after a dropped connection; its length and any ``x-goog-hash`` md5 are\n"
        "        checked. None (default): the content is returned as bytes.\n"
        "    chunk_size: Bytes per range request with ``dest`` (default 16 MiB).\n"
        "    progress: Called as ``progress(bytes_written, total_or_None)`` after each range.\n\n"
        "Returns:\n"
        "    The content as bytes; with ``dest``, the number of bytes written."
    )
    return text.docstring(doc)


def pages_doc(method_name: str, token: str, response_ref: str, in_body: bool = False) -> str:
    """The docstring of ``<method>_pages``; ``token`` is the response's next-page token member;
    ``in_body`` when the request's token is a member of the body rather than ``page_token``."""
    request_token = "the body's ``pageToken``" if in_body else "``page_token``"
    doc = (
        f"Iterate over the pages of :meth:`{method_name}`, one request per page.\n\n"
        f"Takes the arguments of :meth:`{method_name}` and sends them with every page, with\n"
        f"{request_token} (where to start; default: the first page) replaced by each page's\n"
        f"``{token}``; stops when that is missing or empty. Raises\n"
        "``gapi_runtime.PagingError`` if the server repeats a token.\n\n"
        f"Yields:\n    The {response_ref} pages, decoded from JSON."
    )
    return text.docstring(doc)


def all_doc(method_name: str, pages_name: str, field: str) -> str:
    """The docstring of ``<method>_all``, which yields the items of ``field``."""
    doc = (
        f"Iterate over the ``{field}`` of every page of :meth:`{method_name}`.\n\n"
        f"Takes the arguments of :meth:`{method_name}`; pages as :meth:`{pages_name}` does.\n\n"
        f"Yields:\n    Each element of ``{field}``, page after page."
    )
    return text.docstring(doc)


def resource_doc(name: str, deprecated: bool) -> str:
    doc = f"The ``{name}`` resource."
    if deprecated:
        doc += " Deprecated: the API marks it (or a resource above it) as deprecated; its methods warn."
    return text.docstring(doc)


def object_doc(schema: Schema, title: str, extra: str | None) -> str:
    """A TypedDict's docstring; ``extra`` is the annotation of its additionalProperties' values."""
    doc = schema.description or title
    if extra is not None:
        doc += (
            f"\n\nBesides these fields the object may hold other keys with values of type {extra} "
            "(additionalProperties), which this TypedDict does not list."
        )
    return text.docstring(doc)


def client_doc(document: Document) -> str:
    lines = [f"{document.title or document.name} ({document.name} {document.version})"]
    if document.description.strip():
        lines += ["", document.description]
    if document.documentation_link:
        lines += ["", f"Documentation: {document.documentation_link}"]
    return text.docstring("\n".join(lines).strip())


def summary(document: Document) -> str:
    """One line for the package metadata and README."""
    return text.docstring(
        f"Typed Python client for {document.title or document.name} ({document.name} {document.version}),"
        " generated from its discovery document"
    ).replace("\n", " ")


def _hanging(line: str, width: int = 84) -> list[str]:
    """An ``Args:`` entry wrapped with a hanging indent."""
    if line and len(line) + 4 <= width and line.isprintable() and not line[0].isspace() and line[-1] != " ":
        return ["    " + line]  # fits: what textwrap would return, without its cost
    return text.wrap_words(line, width, initial_indent="    ", subsequent_indent="        ") or ["    "]
