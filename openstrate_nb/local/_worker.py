"""The program a worker process runs: one job, then exit.

``python -m openstrate_nb.local._worker PIPELINE VIDEO WORK_DIR [NAME] [--options JSON]`` prints one JSON object
per line on its original stdout: progress events, then ``done`` or ``failed``. Anything
the pipeline's libraries print goes to stderr (the job's log), never into the protocol.

A process per job means a crash, a leak or a kill never takes the API down, and a time
limit is enforced by killing the process. A plain subprocess (not multiprocessing) so the
parent's ``__main__``, a notebook or a user's script, is never imported again.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import IO, Any, Callable

__all__ = ["DEFAULT_PIPELINE", "load_pipeline", "run_job", "main"]

DEFAULT_PIPELINE = "openstrate_nb.local.pipeline:reconstruct"
_REPORT_EVERY = 0.2  # seconds; the API shows progress within a second


def load_pipeline(spec: str) -> Callable[..., Any]:
    """``"package.module:function"`` to the function."""
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr or "reconstruct")


def run_job(pipeline_spec: str, video_path: Path, work_dir: Path, out: IO[str], video_name: str | None = None,
            options: dict[str, Any] | None = None) -> None:
    """Run the pipeline and write its events to ``out`` (``video_name``: the user's name for the
    video; ``options``: the client's, as ``PipelineOptions`` fields, passed only when given)."""
    from .pipeline import PipelineOptions
    from .pipeline._result import ReconstructionError

    def send(event: dict[str, Any]) -> None:
        out.write(json.dumps(event) + "\n")
        out.flush()

    report = _Reporter(send)

    try:
        pipeline = load_pipeline(pipeline_spec)
        extra = {"options": PipelineOptions(**options)} if options else {}
        if extra and "options" not in inspect.signature(pipeline).parameters:
            raise ReconstructionError(f"this server's pipeline ({pipeline_spec}) takes no options; send the video "
                                      "without them.", "options_not_supported")
        artifacts = pipeline(video_path, work_dir, report, video_name=video_name, **extra)
        send({"event": "done", "artifacts": {
            "glb": str(artifacts.glb),
            "points": str(artifacts.points) if artifacts.points else None,
            "cameras": str(artifacts.cameras) if artifacts.cameras else None,
            "stats": artifacts.stats,
            "provenance": artifacts.provenance,
        }})
    except ReconstructionError as exc:
        send({"event": "failed", "error": str(exc), "code": getattr(exc, "code", "failed")})
    except MemoryError:
        send({"event": "failed", "code": "out_of_memory",
              "error": "the reconstruction ran out of memory; use a shorter or smaller video."})
    except Exception as exc:
        traceback.print_exc()
        send({"event": "failed", "code": "internal_error",
              "error": f"the reconstruction stopped on an internal error ({type(exc).__name__}: {exc}); "
                       "please report it, with the video if you can."})


class _Reporter:
    """The pipeline's ``report``: progress events, at most one per ``_REPORT_EVERY`` per stage.

    Its ``estimate`` receives the pipeline's forecast (overall share, seconds left, the
    video's frames) just before each report; the latest rides on every event sent.
    """

    def __init__(self, send: Callable[[dict[str, Any]], None]):
        self._send = send
        self._last_time = 0.0
        self._last_stage = ""
        self._forecast: dict[str, Any] = {}

    def __call__(self, stage: str, current: int, total: int) -> None:
        now = time.monotonic()
        if stage != self._last_stage or now - self._last_time >= _REPORT_EVERY or current >= total:
            self._last_time, self._last_stage = now, stage
            self._send({"event": "progress", "stage": str(stage), "current": int(current), "total": int(total),
                        **self._forecast})

    def estimate(self, overall: float, eta_s: float, video_frames: int | None) -> None:
        self._forecast = {"overall": round(float(overall), 4), "eta_s": round(float(eta_s), 1),
                          **({"video_frames": int(video_frames)} if video_frames else {})}


def _die_with_parent() -> None:
    """On Linux, ask the kernel to kill this worker if the server dies (even by SIGKILL).

    Otherwise an orphaned worker would go on burning the CPU for a job the restarted server
    runs again anyway.
    """
    if sys.platform != "linux":
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> None:
    _die_with_parent()
    args = list(argv if argv is not None else sys.argv[1:])
    options = None
    if "--options" in args:
        at = args.index("--options")
        options = json.loads(args[at + 1])
        del args[at:at + 2]
    pipeline_spec, video, work_dir = args[:3]
    video_name = args[3] if len(args) > 3 else None
    # The protocol keeps the real stdout; everything else printed goes to stderr.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        os.nice(10)  # the API and the notebook stay responsive on a 2-core laptop
    except (AttributeError, OSError):
        pass
    run_job(pipeline_spec, Path(video), Path(work_dir), protocol, video_name, options)
    protocol.close()


if __name__ == "__main__":
    main()
