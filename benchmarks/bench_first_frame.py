"""Time to the first drawn frame: the kernel's pythreejs view against the /view page, same GLB, same browser.

    .venv/bin/python benchmarks/bench_first_frame.py [--rounds 3] [--glb PATH ...]

For each GLB (by default a 1.31M-face vertex-coloured icosphere and, when one is given with
--glb, a real reconstruction), in one headless Chromium:

* the /view page: the embedded server serves the uploaded GLB; from ``page.goto`` of its
  ``/view`` URL until the viewer reports ``data-state="ready"`` (its ``mount`` resolves
  once the first frame with the mesh is drawn);
* pythreejs: a JupyterLab cell ``show_mesh(load_glb(path))``; from running the cell until
  its canvas is in the page and two animation frames have passed (pythreejs draws when the
  view is created). This includes reading the GLB in the kernel, decimating it to the
  display budget (30,000 faces) and sending the copy over the websocket.

A warm-up round of each (imports, JIT, first WebGL context) is not counted; the median of
``--rounds`` is reported, and the ratio pythreejs / viewer (target <= 1.5).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "browser")]

CANVAS_DRAWN = """(index) => new Promise((resolve) => {
  const check = () => {
    const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[index];
    const canvas = cell && cell.querySelector('.jp-OutputArea-output canvas');
    if (!canvas) { requestAnimationFrame(check); return; }
    requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())));
  };
  check();
})"""


def big_sphere(path: Path, subdivisions: int = 8) -> Path:
    import numpy as np
    import trimesh

    sphere = trimesh.creation.icosphere(subdivisions=subdivisions)
    sphere.visual.vertex_colors = (np.random.default_rng(0).random((len(sphere.vertices), 4)) * 255).astype(np.uint8)
    path.write_bytes(sphere.export(file_type="glb"))
    return path


def measure(glbs: list[Path], rounds: int) -> list[dict]:
    from _jupyter import CHROMIUM, CHROMIUM_FLAGS, NotebookPage, jupyter_server, write_notebook
    from playwright.sync_api import sync_playwright

    from openstrate_nb import OpenStrate
    from openstrate_nb.local import start
    from openstrate_nb.mesh import load_glb

    scratch = Path(tempfile.mkdtemp(prefix="osnb-bench-frame-"))
    root = scratch / "root"
    root.mkdir()
    write_notebook(root, "frame.ipynb", ["from openstrate_nb.mesh import load_glb, show_mesh"])
    results = []
    with start(port=0, data_dir=scratch / "server") as server, OpenStrate(server.base_url) as client, \
            jupyter_server(root, scratch / "jupyter") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        nb = NotebookPage(page, f"{base}/lab/tree/frame.ipynb")
        nb.run_cell(0)
        nb.wait_idle()
        cell = 1
        viewer_page = browser.new_page(viewport={"width": 1280, "height": 1000})
        for glb in glbs:
            view_url = client.view_url(client.upload(glb).asset)
            faces = len(load_glb(glb).faces)

            def viewer_once() -> float:
                started = time.perf_counter()
                viewer_page.goto(view_url)
                viewer_page.wait_for_selector("#viewer[data-state=ready]", timeout=300_000)
                return time.perf_counter() - started

            def pythreejs_once() -> float:
                nonlocal cell
                index = cell
                cell += 1
                started = page.evaluate("() => performance.now()")
                nb.run_cell(index, f"show_mesh(load_glb({str(glb)!r}))")
                drawn = page.evaluate(CANVAS_DRAWN, index)
                nb.wait_idle()
                return (drawn - started) / 1000

            viewer_once(), pythreejs_once()  # warm-up
            viewer = [viewer_once() for _ in range(rounds)]
            kernel_view = [pythreejs_once() for _ in range(rounds)]
            row = {"glb": glb.name, "faces": faces, "glb_mb": round(glb.stat().st_size / 2**20, 1),
                   "viewer_s": round(statistics.median(viewer), 3),
                   "pythreejs_s": round(statistics.median(kernel_view), 3)}
            row["ratio"] = round(row["pythreejs_s"] / row["viewer_s"], 2)
            print(json.dumps(row), flush=True)
            results.append(row)
        browser.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--glb", type=Path, action="append", default=[], help="another GLB (e.g. a real result)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="osnb-bench-glb-"))
    try:
        glbs = [big_sphere(work / "sphere-1.3M.glb"), *args.glb]
        print("| GLB | faces | MiB | /view page s | pythreejs s | ratio |")
        print("|---|---|---|---|---|---|")
        for row in measure(glbs, args.rounds):
            print(f"| {row['glb']} | {row['faces']:,} | {row['glb_mb']} | {row['viewer_s']} | {row['pythreejs_s']} "
                  f"| {row['ratio']} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
