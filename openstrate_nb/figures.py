"""Pictures of how a job was reconstructed, drawn from its stage artifacts.

    folder = client.download_artifacts(job, "stages")   # the embedded server's jobs only
    score_timeline(folder)

Each function takes that folder (its files are described in docs/stage-artifacts.md), draws
into ``ax`` (an Axes whose place it takes, split into panels where it draws several) or into
a new figure of ``figsize``, and returns the matplotlib Figure. A new figure is not left open
in pyplot, so a notebook shows it once, as the cell's value; save it with ``fig.savefig``.

matplotlib is imported on first use: ``pip install matplotlib`` to draw.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["keyframe_strip", "score_timeline", "depth_beside_frame", "camera_path_over_points", "texture_sources",
           "load_frames"]

#: Each frame's ``why`` in frames.json, as drawn by :func:`score_timeline`.
WHY_COLOURS = {
    "keyframe": "tab:green",
    "between_keyframes": "silver",
    "too_dark": "black",
    "motion_blur": "tab:red",
    "flat_or_out_of_focus": "tab:orange",
    "candidate": "tab:blue",
}
#: (frames.json field, axis label, threshold beside it) for each panel of the timeline.
_SCORES = [
    ("relative_sharpness", "sharpness\n(vs neighbours)", "min_relative_sharpness"),
    ("brightness", "brightness\n(grey level)", "dark_level"),
    ("motion", "motion\n(share of frame)", "keyframe_step"),
]


def _folder(stages: str | os.PathLike[str]) -> Path:
    folder = Path(stages)
    if not (folder / "frames.json").is_file():
        raise FileNotFoundError(f"{folder} has no stage artifacts: download them with "
                                "client.download_artifacts(job, folder).")
    return folder


def load_frames(stages: str | os.PathLike[str]) -> dict[str, Any]:
    """frames.json: ``{"thresholds": {...}, "frames": [one row per decoded frame]}``."""
    return json.loads((_folder(stages) / "frames.json").read_text())


def _indexed(folder: Path, pattern: str) -> dict[int, Path]:
    """Frame index → file, for the files named ``frame_NNNNNN.*`` matching ``pattern``."""
    found = {}
    for path in folder.glob(pattern):
        match = re.fullmatch(r"frame_(\d+)", path.stem)
        if match:
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def _caption(index: int, times: dict[int, float]) -> str:
    return f"frame {index}" + (f"\n{times[index]:.1f} s" if times.get(index) is not None else "")


def _panels(ax: Any, figsize: tuple[float, float] | None, ncols: int, nrows: int = 1, *,
            sharex: bool = False) -> tuple[Any, list[Any]]:
    """A new figure's panels, or ``ax``'s place split into ``nrows`` × ``ncols`` panels."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("openstrate_nb.figures draws with matplotlib: pip install matplotlib") from exc

    if ax is None:
        fig = plt.figure(figsize=figsize, layout="constrained")
        plt.close(fig)  # shown once, as the returned value, not again by pyplot
        grid = fig.add_gridspec(nrows, ncols)
    elif nrows * ncols == 1:
        return ax.figure, [ax]
    else:
        spec = ax.get_subplotspec()
        if spec is None:
            raise ValueError("ax must be a subplot (plt.subplots or fig.add_subplot) for a figure of several panels.")
        fig = ax.figure
        ax.remove()
        grid = spec.subgridspec(nrows, ncols)
    axes = []
    for i in range(nrows * ncols):
        axes.append(fig.add_subplot(grid[i // ncols, i % ncols], sharex=axes[0] if sharex and axes else None))
    return fig, axes


def keyframe_strip(stages: str | os.PathLike[str], count: int = 8, *, ax: Any = None,
                   figsize: tuple[float, float] | None = None) -> Any:
    """``count`` keyframes, evenly chosen from first to last, in a row, each titled with its
    frame index and time."""
    import matplotlib.image as mpimg

    folder = _folder(stages)
    times = {row["index"]: row.get("time_s") for row in load_frames(folder)["frames"]}
    keyframes = _indexed(folder / "keyframes", "*.jpg")
    if not keyframes:
        raise ValueError(f"{folder} has no keyframes: the job stopped before choosing them (see frames.json).")
    indexes = list(keyframes)
    chosen = [indexes[i] for i in np.unique(np.linspace(0, len(indexes) - 1, max(1, count)).round().astype(int))]
    fig, axes = _panels(ax, figsize or (1.7 * len(chosen), 1.7), len(chosen))
    for panel, index in zip(axes, chosen):
        panel.imshow(mpimg.imread(keyframes[index]))
        panel.set_title(_caption(index, times), fontsize=8)
        panel.set_axis_off()
    return fig


def score_timeline(stages: str | os.PathLike[str], *, ax: Any = None,
                   figsize: tuple[float, float] | None = None) -> Any:
    """Each decoded frame's relative sharpness, brightness and motion over time, the
    pipeline's thresholds dashed, each frame's marker coloured by why it was kept or not."""
    report = load_frames(stages)
    rows, thresholds = report["frames"], report.get("thresholds", {})
    by_time = all(row.get("time_s") is not None for row in rows)
    x = np.array([row["time_s"] if by_time else row["index"] for row in rows], dtype=float)
    why = np.array([row.get("why", "candidate") for row in rows])

    fig, axes = _panels(ax, figsize or (9, 5), 1, len(_SCORES), sharex=True)
    for panel, (field, label, threshold) in zip(axes, _SCORES):
        y = np.array([np.nan if row.get(field) is None else row[field] for row in rows], dtype=float)
        panel.plot(x, y, "-", color="lightgrey", lw=0.8, zorder=1)
        for reason in [r for r in WHY_COLOURS if r in why] + sorted(set(why) - set(WHY_COLOURS)):
            hit = why == reason
            panel.scatter(x[hit], y[hit], s=12, color=WHY_COLOURS.get(reason, "tab:purple"), zorder=2,
                          label=f"{reason.replace('_', ' ')} ({hit.sum()})")
        if thresholds.get(threshold) is not None:
            panel.axhline(thresholds[threshold], ls="--", color="tab:gray", lw=1,
                          label=f"{threshold.replace('_', ' ')} = {thresholds[threshold]:g}")
        panel.set_ylabel(label, fontsize=8)
        panel.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    axes[-1].set_xlabel("time (s)" if by_time else "frame index")
    return fig


def depth_beside_frame(stages: str | os.PathLike[str], frame: int | None = None, *, ax: Any = None,
                       figsize: tuple[float, float] | None = None) -> Any:
    """One keyframe beside its depth map (grey where no depth was confirmed) and the
    confidence (NCC) of each pixel's depth; ``frame`` is a frame index, by default the
    middle view with a depth map."""
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    folder = _folder(stages)
    maps = _indexed(folder / "depth", "*.npz")
    if not maps:
        raise ValueError(f"{folder} has no depth maps: the job stopped before measuring depth.")
    if frame is None:
        frame = list(maps)[len(maps) // 2]
    if frame not in maps:
        listed = ", ".join(str(i) for i in list(maps)[:8]) + (", …" if len(maps) > 8 else "")
        raise ValueError(f"frame {frame} has no depth map; these frames have one: {listed}.")
    with np.load(maps[frame]) as saved:
        depth, confidence = saved["depth"], saved["confidence"].astype(np.float32)
        units = str(saved["units"]) if "units" in saved.files else ""
    times = {row["index"]: row.get("time_s") for row in load_frames(folder)["frames"]}

    fig, (picture, depth_ax, confidence_ax) = _panels(ax, figsize or (12, 2.8), 3)
    thumbnail = folder / "keyframes" / f"{maps[frame].stem}.jpg"
    if thumbnail.is_file():
        picture.imshow(mpimg.imread(thumbnail))
    picture.set_title(_caption(frame, times).replace("\n", ", "), fontsize=9)
    depth_colours = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
    shown = depth_ax.imshow(np.ma.masked_less_equal(depth, 0), cmap=depth_colours)
    fig.colorbar(shown, ax=depth_ax, shrink=0.8, label="m" if units == "m" else None)
    depth_ax.set_title(f"depth: {np.mean(depth > 0):.0%} of pixels (grey: none)", fontsize=9)
    shown = confidence_ax.imshow(confidence, cmap="RdYlGn", vmin=-1, vmax=1)
    fig.colorbar(shown, ax=confidence_ax, shrink=0.8)
    confidence_ax.set_title("confidence (NCC of the chosen depth)", fontsize=9)
    for panel in (picture, depth_ax, confidence_ax):
        panel.set_axis_off()
    return fig


def camera_path_over_points(stages: str | os.PathLike[str], *, ax: Any = None,
                            figsize: tuple[float, float] | None = None) -> Any:
    """Seen from above (x right, z down the page; y is up): the sparse points in their
    colours, the placed cameras' centres as a path and arrows where each looked."""
    folder = _folder(stages)
    if not (folder / "sparse.npz").is_file():
        raise ValueError(f"{folder} has no sparse.npz: the job stopped before placing cameras.")
    with np.load(folder / "sparse.npz") as sparse:
        points, colours = sparse["points"], sparse["colors"]
        poses = sparse["world_from_camera"].reshape(-1, 4, 4)
        units = str(sparse["units"]) if "units" in sparse.files else ""
    centres, forward = poses[:, :3, 3], poses[:, :3, 2]  # OpenCV axes: the third column looks forward

    fig, [panel] = _panels(ax, figsize or (6, 6), 1)
    order = np.argsort(points[:, 1])  # higher points drawn last, as seen from above
    panel.scatter(points[order, 0], points[order, 2], c=colours[order] / 255, s=2, linewidths=0,
                  label=f"{len(points)} sparse points")
    panel.plot(centres[:, 0], centres[:, 2], "-", color="crimson", lw=1.5, label=f"{len(centres)} cameras")
    flat = forward[:, [0, 2]]
    flat = flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)
    extent = np.ptp(np.vstack([points[:, [0, 2]], centres[:, [0, 2]]]), axis=0).max() if len(points) else 1.0
    panel.quiver(centres[:, 0], centres[:, 2], flat[:, 0], flat[:, 1], color="crimson", angles="xy",
                 scale_units="xy", scale=1 / (0.05 * (extent or 1.0)), width=0.004)
    if len(centres):
        panel.plot(*centres[0, [0, 2]], "o", color="black", label="first camera")
    panel.set_aspect("equal")
    panel.invert_yaxis()  # z down the page: the first view, looking along −z, looks up it
    unit = " (m)" if units == "m" else ""
    panel.set_xlabel(f"x{unit}")
    panel.set_ylabel(f"z{unit}")
    legend = panel.legend(loc="upper right", fontsize=8)
    handles = getattr(legend, "legend_handles", None) or legend.legendHandles  # renamed in matplotlib 3.7
    handles[0].set_sizes([16])  # the points' marker, readable
    return fig


def texture_sources(stages: str | os.PathLike[str], mesh: Any, *, ax: Any = None,
                    figsize: tuple[float, float] | None = None, width: int = 480) -> Any:
    """Where the texture came from: the atlas (rectangles cut from the keyframes) beside the
    result seen from where it was filmed, each face in the colour of the keyframe its
    texture was cut from (grey: no keyframe saw it, it keeps a swatch of its colour).
    ``mesh`` is the full result (``w.mesh``, or its GLB), whose faces ``face_source.npz``
    counts."""
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    import trimesh

    from .mesh import load_glb
    from .preview import filmed_camera, render_through_camera

    folder = _folder(stages)
    if not (folder / "texture" / "face_source.npz").is_file():
        raise ValueError(f"{folder} has no texture/face_source.npz: the job was not textured (texture=False) "
                         "or stopped before texturing.")
    with np.load(folder / "texture" / "face_source.npz") as saved:
        source = saved["source"]
    mesh = mesh if isinstance(mesh, trimesh.Trimesh) else load_glb(mesh)
    if len(source) != len(mesh.faces):
        raise ValueError(f"This job textured {len(source):,} faces and the mesh has {len(mesh.faces):,}: give the "
                         "job's full result (w.mesh or its GLB), not a display copy or another job's mesh.")
    start = mesh.metadata.get("filmed_from")
    if start is None:
        raise ValueError("The mesh does not say where it was filmed from: load it with openstrate_nb.load_glb.")
    height = max(1, round(width / float(start.get("aspect") or 1.5)))
    corners = np.asarray(mesh.vertices)[np.asarray(mesh.faces)].reshape(-1, 3)  # a vertex per corner: faces' own colours
    palette = plt.get_cmap("tab20")(np.arange(20))[:, :3]
    colours = np.where((source >= 0)[:, None], palette[np.maximum(source, 0) % 20], 0.8)
    K, pose = filmed_camera(start, corners, width, height)
    rgb, covered = render_through_camera(corners, np.arange(len(corners)).reshape(-1, 3), K, pose, width, height,
                                         colors=np.repeat(colours, 3, axis=0))
    rgb = np.clip(rgb, 0.0, 1.0)
    rgb[~covered] = 1.0

    fig, (atlas_ax, faces_ax) = _panels(ax, figsize or (11, 3.6), 2)
    atlas_ax.imshow(mpimg.imread(folder / "texture" / "atlas.jpg"))
    atlas_ax.set_title("texture atlas: patches cut from the keyframes", fontsize=9)
    faces_ax.imshow(rgb)
    used = np.unique(source[source >= 0])
    faces_ax.set_title(f"which keyframe textured each face ({len(used)} keyframes; grey: none saw it)", fontsize=9)
    for panel in (atlas_ax, faces_ax):
        panel.set_axis_off()
    return fig
