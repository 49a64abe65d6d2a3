"""The three.js viewer page: served by the embedded server's ``/view`` and written by exports.

``viewer_page.html`` holds the page; ``static/viewer.js`` (built from ``js/``) draws the
mesh. The page either links the script (a server) or carries it inline with the mesh as
base64 (one file that opens from disk with no network).
"""

from __future__ import annotations

import functools
import html
import json
import re
from importlib import resources
from typing import Any

__all__ = ["viewer_page", "viewer_script"]

_PLACEHOLDER = re.compile(r"\{\{(TITLE|DETAILS|SCRIPT|MOUNT_OPTIONS_JSON)\}\}")


@functools.cache
def viewer_script() -> str:
    """The built viewer bundle; a clear error when the front end was never built."""
    try:
        return resources.files("openstrate_nb").joinpath("static/viewer.js").read_text("utf-8")
    except FileNotFoundError:
        raise RuntimeError(
            "openstrate_nb's front end is not built; reinstall with `pip install -e .` (needs npm) "
            "or run `npm ci && npm run build` in js/."
        ) from None


@functools.cache
def _template() -> str:
    return resources.files("openstrate_nb").joinpath("viewer_page.html").read_text("utf-8")


def _script_json(value: Any) -> str:
    # JSON inside <script>: "</script>" or "<!--" in a file name must not end the block.
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _details(details: dict[str, Any] | None) -> str:
    if not details:
        return ""
    rows = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>" for k, v in details.items())
    return f"<details><summary>About this result</summary><dl>{rows}</dl></details>"


def viewer_page(title: str, options: dict[str, Any], *, script_src: str | None = None,
                details: dict[str, Any] | None = None) -> str:
    """The page for one mesh; with no ``script_src`` the viewer script is inlined.

    ``details`` (name to value, e.g. the job's provenance) is listed under the title.
    """
    if script_src is not None:
        script = f'<script src="{html.escape(script_src)}"></script>'
    else:
        script = "<script>" + viewer_script().replace("</script", "<\\/script") + "</script>"
    values = {"TITLE": html.escape(title), "DETAILS": _details(details), "SCRIPT": script, "MOUNT_OPTIONS_JSON": _script_json(options)}
    template = _template()
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
