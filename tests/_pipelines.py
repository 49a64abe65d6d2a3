"""Small pipelines for the server's tests: real worker processes, seconds instead of minutes.

``quick_pipeline`` decodes the video's frames with PyAV (so a broken file still fails the
way it would in the real pipeline), reports progress per frame, and writes a small
coloured GLB; the real reconstruction is tested on its own in tests/local/pipeline/.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from openstrate_nb.local.pipeline._result import Artifacts, ReconstructionError


def _count_frames(video_path: Path) -> int:
    import av

    try:
        with av.open(str(video_path)) as container:
            if not container.streams.video:
                raise ReconstructionError("this file has no video stream; upload a video with picture, not only sound.",
                                          "no_video_stream")
            return sum(1 for _ in container.decode(video=0))
    except av.error.FFmpegError as exc:
        raise ReconstructionError(f"this video cannot be decoded ({exc}); re-export it as MP4 (H.264).",
                                  "damaged") from None


def quick_pipeline(video_path: Path, work_dir: Path, report, video_name=None) -> Artifacts:
    frames = _count_frames(video_path)
    delay = float(os.environ.get("OPENSTRATE_TEST_FRAME_DELAY", "0"))
    for index in range(frames):
        report("decoding", index + 1, frames)
        time.sleep(delay)
    import numpy as np
    import trimesh

    mesh = trimesh.creation.icosphere(subdivisions=3)
    mesh.visual.vertex_colors = (np.abs(mesh.vertices) * 255).astype(np.uint8)
    glb = work_dir / "mesh.glb"
    mesh.export(glb)
    cameras = work_dir / "cameras.json"
    cameras.write_text(json.dumps({"units": "arbitrary", "frames": []}))
    return Artifacts(glb=glb, cameras=cameras, stats={"frames": frames, "faces": len(mesh.faces)})


def instant_pipeline(video_path: Path, work_dir: Path, report, video_name=None) -> Artifacts:
    """For load tests: no decoding, no heavy imports; copies the GLB named by OPENSTRATE_TEST_GLB."""
    report("copying", 1, 1)
    glb = work_dir / "mesh.glb"
    shutil.copyfile(os.environ["OPENSTRATE_TEST_GLB"], glb)
    return Artifacts(glb=glb, stats={"bytes": video_path.stat().st_size})


def crashing_pipeline(video_path: Path, work_dir: Path, report, video_name=None) -> Artifacts:
    report("decoding", 1, 10)
    os._exit(9)  # like a SIGKILL by the OOM killer: no message, no cleanup


def sleeping_pipeline(video_path: Path, work_dir: Path, report, video_name=None) -> Artifacts:
    for index in range(10_000):
        report("thinking", index, 10_000)
        time.sleep(0.05)
    raise AssertionError("unreachable")


def options_pipeline(video_path: Path, work_dir: Path, report, video_name=None, options=None) -> Artifacts:
    """The quick pipeline that also says which options reached it (in its stats)."""
    art = quick_pipeline(video_path, work_dir, report, video_name)
    art.stats["marker_size_m"] = None if options is None else options.marker_size_m
    return art


def growing_pipeline(video_path: Path, work_dir: Path, report, video_name=None) -> Artifacts:
    """A live preview that grows, as the real pipeline's does: four versions of the model so
    far (more points and cameras each time, ``LIVE_STEP_S`` apart), then the quick result."""
    import numpy as np

    from openstrate_nb.local.pipeline.recorder import StageRecorder

    frames = _count_frames(video_path)
    step_s = float(os.environ.get("OPENSTRATE_TEST_LIVE_STEP", "0.8"))
    recorder = StageRecorder(work_dir / "stages")
    rng = np.random.default_rng(0)
    for version in range(1, 5):
        points = rng.normal(size=(800 * version, 3))
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        colors = ((points + 1) * 127.5).astype(np.uint8)
        cameras = []
        for k in range(2 * version):  # on a circle around the sphere, looking at its centre
            angle = k * np.pi / 8
            centre = np.array([3 * np.sin(angle), 0.0, 3 * np.cos(angle)])
            forward = -centre / np.linalg.norm(centre)
            right = np.cross(forward, [0.0, -1.0, 0.0])
            pose = np.eye(4)
            pose[:3, :3] = np.stack([right, np.cross(forward, right), forward], axis=1)
            pose[:3, 3] = centre
            cameras.append({"world_from_camera": pose.tolist()})
        recorder.live_model(points, colors, cameras, "mapping" if version < 4 else "depth")
        report("mapping", version, 4)
        time.sleep(step_s)
    return quick_pipeline(video_path, work_dir, report, video_name)
