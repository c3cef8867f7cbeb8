"""A loopback batch endpoint: parses multipart/mixed batch POSTs and answers multipart/mixed.

The request is parsed with the standard library's ``email`` parser (not the runtime's code),
so what the runtime sends is checked by an independent reader; each ``application/http`` part
becomes a :class:`~tests.support.loopback.Recorded` request handed to ``part_handler``, and the
replies go back as ``application/http`` parts with ``Content-ID: <response-ID>``, as
Google's batch endpoints answer.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.support.loopback import Recorded, Reply

PartHandler = Callable[[Recorded], Reply]


def split_http(text: bytes) -> tuple[str, dict[str, str], bytes]:
    """(start line, lower-cased headers, body) of one HTTP message (CRLF or LF line ends)."""
    crlf, lf = text.find(b"\r\n\r\n"), text.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf < lf):
        head, body = text[:crlf], text[crlf + 4 :]
    elif lf >= 0:
        head, body = text[:lf], text[lf + 2 :]
    else:
        head, body = text, b""
    lines = head.decode("utf-8").splitlines()
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, body


@dataclass
class BatchPart:
    """One part of a batch POST as the server parsed it."""

    content_id: str
    part_headers: dict[str, str]  # the MIME part's own headers
    request: Recorded  # the embedded HTTP request


@dataclass
class BatchEndpoint:
    """A :class:`~tests.support.loopback.LoopbackServer` handler that serves batch POSTs.

    ``part_handler`` answers each embedded request; other requests go to ``fallback``.
    ``posts`` records the parts of each batch POST, in order.
    """

    part_handler: PartHandler
    fallback: PartHandler = field(default=lambda request: Reply())
    posts: list[list[BatchPart]] = field(default_factory=list)
    outer_reply: Reply | None = None  # when set, every batch POST gets this reply instead
    reverse: bool = False  # answer the parts in reverse order (handles must match by Content-ID)

    def __call__(self, request: Recorded) -> Reply:
        content_type = request.headers.get("content-type", "")
        if request.method != "POST" or not content_type.startswith("multipart/mixed"):
            return self.fallback(request)
        parts = self.parse(content_type, request.body)
        # Headers of the outer request apply to every part unless the part sets them (Google's rule).
        outer = {name: value for name, value in request.headers.items() if not name.startswith("content-")}
        for part in parts:
            part.request.headers.update({k: v for k, v in outer.items() if k not in part.request.headers})
        self.posts.append(parts)
        if self.outer_reply is not None:
            return self.outer_reply
        chunks = []
        boundary = "batch_answer_0123456789"
        for part in reversed(parts) if self.reverse else parts:
            reply = self.part_handler(part.request)
            body = reply.encoded()
            head = [f"HTTP/1.1 {reply.status} X", "Content-Type: application/json; charset=UTF-8"]
            head += [f"{name}: {value}" for name, value in reply.headers.items()]
            head.append(f"Content-Length: {len(body)}")
            part_head = f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <response-{part.content_id}>"
            chunks.append(
                (part_head + "\r\n\r\n").encode() + ("\r\n".join(head) + "\r\n\r\n").encode() + body + b"\r\n"
            )
        chunks.append(f"--{boundary}--\r\n".encode())
        return Reply(200, b"".join(chunks), headers={"content-type": f"multipart/mixed; boundary={boundary}"})

    @staticmethod
    def parse(content_type: str, body: bytes) -> list[BatchPart]:
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        assert message.is_multipart(), "a batch POST must be multipart"
        parts = []
        for mime in message.iter_parts():
            assert mime.get_content_type() == "application/http", mime.get_content_type()
            payload = mime.get_payload(decode=True)
            assert isinstance(payload, bytes)
            start, headers, inner = split_http(payload)
            method, target, version = start.split(" ")
            assert version == "HTTP/1.1"
            length = headers.get("content-length")
            if length is not None:
                assert int(length) == len(inner), (length, len(inner))
            content_id = str(mime.get("content-id", "")).strip().strip("<>")
            part_headers = {name.lower(): str(value) for name, value in mime.items()}
            parts.append(BatchPart(content_id, part_headers, Recorded(method, target, headers, inner)))
        return parts


def echo_json(request: Recorded) -> Reply:
    """Answer a part with its own path and body: ``{"id": <last path segment>, **body}``."""
    body = json.loads(request.body) if request.body else {}
    return Reply(200, {"id": request.path.rsplit("/", 1)[-1], **body})
