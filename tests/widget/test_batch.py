"""``reconstruct_many``: many videos from one call, a row each, the batch never stopping for one."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest
from _media import write_video

from openstrate_nb import BatchWidget, OpenStrate, reconstruct_many


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Two good videos (different, so the cache keeps them apart) and one that is no video."""
    folder = tmp_path_factory.mktemp("clips")
    write_video(folder / "a_walk.mp4", frames=12)
    write_video(folder / "b_walk.mp4", frames=14)
    (folder / "c_broken.mp4").write_bytes(b"this is not a video" * 100)
    (folder / "notes.txt").write_text("not a video either, and not picked up from the folder")
    return folder


@pytest.fixture
def batches(server):
    made = []

    def _make(videos, **kwargs):
        kwargs.setdefault("client", OpenStrate(server.base_url, poll_interval=0.05))
        kwargs.setdefault("poll_interval", 0.05)
        batch = reconstruct_many(videos, **kwargs)
        made.append(batch)
        return batch

    yield _make
    for batch in made:
        batch.close()


def test_a_folder_with_one_bad_video_completes_the_others_and_names_the_failure(clips, batches):
    batch = batches(clips, concurrency=2)
    assert isinstance(batch, BatchWidget)
    most_at_once = 0
    while not batch.done:
        busy = [row for row in batch.rows if row["phase"] not in ("idle", "complete", "failed", "cancelled")]
        most_at_once = max(most_at_once, len(busy))
        time.sleep(0.02)
    jobs = batch.wait(timeout=5)
    assert most_at_once <= 2
    records = batch.to_records()
    assert [r["video"] for r in records] == ["a_walk.mp4", "b_walk.mp4", "c_broken.mp4"]
    assert [r["status"] for r in records] == ["complete", "complete", "failed"]
    assert "is not a video inside" in records[2]["error"] and records[2]["error"].endswith(".")
    assert [job.status for job in jobs[:2]] == ["complete", "complete"] and jobs[2] is None  # refused at upload: no job
    assert all(r["faces"] > 0 and r["mesh_path"] for r in records[:2])
    meshes = batch.meshes
    assert [len(m.faces) for m in meshes[:2]] == [r["faces"] for r in records[:2]] and meshes[2] is None
    assert json.dumps(records)  # plain data, ready for a table


def test_running_it_again_attaches_to_the_finished_jobs(clips, batches):
    first = batches([clips / "a_walk.mp4", clips / "b_walk.mp4"])
    first.wait(timeout=60)
    again = batches([clips / "a_walk.mp4", clips / "b_walk.mp4"])
    again.wait(timeout=60)
    records = again.to_records()
    assert [r["from_cache"] for r in records] == [True, True]
    assert [r["job_id"] for r in records] == [r["job_id"] for r in first.to_records()]


def test_cancel_ends_every_video_not_yet_ended(clips, batches, server):
    batch = batches([clips / "a_walk.mp4", clips / "b_walk.mp4"], concurrency=1, force=True)
    batch.cancel()
    batch.wait(timeout=30)
    assert {row["phase"] for row in batch.rows} <= {"cancelled", "complete"}
    assert batch.rows[1]["phase"] == "cancelled"


@pytest.mark.parametrize("videos, error, message", [
    (["missing.mp4"], FileNotFoundError, "no such video: missing.mp4; check the paths"),
    ([], ValueError, "no videos given"),
])
def test_bad_input_is_refused_before_anything_is_sent(batches, videos, error, message):
    with pytest.raises(error, match=message):
        batches(videos)


def test_a_folder_without_videos_and_a_bad_concurrency_are_refused(tmp_path, batches, clips):
    with pytest.raises(ValueError, match="has no videos"):
        batches(tmp_path)
    with pytest.raises(ValueError, match="concurrency=0: give how many videos run at once"):
        batches(clips, concurrency=0)


def test_reconstruct_many_in_a_real_kernel(clips, server, tmp_path):
    """In an ipykernel, as a notebook runs it: the widget is displayed, wait() returns, the
    records name the two results and the failure."""
    from jupyter_client.manager import start_new_kernel

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
           "OPENSTRATE_NB_CACHE": str(tmp_path / "kernel-cache")}
    manager, kernel = start_new_kernel(kernel_name="python3", env=env)
    outputs = []
    try:
        code = (
            "import openstrate_nb\n"
            f"batch = openstrate_nb.reconstruct_many({str(clips)!r}, base_url={server.base_url!r}, "
            "concurrency=2, poll_interval=0.1)\n"
            "display(batch)\n"
            "batch.wait(timeout=120)\n"
            "import json; print(json.dumps([(r['video'], r['status'], r['error']) for r in batch.to_records()]))\n"
        )
        reply = kernel.execute_interactive(code, timeout=180, output_hook=outputs.append)
    finally:
        kernel.stop_channels()
        manager.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok", reply["content"]
    shown = [m["content"]["data"] for m in outputs if m["msg_type"] == "display_data"]
    assert any("application/vnd.jupyter.widget-view+json" in data for data in shown)
    printed = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
    rows = json.loads(printed.strip().splitlines()[-1])
    assert [(video, status) for video, status, _ in rows] == [
        ("a_walk.mp4", "complete"), ("b_walk.mp4", "complete"), ("c_broken.mp4", "failed")]
    assert "is not a video inside" in rows[2][2]
