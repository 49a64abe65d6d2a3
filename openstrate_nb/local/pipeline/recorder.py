"""Every stage's pictures and measures, written as the pipeline goes: for teaching, for
finding out why a video failed, and for the live preview a notebook watches grow.

Everything lands under one folder (the job's ``stages/``), described by ``manifest.json``,
which is rewritten (atomically) after every change, so a reader never sees a file the
manifest does not describe in full. ``docs/stage-artifacts.md`` says what each file holds.

Live preview: ``live/points-N.ply`` and ``live/cameras-N.json`` are the model so far (version
N), upright like the final result: the sparse points and registered cameras while mapping
(from COLMAP's snapshots), then the points of every depth map as it is measured. The
manifest's ``live`` entry names the newest and counts what they hold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..._atomic import write_atomic

__all__ = ["StageRecorder", "MANIFEST", "STAGES_DIR", "THUMB_LONG_SIDE"]

#: the folder, in a job's work directory (and, once it ended, in the server's data directory)
STAGES_DIR = "stages"
MANIFEST = "manifest.json"
FORMAT = 1
THUMB_LONG_SIDE = 320  # keyframe thumbnails: enough for a strip of pictures, ~15 KB each
_LIVE_DEPTH_POINTS = 4000  # per depth map in the live preview: enough to see the surface appear
_LIVE_POINTS_CAP = 400_000  # the preview stays a few MB whatever the video
_LIVE_KEPT = 3  # versions of the live files on disk at once


class StageRecorder:
    """Writes stage artifacts under ``folder``; a recorder without a folder writes nothing.

    Every call comes from the pipeline's thread (depth maps are handed over as the thread
    pool's results come back; COLMAP calls back while that thread waits on it), so nothing
    here needs a lock."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self._artifacts: dict[str, dict[str, Any]] = {}
        self._live: dict[str, Any] | None = None
        self._live_points: list[tuple[np.ndarray, np.ndarray]] = []
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            self._write_manifest()

    @property
    def enabled(self) -> bool:
        return self.folder is not None

    # -- the files -------------------------------------------------------------------------

    def _add(self, name: str, data: bytes | str, about: str) -> None:
        assert self.folder is not None
        path = write_atomic(self.folder / name, data, durable=False)
        self._artifacts[name] = {"bytes": path.stat().st_size, "about": about}
        self._write_manifest()

    def _write_manifest(self) -> None:
        assert self.folder is not None
        manifest = {"format": FORMAT, "artifacts": self._artifacts, **({"live": self._live} if self._live else {})}
        write_atomic(self.folder / MANIFEST, json.dumps(manifest, indent=1), durable=False)

    def _json(self, name: str, value: Any, about: str) -> None:
        self._add(name, json.dumps(value, indent=1, allow_nan=False), about)

    # -- stage by stage --------------------------------------------------------------------

    def frames(self, rows: list[dict[str, Any]], thresholds: dict[str, float]) -> None:
        """Every decoded frame's scores and whether it became a keyframe, or why not."""
        if self.enabled:
            self._json("frames.json", {"thresholds": thresholds, "frames": rows},
                       "every decoded frame: sharpness, brightness, detail, motion; kept or why not")

    def keyframe(self, name: str, rgb: np.ndarray) -> None:
        """A JPEG thumbnail of one keyframe, under ``keyframes/`` with the keyframe's name."""
        if not self.enabled:
            return
        self._add(f"keyframes/{Path(name).stem}.jpg", _small_jpeg(rgb, THUMB_LONG_SIDE), "a keyframe, as a thumbnail")

    def features(self, rows: list[dict[str, Any]]) -> None:
        if self.enabled:
            self._json("features.json", {"keyframes": rows},
                       "per keyframe: SIFT features, verified matches with other keyframes, placed or not")

    def sparse(self, points: np.ndarray, colors: np.ndarray, track_lengths: np.ndarray, names: list[str],
               frame_index: list[int], world_from_camera: np.ndarray, units: str) -> None:
        """The sparse model in the result's frame (upright, in metres when known)."""
        if not self.enabled:
            return
        self._add("sparse.npz", _npz(points=points.astype(np.float32), colors=colors.astype(np.uint8),
                                     track_lengths=track_lengths.astype(np.int32), names=np.array(names),
                                     frame_index=np.asarray(frame_index, np.int64),
                                     world_from_camera=world_from_camera.astype(np.float64), units=np.array(units)),
                  "sparse points (colour, track length) and the placed cameras")

    def depth(self, name: str, depth: np.ndarray, confidence: np.ndarray, K: np.ndarray,
              world_from_camera: np.ndarray, units: str) -> None:
        """One view's depth (0 where none was confirmed) and confidence (the NCC it scored)."""
        if not self.enabled:
            return
        data = _npz(depth=depth.astype(np.float32), confidence=confidence.astype(np.float16), K=K.astype(np.float64),
                    world_from_camera=world_from_camera.astype(np.float64), units=np.array(units))
        self._add(f"depth/{Path(name).stem}.npz", data, "a depth map and its confidence, with the view's intrinsics and pose")

    def fusion(self, facts: dict[str, Any]) -> None:
        if self.enabled:
            self._json("fusion.json", facts, "fusion and meshing: voxel size, depth fused, pieces kept")

    def texture(self, atlas: np.ndarray, label: np.ndarray, facts: dict[str, Any]) -> None:
        """The texture atlas (a JPEG at most 1024 px on a side), the keyframe each face's
        texture was cut from (-1: none saw it, its vertex colour kept) and the stage's counts."""
        if not self.enabled:
            return
        self._add("texture/atlas.jpg", _small_jpeg(atlas, 1024), "the texture atlas: rectangles cut from the keyframes")
        self._add("texture/face_source.npz", _npz(source=label.astype(np.int32)),
                  "per face of the result (in the GLB's order): the placed keyframe its texture comes from, -1 none")
        self._json("texture.json", facts, "texturing: keyframes used, patches, atlas size, faces textured")

    # -- the live preview ------------------------------------------------------------------

    def live_model(self, points: np.ndarray, colors: np.ndarray, cameras: list[dict[str, Any]], stage: str) -> None:
        """Replace the preview with a model so far (points and cameras, upright)."""
        if not self.enabled:
            return
        self._live_points = [(points.astype(np.float32), colors.astype(np.uint8))]
        self._write_live(cameras, stage)

    def live_add_points(self, points: np.ndarray, colors: np.ndarray, stage: str) -> None:
        """Add points (say, one depth map's) to the preview; the cameras stay."""
        if not self.enabled or not len(points):
            return
        rng = np.random.default_rng(len(self._live_points))
        if len(points) > _LIVE_DEPTH_POINTS:
            pick = rng.choice(len(points), _LIVE_DEPTH_POINTS, replace=False)
            points, colors = points[pick], colors[pick]
        if sum(len(p) for p, _ in self._live_points) + len(points) > _LIVE_POINTS_CAP:
            return
        self._live_points.append((points.astype(np.float32), colors.astype(np.uint8)))
        self._write_live(None, stage)

    def _write_live(self, cameras: list[dict[str, Any]] | None, stage: str) -> None:
        from .outputs import ply_points_bytes

        assert self.folder is not None
        points = np.concatenate([p for p, _ in self._live_points]) if self._live_points else np.zeros((0, 3))
        colors = np.concatenate([c for _, c in self._live_points]) if self._live_points else np.zeros((0, 3))
        before = self._live or {}
        version = before.get("version", 0) + 1
        # A new name per version: a URL from a job document always gets the model it describes.
        # The last few stay for clients that polled a moment ago.
        live = self.folder / "live"
        write_atomic(live / f"points-{version}.ply", ply_points_bytes(points, colors), durable=False)
        if cameras is not None:
            write_atomic(live / f"cameras-{version}.json", json.dumps({"units": "arbitrary", "frames": cameras}),
                         durable=False)
        self._live = {"points": f"live/points-{version}.ply",
                      "cameras": f"live/cameras-{version}.json" if cameras is not None else before["cameras"],
                      "version": version, "point_count": int(len(points)),
                      "camera_count": len(cameras) if cameras is not None else before.get("camera_count", 0),
                      "stage": stage}
        self._write_manifest()
        current = {self.folder / self._live["points"], self.folder / self._live["cameras"]}
        for old in live.iterdir():
            number = old.stem.rpartition("-")[2]
            if old not in current and number.isdigit() and int(number) <= version - _LIVE_KEPT:
                old.unlink(missing_ok=True)


def _npz(**arrays: np.ndarray) -> bytes:
    """An ``.npz`` (``np.load`` reads it) compressed at zlib's fastest level: about a third of
    the time ``np.savez_compressed`` (its default level) takes, for a slightly larger file."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for key, value in arrays.items():
            with archive.open(f"{key}.npy", "w") as entry:
                np.lib.format.write_array(entry, np.asanyarray(value), allow_pickle=False)
    return buffer.getvalue()


def _small_jpeg(rgb: np.ndarray, long_side: int) -> bytes:
    """An RGB picture as a JPEG at most ``long_side`` pixels on its long side."""
    import cv2

    h, w = rgb.shape[:2]
    s = min(1.0, long_side / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return jpeg.tobytes()
