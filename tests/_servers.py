"""An embedded server in a process of its own, so a test can really kill it (SIGKILL) and restart it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx


class ServerProcess:
    def __init__(self, data_dir, *args):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.data_dir = data_dir
        self.args = args
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        # Its log beside the data folder, for the reader of a failed test.
        log_path = self.data_dir.parent / f"server-{self.port}.log"
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "openstrate_nb.cli", "serve", "--port", str(self.port), "--data-dir",
                 str(self.data_dir), *self.args], stdout=log, stderr=log, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base_url + "/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("server did not start")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(20)
