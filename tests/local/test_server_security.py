"""What the embedded server defends: its token, its workers' endpoints, and fetches of video_url."""

from __future__ import annotations

import http.server
import socket
import threading
from functools import partial

import httpx
import pytest

from openstrate_nb import OpenStrate
from openstrate_nb.local._fetch import FetchError, VideoFetcher, resolve_fetchable


@pytest.fixture(scope="module")
def locked(start_server):
    return start_server(token="s3cret-token")


def test_token_is_required_on_every_api_call(locked, video):
    base = locked.base_url
    for method, path in (("GET", "/api/reconstruct/status/x"), ("POST", "/api/upload"), ("POST", "/api/reconstruct"),
                         ("GET", "/api/files/00000000-0000-0000-0000-000000000000.glb"), ("GET", "/")):
        r = httpx.request(method, base + path)
        assert r.status_code == 401 and "access token" in r.json()["error"], path
        r = httpx.request(method, base + path, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 403, path
    assert httpx.get(base + "/openstrate-reconstruction-api.openapi.yaml").status_code == 200
    assert httpx.get(base + "/static/viewer.js").status_code == 200


def test_client_with_the_token_works_and_pages_carry_it(locked, video, tmp_path):
    with OpenStrate(locked.base_url, token="s3cret-token", poll_interval=0.05) as client:
        job = client.wait(client.upload(video).job_id, timeout=60)
        assert client.download(job, tmp_path).read_bytes()[:4] == b"glTF"
    assert job.view_url.endswith("?token=s3cret-token")
    page = httpx.get(job.view_url)
    assert page.status_code == 200 and "token=s3cret-token" in page.text  # the page loads its file with it
    assert httpx.get(job.glb_asset_url).status_code == 401


def test_token_from_the_environment(locked, monkeypatch):
    monkeypatch.setenv("OPENSTRATE_TOKEN", "s3cret-token")
    from openstrate_nb import NotFoundError

    with pytest.raises(NotFoundError):  # got through the door, then found no such job
        OpenStrate(locked.base_url).status("nope")


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "gopher://x/", "http:///nohost", "http://127.0.0.1/", "http://localhost/",
    "http://[::1]/", "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/", "http://169.254.169.254/",
    "http://[fe80::1]/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/",
])
def test_fetch_refuses_non_public_targets(url):
    with pytest.raises(FetchError):
        resolve_fetchable(url)


def _fake_dns(monkeypatch, table):
    """DNS answers on demand (a real resolver cannot be made to lie): name -> addresses."""
    def getaddrinfo(host, port, *args, **kwargs):
        if host not in table:
            raise socket.gaierror(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (addr, port)) for addr in table[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_name_with_any_private_answer_is_refused(monkeypatch):
    _fake_dns(monkeypatch, {"mixed.test": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(FetchError, match="loopback, private or link-local"):
        resolve_fetchable("http://mixed.test/v.mp4")


def test_fetch_connects_to_the_checked_address_and_rechecks_redirects(monkeypatch, tmp_path):
    # Nothing leaves this process: the transport is a MockTransport.
    _fake_dns(monkeypatch, {"videos.test": ["93.184.216.34"], "intranet.test": ["10.1.1.1"]})
    seen = []

    def handler(request):
        seen.append((str(request.url), request.headers["host"]))
        if request.url.path == "/walk.mp4":
            return httpx.Response(302, headers={"location": "http://intranet.test/secret.mp4"})
        return httpx.Response(200, content=b"video")

    fetcher = VideoFetcher(max_bytes=1000, transport=httpx.MockTransport(handler))
    with pytest.raises(FetchError, match="private"):
        fetcher("http://videos.test/walk.mp4", tmp_path)
    assert seen == [("http://93.184.216.34/walk.mp4", "videos.test")]


def test_fetch_size_cap_and_errors(monkeypatch, tmp_path):
    _fake_dns(monkeypatch, {"videos.test": ["93.184.216.34"]})
    big = VideoFetcher(max_bytes=10, transport=httpx.MockTransport(lambda r: httpx.Response(200, content=b"x" * 100)))
    with pytest.raises(FetchError, match="over this server's"):
        big("http://videos.test/v.mp4", tmp_path)
    gone = VideoFetcher(max_bytes=10, transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    with pytest.raises(FetchError, match="HTTP 404"):
        gone("http://videos.test/v.mp4", tmp_path)


@pytest.fixture
def video_host(tmp_path, video):
    """A plain HTTP server on loopback holding a video, as a lab intranet would."""
    (tmp_path / "walk.mp4").write_bytes(video.read_bytes())
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/walk.mp4"
    httpd.shutdown()


def test_remote_video_url_is_fetched_when_private_urls_are_allowed(start_server, video_host):
    open_server = start_server(allow_private_urls=True)
    with OpenStrate(open_server.base_url, poll_interval=0.05) as client:
        job = client.reconstruct(video_host)
        done = client.wait(job.job_id, timeout=60)
    assert done.status == "complete" and done.extra["video_url"] == video_host
    assert done.extra["filename"] == "walk.mp4"


def test_the_same_url_is_refused_by_default(server, video_host):
    r = httpx.post(f"{server.base_url}/api/reconstruct", json={"video_url": video_host})
    assert r.status_code == 400 and "--allow-private-urls" in r.json()["error"]
