"""How a result was made, carried inside it: the input video, the options, the versions.

The embedded server's pipeline writes a provenance record into every GLB it makes, under
``asset.extras["openstrate_nb"]`` (glTF's place for application data), and into the job
document (``job.extra["provenance"]``)::

    {"format": 1,
     "video": {"sha256": ..., "size": ..., "name": ...},
     "options": {...},            # the pipeline options that ran, seed included
     "deterministic": true,       # seeded: same video + version + options -> same bytes
     "versions": {"openstrate_nb": ..., "pycolmap": ..., "opencv": ..., "numpy": ..., "av": ..., "ffmpeg": ...},
     "platform": "Linux-6.1-x86_64 (CPython 3.12.3)",
     "stages": {"keyframes": sha, "sfm": sha, "depth": sha, "mesh": sha},
     "geometry_sha256": ...}      # the mesh as written: vertices, faces, colours

Wall time per stage differs on every run, so it is in the job document's copy
(``"seconds"``) and the exported page, not in the GLB, whose bytes stay the same.

:func:`provenance` reads it back from a GLB file, GLB bytes, a :class:`~openstrate_nb.Job`
or a widget; :func:`describe` makes the one-line form the widget and ``mesh_summary`` show.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import struct
from typing import TYPE_CHECKING, Any

from ._contract import size_text

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["PROVENANCE_KEY", "provenance", "describe", "array_digest", "library_versions", "platform_description",
           "glb_json"]

#: The key of the record in a GLB's ``asset.extras``.
PROVENANCE_KEY = "openstrate_nb"
FORMAT = 1

_GLB_MAGIC = b"glTF"
_JSON_CHUNK = 0x4E4F534A


def array_digest(*arrays: np.ndarray) -> str:
    """Hex SHA-256 over arrays' dtypes, shapes and bytes (C order), in the order given."""
    import numpy as np  # here, not at import: the widget (and %load_ext) reads provenance without numpy

    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of what decides the result: this package, COLMAP, OpenCV, NumPy, PyAV and its FFmpeg."""
    from importlib import metadata

    from ._version import __version__

    versions = {"openstrate_nb": __version__}
    for label, dist in (("pycolmap", "pycolmap"), ("opencv", "opencv-python-headless"), ("numpy", "numpy"),
                        ("scipy", "scipy"), ("scikit-image", "scikit-image"), ("av", "av"), ("trimesh", "trimesh")):
        try:
            versions[label] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    try:
        import av

        versions["ffmpeg"] = ".".join(str(part) for part in av.library_versions.get("libavcodec", ()))
    except (ImportError, AttributeError):
        pass
    return versions


def platform_description() -> str:
    return f"{platform.platform()} ({platform.python_implementation()} {platform.python_version()})"


def glb_json(data: bytes) -> dict[str, Any]:
    """The JSON chunk of a GLB (binary glTF), without reading its buffers."""
    if len(data) < 20 or data[:4] != _GLB_MAGIC:
        raise ValueError("This is not a GLB file (binary glTF): it does not start with 'glTF'.")
    length, kind = struct.unpack_from("<II", data, 12)
    if kind != _JSON_CHUNK or 20 + length > len(data):
        raise ValueError("This GLB is damaged: its first chunk is not a complete JSON chunk.")
    return json.loads(data[20:20 + length].decode("utf-8"))


def _read_glb_head(path: str | os.PathLike[str]) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(20)
        if len(head) < 20:
            return head
        length = struct.unpack_from("<I", head, 12)[0]
        return head + fh.read(length)


def provenance(source: Any) -> dict[str, Any]:
    """The provenance record of a result: a GLB path or bytes, a ``Job``, or a ``ReconstructWidget``.

    Raises ``ValueError`` saying why when the result carries none (made by another tool, by
    the hosted service, or by a version of openstrate_nb before 0.2).
    """
    job = getattr(source, "job", None) if not isinstance(source, (str, bytes, bytearray, os.PathLike)) else None
    if job is not None or hasattr(source, "extra"):
        job = job if job is not None else source
        record = job.extra.get("provenance")
        if isinstance(record, dict):
            return record
        path = getattr(source, "mesh_path", None)
        if path is None:
            raise ValueError(f"Job {job.job_id} carries no provenance: its server does not record how results are "
                             "made (only openstrate_nb's embedded server does).")
        source = path
    if isinstance(source, (bytes, bytearray, memoryview)):
        head = bytes(source)
        label = "these GLB bytes"
    else:
        head = _read_glb_head(source)
        label = os.fspath(source)
    extras = glb_json(head).get("asset", {}).get("extras") or {}
    record = extras.get(PROVENANCE_KEY) if isinstance(extras, dict) else None
    if not isinstance(record, dict):
        raise ValueError(f"{label} carry no openstrate_nb provenance: the mesh was made by another tool or by an "
                         "openstrate_nb older than 0.2.")
    return record


def describe(record: dict[str, Any]) -> str:
    """One line: the video, the version and mode, the geometry's hash."""
    video = record.get("video") or {}
    versions = record.get("versions") or {}
    size = video.get("size")
    mode = f"seed {record['options'].get('seed')}" if record.get("deterministic") else "not deterministic"
    return (f"{video.get('name') or 'video'} (sha256 {str(video.get('sha256', ''))[:12]}…"
            f"{f', {size_text(size)}' if isinstance(size, (int, float)) else ''}) · "
            f"openstrate_nb {versions.get('openstrate_nb', '?')}, COLMAP {versions.get('pycolmap', '?')} · {mode} · "
            f"mesh {str(record.get('geometry_sha256', ''))[:12]}…")
