"""Every client method, both twins, against the real embedded server over loopback."""

from __future__ import annotations

import httpx
import pytest
from _media import glb_bytes, write_audio_only, write_video

from openstrate_nb import (
    BadRequestError,
    FileTooLargeError,
    Job,
    JobFailedError,
    JobStatus,
    MissingFileError,
    NotFoundError,
    OpenStrate,
    OpenStrateError,
    PayloadTooLargeError,
    UnsupportedFileError,
    Upload,
    WaitTimeout,
    WorkerUnavailableError,
)


def test_upload_video_starts_a_job_and_reports_bytes(make_client, video):
    client = make_client()
    seen = []
    upload = client.upload(video, on_progress=lambda sent, total: seen.append((sent, total)))
    assert isinstance(upload, Upload)
    assert upload.reconstruction_started is True and upload.job_id
    assert upload.filename == "walk.mp4" and upload.size == video.stat().st_size
    assert upload.url.startswith(client.base_url + "/api/files/") and upload.url.endswith(".mp4")
    assert seen[0][0] == 0 and seen[-1] == (video.stat().st_size, video.stat().st_size)
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)


def test_upload_from_an_open_file_with_a_filename(make_client, video):
    client = make_client()
    with video.open("rb") as f:
        upload = client.upload(f, filename="renamed.mp4")
    assert upload.filename == "renamed.mp4" and upload.job_id


def test_full_flow_upload_wait_download(make_client, video, tmp_path):
    client = make_client()
    upload = client.upload(video)
    updates: list[Job] = []
    job = client.wait(upload.job_id, timeout=60, on_update=updates.append)
    assert job.status == JobStatus.COMPLETE and job.is_terminal and job.progress == 1.0
    assert job.view_url == client.view_url(job.asset) and job.glb_asset_url == client.file_url(job.asset)
    assert job.asset_id and job.asset_id != job.job_id
    assert any(u.stage == "decoding" for u in updates)
    path = client.download(job, tmp_path)
    assert path == tmp_path / f"{job.asset_id}.glb"
    assert path.read_bytes() == httpx.get(job.glb_asset_url).content
    assert path.read_bytes()[:4] == b"glTF"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_reconstruct_from_an_upload_url_and_status(make_client, video):
    client = make_client()
    upload = client.upload(video)
    job = client.reconstruct(upload.url, filename="again.mp4")
    assert job.status == JobStatus.PROCESSING and job.job_id != upload.job_id
    status = client.status(job.job_id)
    assert status.job_id == job.job_id and status.extra["filename"] == "again.mp4"
    assert client.wait(job.job_id, timeout=60).status == "complete"


def test_mesh_upload_gets_links_and_no_job(make_client, tmp_path):
    mesh = tmp_path / "part.glb"
    mesh.write_bytes(glb_bytes())
    client = make_client()
    upload = client.upload(mesh)
    assert upload.job_id is None and upload.view.endswith(".glb") and upload.asset.endswith(".glb")
    assert httpx.get(upload.url).content == mesh.read_bytes()
    assert client.download(upload, tmp_path / "copy.glb").read_bytes() == mesh.read_bytes()
    assert client.download(upload.asset, tmp_path / "by-id.glb").read_bytes() == mesh.read_bytes()


def test_failed_job_raises_with_the_server_reason(make_client, tmp_path):
    client = make_client()
    upload = client.upload(write_audio_only(tmp_path / "sound.mp4"))
    with pytest.raises(JobFailedError) as err:
        client.wait(upload.job_id, timeout=60)
    assert "no video stream" in err.value.error and err.value.job_id == upload.job_id
    assert err.value.job.status == JobStatus.FAILED
    assert err.value.code == err.value.job.code == "no_video_stream"  # the embedded server's extension


def test_wait_timeout_names_the_job_which_keeps_running(make_client, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENSTRATE_TEST_FRAME_DELAY", "0.1")  # read by the worker process it starts
    client = make_client()
    upload = client.upload(write_video(tmp_path / "slow.mp4", frames=20))
    monkeypatch.delenv("OPENSTRATE_TEST_FRAME_DELAY")
    with pytest.raises(WaitTimeout) as err:
        client.wait(upload.job_id, timeout=0.3)
    assert err.value.job_id == upload.job_id and upload.job_id in str(err.value)
    assert client.wait(upload.job_id, timeout=60).status == "complete"


def test_refuses_unsupported_types_before_sending(make_client, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    calls = []
    client = OpenStrate("http://127.0.0.1:9", transport=httpx.MockTransport(lambda r: calls.append(r)))
    with pytest.raises(UnsupportedFileError, match=r"\.mp4 \.mov \.avi \.mkv \.webm"):
        client.upload(notes)
    assert calls == []
    with pytest.raises(UnsupportedFileError):
        make_client().upload(notes)


def test_refuses_files_over_the_cap_before_sending(make_client, video):
    calls = []
    client = OpenStrate("http://127.0.0.1:9", max_upload_bytes=100,
                        transport=httpx.MockTransport(lambda r: calls.append(r)))
    with pytest.raises(FileTooLargeError, match="upload cap"):
        client.upload(video)
    assert calls == []
    with pytest.raises(FileTooLargeError):
        make_client(max_upload_bytes=100).upload(video)


def test_missing_file_is_a_clear_error(make_client, tmp_path):
    with pytest.raises(MissingFileError, match="No such file") as missing:
        make_client().upload(tmp_path / "nope.mp4")
    # One except clause catches every failure, and code that expects the built-in still works.
    assert isinstance(missing.value, OpenStrateError) and isinstance(missing.value, FileNotFoundError)


def test_status_of_an_unknown_job_is_not_found(make_client):
    with pytest.raises(NotFoundError) as err:
        make_client().status("00000000-0000-0000-0000-000000000000")
    assert err.value.status_code == 404 and str(err.value).startswith("no such job on this server")


def test_bad_request_from_the_server(make_client):
    with pytest.raises(BadRequestError, match="^video_url must be an http") as err:
        make_client().reconstruct("file:///etc/passwd")
    assert err.value.status_code == 400 and err.value.body["error"]


def test_payload_too_large_from_the_server(make_client, start_server, video):
    small = start_server(max_upload_bytes=1000, workers=0)
    with pytest.raises(PayloadTooLargeError) as err:
        make_client(small.base_url).upload(video)
    assert err.value.status_code == 413
    assert list((small.data_dir / "tmp").iterdir()) == [] and list((small.data_dir / "files").iterdir()) == []


def test_worker_unavailable(make_client, start_server, video):
    idle = start_server(workers=0)
    client = make_client(idle.base_url)
    upload = client.upload(video)
    assert upload.reconstruction_started is False and "workers" in upload.reconstruction_error
    with pytest.raises(WorkerUnavailableError) as err:
        client.reconstruct(upload.url)
    assert err.value.status_code == 503 and err.value.job_id


def test_urls_are_resolved_against_the_base_url(make_client):
    client = make_client("http://example.test:8000/")
    assert client.base_url == "http://example.test:8000"
    assert client.file_url("abc") == "http://example.test:8000/api/files/abc.glb"
    assert client.view_url("abc.ply") == "http://example.test:8000/view/abc.ply"
    assert client.preview_url("abc", ext="stl") == "http://example.test:8000/api/preview/abc.stl"


def test_base_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("OPENSTRATE_BASE_URL", "http://127.0.0.1:1234")
    assert OpenStrate().base_url == "http://127.0.0.1:1234"
    assert OpenStrate("http://other:1").base_url == "http://other:1"
    monkeypatch.delenv("OPENSTRATE_BASE_URL")
    assert OpenStrate().base_url == "https://openstrate.com"
    with pytest.raises(ValueError, match="not an http"):
        OpenStrate("ftp://x")


def test_user_agent_names_the_package_version():
    from openstrate_nb import __version__

    seen = {}

    def handler(request):
        seen["ua"] = request.headers["user-agent"]
        return httpx.Response(200, json={"job_id": "j", "status": "pending"})

    OpenStrate("http://t", transport=httpx.MockTransport(handler)).status("j")
    assert seen["ua"].startswith(f"openstrate-nb/{__version__}")


def test_relative_urls_in_documents_are_made_absolute():
    def handler(request):
        return httpx.Response(200, json={"job_id": "j", "status": "complete", "view_url": "/view/a.glb",
                                         "glb_asset_url": "/api/files/a.glb", "mission_id": "m1", "new_field": 3})

    job = OpenStrate("http://t:1", transport=httpx.MockTransport(handler)).status("j")
    assert job.view_url == "http://t:1/view/a.glb" and job.glb_asset_url == "http://t:1/api/files/a.glb"
    assert job.asset == "a.glb" and job.asset_id == "a" and job.mission_id == "m1"
    assert job.extra == {"new_field": 3}



def test_an_embedded_server_names_itself_the_same_across_restarts(make_client, start_server, tmp_path):
    data = tmp_path / "data"
    first = start_server(data_dir=data)
    first_id = make_client(first.base_url).server_id()
    first.stop()
    again = start_server(data_dir=data)
    assert make_client(again.base_url).server_id() == first_id
    assert make_client().server_id() not in (None, first_id)  # another data directory, another server


def test_a_server_without_an_identity_is_known_by_its_url():
    # The hosted service's root is a web page, not a JSON document with a server_id.
    pages = httpx.MockTransport(lambda r: httpx.Response(200, text="<html>OpenStrate</html>",
                                                         headers={"content-type": "text/html"}))
    assert OpenStrate("http://t", transport=pages).server_id() is None
