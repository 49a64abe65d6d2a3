"""Metres from printed markers: find them in the placed keyframes, triangulate their corners
with the recovered cameras, and compare their side with the printed one.

Structure from motion recovers a scene up to an unknown scale. A marker of known side
(``openstrate-nb marker``) seen from two or more placed keyframes fixes it: each corner is
triangulated from every view that saw it, the marker's side in the reconstruction's units
is the mean of its four edges, and ``metres per unit = printed side / side in units``. The
spread of that side over pairs of views is the stated uncertainty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from ...markers import MARKER_DICTIONARY, find_markers

__all__ = ["MarkerScale", "marker_scale", "triangulate"]

#: two views closer in direction than this cannot place a corner in depth
MIN_PAIR_ANGLE_DEG = 3.0
#: a triangulated marker whose edges differ more than this is not a flat square: refused
MAX_EDGE_RATIO = 1.25


@dataclass
class MarkerScale:
    """What the markers say about the reconstruction's size."""

    #: metres per reconstruction unit, or None when no marker could give it
    factor: float | None
    #: ids of the markers used, and of those seen
    marker_ids: list[int] = field(default_factory=list)
    seen_ids: list[int] = field(default_factory=list)
    #: keyframes in which a used marker was found
    views: int = 0
    #: relative spread (standard deviation / mean) of the marker's side over pairs of views
    spread: float | None = None
    #: why there is no factor, in one sentence (None when there is one)
    reason: str | None = None

    def stats(self, marker_size_m: float | None) -> dict[str, Any]:
        """The job's ``stats`` entries: units, and how the scale was found (or why not)."""
        if self.factor is None:
            return {"units": "unknown", "markers_seen": self.seen_ids,
                    **({"scale_note": self.reason} if self.reason else {})}
        return {"units": "m", "scale": {
            "factor": self.factor, "method": "marker", "dictionary": MARKER_DICTIONARY,
            "marker_ids": self.marker_ids, "marker_size_m": marker_size_m, "views": self.views,
            "uncertainty": self.spread}}


def triangulate(cameras_from_world: list[np.ndarray], rays: list[np.ndarray]) -> np.ndarray:
    """The 3D point nearest (in the linear, DLT sense) to normalised image points ``rays``
    ((x, y) with z = 1) seen by cameras ``camera_from_world`` (3x4 each)."""
    rows = []
    for P, (x, y) in zip(cameras_from_world, rays):
        rows.append(x * P[2] - P[0])
        rows.append(y * P[2] - P[1])
    _, _, vt = np.linalg.svd(np.asarray(rows))
    point = vt[-1]
    return point[:3] / point[3]


def _side(corners: np.ndarray) -> tuple[float, float]:
    """Mean edge of a triangulated quadrilateral, and its longest over shortest edge."""
    edges = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
    return float(edges.mean()), float(edges.max() / max(edges.min(), 1e-12))


def marker_scale(images: dict[str, np.ndarray], names: list[str], world_from_camera: np.ndarray,
                 K: np.ndarray, dist: np.ndarray, marker_size_m: float | None) -> MarkerScale:
    """Scale from the markers in the placed keyframes ``names`` (pixel-centre ``K`` and
    OpenCV ``dist`` of those images); without ``marker_size_m`` only what was seen."""
    import cv2

    seen: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for name, pose in zip(names, world_from_camera):
        for marker in find_markers(images[name]):
            rays = cv2.undistortPoints(marker.corners.reshape(-1, 1, 2).astype(np.float64), K, dist).reshape(4, 2)
            seen.setdefault(marker.id, []).append((np.linalg.inv(pose)[:3], rays, pose[:3, 3]))
    seen_ids = sorted(seen)
    if not seen:
        return MarkerScale(None, reason=None if marker_size_m is None else
                           f"no {MARKER_DICTIONARY} marker was found in the keyframes; film the printed marker "
                           "from several sides, large enough in the picture.")
    if marker_size_m is None:
        return MarkerScale(None, seen_ids=seen_ids, reason="a marker was seen: give its printed side "
                           "(marker_size_m) to get the result in metres.")
    sides, pair_sides, used, views = [], [], [], 0
    refusals = []
    for marker_id, observations in sorted(seen.items()):
        if len(observations) < 2:
            refusals.append(f"marker {marker_id} was found in only one keyframe (two or more are needed)")
            continue
        cameras = [o[0] for o in observations]
        corners = np.array([triangulate(cameras, [o[1][c] for o in observations]) for c in range(4)])
        side, ratio = _side(corners)
        if ratio > MAX_EDGE_RATIO:
            refusals.append(f"marker {marker_id} did not come out as a flat square (edges differ by {ratio:.2f}x)")
            continue
        sides.append(side)
        used.append(marker_id)
        views += len(observations)
        for a, b in combinations(observations, 2):
            da, db = a[2] - corners.mean(axis=0), b[2] - corners.mean(axis=0)
            cos = da @ db / max(np.linalg.norm(da) * np.linalg.norm(db), 1e-12)
            if np.degrees(np.arccos(np.clip(cos, -1, 1))) >= MIN_PAIR_ANGLE_DEG:
                pair = np.array([triangulate([a[0], b[0]], [a[1][c], b[1][c]]) for c in range(4)])
                pair_sides.append(_side(pair)[0] / side)
    if not sides:
        return MarkerScale(None, seen_ids=seen_ids, reason="; ".join(refusals) + ": the result keeps its own units.")
    factor = float(marker_size_m / np.mean(sides))
    spread = float(np.std(pair_sides)) if len(pair_sides) >= 2 else None
    return MarkerScale(factor, used, seen_ids, views, spread)
