"""``%load_ext openstrate_nb`` and ``%openstrate`` in a real IPython InteractiveShell."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def shell(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENSTRATE_NB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("OPENSTRATE_BASE_URL", raising=False)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "openstrate_nb")
    yield ip
    ip.run_line_magic("unload_ext", "openstrate_nb")
    for value in list(ip.user_ns.values()):
        if hasattr(value, "_reconstruction") and hasattr(value, "close"):
            value.close()


def test_loading_registers_the_magic_and_the_widget_name(shell):
    from openstrate_nb.widget import ReconstructWidget

    assert "openstrate" in shell.magics_manager.magics["line"]
    assert shell.user_ns["ReconstructWidget"] is ReconstructWidget


def test_loading_twice_and_reload_ext_are_harmless(shell):
    shell.run_line_magic("load_ext", "openstrate_nb")
    shell.run_line_magic("reload_ext", "openstrate_nb")
    assert "openstrate" in shell.magics_manager.magics["line"]


def test_help(shell, capsys):
    shell.run_cell("%openstrate?")
    shown = capsys.readouterr().out
    assert "%openstrate attach JOB_ID" in shown and "%openstrate serve" in shown
    shell.run_line_magic("openstrate", "--help")
    assert "%openstrate status JOB_ID" in capsys.readouterr().out


def test_a_video_shows_a_widget_that_reconstructs(shell, server, video):
    shell.user_ns["video_path"] = str(video)
    result = shell.run_cell(f"w = %openstrate $video_path --base-url {server.base_url}")
    result.raise_error()
    w = shell.user_ns["w"]
    job = w.wait(timeout=120)
    assert str(job.status) == "complete" and w.client.base_url == server.base_url
    shell.user_ns["job_id"] = job.job_id

    shell.run_cell(f"attached = %openstrate attach $job_id --base-url {server.base_url}").raise_error()
    attached = shell.user_ns["attached"]
    assert attached.wait(timeout=120).job_id == job.job_id


def test_status_prints_one_line(shell, server, client, video, capsys):
    job = client.wait(client.upload(video).job_id, timeout=120)
    shell.run_line_magic("openstrate", f"status {job.job_id} --base-url {server.base_url}")
    out = capsys.readouterr().out
    assert f"job {job.job_id}: complete" in out and "view: http" in out


def test_status_of_an_unknown_job_says_so(shell, server, capsys):
    shell.run_line_magic("openstrate", f"status nope --base-url {server.base_url}")
    assert "no such job on this server" in capsys.readouterr().err


def test_serve_starts_a_server_that_later_widgets_use_and_stop_ends_it(shell, tmp_path, capsys):
    import httpx

    shell.run_line_magic("openstrate", f"serve --data-dir {tmp_path / 'srv'}")
    url = os.environ["OPENSTRATE_BASE_URL"]
    assert url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{url}/api/reconstruct/status/none").status_code == 404
    shell.run_line_magic("openstrate", "serve  # a comment, as people type them")  # a second serve reuses it
    assert "already running" in capsys.readouterr().out
    shell.run_line_magic("reload_ext", "openstrate_nb")
    assert os.environ["OPENSTRATE_BASE_URL"] == url  # a reload does not cut the server off
    from openstrate_nb.widget import ReconstructWidget

    w = ReconstructWidget()
    try:
        assert w.client.base_url == url
    finally:
        w.close()
    shell.run_line_magic("openstrate", "stop")
    assert "OPENSTRATE_BASE_URL" not in os.environ
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/api/reconstruct/status/none")


def test_export_without_a_result_and_bad_usage_are_messages(shell, capsys, tmp_path):
    from openstrate_nb.widget import ReconstructWidget

    ReconstructWidget._latest = None
    shell.run_line_magic("openstrate", f"export {tmp_path / 'out.html'}")
    assert "no finished ReconstructWidget yet" in capsys.readouterr().err
    assert not (tmp_path / "out.html").exists()
    assert shell.run_line_magic("openstrate", "attach") is None
    assert "See %openstrate?" in capsys.readouterr().err


def test_export_writes_the_latest_result_as_one_offline_page(shell, capsys, tmp_path, server, video):
    from openstrate_nb import OpenStrate
    from openstrate_nb.widget import ReconstructWidget

    widget = ReconstructWidget(video, client=OpenStrate(server.base_url, poll_interval=0.05), poll_interval=0.05)
    try:
        widget.wait(timeout=120)
        shell.run_line_magic("openstrate", f"export {tmp_path / 'result.html'}")
    finally:
        widget.close()
    assert capsys.readouterr().out.strip() == str(tmp_path / "result.html")
    page = (tmp_path / "result.html").read_text("utf-8")
    assert "OpenStrateViewer" in page and widget.video_sha256 in page and widget.job_id in page


def test_colab_gets_its_custom_widget_manager(monkeypatch):
    calls = []
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append(True))
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    ip = InteractiveShell.instance()
    from openstrate_nb import magics

    magics.load_ipython_extension(ip)
    assert calls


def test_import_stays_light():
    code = ("import sys, openstrate_nb; heavy = [m for m in ('trimesh', 'pythreejs', 'anywidget', 'uvicorn', "
            "'starlette', 'openstrate_nb.local') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.stdout.strip() == "[]"
