"""Would the pipeline take this video? Its own first pass, alone, before anything is sent.

``check_video`` decodes the video once, as the pipeline's first stage does, with the same
code and thresholds, so a video that passes is not refused later for a reason this could
have seen (too short, too dark, too blurred, a camera that hardly moves). What it cannot
see comes later: whether the views can be placed (structure from motion) needs the whole
reconstruction.

How far the camera moves is the one costly measure (the pipeline tracks corners through
every frame to choose keyframes). The check first tracks between a few dozen evenly spaced
frames, with the pipeline's own tracker and its rule that a pair it cannot track moved a
whole frame; when that clearly clears the threshold (twice over), the video moves. Near or
below it, the pipeline's own keyframe pass decides, exactly as it will in the job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ._options import PipelineOptions
from ._progress import Progress
from ._result import ReconstructionError

__all__ = ["VideoCheck", "check_video"]


@dataclass
class VideoCheck:
    """What the check saw; ``ok`` when the pipeline's first stages would take the video."""

    name: str
    ok: bool
    #: the pipeline's code and sentence for the first problem (what to re-film), when not ok
    code: str | None
    problem: str | None
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    rotation: int | None = None
    fps: float | None = None
    frames: int | None = None  # frames looked at (long videos: a bounded, even sample)
    dark_frames: int | None = None
    blurred_frames: int | None = None  # lit, but too blurred or featureless to match
    motion: float | None = None  # how far the view moves over the video, in frame widths
    keyframes: int | None = None  # keyframes the pipeline would choose (when its own pass had to decide)
    seconds: float = 0.0  # how long the check took

    def __str__(self) -> str:
        lines = [f"{self.name}: " + ("looks reconstructable." if self.ok else f"would be refused ({self.code}).")]
        if self.width:
            turned = f", turned {self.rotation}°" if self.rotation else ""
            lines.append(f"  {self.duration_s:.1f} s, {self.width}x{self.height}{turned}, {self.fps:.0f} fps; "
                         f"{self.frames} frames looked at.")
        if self.dark_frames is not None:
            lines.append(f"  too dark: {self.dark_frames}; too blurred or featureless: {self.blurred_frames}.")
        if self.motion is not None:
            chosen = f"; {self.keyframes} keyframes would be reconstructed" if self.keyframes else ""
            lines.append(f"  the view moves {100 * self.motion:.0f}% of the frame in all{chosen}.")
        if self.problem:
            lines.append(f"  {self.problem}")
        return "\n".join(lines)


def check_video(path: str | Path, options: PipelineOptions | None = None) -> VideoCheck:
    """Judge ``path`` as the pipeline's first stages would, in one decoding pass."""
    from ...api import MissingFileError, UnsupportedFileError
    from ..._contract import VIDEO_EXTENSIONS

    path = Path(path).expanduser()
    if path.suffix.lower() not in VIDEO_EXTENSIONS:
        raise UnsupportedFileError(f"{path.name!r} is not a video this service reconstructs "
                                   f"({' '.join(VIDEO_EXTENSIONS)}).")
    if not path.is_file():
        raise MissingFileError(f"No such video: {path} (relative paths start at {Path.cwd()}).")
    try:
        import av  # noqa: F401
        import cv2  # noqa: F401
    except ImportError as exc:
        raise ImportError("check_video reads the video with the embedded server's tools (PyAV, OpenCV): "
                          "pip install 'openstrate_nb[local]'.") from exc
    from . import _reconstruct as stages

    opts = options or PipelineOptions()
    started = time.monotonic()
    check = VideoCheck(name=path.name, ok=False, code=None, problem=None)
    try:
        scan = stages.measure_video(path, opts, Progress(lambda stage, current, total: None))
        info = scan.info
        check.duration_s, check.width, check.height = scan.duration_s, info.width, info.height
        check.rotation, check.fps, check.frames = info.rotation, info.fps, scan.frames
        check.dark_frames = int((~scan.lit).sum())
        check.blurred_frames = int((scan.lit & ~scan.detailed).sum())
        footage = stages.judge_footage(scan, opts)
        check.motion = _quick_motion(footage)
        if check.motion < 2 * stages.MIN_PATH_MOTION:
            selection = stages.select_keyframes(footage, opts)
            check.motion, check.keyframes = selection.path_motion, len(selection.positions)
            stages.require_motion(footage, selection)
    except ReconstructionError as exc:
        check.code, check.problem = exc.code, str(exc)
    else:
        check.ok = True
    check.seconds = time.monotonic() - started
    return check


#: Frame pairs tracked for the quick motion measure: enough that neighbours stay trackable
#: in a walk, few enough to cost a fraction of decoding.
QUICK_PAIRS = 16


def _quick_motion(footage) -> float:
    """How far the view moves, summed over evenly spaced usable frames (share of the frame)."""
    import numpy as np

    from . import keyframes

    good = np.nonzero(footage.usable)[0]
    if len(good) < 2:
        return 0.0
    sample = np.unique(good[np.round(np.linspace(0, len(good) - 1, min(len(good), QUICK_PAIRS + 1))).astype(int)])
    motion, _shared = keyframes.consecutive_motion(footage.stats, sample)
    return float(np.minimum(motion, 1.0).sum())
