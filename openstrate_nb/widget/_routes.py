"""How the browser reaches a ``/view`` page of a server on the kernel's own machine.

The ``/view`` iframe is loaded by the browser, not the kernel (docs/measured-facts.md): an
embedded server on the kernel's loopback address is out of reach whenever the browser is on
another machine (JupyterHub, Binder, a lab server over SSH, Colab). The kernel says what it
knows (the port, whether jupyter-server-proxy is installed, Colab's address for the port);
the page, which knows its own Jupyter base URL, picks the address (js/src/widget/route.js).
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any
from urllib.parse import urlsplit

__all__ = ["view_route"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def view_route(view_url: str) -> dict[str, Any]:
    """``{"url"}`` for a server the browser can reach as it is (a public URL, the hosted
    service); for one on the kernel's loopback also ``port``, ``path`` (with its query),
    ``proxy`` (jupyter-server-proxy can serve it under ``{base}proxy/{port}/``) and, in
    Colab, ``colab`` (the address Colab gives the page for that port)."""
    parts = urlsplit(view_url)
    if parts.hostname not in LOOPBACK_HOSTS or parts.port is None:
        return {"url": view_url}
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    route: dict[str, Any] = {"url": view_url, "port": parts.port, "path": path,
                             "proxy": importlib.util.find_spec("jupyter_server_proxy") is not None}
    colab = _colab_address(parts.port)
    if colab:
        route["colab"] = colab.rstrip("/") + path
    return route


def _colab_address(port: int) -> str | None:
    """Colab's public address for a kernel port (``google.colab.kernel.proxyPort``), or None."""
    if "google.colab" not in sys.modules:
        return None
    from google.colab import output  # type: ignore[import-not-found]

    address = output.eval_js(f"google.colab.kernel.proxyPort({port}, {{'cache': false}})")
    return address if isinstance(address, str) and address.startswith("http") else None
