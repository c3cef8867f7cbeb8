"""Test without a network: scripted transports, and the engine of the generated in-memory fakes.

* :class:`ScriptedTransport` / :class:`AsyncScriptedTransport`: queue :class:`Reply` objects
  (status, headers, JSON or bytes, or an exception), pass the transport to a generated
  client, then inspect :attr:`~ScriptedTransport.requests` (:class:`RecordedRequest`: method,
  URL, query, headers, decoded body). The typed counterpart of googleapiclient's
  ``HttpMockSequence``.
* ``<package>.testing.Fake<Api>`` (generated for every API; a :class:`FakeApi`): a stateful
  in-memory fake whose ``client()`` and ``async_client()`` are the normal generated clients
  wired to it — standard methods, long-running operations, 501 for the rest unless a handler
  is registered with :meth:`FakeApi.on`, injectable faults.
* Both make clients wait on a :class:`VirtualClock`: retry backoff and operation polling
  take no real time.

Nothing here is imported by the clients themselves.
"""

from gapi_runtime.testing._clock import VirtualClock
from gapi_runtime.testing._fake import (
    AsyncFakeTransport,
    FakeApi,
    FakeError,
    FakeMethod,
    FakeRequest,
    FakeTransport,
    Handler,
)
from gapi_runtime.testing._scripted import (
    AsyncScriptedTransport,
    RecordedRequest,
    Reply,
    Responder,
    ScriptedTransport,
    ScriptExhausted,
    google_error,
)

__all__ = [
    "AsyncFakeTransport",
    "AsyncScriptedTransport",
    "FakeApi",
    "FakeError",
    "FakeMethod",
    "FakeRequest",
    "FakeTransport",
    "Handler",
    "RecordedRequest",
    "Reply",
    "Responder",
    "ScriptExhausted",
    "ScriptedTransport",
    "VirtualClock",
    "google_error",
]
