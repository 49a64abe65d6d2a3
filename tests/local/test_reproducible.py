"""The same video gives the same files, says how they were made, and can be proven again.

Two ``openstrate-nb serve`` processes (their own ports and data directories: one local worker,
and a Dask LocalCluster of two worker processes) reconstruct the bundled sample with the real
pipeline at the same time (``sample_jobs`` in conftest.py); their GLB, points and cameras must
be the same bytes. ``openstrate-nb verify`` then reconstructs the
sample a third time, in its own process, and must say the result is reproduced.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest
import trimesh

from openstrate_nb import __version__, provenance
from openstrate_nb._provenance import array_digest
from openstrate_nb._verify import STAGES, first_difference, verify
from openstrate_nb.local import sample_video

from _gltf import glb_accessor, glb_images, glb_parts

pytestmark = pytest.mark.slow


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_local_workers_and_a_dask_cluster_give_the_same_bytes(sample_jobs):
    local, on_dask = sample_jobs[1].files, sample_jobs["dask"].files
    job = sample_jobs["dask"].job
    for kind in ("glb_asset", "points", "cameras"):
        assert _sha256(local[kind]) == _sha256(on_dask[kind]), f"{kind} differs between local workers and Dask"
    assert job.extra["attempts"] == 1


def test_the_glb_and_the_job_document_say_how_the_result_was_made(sample_jobs):
    import pycolmap

    job, files = sample_jobs[1].job, sample_jobs[1].files
    record = provenance(files["glb_asset"])
    video = sample_video()
    assert record["video"] == {"sha256": _sha256(video.read_bytes()), "size": video.stat().st_size,
                               "name": video.name}
    assert record["deterministic"] is True and record["options"]["seed"] == 0
    assert not {"num_threads", "stage_artifacts"} & set(record["options"])  # the result does not depend on them
    assert record["versions"]["openstrate_nb"] == __version__
    assert record["versions"]["pycolmap"] == pycolmap.__version__
    assert record["versions"]["numpy"] == np.__version__ and record["versions"]["ffmpeg"]
    assert record["platform"] and set(record["stages"]) == set(STAGES)
    # The geometry digest is of what the GLB holds: float32 positions, uint32 indices, the
    # texture coordinates and the texture's JPEG bytes.
    tree, _ = glb_parts(files["glb_asset"])
    [primitive] = tree["meshes"][0]["primitives"]
    [jpeg] = glb_images(files["glb_asset"])
    assert record["geometry_sha256"] == array_digest(glb_accessor(files["glb_asset"], primitive["attributes"]["POSITION"]),
                                                     glb_accessor(files["glb_asset"], primitive["indices"]).reshape(-1, 3),
                                                     glb_accessor(files["glb_asset"], primitive["attributes"]["TEXCOORD_0"]),
                                                     np.frombuffer(jpeg, np.uint8))
    # The job document carries the same record, plus the wall time of every stage.
    in_document = job.extra["provenance"]
    assert {k: v for k, v in in_document.items() if k != "seconds"} == record
    assert in_document["seconds"]["total"] > 0 and "fusion" in in_document["seconds"]
    # And the widget's and mesh_summary's one line names the video and the mesh.
    from openstrate_nb import load_glb, mesh_summary

    line = mesh_summary(load_glb(files["glb_asset"]))["provenance"]
    assert video.name in line and record["geometry_sha256"][:12] in line and "seed 0" in line


def test_progress_read_every_half_second_only_moves_forward_with_steps_and_time_left(sample_jobs):
    for seen in (run.seen for run in sample_jobs.values()):
        running = [j for j in seen if j.status == "processing" and j.step]
        assert len(running) >= 20
        shares = [j.progress for j in seen if j.progress is not None]
        assert shares == sorted(shares) and shares[-1] == 1.0
        steps = [j.extra["stage_index"] for j in running]
        # The long steps (features, matching, placing cameras, depth) are each seen.
        assert steps == sorted(steps) and set(steps) >= {3, 4, 5, 6} and {j.extra["stage_count"] for j in running} == {10}
        assert all(j.eta_s is not None and j.eta_s >= 0 for j in running)
        assert running[-1].eta_s < running[0].eta_s
        # current_frame / total_frames are video frames (the sample has 120), for contract-only clients.
        assert {j.total_frames for j in running} == {120}
        assert all(abs(j.current_frame - j.progress * 120) <= 1 for j in running)
        assert any(j.step == "Step 5 of 10: placing cameras" for j in running)


def test_verify_reproduces_a_result_in_a_process_of_its_own(sample_jobs, tmp_path):
    glb = tmp_path / "walk.glb"
    glb.write_bytes(sample_jobs["dask"].files["glb_asset"])
    done = subprocess.run([sys.executable, "-m", "openstrate_nb.cli", "verify", str(glb), str(sample_video())],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Reproduced: the re-run gave walk.glb bit for bit" in done.stdout


def test_verify_names_the_video_when_it_is_another_one(sample_jobs, tmp_path):
    glb = tmp_path / "walk.glb"
    glb.write_bytes(sample_jobs[1].files["glb_asset"])
    other = tmp_path / "other.mp4"
    other.write_bytes(sample_video().read_bytes() + b"\0")
    outcome = verify(glb, other)
    assert not outcome.reproduced and outcome.first_difference == "video"
    assert "other.mp4 is not the video walk.glb was made from" in str(outcome)


def test_the_first_stage_that_differs_is_named_not_the_later_ones():
    recorded = {stage: f"{stage}-digest" for stage in STAGES}
    assert first_difference(recorded, dict(recorded)) is None
    assert first_difference(recorded, {**recorded, "sfm": "x", "depth": "y", "mesh": "z"}) == "sfm"
    assert first_difference(recorded, {**recorded, "mesh": "z"}) == "mesh"


def test_results_without_provenance_are_refused_in_one_sentence(tmp_path):
    made_elsewhere = tmp_path / "box.glb"
    made_elsewhere.write_bytes(trimesh.creation.box().export(file_type="glb"))
    with pytest.raises(ValueError, match="carry no openstrate_nb provenance"):
        provenance(made_elsewhere)
    not_a_glb = tmp_path / "notes.glb"
    not_a_glb.write_text("hello")
    with pytest.raises(ValueError, match="not a GLB file"):
        provenance(not_a_glb)
    with pytest.raises(FileNotFoundError, match="No video at"):
        verify(made_elsewhere, tmp_path / "missing.mp4")


def test_the_exported_page_says_how_the_mesh_was_made(sample_jobs, tmp_path):
    from openstrate_nb import export_html

    glb = sample_jobs[1].files["glb_asset"]
    record = provenance(glb)
    text = export_html(glb, tmp_path / "walk.html").read_text(encoding="utf-8")
    for shown in (record["video"]["sha256"], record["geometry_sha256"], f"openstrate_nb {__version__}",
                  record["video"]["name"], "openstrate-nb verify"):
        assert shown in text, shown
