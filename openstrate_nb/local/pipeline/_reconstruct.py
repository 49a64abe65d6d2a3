"""The pipeline end to end, one function per stage (the shape of COLMAP's
``custom_incremental_pipeline.py``): scan the video, choose keyframes, structure from
motion, multi-view depth, fusion, meshing, export.

Each stage takes and returns plain typed values, reports progress under its own name and is
timed by ``Progress.stage``. A stage that cannot go on raises :class:`ReconstructionError`
with a sentence whose numbers are the ones that decided, and a ``code`` for programs.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..._camera import TEXTURE_PROJECTION_KEY
from ..._provenance import FORMAT as PROVENANCE_FORMAT
from ..._provenance import PROVENANCE_KEY, array_digest, library_versions, platform_description
from ...cache import file_sha256
from . import decode, keyframes
from ._options import PipelineOptions
from ._progress import Progress, expected_seconds
from ._result import Artifacts, ProgressCallback, ReconstructionError
from .recorder import STAGES_DIR, StageRecorder

MIN_VIEWS = 5  # fewer distinct views cannot make a useful model
DARK_LEVEL = 40.0  # a frame whose brightest tenth stays below this grey level (of 255) is too dark to match
MIN_PATH_MOTION = 0.05  # keyframes must move the view this share of the frame in all, or there is no parallax
FLAT_DETAIL = 10.0  # thumbnail sharpness of a featureless or out-of-focus frame (see keyframes.frame_measures)
MAX_CANDIDATES = 2400  # frames kept from pass one (~60 KB of thumbnail each)
MIN_PLACED_SHARE = 0.5  # below this share of keyframes placed, the model is not the video


@dataclass
class Footage:
    """What scanning the video learned."""

    info: decode.VideoInfo
    stats: keyframes.FrameStats
    detailed: np.ndarray  # frames bright and sharp enough to match
    usable: np.ndarray  # detailed, and among the sharpest of their neighbours (no motion blur)
    frames: int  # frames decoded
    duration_s: float


@dataclass
class Keyframes:
    """Keyframes on disk and in memory, in video order."""

    image_dir: Path
    names: list[str]
    rgb: dict[str, np.ndarray]
    frame_index: dict[str, int]
    time_s: dict[str, float]
    selection: keyframes.Selection
    #: Keyframes at the video's own resolution (for the texture), where larger than ``rgb``.
    full_dir: Path | None = None

    @property
    def size(self) -> tuple[int, int]:
        h, w = next(iter(self.rgb.values())).shape[:2]
        return w, h

    def full_rgb(self, name: str) -> np.ndarray:
        """A keyframe at the video's resolution (up to ``texture_long_side``)."""
        import cv2

        path = self.full_dir / name if self.full_dir is not None else None
        if path is None or not path.exists():
            return self.rgb[name]
        return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def reconstruct(video_path: Path, work_dir: Path, report: ProgressCallback, *,
                options: PipelineOptions | None = None, video_name: str | None = None) -> Artifacts:
    import cv2

    opts = options or PipelineOptions()
    cv2.setNumThreads(opts.threads())
    video_path, work_dir = Path(video_path), Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    progress = Progress(report)
    t_all = time.monotonic()
    record = provenance_record(video_path, video_name or video_path.name, opts)
    recorder = StageRecorder(work_dir / STAGES_DIR if opts.stage_artifacts else None)

    scan = measure_video(video_path, opts, progress)
    recorder.frames(*frame_report(scan, None, opts))  # written first: a refused video shows why
    footage = judge_footage(scan, opts)
    keys = choose_keyframes(video_path, footage, work_dir / "keyframes", opts, progress)
    recorder.frames(*frame_report(scan, keys.selection, opts))
    for name in keys.names:
        recorder.keyframe(name, keys.rgb[name])
    progress.expect(forecast(footage.frames, keys.size, len(keys.names), len(keys.names), opts))
    record["stages"]["keyframes"] = array_digest(np.array([keys.frame_index[n] for n in keys.names]),
                                                 *(keys.rgb[n] for n in keys.names))
    sparse = structure_from_motion(keys, work_dir / "sfm", opts, progress, recorder)
    progress.expect(forecast(footage.frames, keys.size, len(keys.names), len(sparse.names), opts))
    record["stages"]["sfm"] = array_digest(np.array([keys.frame_index[n] for n in sparse.names]), sparse.K,
                                           sparse.dist, sparse.world_from_camera, sparse.points)
    t_scale = time.monotonic()
    scale = measure_scale(keys, sparse, opts)
    t_scale = time.monotonic() - t_scale
    record["scale"] = {"units": "m", **scale.stats(opts.marker_size_m)["scale"]} if scale.factor else {"units": "unknown"}
    frame = ResultFrame.of(sparse, scale.factor)
    recorder.live_model(frame.points(sparse.points), sparse.colors,
                        preview_cameras(frame.poses(sparse.world_from_camera)), "mapping")
    recorder.sparse(frame.points(sparse.points), sparse.colors, sparse.track_lengths, sparse.names,
                    [keys.frame_index[n] for n in sparse.names], frame.poses(sparse.world_from_camera), frame.units)
    views, dense_stats = dense_depth(keys, sparse, opts, progress, recorder, frame)
    record["stages"]["depth"] = array_digest(np.array([v.key for v in views]), *(v.depth for v in views))
    mesh = fuse_and_mesh(views, opts, progress, recorder, frame)
    record["stages"]["fusion"] = array_digest(mesh.verts, mesh.faces, mesh.colors)
    texture = texture_mesh(keys, sparse, mesh, opts, progress) if opts.texture else None
    if texture is not None:
        record["stages"]["texture"] = array_digest(texture.faces, texture.vertex_of, texture.uv, texture.atlas)
        recorder.texture(texture.atlas, texture.label, texture.stats)
    files = export_result(work_dir, keys, sparse, mesh, texture, progress, record, frame, opts)

    seconds = dict(progress.seconds)
    seconds["scale"] = t_scale  # finding the markers (within no stage of its own: it takes little)
    seconds["total"] = time.monotonic() - t_all
    w, h = keys.size
    stats = {
        "frames": footage.frames, "duration_s": round(footage.duration_s, 3), "width": int(w), "height": int(h),
        "rotation": footage.info.rotation, "photo_set": keys.selection.photo_set,
        "keyframes": len(keys.names), "keyframe_step": round(keys.selection.step, 4),
        "keyframe_overlap_min": round(min(keys.selection.overlap), 3) if keys.selection.overlap else None,
        "registered": len(sparse.names), "points": int(len(sparse.points)), "sfm_attempts": sparse.attempts,
        **dense_stats, "voxel_size": mesh.voxel, "vertices": int(len(mesh.verts)), "faces": int(len(mesh.faces)),
        "largest_piece_share": round(mesh.largest_share, 4),
        **(texture.stats if texture is not None else {}),
        **scale.stats(opts.marker_size_m),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }
    return Artifacts(glb=files["glb"], points=files["points"], cameras=files["cameras"], stats=stats,
                     provenance={**record, "seconds": stats["seconds"]})


def forecast(frames: int, size: tuple[int, int], keyframes: int, placed: int, opts: PipelineOptions) -> dict:
    """Expected seconds of every stage, from what is known so far (see ``Progress``)."""
    w, h = size
    return expected_seconds(frames=frames, megapixels=w * h / 1e6, keyframes=keyframes,
                            upsampled=(opts.sift_first_octave == -1 if opts.sift_first_octave is not None
                                       else max(w, h) < 700),
                            depth_views=min(placed, opts.max_depth_views),
                            exhaustive=keyframes <= opts.exhaustive_matching_up_to, match_overlap=opts.match_overlap)


def provenance_record(video_path: Path, video_name: str, opts: PipelineOptions) -> dict:
    """What decides the result, before it is made (see :mod:`openstrate_nb._provenance`).

    ``num_threads`` and ``stage_artifacts`` are left out: the result does not depend on them,
    and the GLB's bytes must not either.
    """
    options = {k: v for k, v in dataclasses.asdict(opts).items() if k not in ("num_threads", "stage_artifacts")}
    return {
        "format": PROVENANCE_FORMAT,
        "video": {"sha256": file_sha256(video_path), "size": video_path.stat().st_size, "name": video_name},
        "options": options,
        "deterministic": opts.seed is not None,
        "versions": library_versions(),
        "platform": platform_description(),
        "stages": {},
    }


# -- stages ------------------------------------------------------------------------------

@dataclass
class Scan:
    """Pass one over the video: per-frame measures and small thumbnails (not the frames)."""

    info: decode.VideoInfo
    stats: keyframes.FrameStats
    duration_s: float

    @property
    def frames(self) -> int:
        return len(self.stats.index)

    @property
    def lit(self) -> np.ndarray:
        return self.stats.brightness >= DARK_LEVEL

    @property
    def detailed(self) -> np.ndarray:
        return self.lit & (self.stats.detail >= FLAT_DETAIL)


def measure_video(video_path: Path, opts: PipelineOptions, progress: Progress) -> Scan:
    """Decode once, keeping per-frame measures and small thumbnails (not the frames)."""
    info = decode.probe(video_path)
    total = max(info.frame_count, 1)
    # Before a frame is read, the forecast guesses from the container: frames, size, and
    # about three keyframes a second (a photo set keeps every frame; SfM will say).
    scale = min(1.0, opts.max_long_side / max(info.width, info.height, 1))
    size = (int(info.width * scale), int(info.height * scale))
    guess = int(np.clip(3 * info.duration_s, opts.min_keyframes, opts.max_keyframes))
    progress.video_frames = info.frame_count or None
    progress.expect(forecast(total, size, guess, guess, opts))
    idx, times, thumbs, sharp, bright, detail = [], [], [], [], [], []
    # Long videos: look at a bounded number of frames (memory for thumbnails, time).
    stride = max(1, int(np.ceil(info.frame_count / MAX_CANDIDATES)))
    with progress.stage("decoding", total):
        for i, ts, rgb in decode.frames(video_path, opts.max_long_side, stride=stride):
            th, s, b, d = keyframes.frame_measures(rgb)
            idx.append(i)
            times.append(ts)
            thumbs.append(th)
            sharp.append(s)
            bright.append(b)
            detail.append(d)
            total = max(total, i + 1)
            progress.throttled("decoding", i + 1, total)
        progress.video_frames = total
        progress("decoding", len(idx), len(idx))
    stats = keyframes.FrameStats(idx, times, thumbs, np.asarray(sharp), np.asarray(bright), np.asarray(detail))
    return Scan(info, stats, times[-1] if times else 0.0)


def frame_report(scan: Scan, selection: keyframes.Selection | None,
                 opts: PipelineOptions) -> tuple[list[dict], dict[str, float]]:
    """Every decoded frame's measures and what became of it (``frames.json``), and the
    thresholds that decided: ``why`` is ``keyframe``, ``too_dark``, ``flat_or_out_of_focus``,
    ``motion_blur`` (less sharp than its neighbours), ``between_keyframes``, or
    ``candidate`` before keyframes are chosen."""
    stats = scan.stats
    relative = keyframes.relative_sharpness(stats.sharpness) if scan.frames else np.zeros(0)
    kept = set(selection.positions) if selection is not None else set()
    motion = selection.motion if selection is not None else {}
    rows = []
    for p in range(scan.frames):
        if p in kept:
            why = "keyframe"
        elif not scan.lit[p]:
            why = "too_dark"
        elif not scan.detailed[p]:
            why = "flat_or_out_of_focus"
        elif relative[p] < opts.min_relative_sharpness:
            why = "motion_blur"
        else:
            why = "between_keyframes" if selection is not None else "candidate"
        moved = motion.get(p)
        rows.append({
            "index": int(stats.index[p]), "time_s": round(float(stats.time_s[p]), 4),
            "sharpness": round(float(stats.sharpness[p]), 2), "relative_sharpness": round(float(relative[p]), 3),
            "brightness": round(float(stats.brightness[p]), 1), "detail": round(float(stats.detail[p]), 2),
            "motion": round(moved, 4) if moved is not None and np.isfinite(moved) else None,
            "kept": p in kept, "why": why,
        })
    thresholds = {"dark_level": DARK_LEVEL, "flat_detail": FLAT_DETAIL,
                  "min_relative_sharpness": opts.min_relative_sharpness, "keyframe_step": opts.keyframe_step,
                  "min_overlap": opts.min_overlap}
    return rows, thresholds


def judge_footage(scan: Scan, opts: PipelineOptions) -> Footage:
    """The footage, or the reason (with its numbers) no reconstruction can come of it."""
    n, stats = scan.frames, scan.stats
    if n < MIN_VIEWS:
        raise ReconstructionError(
            f"The video has only {n} frame{'s' if n != 1 else ''}: a reconstruction needs at least {MIN_VIEWS} views "
            "from different positions, so film for a few seconds while walking around the subject.", "too_short")
    lit = scan.lit
    if lit.sum() < MIN_VIEWS:
        raise ReconstructionError(
            f"The video is too dark: only {int(lit.sum())} of {n} frames have enough light to see detail; "
            "film in better light or turn on more lamps.", "too_dark")
    detailed = scan.detailed
    if detailed.sum() < MIN_VIEWS:
        raise ReconstructionError(
            f"The video is too blurred or featureless: only {int(detailed.sum())} of {n} frames are lit and show sharp "
            "detail; "
            "hold the camera steadier, move slower and film textured surfaces.", "too_blurred")
    usable = detailed & (keyframes.relative_sharpness(stats.sharpness) >= opts.min_relative_sharpness)
    return Footage(scan.info, stats, detailed, usable, n, scan.duration_s)


def select_keyframes(footage: Footage, opts: PipelineOptions,
                     report: Callable[[int, int], None] | None = None) -> keyframes.Selection:
    """Which frames become keyframes (by tracked overlap and motion), and how far the view moved."""
    return keyframes.choose(footage.stats, footage.usable, opts.keyframe_step, opts.min_overlap, opts.max_keyframes,
                            opts.min_keyframes, footage.detailed, report=report)


def require_motion(footage: Footage, sel: keyframes.Selection) -> None:
    """A camera that hardly moves sees no depth: stop with the numbers."""
    if sel.path_motion < MIN_PATH_MOTION:
        raise ReconstructionError(
            f"The camera hardly moves: over {footage.duration_s:.1f} s the view shifts by "
            f"{100 * sel.path_motion:.1f}% of the frame in all; walk slowly around the subject while filming.",
            "no_motion")


def choose_keyframes(video_path: Path, footage: Footage, image_dir: Path, opts: PipelineOptions,
                     progress: Progress) -> Keyframes:
    """Keyframes by tracked overlap and motion, decoded again at working size and written for SfM."""
    import cv2

    stats = footage.stats
    with progress.stage("keyframes", len(stats.index)):
        sel = select_keyframes(footage, opts, report=lambda c, n: progress.throttled("keyframes", c, n))
        require_motion(footage, sel)
        if len(sel.positions) < MIN_VIEWS:
            # Some motion but few keyframes: let SfM judge evenly spread frames rather than give up here.
            good = np.nonzero(footage.usable)[0]
            pick = np.unique(np.round(np.linspace(0, len(good) - 1, min(len(good), opts.min_keyframes))).astype(int))
            sel = keyframes.Selection([int(good[k]) for k in pick], sel.step, [], sel.photo_set, sel.path_motion,
                                      sel.motion)
        frame_of = {stats.index[p]: p for p in sel.positions}
        image_dir.mkdir(parents=True, exist_ok=True)
        full_dir = image_dir / "full"
        for old in [*image_dir.glob("*.png"), *full_dir.glob("*.png")]:
            old.unlink()
        names, rgb_of, index_of, time_of = [], {}, {}, {}
        # Decoded once at the texture's size, with or without a texture, and the working copy
        # resized from it: the working pixels do not depend on the texture option (a decode
        # straight at the working size differs from the resized copy by a grey level here and
        # there).
        long_side = max(opts.max_long_side, opts.texture_long_side)
        for i, ts, big in decode.frames(video_path, long_side, set(frame_of)):
            name = f"frame_{i:06d}.png"
            size = decode.output_size(big.shape[1], big.shape[0], opts.max_long_side)
            rgb = big if size == big.shape[1::-1] else cv2.resize(big, size, interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(image_dir / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            if rgb is not big and opts.texture:
                full_dir.mkdir(exist_ok=True)
                cv2.imwrite(str(full_dir / name), cv2.cvtColor(big, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1])
            names.append(name)
            rgb_of[name], index_of[name], time_of[name] = rgb, i, ts
            progress.throttled("keyframes", len(names), len(frame_of))
    return Keyframes(image_dir, names, rgb_of, index_of, time_of, sel, full_dir if full_dir.exists() else None)


def structure_from_motion(keys: Keyframes, work_dir: Path, opts: PipelineOptions, progress: Progress,
                          recorder: StageRecorder):
    from . import outputs, sfm

    def show_model(model) -> None:
        points, colors, poses = sfm.model_arrays(model)
        if len(points) >= 10 and len(poses) >= 2:
            T = outputs.upright_transform(poses, points)
            recorder.live_model(outputs.apply(T, points), colors, preview_cameras(T @ poses), "mapping")

    w, h = keys.size
    result = sfm.run(keys.image_dir, keys.names, work_dir, opts, progress, long_side=max(w, h),
                     on_model=show_model if recorder.enabled else None)
    n, placed = len(keys.names), 0 if result is None else len(result.names)
    if recorder.enabled:
        placed_names = set(result.names) if result is not None else set()
        seen = dict(zip(result.names, (len(v) for v in result.point_views))) if result is not None else {}
        recorder.features([{"name": name, "frame_index": keys.frame_index[name], **counts,
                            "placed": name in placed_names, "points_seen": seen.get(name, 0)}
                           for name, counts in zip(keys.names, sfm.keyframe_matches(work_dir / "database.db", keys.names))])
    if result is None or placed < max(MIN_VIEWS, int(np.ceil(MIN_PLACED_SHARE * n))):
        raise ReconstructionError(
            f"Only {placed} of {n} keyframes could be placed: film slower and closer, with more overlap between "
            "views and textured surfaces in view.", "not_enough_views")
    return result


def measure_scale(keys: Keyframes, sparse, opts: PipelineOptions):
    """Metres per unit from the printed markers in the placed keyframes (see ``scale.py``)."""
    from .scale import marker_scale

    K = sparse.K.astype(np.float64).copy()
    K[:2, 2] -= 0.5  # COLMAP's pixel-corner origin to OpenCV's pixel centres, where markers are found
    return marker_scale(keys.rgb, sparse.names, sparse.world_from_camera, K, sparse.dist, opts.marker_size_m)


def preview_cameras(world_from_camera: np.ndarray) -> list[dict]:
    """The live preview's cameras: poses only (the final cameras.json also has intrinsics)."""
    return [{"world_from_camera": [[round(float(x), 6) for x in row] for row in m]} for m in world_from_camera]


@dataclass
class ResultFrame:
    """The frame the result is given in: upright (the floor level, the first view looking
    down -z) and, when markers gave the scale, in metres."""

    T: np.ndarray  # 4x4 from the SfM frame, the scale included
    scale: float  # metres per SfM unit, or 1.0 when unknown
    units: str  # "m" or "arbitrary"

    @classmethod
    def of(cls, sparse, metres_per_unit: float | None) -> ResultFrame:
        from . import outputs

        T = outputs.upright_transform(sparse.world_from_camera, sparse.points)
        scale = metres_per_unit or 1.0
        T[:3] *= scale  # glTF's unit is the metre: a marker-scaled GLB is a correct one
        return cls(T, scale, "m" if metres_per_unit else "arbitrary")

    def points(self, pts: np.ndarray) -> np.ndarray:
        return pts @ self.T[:3, :3].T + self.T[:3, 3]

    def poses(self, world_from_camera: np.ndarray) -> np.ndarray:
        m = self.T @ world_from_camera
        m[..., :3, :3] /= self.scale  # a camera's axes stay unit vectors; only its position scales
        return m


def dense_depth(keys: Keyframes, sparse, opts: PipelineOptions, progress: Progress, recorder: StageRecorder,
                frame: ResultFrame):
    """A depth map for (at most ``max_depth_views``) registered keyframes, matched against
    their best neighbours, then cross-checked between views."""
    from . import depth, outputs

    poses = sparse.world_from_camera
    n = len(poses)
    # The floor (or the ground), if the sparse points have one, is swept as well as the
    # fronto-parallel planes: it is the surface most often seen at a grazing angle.
    # (Outdoors the ground holds few of the SfM points, most lie on walls: 5% is enough here.)
    floor = outputs.fit_floor(sparse.points, outputs.camera_up(poses), np.random.default_rng(0), min_share=0.05)
    extent = float(np.linalg.norm(np.percentile(sparse.points, 95, 0) - np.percentile(sparse.points, 5, 0)))
    refs = np.unique(np.round(np.linspace(0, n - 1, min(n, opts.max_depth_views))).astype(int)).tolist()
    with progress.stage("depth", len(refs)):
        images = [depth.prepare_view(keys.rgb[name], sparse.K, sparse.dist, poses[i], opts.dense_long_side)
                  for i, name in enumerate(sparse.names)]
        centres = poses[:, :3, 3]

        def depth_of(ref: int):
            near_far = depth.depth_range(images[ref], sparse.points, sparse.point_views[ref])
            nbrs = depth.neighbour_views(ref, centres, sparse.points, sparse.point_views, opts.dense_neighbours)
            if near_far is None or not nbrs:
                return None
            srcs = [images[j] for j in nbrs]
            planes = depth.sweep_count(images[ref], srcs, *near_far)
            extra = ()
            if floor is not None:
                seen = sparse.points[sparse.point_views[ref]]
                found = depth.plane_offsets(images[ref], seen, floor, 0.01 * extent)
                if found is not None:
                    extra = (depth.sweep_for(images[ref], srcs, found[1], found[2], found[0]),)
            z, score = depth.plane_sweep(images[ref], srcs, *near_far, planes, extra=extra)
            z[score < opts.min_ncc] = 0
            depth.fill_planar_holes(z)
            im = images[ref]
            return depth.DepthView(z, score, im.rgb, im.K, im.world_from_camera, ref, tuple(nbrs))

        # OpenCV and NumPy release the GIL, so threads share the cores without copying images.
        views = []
        with ThreadPoolExecutor(max_workers=opts.threads()) as pool:
            for k, view in enumerate(pool.map(depth_of, refs)):
                progress("depth", k + 1, len(refs))
                if view is not None:
                    views.append(view)
                    if recorder.enabled:  # the surface appears, view by view
                        ys, xs, pts = depth.world_points(view)
                        recorder.live_add_points(frame.points(pts), view.rgb[ys, xs], "depth")
        neighbours = {v.key: list(v.sources) for v in views}
        # Confirm against every view that matched with this one, either way round.
        for v in views:
            for j in v.sources:
                neighbours.setdefault(j, [])
                if v.key not in neighbours[j]:
                    neighbours[j].append(v.key)
        measured = sum(int((v.depth > 0).sum()) for v in views)
        depth.consistency_filter(views, neighbours)
        kept = [v for v in views if (v.depth > 0).mean() > 0.01]
        for v in kept:
            recorder.depth(sparse.names[v.key], v.depth * frame.scale, v.score, v.K,
                           frame.poses(v.world_from_camera[None])[0], frame.units)
    confirmed = sum(int((v.depth > 0).sum()) for v in kept)
    if len(kept) < 2:
        raise ReconstructionError(
            f"No dense depth could be measured: {len(kept)} of {len(refs)} views kept confirmed depth; film textured "
            "surfaces while moving around them rather than turning on the spot.", "no_depth")
    stats = {"depth_maps": len(kept), "depth_measured": measured, "depth_confirmed": confirmed,
             "dense_long_side": opts.dense_long_side}
    return kept, stats


@dataclass
class Mesh:
    verts: np.ndarray
    faces: np.ndarray
    colors: np.ndarray
    voxel: float
    largest_share: float


def fuse_and_mesh(views, opts: PipelineOptions, progress: Progress, recorder: StageRecorder,
                  frame: ResultFrame) -> Mesh:
    from . import outputs
    from .fusion import BlockTSDF

    with progress.stage("fusion", len(views)):
        lo, hi = _scene_bounds(views)
        diag = float(np.linalg.norm(hi - lo))
        # A voxel of a couple of pixel footprints at the typical depth: finer is noise, coarser
        # loses detail. The grid stays bounded whatever the scene.
        footprint = float(np.median([np.median(v.depth[v.depth > 0]) / v.K[0, 0] for v in views]))
        voxel = max(opts.voxel_pixels * footprint, diag / 1500.0)
        tsdf = BlockTSDF(lo, hi, voxel, trunc_voxels=4.0, threads=opts.threads())
        for k, view in enumerate(views):
            progress("fusion", k, len(views))
            tsdf.integrate(view)
        progress("fusion", len(views), len(views))
    with progress.stage("meshing", 1):
        # Every depth kept was already confirmed by another view, so one view suffices.
        verts, faces, colors = tsdf.extract_mesh(min_views=1)
        del tsdf
        pieces = outputs.face_pieces(len(verts), faces)
        largest = outputs.largest_piece_share(pieces)
        extracted = len(faces)
        verts, faces, colors = outputs.remove_small_pieces(verts, faces, colors, opts.min_piece_share, pieces)
        progress("meshing", 1, 1)
    recorder.fusion({
        "units": frame.units, "voxel_size": voxel * frame.scale, "depth_views": len(views),
        "depth_points_fused": int(sum(int((v.depth > 0).sum()) for v in views)),
        "grid_size": [int(x) for x in np.ceil((hi - lo) / voxel)],
        "faces_extracted": int(extracted), "pieces": int(len(np.unique(pieces))) if len(pieces) else 0,
        "largest_piece_share": round(float(largest), 4), "min_piece_share": opts.min_piece_share,
        "faces_kept": int(len(faces)), "vertices_kept": int(len(verts)),
    })
    if len(faces) == 0:
        raise ReconstructionError("No surface could be built from the depth maps: film textured surfaces slowly, "
                                  "from several sides.", "no_depth")
    return Mesh(verts, faces, colors, voxel, largest)


def texture_mesh(keys: Keyframes, sparse, mesh: Mesh, opts: PipelineOptions, progress: Progress):
    """The mesh's photo texture from the placed keyframes at the video's resolution (``texture.py``)."""
    from .depth import scale_intrinsics
    from .texture import TextureSource, bake_texture

    w, h = keys.size
    K = sparse.K.astype(np.float64).copy()
    K[:2, 2] -= 0.5  # COLMAP's pixel corners to pixel centres
    dist = np.zeros(5)
    dist[: min(5, len(sparse.dist))] = sparse.dist[:5]
    with progress.stage("texture", len(sparse.names) + 1):
        sources = []
        for k, (name, pose) in enumerate(zip(sparse.names, sparse.world_from_camera)):
            rgb = keys.full_rgb(name)
            sources.append(TextureSource(rgb, scale_intrinsics(K, rgb.shape[1] / w, rgb.shape[0] / h), dist, pose))
            progress.throttled("texture", k + 1, len(sparse.names) + 1)
        texture = bake_texture(mesh.verts, mesh.faces, mesh.colors, sources, tolerance=2.0 * mesh.voxel,
                               smoothness=opts.texture_smoothness, levelling=opts.texture_levelling,
                               max_side=opts.max_texture_side)
        progress("texture", len(sparse.names) + 1, len(sparse.names) + 1)
    texture.stats["texture_source_size"] = [int(sources[0].rgb.shape[1]), int(sources[0].rgb.shape[0])]
    return texture


def filmed_from(keys: Keyframes, sparse, mesh: Mesh, texture, frame: ResultFrame):
    """The glTF camera a viewer opens at: the keyframe that sees the largest area of the
    model (the middle of the path may face a wall; this one shows the most of what was filmed)."""
    from ..._gltf import GltfCamera

    k = texture.best_source
    name = sparse.names[k]
    w, h = keys.size
    pose = frame.poses(sparse.world_from_camera[k][None])[0]
    sfm_pose = sparse.world_from_camera[k]
    z = (mesh.verts - sfm_pose[:3, 3]) @ sfm_pose[:3, 2]  # depth along the camera's axis
    depth = float(np.median(z[z > 0])) * frame.scale if np.any(z > 0) else 1.0
    fy = float(sparse.K[1, 1])
    return GltfCamera(pose, yfov=2.0 * np.arctan(h / (2.0 * fy)), aspect=w / h, znear=depth / 1000.0,
                      extras={"frame_index": int(keys.frame_index[name]), "keyframe": name,
                              "target_distance": round(depth, 6)})


def texture_projection(texture, frame: ResultFrame) -> dict:
    """How the atlas was cut from the keyframes, in the result's frame: each keyframe's camera
    and each rectangle's place (``texture.Texture.rectangles``). A simplified copy of the mesh
    (``openstrate_nb.mesh.display_mesh``) projects its own vertices with these, so its texture
    lies on it as the keyframes saw it, not shifted by the simplification."""
    h, w = texture.atlas.shape[:2]
    poses = frame.poses(np.asarray([pose for _, _, pose in texture.cameras]))
    return {
        "atlas_size": [int(w), int(h)],
        "cameras": [{"K": [round(float(x), 6) for x in np.ravel(K)], "dist": [round(float(x), 9) for x in np.ravel(d)],
                     "world_from_camera": [round(float(x), 9) for x in np.ravel(p)]}
                    for (K, d, _), p in zip(texture.cameras, poses)],
        "rectangles": [[int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]),
                        round(float(r[7]), 6), round(float(r[8]), 6)] for r in texture.rectangles],
    }


def export_result(work_dir: Path, keys: Keyframes, sparse, mesh: Mesh, texture, progress: Progress,
                  record: dict, frame: ResultFrame, opts: PipelineOptions) -> dict[str, Path]:
    """The GLB (with ``record`` and the mesh's digest in ``asset.extras``), points and camera
    path, in the result's frame (upright, and in metres when markers gave the scale)."""
    from . import outputs
    from ..._gltf import glb_bytes, jpeg_bytes

    with progress.stage("export", 3):
        T = frame.T
        glb = work_dir / "mesh.glb"
        verts = outputs.apply(T, mesh.verts).astype(np.float32)
        if texture is not None:
            jpeg = jpeg_bytes(texture.atlas, opts.texture_quality)
            positions, faces = verts[texture.vertex_of], texture.faces.astype(np.uint32)
            # The digest of exactly what the GLB stores: positions, indices, UVs and the JPEG.
            record["geometry_sha256"] = record["stages"]["mesh"] = array_digest(
                positions, faces, texture.uv, np.frombuffer(jpeg, np.uint8))
            camera = filmed_from(keys, sparse, mesh, texture, frame)
            data = glb_bytes(positions, faces, uv=texture.uv, texture_jpeg=jpeg, camera=camera,
                             extras={PROVENANCE_KEY: record},
                             mesh_extras={TEXTURE_PROJECTION_KEY: texture_projection(texture, frame)})
            glb.write_bytes(data)
        else:
            faces = mesh.faces.astype(np.uint32)
            record["geometry_sha256"] = record["stages"]["mesh"] = array_digest(verts, faces, mesh.colors)
            outputs.write_glb(glb, verts, faces, mesh.colors, extras={PROVENANCE_KEY: record})
        progress("export", 1, 3)
        points_path = work_dir / "points.ply"
        outputs.write_ply_points(points_path, outputs.apply(T, sparse.points), sparse.colors)
        progress("export", 2, 3)
        w, h = keys.size
        K = sparse.K
        frames = []
        for name, m in zip(sparse.names, frame.poses(sparse.world_from_camera)):
            frames.append({
                "frame_index": keys.frame_index[name], "time_s": round(float(keys.time_s[name]), 6),
                "width": int(w), "height": int(h),
                "fx": float(K[0, 0]), "fy": float(K[1, 1]), "cx": float(K[0, 2]), "cy": float(K[1, 2]),
                "world_from_camera": [[float(x) for x in row] for row in m],
            })
        cameras_path = work_dir / "cameras.json"
        outputs.write_cameras(cameras_path, frames, frame.units)
        progress("export", 3, 3)
    return {"glb": glb, "points": points_path, "cameras": cameras_path}


def _scene_bounds(views) -> tuple[np.ndarray, np.ndarray]:
    """Robust box around the depth points (ignores the farthest and stray 0.2%)."""
    from .depth import world_points

    samples = []
    rng = np.random.default_rng(0)
    for v in views:
        _, _, pts = world_points(v)
        if len(pts):
            samples.append(pts[rng.choice(len(pts), min(len(pts), 4000), replace=False)])
    pts = np.concatenate(samples)
    lo, hi = np.percentile(pts, 0.1, 0), np.percentile(pts, 99.9, 0)
    pad = 0.1 * (hi - lo)
    return lo - pad, hi + pad
