"""CPU reconstruction pipeline: walkthrough video in, coloured mesh (GLB), points and cameras out.

Stages (each a module of plain functions over numpy arrays, run in order by
:mod:`._reconstruct`): :mod:`.decode` (PyAV, upright, downscaled), :mod:`.keyframes` (by
tracked overlap and motion, blur rejection; photo sets keep every frame), :mod:`.sfm`
(pycolmap SIFT, exhaustive or sequential plus look-alike matching, incremental mapping with
fallbacks), :mod:`.depth` (multi-view plane sweep with a geometric check), :mod:`.fusion`
(block-sparse TSDF and marching cubes) and :mod:`.outputs` (y-up GLB, PLY points, camera
path JSON). :mod:`.check` runs the first pass alone, to judge a video before it is sent.

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
                options: PipelineOptions | None = None, video_name: str | None = None) -> Artifacts:
    """Reconstruct ``video_path`` into files under ``work_dir``.

    Calls ``report(stage, current, total)`` at least once a second; stages are "decoding",
    "keyframes", "features", "matching", "mapping", "depth", "fusion", "meshing", "texture", "export".
    Raises :class:`ReconstructionError` with one actionable sentence and a ``code`` when the
    video cannot be reconstructed (too short, too dark, blurred, still camera, undecodable,
    too few views placed, no depth).

    The GLB carries how it was made in ``asset.extras["openstrate_nb"]`` (the video's SHA-256
    and ``video_name``, the options, the versions; see :func:`openstrate_nb.provenance`),
    and with the default ``options.seed`` the same video gives the same bytes on every run.
    """
    from ._reconstruct import reconstruct as _run

    return _run(video_path, work_dir, report, options=options, video_name=video_name)
