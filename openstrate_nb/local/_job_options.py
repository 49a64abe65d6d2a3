"""What a client may ask of one reconstruction (an extension of the embedded server).

Sent as a JSON object: the ``options`` form field of ``POST /api/upload``, or ``options``
in the body of ``POST /api/reconstruct``. Every key is checked here, before a job exists,
so a typo is an error now rather than an option silently ignored.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["OptionsError", "parse_job_options", "MAX_OPTIONS_BYTES"]

MAX_OPTIONS_BYTES = 4096
#: each option: what it must be, said as the error says it
_KNOWN = {"marker_size_m": "the printed side of the scale markers in metres, between 0.01 and 10"}


class OptionsError(ValueError):
    """The options are not what this server understands; the message says what to send."""


def parse_job_options(raw: Any) -> dict[str, Any]:
    """``raw`` (a JSON text or an already decoded object, None for none) as checked options."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, (str, bytes)):
        if len(raw) > MAX_OPTIONS_BYTES:
            raise OptionsError(f"options is over {MAX_OPTIONS_BYTES} bytes; send only the options you need.")
        try:
            raw = json.loads(raw)
        except ValueError:
            raise OptionsError('options must be a JSON object, such as {"marker_size_m": 0.1}.') from None
    if not isinstance(raw, dict):
        raise OptionsError('options must be a JSON object, such as {"marker_size_m": 0.1}.')
    unknown = sorted(set(raw) - set(_KNOWN))
    if unknown:
        raise OptionsError(f"unknown option {unknown[0]!r}; this server knows: {', '.join(_KNOWN)}.")
    options: dict[str, Any] = {}
    if "marker_size_m" in raw and raw["marker_size_m"] is not None:
        size = raw["marker_size_m"]
        if isinstance(size, bool) or not isinstance(size, (int, float)) or not math.isfinite(size) \
                or not 0.01 <= size <= 10:
            raise OptionsError(f"marker_size_m={size!r}: give {_KNOWN['marker_size_m']}.")
        options["marker_size_m"] = float(size)
    return options
