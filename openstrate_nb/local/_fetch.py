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

from .._contract import size_text

__all__ = ["FetchError", "check_fetchable", "resolve_fetchable", "VideoFetcher"]

MAX_REDIRECTS = 5


class FetchError(Exception):
    """The video_url cannot be fetched; the message says why in one sentence."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve_fetchable(url: str, *, allow_private: bool = False) -> str | None:
    """Check ``url`` and return the address to connect to (None when private ones are allowed).

    Every address the name resolves to must be public; the fetch then connects to the
    checked address itself, so a second DNS answer (rebinding) cannot redirect it.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"video_url must be an http(s) URL, not {url[:80]!r}.")
    if allow_private:
        return None
    try:
        answers = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                     type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchError(f"the host {parts.hostname!r} in video_url could not be resolved.") from None
    addresses = [sockaddr[0] for *_, sockaddr in answers]
    if not addresses or not all(_is_public(address) for address in addresses):
        raise FetchError(
            f"video_url points at a loopback, private or link-local address ({parts.hostname}); "
            "upload the file instead, or start the server with --allow-private-urls."
        )
    return addresses[0]


def check_fetchable(url: str, *, allow_private: bool = False) -> None:
    """Raise FetchError unless ``url`` is http(s) to a public address (or private ones are allowed)."""
    resolve_fetchable(url, allow_private=allow_private)


def _pinned(url: str, address: str | None) -> tuple[str, dict[str, str], dict[str, str]]:
    """``(url with the address in place of the name, headers, extensions)`` for one hop."""
    parts = urlsplit(url)
    if address is None or parts.hostname is None:
        return url, {}, {}
    host = f"[{address}]" if ":" in address else address
    netloc = host + (f":{parts.port}" if parts.port else "")
    headers = {"Host": parts.netloc.rsplit("@", 1)[-1]}
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return parts._replace(netloc=netloc).geturl(), headers, extensions


class VideoFetcher:
    """``fetch(url, work_dir) -> Path``, with a size cap, timeouts and checked redirects."""

    def __init__(self, *, max_bytes: int, allow_private: bool = False, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None):
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.timeout = timeout
        self._transport = transport

    def __call__(self, url: str, work_dir: Path) -> Path:
        target = work_dir / "source.video"
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=False, transport=self._transport) as http:
                for _ in range(MAX_REDIRECTS + 1):
                    address = resolve_fetchable(url, allow_private=self.allow_private)
                    pinned, headers, extensions = _pinned(url, address)
                    request = http.build_request("GET", pinned, headers=headers, extensions=extensions)
                    response = http.send(request, stream=True)
                    try:
                        if response.is_redirect:
                            url = urljoin(url, response.headers.get("location", ""))
                            continue
                        if response.status_code != 200:
                            raise FetchError(f"fetching video_url answered HTTP {response.status_code}; "
                                             "check that the URL is public and points at the video file.")
                        self._save(response, target)
                        return target
                    finally:
                        response.close()
        except httpx.HTTPError as exc:
            raise FetchError(f"video_url could not be fetched ({type(exc).__name__}); check the URL and try again.") from None
        raise FetchError("video_url redirected too many times.")

    def _save(self, response: httpx.Response, target: Path) -> None:
        received = 0
        with target.open("wb") as out:
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > self.max_bytes:
                    raise FetchError(f"the video at video_url is over this server's {size_text(self.max_bytes)} cap.")
                out.write(chunk)
        if received == 0:
            raise FetchError("the video at video_url is empty.")
