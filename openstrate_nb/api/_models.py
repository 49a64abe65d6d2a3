"""Typed views of the service's JSON documents.

Be liberal, as the contract asks: fields this client does not know are kept in
``extra``, an unknown ``status`` is kept as its raw string, and relative URLs are made
absolute against the server's base URL.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urljoin, urlsplit

from .._contract import TERMINAL_STATUSES as CONTRACT_TERMINAL
from ._exceptions import InvalidResponseError

__all__ = ["JobStatus", "Job", "Upload", "asset_from_url"]


class JobStatus(str, enum.Enum):
    """The contract's statuses (``_contract.JOB_STATUSES``); anything else stays a plain string."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETE = "complete"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


TERMINAL_STATUSES = frozenset(JobStatus(status) for status in CONTRACT_TERMINAL)
_URL_FIELDS_JOB = ("view_url", "mesh_viewer_url", "glb_asset_url")
_URL_FIELDS_UPLOAD = ("url", "view")


def _parse_status(value: Any) -> JobStatus | str:
    try:
        return JobStatus(value)
    except ValueError:
        return str(value)


def _optional_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite float
        return None


def _absolute(url: Any, base_url: str | None) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    return urljoin(base_url.rstrip("/") + "/", url) if base_url else url


def asset_from_url(url: Any) -> str | None:
    """The ``{id}.{ext}`` part of a ``/api/files/…``, ``/view/…`` or ``/api/preview/…`` URL."""
    if not isinstance(url, str) or not url:
        return None
    name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return name or None


def _require_mapping(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidResponseError(f"The server sent {type(data).__name__} where a {what} document was expected.")
    return data


@dataclass
class Job:
    """A reconstruction job as the status endpoint describes it."""

    job_id: str
    status: JobStatus | str
    current_frame: int | None = None
    total_frames: int | None = None
    view_url: str | None = None
    mesh_viewer_url: str | None = None
    glb_asset_url: str | None = None
    mission_id: str | None = None
    relay_base: str | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _KNOWN = frozenset(
        {"job_id", "status", "current_frame", "total_frames", "view_url", "mesh_viewer_url",
         "glb_asset_url", "mission_id", "relay_base", "error"}
    )

    @classmethod
    def from_dict(cls, data: Any, *, base_url: str | None = None, job_id: str | None = None) -> Job:
        data = _require_mapping(data, "job")
        found_id = data.get("job_id") or job_id
        if not found_id or "status" not in data:
            raise InvalidResponseError("The server's job document has no job_id or no status.")
        urls = {name: _absolute(data.get(name), base_url) for name in _URL_FIELDS_JOB}
        return cls(
            job_id=str(found_id),
            status=_parse_status(data["status"]),
            current_frame=_optional_int(data.get("current_frame")),
            total_frames=_optional_int(data.get("total_frames")),
            mission_id=_text(data.get("mission_id")),
            relay_base=_text(data.get("relay_base")),
            error=_text(data.get("error")),
            extra={k: v for k, v in data.items() if k not in cls._KNOWN},
            **urls,
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_known_status(self) -> bool:
        return isinstance(self.status, JobStatus)

    @property
    def progress(self) -> float | None:
        """Share of the job done, 0..1, or None while the server has not said.

        The embedded server's overall ``progress`` (it never goes back) where given, else the
        contract's ``current_frame / total_frames``.
        """
        if self.status == JobStatus.COMPLETE:
            return 1.0
        overall = self.extra.get("progress")
        if isinstance(overall, (int, float)) and not isinstance(overall, bool):
            return min(1.0, max(0.0, float(overall)))
        if not self.total_frames or self.current_frame is None or self.total_frames <= 0:
            return None
        return min(1.0, max(0.0, self.current_frame / self.total_frames))

    @property
    def eta_s(self) -> float | None:
        """Seconds the server expects the job still needs (an extension of the embedded server)."""
        value = self.extra.get("eta_s")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    @property
    def step(self) -> str | None:
        """"Step k of n: label" where the server numbers its stages (the embedded server), else None."""
        index, count, label = (self.extra.get(k) for k in ("stage_index", "stage_count", "stage_label"))
        if isinstance(index, int) and isinstance(count, int) and isinstance(label, str):
            return f"Step {index} of {count}: {label}"
        return None

    @property
    def stage(self) -> str | None:
        value = self.extra.get("stage")
        return value if isinstance(value, str) else None

    @property
    def code(self) -> str | None:
        """Machine-readable reason of a failure (``too_short``, ``no_motion``, ...), where the
        server gives one (an extension of the embedded server)."""
        value = self.extra.get("code")
        return value if isinstance(value, str) else None

    @property
    def asset(self) -> str | None:
        """``{id}.{ext}`` of the result mesh (not the job id), from ``glb_asset_url`` or ``view_url``."""
        return asset_from_url(self.glb_asset_url) or asset_from_url(self.view_url)

    @property
    def asset_id(self) -> str | None:
        """The result's asset id without its extension."""
        asset = self.asset
        return asset.rsplit(".", 1)[0] if asset else None

    @property
    def artifacts(self) -> dict[str, str]:
        """Every stage's pictures and measures, name to URL (an extension of the embedded
        server: ``frames.json``, ``keyframes/….jpg``, ``depth/….npz``, ...); empty elsewhere."""
        value = self.extra.get("artifacts")
        if not isinstance(value, Mapping):
            return {}
        return {str(k): v for k, v in value.items() if isinstance(v, str) and v}

    @property
    def points_url(self) -> str | None:
        """The sparse points (PLY); while processing on the embedded server, the live preview
        of the model so far, at a URL that changes whenever it does."""
        return _text(self.extra.get("points_url")) or None

    @property
    def cameras_url(self) -> str | None:
        """The camera path (JSON); while processing, the cameras placed so far."""
        return _text(self.extra.get("cameras_url")) or None

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in sorted(self._KNOWN)}
        out["status"] = str(self.status)
        out.update(self.extra)
        return {k: v for k, v in out.items() if v is not None}


@dataclass
class Upload:
    """The answer to an upload: the stored file and, for videos, the job it started."""

    id: str
    filename: str | None
    url: str | None
    view: str | None = None
    size: int | None = None
    job_id: str | None = None
    reconstruction_started: bool | None = None
    reconstruction_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _KNOWN = frozenset(
        {"id", "filename", "url", "view", "size", "job_id", "reconstruction_started", "reconstruction_error"}
    )

    @classmethod
    def from_dict(cls, data: Any, *, base_url: str | None = None) -> Upload:
        data = _require_mapping(data, "upload")
        file_id = data.get("id") or (asset_from_url(data.get("url")) or "").rsplit(".", 1)[0]
        if not file_id:
            raise InvalidResponseError("The server's upload document has no id and no url.")
        started = data.get("reconstruction_started")
        return cls(
            id=str(file_id),
            filename=_text(data.get("filename")),
            url=_absolute(data.get("url"), base_url),
            view=_absolute(data.get("view"), base_url),
            size=_optional_int(data.get("size")),
            job_id=_text(data.get("job_id")),
            reconstruction_started=bool(started) if started is not None else None,
            reconstruction_error=_text(data.get("reconstruction_error")),
            extra={k: v for k, v in data.items() if k not in cls._KNOWN},
        )

    @property
    def asset(self) -> str | None:
        return asset_from_url(self.url)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
