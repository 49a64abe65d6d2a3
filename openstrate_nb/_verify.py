"""Prove a result: reconstruct its video again from its provenance and compare, stage by stage.

``verify("walk.glb", "walk.mp4")`` reads how the GLB was made (``asset.extras``), checks
that the video is the same bytes, runs the embedded pipeline again with the recorded
options, and compares each stage's digest in order (keyframes, sfm, depth, mesh) and then
the GLB's bytes. It needs ``openstrate_nb[local]`` and takes as long as the reconstruction.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ._provenance import provenance

__all__ = ["verify", "Verification", "STAGES", "first_difference"]

#: The digests a provenance record holds, in the order the pipeline makes them.
STAGES = ("keyframes", "sfm", "depth", "fusion", "texture", "mesh")


@dataclass
class Verification:
    """The outcome of :func:`verify`; ``str()`` of it is the sentence to show."""

    reproduced: bool
    #: where the re-run first parted from the record: "video", a stage of STAGES, "glb", or None
    first_difference: str | None
    message: str
    recorded: dict[str, Any] = field(repr=False, default_factory=dict)
    rerun: dict[str, Any] = field(repr=False, default_factory=dict)

    def __str__(self) -> str:
        return self.message


def _sha256(path: Path) -> str:
    from .cache import file_sha256

    return file_sha256(path)


def verify(result: str | os.PathLike[str], video: str | os.PathLike[str], *,
           report: Callable[[str, int, int], None] | None = None) -> Verification:
    """Reconstruct ``video`` again as ``result`` (a GLB from the embedded server) says it was
    made, and say whether the result is reproduced bit for bit or which stage first differs."""
    result, video = Path(result).expanduser(), Path(video).expanduser()
    for path, what in ((result, "result GLB"), (video, "video")):
        if not path.is_file():
            raise FileNotFoundError(f"No {what} at {path}; give the path of an existing file.")
    recorded = provenance(result)
    claimed = recorded.get("video") or {}
    digest = _sha256(video)
    if digest != claimed.get("sha256"):
        return Verification(False, "video", (
            f"{video.name} is not the video {result.name} was made from: its SHA-256 is {digest[:12]}…, the "
            f"result records {str(claimed.get('sha256'))[:12]}… ({claimed.get('name')}, {claimed.get('size')} bytes)."),
            recorded)
    if not recorded.get("deterministic"):
        return Verification(False, None, f"{result.name} was made without a seed, so no run can reproduce it bit for "
                                         "bit; reconstruct with the default options to get a result that can be.",
                            recorded)

    from .local.pipeline import PipelineOptions, ReconstructionError, reconstruct

    known = {f.name for f in dataclasses.fields(PipelineOptions)}
    options = recorded.get("options") or {}
    unknown = sorted(set(options) - known)
    if unknown:
        return Verification(False, None, (
            f"{result.name} was made with options this openstrate_nb does not have ({', '.join(unknown)}); install "
            f"the version that made it, openstrate_nb {recorded.get('versions', {}).get('openstrate_nb')}."), recorded)
    with tempfile.TemporaryDirectory(prefix="openstrate-verify-") as work:
        try:
            art = reconstruct(video, Path(work), report or (lambda *_: None), options=PipelineOptions(**options),
                              video_name=claimed.get("name"))
        except ReconstructionError as exc:
            return Verification(False, None, f"The re-run did not finish, so nothing is reproduced: {exc}", recorded)
        rerun = art.provenance
        same_glb = _sha256(result) == _sha256(Path(art.glb))
    first = first_difference(recorded.get("stages") or {}, rerun.get("stages") or {})
    versions = _version_changes(recorded.get("versions") or {}, rerun.get("versions") or {})
    if first is None and same_glb:
        return Verification(True, None, f"Reproduced: the re-run gave {result.name} bit for bit "
                                        f"(mesh {rerun['geometry_sha256'][:12]}…).", recorded, rerun)
    where = first or "glb"
    detail = (f"the {first} stage is the first to differ" if first
              else "every stage matches but the GLB's bytes differ (its provenance or encoding changed)")
    return Verification(False, where, f"Not reproduced: {detail}"
                        + (f"; versions differ: {versions}." if versions else
                           f"; the versions are the same, so the platform ({rerun.get('platform')}) may be the cause."),
                        recorded, rerun)


def first_difference(recorded: dict[str, str], rerun: dict[str, str]) -> str | None:
    """The first stage of :data:`STAGES` whose digest differs (a later stage follows from it), or None."""
    return next((stage for stage in STAGES if recorded.get(stage) != rerun.get(stage)), None)


def _version_changes(before: dict[str, str], after: dict[str, str]) -> str:
    return ", ".join(f"{k} {before.get(k)} → {after.get(k)}" for k in sorted(set(before) | set(after))
                     if before.get(k) != after.get(k))
