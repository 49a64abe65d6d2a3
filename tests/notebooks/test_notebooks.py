"""The notebooks in notebooks/ run top to bottom, offline, and still print what they saved.

Each notebook runs under nbval (``pytest --nbval``) in a fresh kernel, in a subprocess so
that its kernel, working directory and environment are its own. Cells whose output is
deterministic are compared with the saved output; cells that show widgets, timings or
reconstruction numbers are marked ``# NBVAL_IGNORE_OUTPUT`` and checked by the ``assert``
cells after them instead.

All three reconstruct the bundled sample video. Each starts its own embedded server with
``%openstrate serve`` (a new port every time), as a user's notebook does, over one data
directory (OPENSTRATE_NB_DATA) and one widget cache (OPENSTRATE_NB_CACHE): the first notebook
reconstructs and the others attach to its finished job, because the cache knows the server
by its data directory, not its port. Running quickstart again must send and start nothing.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
SANITIZE = Path(__file__).with_name("sanitize.cfg")
#: quickstart first: it reconstructs the sample, the others attach to that job.
ORDER = ["quickstart", "mesh_analysis", "how_reconstruction_works"]

pytestmark = pytest.mark.slow


def test_every_notebook_is_tested():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(ORDER)


@pytest.fixture(scope="session")
def notebook_data(tmp_path_factory) -> Path:
    """The embedded servers' data folder (``%openstrate serve`` puts its server/ inside)."""
    return tmp_path_factory.mktemp("notebook-data")


@pytest.fixture(scope="session")
def notebook_env(notebook_data, tmp_path_factory) -> dict[str, str]:
    env = {
        **{k: v for k, v in os.environ.items() if k != "OPENSTRATE_BASE_URL"},  # each notebook serves itself
        "OPENSTRATE_NB_DATA": str(notebook_data),
        "OPENSTRATE_NB_CACHE": str(tmp_path_factory.mktemp("notebook-cache")),
        # The kernel imports openstrate_nb from this checkout, whatever is installed.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    return env


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    """Where the notebooks run (they write results/ beside themselves), outside the checkout."""
    return tmp_path_factory.mktemp("notebook-run")


def _run_notebook(name: str, env: dict[str, str], run_dir: Path) -> None:
    notebook = shutil.copy(NOTEBOOKS / f"{name}.ipynb", run_dir)
    command = [
        sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env",
        "--nbval-sanitize-with", str(SANITIZE), "--nbval-cell-timeout", "900",
        "-p", "no:cacheprovider", "-o", "addopts=", f"--rootdir={run_dir}", "-q", Path(notebook).name,
    ]
    result = subprocess.run(command, cwd=run_dir, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"nbval failed on {name}.ipynb:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
    assert "passed" in result.stdout and " failed" not in result.stdout


@pytest.mark.parametrize("name", ORDER)
def test_notebook_runs_offline_and_matches_its_saved_outputs(name, notebook_env, run_dir):
    _run_notebook(name, notebook_env, run_dir)


def _uploads_and_jobs(data: Path) -> tuple[int, int, int]:
    """(videos stored, their bytes, jobs) in the embedded server's data folder."""
    database = data / "server" / "openstrate.sqlite3"
    if not database.exists():
        return 0, 0, 0
    with sqlite3.connect(database) as db:
        videos, size = db.execute("SELECT count(*), coalesce(sum(size), 0) FROM files WHERE kind = 'video'").fetchone()
        return videos, size, db.execute("SELECT count(*) FROM jobs").fetchone()[0]


def test_quickstart_run_again_in_a_new_kernel_sends_nothing_and_starts_no_job(notebook_env, notebook_data, run_dir):
    if _uploads_and_jobs(notebook_data)[2] == 0:  # run on its own: make the first run here
        _run_notebook("quickstart", notebook_env, run_dir)
    before = _uploads_and_jobs(notebook_data)
    _run_notebook("quickstart", notebook_env, run_dir)
    assert _uploads_and_jobs(notebook_data) == before


def test_an_executed_quickstart_with_its_widget_state_stays_under_2_mb(notebook_env, notebook_data, run_dir):
    """nbconvert (like papermill and CI) saves the widgets' state, the pythreejs buffers with it."""
    notebook = shutil.copy(NOTEBOOKS / "quickstart.ipynb", run_dir / "sized.ipynb")
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output",
                    "sized-executed.ipynb", str(notebook)], cwd=run_dir, env=notebook_env, check=True,
                   capture_output=True, timeout=1800)
    executed = run_dir / "sized-executed.ipynb"
    saved = json.loads(executed.read_text())
    assert saved["metadata"]["widgets"]  # the state is there...
    assert executed.stat().st_size < 2_000_000  # ...and small

    # Where no widget can be drawn (GitHub, nbviewer), the widget's output reads as a sentence
    # and shows a picture of the result: wait() put both into it when the job completed.
    [shown] = [output["data"] for cell in saved["cells"] for output in cell.get("outputs", [])
               if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
               and "ReconstructWidget(" in "".join(cell["source"])]
    text = "".join(shown["text/plain"])  # nbformat may store text as a list of lines
    assert re.fullmatch(r"OpenStrate reconstruction of \S+\.mp4: [\d,]+ faces \(job [0-9a-f-]{36}\)\.", text), text
    picture = Image.open(io.BytesIO(base64.b64decode("".join(shown["image/png"]))))
    assert picture.size == (480, 320)
    assert len(np.unique(np.asarray(picture.convert("RGB")).reshape(-1, 3), axis=0)) > 200  # a mesh, not a blank
