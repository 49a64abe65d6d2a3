"""Widget benchmarks: picker → kernel throughput, GLB → pythreejs, and import time.

    .venv/bin/python benchmarks/bench_widget.py [--mb 200] [--rounds 2] [--faces-subdivisions 8]

1. Picker → kernel: a 200 MB file set on the picker's file input in headless Chromium
   (JupyterLab 4), until the kernel has every byte, for ReconstructWidget and for a bare
   anywidget that only receives the same chunks (8 MiB, 3 in flight, acknowledged) into a
   temp file. Reports MB/s of each, their ratio (target >= 0.8) and the kernel's peak RSS
   growth during the transfer (target < 64 MB).
2. GLB → displayed pythreejs mesh for a ~1.3M-face coloured GLB (load_glb + show_mesh, with
   the default 500k face budget and without decimation) against ``trimesh.load`` alone.
3. ``import openstrate_nb`` in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "browser")]

BARE_WIDGET = r'''
import tempfile, anywidget, traitlets

class BareReceiver(anywidget.AnyWidget):
    _esm = """
    export default { render({ model, el }) {
      const input = document.createElement('input');
      input.type = 'file';
      input.className = 'bare-input';
      el.appendChild(input);
      // One handler for the widget's life; each pick replaces the upload it drives.
      let upload = null;
      model.on('msg:custom', (msg) => {
        if (!upload) return;
        if (msg.type === 'ready') upload.pump();
        else if (msg.type === 'ack') { upload.inFlight--; upload.pump(); }
        else if (msg.type === 'done') { window.__bareDone = performance.now(); upload = null; }
      });
      input.addEventListener('change', () => {
        const file = input.files[0];
        const CHUNK = 8 * 1024 * 1024, MAX_IN_FLIGHT = 3;
        let offset = 0, index = 0, queue = Promise.resolve();
        upload = { inFlight: 0 };
        upload.pump = () => {
          while (upload.inFlight < MAX_IN_FLIGHT && offset < file.size) {
            const start = offset, end = Math.min(file.size, start + CHUNK), i = index++;
            offset = end; upload.inFlight++;
            queue = queue.then(() => file.slice(start, end).arrayBuffer())
              .then((buf) => model.send({ type: 'chunk', index: i, offset: start }, undefined, [buf]));
          }
          if (upload.inFlight === 0 && offset >= file.size) model.send({ type: 'end' });
        };
        model.send({ type: 'start', size: file.size });
        input.value = '';
      });
    } };
    """

    def __init__(self):
        super().__init__()
        self._fh = None
        self.on_msg(self._handle)

    def _handle(self, _, content, buffers):
        if content["type"] == "start":
            self._fh = tempfile.TemporaryFile()
            self.send({"type": "ready"})
        elif content["type"] == "chunk":
            self._fh.write(buffers[0])
            self.send({"type": "ack", "index": content["index"]})
        elif content["type"] == "end":
            self.received = self._fh.tell()
            self._fh.close()
            self.send({"type": "done"})

bare = BareReceiver()
bare
'''

# Marks the moment the kernel row first shows 100% after this upload began (the row still
# shows the previous round's 100% until the new upload resets it to 0%).
WATCH_KERNEL_HOP = """
(widget) => {
  window.__widgetDone = null;
  let restarted = false;
  const text = widget.querySelector('.osnb-row[data-row=kernel] .osnb-text');
  const observer = new MutationObserver(() => {
    if (!/ 100%/.test(text.textContent)) restarted = true;
    else if (restarted) { window.__widgetDone = performance.now(); observer.disconnect(); }
  });
  observer.observe(text, { childList: true, characterData: true, subtree: true });
}
"""


class RssSampler(threading.Thread):
    """Peak resident memory of the kernel process while a transfer runs."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        import psutil

        self.process = psutil.Process(pid)
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.stop.wait(0.02)

    def growth_mb(self) -> float:
        self.stop.set()
        self.join()
        return (self.peak - self.baseline) / 1e6


def _kernel_pid(nb, cell: int) -> int:
    nb.run_cell(cell, "import os; os.getpid()")
    output = nb.cell(cell).locator(".jp-OutputArea-output")
    output.wait_for(timeout=30_000)
    return int(output.inner_text().strip())


def bench_picker(megabytes: int, rounds: int) -> dict:
    from _jupyter import CHROMIUM, CHROMIUM_FLAGS, NotebookPage, write_notebook
    from playwright.sync_api import sync_playwright

    from _jupyter import jupyter_server

    scratch = Path(tempfile.mkdtemp(prefix="osnb-bench-"))
    big = scratch / "big.mp4"
    with big.open("wb") as fh:
        for _ in range(megabytes):
            fh.write(os.urandom(1 << 20))
    size = big.stat().st_size
    root = scratch / "root"
    root.mkdir()
    write_notebook(root, "bench.ipynb", [
        BARE_WIDGET,
        "from openstrate_nb import OpenStrate, ReconstructWidget\n"
        # Nothing listens on port 9: after the kernel has the file, the API hop fails at once,
        # so only the picker → kernel hop is measured.
        "w = ReconstructWidget(client=OpenStrate('http://127.0.0.1:9', max_upload_bytes=2**31, max_retries=0))\nw",
    ])
    results: dict[str, list] = {"bare_s": [], "widget_s": [], "bare_rss_mb": [], "widget_rss_mb": []}
    with jupyter_server(root, scratch / "jupyter") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        nb = NotebookPage(page, f"{base}/lab/tree/bench.ipynb")
        nb.run_cell(0)
        nb.run_cell(1)
        bare_input = nb.cell(0).locator("input.bare-input")
        bare_input.wait_for(state="attached", timeout=60_000)
        widget = nb.cell(1).locator(".osnb")
        widget.wait_for(timeout=60_000)
        nb.wait_idle()
        pid = _kernel_pid(nb, 2)
        for _ in range(rounds):
            page.evaluate("() => { window.__bareDone = null; }")
            sampler = RssSampler(pid)
            sampler.start()
            started = page.evaluate("() => performance.now()")
            bare_input.set_input_files(str(big))
            page.wait_for_function("() => window.__bareDone", timeout=600_000)
            results["bare_s"].append((page.evaluate("() => window.__bareDone") - started) / 1000)
            results["bare_rss_mb"].append(sampler.growth_mb())
            nb.wait_idle()

            sampler = RssSampler(pid)
            sampler.start()
            started = page.evaluate("() => performance.now()")
            widget.evaluate(WATCH_KERNEL_HOP)
            widget.locator("input[type=file]").set_input_files(str(big))
            page.wait_for_function("() => window.__widgetDone", timeout=600_000)
            results["widget_s"].append((page.evaluate("() => window.__widgetDone") - started) / 1000)
            results["widget_rss_mb"].append(sampler.growth_mb())
            widget.locator(".osnb-pill", has_text="Failed").wait_for(timeout=120_000)
            nb.wait_idle()
        browser.close()
    shutil.rmtree(scratch, ignore_errors=True)
    bare = statistics.median(results["bare_s"])
    mine = statistics.median(results["widget_s"])
    return {
        "file_mb": size / 1e6,
        "bare_mb_s": size / 1e6 / bare,
        "widget_mb_s": size / 1e6 / mine,
        "throughput_ratio": bare / mine,
        "bare_rss_growth_mb": max(results["bare_rss_mb"]),
        "widget_rss_growth_mb": max(results["widget_rss_mb"]),
        "raw": results,
    }


def bench_mesh(subdivisions: int, rounds: int = 3) -> dict:
    import numpy as np
    import pythreejs  # noqa: F401  (imported up front: its one-time class setup is not per mesh)
    import trimesh

    from openstrate_nb.mesh import load_glb, show_mesh

    sphere = trimesh.creation.icosphere(subdivisions=subdivisions)
    sphere.visual.vertex_colors = (np.random.default_rng(0).random((len(sphere.vertices), 4)) * 255).astype(np.uint8)
    path = Path(tempfile.mkdtemp(prefix="osnb-bench-mesh-")) / "big.glb"
    path.write_bytes(sphere.export(file_type="glb"))
    try:
        return _time_mesh(path, len(sphere.faces), rounds)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def _time_mesh(path: Path, faces: int, rounds: int) -> dict:
    import trimesh

    from openstrate_nb.mesh import load_glb, show_mesh

    from _common import best_of

    load_only = best_of(lambda: trimesh.load(path), rounds)
    displayed = best_of(lambda: show_mesh(load_glb(path)), rounds)
    undecimated = best_of(lambda: show_mesh(load_glb(path), max_faces=10**7), rounds)
    return {
        "faces": int(faces),
        "trimesh_load_s": load_only,
        "glb_to_pythreejs_s": displayed,
        "ratio": displayed / load_only,
        "glb_to_pythreejs_no_decimation_s": undecimated,
        "ratio_no_decimation": undecimated / load_only,
    }


def bench_import(rounds: int = 5) -> dict:
    code = "import time; t = time.perf_counter(); import openstrate_nb; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                  check=True).stdout) for _ in range(rounds)]
    return {"import_openstrate_nb_s": statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--faces-subdivisions", type=int, default=8, help="icosphere subdivisions (8: 1.31M faces)")
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()
    report = {"import": bench_import(), "mesh": bench_mesh(args.faces_subdivisions)}
    print(json.dumps(report, indent=2), flush=True)
    if not args.skip_browser:
        report["picker"] = bench_picker(args.mb, args.rounds)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
