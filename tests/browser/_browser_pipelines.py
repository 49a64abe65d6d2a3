"""A pipeline slow enough to watch (about 0.4 s a frame) for the browser tests.

It decodes every frame (a broken upload fails as in the real pipeline), reports each one
with the time left, and writes a vertex-coloured sphere, so a screenshot of the 3D view has many colours.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import trimesh

from openstrate_nb.local.pipeline._result import Artifacts

SECONDS_PER_FRAME = 0.4
MAX_FRAMES_REPORTED = 60


def watchable_pipeline(video_path: Path, work_dir: Path, report, video_name=None) -> Artifacts:
    import av

    with av.open(str(video_path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    shown = min(frames, MAX_FRAMES_REPORTED)
    # Its pace is known, so it forecasts the time left as the real pipeline does (through the
    # server worker's ``estimate``) and the widget's "time left" can be watched.
    estimate = getattr(report, "estimate", None)
    for index in range(shown):
        if estimate is not None:
            estimate(index / shown, (shown - index) * SECONDS_PER_FRAME, frames)
        report("decoding", index + 1, shown)
        time.sleep(SECONDS_PER_FRAME)
    mesh = trimesh.creation.icosphere(subdivisions=4)
    hue = (np.arctan2(mesh.vertices[:, 1], mesh.vertices[:, 0]) + np.pi) / (2 * np.pi)
    rgb = np.stack([hue, 1 - hue, (mesh.vertices[:, 2] + 1) / 2], axis=1)
    mesh.visual.vertex_colors = (np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    glb = work_dir / "mesh.glb"
    mesh.export(glb)
    return Artifacts(glb=glb, stats={"frames": frames, "faces": len(mesh.faces)})
