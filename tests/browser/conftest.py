"""Shared browser fixtures: one Jupyter server (JupyterLab 4 and Notebook 7 side by side),
one embedded OpenStrate server, one headless Chromium, all started once per session.

Chromium is Debian's (/usr/bin/chromium, `apt-get install -y chromium`), driven by
Playwright's Python package with the flags docs/measured-facts.md lists. Screenshots go to tests/_artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _jupyter import CHROMIUM, CHROMIUM_FLAGS, REMOTE_HOST, REPO, NotebookPage, jupyter_server

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
def jupyter_scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("jupyter")


@pytest.fixture(scope="session")
def jupyter(notebook_root, jupyter_scratch):
    """A Jupyter server with JupyterLab 4 (/lab) and Notebook 7 (/notebooks), no token."""
    with jupyter_server(notebook_root, jupyter_scratch) as base:
        yield base


@pytest.fixture
def kernel_log(jupyter, jupyter_scratch):
    """What the Jupyter server and its kernels wrote to stderr since the test began (a
    kernel's tracebacks, such as a widget's TraitError, land there and in Lab's log console)."""
    log = jupyter_scratch / "jupyter.log"
    start = log.stat().st_size

    def written() -> str:
        with log.open("rb") as fh:
            fh.seek(start)
            return fh.read().decode("utf-8", "replace")

    return written


@pytest.fixture
def console_errors(page):
    """Every error the page logs to its console or throws, as text, while the test runs."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error} {error.stack}"))
    return errors


@pytest.fixture(scope="session")
def playwright_driver():
    """Playwright's sync driver, started once: a second one in the same process fails."""
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def remote_chromium(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                args=[*CHROMIUM_FLAGS, f"--host-resolver-rules=MAP {REMOTE_HOST} 127.0.0.1"])
    yield browser
    browser.close()


@pytest.fixture
def viewport() -> dict:
    """The browser window's size; a test module overrides this fixture to try a narrow one."""
    return {"width": 1280, "height": 1000}


@pytest.fixture
def page(chromium, viewport):
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def open_notebook(page):
    def _open(url: str) -> NotebookPage:
        return NotebookPage(page, url)

    return _open
