"""Where the widgets' built ES modules are (npm builds them into ``openstrate_nb/static/``)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["front_end"]

_STATIC = Path(__file__).resolve().parent.parent / "static"
_MISSING_FRONT_END = """
export default { render({ el }) {
  el.textContent = "openstrate_nb's front end is not built: run `cd js && npm ci && npm run build`.";
} };
"""


def front_end(name: str) -> Path | str:
    """The built module ``name`` for an anywidget's ``_esm``, or a module saying how to build it."""
    built = _STATIC / name
    return built if built.is_file() else _MISSING_FRONT_END
