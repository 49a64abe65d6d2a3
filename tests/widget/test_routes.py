"""What the kernel tells the page about reaching a /view page (the page's side: js/test/route.test.mjs)."""

from __future__ import annotations

import sys
import types

from openstrate_nb.widget._routes import view_route


def test_a_server_the_browser_reaches_as_it_is_gets_no_route():
    assert view_route("https://openstrate.com/view/a.glb") == {"url": "https://openstrate.com/view/a.glb"}
    assert view_route("http://10.0.0.5:8765/view/a.glb") == {"url": "http://10.0.0.5:8765/view/a.glb"}


def test_a_kernel_side_server_is_described_by_port_and_path_with_its_token(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name == "jupyter_server_proxy" else None)
    route = view_route("http://127.0.0.1:8765/view/a.glb?token=s3cret")
    assert route == {"url": "http://127.0.0.1:8765/view/a.glb?token=s3cret", "port": 8765,
                     "path": "/view/a.glb?token=s3cret", "proxy": True}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert view_route("http://localhost:9000/view/b.ply")["proxy"] is False


def test_in_colab_the_port_is_asked_of_colab_and_its_address_is_used(monkeypatch):
    # A stand-in for google.colab (Colab itself is not tested): it records what the widget asks.
    asked: list[str] = []
    output = types.SimpleNamespace(eval_js=lambda code: asked.append(code) or "https://x-8765-colab.example/")
    colab = types.ModuleType("google.colab")
    colab.output = output
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    route = view_route("http://127.0.0.1:8765/view/a.glb")
    assert asked == ["google.colab.kernel.proxyPort(8765, {'cache': false})"]
    assert route["colab"] == "https://x-8765-colab.example/view/a.glb"
