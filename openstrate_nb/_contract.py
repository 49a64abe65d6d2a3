"""Facts of the OpenStrate contract that the client, the widget and the embedded server share.

Dependency-free, so every layer can import it without pulling in another.
"""

from __future__ import annotations

__all__ = ["MAX_UPLOAD_BYTES", "size_text"]

#: The public upload cap: "100 MB" in the service's words, 100 MiB in bytes (as every
#: figure here says it).
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


def size_text(n_bytes: float) -> str:
    """A size in binary units, as the cap is stated: "100 MiB", "3.5 MiB", "12 KiB".

    The one byte formatter of the Python side (the CLI's bars, pages, provenance lines);
    ``bytes()`` in ``js/src/widget/format.js`` follows the same rule in the browser.
    """
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= scale:
            value = n_bytes / scale
            return f"{value:.0f} {unit}" if value >= 10 or value == int(value) else f"{value:.1f} {unit}"
    return f"{int(n_bytes)} B"
