"""Metres from printed markers: scale error against the truth, the stated uncertainty, and what
finding the markers costs.

    python benchmarks/bench_scale.py [--scenes sample,walk,wide,close]

Each scene is rendered (openstrate_nb.scenes) with 30 cm ArUco markers on its floor and
reconstructed by the real pipeline with ``marker_size_m=0.3``; ``sample`` is the bundled
sample video as it is (one 30 cm marker, ``scenes.SAMPLE_MARKER``). The recovered camera path,
aligned to the true one by a similarity, gives the true scale error (1.0 is exact); the
pipeline states its own uncertainty (the spread of the marker's side over pairs of views).
The cost is the marker step's seconds as a share of the whole run (target < 5%).
A second table measures how big the detector sees the sample's marker against its true
projection, for each of OpenCV's corner refinements and for the pipeline's ``find_markers``
(sub-pixel, then the edges fitted as lines).
Rendered scenes only: no real footage of a printed marker with known camera positions was
found in the package registries.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path

import numpy as np
from _common import machine

from openstrate_nb import scenes
from openstrate_nb.local import sample_video
from openstrate_nb.local.pipeline import PipelineOptions, reconstruct
from openstrate_nb.markers import find_markers

MARKERS = [scenes.FloorMarker(np.array([0.9, 1.7]), 0.3, 0.3, 0),
           scenes.FloorMarker(np.array([-0.6, 1.9]), 0.3, -0.4, 7)]
SCENES = {
    "sample": None,  # the bundled video, its own settings
    "walk": dict(duration_s=6.0, fps=12.0, radius=4.2, arc_deg=70.0, start_deg=55.0, target=(0.0, 0.3, 0.8), seed=1),
    "wide": dict(duration_s=8.0, fps=12.0, radius=4.6, arc_deg=110.0, start_deg=35.0, target=(0.0, 0.4, 0.6), seed=2),
    "close": dict(duration_s=6.0, fps=12.0, radius=3.4, arc_deg=60.0, start_deg=60.0, target=(0.2, 0.2, 1.2), seed=3),
}


def run(name: str, scratch: Path) -> dict:
    if name == "sample":
        video, truth = sample_video(), scenes.sample_ground_truth()
    else:
        scene = scenes.make_scene()
        scene.markers = MARKERS
        trajectory = scenes.walkthrough_trajectory(**SCENES[name])
        video = scratch / f"{name}.mp4"
        truth = scenes.render_video(video, scene, trajectory, width=640, height=360, hfov_deg=65.0, crf=20, ss=1)
    art = reconstruct(video, scratch / name, lambda *_: None, options=PipelineOptions(marker_size_m=0.3))
    frames = json.loads(art.cameras.read_text())["frames"]
    recovered = np.array([np.array(f["world_from_camera"])[:3, 3] for f in frames])
    true_centres = truth.trajectory.world_from_camera[[f["frame_index"] for f in frames], :3, 3]
    scale, _, _ = scenes.umeyama(recovered, true_centres)
    seconds = art.stats["seconds"]
    found = art.stats.get("scale") or {}
    return {"scene": name, "units": art.stats["units"], "scale": scale, "stated": found.get("uncertainty"),
            "markers": found.get("marker_ids"), "views": found.get("views"),
            "marker_s": seconds["scale"], "total_s": seconds["total"]}


def detected_side_ratios() -> dict[str, tuple[float, float]]:
    """Per way of placing corners: the detected marker's side over its true projected side in
    the sample's frames (the square root of the areas), as mean and standard deviation."""
    import av
    import cv2

    truth, marker = scenes.sample_ground_truth(), scenes.SAMPLE_MARKER
    corners = marker.outline()
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    detectors = {}
    for name in ("NONE", "SUBPIX", "CONTOUR"):
        parameters = cv2.aruco.DetectorParameters()
        parameters.cornerRefinementMethod = getattr(cv2.aruco, f"CORNER_REFINE_{name}")
        detectors[name] = cv2.aruco.ArucoDetector(dictionary, parameters)
    ratios: dict[str, list[float]] = {name: [] for name in [*detectors, "find_markers"]}
    with av.open(str(sample_video())) as video:
        for index, frame in enumerate(video.decode(video=0)):
            grey = frame.to_ndarray(format="gray")
            camera_from_world = np.linalg.inv(truth.trajectory.world_from_camera[index])
            projected = (corners @ camera_from_world[:3, :3].T + camera_from_world[:3, 3]) @ truth.K.T
            projected = (projected[:, :2] / projected[:, 2:] - 0.5).astype(np.float32)  # to pixel centres
            seen = {name: detector.detectMarkers(grey)[0] for name, detector in detectors.items()}
            seen["find_markers"] = [m.corners.astype(np.float32) for m in find_markers(grey)]
            for name, found in seen.items():
                if len(found):
                    ratios[name].append(math.sqrt(cv2.contourArea(found[0].reshape(4, 2)) / cv2.contourArea(projected)))
    return {name: (float(np.mean(r)), float(np.std(r))) for name, r in ratios.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", default=",".join(SCENES))
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print("| scene | units | true scale (1 = exact) | error | stated uncertainty | markers (views) | marker step | share of the run |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.scenes.split(","):
            r = run(name, Path(scratch))
            stated = f"{100 * r['stated']:.2f}%" if r["stated"] is not None else "-"
            print(f"| {name} | {r['units']} | {r['scale']:.4f} | {100 * abs(r['scale'] - 1):.2f}% | {stated} | "
                  f"{r['markers']} ({r['views']}) | {r['marker_s']:.2f} s | {100 * r['marker_s'] / r['total_s']:.1f}% "
                  f"of {r['total_s']:.0f} s |", flush=True)
    print()
    print("| corners | detected side / true side (sample, 120 frames) |")
    print("|---|---|")
    for name, (mean, spread) in detected_side_ratios().items():
        print(f"| {name} | {mean:.4f} ± {spread:.4f} |")


if __name__ == "__main__":
    main()
