"""How a result looks beside the video: vertex colours against the photo texture.

For every real set, in one run: the pipeline with ``texture=False`` (vertex colours, as
before the texture stage) and with the texture, on the same video; each result seen through
four keyframes' own cameras spread over the path (full result and the notebook's display
copy of ``max_faces`` faces), PSNR and SSIM over the pixels the mesh covers; the texture
stage's seconds and share of the job, the whole job against the vertex-coloured one, and
the GLB's bytes. Side-by-side sheets (frame | vertex colours | texture, full and display)
are written next to the JSON, to look at.

    .venv/bin/python benchmarks/bench_look.py --realdata ../shared/realdata [--sets a,b] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from _through_cameras import cameras, compare, mesh_arrays, render, side_by_side, spread, video_frames  # noqa: E402


def run(video: Path, work: Path, texture: bool) -> tuple[Path, dict, float]:
    from openstrate_nb.local.pipeline import PipelineOptions, reconstruct

    started = time.perf_counter()
    artifacts = reconstruct(video, work, lambda *a: None, options=PipelineOptions(texture=texture))
    return artifacts.glb, artifacts.stats, time.perf_counter() - started


def look(glb: Path, result_dir: Path, frames: dict[int, np.ndarray], picks: list[dict], max_faces: int,
         scale: float) -> tuple[dict, dict]:
    from openstrate_nb import load_glb

    # Each result through its own run's cameras at the same frames: two runs on real footage
    # do not place the cameras identically, and a result seen through the other run's
    # cameras is misaligned.
    own = {c["frame_index"]: c for c in cameras(result_dir)}
    picks = [own[c["frame_index"]] for c in picks]
    mesh = load_glb(glb)
    out, pictures = {}, {}
    for name, budget in (("full", None), ("display", max_faces)):
        arrays = mesh_arrays(mesh, budget)
        rows = []
        for cam in picks:
            picture, covered = render(arrays, cam, scale)
            rows.append(compare(picture, covered, frames[cam["frame_index"]]))
            pictures[(name, cam["frame_index"])] = picture
        out[name] = {"faces": int(len(arrays["index"]) // 3),
                     **{k: round(float(np.mean([r[k] for r in rows])), 3) for k in ("psnr", "ssim", "covered")},
                     "per_view": rows}
    return out, pictures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata")
    parser.add_argument("--sets", default="")
    parser.add_argument("--out", type=Path, default=Path("/tmp/openstrate_bench/look"))
    parser.add_argument("--max-faces", type=int, default=30_000)
    parser.add_argument("--scale", type=float, default=0.5, help="render size as a share of the working frames")
    args = parser.parse_args()
    import cv2

    args.out.mkdir(parents=True, exist_ok=True)
    wanted = {s for s in args.sets.split(",") if s}
    report = {}
    for video in sorted(args.realdata.glob("*.mp4")):
        if wanted and video.stem not in wanted:
            continue
        entry = {}
        results = {}
        for kind, texture in (("vertex", False), ("texture", True)):
            glb, stats, seconds = run(video, args.out / video.stem / kind, texture)
            results[kind] = glb
            entry[kind] = {"seconds": round(seconds, 2), "glb_bytes": glb.stat().st_size, "faces": stats["faces"],
                           "stage_seconds": stats["seconds"]}
        picks = spread(cameras(results["texture"].parent))
        frames = video_frames(video, {c["frame_index"] for c in picks})
        pictures = {}
        for kind, glb in results.items():
            entry[kind]["look"], pictures[kind] = look(glb, glb.parent, frames, picks, args.max_faces, args.scale)
        tex = entry["texture"]
        entry["texture_share_of_job"] = round(tex["stage_seconds"]["texture"] / tex["stage_seconds"]["total"], 3)
        entry["job_ratio"] = round(tex["seconds"] / entry["vertex"]["seconds"], 3)
        entry["glb_ratio"] = round(tex["glb_bytes"] / entry["vertex"]["glb_bytes"], 3)
        for copy in ("full", "display"):
            entry[f"psnr_gain_{copy}"] = round(tex["look"][copy]["psnr"] - entry["vertex"]["look"][copy]["psnr"], 2)
        entry["display_texture_vs_full_vertex"] = round(tex["look"]["display"]["psnr"]
                                                        - entry["vertex"]["look"]["full"]["psnr"], 2)
        for cam in picks:
            i = cam["frame_index"]
            rows = [side_by_side(frames[i], pictures["vertex"][(c, i)], pictures["texture"][(c, i)])
                    for c in ("full", "display")]
            cv2.imwrite(str(args.out / f"{video.stem}_frame{i:04d}.png"), cv2.cvtColor(np.concatenate(rows), cv2.COLOR_RGB2BGR))
        report[video.stem] = entry
        print(json.dumps({video.stem: {k: v for k, v in entry.items() if k not in ("vertex", "texture")}}), flush=True)
        for kind in ("vertex", "texture"):
            e = entry[kind]
            print(f"  {kind}: {e['seconds']} s, {e['glb_bytes']} B, full {e['look']['full']['psnr']} dB "
                  f"/ {e['look']['full']['ssim']}, display {e['look']['display']['psnr']} dB "
                  f"/ {e['look']['display']['ssim']}", flush=True)
    (args.out / "look.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
