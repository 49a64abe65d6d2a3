"""Fixtures for the reconstruction pipeline tests.

``sample_reconstruction`` runs the real pipeline on the bundled sample video once per
session (about a minute on two cores); everything else here is fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest


@dataclass
class Recorded:
    """A reconstruction's artifacts plus every progress call and forecast it made."""

    artifacts: object
    calls: list[tuple[str, int, int]] = field(default_factory=list)
    #: (stage, overall share, seconds left, video frames) after each call
    forecasts: list[tuple[str, float, float, int | None]] = field(default_factory=list)


class _Recorder:
    """A ``report`` with an ``estimate`` method, as the server's worker passes."""

    def __init__(self):
        self.calls, self.forecasts, self._pending = [], [], None

    def __call__(self, stage, current, total):
        self.calls.append((stage, current, total))
        if self._pending is not None:
            self.forecasts.append((stage, *self._pending))
            self._pending = None

    def estimate(self, overall, eta_s, video_frames):  # comes just before the report it belongs to
        self._pending = (overall, eta_s, video_frames)


@pytest.fixture(scope="session")
def sample_reconstruction(tmp_path_factory) -> Recorded:
    from openstrate_nb.local._sample import sample_video
    from openstrate_nb.local.pipeline import reconstruct

    recorder = _Recorder()
    art = reconstruct(sample_video(), tmp_path_factory.mktemp("sample_job"), recorder)
    return Recorded(art, recorder.calls, recorder.forecasts)


def write_frames(path: Path, frames, fps: int = 15, rotation: float | None = None, codec: str = "libx264") -> Path:
    """Encode RGB uint8 frames (all the same even size) to ``path`` with PyAV."""
    import av

    frames = list(frames)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for f in frames:
            for p in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(p)
        for p in stream.encode():
            out.mux(p)
    return path


def textured_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Blocky random texture with plenty of corners."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.kron(small, np.ones((8, 8, 1), np.uint8))[:h, :w])


@pytest.fixture
def video_writer():
    return write_frames


@pytest.fixture
def texture():
    return textured_image


REAL_DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """tests/data: real camera footage and stereo pairs (see its README)."""
    return REAL_DATA


@pytest.fixture(scope="session")
def castle_frames() -> list[np.ndarray]:
    """The 30 real courtyard photos (768x512 RGB), decoded once."""
    import av

    with av.open(str(REAL_DATA / "castle_courtyard.mp4")) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture(scope="session")
def real_reconstruction(tmp_path_factory) -> Recorded:
    """The real courtyard photos (tests/data/castle_courtyard.mp4) reconstructed once per session."""
    from openstrate_nb.local.pipeline import reconstruct

    calls: list[tuple[str, int, int]] = []
    art = reconstruct(REAL_DATA / "castle_courtyard.mp4", tmp_path_factory.mktemp("castle_job"),
                      lambda s, c, n: calls.append((s, c, n)))
    return Recorded(art, calls)


@pytest.fixture(scope="session")
def real_vertex_coloured(tmp_path_factory) -> Recorded:
    """The same courtyard with ``texture=False``: the vertex-coloured result, same geometry."""
    from openstrate_nb.local.pipeline import PipelineOptions, reconstruct

    art = reconstruct(REAL_DATA / "castle_courtyard.mp4", tmp_path_factory.mktemp("castle_vertex_job"),
                      lambda *a: None, options=PipelineOptions(texture=False, stage_artifacts=False))
    return Recorded(art)
