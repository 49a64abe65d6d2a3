"""The picker's path: browser chunks → kernel temp file → API upload → job → mesh."""

from __future__ import annotations

import hashlib
import tempfile
import threading
from pathlib import Path

import httpx
import pytest

from openstrate_nb import OpenStrate
from openstrate_nb.widget._receiver import MAX_CHUNK_BYTES


def _temp_uploads() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("openstrate-upload-*"))


def test_picked_video_is_received_in_chunks_uploaded_and_reconstructed(make_widget, browser_for, video):
    before = _temp_uploads()
    w = make_widget()
    browser = browser_for(w)
    data = video.read_bytes()
    browser.send_file(data, chunk=4096)

    acks = browser.replies_of("ack")
    assert [a["index"] for a in acks] == list(range(len(acks)))
    assert acks[-1]["received"] == len(data)
    assert browser.replies_of("received")
    assert w.kernel_hop["sent"] == w.kernel_hop["total"] == len(data)
    assert w.filename == "walk.mp4"

    job = w.wait(timeout=120)
    assert str(job.status) == "complete"
    assert w.phase == "complete" and w.percent == 100.0
    assert w.server_hop["sent"] == w.server_hop["total"] == len(data)
    assert w.job_id == job.job_id
    assert w.mesh is not None and len(w.mesh.faces) > 0
    assert w.view_url.startswith(w.client.base_url + "/view/")
    # The temp file went away once the server held the video.
    assert _temp_uploads() - before == set()


def test_the_cache_key_is_the_sha256_computed_on_the_way_in(make_widget, browser_for, video, widget_cache):
    w = make_widget()
    browser_for(w).send_file(video.read_bytes(), chunk=1000)
    w.wait(timeout=120)
    key = hashlib.sha256(video.read_bytes()).hexdigest()
    assert list(widget_cache.glob(f"jobs/*/{key}.json"))


def test_a_second_pick_of_the_same_video_attaches_to_the_finished_job(make_widget, browser_for, video):
    first = make_widget()
    browser_for(first).send_file(video.read_bytes())
    first.wait(timeout=120)
    second = make_widget()
    browser = browser_for(second)
    browser.send_file(video.read_bytes())
    second.wait(timeout=120)
    assert second.from_cache and second.job_id == first.job_id
    # The browser's hash was enough: not a byte went to the kernel, nor to the server.
    assert browser.replies_of("known") and not browser.replies_of("ready") and not browser.replies_of("ack")
    assert second.kernel_hop == {} and second.server_hop == {}
    assert second.mesh is not None and second.mesh_path == first.mesh_path


def test_a_known_hash_from_a_browser_is_still_checked_for_type_and_size(make_widget, browser_for, video):
    first = make_widget()
    browser_for(first).send_file(video.read_bytes())
    first.wait(timeout=120)
    second = make_widget()
    browser = browser_for(second)
    browser.send_file(video.read_bytes(), name="walk.txt")
    assert not browser.replies_of("known") and "not a video" in browser.replies_of("abort")[0]["message"]


def test_a_chunk_out_of_order_stops_the_upload_and_removes_the_temp_file(make_widget, browser_for, video):
    before = _temp_uploads()
    w = make_widget()
    browser = browser_for(w)
    data = video.read_bytes()
    browser.message({"type": "upload_start", "id": "u1", "name": "walk.mp4", "size": len(data)})
    browser.message({"type": "chunk", "id": "u1", "index": 0, "offset": 100}, [memoryview(data[100:200])])
    [abort] = browser.replies_of("abort")
    assert "out of order" in abort["message"]
    assert w.phase == "failed" and "out of order" in w.error
    assert _temp_uploads() - before == set()


def test_missing_bytes_are_noticed_when_the_upload_ends(make_widget, browser_for, video):
    w = make_widget()
    browser = browser_for(w)
    data = video.read_bytes()
    browser.message({"type": "upload_start", "id": "u1", "name": "walk.mp4", "size": len(data)})
    browser.message({"type": "chunk", "id": "u1", "index": 0, "offset": 0}, [memoryview(data[:100])])
    browser.message({"type": "upload_end", "id": "u1"})
    [abort] = browser.replies_of("abort")
    assert f"Only 100 of {len(data)} bytes" in abort["message"]
    assert w.phase == "failed" and w.job_id == ""


def test_a_chunk_over_8_mib_is_refused(make_widget, browser_for):
    w = make_widget()
    browser = browser_for(w)
    size = MAX_CHUNK_BYTES + 1
    browser.message({"type": "upload_start", "id": "u1", "name": "walk.mp4", "size": size})
    browser.message({"type": "chunk", "id": "u1", "index": 0, "offset": 0}, [memoryview(bytes(size))])
    assert "larger than 8 MiB" in browser.replies_of("abort")[0]["message"]


@pytest.mark.parametrize(
    ("name", "size", "expected"),
    [("notes.txt", 10, "not a video"), ("walk.mp4", 0, "empty"), ("walk.mp4", 10**12, "upload cap")],
)
def test_files_the_server_would_refuse_are_refused_before_a_byte_is_sent(make_widget, browser_for, name, size,
                                                                         expected):
    w = make_widget()
    browser = browser_for(w)
    browser.message({"type": "upload_start", "id": "u1", "name": name, "size": size})
    assert not browser.replies_of("ready")
    assert expected in browser.replies_of("abort")[0]["message"]
    assert expected in w.error


def test_cancel_while_receiving_removes_the_temp_file(make_widget, browser_for, video):
    before = _temp_uploads()
    w = make_widget()
    browser = browser_for(w)
    data = video.read_bytes()
    browser.send_file(data, chunk=1024, end=False)
    assert len(_temp_uploads() - before) == 1
    browser.message({"type": "cancel", "id": "u1"})
    assert w.phase == "cancelled"
    assert _temp_uploads() - before == set()
    # Chunks still in flight after the cancel are dropped quietly.
    browser.message({"type": "chunk", "id": "u1", "index": 99, "offset": len(data)}, [memoryview(b"x")])
    assert w.phase == "cancelled"


class GatedUploadTransport(httpx.BaseTransport):
    """Holds the upload request after its first body part until the test releases it."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()
        self.holding = threading.Event()
        self.release = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/api/upload":
            return self.inner.handle_request(request)
        parts = []
        for part in request.stream:
            parts.append(part)
            if len(parts) == 1:
                self.holding.set()
                self.release.wait(30)
        forwarded = httpx.Request(request.method, request.url, headers=request.headers, content=b"".join(parts))
        return self.inner.handle_request(forwarded)


def test_cancel_during_the_upload_to_the_server_stops_it_and_removes_the_temp_file(make_widget, browser_for, server,
                                                                                   video):
    before = _temp_uploads()
    transport = GatedUploadTransport()
    w = make_widget(client=OpenStrate(server.base_url, transport=transport, poll_interval=0.05))
    browser = browser_for(w)
    browser.send_file(video.read_bytes())
    assert transport.holding.wait(30)
    assert w.phase == "uploading"
    browser.message({"type": "cancel"})
    transport.release.set()
    with pytest.raises(Exception, match="(?i)cancelled"):
        w.wait(timeout=60)
    assert w.phase == "cancelled" and w.job_id == ""
    assert _temp_uploads() - before == set()


def test_a_failed_upload_keeps_the_file_for_retry_and_close_removes_it(browser_for, video, make_widget):
    before = _temp_uploads()
    # Nothing listens on port 9 (discard) on loopback: the upload fails to connect.
    w = make_widget(client=OpenStrate("http://127.0.0.1:9", max_retries=0))
    browser_for(w).send_file(video.read_bytes())
    with pytest.raises(Exception, match="Could not talk to"):
        w.wait(timeout=60)
    assert w.phase == "failed" and w.can_retry
    assert len(_temp_uploads() - before) == 1
    w.close()
    assert _temp_uploads() - before == set()


def test_a_second_video_while_the_first_runs_is_refused_without_disturbing_it(make_widget, browser_for, video,
                                                                              monkeypatch):
    monkeypatch.setenv("OPENSTRATE_TEST_FRAME_DELAY", "0.05")
    w = make_widget()
    browser = browser_for(w)
    browser.send_file(video.read_bytes(), upload_id="first")
    browser.message({"type": "upload_start", "id": "second", "name": "other.mp4", "size": 10})
    assert "already working" in browser.replies_of("abort")[0]["message"]
    w.wait(timeout=120)
    assert w.phase == "complete" and w.error == ""
