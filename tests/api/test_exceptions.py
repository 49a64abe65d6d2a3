"""Every exception class, and readable messages whatever the error body looks like.

A MockTransport stands in for what a real server will not do on demand: a proxy's HTML
error page, an empty 502, a plain-text 500.
"""

from __future__ import annotations

import httpx
import pytest

from openstrate_nb import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    InvalidResponseError,
    NotFoundError,
    OpenStrate,
    OpenStrateError,
    PayloadTooLargeError,
    ServerError,
    WorkerUnavailableError,
)
from openstrate_nb.api._exceptions import error_message_from_body


def _client_answering(status, content=b"", headers=None):
    return OpenStrate("http://t", transport=httpx.MockTransport(
        lambda request: httpx.Response(status, content=content, headers=headers or {})))


@pytest.mark.parametrize("status, cls", [
    (400, BadRequestError), (404, NotFoundError), (413, PayloadTooLargeError), (503, WorkerUnavailableError),
    (500, ServerError), (502, ServerError), (418, APIStatusError),
])
def test_status_codes_map_to_classes(status, cls):
    client = _client_answering(status, b'{"error": "it went wrong", "job_id": "j1"}',
                               {"content-type": "application/json"})
    with pytest.raises(cls) as err:
        client.reconstruct("https://example.test/v.mp4")
    assert type(err.value) is cls and isinstance(err.value, OpenStrateError)
    assert err.value.status_code == status and err.value.body["error"] == "it went wrong"
    assert str(err.value) == "it went wrong."  # the server's words; the status stays on the error


def test_worker_unavailable_carries_the_job_id():
    client = _client_answering(503, b'{"error": "no worker", "job_id": "j1"}', {"content-type": "application/json"})
    with pytest.raises(WorkerUnavailableError) as err:
        client.reconstruct("https://example.test/v.mp4")
    assert err.value.job_id == "j1"


@pytest.mark.parametrize("content, content_type, expected", [
    # The server's own words are the message, as a sentence, with no HTTP jargon in front.
    (b'{"error": "bad video_url"}', "application/json", "bad video_url."),
    (b'{"detail": "from a framework"}', "application/json", "from a framework."),
    (b"<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>", "text/html",
     "The server answered 400 Bad Request with a page saying: 502 Bad Gateway"),
    (b"<!DOCTYPE html><body><p>Service &amp; stuff down</p></body>", "", "Service & stuff down"),
    (b"upstream connect error", "text/plain", "The server answered 400 Bad Request: upstream connect error"),
    (b"", "", "The server answered 400 Bad Request without saying why."),
    (b"\xff\xfe garbage", "application/octet-stream", "The server answered 400 Bad Request:"),
])
def test_error_bodies_give_readable_messages(content, content_type, expected):
    message, _ = error_message_from_body(400, "Bad Request", content, content_type)
    assert expected in message and "<" not in message and not message.startswith("HTTP")
    assert len(message) < 400


def test_long_bodies_are_shortened():
    message, body = error_message_from_body(500, "Internal Server Error", b"x" * 10_000, "text/plain")
    assert len(message) < 400 and len(body) == 10_000


def test_empty_error_body_through_the_client():
    with pytest.raises(ServerError, match="without saying why; try again in a minute"):
        _client_answering(502).status("j")


def test_a_success_that_is_not_json_is_invalid():
    with pytest.raises(InvalidResponseError, match="not JSON"):
        _client_answering(200, b"<html>a login page</html>", {"content-type": "text/html"}).status("j")
    with pytest.raises(InvalidResponseError, match="no job_id or no status"):
        _client_answering(200, b'{"hello": 1}').status("j")


def test_connection_refused_is_a_connection_error():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(APIConnectionError, match="Could not talk to") as err:
        OpenStrate(f"http://127.0.0.1:{port}").status("j")
    assert not isinstance(err.value, APITimeoutError)


def test_a_server_that_never_answers_times_out():
    import socket

    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        client = OpenStrate(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=0.3)
        with pytest.raises(APITimeoutError, match="did not answer in time"):
            client.status("j")
