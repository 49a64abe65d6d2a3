"""Probe and decode a video with PyAV: upright, downscaled RGB frames in decode order.

Phones store portrait video as landscape pixels plus a display matrix; the frames have to
be turned the way a player would show them, or the reconstruction comes out on its side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ._result import ReconstructionError

_DAMAGED = "The video could not be decoded: the file may be damaged or truncated, re-export or re-upload it."


@dataclass
class VideoInfo:
    width: int  # upright, before downscaling
    height: int
    frame_count: int  # container's estimate; 0 when unknown
    duration_s: float
    fps: float
    rotation: int  # degrees counter-clockwise applied to the stored pixels to show them upright


def _open(path: Path):
    import av

    try:
        return av.open(str(path))
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:  # not a media file at all
        raise ReconstructionError("This file could not be read as a video: upload an MP4, MOV, MKV or WebM file.",
                                  "not_a_video") from exc


def _video_stream(container):
    if not container.streams.video:
        raise ReconstructionError("This file has no video stream: upload a video, not an audio file or an image.",
                                  "no_video_stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # frame + slice threads: decoding is a large share of the early stages
    return stream


def rotation_of(frame) -> int:
    """Counter-clockwise display rotation of a decoded frame, snapped to a multiple of 90."""
    try:
        angle = float(frame.rotation)
    except (AttributeError, TypeError, ValueError):
        angle = 0.0
    if not np.isfinite(angle):
        return 0
    return int(round(angle / 90.0)) % 4 * 90


def upright(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a counter-clockwise rotation of ``rotation`` degrees (a multiple of 90)."""
    k = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


def probe(path: Path) -> VideoInfo:
    """Read stream facts without decoding the whole file (the first frame gives the rotation)."""
    import av

    with _open(path) as container:
        stream = _video_stream(container)
        fps = float(stream.average_rate or stream.guessed_rate or 30.0)
        duration = 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / 1e6
        count = int(stream.frames or 0) or int(round(duration * fps))
        rotation = 0
        w, h = stream.codec_context.width, stream.codec_context.height
        try:
            for frame in container.decode(stream):
                rotation = rotation_of(frame)
                w, h = frame.width, frame.height
                break
        except av.error.FFmpegError as exc:
            raise ReconstructionError(_DAMAGED, "damaged") from exc
        if w == 0 or h == 0:
            raise ReconstructionError(_DAMAGED, "damaged")
    if rotation % 180:
        w, h = h, w
    return VideoInfo(w, h, count, duration, fps, rotation)


def output_size(width: int, height: int, max_long_side: int) -> tuple[int, int]:
    """Size after downscaling so the long side is at most ``max_long_side`` (even numbers)."""
    s = min(1.0, max_long_side / max(width, height))
    return max(2, int(round(width * s / 2)) * 2), max(2, int(round(height * s / 2)) * 2)


def frames(path: Path, max_long_side: int, wanted: set[int] | None = None,
           stride: int = 1) -> Iterator[tuple[int, float, np.ndarray]]:
    """Yield ``(frame_index, time_s, rgb)`` for every ``stride``-th decodable frame (or only ``wanted`` ones).

    Frames are upright and downscaled with area averaging (which also suppresses sensor noise
    and compression artefacts). A stream that breaks after some frames ends the iteration
    with what was decoded; a file that yields nothing raises ``ReconstructionError``.
    """
    import av
    import cv2

    with _open(path) as container:
        stream = _video_stream(container)
        index = -1
        last = max(wanted) if wanted else None
        t0 = None
        try:
            for frame in container.decode(stream):
                index += 1
                t = float(frame.time) if frame.time is not None else index / float(stream.average_rate or 30)
                t0 = t if t0 is None else t0  # times count from the first frame, whatever the container's start
                if wanted is not None and index not in wanted:
                    if last is not None and index > last:
                        break
                    continue
                if wanted is None and index % stride:
                    continue  # decoded (codecs need every frame) but not converted
                rgb = upright(frame.to_ndarray(format="rgb24"), rotation_of(frame))
                h, w = rgb.shape[:2]
                ow, oh = output_size(w, h, max_long_side)
                if (ow, oh) != (w, h):
                    rgb = cv2.resize(rgb, (ow, oh), interpolation=cv2.INTER_AREA)
                yield index, t - t0, rgb
        except av.error.FFmpegError as exc:
            if index <= 0:
                raise ReconstructionError(
                    _DAMAGED, "damaged"
                ) from exc
            # Truncated upload: keep the frames that decoded.
    if index < 0:
        raise ReconstructionError(_DAMAGED, "damaged")
