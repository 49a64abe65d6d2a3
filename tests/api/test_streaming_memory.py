"""The streaming promise: uploading a 90 MB file grows the client's peak RSS by under 40 MB.

Measured in a fresh process (peak RSS is per process and only grows), after a small
warm-up upload so imports and connection set-up are not counted.
"""

from __future__ import annotations

import json
import subprocess
import sys

from _media import fake_mp4

SCRIPT = r"""
import json, resource, sys
from openstrate_nb import OpenStrate
client = OpenStrate(sys.argv[1])
client.upload(sys.argv[3])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
upload = client.upload(sys.argv[2])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"growth_kb": after - before, "size": upload.size}))
"""


def test_upload_of_90_mb_keeps_memory_flat(start_server, tmp_path):
    server = start_server(workers=0)  # store only: this measures the upload, not a job
    big = fake_mp4(tmp_path / "big.mp4", 90 * 1024 * 1024)
    small = fake_mp4(tmp_path / "small.mp4", 1024 * 1024)
    out = subprocess.run([sys.executable, "-c", SCRIPT, server.base_url, str(big), str(small)],
                         capture_output=True, text=True, check=True, timeout=300)
    result = json.loads(out.stdout)
    assert result["size"] == big.stat().st_size
    assert result["growth_kb"] < 40 * 1024, result
