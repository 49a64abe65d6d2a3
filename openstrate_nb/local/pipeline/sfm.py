"""Structure from motion with pycolmap: SIFT on the CPU, sequential matching, incremental mapping.

Keyframes come from one video, so they share one camera (``CameraMode.SINGLE``) and only
neighbours in time overlap, which sequential matching exploits: it is linear in the number
of keyframes where exhaustive matching is quadratic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._options import PipelineOptions
from ._progress import Progress


@dataclass
class SfmResult:
    names: list[str]  # registered keyframe image names, in keyframe order
    K: np.ndarray  # 3x3, pixel-corner convention (COLMAP)
    dist: np.ndarray  # OpenCV distortion (k1, k2, p1, p2, k3)
    world_from_camera: np.ndarray  # (n, 4, 4), OpenCV camera axes
    points: np.ndarray  # (m, 3) sparse points
    colors: np.ndarray  # (m, 3) uint8
    point_views: list[np.ndarray]  # per registered keyframe: ids (rows of ``points``) it observes
    seconds: dict = field(default_factory=dict)  # features / matching / mapping


def run(image_dir: Path, names: list[str], work_dir: Path, options: PipelineOptions, progress: Progress,
        long_side: int = 960) -> SfmResult | None:
    """Run SfM over ``names`` (files in ``image_dir``, ``long_side`` px); ``None`` when no model starts."""
    import pycolmap

    threads = options.threads()
    work_dir.mkdir(parents=True, exist_ok=True)
    db = work_dir / "database.db"
    if db.exists():
        db.unlink()
    n = len(names)

    reader = pycolmap.ImageReaderOptions()
    # One radial term is enough for phone lenses and keeps self-calibration stable on short videos.
    reader.camera_model = "SIMPLE_RADIAL"
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.num_threads = threads
    extraction.use_gpu = False
    extraction.sift.max_num_features = options.max_features
    octave = options.sift_first_octave
    extraction.sift.first_octave = octave if octave is not None else (-1 if long_side < 800 else 0)
    seconds = {}
    t = time.monotonic()
    # No polling of COLMAP's database for a finer count: a second SQLite library in this
    # process reading the file COLMAP is writing breaks SQLite's locks (the worker died of
    # SIGBUS on the WAL's shared memory). The heartbeat repeats the stage instead.
    with progress.heartbeat("features", n):
        pycolmap.extract_features(db, image_dir, image_names=names, camera_mode=pycolmap.CameraMode.SINGLE,
                                  reader_options=reader, extraction_options=extraction, device=pycolmap.Device.cpu)

    seconds["features"] = time.monotonic() - t
    t = time.monotonic()
    matching = pycolmap.FeatureMatchingOptions()
    matching.num_threads = threads
    matching.use_gpu = False
    pairing = pycolmap.SequentialPairingOptions()
    pairing.overlap = options.match_overlap
    pairing.quadratic_overlap = False
    pairing.loop_detection = False  # needs a vocabulary tree file; walkthroughs rarely loop
    with progress.heartbeat("matching", n):
        pycolmap.match_sequential(db, matching_options=matching, pairing_options=pairing, device=pycolmap.Device.cpu)

    seconds["matching"] = time.monotonic() - t
    t = time.monotonic()
    mapping = pycolmap.IncrementalPipelineOptions()
    mapping.num_threads = threads
    mapping.multiple_models = False  # one walk, one model; stray fragments only cost time
    mapping.extract_colors = True
    out_dir = work_dir / "sparse"
    out_dir.mkdir(exist_ok=True)
    registered = [0]

    def on_image() -> None:
        registered[0] += 1
        progress("mapping", min(registered[0], n), n)

    def on_init() -> None:
        registered[0] = 2
        progress("mapping", 2, n)

    with progress.heartbeat("mapping", n):
        models = pycolmap.incremental_mapping(db, image_dir, out_dir, options=mapping,
                                              initial_image_pair_callback=on_init, next_image_callback=on_image)
    seconds["mapping"] = time.monotonic() - t
    if not models:
        return None
    rec = max(models.values(), key=lambda r: r.num_reg_images())
    result = _to_result(rec, names)
    result.seconds = seconds
    return result


def _to_result(rec, names: list[str]) -> SfmResult:
    order = {name: i for i, name in enumerate(names)}
    images = sorted((im for im in rec.images.values() if im.has_pose), key=lambda im: order.get(im.name, 1 << 30))
    cam = rec.cameras[images[0].camera_id]
    params = np.asarray(cam.params, float)
    model = str(cam.model.name if hasattr(cam.model, "name") else cam.model)
    dist = np.zeros(5)
    if model == "SIMPLE_RADIAL":
        f, cx, cy, k1 = params
        fx = fy = f
        dist[0] = k1
    elif model == "SIMPLE_PINHOLE":
        f, cx, cy = params
        fx = fy = f
    elif model == "PINHOLE":
        fx, fy, cx, cy = params
    elif model == "RADIAL":
        f, cx, cy, k1, k2 = params
        fx = fy = f
        dist[:2] = k1, k2
    else:  # OPENCV and friends: first four are fx, fy, cx, cy
        fx, fy, cx, cy = params[:4]
        dist[: min(4, len(params) - 4)] = params[4:8]
    K = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1.0]])

    ids = np.array(list(rec.points3D.keys()), dtype=np.int64)
    pts = np.array([rec.points3D[i].xyz for i in ids]).reshape(-1, 3)
    cols = np.array([rec.points3D[i].color for i in ids], dtype=np.uint8).reshape(-1, 3)
    row_of = {int(pid): r for r, pid in enumerate(ids)}
    poses, views = [], []
    for im in images:
        m = np.eye(4)
        m[:3, :] = im.cam_from_world().matrix()
        poses.append(np.linalg.inv(m))
        seen = [row_of[p.point3D_id] for p in im.points2D if p.has_point3D() and p.point3D_id in row_of]
        views.append(np.array(seen, dtype=np.int64))
    return SfmResult([im.name for im in images], K, dist, np.stack(poses), pts, cols, views)
