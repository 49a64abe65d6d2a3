"""``%load_ext openstrate_nb``: the ``%openstrate`` line magic and ``ReconstructWidget`` in scope.

Thin on purpose: it parses a line and builds a widget or calls the client; everything it
does is one call away in Python too. Loading it twice, or ``%reload_ext``, is harmless: the
magic is registered again over itself and a server started by ``serve`` keeps running.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension", "openstrate"]

#: The embedded server started by ``%openstrate serve``, kept across ``%reload_ext``.
_server: Any = None


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    # argparse would print and sys.exit() on a typo, which in a notebook looks like a crash.
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def _parser(prog: str, *positionals: str, serve: bool = False) -> _Parser:
    parser = _Parser(prog=prog, add_help=False)
    for name in positionals:
        parser.add_argument(name)
    if serve:
        parser.add_argument("--port", type=int, default=0)
        parser.add_argument("--data-dir", default=None)
    else:
        parser.add_argument("--base-url", default=None)
        parser.add_argument("--force", action="store_true")
    return parser


def openstrate(line: str) -> Any:
    """Reconstruct a walkthrough video into a 3D mesh with OpenStrate.

    Usage::

        %openstrate VIDEO_OR_URL [--base-url URL] [--force]
            Show a ReconstructWidget for a video file beside the kernel, or a video URL.
            The same video on the same server attaches to its finished job (--force runs again).
            `w = %openstrate walk.mp4` keeps the widget (then w.wait(), w.mesh, w.scene).
        %openstrate attach JOB_ID [--base-url URL]
            Show the widget of an existing job, e.g. after a kernel restart.
        %openstrate status JOB_ID [--base-url URL]
            Print the job's status and progress once.
        %openstrate serve [--port N] [--data-dir DIR]
            Start the embedded OpenStrate server beside the kernel (CPU reconstruction, no
            network needed) and point later widgets and magics at it (OPENSTRATE_BASE_URL).
        %openstrate stop
            Stop that server.
        %openstrate export PATH
            Write the latest finished widget's result as one HTML page that opens offline.

    The server is --base-url, else $OPENSTRATE_BASE_URL, else https://openstrate.com.
    `$name` and `{expression}` in the line are expanded from the notebook's variables.
    """
    try:
        words = shlex.split(line, comments=True)  # `%openstrate serve  # note` works as typed
    except ValueError as exc:
        print(f"%openstrate: {exc}; quote paths that contain spaces.", file=sys.stderr)
        return None
    if not words or words[0] in ("-h", "--help", "help"):
        print(openstrate.__doc__)
        return None
    command, rest = words[0], words[1:]
    try:
        if command == "attach":
            return _attach(_parser("%openstrate attach", "job_id").parse_args(rest))
        if command == "status":
            return _status(_parser("%openstrate status", "job_id").parse_args(rest))
        if command == "serve":
            return _serve(_parser("%openstrate serve", serve=True).parse_args(rest))
        if command == "stop":
            return _stop()
        if command == "export":
            return _export(_parser("%openstrate export", "path").parse_args(rest))
        return _reconstruct(_parser("%openstrate", "video").parse_args(words))
    except _UsageError as exc:
        print(f"%openstrate: {exc}. See %openstrate? for usage.", file=sys.stderr)
        return None


def _reconstruct(args: argparse.Namespace) -> Any:
    from .widget import ReconstructWidget

    return ReconstructWidget(args.video, base_url=args.base_url, force=args.force)


def _export(args: argparse.Namespace) -> None:
    from .widget import ReconstructWidget

    widget = ReconstructWidget._latest() if ReconstructWidget._latest is not None else None
    if widget is None or widget.mesh_path is None:
        print("%openstrate export: no finished ReconstructWidget yet; run one to completion first "
              "(or call openstrate_nb.export_html(mesh, PATH)).", file=sys.stderr)
        return None
    print(widget.export_html(args.path))
    return None


def _attach(args: argparse.Namespace) -> Any:
    from .widget import ReconstructWidget

    return ReconstructWidget(job_id=args.job_id, base_url=args.base_url)


def _status(args: argparse.Namespace) -> None:
    from .api import OpenStrate, OpenStrateError

    with OpenStrate(args.base_url) as client:
        try:
            job = client.status(args.job_id)
        except OpenStrateError as exc:
            print(f"%openstrate status: {exc}", file=sys.stderr)
            return None
    parts = [f"job {job.job_id}: {job.status}"]
    if job.stage:
        parts.append(job.stage)
    if job.total_frames:
        parts.append(f"frame {job.current_frame or 0}/{job.total_frames}")
    if job.progress is not None:
        parts.append(f"{job.progress * 100:.0f}%")
    print(" · ".join(parts))
    for label, value in (("view", job.view_url), ("glb", job.glb_asset_url), ("error", job.error)):
        if value:
            print(f"  {label}: {value}")
    return None


def _serve(args: argparse.Namespace) -> None:
    global _server
    if _server is not None and getattr(_server, "running", True):
        print(f"The embedded OpenStrate server is already running at {_server.base_url}.")
    else:
        from .local import start  # the server stack loads only here

        _server = start(port=args.port, data_dir=args.data_dir)
        print(f"Embedded OpenStrate server running at {_server.base_url}; new widgets and magics use it.")
    os.environ["OPENSTRATE_BASE_URL"] = _server.base_url
    return None


def _stop() -> None:
    global _server
    if _server is None:
        print("No embedded server was started by %openstrate serve.")
        return None
    url = _server.base_url
    _server.stop()
    _server = None
    if os.environ.get("OPENSTRATE_BASE_URL") == url:
        del os.environ["OPENSTRATE_BASE_URL"]
    print(f"Stopped the embedded OpenStrate server at {url}.")
    return None


def _enable_colab_widgets() -> None:
    # Colab renders third-party widgets (anywidget, pythreejs) only with its custom manager.
    if "google.colab" not in sys.modules:
        return
    try:
        from google.colab import output  # type: ignore[import-not-found]

        output.enable_custom_widget_manager()
    except Exception as exc:  # an older Colab: the widget still works, without the 3D view
        print(f"openstrate_nb: could not enable Colab's custom widget manager ({exc}).", file=sys.stderr)


def load_ipython_extension(ipython: Any) -> None:
    from .widget import ReconstructWidget

    _enable_colab_widgets()
    ipython.register_magic_function(openstrate, magic_kind="line", magic_name="openstrate")
    ipython.push({"ReconstructWidget": ReconstructWidget}, interactive=False)


def unload_ipython_extension(ipython: Any) -> None:
    # Leave a running server alone: cells may still be using it, and %reload_ext must not cut it.
    ipython.magics_manager.magics["line"].pop("openstrate", None)
