"""Test scenes with exact ground truth: rendered walkthrough videos, and scores against them.

Not part of the server or the pipeline: the bundled sample video was rendered here, and the
geometry tests and ``benchmarks/bench_reconstruction.py`` use these scenes where exact truth
helps. Real footage (``benchmarks/bench_realworld.py``) is the judge of the pipeline.

    scene = make_scene(seed=0)
    truth = render_video("walk.mp4", scene, walkthrough_trajectory(duration_s=8))
    scores = evaluate(truth, glb, cameras)     # accuracy and completeness of a reconstruction
"""

from ._render import (
    SAMPLE_MARKER,
    SAMPLE_RENDER,
    SAMPLE_TRAJECTORY,
    Box,
    FloorMarker,
    GroundTruth,
    Scene,
    Sphere,
    Trajectory,
    depth_map,
    intrinsics,
    look_at,
    make_scene,
    orbit_trajectory,
    render,
    render_sample,
    render_video,
    sample_ground_truth,
    sample_scene,
    walkthrough_trajectory,
    yaw_matrix,
)
from ._score import distance_to_scene, evaluate, sample_surface, umeyama, visible_mask

__all__ = [
    "SAMPLE_MARKER", "SAMPLE_RENDER", "SAMPLE_TRAJECTORY", "Box", "FloorMarker", "GroundTruth", "Scene", "Sphere", "Trajectory",
    "depth_map", "distance_to_scene", "evaluate", "intrinsics", "look_at", "make_scene", "orbit_trajectory",
    "render", "render_sample", "render_video", "sample_ground_truth", "sample_scene", "sample_surface", "umeyama",
    "visible_mask", "walkthrough_trajectory", "yaw_matrix",
]
