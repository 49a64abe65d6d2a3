"""What reproducibility costs (issue 12), measured in one run.

1. Determinism: the bundled sample and the 20 s synthetic walkthrough, each reconstructed in
   fresh processes with the default seed (twice: all cores, then one thread) and without a
   seed (``PipelineOptions(seed=None)``: COLMAP's clock seeds, thread-order image ids).
   Reports wall time and the SHA-256 of GLB, points and cameras of every run.
2. Re-running a notebook: ``quickstart.ipynb`` executed twice with nbconvert, each time in a
   new kernel that starts its own embedded server (a new port) over the same data folder and
   cache; the second run should send nothing and start no job.

    .venv/bin/python benchmarks/bench_reproducibility.py [--videos sample,walkthrough] [--skip-notebook]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import hashlib, json, sys, time
from pathlib import Path
from openstrate_nb.local.pipeline import PipelineOptions, reconstruct
video, out, seed, threads = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
t = time.monotonic()
art = reconstruct(video, out, lambda *a: None,
                  options=PipelineOptions(seed=None if seed == "none" else int(seed), num_threads=threads))
wall = time.monotonic() - t
sha = lambda p: hashlib.sha256(Path(p).read_bytes()).hexdigest()
print(json.dumps({"wall_s": wall, "glb": sha(art.glb), "points": sha(art.points), "cameras": sha(art.cameras),
                  "faces": art.stats["faces"], "registered": art.stats["registered"]}))
"""


def videos() -> dict[str, Path]:
    from openstrate_nb.local import sample_video

    found = {"sample": sample_video()}
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_reconstruction

    found["walkthrough"] = bench_reconstruction.video("walkthrough")
    return found


def run_child(video: Path, seed: str, threads: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, "-c", CHILD, str(video), out, seed, str(threads)],
                              capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def determinism(names: list[str]) -> None:
    available = videos()
    print("| video | mode | threads | wall s | GLB sha256 | points sha256 | cameras sha256 | faces |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        runs = [("seed 0", "0", 0), ("no seed", "none", 0), ("seed 0", "0", 1)]
        results = []
        for label, seed, threads in runs:
            r = run_child(available[name], seed, threads)
            results.append(r)
            print(f"| {name} | {label} | {threads or 'all'} | {r['wall_s']:.1f} | {r['glb'][:12]} | {r['points'][:12]} | "
                  f"{r['cameras'][:12]} | {r['faces']:,} |", flush=True)
        seeded, unseeded, one_thread = results
        same = all(seeded[k] == one_thread[k] for k in ("glb", "points", "cameras"))
        print(f"<!-- {name}: seeded all cores vs one thread identical: {same}; "
              f"cost of determinism (seed 0 / no seed, all cores): {seeded['wall_s'] / unseeded['wall_s']:.2f}x -->",
              flush=True)


def _counts(data: Path) -> tuple[int, int]:
    with sqlite3.connect(data / "server" / "openstrate.sqlite3") as db:
        return (db.execute("SELECT count(*) FROM files WHERE kind = 'video'").fetchone()[0],
                db.execute("SELECT count(*) FROM jobs").fetchone()[0])


def _execute(notebook: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run a notebook with nbconvert in a new kernel: (wall seconds, seconds inside its cells)."""
    t = time.monotonic()
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--output", "executed.ipynb", str(notebook)], cwd=notebook.parent, env=env,
                   check=True, capture_output=True, timeout=1800)
    wall = time.monotonic() - t
    cells = 0.0
    for cell in json.loads((notebook.parent / "executed.ipynb").read_text())["cells"]:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            cells += (datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
                      - datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))).total_seconds()
    return wall, cells


def notebook_rerun() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k != "OPENSTRATE_BASE_URL"}
        env.update(OPENSTRATE_NB_DATA=str(tmp_path / "data"), OPENSTRATE_NB_CACHE=str(tmp_path / "cache"),
                   PYTHONPATH=str(ROOT))
        (tmp_path / "run").mkdir()
        notebook = tmp_path / "run" / "quickstart.ipynb"
        notebook.write_bytes((ROOT / "notebooks" / "quickstart.ipynb").read_bytes())
        walls = []
        for _ in range(2):
            wall, cells = _execute(notebook, env)
            walls.append(wall)
            print(f"quickstart run {len(walls)}: {wall:.1f} s ({cells:.1f} s inside its cells); videos stored, jobs: "
                  f"{_counts(tmp_path / 'data')}", flush=True)
        empty = tmp_path / "run" / "empty.ipynb"
        empty.write_text(json.dumps({"cells": [{"cell_type": "code", "execution_count": None, "id": "one",
                                                "metadata": {}, "outputs": [], "source": "1"}],
                                     "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        print(f"an empty notebook, same way: {_execute(empty, env)[0]:.1f} s (nbconvert and kernel start-up)",
              flush=True)
        with sqlite3.connect(tmp_path / "data" / "server" / "openstrate.sqlite3") as db:
            result = json.loads(db.execute("SELECT result FROM jobs").fetchone()[0])
        recon = result["stats"]["seconds"]["total"]
        print(f"reconstruction (stats.seconds.total): {recon:.1f} s; second run / first: {walls[1] / walls[0]:.3f}; "
              f"second run / reconstruction: {walls[1] / recon:.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", default="sample,walkthrough")
    parser.add_argument("--skip-notebook", action="store_true")
    args = parser.parse_args()
    names = [n for n in args.videos.split(",") if n]
    if names:
        determinism(names)
    if not args.skip_notebook:
        notebook_rerun()


if __name__ == "__main__":
    main()
