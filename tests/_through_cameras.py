"""A result seen through the video's own cameras, beside the frames: how it looks to the
person who filmed it. Shared by the look tests and ``benchmarks/bench_look.py``.

A keyframe's camera from ``cameras.json`` (pixel-centre intrinsics at the working size, the
pose in the result's frame) draws the mesh unlit, in its texture or vertex colours, where
that frame shows it; PSNR and SSIM are taken over the pixels the mesh covers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from openstrate_nb.mesh import display_arrays
from openstrate_nb.preview import render_through_camera


def cameras(result_dir: Path) -> list[dict]:
    return json.loads((Path(result_dir) / "cameras.json").read_text())["frames"]


def spread(frames: list[dict], count: int = 4) -> list[dict]:
    """``count`` cameras evenly spread along the path."""
    picks = np.unique(np.round(np.linspace(0, len(frames) - 1, min(count, len(frames)))).astype(int))
    return [frames[i] for i in picks]


def video_frames(video: Path, indices: set[int], long_side: int = 960) -> dict[int, np.ndarray]:
    """Frames ``indices`` of the video at the pipeline's working size."""
    from openstrate_nb.local.pipeline import decode

    return {i: rgb for i, _, rgb in decode.frames(Path(video), long_side, set(indices))}


def mesh_arrays(mesh, max_faces: int | None = None) -> dict:
    """``display_arrays`` of the mesh (every face when ``max_faces`` is None), UVs in glTF's convention."""
    arrays = display_arrays(mesh, max_faces or max(len(mesh.faces), 1))
    if "uv" in arrays:
        arrays["uv"] = np.column_stack([arrays["uv"][:, 0], 1.0 - arrays["uv"][:, 1]])
    return arrays


def render(arrays: dict, camera: dict, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The mesh through one ``cameras.json`` camera, at ``scale`` of its size: (rgb 0..1, covered)."""
    w, h = round(camera["width"] * scale), round(camera["height"] * scale)
    K = np.array([[camera["fx"] * scale, 0, (camera["cx"] + 0.5) * scale - 0.5],
                  [0, camera["fy"] * scale, (camera["cy"] + 0.5) * scale - 0.5], [0, 0, 1]])
    return render_through_camera(arrays["positions"], arrays["index"].reshape(-1, 3), K,
                                 np.asarray(camera["world_from_camera"]), w, h, colors=arrays.get("colors"),
                                 uv=arrays.get("uv"), texture=arrays.get("texture"))


def compare(picture: np.ndarray, covered: np.ndarray, frame_rgb: np.ndarray) -> dict[str, float]:
    """PSNR (dB) and SSIM of ``picture`` against the frame over the covered pixels, and the share covered."""
    import cv2
    from skimage.metrics import structural_similarity

    h, w = picture.shape[:2]
    frame = frame_rgb if frame_rgb.shape[:2] == (h, w) else cv2.resize(frame_rgb, (w, h), interpolation=cv2.INTER_AREA)
    frame = frame.astype(np.float64) / 255.0
    if not covered.any():
        return {"psnr": float("nan"), "ssim": float("nan"), "covered": 0.0}
    mse = float(((picture[covered] - frame[covered]) ** 2).mean())
    filled = np.where(covered[..., None], picture, frame)  # SSIM's windows see the frame where the mesh is not
    _, ssim_map = structural_similarity(filled, frame, channel_axis=2, data_range=1.0, full=True)
    return {"psnr": -10.0 * np.log10(max(mse, 1e-12)), "ssim": float(ssim_map.mean(axis=2)[covered].mean()),
            "covered": float(covered.mean())}


def side_by_side(frame_rgb: np.ndarray, *pictures: np.ndarray) -> np.ndarray:
    """The frame and renders in a row (uint8), to look at."""
    import cv2

    h, w = pictures[0].shape[:2]
    frame = cv2.resize(frame_rgb, (w, h), interpolation=cv2.INTER_AREA)
    return np.concatenate([frame, *[np.clip(np.rint(p * 255), 0, 255).astype(np.uint8) for p in pictures]], axis=1)
