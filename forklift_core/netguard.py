"""Outbound requests to hosts a stranger names: only to public addresses (no SSRF into the host's network)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from forklift_core.errors import BadInputError


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 judged as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def public_address(host: str, port: int) -> str:
    """The first address of a host whose every address is public; BadInputError otherwise."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BadInputError(f"cannot resolve host {host!r}: {exc.strerror}") from exc
    addresses = sorted({info[4][0] for info in infos})
    private = [a for a in addresses if not is_public(a)]
    if private or not addresses:
        raise BadInputError(f"host {host!r} resolves to a private or local address ({', '.join(private)}); refused")
    return addresses[0]


def require_public_url(url: str) -> None:
    """Refuse an http(s) URL whose host is private, loopback or link-local."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise BadInputError(f"the URL {url!r} has no host")
    public_address(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
