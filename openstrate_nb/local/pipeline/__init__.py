"""CPU reconstruction pipeline: walkthrough video in, coloured mesh (GLB), points and cameras out.

Stages (each a module of plain functions over numpy arrays): :mod:`.decode` (PyAV, upright,
downscaled), :mod:`.keyframes` (spacing by tracked motion, blur rejection), :mod:`.sfm`
(pycolmap SIFT, sequential matching, incremental mapping), :mod:`.depth` (rectified
StereoSGBM with left-right and multi-view checks), :mod:`.fusion` (block-sparse TSDF and
marching cubes) and :mod:`.export` (y-up GLB, PLY points, camera path JSON).

This module stays light: cv2, pycolmap, av and scikit-image are imported only when
:func:`reconstruct` runs, because the server imports the package in its API process.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ._options import PipelineOptions
from ._result import Artifacts, ProgressCallback, ReconstructionError

__all__ = ["reconstruct", "PipelineOptions", "Artifacts", "ReconstructionError", "ProgressCallback"]


def reconstruct(video_path: Path, work_dir: Path, report: ProgressCallback, *,
                options: PipelineOptions | None = None) -> Artifacts:
    """Reconstruct ``video_path`` into files under ``work_dir``.

    Calls ``report(stage, current, total)`` at least once a second; stages are "decoding",
    "keyframes", "features", "matching", "mapping", "depth", "fusion", "meshing", "export".
    Raises :class:`ReconstructionError` with one actionable sentence when the video cannot
    be reconstructed (static camera, too short, too dark, undecodable, too few views placed).
    """
    from ._reconstruct import reconstruct as _run

    return _run(video_path, work_dir, report, options=options)
