"""Re-run the notebooks and save their outputs the way nbval compares them.

    .venv/bin/python tests/notebooks/record_outputs.py [quickstart mesh_analysis ...]

Like the test, it starts one embedded server (real pipeline) and one widget cache for all
the notebooks, so the sample is reconstructed once. It then saves each notebook without
widget state (megabytes of mesh buffers that would only show stale views), without the
outputs of live views (widgets and iframes to a server that is gone), without timings, and
runs in a scratch directory so results/ never lands in the checkout.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
ORDER = ["quickstart", "mesh_analysis", "how_reconstruction_works"]
LIVE_VIEWS = ("application/vnd.jupyter.widget-view+json",)


def _is_live_view(output) -> bool:
    data = output.get("data", {})
    return any(key in data for key in LIVE_VIEWS) or "<iframe" in str(data.get("text/html", ""))


def clean(nb) -> None:
    nb.metadata.pop("widgets", None)
    nb.metadata.get("language_info", {}).pop("version", None)
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k == "tags"}
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not _is_live_view(o)]


def main(names: list[str]) -> None:
    from openstrate_nb.local import start

    scratch = Path(tempfile.mkdtemp(prefix="osnb-record-"))
    with start(port=0, data_dir=scratch / "server") as server:
        os.environ["OPENSTRATE_BASE_URL"] = server.base_url
        os.environ["OPENSTRATE_NB_CACHE"] = str(scratch / "cache")
        for name in names or ORDER:
            path = NOTEBOOKS / f"{name}.ipynb"
            nb = nbformat.read(path, as_version=4)
            began = time.monotonic()
            NotebookClient(nb, timeout=1800, kernel_name="python3",
                           resources={"metadata": {"path": str(scratch)}}).execute()
            clean(nb)
            nbformat.validate(nb)
            nbformat.write(nb, path)
            print(f"{path.name}: {time.monotonic() - began:.0f} s, {path.stat().st_size // 1024} KiB")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
