"""Fixtures shared by the whole suite: real embedded servers on loopback, media on demand.

The servers run the fast test pipelines of tests/_pipelines.py in real worker processes;
the real reconstruction is exercised by tests/local/pipeline/ (once per session).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from _media import write_video
from _servers import ServerProcess

from openstrate_nb import AsyncOpenStrate, Job, OpenStrate
from openstrate_nb.local import sample_video

QUICK = "_pipelines:quick_pipeline"


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The embedded server every client test talks to, over real HTTP."""
    from openstrate_nb.local import start

    with start(port=0, data_dir=tmp_path_factory.mktemp("server"), pipeline=QUICK, workers=2) as srv:
        yield srv


@pytest.fixture(scope="session")
def start_server(tmp_path_factory):
    """Start an extra server with its own options; stopped at the end of the session."""
    from openstrate_nb.local import start

    started = []

    def _start(**options):
        options.setdefault("pipeline", QUICK)
        options.setdefault("data_dir", tmp_path_factory.mktemp("extra-server"))
        srv = start(port=options.pop("port", 0), **options)
        started.append(srv)
        return srv

    yield _start
    for srv in started:
        srv.stop()


@pytest.fixture
def served(tmp_path):
    """``served(*serve_args)``: ``openstrate-nb serve`` in its own process, to kill and restart."""
    started = []

    def _serve(*args):
        server = ServerProcess(tmp_path / "data", *args).start()
        started.append(server)
        return server

    yield _serve
    for server in started:
        server.stop()


@pytest.fixture
def client(server):
    with OpenStrate(server.base_url, poll_interval=0.05) as c:
        yield c


@pytest.fixture(scope="session")
def video(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("media") / "walk.mp4")


@pytest.fixture
def anyio_backend():
    return "asyncio"


class AsyncAsSync:
    """Runs an AsyncOpenStrate's methods from sync test code, so one test covers both twins."""

    def __init__(self, async_client: AsyncOpenStrate, portal):
        self._client = async_client
        self._portal = portal

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr) or name.endswith("_url") or name == "url":
            return attr

        def call(*args, **kwargs):
            return self._portal.call(lambda: attr(*args, **kwargs))

        return call


@pytest.fixture(params=["sync", "async"])
def make_client(request, server):
    """``make_client(base_url=None, **options)`` for either twin; closed after the test."""
    from anyio.from_thread import start_blocking_portal

    made = []
    portal_cm = start_blocking_portal() if request.param == "async" else None
    portal = portal_cm.__enter__() if portal_cm else None

    def _make(base_url=None, **options):
        options.setdefault("poll_interval", 0.05)
        url = base_url or server.base_url
        if portal is None:
            c = OpenStrate(url, **options)
            made.append(c.close)
            return c
        async_client = portal.call(lambda: _new_async(url, options))
        made.append(lambda: portal.call(async_client.aclose))
        return AsyncAsSync(async_client, portal)

    _make.kind = request.param
    yield _make
    for close in made:
        close()
    if portal_cm:
        portal_cm.__exit__(None, None, None)


async def _new_async(url, options):
    return AsyncOpenStrate(url, **options)


@pytest.fixture
def finished_widget(server, video, tmp_path, monkeypatch):
    """A widget whose reconstruction completed on the session's embedded server."""
    from openstrate_nb.widget import ReconstructWidget  # widget modules only where a test asks

    monkeypatch.setenv("OPENSTRATE_NB_CACHE", str(tmp_path / "cache"))
    widget = ReconstructWidget(video, client=OpenStrate(server.base_url, poll_interval=0.05), poll_interval=0.05)
    try:
        widget.wait(timeout=300)  # a guard against a hang, not a speed requirement
        yield widget
    finally:
        widget.close()


# -- the sample, reconstructed for real by two server processes, once per session ----------
#
# One local worker and a Dask LocalCluster of two worker processes run the real pipeline on
# the sample at the same time. Each run keeps what a client saw: every job document polled
# twice a second, the live preview's points as they were served, the result's files, and the
# stage artifacts downloaded afterwards (tests/local/test_reproducible.py,
# tests/local/test_stage_artifacts.py, tests/test_figures.py).


@dataclass
class SampleRun:
    job: Job
    #: the result's files by kind: glb_asset, points, cameras
    files: dict[str, bytes]
    #: every job document polled while waiting
    seen: list[Job]
    #: the stage artifacts, downloaded into this folder once the job completed
    artifacts: Path
    #: (job document, PLY bytes) of each new live preview fetched while processing
    live: list[tuple[Job, bytes]] = field(default_factory=list)


@pytest.fixture(scope="session")
def sample_jobs(tmp_path_factory) -> dict:
    """{1: SampleRun on one local worker, "dask": SampleRun on a two-process Dask cluster}."""
    options = {1: ("--workers", "1"), "dask": ("--dask", "local:2")}
    servers = {name: ServerProcess(tmp_path_factory.mktemp(f"repro-{name}"), *args).start()
               for name, args in options.items()}

    def reconstruct(name, server: ServerProcess) -> SampleRun:
        with OpenStrate(server.base_url, poll_interval=0.5) as client:
            seen: list[Job] = []
            live: list[tuple[Job, bytes]] = []

            def on_update(job: Job) -> None:
                seen.append(job)
                if job.status == "processing" and job.points_url and (not live or live[-1][0].points_url != job.points_url):
                    answer = httpx.get(job.points_url)
                    if answer.status_code == 200:  # 404 only in the instant the job ends and its files move
                        live.append((job, answer.content))

            job = client.wait(client.upload(sample_video()).job_id, timeout=600, on_update=on_update)
            files = {kind: httpx.get(job.to_dict()[f"{kind}_url"]).content
                     for kind in ("glb_asset", "points", "cameras")}
            folder = client.download_artifacts(job, tmp_path_factory.mktemp(f"artifacts-{name}"))
            return SampleRun(job, files, seen, folder, live)

    try:
        with ThreadPoolExecutor(len(servers)) as pool:
            yield dict(zip(servers, pool.map(reconstruct, servers, servers.values())))
    finally:
        for server in servers.values():
            server.stop()
