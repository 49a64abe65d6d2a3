"""The bundled sample walkthrough video (rendered, with ground truth in :mod:`openstrate_nb.scenes`)."""

from __future__ import annotations

from pathlib import Path


def sample_video() -> Path:
    """Path of the bundled 8 s, 640x360 H.264 sample walkthrough.

    A 30 cm printed marker (DICT_4X4_50 id 0) lies on its floor: send ``marker_size_m=0.3``
    and the result comes back in metres. It was rendered by
    ``openstrate_nb.scenes.render_sample(path)``, i.e.
    ``render_video(path, sample_scene(), walkthrough_trajectory(**SAMPLE_TRAJECTORY), **SAMPLE_RENDER)``;
    ``scenes.sample_ground_truth()`` returns its scene, intrinsics and camera poses.
    """
    return Path(__file__).resolve().parent / "data" / "sample_walkthrough.mp4"
