"""What a reconstruction pipeline hands back to the embedded server's worker.

A pipeline is a plain function ``(video_path, work_dir, report, *, video_name) -> Artifacts``
(``video_name``: the name the user gave the video, for the provenance record). It calls
``report(stage, current, total)`` as it goes (the worker forwards at most a few calls a
second), writes its files under ``work_dir`` and raises :class:`ReconstructionError` with
one sentence a user can act on when the video cannot be reconstructed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

#: ``report(stage, current_frame, total_frames)``
ProgressCallback = Callable[[str, int, int], None]


class ReconstructionError(Exception):
    """The video cannot be reconstructed; the message tells the user what to do.

    ``code`` names the reason for programs (the job document carries it beside ``error``):
    ``not_a_video``, ``no_video_stream``, ``damaged``, ``too_short``, ``too_dark``,
    ``too_blurred``, ``no_motion``, ``not_enough_views``, ``no_depth``.
    """

    def __init__(self, message: str, code: str = "failed"):
        super().__init__(message)
        self.code = code


@dataclass
class Artifacts:
    """Files a finished reconstruction produced, all inside the job's work directory."""

    glb: Path
    points: Path | None = None
    cameras: Path | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    #: how the result was made (openstrate_nb._provenance), wall time per stage included
    provenance: dict[str, Any] = field(default_factory=dict)
