"""Fetching a remote ``video_url`` for ``POST /api/reconstruct``, carefully.

The server fetches what a caller names, so the caller must not be able to make it read
this machine's own services or the local network (SSRF): only http(s), and no loopback,
private, link-local or otherwise non-public address, checked for every address the name
resolves to and again after every redirect. ``allow_private`` lifts the address check
for a lab that keeps its videos on an intranet.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

__all__ = ["FetchError", "check_fetchable", "fetch_video", "VideoFetcher"]

MAX_REDIRECTS = 5


class FetchError(Exception):
    """The video_url cannot be fetched; the message says why in one sentence."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_fetchable(url: str, *, allow_private: bool = False) -> None:
    """Raise FetchError unless ``url`` is http(s) to a public address (or private ones are allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"video_url must be an http(s) URL, not {url[:80]!r}.")
    if allow_private:
        return
    try:
        answers = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                     type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise FetchError(f"the host {parts.hostname!r} in video_url could not be resolved.") from None
    for *_, sockaddr in answers:
        if not _is_public(sockaddr[0]):
            raise FetchError(
                f"video_url points at a loopback, private or link-local address ({parts.hostname}); "
                "upload the file instead, or start the server with --allow-private-urls."
            )


class VideoFetcher:
    """``fetch(url, work_dir) -> Path``, with a size cap, timeouts and checked redirects."""

    def __init__(self, *, max_bytes: int, allow_private: bool = False, timeout: float = 30.0):
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.timeout = timeout

    def __call__(self, url: str, work_dir: Path) -> Path:
        target = work_dir / "source.video"
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=False) as http:
                for _ in range(MAX_REDIRECTS + 1):
                    check_fetchable(url, allow_private=self.allow_private)
                    with http.stream("GET", url) as response:
                        if response.is_redirect:
                            url = urljoin(url, response.headers.get("location", ""))
                            continue
                        if response.status_code != 200:
                            raise FetchError(f"fetching video_url answered HTTP {response.status_code}; "
                                             "check that the URL is public and points at the video file.")
                        self._save(response, target)
                        return target
        except httpx.HTTPError as exc:
            raise FetchError(f"video_url could not be fetched ({type(exc).__name__}); check the URL and try again.") from None
        raise FetchError("video_url redirected too many times.")

    def _save(self, response: httpx.Response, target: Path) -> None:
        received = 0
        with target.open("wb") as out:
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > self.max_bytes:
                    raise FetchError(f"the video at video_url is over this server's {self.max_bytes / 1e6:g} MB cap.")
                out.write(chunk)
        if received == 0:
            raise FetchError("the video at video_url is empty.")


def fetch_video(url: str, work_dir: Path) -> Path:
    return VideoFetcher(max_bytes=100 * 1024 * 1024)(url, work_dir)
