"""POST /api/upload against the embedded server: good files, and every kind of bad one."""

from __future__ import annotations

import httpx
import pytest
from _media import fake_mp4, glb_bytes, mesh_bytes, write_video

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _post(server, **kwargs):
    return httpx.post(f"{server.base_url}/api/upload", timeout=30, **kwargs)


def _leftovers(server):
    return list((server.data_dir / "tmp").iterdir())


def test_video_upload_document(server, video):
    r = _post(server, files={"file": ("walk.mp4", video.read_bytes(), "video/mp4")})
    assert r.status_code == 200
    doc = r.json()
    assert set(doc) >= {"id", "filename", "url", "view", "size", "job_id", "reconstruction_started"}
    assert doc["url"] == f"{server.base_url}/api/files/{doc['id']}.mp4"
    assert doc["view"] == f"{server.base_url}/view/{doc['id']}.mp4"
    assert doc["size"] == video.stat().st_size and doc["reconstruction_started"] is True
    assert httpx.get(doc["url"]).content == video.read_bytes()


def test_cors_is_open(server):
    r = httpx.options(f"{server.base_url}/api/upload", headers={
        "Origin": "https://notebook.example", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    r = httpx.get(f"{server.base_url}/api/reconstruct/status/x", headers={"Origin": "https://notebook.example"})
    assert r.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("name, make", [
    ("walk.mkv", lambda p: write_video(p)),
    ("walk.webm", lambda p: write_video(p, codec="libvpx-vp9")),
    ("walk.avi", lambda p: write_video(p, codec="mjpeg")),
    ("walk.mov", lambda p: write_video(p)),
])
def test_every_video_container_is_accepted(server, tmp_path, name, make):
    path = make(tmp_path / name)
    r = _post(server, files={"file": (name, path.read_bytes())})
    assert r.status_code == 200, r.text
    assert r.json()["url"].endswith("." + name.rsplit(".", 1)[1])


@pytest.mark.parametrize("ext", ["glb", "ply", "stl"])
def test_mesh_uploads_store_and_link(server, ext):
    data = glb_bytes() if ext == "glb" else mesh_bytes(ext)
    r = _post(server, files={"file": (f"part.{ext}", data)})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert "job_id" not in doc and doc["view"].endswith(f".{ext}") and doc["kind"] == "mesh"
    page = httpx.get(doc["view"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "x-frame-options" not in page.headers and "/static/viewer.js" in page.text


def test_container_and_extension_disagreeing_is_stored_by_content(server, tmp_path):
    mkv = write_video(tmp_path / "inside.mkv")
    r = _post(server, files={"file": ("named.mp4", mkv.read_bytes())})
    assert r.status_code == 200 and r.json()["url"].endswith(".mkv")


@pytest.mark.parametrize("kwargs, message", [
    ({"files": {"video": ("walk.mp4", b"\x00\x00\x00\x18ftypisom")}}, "field named 'file'"),
    ({"data": {"file": "not a file"}}, "field named 'file'"),
    ({"content": b"raw bytes", "headers": {"content-type": "video/mp4"}}, "multipart/form-data"),
    ({"files": {"file": ("notes.txt", b"hello")}}, "not an allowed type"),
    ({"files": {"file": ("walk.mp4", b"this is a text file, not a video" * 10)}}, "is not a video inside"),
    ({"files": {"file": ("walk.mp4", b"")}}, "is empty"),
    ({"files": {"file": ("mesh.glb", mesh_bytes("ply"))}}, "is not a .glb mesh"),
    ({"files": {"file": ("mesh.stl", b"\x00" * 200)}}, "is not a .stl mesh"),
    ({"content": b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\nabc",
      "headers": {"content-type": "multipart/form-data; boundary=xyz"}}, ""),
])
def test_bad_uploads_get_400_and_leave_nothing(server, kwargs, message):
    files_before = set((server.data_dir / "files").iterdir())
    r = _post(server, **kwargs)
    assert r.status_code == 400, r.text
    assert message in r.json()["error"]
    assert _leftovers(server) == [] and set((server.data_dir / "files").iterdir()) == files_before


def test_over_the_cap_is_413_as_soon_as_crossed_with_no_leftover(start_server, tmp_path):
    small = start_server(max_upload_bytes=2 * 1024 * 1024, workers=0)
    big = fake_mp4(tmp_path / "big.mp4", 50 * 1024 * 1024)
    with big.open("rb") as f:
        r = httpx.post(f"{small.base_url}/api/upload", files={"file": ("big.mp4", f)}, timeout=60)
    assert r.status_code == 413 and "upload cap" in r.json()["error"]
    assert list((small.data_dir / "tmp").iterdir()) == [] and list((small.data_dir / "files").iterdir()) == []


def test_client_file_name_never_becomes_a_path(server, video):
    r = _post(server, files={"file": ("../../etc/evil<script>.mp4", video.read_bytes())})
    assert r.status_code == 200
    doc = r.json()
    assert doc["filename"] == "evil<script>.mp4"
    assert not (server.data_dir.parent / "etc").exists()
    assert sorted(p.suffix for p in (server.data_dir / "files").iterdir() if p.stem == doc["id"]) == [".mp4"]
