"""The OpenStrate reconstruction API client: no widgets, no notebooks, just HTTP."""

from ._client import DEFAULT_BASE_URL, AsyncOpenStrate, OpenStrate
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    CancelNotSupportedError,
    MissingFileError,
    FileTooLargeError,
    InvalidResponseError,
    JobFailedError,
    NotFoundError,
    OpenStrateError,
    PayloadTooLargeError,
    ServerError,
    UnexpectedStatusError,
    UnsupportedFileError,
    WaitTimeout,
    WorkerUnavailableError,
)
from ._live import LiveModel
from ._models import Job, JobStatus, Upload
from ._uploads import ALLOWED_EXTENSIONS, MESH_EXTENSIONS, VIDEO_EXTENSIONS

__all__ = [
    "OpenStrate",
    "AsyncOpenStrate",
    "DEFAULT_BASE_URL",
    "Job",
    "JobStatus",
    "Upload",
    "LiveModel",
    "VIDEO_EXTENSIONS",
    "MESH_EXTENSIONS",
    "ALLOWED_EXTENSIONS",
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
    "FileTooLargeError",
    "CancelNotSupportedError",
    "MissingFileError",
]
