"""The notebooks in notebooks/ run top to bottom, offline, and still print what they saved.

Each notebook runs under nbval (``pytest --nbval``) in a fresh kernel, in a subprocess so
that its kernel, working directory and environment are its own. Cells whose output is
deterministic are compared with the saved output; cells that show widgets, timings or
reconstruction numbers are marked ``# NBVAL_IGNORE_OUTPUT`` and checked by the ``assert``
cells after them instead.

All three reconstruct the bundled sample video. They share one reconstruction: one
embedded server (real pipeline) for the session, named by OPENSTRATE_BASE_URL, and one
widget cache (OPENSTRATE_NB_CACHE), so the first notebook reconstructs and the others attach
to its finished job, exactly as a user's second notebook on the same server would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
SANITIZE = Path(__file__).with_name("sanitize.cfg")
#: quickstart first: it reconstructs the sample, the others attach to that job.
ORDER = ["quickstart", "mesh_analysis", "how_reconstruction_works"]

pytestmark = pytest.mark.slow


def test_every_notebook_is_tested():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(ORDER)


@pytest.fixture(scope="session")
def notebook_server(tmp_path_factory):
    """The embedded server with the real CPU pipeline, as ``%openstrate serve`` would start it."""
    from openstrate_nb.local import start

    with start(port=0, data_dir=tmp_path_factory.mktemp("notebook-server")) as srv:
        yield srv


@pytest.fixture(scope="session")
def notebook_env(notebook_server, tmp_path_factory) -> dict[str, str]:
    env = {
        **os.environ,
        "OPENSTRATE_BASE_URL": notebook_server.base_url,
        "OPENSTRATE_NB_CACHE": str(tmp_path_factory.mktemp("notebook-cache")),
        # The kernel imports openstrate_nb from this checkout, whatever is installed.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    return env


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    """Where the notebooks run (they write results/ beside themselves), outside the checkout."""
    return tmp_path_factory.mktemp("notebook-run")


@pytest.mark.parametrize("name", ORDER)
def test_notebook_runs_offline_and_matches_its_saved_outputs(name, notebook_env, run_dir):
    notebook = shutil.copy(NOTEBOOKS / f"{name}.ipynb", run_dir)
    command = [
        sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env",
        "--nbval-sanitize-with", str(SANITIZE), "--nbval-cell-timeout", "900",
        "-p", "no:cacheprovider", "-o", "addopts=", f"--rootdir={run_dir}", "-q", Path(notebook).name,
    ]
    result = subprocess.run(command, cwd=run_dir, env=notebook_env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"nbval failed on {name}.ipynb:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
    assert "passed" in result.stdout and " failed" not in result.stdout
