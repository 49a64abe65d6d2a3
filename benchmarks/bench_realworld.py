"""Real camera footage: the embedded pipeline side by side with plain pycolmap defaults.

For every real set, in one run: frames placed / frames, camera-centre error after a
similarity alignment (% of the ground-truth path's extent, where ground truth exists),
faces, share of the mesh in its largest connected piece, wall seconds and peak RSS. Each
run is a fresh process, so peak RSS is its own. Preview PNGs of our meshes are written next
to the JSON, to look at.

Sets: every ``NAME.mp4`` (with ``NAME_gt.json`` holding camera centres ``C``, frame i = row
i) in ``--realdata`` (default ``$OPENSTRATE_REALDATA``), plus sequences built from Debian's
``visp-images-data`` when it is installed (``apt-get install visp-images-data``), plus the
cut-down set the test suite carries.

"Plain pycolmap" is what a user would run by hand on the same frames: frames at <= 960 px
(every k-th frame so at most 80), ``extract_features`` + ``match_exhaustive`` (<= 60 images)
or ``match_sequential``, then ``incremental_mapping``, all with default options.

    .venv/bin/python benchmarks/bench_realworld.py --realdata DIR [--sets a,b] [--only ours|colmap] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VISP = Path("/usr/share/visp-images-data/ViSP-images")
#: Debian visp-images-data sequences: (frames glob, frame rate).
VISP_SETS = {
    "visp_desk": ("mbt/cube/image*.pgm", 25),  # hand-held 640x480 grey, a desk with a cube; a hand passes
    "visp_castle_model": ("mbt-depth/castel/castel/image_*.pgm", 10),  # RGB-D camera over a castle model
    "visp_target_box": ("mire-2/image.*.pgm", 25),  # a box with a dot target turned in front of the camera
}


def _cache() -> Path:
    d = Path(os.environ.get("OPENSTRATE_BENCH_CACHE", Path(tempfile.gettempdir()) / "openstrate_bench")) / "realworld"
    d.mkdir(parents=True, exist_ok=True)
    return d


def encode_frames(files: list[Path], path: Path, fps: int) -> Path:
    """Encode image files to an H.264 MP4 (CRF 18) with PyAV."""
    import av
    import cv2

    first = cv2.imread(str(files[0]))
    h, w = first.shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        stream.options = {"crf": "18"}
        for f in files:
            rgb = cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB)[: h - h % 2, : w - w % 2]
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def find_sets(realdata: Path | None) -> dict[str, tuple[Path, np.ndarray | None]]:
    sets: dict[str, tuple[Path, np.ndarray | None]] = {}
    dirs = [ROOT / "tests" / "data"] + ([realdata] if realdata else [])
    for d in dirs:
        for video in sorted(d.glob("*.mp4")):
            gt = video.with_name(video.stem + "_gt.json")
            C = None
            if gt.exists():
                C = json.loads(gt.read_text()).get("C")
                C = np.asarray(C, float) if C else None
            sets[video.stem] = (video, C)
    if VISP.is_dir():
        for name, (pattern, fps) in VISP_SETS.items():
            files = sorted(VISP.glob(pattern))
            if files:
                path = _cache() / f"{name}.mp4"
                if not path.exists():
                    encode_frames(files, path, fps)
                sets[name] = (path, None)
    return sets


def sparse_coverage(glb: Path, points: Path, voxel: float) -> float:
    """Share of the SfM points (the features the photos measured) within two voxels of the
    mesh: a completeness figure for footage with no true surface to compare against."""
    import trimesh
    from scipy.spatial import cKDTree

    mesh = trimesh.load(str(glb), force="mesh", process=False)
    pts = np.asarray(trimesh.load(str(points)).vertices)
    if len(mesh.faces) == 0 or len(pts) == 0:
        return 0.0
    dist, _ = cKDTree(mesh.sample(1_000_000, seed=0)).query(pts)
    return float((dist < 2 * voxel).mean())


def centre_error(estimated: dict[int, np.ndarray], C: np.ndarray) -> dict:
    """Mean and largest camera-centre error after a similarity alignment, as % of the ground
    truth path's extent (the diagonal of the centres' bounding box)."""
    from openstrate_nb.scenes import umeyama

    idx = sorted(i for i in estimated if i < len(C))
    if len(idx) < 3:
        return {}
    est = np.array([estimated[i] for i in idx])
    true = C[idx]
    s, R, t = umeyama(est, true)
    err = np.linalg.norm(est @ R.T * s + t - true, axis=1)
    extent = float(np.linalg.norm(true.max(0) - true.min(0)))
    return {"centre_err_mean_pct": 100 * float(err.mean()) / extent, "centre_err_max_pct": 100 * float(err.max()) / extent}


# -- the two contestants, each in a fresh process ---------------------------------------

def _ours(video: str, work: str, queue) -> None:
    from openstrate_nb.local.pipeline import ReconstructionError, reconstruct

    t = time.monotonic()
    try:
        art = reconstruct(Path(video), Path(work), lambda s, c, n: None)
    except ReconstructionError as exc:
        queue.put({"error": str(exc), "code": exc.code, "wall_s": time.monotonic() - t, "peak_rss_mb": _rss()})
        return
    except Exception as exc:  # a bug: report it in the table rather than lose the row
        queue.put({"error": f"{type(exc).__name__}: {exc}", "code": "internal_error", "wall_s": time.monotonic() - t,
                   "peak_rss_mb": _rss()})
        return
    wall = time.monotonic() - t
    cams = json.loads(Path(art.cameras).read_text())["frames"]
    centres = {f["frame_index"]: np.asarray(f["world_from_camera"])[:3, 3].tolist() for f in cams}
    queue.put({"wall_s": wall, "peak_rss_mb": _rss(), "stats": art.stats, "glb": str(art.glb), "centres": centres,
               "points": str(art.points)})


def _colmap(video: str, work: str, queue) -> None:
    import av
    import cv2
    import pycolmap

    work_dir = Path(work)
    images = work_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    with av.open(video) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    stride = int(np.ceil(len(frames) / 80))
    for i in range(0, len(frames), stride):
        rgb = frames[i]
        h, w = rgb.shape[:2]
        s = min(1.0, 960 / max(h, w))
        if s < 1:
            rgb = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(images / f"{i:06d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    count = len(range(0, len(frames), stride))
    del frames
    t = time.monotonic()
    db = work_dir / "database.db"
    pycolmap.extract_features(db, images)
    if count <= 60:
        pycolmap.match_exhaustive(db)
    else:
        pycolmap.match_sequential(db)
    (work_dir / "sparse").mkdir(exist_ok=True)
    models = pycolmap.incremental_mapping(db, images, work_dir / "sparse")
    wall = time.monotonic() - t
    best = max(models.values(), key=lambda r: r.num_reg_images()) if models else None
    centres = {}
    if best is not None:
        centres = {int(im.name[:6]): im.projection_center().tolist() for im in best.images.values() if im.has_pose}
    queue.put({"wall_s": wall, "peak_rss_mb": _rss(), "frames": count, "placed": len(centres), "centres": centres,
               "models": len(models)})


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _in_child(target, video: Path, work: Path, limit_s: float) -> dict:
    import queue as queues

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(str(video), str(work), queue))
    start = time.monotonic()
    proc.start()
    while True:  # a child that dies (a crash in native code) or never ends must not hang the benchmark
        try:
            out = queue.get(timeout=1.0)
            break
        except queues.Empty:
            waited = time.monotonic() - start
            if not proc.is_alive() or waited > limit_s:
                proc.kill()
                proc.join()
                why = f"gave up after {limit_s:.0f} s" if waited > limit_s else f"died (exit code {proc.exitcode})"
                return {"error": why, "code": "limit" if waited > limit_s else "crashed", "wall_s": waited,
                        "peak_rss_mb": 0.0}
    proc.join()
    return out


def run_set(name: str, video: Path, C: np.ndarray | None, only: str | None, out_dir: Path,
            limit_s: float = 900.0) -> dict:
    import shutil

    row: dict = {"set": name}
    if only in (None, "ours"):
        work = _cache() / f"ours_{name}"
        shutil.rmtree(work, ignore_errors=True)
        ours = _in_child(_ours, video, work, limit_s)
        if "error" not in ours:
            s = ours["stats"]
            ours["placed"], ours["frames"] = s["registered"], s["keyframes"]
            ours["faces"] = s["faces"]
            ours["largest_piece_share"] = s["largest_piece_share"]
            ours["photo_set"] = s["photo_set"]
            ours["sparse_coverage"] = sparse_coverage(Path(ours["glb"]), Path(ours["points"]), s["voxel_size"])
            if C is not None:
                ours.update(centre_error({int(k): np.asarray(v) for k, v in ours["centres"].items()}, C))
            from openstrate_nb.local._preview import render_preview

            (out_dir / f"{name}.png").write_bytes(render_preview(Path(ours["glb"]), "glb"))
        ours.pop("centres", None)
        row["ours"] = ours
    if only in (None, "colmap"):
        work = _cache() / f"colmap_{name}"
        shutil.rmtree(work, ignore_errors=True)
        base = _in_child(_colmap, video, work, limit_s)
        if C is not None and base.get("placed"):
            base.update(centre_error({int(k): np.asarray(v) for k, v in base["centres"].items()}, C))
        base.pop("centres", None)
        row["colmap"] = base
    return row


def _fmt(r: dict | None) -> list[str]:
    if r is None:
        return ["—"] * 7
    if "error" in r:
        return [f"failed ({r['code']}): {r['error']}", "", "", "", "", f"{r['wall_s']:.0f}", f"{r['peak_rss_mb']:.0f}"]
    err = f"{r['centre_err_mean_pct']:.2f}% (max {r['centre_err_max_pct']:.2f}%)" if "centre_err_mean_pct" in r else "—"
    faces = f"{r['faces']:,}" if "faces" in r else "—"
    share = f"{100 * r['largest_piece_share']:.0f}%" if "largest_piece_share" in r else "—"
    covered = f"{100 * r['sparse_coverage']:.0f}%" if "sparse_coverage" in r else "—"
    return [f"{r['placed']}/{r['frames']}", err, faces, share, covered, f"{r['wall_s']:.0f}", f"{r['peak_rss_mb']:.0f}"]


def markdown(rows: list[dict]) -> str:
    head = ("| set | | placed | camera-centre error (mean, % of path) | faces | largest piece | SfM points on the mesh "
            "| wall s | peak RSS MB |\n|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for row in rows:
        for who in ("ours", "colmap"):
            if who in row:
                label = "openstrate_nb" if who == "ours" else "pycolmap defaults (sparse only)"
                lines.append(f"| {row['set']} | {label} | " + " | ".join(_fmt(row[who])) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--realdata", type=Path, default=os.environ.get("OPENSTRATE_REALDATA"))
    ap.add_argument("--sets", default="")
    ap.add_argument("--only", choices=["ours", "colmap"], default=None)
    ap.add_argument("--out", type=Path, default=_cache() / "results")
    ap.add_argument("--limit", type=float, default=900.0, help="seconds before a run is given up")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sets = find_sets(Path(args.realdata) if args.realdata else None)
    wanted = [s for s in args.sets.split(",") if s] or list(sets)
    rows = []
    for name in wanted:
        video, C = sets[name]
        row = run_set(name, video, C, args.only, args.out, args.limit)
        rows.append(row)
        print(json.dumps(row, default=float), flush=True)
    (args.out / "results.json").write_text(json.dumps(rows, indent=1, default=float))
    print(markdown(rows))
    print(f"\npreviews and results.json in {args.out}")


if __name__ == "__main__":
    main()
