"""Shared browser fixtures: one Jupyter server (JupyterLab 4 and Notebook 7 side by side),
one embedded OpenStrate server, one headless Chromium, all started once per session.

Chromium is Debian's (/usr/bin/chromium, `apt-get install -y chromium`), driven by
Playwright's Python package with the flags DESIGN.md lists. Screenshots go to tests/_artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _jupyter import CHROMIUM, CHROMIUM_FLAGS, REPO, NotebookPage, jupyter_server

ARTIFACTS = REPO / "tests" / "_artifacts"
BROWSER_PIPELINE = "_browser_pipelines:watchable_pipeline"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def openstrate_server(tmp_path_factory):
    """The embedded API server the notebooks' widgets talk to (slow, watchable pipeline)."""
    from openstrate_nb.local import start

    with start(port=0, data_dir=tmp_path_factory.mktemp("browser-server"), pipeline=BROWSER_PIPELINE) as srv:
        yield srv


@pytest.fixture(scope="session")
def notebook_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notebooks")


@pytest.fixture(scope="session")
def jupyter(notebook_root, tmp_path_factory):
    """A Jupyter server with JupyterLab 4 (/lab) and Notebook 7 (/notebooks), no token."""
    with jupyter_server(notebook_root, tmp_path_factory.mktemp("jupyter")) as base:
        yield base


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def open_notebook(page):
    def _open(url: str) -> NotebookPage:
        return NotebookPage(page, url)

    return _open
