"""``openstrate-nb`` as a user runs it: a real process against the real embedded server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest


def run_cli(*args, base_url=None, timeout=120, env=None):
    """``openstrate-nb ARGS`` in a process of its own, stdin not a terminal; ``env``: variables to add."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **(env or {})}
    if base_url:
        env["OPENSTRATE_BASE_URL"] = base_url
    return subprocess.run([sys.executable, "-m", "openstrate_nb.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, stdin=subprocess.DEVNULL)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_reconstruct_uploads_waits_and_downloads(server, video, tmp_path):
    out = run_cli("reconstruct", str(video), "--out", str(tmp_path), base_url=server.base_url)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines() if line.startswith(("mesh:", "view:")))
    glb = tmp_path / "walk.glb"
    assert lines["mesh"] == str(glb) and glb.read_bytes()[:4] == b"glTF"
    assert lines["view"].startswith(server.base_url + "/view/") and httpx.get(lines["view"]).status_code == 200
    assert "upload" in out.stderr and "reconstruct" in out.stderr and "100%" in out.stderr


def test_status_and_download(client, video, tmp_path, server):
    job = client.wait(client.upload(video).job_id, timeout=60)
    out = run_cli("status", job.job_id, base_url=server.base_url)
    assert out.returncode == 0 and f"{job.job_id}: complete" in out.stdout and job.view_url in out.stdout
    out = run_cli("status", job.job_id, "--json", base_url=server.base_url)
    assert '"status": "complete"' in out.stdout
    out = run_cli("download", job.glb_asset_url, "--out", str(tmp_path / "x.glb"))
    assert out.returncode == 0 and (tmp_path / "x.glb").read_bytes()[:4] == b"glTF"


@pytest.mark.parametrize("args, message", [
    (["status", "00000000-0000-0000-0000-000000000000"], "no such job"),
    (["reconstruct", "notes.txt"], "not a type the service accepts"),
    (["reconstruct", "missing.mp4"], "No such file"),
    (["reconstruct", "file:///etc/passwd.mp4"], "No such file"),
    (["download", "00000000-0000-0000-0000-000000000000.glb"], "no such file"),
])
def test_failures_are_one_line_without_traceback(server, args, message, tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    env_cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        out = run_cli(*args, base_url=server.base_url)
    finally:
        os.chdir(env_cwd)
    assert out.returncode == 1
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_unreachable_server_is_one_line():
    out = run_cli("status", "abc", base_url=f"http://127.0.0.1:{_free_port()}")
    assert out.returncode == 1 and "Could not talk to" in out.stderr and "Traceback" not in out.stderr


def test_failed_job_exits_non_zero_with_the_reason(server, tmp_path):
    from _media import write_audio_only

    out = run_cli("reconstruct", str(write_audio_only(tmp_path / "sound.mp4")), base_url=server.base_url)
    assert out.returncode == 1 and "no video stream" in out.stderr and "Traceback" not in out.stderr


def test_serve_answers_the_api_and_stops_on_interrupt(tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen([sys.executable, "-m", "openstrate_nb.cli", "serve", "--port", str(port),
                                "--data-dir", str(tmp_path), "--workers", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        for _ in range(200):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/openstrate-reconstruction-api.openapi.yaml")
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert r.status_code == 200 and "openapi: 3" in r.text
        assert (tmp_path / "openstrate.sqlite3").exists()
    finally:
        process.send_signal(2)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0 and f"127.0.0.1:{port}" in output


def test_binding_beyond_loopback_warns():
    from openstrate_nb.local._server import _exposure_warning

    assert _exposure_warning("127.0.0.1") is None and _exposure_warning("::1") is None
    assert "other machines can upload" in _exposure_warning("0.0.0.0")


def test_help_and_version():
    out = run_cli("--help")
    assert out.returncode == 0 and all(c in out.stdout for c in ("reconstruct", "status", "download", "serve", "demo",
                                                                 "clean"))
    assert run_cli("--version").stdout.startswith("openstrate-nb ")


def test_a_file_url_is_read_as_the_file_it_names(server, video, tmp_path):
    spaced = tmp_path / "my walk.mp4"
    spaced.write_bytes(video.read_bytes())
    out = run_cli("reconstruct", spaced.as_uri(), "--out", str(tmp_path / "out"), base_url=server.base_url)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "out" / "my walk.glb").read_bytes()[:4] == b"glTF"


def test_every_option_says_what_it_does_and_its_default():
    import argparse

    from openstrate_nb.cli import build_parser

    [commands] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    for name, sub in commands.choices.items():
        for action in sub._actions:
            assert action.help, f"openstrate-nb {name} {action.option_strings or action.dest} has no help text"
    serve = run_cli("serve", "--help").stdout
    assert "(default: 8765)" in serve and "(default: 100)" in serve and "(default: 30)" in serve
    assert "(default: None)" not in serve


def test_check_says_which_videos_would_be_refused_and_why(tmp_path):
    from pathlib import Path

    from _media import write_video

    courtyard = Path(__file__).resolve().parents[1] / "data" / "castle_courtyard.mp4"
    # Three frames: shorter than any reconstruction can use.
    still = write_video(tmp_path / "still.mp4", frames=3)
    out = run_cli("check", str(courtyard), str(still))
    assert out.returncode == 1, out.stderr
    assert "castle_courtyard.mp4: looks reconstructable." in out.stdout
    assert "768x512" in out.stdout and "the view moves" in out.stdout
    assert "still.mp4: would be refused (too_short)." in out.stdout
    assert "film for a few seconds while walking around the subject" in out.stdout
    ok = run_cli("check", str(courtyard))
    assert ok.returncode == 0, ok.stderr
    missing = run_cli("check", str(tmp_path / "nowhere.mp4"))
    assert missing.returncode == 1 and missing.stderr.strip() == (
        f"openstrate-nb: error: No such video: {tmp_path / 'nowhere.mp4'} (relative paths start at {Path.cwd()}).")


def test_reconstruct_several_videos_runs_them_side_by_side_and_names_the_failure(server, tmp_path):
    from _media import write_video

    good = [write_video(tmp_path / "one.mp4", frames=12), write_video(tmp_path / "two.mp4", frames=14)]
    broken = tmp_path / "three.mp4"
    broken.write_bytes(b"not a video" * 100)
    out = run_cli("reconstruct", str(good[0]), str(broken), str(good[1]), "--out", str(tmp_path / "out"),
                  base_url=server.base_url)
    assert out.returncode == 1, out.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["one.glb", "two.glb"]
    assert "2 of 3 reconstructed; 1 failed:" in out.stdout
    assert "three.mp4: not sent:" in out.stdout and "is not a video inside" in out.stdout
    assert "one.mp4: complete" in out.stdout and "two.mp4: complete" in out.stdout


def test_reconstruct_with_a_marker_size_sends_it_with_the_job(start_server, video, tmp_path):
    server = start_server(pipeline="_pipelines:options_pipeline")
    out = run_cli("reconstruct", str(video), "--marker-size", "0.1", "--out", str(tmp_path), base_url=server.base_url)
    assert out.returncode == 0, out.stderr
    job_id = out.stdout.split("job ", 1)[1].split()[0]
    status = run_cli("status", job_id, "--json", base_url=server.base_url)
    document = json.loads(status.stdout)
    assert document["options"] == {"marker_size_m": 0.1} and document["stats"]["marker_size_m"] == 0.1
