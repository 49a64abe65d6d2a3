"""Reconstruction benchmark on synthetic scenes with ground truth.

Renders (once, cached) an orbit and a 20 s 960x540 walkthrough along an arc at eye height,
reconstructs each in a fresh process (so peak RSS is the pipeline's own), aligns the
estimated camera centres to the true ones with a similarity transform and reports
per-stage seconds, peak RSS, registration, camera-centre error, surface accuracy and
completeness (shares of the scene diagonal).

    .venv/bin/python benchmarks/bench_reconstruction.py [--scenes orbit,walkthrough] [--json out.json]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from openstrate_nb import scenes as syn  # noqa: E402

SCENES = {
    # One full turn in 6 s, looking down at the objects from 2.2 m.
    "orbit": dict(trajectory=lambda: syn.orbit_trajectory(duration_s=6.0, fps=30.0), width=960, height=540),
    # A person walking 150 degrees of an arc at 4.2 m radius in 20 s, filming at eye height.
    "walkthrough": dict(trajectory=lambda: syn.walkthrough_trajectory(duration_s=20.0, fps=30.0), width=960, height=540),
}


def _cache_dir() -> Path:
    d = Path(os.environ.get("OPENSTRATE_BENCH_CACHE", Path(tempfile.gettempdir()) / "openstrate_bench"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def ground_truth(name: str) -> syn.GroundTruth:
    spec = SCENES[name]
    return syn.GroundTruth(syn.make_scene(), syn.intrinsics(spec["width"], spec["height"], 65.0), spec["width"],
                           spec["height"], spec["trajectory"]())


def video(name: str) -> Path:
    """The scene's video, rendered on first use (``ss=1``: 960 px frames need no supersampling)."""
    path = _cache_dir() / f"{name}.mp4"
    if not path.exists():
        spec = SCENES[name]
        tmp = path.with_suffix(".part.mp4")
        t = time.monotonic()
        syn.render_video(tmp, syn.make_scene(), spec["trajectory"](), spec["width"], spec["height"], crf=18, ss=1)
        tmp.rename(path)
        print(f"rendered {name} in {time.monotonic() - t:.0f} s", flush=True)
    return path


def _child(video_path: str, work_dir: str, queue) -> None:
    from openstrate_nb.local.pipeline import ReconstructionError, reconstruct

    t = time.monotonic()
    try:
        art = reconstruct(Path(video_path), Path(work_dir), lambda s, c, n: None)
    except ReconstructionError as exc:
        queue.put({"error": str(exc)})
        return
    wall = time.monotonic() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    queue.put({"wall_s": wall, "peak_rss_mb": rss, "stats": art.stats, "glb": str(art.glb), "cameras": str(art.cameras)})


def run_scene(name: str) -> dict:
    from openstrate_nb.scenes import evaluate

    path = video(name)
    work = _cache_dir() / f"work_{name}"
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(str(path), str(work), queue))
    proc.start()
    out = queue.get()
    proc.join()
    if "error" in out:
        return {"scene": name, "error": out["error"]}
    metrics = evaluate(ground_truth(name), Path(out["glb"]), Path(out["cameras"]))
    return {"scene": name, **out, "metrics": metrics}


def markdown(results: list[dict]) -> str:
    lines = [
        "| scene | wall s | peak RSS MB | keyframes registered | camera err mean | acc mean | acc median | acc <=0.25% | acc <=0.5% | compl <=0.25% | compl <=0.5% |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['scene']} | failed: {r['error']} |")
            continue
        m, s = r["metrics"], r["stats"]
        lines.append(
            f"| {r['scene']} | {r['wall_s']:.1f} | {r['peak_rss_mb']:.0f} | {s['registered']}/{s['keyframes']} | "
            f"{100 * m['camera_centre_error_mean']:.3f}% | {100 * m['accuracy_mean']:.3f}% | {100 * m['accuracy_median']:.3f}% | "
            f"{100 * m['accuracy_within_0.25%']:.1f}% | {100 * m['accuracy_within_0.5%']:.1f}% | "
            f"{100 * m['completeness_within_0.25%']:.1f}% | {100 * m['completeness_within_0.5%']:.1f}% |"
        )
    lines.append("")
    lines.append("Seconds per stage:")
    lines.append("")
    for r in results:
        if "error" not in r:
            lines.append(f"- {r['scene']}: " + ", ".join(f"{k} {v:.1f}" for k, v in r["stats"]["seconds"].items()))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", default="orbit,walkthrough")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--render-only", action="store_true")
    args = ap.parse_args()
    names = [n for n in args.scenes.split(",") if n]
    if args.render_only:
        for n in names:
            video(n)
        return
    results = []
    for n in names:
        r = run_scene(n)
        results.append(r)
        print(json.dumps(r, indent=1, default=float), flush=True)
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
