"""Running the app: beside a notebook's kernel (a thread) or as ``openstrate-nb serve``."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import warnings
from pathlib import Path
from typing import Any

import uvicorn

from ._app import create_app
from ._config import ServerConfig

__all__ = ["LocalServer", "start", "serve", "is_loopback"]

log = logging.getLogger("openstrate_nb.local")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _exposure_warning(host: str) -> str | None:
    if is_loopback(host):
        return None
    return (f"openstrate-nb is listening on {host}, so other machines can upload videos and read results; "
            "bind 127.0.0.1 unless you mean to share it.")


class LocalServer:
    """An embedded server running in a background thread of this process.

    >>> with start(port=0) as server:
    ...     OpenStrate(server.base_url).status(...)
    """

    def __init__(self, config: ServerConfig):
        self.config = config
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def base_url(self) -> str:
        if self._socket is None:
            raise RuntimeError("the server is not running; call start() first.")
        host, port = self._socket.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return self.config.public_url or f"http://{shown}:{port}"

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> LocalServer:
        if self.running:
            return self
        warning = _exposure_warning(self.config.host)
        if warning:
            warnings.warn(warning, stacklevel=3)
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.host, self.config.port))
        except OSError as exc:
            sock.close()
            raise OSError(f"cannot listen on {self.config.host}:{self.config.port} ({exc.strerror}); "
                          "pick another port, or port=0 for any free one.") from None
        self._socket = sock
        app = create_app(self.config)
        uv_config = uvicorn.Config(app, log_level="warning", lifespan="on",
                                   timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(uv_config)
        self._thread = threading.Thread(target=_run_quietly, args=(self._server, sock),
                                        name="openstrate-nb-server", daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                self._socket.close()
                self._socket = None
                cause = getattr(app.state, "startup_error", None)
                if cause is not None:
                    raise RuntimeError(f"the embedded server failed to start: {cause}") from cause
                raise RuntimeError(f"the embedded server failed to start; see the log above (data dir {self.data_dir}).")
            self._thread.join(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._socket is not None and self.running else "stopped"
        return f"<LocalServer {where} data_dir={str(self.data_dir)!r}>"


def _run_quietly(server: uvicorn.Server, sock: socket.socket) -> None:
    """uvicorn exits the process's way (SystemExit) when the app fails to start; here the
    caller's thread raises the cause instead (``LocalServer.start``)."""
    try:
        server.run(sockets=[sock])
    except SystemExit:
        pass


def start(port: int = 0, data_dir: str | Path | None = None, **options: Any) -> LocalServer:
    """Start an embedded OpenStrate server beside this process; returns once it answers.

    ``port=0`` takes any free port. Options are :class:`ServerConfig` fields
    (``host``, ``workers``, ``max_upload_bytes``, ``job_timeout``, ``pipeline``, ...).
    """
    if data_dir is not None:
        options["data_dir"] = Path(data_dir)
    return LocalServer(ServerConfig(port=port, **options)).start()


def serve(config: ServerConfig) -> None:
    """Run in the foreground until Ctrl-C (``openstrate-nb serve``)."""
    warning = _exposure_warning(config.host)
    if warning:
        log.warning(warning)
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="info",
                timeout_graceful_shutdown=2)
