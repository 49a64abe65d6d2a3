"""Facts of the OpenStrate contract that the client, the widget and the embedded server share.

Dependency-free, so every layer can import it without pulling in another.
"""

from __future__ import annotations

__all__ = [
    "ACTIVE_STATUSES", "CONTENT_TYPES", "JOB_STATUSES", "MAX_UPLOAD_BYTES", "MESH_EXTENSIONS", "TERMINAL_STATUSES",
    "VIDEO_EXTENSIONS", "content_type", "size_text",
]

#: The public upload cap: "100 MB" in the service's words, 100 MiB in bytes (as every
#: figure here says it).
MAX_UPLOAD_BYTES = 100 * 1024 * 1024

#: What the service reconstructs, and the meshes it also accepts (lower case, with the dot).
VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".webm")
MESH_EXTENSIONS = (".glb", ".ply", ".stl")

#: How each file the contract moves is labelled, uploaded by the client and served by the
#: embedded server alike. PLY has no registered media type, so it travels as plain bytes.
CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".avi": "video/x-msvideo",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".glb": "model/gltf-binary",
    ".ply": "application/octet-stream",
    ".stl": "model/stl",
    ".json": "application/json",
    ".png": "image/png",
}

#: A job's ``status``: active ones move on by themselves, terminal ones never change.
ACTIVE_STATUSES = ("pending", "processing")
TERMINAL_STATUSES = ("complete", "failed")
JOB_STATUSES = ACTIVE_STATUSES + TERMINAL_STATUSES


def content_type(extension: str) -> str:
    """The media type for ``".glb"`` (or ``"glb"``); plain bytes for anything unknown."""
    ext = extension.lower() if extension.startswith(".") else f".{extension.lower()}"
    return CONTENT_TYPES.get(ext, "application/octet-stream")


def size_text(n_bytes: float) -> str:
    """A size in binary units, as the cap is stated: "100 MiB", "3.5 MiB", "12 KiB".

    The one byte formatter of the Python side (the CLI's bars, pages, provenance lines);
    ``bytes()`` in ``js/src/widget/format.js`` follows the same rule in the browser.
    """
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= scale:
            value = n_bytes / scale
            return f"{value:.0f} {unit}" if value >= 10 or value == int(value) else f"{value:.1f} {unit}"
    return f"{int(n_bytes)} B"
