"""Downloads: streamed, atomic, resumed with Range after a drop.

The embedded server answers Range requests for real; a connection reset in the middle of
a body is what a real server will not do on demand, so a MockTransport injects it.
"""

from __future__ import annotations

import httpx
import pytest

from openstrate_nb import APIConnectionError, AsyncOpenStrate, NotFoundError, OpenStrate

DATA = bytes(range(256)) * 4096  # 1 MiB


class DroppingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Sends ``data`` up to ``cut`` bytes, then resets the connection."""

    def __init__(self, data: bytes, cut: int | None):
        self.data, self.cut = data, cut

    def _chunks(self):
        end = len(self.data) if self.cut is None else self.cut
        for start in range(0, end, 65536):
            yield self.data[start:min(end, start + 65536)]

    def __iter__(self):
        yield from self._chunks()
        if self.cut is not None:
            raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self):
        for chunk in self._chunks():
            yield chunk
        if self.cut is not None:
            raise httpx.ReadError("connection reset by peer")


def _flaky_server(cuts, *, ranges=True):
    """A transport that drops the body at each of ``cuts`` in turn, then sends the rest whole."""
    cuts = list(cuts)
    requests = []

    def handler(request):
        requests.append(request)
        start = 0
        if "range" in request.headers:
            start = int(request.headers["range"].removeprefix("bytes=").rstrip("-"))
        body = DATA[start:]
        cut = cuts.pop(0) if cuts else None
        headers = {"content-length": str(len(body)), "content-type": "model/gltf-binary"}
        if ranges:
            headers["accept-ranges"] = "bytes"
        if start:
            headers["content-range"] = f"bytes {start}-{len(DATA) - 1}/{len(DATA)}"
            return httpx.Response(206, headers=headers, stream=DroppingStream(body, cut))
        return httpx.Response(200, headers=headers, stream=DroppingStream(body, cut))

    return handler, requests


def test_resumes_with_a_range_request_after_a_drop(tmp_path):
    handler, requests = _flaky_server([300_000, 200_000])
    progress = []
    client = OpenStrate("http://t", transport=httpx.MockTransport(handler))
    path = client.download("/api/files/abc.glb", tmp_path, on_progress=lambda got, total: progress.append(got))
    assert path == tmp_path / "abc.glb" and path.read_bytes() == DATA
    assert [r.headers.get("range") for r in requests] == [None, "bytes=300000-", "bytes=500000-"]
    assert progress[-1] == len(DATA)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abc.glb"]


@pytest.mark.anyio
async def test_async_resumes_too(tmp_path):
    handler, requests = _flaky_server([400_000])
    async with AsyncOpenStrate("http://t", transport=httpx.MockTransport(handler)) as client:
        path = await client.download("abc.glb", tmp_path / "out.glb")
    assert path.read_bytes() == DATA and requests[1].headers["range"] == "bytes=400000-"


def test_without_range_support_it_starts_over(tmp_path):
    handler, requests = _flaky_server([500_000], ranges=False)
    path = OpenStrate("http://t", transport=httpx.MockTransport(handler)).download("abc.glb", tmp_path / "x.glb")
    assert path.read_bytes() == DATA and "range" not in requests[1].headers


def test_gives_up_cleanly_leaving_nothing_half_written(tmp_path):
    handler, _ = _flaky_server([100_000] * 10)
    (tmp_path / "keep.glb").write_bytes(b"old")
    client = OpenStrate("http://t", transport=httpx.MockTransport(handler), max_retries=2)
    from unittest import mock

    with mock.patch.object(OpenStrate, "_backoff", return_value=0), pytest.raises(APIConnectionError):
        client.download("abc.glb", tmp_path / "keep.glb")
    assert [p.name for p in tmp_path.iterdir()] == ["keep.glb"]
    assert (tmp_path / "keep.glb").read_bytes() == b"old"


def test_real_server_range_and_content_headers(client, tmp_path):
    mesh = tmp_path / "m.glb"
    from _media import glb_bytes

    mesh.write_bytes(glb_bytes())
    upload = client.upload(mesh)
    full = httpx.get(upload.url)
    assert full.headers["content-type"] == "model/gltf-binary"
    assert int(full.headers["content-length"]) == len(full.content) == mesh.stat().st_size
    part = httpx.get(upload.url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == mesh.read_bytes()[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{mesh.stat().st_size}"


def test_unknown_file_is_not_found_and_leaves_nothing(client, tmp_path):
    with pytest.raises(NotFoundError):
        client.download("00000000-0000-0000-0000-000000000000.glb", tmp_path)
    assert list(tmp_path.iterdir()) == []
