"""Everything an embedded server can be told, with the defaults a laptop wants."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from .._contract import MAX_UPLOAD_BYTES
from ._worker import DEFAULT_PIPELINE

__all__ = ["ServerConfig", "default_data_dir", "parse_local_address"]


def default_data_dir() -> Path:
    return Path(os.environ.get("OPENSTRATE_NB_DATA") or platformdirs.user_data_dir("openstrate-nb")) / "server"


def parse_local_address(address: str) -> int | None:
    """``local:N`` → N (a LocalCluster of N worker processes); another address → None."""
    if not address.startswith("local:"):
        return None
    count = address.removeprefix("local:")
    if not count.isdigit() or int(count) < 1:
        raise ValueError(f"--dask {address!r}: give local:N with N worker processes, such as local:2.")
    return int(count)


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    data_dir: Path = field(default_factory=default_data_dir)
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    #: reconstructions at once, each in a worker process here (ignored with ``dask``)
    workers: int = 1
    #: a Dask scheduler's address (``tcp://host:8786``), ``local:N`` for a LocalCluster of N
    #: worker processes, or (from Python) a cluster object such as a Dask Gateway or
    #: dask-jobqueue cluster: reconstructions then run as tasks on that cluster
    dask: Any = None
    #: a folder the server and every Dask worker can read and write: videos and results go
    #: through it instead of through Dask
    shared_dir: Path | None = None
    #: the address clients reach this server at, when it differs from what they asked
    public_url: str | None = None
    allow_private_urls: bool = False
    #: seconds one job may run before its worker is killed
    job_timeout: float = 30 * 60
    #: "module:function" of the reconstruction pipeline the workers run
    pipeline: str = DEFAULT_PIPELINE
    #: when set, every API call must carry it (``Authorization: Bearer`` or ``?token=``)
    token: str | None = None

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser().resolve()
        if isinstance(self.dask, str):
            parse_local_address(self.dask)  # refuses a malformed local:N now, not at the first job
        if self.shared_dir is not None:
            self.shared_dir = Path(self.shared_dir).expanduser().resolve()
        if self.public_url:
            self.public_url = self.public_url.rstrip("/")
