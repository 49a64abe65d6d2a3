"""Every stage's pictures and measures, and the live preview, from real jobs on the sample
(``sample_jobs``: one local worker and a Dask cluster, reconstructing at once)."""

from __future__ import annotations

import json
import re

import httpx
import numpy as np
import pytest
import trimesh

pytestmark = pytest.mark.slow


def _vertex_count(ply: bytes) -> int:
    return int(re.search(rb"element vertex (\d+)", ply)[1])


def test_the_live_preview_appears_before_the_result_and_grows(sample_jobs):
    run = sample_jobs[1]
    assert len(run.live) >= 3, "fewer than three live previews were seen while the job ran"
    counts = [_vertex_count(ply) for _, ply in run.live]
    assert counts[-1] > counts[0] and sum(b > a for a, b in zip(counts, counts[1:])) >= 2
    for job, ply in run.live:  # each one a PLY any tool opens, holding what the document says
        assert job.status == "processing" and job.extra["preview"]["point_count"] == _vertex_count(ply)
        cloud = trimesh.load(trimesh.util.wrap_as_stream(ply), file_type="ply")
        assert len(cloud.vertices) == _vertex_count(ply) and np.isfinite(cloud.vertices).all()
    stages = [job.extra["preview"]["stage"] for job, _ in run.live]
    assert stages[0] == "mapping" and stages[-1] == "depth"  # sparse points first, then the surface
    cameras = httpx.get(run.live[-1][0].cameras_url).json()
    assert len(cameras["frames"]) == run.job.extra["stats"]["registered"]
    # The finished document is the contract's, its points and cameras the final files.
    final = run.job.to_dict()
    assert final["status"] == "complete" and final["glb_asset_url"] and final["view_url"]
    assert "preview" not in final and "/api/files/" in final["points_url"]


def test_a_cluster_job_has_no_live_preview_but_the_same_artifacts(sample_jobs):
    local, dask = sample_jobs[1], sample_jobs["dask"]
    assert not dask.live and not any(job.points_url for job in dask.seen if job.status == "processing")
    assert set(dask.job.artifacts) == set(local.job.artifacts)
    for name in ("frames.json", "features.json", "fusion.json"):
        assert (dask.artifacts / name).read_bytes() == (local.artifacts / name).read_bytes(), name


def test_every_artifact_listed_opens_and_matches_the_job(sample_jobs):
    from PIL import Image

    run = sample_jobs[1]
    stats = run.job.extra["stats"]
    names = set(run.job.artifacts)
    assert all((run.artifacts / name).is_file() for name in names)

    frames = json.loads((run.artifacts / "frames.json").read_text())["frames"]
    assert len(frames) == stats["frames"] == 120  # every decoded frame has its scores
    assert [row["index"] for row in frames] == list(range(120))
    kept = [row for row in frames if row["kept"]]
    assert len(kept) == stats["keyframes"] and all(row["why"] == "keyframe" for row in kept)
    assert {row["why"] for row in frames} <= {"keyframe", "between_keyframes", "too_dark", "flat_or_out_of_focus",
                                              "motion_blur"}
    assert all(row["sharpness"] > 0 and 0 <= row["brightness"] <= 255 for row in frames)
    assert sum(row["motion"] is not None for row in frames) >= 100

    thumbs = sorted(n for n in names if n.startswith("keyframes/"))
    assert len(thumbs) == stats["keyframes"]
    assert [f"keyframes/frame_{row['index']:06d}.jpg" for row in kept] == thumbs
    with Image.open(run.artifacts / thumbs[0]) as image:
        assert image.format == "JPEG" and max(image.size) == 320

    features = json.loads((run.artifacts / "features.json").read_text())["keyframes"]
    assert len(features) == stats["keyframes"] and sum(row["placed"] for row in features) == stats["registered"]
    assert all(row["features"] > 100 and row["matches"] > 0 for row in features)

    sparse = np.load(run.artifacts / "sparse.npz")
    assert len(sparse["points"]) == stats["points"] == len(sparse["colors"]) == len(sparse["track_lengths"])
    assert sparse["track_lengths"].min() >= 2 and len(sparse["world_from_camera"]) == stats["registered"]
    # In the result's frame: the same points as the job's points.ply.
    final = trimesh.load(trimesh.util.wrap_as_stream(run.files["points"]), file_type="ply")
    assert np.allclose(np.asarray(final.vertices), sparse["points"], atol=1e-5)

    depth = sorted(n for n in names if n.startswith("depth/"))
    assert len(depth) == stats["depth_maps"]
    for name in depth:
        view = np.load(run.artifacts / name)
        h, w = view["depth"].shape
        assert max(h, w) == stats["dense_long_side"] and view["confidence"].shape == (h, w)
        assert (view["depth"] > 0).mean() > 0.01 and view["K"].shape == (3, 3)

    fusion = json.loads((run.artifacts / "fusion.json").read_text())
    assert fusion["faces_kept"] == stats["faces"] and fusion["depth_views"] == stats["depth_maps"]


def test_only_listed_artifacts_are_served(sample_jobs):
    run = sample_jobs[1]
    some = next(iter(run.job.artifacts.values()))
    root = some.rsplit("/artifacts/", 1)[0] + "/artifacts/" + run.job.job_id
    for name in ("manifest.json", "../openstrate.sqlite3", "%2e%2e/%2e%2e/openstrate.sqlite3", "nothing.json"):
        answer = httpx.get(f"{root}/{name}", follow_redirects=True)
        assert answer.status_code == 404, name
    assert "lists the ones it has under 'artifacts'" in httpx.get(f"{root}/nothing.json").json()["error"]
