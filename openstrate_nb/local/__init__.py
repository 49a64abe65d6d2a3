"""The embedded OpenStrate-compatible server: the same API, offline, on this machine.

>>> from openstrate_nb.local import start, sample_video
>>> server = start()                 # a free port on 127.0.0.1, beside the kernel
>>> server.base_url
'http://127.0.0.1:...'

Installed by the ``local`` extra (``pip install "openstrate_nb[local]"``).
"""

from __future__ import annotations

from typing import Any

from ._config import ServerConfig, default_data_dir

__all__ = ["start", "serve", "LocalServer", "ServerConfig", "default_data_dir", "sample_video"]


def __getattr__(name: str) -> Any:
    # The server stack (starlette, uvicorn) loads only when a server is wanted, so the
    # worker processes and sample_video() stay light.
    if name in ("start", "serve", "LocalServer"):
        try:
            from . import _server
        except ImportError as exc:
            raise ImportError(
                f"the embedded server needs the 'local' extra ({exc.name} is missing); "
                'install it with: pip install "openstrate_nb[local]"'
            ) from exc
        return getattr(_server, name)
    if name == "sample_video":
        from ._sample import sample_video

        return sample_video
    raise AttributeError(f"module 'openstrate_nb.local' has no attribute {name!r}")
