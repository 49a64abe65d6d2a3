"""Kernel-side ways in (a path, a URL, a job id), live progress, wait(), Retry and the result."""

from __future__ import annotations

import _thread
import signal
import sqlite3
import threading
import time

import numpy as np
import pytest
import trimesh

from _media import write_video
from openstrate_nb import JobFailedError, OpenStrate, OpenStrateError, WaitTimeout
from openstrate_nb._look import DARK_BACKGROUND, LIGHT_BACKGROUND
from openstrate_nb.widget import ReconstructWidget


def test_a_kernel_side_path_runs_without_a_browser(make_widget, video, widget_cache):
    w = make_widget(video)
    job = w.wait(timeout=120)
    assert str(job.status) == "complete" and w.status == "complete"
    assert w.job is job and w.job_id == job.job_id
    assert isinstance(w.mesh, trimesh.Trimesh) and len(w.mesh.faces) == w.mesh_faces
    assert w.mesh_path.is_relative_to(widget_cache) and w.mesh_path.suffix == ".glb"
    assert w.view_url == job.view_url
    assert w.server_hop["sent"] == video.stat().st_size
    assert w.kernel_hop == {}  # no browser hop for a kernel-side file


def test_the_displayed_view_is_a_vbox_of_the_widget_and_the_pythreejs_renderer(make_widget, video):
    import ipywidgets
    import pythreejs

    w = make_widget(video)
    w.wait(timeout=120)
    assert isinstance(w.container, ipywidgets.VBox) and w.container.children[0] is w
    renderer, readout = w.container.children[1].children  # the measuring readout under the view
    assert renderer is w.scene and isinstance(renderer, pythreejs.Renderer)
    assert isinstance(readout, ipywidgets.HTML)
    bundle = w._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == w.container.model_id
    mesh = next(c for c in renderer.scene.children if isinstance(c, pythreejs.Mesh))
    attributes = mesh.geometry.attributes
    assert attributes["position"].array.dtype == np.float32
    assert attributes["color"].array.dtype == np.float32  # the test pipeline's GLB has vertex colours
    # ...shown as captured, unlit (no normals to send), indices in 16 bits below 65,536 vertices.
    assert isinstance(mesh.material, pythreejs.MeshBasicMaterial) and "normal" not in attributes
    assert mesh.geometry.index.array.dtype == np.uint16


def test_the_displayed_copy_is_decimated_above_the_face_budget_but_the_mesh_keeps_every_face(make_widget, video):
    w = make_widget(video, max_faces=200)
    w.wait(timeout=120)
    mesh = next(c for c in w.scene.scene.children if c.__class__.__name__ == "Mesh")
    assert len(mesh.geometry.index.array) // 3 <= 200
    assert len(w.mesh.faces) > 200


def test_the_same_video_again_attaches_to_the_finished_job_and_force_runs_it_again(make_widget, video):
    first = make_widget(video)
    first.wait(timeout=120)
    again = make_widget(video)
    again.wait(timeout=120)
    assert again.from_cache and again.job_id == first.job_id and again.server_hop == {}
    assert again.mesh_path == first.mesh_path
    forced = make_widget(video, force=True)
    forced.wait(timeout=120)
    assert not forced.from_cache and forced.job_id != first.job_id


def test_another_server_does_not_share_the_cache(make_widget, video, start_server):
    first = make_widget(video)
    first.wait(timeout=120)
    other = start_server()
    w = make_widget(video, client=OpenStrate(other.base_url, poll_interval=0.05))
    w.wait(timeout=120)
    assert not w.from_cache and w.job_id != first.job_id


def test_the_same_server_restarted_on_another_port_is_still_the_same_cache(make_widget, video, tmp_path):
    """``%openstrate serve`` picks a new port every time: the cache follows the data directory."""
    from openstrate_nb.local import start

    data = tmp_path / "data"
    with start(port=0, data_dir=data, pipeline="_pipelines:quick_pipeline") as first_run:
        first = make_widget(video, client=OpenStrate(first_run.base_url, poll_interval=0.05))
        first.wait(timeout=120)
        first_id, first_url = OpenStrate(first_run.base_url).server_id(), first_run.base_url
    with start(port=0, data_dir=data, pipeline="_pipelines:quick_pipeline") as second_run:
        assert second_run.base_url != first_url
        client = OpenStrate(second_run.base_url, poll_interval=0.05)
        assert client.server_id() == first_id
        again = make_widget(video, client=client)
        again.wait(timeout=120)
        assert again.from_cache and again.job_id == first.job_id and again.server_hop == {}
        assert again.mesh_path == first.mesh_path  # not downloaded again either
        with sqlite3.connect(data / "openstrate.sqlite3") as db:
            assert db.execute("SELECT count(*) FROM jobs").fetchone()[0] == 1
            assert db.execute("SELECT count(*) FROM files WHERE kind = 'video'").fetchone()[0] == 1


def test_video_url_and_job_id_ways_in(make_widget, client, video):
    upload = client.upload(video)
    by_url = make_widget(video_url=upload.url)
    by_url.wait(timeout=120)
    assert by_url.phase == "complete"
    # After a kernel restart only the job id is left: a new widget shows the same result.
    attached = make_widget(job_id=by_url.job_id)
    job = attached.wait(timeout=120)
    assert job.job_id == by_url.job_id and attached.view_url == by_url.view_url
    assert len(attached.mesh.faces) == len(by_url.mesh.faces)


def test_a_url_given_positionally_is_treated_as_video_url(make_widget, client, video):
    upload = client.upload(video)
    w = make_widget(upload.url)
    w.wait(timeout=120)
    assert w.phase == "complete"


def test_an_unknown_job_id_fails_with_a_readable_error(make_widget):
    w = make_widget(job_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(Exception, match="has no job"):
        w.wait(timeout=60)
    assert w.phase == "failed"


def test_bad_arguments_are_refused_at_once(make_widget, tmp_path, video):
    with pytest.raises(OpenStrateError, match="No such video"):  # also a FileNotFoundError
        make_widget(tmp_path / "missing.mp4")
    with pytest.raises(ValueError, match="not a video"):
        make_widget(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="not both"):
        ReconstructWidget(base_url="http://127.0.0.1:1", client=OpenStrate("http://127.0.0.1:1"))
    with pytest.raises(ValueError, match="one of"):
        make_widget(video, job_id="x")
    with pytest.raises(RuntimeError, match="Nothing to wait for"):
        make_widget().wait(timeout=1)


def test_base_url_comes_from_the_environment(monkeypatch, server):
    monkeypatch.setenv("OPENSTRATE_BASE_URL", server.base_url)
    w = ReconstructWidget()
    try:
        assert w.client.base_url == server.base_url
    finally:
        w.close()


def test_progress_moves_while_the_main_thread_is_blocked(make_widget, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENSTRATE_TEST_FRAME_DELAY", "0.05")
    long_video = write_video(tmp_path / "long.mp4", frames=60)
    w = make_widget(long_video)
    seen = []
    w.observe(lambda change: seen.append(change["new"]), names="current_frame")
    # The main thread blocks as a busy cell would; only the runner thread can move the traits.
    while w.phase != "complete" and w.phase != "failed":
        time.sleep(0.2)
    assert w.phase == "complete"
    assert len(set(seen)) >= 3 and seen == sorted(seen)
    assert w.elapsed > 0


@pytest.fixture
def sigint_raises():
    """Ctrl-C raises KeyboardInterrupt, as in a kernel, whatever an earlier test of the session
    left installed (``_thread.interrupt_main`` does nothing while SIGINT is ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_ends_the_wait_but_not_the_job(make_widget, video, monkeypatch, sigint_raises):
    monkeypatch.setenv("OPENSTRATE_TEST_FRAME_DELAY", "0.2")
    w = make_widget(video)

    caught = threading.Event()

    def interrupt_once_the_job_runs():
        while not w.job_id:
            time.sleep(0.02)
        # Ctrl-C again until it lands: one that arrives while the main thread runs a
        # finaliser (a garbage-collected object's __del__) is swallowed there, as Python does.
        while not caught.is_set():
            _thread.interrupt_main()
            caught.wait(0.5)

    interrupter = threading.Thread(target=interrupt_once_the_job_runs, daemon=True)
    interrupter.start()
    with pytest.raises(KeyboardInterrupt):
        w.wait(timeout=120)
    caught.set()
    interrupter.join()
    try:
        time.sleep(0.05)  # where a second Ctrl-C, sent just before the first was caught, lands
    except KeyboardInterrupt:
        pass
    assert w.phase != "complete"
    job = w.wait(timeout=120)
    assert str(job.status) == "complete"


def test_wait_times_out_without_stopping_the_job(make_widget, start_server, video):
    slow = start_server(pipeline="_pipelines:sleeping_pipeline")
    w = make_widget(video, client=OpenStrate(slow.base_url, poll_interval=0.05))
    with pytest.raises(WaitTimeout):
        w.wait(timeout=0.5)
    assert w.phase in ("uploading", "queued", "reconstructing", "hashing", "starting", "submitting")


def test_a_failed_job_shows_its_error_and_retry_resubmits_the_uploaded_video(make_widget, start_server, video):
    crashing = start_server(pipeline="_pipelines:crashing_pipeline")
    client = OpenStrate(crashing.base_url, poll_interval=0.05)
    w = make_widget(video, client=client)
    with pytest.raises(JobFailedError):
        w.wait(timeout=120)
    assert w.phase == "failed" and w.error and w.can_retry
    first_job = w.job_id
    uploaded = w.job.extra.get("video_url")
    w.retry()
    with pytest.raises(JobFailedError):
        w.wait(timeout=120)
    assert w.job_id != first_job
    assert w.job.extra.get("video_url") == uploaded  # re-submitted, not uploaded again


def test_retry_from_the_browser_button(make_widget, browser_for, start_server, video):
    crashing = start_server(pipeline="_pipelines:crashing_pipeline")
    w = make_widget(video, client=OpenStrate(crashing.base_url, poll_interval=0.05))
    with pytest.raises(JobFailedError):
        w.wait(timeout=120)
    first_job = w.job_id
    browser_for(w).message({"type": "retry"})
    with pytest.raises(JobFailedError):
        w.wait(timeout=120)
    assert w.job_id != first_job


def test_close_stops_the_background_thread(make_widget, start_server, video):
    slow = start_server(pipeline="_pipelines:sleeping_pipeline")
    w = make_widget(video, client=OpenStrate(slow.base_url, poll_interval=0.05))
    while not w.job_id:
        time.sleep(0.05)
    runner = w._reconstruction
    w.close()
    runner.join(10)
    assert not runner.is_alive()


def test_retry_after_a_failed_download_follows_the_same_job_again(make_widget, server, video):
    class FlakyDownloads(OpenStrate):
        failures = 1

        def download(self, *args, **kwargs):
            if self.failures:
                self.failures -= 1
                raise ConnectionError("the network dropped")
            return super().download(*args, **kwargs)

    w = make_widget(video, client=FlakyDownloads(server.base_url, poll_interval=0.05))
    with pytest.raises(Exception, match="network dropped"):
        w.wait(timeout=120)
    assert w.phase == "failed" and w.can_retry
    job_id = w.job_id
    w.retry()
    w.wait(timeout=120)
    assert w.phase == "complete" and w.job_id == job_id and w.mesh is not None


def test_retry_of_a_failed_job_attached_by_id_resubmits_its_video(make_widget, start_server, video):
    crashing = start_server(pipeline="_pipelines:crashing_pipeline")
    client = OpenStrate(crashing.base_url, poll_interval=0.05)
    failed_job = client.upload(video).job_id
    w = make_widget(job_id=failed_job, client=client)
    with pytest.raises(JobFailedError):
        w.wait(timeout=120)
    w.retry()
    with pytest.raises(JobFailedError):
        w.wait(timeout=120)
    assert w.job_id != failed_job


def test_cancel_during_reconstruction_stops_the_servers_job(make_widget, start_server, video):
    slow = start_server(pipeline="_pipelines:sleeping_pipeline")
    client = OpenStrate(slow.base_url, poll_interval=0.05)
    w = make_widget(video, client=client)
    deadline = time.monotonic() + 60
    while w.stage != "thinking" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert w.phase == "reconstructing"
    w.cancel()
    w._reconstruction.done.wait(30)
    assert w.phase == "cancelled" and w.notice == f"Cancelled: the server stopped job {w.job_id}."
    job = client.status(w.job_id)
    assert (job.status, job.code) == ("failed", "cancelled")


def test_a_file_that_is_no_video_fails_in_plain_words_and_offers_no_retry(make_widget, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("milk, eggs, a tripod")
    w = make_widget(notes)
    with pytest.raises(OpenStrateError):
        w.wait(timeout=60)
    assert w.phase == "failed" and not w.can_retry  # the same bytes would be refused again
    assert "not a video" in w.error and not w.error.startswith("HTTP")


def test_a_failure_the_pipeline_would_repeat_offers_no_retry_but_a_lost_worker_does(make_widget, start_server,
                                                                                   video):
    real = start_server(pipeline="openstrate_nb.local.pipeline:reconstruct")
    w = make_widget(video, client=OpenStrate(real.base_url, poll_interval=0.05))
    with pytest.raises(JobFailedError):  # 12 frames of 64x48 noise: the real pipeline refuses them
        w.wait(timeout=120)
    assert w.job.code in ("too_short", "too_blurred", "no_motion", "not_enough_views") and not w.can_retry
    crashing = start_server(pipeline="_pipelines:crashing_pipeline")
    w = make_widget(video, client=OpenStrate(crashing.base_url, poll_interval=0.05))
    with pytest.raises(JobFailedError):
        w.wait(timeout=120)
    assert w.job.code == "worker_crashed" and w.can_retry


def test_without_a_kernel_the_output_reads_as_a_sentence(make_widget, video):
    w = make_widget(video)
    assert w._repr_mimebundle_()["text/plain"].startswith("OpenStrate reconstruction of walk.mp4: ")
    w.wait(timeout=120)
    bundle = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == f"OpenStrate reconstruction of walk.mp4: {w.mesh_faces:,} faces (job {w.job_id})."


def test_the_3d_view_follows_the_width_and_theme_the_browser_reports(make_widget, browser_for, video):
    w = make_widget(video)
    browser = browser_for(w)
    browser.message({"type": "view", "width": 500, "dark": True})  # before the result: kept for it
    w.wait(timeout=120)
    assert (w.scene.width, w.scene.height) == (500, 330)
    assert w.scene.scene.background == DARK_BACKGROUND
    browser.message({"type": "view", "width": 1200, "dark": False})
    assert (w.scene.width, w.scene.height) == (1200, 420)  # no taller than the /view iframe
    assert w.scene.camera.aspect == pytest.approx(1200 / 420)
    assert w.scene.scene.background == LIGHT_BACKGROUND
    browser.message({"type": "view", "width": 90, "dark": False})  # a sliver: still a usable view
    assert w.scene.width == 240


def test_every_output_of_the_widget_gets_the_picture_and_the_sentence_once_complete(make_widget, video,
                                                                                     monkeypatch):
    import IPython.display

    shown: dict[str, dict] = {}
    monkeypatch.setattr(IPython.display, "display",
                        lambda bundle, raw, display_id: shown.__setitem__(display_id, bundle))
    monkeypatch.setattr(IPython.display, "update_display",
                        lambda bundle, raw, display_id: shown.__setitem__(display_id, bundle))
    w = make_widget(video)
    w._ipython_display_()
    w._ipython_display_()  # shown twice (two cells): both outputs are updated
    assert len(shown) == 2 and not any("image/png" in bundle for bundle in shown.values())
    w.wait(timeout=120)
    for bundle in shown.values():
        assert bundle["image/png"].startswith(b"\x89PNG")
        assert bundle["text/plain"].endswith(f"faces (job {w.job_id}).")
        assert "application/vnd.jupyter.widget-view+json" in bundle


def test_a_second_result_is_drawn_in_the_same_renderer_so_no_open_view_loses_its_comm(make_widget, video, tmp_path):
    w = make_widget(video)
    w.wait(timeout=120)
    renderer, first_mesh = w.scene, w.scene.scene.children[0]
    other = write_video(tmp_path / "other.mp4", frames=14)
    w.submit(other)
    assert w.scene is None  # no result while the new one is on its way
    w.wait(timeout=120)
    assert w.scene is renderer and renderer.comm is not None  # the same model the page is drawing
    [mesh] = [c for c in renderer.scene.children if c.__class__.__name__ == "Mesh"]
    assert mesh is not first_mesh
    assert renderer.camera.comm is not None and renderer.controls[0].comm is not None
