"""Structure from motion with pycolmap: SIFT on the CPU, matching, incremental mapping, and
fallbacks for footage where COLMAP's defaults place too few views.

Keyframes come from one video, so they share one camera (``CameraMode.SINGLE``). Short sets
are matched exhaustively (every pair). Longer ones are matched sequentially with quadratic
look-back (linear cost, plus pairs 2, 4, 8, ... keyframes apart), plus, for each keyframe,
the few other keyframes that look most alike (a bag of visual words over its own SIFT
descriptors): that is what closes a loop when a walk or an orbit comes back to its start.
(COLMAP's loop detection needs a vocabulary-tree file, a download; this needs none.)
When fewer than 90% of the keyframes are placed, more pairs are matched and mapping runs
again with looser initialisation; the largest model wins, and ``SfmResult.attempts``
records which path ran and why.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ._options import PipelineOptions
from ._progress import Progress

#: Below this share of keyframes placed, the fallbacks run.
GOOD_SHARE = 0.9
#: Exhaustive matching up to this many keyframes in the fallback (its cost grows with n^2).
FALLBACK_EXHAUSTIVE_UP_TO = 150
#: Look-alike keyframes matched with each keyframe beyond the sequential window.
RETRIEVAL_PAIRS = 3
#: COLMAP writes the model so far after this many more views are placed (the live preview).
SNAPSHOT_EVERY = 3

#: ``on_model(reconstruction)``: a pycolmap model while mapping grows it
ModelCallback = Callable[[Any], None]


@dataclass
class SfmResult:
    names: list[str]  # registered keyframe image names, in keyframe order
    K: np.ndarray  # 3x3, pixel-corner convention (COLMAP)
    dist: np.ndarray  # OpenCV distortion (k1, k2, p1, p2, k3)
    world_from_camera: np.ndarray  # (n, 4, 4), OpenCV camera axes
    points: np.ndarray  # (m, 3) sparse points
    colors: np.ndarray  # (m, 3) uint8
    point_views: list[np.ndarray]  # per registered keyframe: ids (rows of ``points``) it observes
    track_lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # (m,) views per point
    attempts: list[dict] = field(default_factory=list)  # each mapping run: matching used, options, placed


def run(image_dir: Path, names: list[str], work_dir: Path, options: PipelineOptions, progress: Progress,
        long_side: int = 960, on_model: ModelCallback | None = None) -> SfmResult | None:
    """Run SfM over ``names`` (files in ``image_dir``, ``long_side`` px); ``None`` when no model starts.

    ``on_model`` sees the model every few views placed, while mapping runs."""
    import pycolmap

    if options.seed is not None:
        pycolmap.set_random_seed(options.seed)
    threads = options.threads()
    work_dir.mkdir(parents=True, exist_ok=True)
    db = work_dir / "database.db"
    if db.exists():
        db.unlink()
    n = len(names)
    attempts: list[dict] = []

    _extract(db, image_dir, names, options, long_side, progress)
    matching = "exhaustive" if n <= options.exhaustive_matching_up_to else "sequential"
    _match(db, matching, options, n, progress)
    if matching == "sequential":
        matching = "sequential+retrieval"
        _match_pairs(db, retrieval_pairs(db, names, options.match_overlap), work_dir, options, n, progress)
    best = _map(db, image_dir, work_dir / "sparse0", options, n, progress, loose=False, on_model=on_model)
    attempts.append({"matching": matching, "mapper": "default", "focal": "default", "placed": _placed(best)})

    # Fallbacks, cheapest first, until 90% are placed. The initial focal length is COLMAP's
    # guess (1.2 x the long side, about 45 degrees across); a telephoto or wide-angle lens
    # far from it can stop mapping early, so the last tries start from other guesses.
    for focal in (1.0, 2.5, 0.6):
        if _placed(best) >= GOOD_SHARE * n:
            break
        why = f"{_placed(best)} of {n} keyframes placed"
        if matching == "sequential+retrieval":
            matching = "exhaustive" if n <= FALLBACK_EXHAUSTIVE_UP_TO else "sequential-long"
            _match(db, matching, options, n, progress)
        if focal != 1.0:
            _scale_focal_guess(db, focal)
        retry = _map(db, image_dir, work_dir / f"sparse{len(attempts)}", options, n, progress, loose=True,
                     on_model=on_model)
        attempts.append({"matching": matching, "mapper": "loose", "focal": f"{focal:g}x default",
                         "placed": _placed(retry), "why": why})
        if _placed(retry) > _placed(best):
            best = retry
    if best is None:
        return None
    result = _to_result(best, names)
    result.attempts = attempts
    return result


def _scale_focal_guess(db: Path, factor: float) -> None:
    """Start the shared camera's focal length at ``factor`` times COLMAP's own guess."""
    import pycolmap

    database = pycolmap.Database.open(db)
    try:
        for camera in database.read_all_cameras():
            params = list(camera.params)
            params[0] = 1.2 * max(camera.width, camera.height) * factor
            camera.params = params
            database.update_camera(camera)
    finally:
        database.close()


def _placed(rec) -> int:
    return 0 if rec is None else int(rec.num_reg_images())


def _extract(db: Path, image_dir: Path, names: list[str], options: PipelineOptions, long_side: int,
             progress: Progress) -> None:
    import pycolmap

    reader = pycolmap.ImageReaderOptions()
    # One radial term is enough for phone lenses and keeps self-calibration stable on short videos.
    reader.camera_model = "SIMPLE_RADIAL"
    extraction = pycolmap.FeatureExtractionOptions()
    extraction.num_threads = options.threads()
    extraction.use_gpu = False
    extraction.sift.max_num_features = options.max_features
    octave = options.sift_first_octave
    # Upsampling small frames finds the fine detail that low-resolution footage has.
    extraction.sift.first_octave = octave if octave is not None else (-1 if long_side < 700 else 0)
    # No polling of COLMAP's database for a finer count: a second SQLite library in this
    # process reading the file COLMAP is writing breaks SQLite's locks (the worker died of
    # SIGBUS on the WAL's shared memory). The stage's heartbeat repeats it instead.
    with progress.stage("features", len(names)):
        # Images enter the database first, one by one in keyframe order: extraction threads
        # would otherwise number them in the order they finish, and mapping (which breaks
        # ties by image id) would differ from run to run.
        if options.seed is not None:
            pycolmap.Database.open(db).close()  # import_images needs the file to exist
            pycolmap.import_images(db, image_dir, camera_mode=pycolmap.CameraMode.SINGLE, image_names=names,
                                   options=reader)
        pycolmap.extract_features(db, image_dir, image_names=names, camera_mode=pycolmap.CameraMode.SINGLE,
                                  reader_options=reader, extraction_options=extraction, device=pycolmap.Device.cpu)


def _matching_options(options: PipelineOptions):
    import pycolmap

    matching = pycolmap.FeatureMatchingOptions()
    matching.num_threads = options.threads()
    matching.use_gpu = False
    return matching


def _verification_options(options: PipelineOptions):
    """Geometric verification with a seeded RANSAC: COLMAP's default (-1) seeds from the
    clock, which made two runs over the same video keep different inliers."""
    import pycolmap

    verification = pycolmap.TwoViewGeometryOptions()
    verification.ransac.random_seed = -1 if options.seed is None else options.seed
    return verification


def _match(db: Path, how: str, options: PipelineOptions, n: int, progress: Progress) -> None:
    """Match keyframe pairs; COLMAP skips pairs already in the database, so a fallback that
    widens the pairing only pays for the new ones."""
    import pycolmap

    matching = _matching_options(options)
    with progress.stage("matching", n):
        if how == "exhaustive":
            pycolmap.match_exhaustive(db, matching_options=matching, verification_options=_verification_options(options),
                                      device=pycolmap.Device.cpu)
        else:
            pairing = pycolmap.SequentialPairingOptions()
            pairing.overlap = options.match_overlap if how == "sequential" else 3 * options.match_overlap
            pairing.quadratic_overlap = True
            pairing.loop_detection = False  # needs a vocabulary tree file, which is a download
            pycolmap.match_sequential(db, matching_options=matching, pairing_options=pairing,
                                      verification_options=_verification_options(options), device=pycolmap.Device.cpu)


def retrieval_pairs(db: Path, names: list[str], skip: int, per_image: int = RETRIEVAL_PAIRS,
                    words: int = 256, sample: int = 1000) -> list[tuple[str, str]]:
    """For each keyframe, the ``per_image`` most similar keyframes more than ``skip`` apart.

    Similarity is the cosine of TF-IDF histograms of visual words; the words are SIFT
    descriptors drawn from the keyframes themselves (a fixed seed), each descriptor counted
    for its nearest word.
    """
    import pycolmap

    database = pycolmap.Database.open(db)
    try:
        by_name = {im.name: im.image_id for im in database.read_all_images()}
        rng = np.random.default_rng(0)
        descriptors = []
        for name in names:
            d = np.asarray(database.read_descriptors(by_name[name]).data, np.float32)
            descriptors.append(d[rng.choice(len(d), min(len(d), sample), replace=False)] if len(d) else d)
    finally:
        database.close()
    pool = np.concatenate([d for d in descriptors if len(d)])
    if len(pool) < words:
        return []
    vocab = pool[rng.choice(len(pool), words, replace=False)]
    vocab_sq = (vocab**2).sum(1)
    hist = np.zeros((len(names), words))
    for i, d in enumerate(descriptors):
        if len(d):
            nearest = np.argmin(vocab_sq[None, :] - 2 * d @ vocab.T, axis=1)
            hist[i] = np.bincount(nearest, minlength=words)
    idf = np.log(len(names) / np.maximum((hist > 0).sum(0), 1))
    hist = hist / np.maximum(hist.sum(1, keepdims=True), 1) * idf
    hist /= np.maximum(np.linalg.norm(hist, axis=1, keepdims=True), 1e-12)
    sim = hist @ hist.T
    pairs = set()
    for i in range(len(names)):
        far = [j for j in np.argsort(-sim[i], kind="stable") if abs(int(j) - i) > skip]
        for j in far[:per_image]:
            pairs.add((min(i, int(j)), max(i, int(j))))
    return [(names[a], names[b]) for a, b in sorted(pairs)]


def _match_pairs(db: Path, pairs: list[tuple[str, str]], work_dir: Path, options: PipelineOptions, n: int,
                 progress: Progress) -> None:
    import pycolmap

    if not pairs:
        return
    listing = work_dir / "retrieval_pairs.txt"
    listing.write_text("".join(f"{a} {b}\n" for a, b in pairs))
    matching = _matching_options(options)
    pairing = pycolmap.ImportedPairingOptions()
    pairing.match_list_path = listing
    with progress.stage("matching", n):
        pycolmap.match_image_pairs(db, matching_options=matching, pairing_options=pairing,
                                   verification_options=_verification_options(options), device=pycolmap.Device.cpu)


def _map(db: Path, image_dir: Path, out_dir: Path, options: PipelineOptions, n: int, progress: Progress,
         loose: bool, on_model: ModelCallback | None = None):
    import pycolmap

    mapping = pycolmap.IncrementalPipelineOptions()
    # One thread: on keyframe-sized problems Ceres spends more on coordinating two threads
    # than it gains (the sample mapped in 15 s with one, 22 s with two). Global bundle
    # adjustment after every 30% of growth instead of 10%, with capped iterations: the
    # result is the same to the pixel (mean reprojection error 0.335 px either way) in half
    # the time.
    mapping.num_threads = 1
    mapping.random_seed = -1 if options.seed is None else options.seed
    mapping.ba_global_frames_ratio = 1.3
    mapping.ba_global_points_ratio = 1.3
    mapping.ba_local_max_num_iterations = 20
    mapping.ba_global_max_num_iterations = 30
    mapping.ba_local_max_refinements = 1
    mapping.ba_global_max_refinements = 2
    mapping.extract_colors = True
    # Several models, keep the largest: a gap in the footage splits the walk in two instead
    # of ending it.
    mapping.multiple_models = True
    mapping.max_num_models = 4
    mapping.min_model_size = 3
    if loose:
        mapping.min_num_matches = 10
        mapping.mapper.init_min_num_inliers = 50
        mapping.mapper.init_min_tri_angle = 6.0
        mapping.mapper.init_max_forward_motion = 0.99
        mapping.mapper.abs_pose_min_num_inliers = 15
        mapping.mapper.abs_pose_min_inlier_ratio = 0.15
        mapping.mapper.max_reg_trials = 5
    out_dir.mkdir(parents=True, exist_ok=True)
    registered = [0]
    snapshots = out_dir / "snapshots"
    if on_model is not None:
        # COLMAP's own snapshots: the callbacks see no model, but a snapshot is written just
        # before the callback of the view that completes it.
        snapshots.mkdir()
        mapping.snapshot_path = str(snapshots)
        mapping.snapshot_frames_freq = SNAPSHOT_EVERY

    def on_image() -> None:
        registered[0] += 1
        progress("mapping", min(registered[0], n), n)
        if on_model is not None:
            _pass_snapshot(snapshots, on_model)

    def on_init() -> None:
        registered[0] = 2
        progress("mapping", 2, n)

    with progress.stage("mapping", n):
        models = pycolmap.incremental_mapping(db, image_dir, out_dir, options=mapping,
                                              initial_image_pair_callback=on_init, next_image_callback=on_image)
    shutil.rmtree(snapshots, ignore_errors=True)
    if not models:
        return None
    return max(models.values(), key=lambda r: r.num_reg_images())


def _pass_snapshot(folder: Path, on_model: ModelCallback) -> None:
    """Hand the newest snapshot to ``on_model`` and delete them all (each is a whole model)."""
    import pycolmap

    written = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.name)
    if not written:
        return
    try:
        on_model(pycolmap.Reconstruction(written[-1]))
    finally:
        for snapshot in written:
            shutil.rmtree(snapshot, ignore_errors=True)


def model_arrays(rec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points, their colours and the placed cameras' world_from_camera (OpenCV axes) of a model."""
    points = rec.points3D
    xyz = np.array([p.xyz for p in points.values()], np.float64).reshape(-1, 3)
    rgb = np.array([p.color for p in points.values()], np.uint8).reshape(-1, 3)
    poses = []
    for im in rec.images.values():
        if im.has_pose:
            m = np.eye(4)
            m[:3, :] = im.cam_from_world().matrix()
            poses.append(np.linalg.inv(m))
    return xyz, rgb, np.array(poses).reshape(-1, 4, 4)


def keyframe_matches(db: Path, names: list[str]) -> list[dict[str, int]]:
    """Per keyframe (in ``names`` order): SIFT features, keyframes it was verified against,
    and the inlier matches with all of them."""
    import pycolmap

    database = pycolmap.Database.open(db)
    try:
        id_of = {im.name: im.image_id for im in database.read_all_images()}
        features = {name: int(database.num_keypoints_for_image(id_of[name])) for name in names if name in id_of}
        pairs, inliers = database.read_two_view_geometry_num_inliers()
    finally:
        database.close()
    partners: dict[int, int] = {}
    matches: dict[int, int] = {}
    for pair, count in zip(pairs, inliers):
        if count <= 0:
            continue
        for image_id in pycolmap.pair_id_to_image_pair(pair):
            partners[image_id] = partners.get(image_id, 0) + 1
            matches[image_id] = matches.get(image_id, 0) + int(count)
    return [{"features": features.get(name, 0), "matched_keyframes": partners.get(id_of.get(name, -1), 0),
             "matches": matches.get(id_of.get(name, -1), 0)} for name in names]


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

    ids = np.array(sorted(rec.points3D.keys()), dtype=np.int64)
    pts = np.array([rec.points3D[i].xyz for i in ids]).reshape(-1, 3)
    cols = np.array([rec.points3D[i].color for i in ids], dtype=np.uint8).reshape(-1, 3)
    tracks = np.array([rec.points3D[i].track.length() for i in ids], dtype=np.int32)
    row_of = {int(pid): r for r, pid in enumerate(ids)}
    poses, views = [], []
    for im in images:
        m = np.eye(4)
        m[:3, :] = im.cam_from_world().matrix()
        poses.append(np.linalg.inv(m))
        seen = [row_of[p.point3D_id] for p in im.points2D if p.has_point3D() and p.point3D_id in row_of]
        views.append(np.array(sorted(seen), dtype=np.int64))
    return SfmResult([im.name for im in images], K, dist, np.stack(poses), pts, cols, views, tracks)
