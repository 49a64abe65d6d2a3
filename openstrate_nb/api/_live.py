"""The live preview a job may point at while it runs: the model so far, as arrays.

The embedded server's ``points_url`` (a binary PLY of xyz and rgb) and ``cameras_url``
(``{"frames": [{"world_from_camera": 4x4}, ...]}``) are rewritten as the reconstruction
grows; ``LiveModel`` is one version of them, for a viewer to draw.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._exceptions import InvalidResponseError

__all__ = ["LiveModel", "parse_points_ply", "parse_camera_poses"]

_HEADER_END = b"end_header\n"
_PLY_RECORD = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("r", "u1"), ("g", "u1"), ("b", "u1")])


@dataclass
class LiveModel:
    """The reconstruction so far: coloured points and the cameras placed."""

    points: np.ndarray  # (n, 3) float32
    colors: np.ndarray  # (n, 3) uint8
    world_from_camera: np.ndarray  # (k, 4, 4), OpenCV camera axes (x right, y down, z forward)
    #: the stage the points come from ("mapping": sparse points; "depth": depth maps' points)
    stage: str | None = None
    #: what the job document said of it (``preview``)
    facts: dict[str, Any] = field(default_factory=dict)


def parse_points_ply(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Points and colours of the embedded server's binary PLY (float xyz, uchar rgb)."""
    end = data.find(_HEADER_END)
    header = data[:end].decode("ascii", "replace") if end >= 0 else ""
    count = re.search(r"element vertex (\d+)", header)
    if end < 0 or not header.startswith("ply") or "binary_little_endian" not in header or count is None:
        raise InvalidResponseError("The live preview's points are not a binary little-endian PLY; "
                                   "the server may be of another version.")
    n = int(count[1])
    body = data[end + len(_HEADER_END):]
    if len(body) < n * _PLY_RECORD.itemsize:
        raise InvalidResponseError(f"The live preview's PLY holds fewer bytes than its {n} points need.")
    records = np.frombuffer(body, _PLY_RECORD, count=n)
    points = np.stack([records["x"], records["y"], records["z"]], axis=1)
    colors = np.stack([records["r"], records["g"], records["b"]], axis=1)
    return points, colors


def parse_camera_poses(data: bytes) -> np.ndarray:
    """The ``world_from_camera`` matrices of a cameras JSON, as a (k, 4, 4) array."""
    try:
        frames = json.loads(data)["frames"]
        poses = np.array([frame["world_from_camera"] for frame in frames], dtype=np.float64)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidResponseError(f"The live preview's cameras are not the expected JSON ({exc}).") from None
    return poses.reshape(-1, 4, 4)
