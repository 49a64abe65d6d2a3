"""Drive ReconstructWidget without a browser: feed the picker's custom messages and buffers
into the widget's handler, read the traits and the kernel's replies back."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest

from openstrate_nb import OpenStrate
from openstrate_nb.widget import ReconstructWidget


@pytest.fixture(autouse=True)
def widget_cache(tmp_path, monkeypatch) -> Path:
    """Each test gets its own result cache, so no test attaches to another's job by accident."""
    root = tmp_path / "cache"
    monkeypatch.setenv("OPENSTRATE_NB_CACHE", str(root))
    return root


@pytest.fixture
def make_widget(server):
    """``make_widget(*args, **kwargs)``: a widget on the test server (or ``client=``), closed afterwards."""
    made = []

    def _make(*args, **kwargs):
        if "client" not in kwargs and "base_url" not in kwargs:
            kwargs["client"] = OpenStrate(server.base_url, poll_interval=0.05)
        kwargs.setdefault("poll_interval", 0.05)
        widget = ReconstructWidget(*args, **kwargs)
        made.append(widget)
        return widget

    yield _make
    for widget in made:
        widget.close()


class FakeBrowser:
    """The picker's side of the protocol, as js/src/widget/upload.js speaks it."""

    def __init__(self, widget: ReconstructWidget):
        self.widget = widget
        self.replies: list[dict] = []
        self._lock = threading.Lock()
        widget.send = self._receive  # the kernel's replies land here instead of on a websocket

    def _receive(self, content, buffers=None):
        with self._lock:
            self.replies.append(content)

    def message(self, content: dict, buffers: list | None = None) -> None:
        self.widget._on_browser_message(self.widget, content, buffers or [])

    def replies_of(self, kind: str) -> list[dict]:
        with self._lock:
            return [r for r in self.replies if r.get("type") == kind]

    def send_file(self, data: bytes, name: str = "walk.mp4", *, chunk: int = 4096, upload_id: str = "u1",
                  end: bool = True) -> None:
        """Hash first, as the front end does; chunks only after ``ready`` (not after ``known``)."""
        self.message({"type": "upload_start", "id": upload_id, "name": name, "size": len(data),
                      "sha256": hashlib.sha256(data).hexdigest()})
        # The kernel answers from a thread once it has asked the server about the hash.
        deadline = time.monotonic() + 30
        while not any(self.replies_of(kind) for kind in ("ready", "known", "abort")):
            assert time.monotonic() < deadline, "the kernel never answered upload_start"
            time.sleep(0.01)
        if not self.replies_of("ready"):
            return
        for index, offset in enumerate(range(0, len(data), chunk)):
            self.message({"type": "chunk", "id": upload_id, "index": index, "offset": offset},
                         [memoryview(data[offset:offset + chunk])])
        if end:
            self.message({"type": "upload_end", "id": upload_id})


@pytest.fixture
def browser_for():
    return FakeBrowser
