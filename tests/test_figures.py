"""openstrate_nb.figures draws each stage from a real job's stage artifacts: the sample's,
as the session's local-worker server made them (``sample_jobs`` in conftest.py); the figures
are checked for what they show, not for how they look.
"""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest

import openstrate_nb
from openstrate_nb import figures

matplotlib.use("Agg")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stages(sample_jobs):
    return sample_jobs[1].artifacts


@pytest.fixture(scope="module")
def frames(stages):
    return json.loads((stages / "frames.json").read_text())


def test_the_figures_are_exported_lazily():
    for name in ("keyframe_strip", "score_timeline", "depth_beside_frame", "camera_path_over_points",
                 "texture_sources"):
        assert name in openstrate_nb.__all__
        assert getattr(openstrate_nb, name) is getattr(figures, name)


def test_keyframe_strip_shows_count_keyframes_first_to_last(stages, frames):
    fig = figures.keyframe_strip(stages, count=5)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert [len(ax.images) for ax in fig.axes] == [1] * 5
    keyframes = [row["index"] for row in frames["frames"] if row["why"] == "keyframe"]
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith(f"frame {keyframes[0]}\n") and titles[-1].startswith(f"frame {keyframes[-1]}\n")
    assert fig.axes[0].images[0].get_array().shape[:2] in {(180, 320), (320, 180)}  # 320 px thumbnails


def test_score_timeline_marks_every_frame_by_why_against_the_thresholds(stages, frames):
    fig = figures.score_timeline(stages)
    assert len(fig.axes) == 3
    rows = frames["frames"]
    for ax, threshold in zip(fig.axes, ("min_relative_sharpness", "dark_level", "keyframe_step")):
        assert sum(len(c.get_offsets()) for c in ax.collections) == len(rows)  # one marker per frame
        dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
        assert [line.get_ydata()[0] for line in dashed] == [frames["thresholds"][threshold]]
        labels = [text.get_text() for text in ax.get_legend().get_texts()]
        keyframes = sum(row["why"] == "keyframe" for row in rows)
        assert f"keyframe ({keyframes})" in labels


def test_depth_beside_frame_shows_the_depth_map_at_its_own_resolution(stages):
    maps = sorted((stages / "depth").glob("frame_*.npz"))
    middle = int(maps[len(maps) // 2].stem.split("_")[1])
    fig = figures.depth_beside_frame(stages)
    picture, depth, confidence = fig.axes[:3]
    assert picture.get_title().startswith(f"frame {middle},")
    with np.load(maps[len(maps) // 2]) as saved:
        shown = depth.images[0].get_array()
        assert shown.shape == saved["depth"].shape == confidence.images[0].get_array().shape
        assert np.array_equal(np.ma.getmaskarray(shown), saved["depth"] <= 0)  # no depth: blank


def test_depth_beside_frame_names_the_frames_that_have_a_depth_map(stages):
    with pytest.raises(ValueError, match=r"frame 100000 has no depth map; these frames have one: 0, \d+"):
        figures.depth_beside_frame(stages, frame=100000)


def test_camera_path_over_points_draws_every_placed_camera_and_point(stages):
    fig = figures.camera_path_over_points(stages)
    [ax] = fig.axes
    with np.load(stages / "sparse.npz") as sparse:
        cameras, points = len(sparse["world_from_camera"]), len(sparse["points"])
    assert len(ax.lines[0].get_xdata()) == cameras
    [scatter, arrows] = ax.collections
    assert len(scatter.get_offsets()) == points and arrows.N == cameras


def test_texture_sources_shows_the_atlas_and_which_keyframe_textured_the_faces_seen(sample_jobs, stages):
    from PIL import Image

    glb = sample_jobs[1].files["glb_asset"]
    fig = figures.texture_sources(stages, glb)
    atlas_ax, faces_ax = fig.axes
    assert atlas_ax.images[0].get_array().shape[:2] == Image.open(stages / "texture" / "atlas.jpg").size[::-1]
    picture = np.asarray(faces_ax.images[0].get_array())
    seen = (picture < 0.99).any(axis=2)  # white: no face there
    assert 0.2 < seen.mean() < 1.0  # the model seen from where it was filmed, not a speck nor a wall of it
    used = len(np.unique(np.load(stages / "texture" / "face_source.npz")["source"]))
    assert len(np.unique(picture[seen].round(3), axis=0)) >= min(used, 20) // 2  # the keyframes' colours
    with pytest.raises(ValueError, match="not a display copy"):
        figures.texture_sources(stages, openstrate_nb.display_mesh(glb, 2000))


def test_a_figure_can_fill_a_given_subplot(stages):
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    assert figures.camera_path_over_points(stages, ax=right) is fig
    assert figures.keyframe_strip(stages, count=3, ax=left) is fig
    assert len(fig.axes) == 4  # left split into three, right kept
    plt.close(fig)


def test_a_folder_without_artifacts_says_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"has no stage artifacts: download them with "
                                                r"client\.download_artifacts\(job, folder\)"):
        figures.score_timeline(tmp_path)
