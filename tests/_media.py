"""Small real media files made on demand for the tests (nothing is downloaded)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np


def write_video(path: Path, frames: int = 12, size: tuple[int, int] = (64, 48), *, codec: str = "libx264",
                rate: int = 10) -> Path:
    """A short video of moving noise (any container PyAV knows from the suffix)."""
    import av

    width, height = size
    rng = np.random.default_rng(frames)
    base = rng.integers(0, 255, (height, width * 2, 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if codec != "mjpeg" else "yuvj420p"
        for index in range(frames):
            image = np.ascontiguousarray(base[:, index % width: index % width + width])
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_audio_only(path: Path, seconds: float = 0.5) -> Path:
    """An MP4 with sound and no picture."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        samples = int(16000 * seconds)
        tone = (np.sin(np.arange(samples) / 10) * 0.3).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def glb_bytes() -> bytes:
    import trimesh

    mesh = trimesh.creation.box((1.0, 2.0, 3.0))
    mesh.visual.vertex_colors = (np.abs(mesh.vertices) * 120).astype(np.uint8)
    return mesh.export(file_type="glb")


def mesh_bytes(file_type: str) -> bytes:
    import trimesh

    mesh = trimesh.creation.icosphere(subdivisions=1)
    out = io.BytesIO()
    mesh.export(out, file_type=file_type)
    return out.getvalue()


def fake_mp4(path: Path, size: int) -> Path:
    """An MP4 header followed by ``size`` bytes of noise: passes a content check, decodes to nothing."""
    header = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    with path.open("wb") as out:
        out.write(header)
        rng = np.random.default_rng(0)
        left = size - len(header)
        while left > 0:
            block = rng.bytes(min(left, 1 << 20))
            out.write(block)
            left -= len(block)
    return path
