"""Helpers shared by the benchmark scripts: a server in its own process, files, statistics."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _media import fake_mp4  # noqa: E402,F401  (re-exported for the scripts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


@contextlib.contextmanager
def serve(data_dir: Path, *args: str):
    """``openstrate-nb serve`` in its own process (so it does not share the client's GIL)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "openstrate_nb.cli", "serve", "--port", str(port),
                                "--data-dir", str(data_dir), *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/")
        yield base, process
    finally:
        process.send_signal(2)
        process.wait(30)


def best_of(fn, rounds: int) -> float:
    """The shortest of ``rounds`` timed calls of ``fn`` (seconds): the least disturbed by a noisy machine."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def real_footage(realdata: Path | None) -> list[Path]:
    """The bundled sample, the suite's real courtyard cut, and the real sets in ``realdata`` if given."""
    from openstrate_nb.local import sample_video

    videos = [sample_video(), Path(__file__).resolve().parents[1] / "tests" / "data" / "castle_courtyard.mp4"]
    return videos + (sorted(Path(realdata).glob("*.mp4")) if realdata else [])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
