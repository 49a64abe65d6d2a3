"""Jupyter and Chromium for the browser tests and the widget benchmark, with no pytest in it.

``jupyter_server(root, scratch)`` runs one Jupyter server that serves JupyterLab 4 (/lab) and
Notebook 7 (/notebooks) with no token; ``NotebookPage`` drives a notebook through the app's
own commands (``window.jupyterapp``, exposed by a server flag), which is sturdier than
clicking menus.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import httpx

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# docs/measured-facts.md: without the networking flags headless Chromium tries to reach the internet.
#: A name that is not loopback, which the remote_chromium fixture resolves to this machine: a
#: page then sees itself served from elsewhere, as a student's browser does on JupyterHub.
REMOTE_HOST = "classroom.test"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def jupyter_server(root: Path, scratch: Path | None = None, base_url: str = "/") -> Iterator[str]:
    """A Jupyter server over ``root`` (JupyterLab 4 and Notebook 7, no token), under ``base_url``
    (as JupyterHub puts each user's at /user/NAME/); yields its URL, base included, no slash at the end.

    It answers any Host name (a test may reach it under a name that is not loopback)."""
    scratch = Path(scratch or tempfile.mkdtemp(prefix="osnb-jupyter-"))
    scratch.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = open(scratch / "jupyter.log", "wb")
    env = {
        **os.environ,
        # The kernel imports openstrate_nb from this checkout and keeps its cache apart.
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "OPENSTRATE_NB_CACHE": str(scratch / "kernel-cache"),
        # A `%openstrate serve` in a test kernel keeps its jobs here, not in the user's data folder.
        "OPENSTRATE_NB_DATA": str(scratch / "kernel-data"),
        "JUPYTER_CONFIG_DIR": str(scratch / "config"),
        "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
    }
    env.pop("OPENSTRATE_BASE_URL", None)
    # No "get notified about Jupyter news?" toast over the screenshots.
    settings = scratch / "lab-settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True, exist_ok=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.base_url={base_url}", "--ServerApp.allow_remote_access=True",
         "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.open_browser=False",
         "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={root}", "--allow-root",
         "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True",
         f"--LabApp.user_settings_dir={settings}", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
    )
    base = f"http://127.0.0.1:{port}{base_url.rstrip('/')}"
    try:
        wait_until_answering(process, f"{base}/api/status", Path(log.name))
        yield base
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def wait_until_answering(process: subprocess.Popen, url: str, log: Path, timeout: float = 120) -> None:
    """Until ``url`` answers 200; a process that exits, or silence, fails with the log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def see_the_viewer_through_the_proxy(nb: "NotebookPage", prefix: str, server_port: int | str) -> str:
    """Run the notebook's widget cell and its ``wait()`` cell; the ``/view`` iframe must load
    through Jupyter's proxy under ``prefix`` (e.g. "/user/ana/") and draw. Returns its src."""
    nb.run_cell(0)
    nb.run_cell(1)
    widget = nb.cell(0).locator(".osnb")
    widget.locator(".osnb-pill", has_text="Complete").wait_for(timeout=180_000)
    iframe = widget.locator(".osnb-result iframe")
    src = iframe.get_attribute("src")
    if not src.startswith(f"{prefix}proxy/{server_port}/view/"):
        raise AssertionError(f"the viewer is not loaded through the proxy: {src}")
    iframe.scroll_into_view_if_needed()  # it loads lazily
    iframe.element_handle().content_frame().wait_for_selector('#viewer[data-state="ready"]', timeout=120_000)
    return src


def write_notebook(root: Path, name: str, cells: list[str]) -> Path:
    """A notebook on disk whose code cells are ``cells`` (nothing executed yet)."""
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [
            {"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": source, "outputs": [], "execution_count": None}
            for i, source in enumerate(cells)
        ],
    }
    path = root / name
    path.write_text(json.dumps(notebook))
    return path


class NotebookPage:
    """A notebook open in JupyterLab or Notebook 7, driven through the app's own commands."""

    def __init__(self, page, url: str):
        self.page = page
        name = url.rsplit("/", 1)[-1]
        # ?reset: JupyterLab would otherwise restore the notebooks an earlier test left open.
        page.goto(url + ("?reset" if "/lab/" in url else ""))
        page.wait_for_function(
            "(name) => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
            " return w && w.context && w.context.path.endsWith(name) && w.content && w.content.widgets; }",
            arg=name, timeout=90_000)
        page.wait_for_function(
            "() => { const s = window.jupyterapp.shell.currentWidget.sessionContext;"
            " return s && s.session && s.session.kernel && s.session.kernel.status === 'idle'; }",
            timeout=120_000,
        )

    def run_cell(self, index: int, source: str | None = None) -> None:
        self.page.evaluate(
            """async ([index, source]) => {
                const panel = window.jupyterapp.shell.currentWidget;
                const notebook = panel.content;
                while (notebook.widgets.length <= index) {
                    notebook.activeCellIndex = notebook.widgets.length - 1;
                    await window.jupyterapp.commands.execute('notebook:insert-cell-below');
                }
                if (source !== null) notebook.widgets[index].model.sharedModel.setSource(source);
                notebook.activeCellIndex = index;
                notebook.deselectAll();
                // Not awaited: the command's promise settles only when the cell has finished.
                window.jupyterapp.commands.execute('notebook:run-cell');
            }""",
            [index, source],
        )

    def cell(self, index: int):
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def run_widget_to_its_result(self):
        """Run cell 0 (a ``ReconstructWidget``) and cell 1 (``w.wait()``); the widget's card once
        its job is complete, the kernel idle and the result's 3D view drawn."""
        self.run_cell(0)
        self.run_cell(1)
        card = self.cell(0).locator(".osnb-card")
        card.locator(".osnb-pill", has_text="Complete").wait_for(timeout=180_000)
        self.wait_idle()
        card.locator(".osnb-scene canvas").wait_for(state="visible", timeout=60_000)
        return card

    def wait_idle(self, timeout: float = 120_000) -> None:
        self.page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
            timeout=timeout,
        )

    def running_cell_js(self, index: int) -> str:
        """A JS expression: is cell ``index`` running now (its prompt shows [*])?"""
        return (f"(document.querySelectorAll('.jp-Notebook .jp-Cell')[{index}]"
                f".querySelector('.jp-InputPrompt').textContent.includes('*'))")

    def kernel_busy(self) -> bool:
        return self.page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'busy'")

    def record_kernel_errors(self) -> None:
        """From now on, keep what JupyterLab's log console would show: the kernel's error and
        stderr messages (a widget's TraitError from a comm message comes this way, in no cell),
        and the comms the page opens and sends to from now on (see ``kernel_errors``)."""
        self.page.evaluate(
            """() => {
                window.__osnbKernelErrors = [];
                window.__osnbCommsSentTo = [];
                window.__osnbCommTargetsOpened = [];
                const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
                kernel.iopubMessage.connect((_, msg) => {
                    const type = msg.header.msg_type;
                    if (type === 'error') window.__osnbKernelErrors.push(`${msg.content.ename}: ${msg.content.evalue}`);
                    else if (type === 'stream' && msg.content.name === 'stderr') window.__osnbKernelErrors.push(msg.content.text);
                });
                kernel.anyMessage.connect((_, args) => {
                    const type = args.msg.header.msg_type;
                    if (args.direction === 'send' && (type === 'comm_msg' || type === 'comm_close'))
                        window.__osnbCommsSentTo.push(args.msg.content.comm_id);
                    if (args.direction === 'send' && type === 'comm_open')
                        window.__osnbCommTargetsOpened.push(args.msg.content.target_name);
                });
            }""")

    def kernel_errors(self) -> list[str]:
        """The kernel's errors since ``record_kernel_errors``, less the two warnings of the widget
        manager's own start-up: "No such comm target registered" for a target the page did not
        open since then, and "No such comm" for a comm it did not send to. The manager opens a
        ``jupyter.widget.control`` comm as the kernel connects, before ipywidgets is imported
        there (so the kernel refuses and closes it), then asks for the widgets' states on it;
        on a busy machine the kernel logs those warnings only after recording began. It is the
        fallback ipywidgets documents as harmless (jupyter-widgets/ipywidgets#3525), and
        cannot concern a widget the test made: those are all created after recording began."""
        errors, sent, opened = self.page.evaluate(
            "() => [window.__osnbKernelErrors || [], window.__osnbCommsSentTo || [],"
            " window.__osnbCommTargetsOpened || []]")

        def startup(error: str) -> bool:
            comm = re.fullmatch(r"No such comm: (\S+)\s*", error)
            target = re.fullmatch(r"No such comm target registered: (\S+)\s*", error)
            return bool(comm and comm[1] not in sent) or bool(target and target[1] not in opened)

        return [e for e in errors if not startup(e)]

    def restart_kernel(self) -> None:
        self.page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()")
        self.wait_idle()


def refuse_kernel_loopback(page, port: int | str) -> list[str]:
    """Make the kernel's loopback address unreachable from ``page`` (a student's laptop has
    nothing there); returns the list that collects every URL that tried."""
    tried: list[str] = []

    def unreachable(route) -> None:
        tried.append(route.request.url)
        route.abort("addressunreachable")

    for host in ("127.0.0.1", "localhost"):
        page.route(f"http://{host}:{port}/**", unreachable)
    return tried


def seconds_left(text: str) -> float | None:
    """Seconds in the widget's "about 40 s left" / "about 3 min left" / "a few seconds left"."""
    if "a few seconds left" in text:
        return 5.0
    match = re.search(r"about (\d+) (s|min) left", text)
    return None if not match else float(match.group(1)) * (60 if match.group(2) == "min" else 1)


def distinct_colours(png: bytes) -> int:
    """How many different colours a screenshot holds (a flat fill or a blank canvas has few)."""
    import io

    from PIL import Image

    import numpy as np

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    return len(np.unique(pixels, axis=0))
