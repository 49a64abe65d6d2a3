"""OpenStrate.upload against curl -F: the same 200 MB file to the same loopback server.

    python benchmarks/bench_upload.py [--size-mb 200] [--rounds 3]

Target (issue 2): throughput ratio client/curl >= 0.8, client peak RSS growth < 40 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import fake_mp4, machine, serve

CLIENT = r"""
import json, resource, sys, time
from openstrate_nb import OpenStrate
client = OpenStrate(sys.argv[1], max_upload_bytes=10**10, timeout=600)
client.upload(sys.argv[3])  # warm-up: imports, connection
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
client.upload(sys.argv[2])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rss_growth_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        big = fake_mp4(tmp / "big.mp4", args.size_mb * 1024 * 1024)
        small = fake_mp4(tmp / "small.mp4", 1024 * 1024)
        size = big.stat().st_size
        client_s, curl_s, rss = [], [], []
        with serve(tmp / "data", "--workers", "0", "--max-upload-mb", str(args.size_mb * 2)) as (base, _):
            for _ in range(args.rounds):
                out = subprocess.run([sys.executable, "-c", CLIENT, base, str(big), str(small)],
                                     capture_output=True, text=True, check=True)
                result = json.loads(out.stdout)
                client_s.append(result["seconds"])
                rss.append(result["rss_growth_kb"] / 1024)
                start = time.perf_counter()
                subprocess.run(["curl", "-sS", "-o", "/dev/null", "-F", f"file=@{big}", f"{base}/api/upload"],
                               check=True)
                curl_s.append(time.perf_counter() - start)
                for stored in (tmp / "data" / "files").iterdir():
                    stored.unlink()  # keep the disk from filling over rounds
    mb = size / 1e6
    best_client, best_curl = min(client_s), min(curl_s)
    print(f"machine: {machine()}; file {mb:.0f} MB; {args.rounds} alternating rounds, best of each")
    print(f"OpenStrate.upload: {mb / best_client:7.1f} MB/s  (runs: {', '.join(f'{mb / s:.0f}' for s in client_s)})")
    print(f"curl -F:           {mb / best_curl:7.1f} MB/s  (runs: {', '.join(f'{mb / s:.0f}' for s in curl_s)})")
    print(f"ratio client/curl: {best_curl / best_client:.2f}  (target >= 0.8)")
    print(f"client peak RSS growth: {max(rss):.1f} MB  (target < 40 MB)")


if __name__ == "__main__":
    main()
