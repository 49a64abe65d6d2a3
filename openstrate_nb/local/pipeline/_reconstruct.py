"""The pipeline end to end: decode, keyframes, SfM, stereo depth, TSDF fusion, meshing, export."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import decode, keyframes
from ._options import PipelineOptions
from ._progress import Progress
from ._result import Artifacts, ProgressCallback, ReconstructionError

MIN_DURATION_S = 1.0
MIN_FRAMES = 10
DARK_LEVEL = 25.0  # mean grey level below which a frame is too dark to match
FLAT_SHARPNESS = 2.0  # variance of the Laplacian of a featureless or hopelessly blurred frame
MAX_CANDIDATES = 2400  # keyframe candidates kept from pass one (~60 KB of thumbnail each)


def reconstruct(video_path: Path, work_dir: Path, report: ProgressCallback, *,
                options: PipelineOptions | None = None) -> Artifacts:
    import cv2

    opts = options or PipelineOptions()
    cv2.setNumThreads(opts.threads())
    video_path, work_dir = Path(video_path), Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    progress = Progress(report)
    seconds: dict[str, float] = {}
    t_all = time.monotonic()

    # -- decoding: one pass keeps per-frame measures and small thumbnails, not the frames.
    t = time.monotonic()
    info = decode.probe(video_path)
    total = max(info.frame_count, 1)
    idx, times, thumbs, sharp, bright = [], [], [], [], []
    # Long videos: look at a bounded number of candidate frames (memory for thumbnails, time).
    stride = max(1, int(np.ceil(info.frame_count / MAX_CANDIDATES)))
    progress("decoding", 0, total)
    for i, ts, rgb in decode.frames(video_path, opts.max_long_side, stride=stride):
        th, s, b = keyframes.frame_measures(rgb)
        idx.append(i)
        times.append(ts)
        thumbs.append(th)
        sharp.append(s)
        bright.append(b)
        total = max(total, i + 1)
        progress.throttled("decoding", i + 1, total)
    progress("decoding", len(idx), len(idx))
    seconds["decoding"] = time.monotonic() - t
    duration = times[-1] if times else 0.0
    if len(idx) < MIN_FRAMES or duration < MIN_DURATION_S:
        raise ReconstructionError(
            f"The video is too short ({duration:.1f} s): film at least 3 seconds while moving around the subject."
        )
    stats = keyframes.FrameStats(idx, times, thumbs, np.asarray(sharp), np.asarray(bright))
    bright_ok = stats.brightness >= DARK_LEVEL
    if bright_ok.mean() < 0.3:
        raise ReconstructionError("The video is too dark: film in better light or turn on more lamps.")
    detail_ok = stats.sharpness >= FLAT_SHARPNESS
    if (bright_ok & detail_ok).mean() < 0.3:
        raise ReconstructionError("The video is too blurred or featureless: hold the camera steadier, move slower and film textured surfaces.")

    # -- keyframes by motion
    t = time.monotonic()
    usable = bright_ok & detail_ok & (keyframes.relative_sharpness(stats.sharpness) >= opts.min_relative_sharpness)
    motion = keyframes.motion_profile(thumbs[:: max(1, len(thumbs) // 60)])
    if motion.sum() < 0.05:
        raise ReconstructionError("The camera does not move: walk or pan slowly around the subject.")
    keys, step = keyframes.choose(stats, usable, opts.keyframe_step, opts.max_keyframes, opts.min_keyframes,
                                  report=lambda c, n: progress.throttled("keyframes", c, n))
    if len(keys) < 3:
        raise ReconstructionError("The camera does not move: walk or pan slowly around the subject.")
    frame_of_key = [idx[k] for k in keys]
    image_dir = work_dir / "keyframes"
    image_dir.mkdir(exist_ok=True)
    for old in image_dir.glob("*.png"):
        old.unlink()
    names, key_rgb, key_time = [], {}, {}
    wanted = set(frame_of_key)
    with progress.heartbeat("keyframes", len(wanted)):  # long gaps between keyframes decode silently
        for i, ts, rgb in decode.frames(video_path, opts.max_long_side, wanted):
            name = f"frame_{i:06d}.png"
            cv2.imwrite(str(image_dir / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            names.append(name)
            key_rgb[name] = rgb
            key_time[name] = ts
            progress.throttled("keyframes", len(names), len(wanted))
    del thumbs, stats
    seconds["keyframes"] = time.monotonic() - t
    height, width = next(iter(key_rgb.values())).shape[:2]

    # -- structure from motion
    from . import sfm

    t = time.monotonic()
    result = sfm.run(image_dir, names, work_dir / "sfm", opts, progress, long_side=max(width, height))
    seconds["sfm"] = time.monotonic() - t
    if result is not None:
        seconds.update({f"sfm_{k}": v for k, v in result.seconds.items()})
    n_reg = 0 if result is None else len(result.names)
    if result is None or n_reg < max(5, int(np.ceil(0.5 * len(names)))):
        raise ReconstructionError(
            f"Only {n_reg} of {len(names)} keyframes could be placed: film slower, with more overlap between views."
        )

    # -- dense depth from stereo pairs
    from . import depth as depth_mod

    t = time.monotonic()
    poses = result.world_from_camera
    views = []
    scale = min(1.0, opts.stereo_long_side / max(width, height))
    K_s = result.K.copy()
    K_s[:2] *= scale
    ranges = [depth_mod.median_scene_depth(poses[a], result.points, result.point_views[a]) for a in range(n_reg)]
    pairs = depth_mod.stereo_pairs(poses, ranges)
    for k, (left, right, z5, z95) in enumerate(pairs):
        progress("depth", k, len(pairs))
        il, ir = key_rgb[result.names[left]], key_rgb[result.names[right]]
        if scale != 1.0:
            size = (round(il.shape[1] * scale), round(il.shape[0] * scale))
            il, ir = cv2.resize(il, size, interpolation=cv2.INTER_AREA), cv2.resize(ir, size, interpolation=cv2.INTER_AREA)
        for view in depth_mod.pair_depth(il, ir, K_s, result.dist, poses[left], poses[right], (z5 * 0.6, z95 * 1.6),
                                         key_l=left, key_r=right):
            if (view.depth > 0).mean() > 0.02:
                views.append(view)
    views.sort(key=lambda v: v.key)
    with progress.heartbeat("depth", len(pairs)):
        progress("depth", len(pairs), len(pairs))
        depth_mod.consistency_filter(views)
    seconds["depth"] = time.monotonic() - t
    if len(views) < 2:
        raise ReconstructionError("No dense depth could be measured: film textured surfaces while moving sideways around them.")

    # -- fusion
    from .fusion import BlockTSDF

    t = time.monotonic()
    lo, hi = _scene_bounds(views)
    diag = float(np.linalg.norm(hi - lo))
    voxel = opts.voxel_rel * diag
    # Keep the grid bounded whatever the scene: coarser voxels for huge extents.
    voxel = max(voxel, diag / 1500.0)
    tsdf = BlockTSDF(lo, hi, voxel, trunc_voxels=4.0)
    for k, view in enumerate(views):
        progress("fusion", k, len(views))
        tsdf.integrate(view)
    progress("fusion", len(views), len(views))
    seconds["fusion"] = time.monotonic() - t

    # -- meshing
    from . import export

    t = time.monotonic()
    progress("meshing", 0, 1)
    with progress.heartbeat("meshing", 1):
        # Every depth kept was already confirmed by another stereo pair, so one view suffices.
        verts, faces, colors = tsdf.extract_mesh(min_views=1)
        del tsdf
        verts, faces, colors = export.remove_small_pieces(verts, faces, colors, opts.min_piece_share)
    if len(faces) == 0:
        raise ReconstructionError("No surface could be built: film textured surfaces slowly, from several sides.")
    progress("meshing", 1, 1)
    seconds["meshing"] = time.monotonic() - t

    # -- export
    t = time.monotonic()
    progress("export", 0, 3)
    T = export.upright_transform(poses, result.points)
    verts = export.apply(T, verts)
    glb = work_dir / "mesh.glb"
    export.write_glb(glb, verts, faces, colors)
    progress("export", 1, 3)
    points_path = work_dir / "points.ply"
    export.write_ply_points(points_path, export.apply(T, result.points), result.colors)
    progress("export", 2, 3)
    K = result.K
    frames = []
    for name, pose in zip(result.names, poses):
        m = T @ pose
        frames.append({
            "frame_index": int(name[6:12]), "time_s": round(float(key_time[name]), 6),
            "width": int(width), "height": int(height),
            "fx": float(K[0, 0]), "fy": float(K[1, 1]), "cx": float(K[0, 2]), "cy": float(K[1, 2]),
            "world_from_camera": [[float(x) for x in row] for row in m],
        })
    cameras_path = work_dir / "cameras.json"
    export.write_cameras(cameras_path, frames)
    progress("export", 3, 3)
    seconds["export"] = time.monotonic() - t
    seconds["total"] = time.monotonic() - t_all

    stats_out = {
        "frames": total, "duration_s": round(duration, 3), "width": int(width), "height": int(height),
        "rotation": info.rotation, "keyframes": len(names), "keyframe_step": round(step, 4),
        "registered": n_reg, "points": int(len(result.points)), "depth_maps": len(views),
        "stereo_scale": round(scale, 4), "voxel_size": voxel, "vertices": int(len(verts)), "faces": int(len(faces)),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }
    return Artifacts(glb=glb, points=points_path, cameras=cameras_path, stats=stats_out)


def _scene_bounds(views) -> tuple[np.ndarray, np.ndarray]:
    """Robust box around the depth points (ignores the farthest and stray 0.2%)."""
    samples = []
    rng = np.random.default_rng(0)
    for v in views:
        ys, xs = np.nonzero(v.depth > 0)
        if ys.size == 0:
            continue
        pick = rng.choice(ys.size, min(ys.size, 4000), replace=False)
        ys, xs = ys[pick], xs[pick]
        z = v.depth[ys, xs]
        cam = np.stack([(xs - v.K[0, 2]) / v.K[0, 0] * z, (ys - v.K[1, 2]) / v.K[1, 1] * z, z], 1)
        samples.append(cam @ v.world_from_camera[:3, :3].T + v.world_from_camera[:3, 3])
    pts = np.concatenate(samples)
    lo, hi = np.percentile(pts, 0.1, 0), np.percentile(pts, 99.9, 0)
    pad = 0.1 * (hi - lo)
    return lo - pad, hi + pad

