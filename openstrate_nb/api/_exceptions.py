"""Every error the client raises, in one place.

Each message is one sentence a user can act on. ``APIStatusError`` keeps the status code
and the raw body so a caller can look closer; its message is readable whatever the body
was (JSON, an HTML page from a proxy, plain text or nothing at all).
"""

from __future__ import annotations

import html
import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from ._models import Job

__all__ = [
    "OpenStrateError",
    "APIConnectionError",
    "APITimeoutError",
    "APIStatusError",
    "BadRequestError",
    "NotFoundError",
    "PayloadTooLargeError",
    "WorkerUnavailableError",
    "ServerError",
    "InvalidResponseError",
    "JobFailedError",
    "WaitTimeout",
    "UnexpectedStatusError",
    "UnsupportedFileError",
    "CancelNotSupportedError",
    "MissingFileError",
    "FileTooLargeError",
    "error_message_from_body",
]

_MAX_MESSAGE = 300


class OpenStrateError(Exception):
    """Base class of every error raised by openstrate_nb's client."""


class APIConnectionError(OpenStrateError):
    """The server could not be reached (DNS, refused connection, reset)."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the configured timeout."""


class InvalidResponseError(OpenStrateError):
    """The server answered 2xx with a body that is not the documented JSON."""


class APIStatusError(OpenStrateError):
    """The server answered with a 4xx or 5xx status."""

    def __init__(self, message: str, *, status_code: int, body: Any = None, response: httpx.Response | None = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body
        self.response = response


class BadRequestError(APIStatusError):
    """400: the request was refused (missing file, wrong type, invalid ``video_url``)."""


class NotFoundError(APIStatusError):
    """404: no such job or file on this server."""


class PayloadTooLargeError(APIStatusError):
    """413: the upload is over the server's size cap."""


class WorkerUnavailableError(APIStatusError):
    """503: the reconstruction workers cannot be reached; retry later.

    ``job_id`` is set when the server created the job before finding no worker.
    """

    @property
    def job_id(self) -> str | None:
        return self.body.get("job_id") if isinstance(self.body, dict) else None


class ServerError(APIStatusError):
    """Any other 5xx: a fault on the server's side."""


class JobFailedError(OpenStrateError):
    """The reconstruction ended ``failed``; ``error`` is the server's own explanation and
    ``code`` its machine-readable reason, where the server gives one."""

    def __init__(self, job: Job):
        self.job = job
        self.job_id = job.job_id
        self.error = job.error or "the server gave no reason"
        self.code = job.code
        super().__init__(f"Reconstruction job {job.job_id} failed: {self.error}")


class WaitTimeout(OpenStrateError):
    """``wait`` gave up. ``unreachable_for`` > 0: the server had stopped answering that many
    seconds before, so the job's state is unknown; else the job is still running there."""

    def __init__(self, job_id: str, timeout: float, last: Job | None = None, unreachable_for: float = 0.0):
        self.job_id = job_id
        self.timeout = timeout
        self.last = last
        self.unreachable_for = unreachable_for
        if unreachable_for > 0:
            message = (f"Job {job_id} was not seen finished after {timeout:g} s: the server has not answered for the "
                       f"last {unreachable_for:.0f} s, so whether the job still runs is unknown; call "
                       f"wait({job_id!r}) again once the server is back.")
        else:
            state = f" (last status: {last.status})" if last is not None else ""
            message = (f"Job {job_id} was not finished after {timeout:g} s{state}; it keeps running on the server, "
                       f"so call wait({job_id!r}) again later.")
        super().__init__(message)


class MissingFileError(OpenStrateError, FileNotFoundError):
    """The file to send does not exist (also a ``FileNotFoundError``); nothing was sent."""


class CancelNotSupportedError(OpenStrateError):
    """The server has no way to stop a job (only openstrate_nb's embedded server has)."""

    def __init__(self, base_url: str, job_id: str):
        self.job_id = job_id
        super().__init__(f"The server at {base_url} cannot stop jobs, so job {job_id} goes on there; "
                         "only openstrate_nb's embedded server can cancel.")


class UnexpectedStatusError(OpenStrateError):
    """The server kept reporting a status this client does not know."""

    def __init__(self, job: Job, polls: int):
        self.job = job
        super().__init__(
            f"Job {job.job_id} kept reporting the unknown status {job.status!r} ({polls} polls); "
            "update openstrate_nb or check the job with status()."
        )


class UnsupportedFileError(OpenStrateError, ValueError):
    """The file's type is not one the service accepts; nothing was sent."""


class FileTooLargeError(OpenStrateError, ValueError):
    """The file is over the upload cap; nothing was sent."""


def error_message_from_body(status_code: int, reason: str, content: bytes, content_type: str = "") -> tuple[str, Any]:
    """Return ``(message, body)`` for an error response whatever its body looks like.

    The message is plain words: the server's own explanation when it gave one (the status
    stays on the exception, not in the headline); for a page from a proxy or an empty body,
    what the server answered. ``body`` is the parsed JSON when the body was JSON, else the
    decoded text (or None).
    """
    text = content.decode("utf-8", errors="replace").strip()
    status = " ".join(f"{status_code} {reason}".split())
    later = "; try again in a minute." if status_code >= 500 else "."
    if not text:
        return f"The server answered {status} without saying why{later}", None
    body: Any = text
    if "json" in content_type or text[:1] in "{[":
        try:
            body = json.loads(text)
        except ValueError:
            body = text
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return _sentence(value), body
        return f"The server answered {status}: {_shorten(json.dumps(body))}", body
    if "html" in content_type or text.lstrip().lower().startswith(("<!doctype", "<html")):
        return f"The server answered {status} with a page saying: {_shorten(_html_to_text(text))}", text
    return f"The server answered {status}: {_shorten(text)}", text


def _sentence(text: str) -> str:
    """The server's explanation, ending as a sentence does (its first word may be a field name)."""
    text = _shorten(text)
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _html_to_text(page: str) -> str:
    title = re.search(r"<title[^>]*>(.*?)</title>", page, re.I | re.S)
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.I | re.S)
    words = re.sub(r"<[^>]+>", " ", body)
    text = html.unescape(title.group(1) if title and title.group(1).strip() else words)
    return " ".join(text.split()) or "an HTML page with no text"


def _shorten(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
