"""The other endpoints of the contract: reconstruct, status, files, view, preview, internal, errors."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from _media import glb_bytes

ZERO = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def finished(server, video):
    """A finished job on the session server: (upload doc, job doc)."""
    from openstrate_nb import OpenStrate

    with OpenStrate(server.base_url, poll_interval=0.05) as client:
        upload = client.upload(video)
        client.wait(upload.job_id, timeout=60)
    return upload, httpx.get(f"{server.base_url}/api/reconstruct/status/{upload.job_id}").json()


def test_job_document_of_a_finished_job(server, finished):
    upload, job = finished
    assert job["status"] == "complete" and job["job_id"] == upload.job_id
    assert job["current_frame"] == job["total_frames"] == 12
    for key in ("view_url", "glb_asset_url", "mesh_viewer_url", "preview_url", "cameras_url"):
        assert job[key].startswith(server.base_url + "/"), key
    assert job["glb_asset_url"].endswith(".glb") and job["view_url"].endswith(".glb")
    assert job["glb_asset_url"].rsplit("/", 1)[1].split(".")[0] != job["job_id"]
    assert job["stats"]["frames"] == 12 and job["video_url"] == upload.url


def test_reconstruct_own_url_is_resolved_locally(server, finished):
    upload, _ = finished
    for url in (upload.url, upload.url.replace("127.0.0.1", "localhost"), f"/api/files/{upload.asset}"):
        r = httpx.post(f"{server.base_url}/api/reconstruct", json={"video_url": url})
        assert r.status_code == 200 and r.json()["status"] == "processing", (url, r.text)


@pytest.mark.parametrize("body, message", [
    ({}, "video_url is missing"),
    ({"video_url": ""}, "video_url is missing"),
    ({"video_url": 42}, "video_url is missing"),
    ({"video_url": "file:///etc/passwd"}, "http(s) URL"),
    ({"video_url": "ftp://example.com/a.mp4"}, "http(s) URL"),
    ({"video_url": "http://127.0.0.1:22/a.mp4"}, "loopback, private or link-local"),
    ({"video_url": "http://10.1.2.3/a.mp4"}, "loopback, private or link-local"),
    ({"video_url": "http://169.254.169.254/latest/meta-data"}, "loopback, private or link-local"),
    ({"video_url": "http://[::1]:8000/a.mp4"}, "loopback, private or link-local"),
    ({"video_url": f"/api/files/{ZERO}.mp4"}, "no video stored on this server"),
])
def test_reconstruct_refuses_bad_video_urls(server, body, message):
    r = httpx.post(f"{server.base_url}/api/reconstruct", json=body)
    assert r.status_code == 400 and message in r.json()["error"], r.text


def test_reconstruct_refuses_a_body_that_is_not_json(server):
    r = httpx.post(f"{server.base_url}/api/reconstruct", content=b"video_url=x")
    assert r.status_code == 400 and "JSON body" in r.json()["error"]


def test_reconstruct_a_mesh_url_is_refused(server):
    doc = httpx.post(f"{server.base_url}/api/upload", files={"file": ("m.glb", glb_bytes())}).json()
    r = httpx.post(f"{server.base_url}/api/reconstruct", json={"video_url": doc["url"]})
    assert r.status_code == 400


@pytest.mark.parametrize("path", [
    f"/api/reconstruct/status/{ZERO}",
    "/api/reconstruct/status/not-a-job",
    f"/api/files/{ZERO}.glb",
    "/api/files/..%2f..%2fetc%2fpasswd",
    "/api/files/..%2f..%2fopenstrate.sqlite3",
    f"/api/files/{ZERO}.sqlite3",
    "/api/files/%2e%2e%2fopenstrate.sqlite3",
    f"/view/{ZERO}.glb",
    "/view/..%2f..%2fetc%2fpasswd",
    f"/api/preview/{ZERO}.glb",
    "/api/preview/..%2fopenstrate.sqlite3.png",
    "/no/such/route",
])
def test_unknown_ids_and_traversal_are_404_json(server, path):
    r = httpx.get(server.base_url + path)
    assert r.status_code == 404 and r.json()["error"], (path, r.text)


def test_files_have_content_types(server, finished):
    upload, job = finished
    assert httpx.get(upload.url).headers["content-type"] == "video/mp4"
    assert httpx.get(job["glb_asset_url"]).headers["content-type"] == "model/gltf-binary"
    cams = httpx.get(job["cameras_url"])
    assert cams.headers["content-type"] == "application/json" and cams.json()["units"] == "arbitrary"


def test_view_page_escapes_the_file_name(server):
    doc = httpx.post(f"{server.base_url}/api/upload",
                     files={"file": ("<img src=x onerror=alert(1)>.glb", glb_bytes())}).json()
    page = httpx.get(doc["view"]).text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "\\u003cimg" in page  # inside the script's JSON too


def test_view_page_links_resolve_under_a_proxy_prefix(server):
    """Behind jupyter-server-proxy the page is at {base}proxy/{port}/view/...: its links must
    be relative, so they resolve to the same server through the same prefix."""
    from urllib.parse import urljoin

    doc = httpx.post(f"{server.base_url}/api/upload", files={"file": ("walk.glb", glb_bytes())}).json()
    page = httpx.get(doc["view"]).text
    asset = doc["view"].rsplit("/", 1)[1]
    proxied = f"http://classroom.test/user/ana/proxy/8765/view/{asset}"
    for link in ("../static/viewer.js", f"../api/files/{asset}"):
        assert link in page
        assert urljoin(proxied, link).startswith("http://classroom.test/user/ana/proxy/8765/")
    assert 'src="/' not in page and '"url": "/' not in page  # no absolute path would survive the prefix


def test_viewer_script_is_served_from_the_package(server):
    r = httpx.get(f"{server.base_url}/static/viewer.js")
    assert r.status_code == 200 and "OpenStrateViewer" in r.text and "cdn" not in r.text.lower()[:2000]


def test_preview_is_a_png_of_the_mesh(server, finished):
    _, job = finished
    r = httpx.get(job["preview_url"], timeout=30)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image
    import io

    pixels = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB")).reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 50  # a shaded, coloured mesh, not a flat fill


def test_preview_of_a_video_is_its_first_frame(server, finished):
    upload, _ = finished
    r = httpx.get(f"{server.base_url}/api/preview/{upload.asset}", timeout=30)
    assert r.status_code == 200 and r.content[:4] == b"\x89PNG"


@pytest.mark.parametrize("action", ["progress", "complete", "session"])
def test_internal_endpoints_refuse_outsiders(server, finished, action):
    _, job = finished
    url = f"{server.base_url}/api/reconstruct/{action}/{job['job_id']}"
    assert httpx.post(url, json={"current_frame": 1}).status_code == 401
    r = httpx.post(url, json={"error": "hijacked"}, headers={"Authorization": "Bearer guessed"})
    assert r.status_code == 403 and r.json()["error"]
    assert httpx.get(f"{server.base_url}/api/reconstruct/status/{job['job_id']}").json()["status"] == "complete"


def test_wrong_method_is_json_405(server):
    r = httpx.delete(f"{server.base_url}/api/upload")
    assert r.status_code == 405 and r.json()["error"]
