"""``openstrate-nb``: reconstruct, status, cancel, download, check, marker, verify, serve, demo and clean from a terminal.

Failures end with one line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from .._contract import size_text
from .._version import __version__
from ..api import Job, OpenStrate, OpenStrateError
from ._bars import ProgressBar, time_left
from ._many import run_many
from ._submit import start_job

__all__ = ["main", "build_parser"]


def _print(message: str = "") -> None:
    print(message, flush=True)


def _client(args: argparse.Namespace) -> OpenStrate:
    return OpenStrate(args.base_url, poll_interval=getattr(args, "poll_interval", None))


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def run_reconstruction(client: OpenStrate, source: str, out: Path, timeout: float | None,
                       options: dict[str, Any] | None = None) -> tuple[Job, Path]:
    """Upload (or name) a video, wait with progress bars, download the GLB into ``out``."""
    job_id = start_job(client, source, options)
    _print(f"job {job_id} on {client.base_url}")
    bar = ProgressBar("reconstruct")
    best = [None]  # the bar only moves forward, whatever a server reports

    def show(job: Job) -> None:
        if job.progress is not None:
            best[0] = max(best[0] or 0.0, job.progress)
        if job.is_terminal:
            bar.update(best[0], str(job.status), force=True)
            return
        if job.step:
            detail = job.step + (f"  {time_left(job.eta_s)}" if job.eta_s is not None else "")
        else:
            frames = f"{job.current_frame}/{job.total_frames} frames" if job.total_frames else ""
            detail = f"{job.stage or job.status}  {frames}"
        bar.update(best[0], detail)

    def lost(error: Exception, seconds: float) -> None:
        bar.update(best[0], f"cannot reach the server for {seconds:.0f} s ({error}); retrying", force=True)

    try:
        job = client.wait(job_id, timeout=timeout, on_update=show, on_error=lost)
    except KeyboardInterrupt:
        bar.close()
        _offer_cancel(client, job_id)
        raise
    finally:
        bar.close()
    out.mkdir(parents=True, exist_ok=True)
    bar = ProgressBar("download")
    glb = client.download(job, out / f"{Path(job.extra.get('filename') or job.asset or 'result').stem}.glb",
                          on_progress=bar.bytes)
    bar.close()
    return job, glb


def _offer_cancel(client: OpenStrate, job_id: str) -> None:
    """After Ctrl-C: at a terminal, ask whether the server's job should stop too."""
    if _ask(f"\nStop job {job_id} on the server too?"):
        client.cancel(job_id)
        _print(f"job {job_id} cancelled")


def _ask(question: str) -> bool:
    """At a terminal, ask a yes/no question (no unless answered yes); elsewhere, no."""
    if not sys.stdin.isatty():
        return False
    try:
        answer = input(f"{question} [y/N] ").strip().lower()
    except (EOFError, KeyboardInterrupt):
        answer = ""
    return answer in ("y", "yes")


def cmd_cancel(args: argparse.Namespace) -> int:
    with _client(args) as client:
        job = client.cancel(args.job_id)
    _print(f"{job.job_id}: {job.status} ({job.code})")
    return 0


def _video_argument(text: str) -> str:
    """A path, an http(s) URL, or a ``file://`` URL (as a file manager copies it), as a path or URL."""
    if text.startswith("file://"):
        from urllib.parse import urlsplit
        from urllib.request import url2pathname

        return url2pathname(urlsplit(text).path)
    return text


def cmd_reconstruct(args: argparse.Namespace) -> int:
    videos = [_video_argument(v) for v in args.videos]
    options = {"marker_size_m": args.marker_size} if args.marker_size is not None else None
    with _client(args) as client:
        if len(videos) > 1:
            return run_many(client, videos, Path(args.out), args.timeout, options)
        job, glb = run_reconstruction(client, videos[0], Path(args.out), args.timeout, options)
    _print(f"mesh: {glb}")
    _print(f"view: {job.view_url}")
    units = (job.extra.get("stats") or {}).get("units")
    if units:
        _print("units: metres" if units == "m" else "units: unknown (the reconstruction's own)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with _client(args) as client:
        job = client.status(args.job_id)
    if args.json:
        _print(json.dumps(job.to_dict(), indent=2))
        return 0
    progress = f" {job.progress * 100:.0f}%" if job.progress is not None else ""
    _print(f"{job.job_id}: {job.status}{progress}" + (f" ({job.stage})" if job.stage else ""))
    for label, value in (("error", job.error), ("code", job.code), ("view", job.view_url), ("glb", job.glb_asset_url)):
        if value:
            _print(f"  {label}: {value}")
    return 0 if job.status != "failed" else 1


def cmd_download(args: argparse.Namespace) -> int:
    with _client(args) as client:
        bar = ProgressBar("download")
        path = client.download(args.url_or_id, args.out, on_progress=bar.bytes)
        bar.close()
    _print(str(path))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .._verify import verify

    _print(f"reconstructing {Path(args.video).name} again as {Path(args.result).name} records it was made")
    bar = ProgressBar("verify")
    try:
        outcome = verify(args.result, args.video, report=lambda stage, current, total: bar.update(
            current / total if total else None, stage))
    finally:
        bar.close()
    _print(str(outcome))
    return 0 if outcome.reproduced else 1


def _server_config(args: argparse.Namespace):
    from ..local import ServerConfig

    options = dict(host=args.host, port=args.port, workers=args.workers, public_url=args.public_url,
                   allow_private_urls=args.allow_private_urls, max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
                   job_timeout=args.job_timeout * 60, token=args.token)
    if args.pipeline:
        options["pipeline"] = args.pipeline
    if args.shared_dir and not args.dask:
        raise ValueError("--shared-dir is the folder a Dask cluster shares with the server; give --dask too.")
    if args.dask:
        options.update(dask=args.dask, shared_dir=args.shared_dir)
    if args.data_dir:
        options["data_dir"] = Path(args.data_dir)
    return ServerConfig(**options)


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    from ..local import serve

    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    config = _server_config(args)
    _print(f"openstrate-nb {__version__}: serving the OpenStrate API on http://{config.host}:{config.port} "
           f"(data in {config.data_dir}); Ctrl-C stops it")
    serve(config)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ..export import export_html
    from ..local import sample_video, start

    video = sample_video()
    options = {"data_dir": Path(args.data_dir)} if args.data_dir else {}
    _print(f"starting the embedded server and reconstructing the sample video {video.name} on this CPU")
    with start(port=args.port, **options) as server, OpenStrate(server.base_url) as client:
        job, glb = run_reconstruction(client, str(video), Path(args.out), args.timeout)
        page = export_html(glb, glb.with_suffix(".html"), title=f"{video.name} (openstrate_nb demo)",
                           provenance={"source video": video.name, "server": server.base_url, "job": job.job_id})
        stats = job.extra.get("stats") or {}
        if stats:
            _print("stats: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                         for k, v in stats.items() if not isinstance(v, (dict, list))))
        _print(f"mesh:  {glb}")
        _print(f"page:  {page.resolve().as_uri()}  (opens offline in any browser)")
        _print(f"view:  {job.view_url}" + ("" if args.serve else "  (while --serve keeps the server up)"))
        if args.serve:
            _print("serving until Ctrl-C")
            _wait_forever()
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .. import check_video

    refused = 0
    for video in args.videos:  # each said as soon as it is known: a minute of video takes seconds
        check = check_video(video)
        _print(str(check))
        refused += not check.ok
    return 1 if refused else 0


def cmd_marker(args: argparse.Namespace) -> int:
    from ..markers import marker_sheet

    path = marker_sheet(args.out, args.size, marker_id=args.id, paper=args.paper)
    _print(f"{path}: print it at 100% (actual size) and check its 10 cm ruler; the black square is "
           f"{args.size * 1000:.1f} mm wide")
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    from ._clean import empty, folders, refusal

    chosen = folders(cache=not args.data_only, data=not args.cache_only)
    _print("Folders openstrate-nb clean empties:")
    width = max(len(folder.label) for folder in chosen)
    for folder in chosen:
        _print(f"  {folder.label:<{width}}  {folder.path}  ({folder.describe()})")
    reason = refusal(chosen)
    if reason:
        raise RuntimeError(reason)
    if not any(folder.files for folder in chosen):
        _print("Nothing to remove.")
        return 0
    if args.dry_run:
        _print("Dry run: nothing removed; openstrate-nb clean --yes removes it.")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise RuntimeError("nothing removed: pass --yes to remove it (or --dry-run to only look).")
        if not _ask("Remove it?"):
            _print("Nothing removed.")
            return 1
    for folder in chosen:
        if folder.exists:
            empty(folder.path)
            _print(f"removed {size_text(folder.size)} from {folder.path}")
    return 0


def _wait_forever() -> None:
    import threading

    threading.Event().wait()


class _HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, where it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openstrate-nb", description="Turn a walkthrough video into a 3D mesh.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help,
                                  formatter_class=_HelpWithDefaults)
        sub.set_defaults(handler=handler)
        return sub

    def base_url(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--base-url", help="server (default: $OPENSTRATE_BASE_URL or https://openstrate.com)")

    sub = command("reconstruct", cmd_reconstruct, "upload a video (or name its URL), wait, download the mesh")
    sub.add_argument("videos", metavar="VIDEO_OR_URL", nargs="+",
                     help="video files, file:// URLs, or http(s) URLs the server can fetch; several run side by side")
    base_url(sub)
    sub.add_argument("--out", default=".", help="folder for the GLB")
    sub.add_argument("--marker-size", type=float, default=None, metavar="METRES",
                     help="the printed side of the scale markers filmed with the scene (openstrate-nb marker): "
                          "the mesh comes out in metres (the embedded server)")
    sub.add_argument("--timeout", type=float, default=None, help="seconds to wait, no limit if not given (the job goes on after)")
    sub.add_argument("--poll-interval", type=float, default=None, help=argparse.SUPPRESS)

    sub = command("status", cmd_status, "show a job's status")
    sub.add_argument("job_id", metavar="JOB_ID", help="the job's id, as reconstruct printed it")
    base_url(sub)
    sub.add_argument("--json", action="store_true", help="print the whole job document")

    sub = command("cancel", cmd_cancel, "stop a job (the embedded server; the hosted service cannot)")
    sub.add_argument("job_id", metavar="JOB_ID", help="the job's id, as reconstruct printed it")
    base_url(sub)

    sub = command("download", cmd_download, "download a file by URL or {id}.{ext}")
    sub.add_argument("url_or_id", metavar="URL_OR_ID", help="a file's URL, or {id}.{ext} on the server")
    base_url(sub)
    sub.add_argument("--out", default=None, help="file or folder, here if not given")

    sub = command("check", cmd_check, "say whether a video would be refused, and why, before sending it "
                                      "(the pipeline's first pass alone: a few seconds)")
    sub.add_argument("videos", metavar="VIDEO", nargs="+", help="video files to check")
    sub.epilog = "Exit status 0 when every video looks reconstructable, 1 when one would be refused."

    sub = command("marker", cmd_marker, "write a printable scale marker (ArUco DICT_4X4_50) of a given side")
    sub.add_argument("--size", type=float, default=0.10, help="the marker's printed side in metres")
    sub.add_argument("--out", default="marker.pdf", help="the sheet to write: .pdf (to print) or .png")
    sub.add_argument("--id", type=int, default=0, help="which of the dictionary's 50 markers (0-49)")
    sub.add_argument("--paper", default="A4", choices=["A4", "letter"], help="paper size")

    sub = command("verify", cmd_verify, "reconstruct a result's video again and say whether the result is "
                                        "reproduced bit for bit, or which stage first differs")
    sub.add_argument("result", metavar="RESULT.glb", help="a GLB made by openstrate_nb's embedded server")
    sub.add_argument("video", metavar="VIDEO", help="the video it was made from")

    def server_options(sub: argparse.ArgumentParser, port: int) -> None:
        sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
        sub.add_argument("--port", type=int, default=port, help="port to listen on (0: any free port)")
        sub.add_argument("--data-dir", default=None,
                         help="jobs and files; if not given, $OPENSTRATE_NB_DATA/server, else the user data folder")
        sub.add_argument("--max-upload-mb", type=float, default=100, help="upload cap in MiB")
        sub.add_argument("--workers", type=int, default=1, help="reconstructions at once")
        sub.add_argument("--public-url", default=None, help="the address clients use, if not host:port")
        sub.add_argument("--allow-private-urls", action="store_true",
                         help="let video_url name loopback and private-network hosts")
        sub.add_argument("--job-timeout", type=float, default=30, help="minutes one job may run")
        sub.add_argument("--token", default=None,
                         help="require this token on every API call (clients: OPENSTRATE_TOKEN or token=)")

    sub = command("serve", cmd_serve, "run the embedded OpenStrate-compatible server")
    server_options(sub, 8765)
    sub.add_argument("--pipeline", default=None, metavar="MODULE:FUNCTION",
                     help="reconstruction function the workers run (default: the built-in CPU pipeline)")
    sub.add_argument("--dask", default=None, metavar="ADDRESS",
                     help="run reconstructions on a Dask cluster: its scheduler (tcp://host:8786), or local:N for "
                          "N worker processes here (needs openstrate_nb[dask]; --workers is then ignored)")
    sub.add_argument("--shared-dir", default=None, metavar="DIR",
                     help="with --dask: a folder the server and all workers share; videos and results pass "
                          "through it instead of through Dask")
    sub = command("demo", cmd_demo, "reconstruct the bundled sample video offline and show the result")
    sub.add_argument("--out", default="openstrate-demo", help="folder for the results")
    sub.add_argument("--data-dir", default=None, help="the embedded server's jobs and files, as for serve")
    sub.add_argument("--port", type=int, default=0, help="port of the embedded server (0: any free port)")
    sub.add_argument("--timeout", type=float, default=None, help="seconds to wait, no limit if not given")
    sub.add_argument("--serve", action="store_true", help="keep the server running so the view URL works")

    sub = command("clean", cmd_clean, "empty the widget cache and the embedded server's data, showing their sizes first")
    sub.description = ("Empty the widget cache ($OPENSTRATE_NB_CACHE, else the user cache folder) and the embedded "
                       "server's data: jobs, uploaded videos, meshes, logs ($OPENSTRATE_NB_DATA/server, else the user "
                       "data folder). It shows each folder and its size first, then asks (at a terminal) or wants "
                       "--yes; the folders themselves stay, and symlinks inside them are removed, not followed.")
    sub.epilog = ("It refuses while an embedded server has the data folder open (stop openstrate-nb serve, or the "
                  "notebook that ran %openstrate serve). A server started with --data-dir keeps its data there: "
                  "remove that folder yourself.")
    which = sub.add_mutually_exclusive_group()
    which.add_argument("--cache-only", action="store_true", help="only the widget cache")
    which.add_argument("--data-only", action="store_true", help="only the embedded server's data")
    how = sub.add_mutually_exclusive_group()
    how.add_argument("--yes", "-y", action="store_true", help="remove without asking")
    how.add_argument("--dry-run", action="store_true", help="only show what would go and how big it is")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("\ninterrupted; a job already started keeps running on the server unless cancelled "
              "(openstrate-nb status JOB_ID, openstrate-nb cancel JOB_ID).", file=sys.stderr)
        return 130
    except (OpenStrateError, OSError, ValueError, ImportError, RuntimeError) as exc:
        print(f"openstrate-nb: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
