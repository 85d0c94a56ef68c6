"""SSRF guard for webhook URLs: only public hosts over https. Locally a setting allows
http://127.0.0.1 / localhost (never other private ranges)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Iterable[str]]  # (host, port) -> IP addresses


def _unmapped(address: ipaddress.IPv4Address | ipaddress.IPv6Address
              ) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """::ffff:10.0.0.1 is 10.0.0.1."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class UnsafeTarget(Exception):
    """The URL may not receive webhooks; the message says why."""


def check_target(url: str, resolve: Resolver, *, allow_loopback: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise UnsafeTarget("the URL must start with https://")
    if parts.username or parts.password:
        raise UnsafeTarget("the URL must not carry credentials")
    host = parts.hostname
    if not host:
        raise UnsafeTarget("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeTarget("the URL's port is not valid") from None
    try:
        addresses = [_unmapped(ipaddress.ip_address(a)) for a in resolve(host, port)]
    except (OSError, ValueError):
        raise UnsafeTarget(f"the host {host!r} does not resolve") from None
    if not addresses:
        raise UnsafeTarget(f"the host {host!r} does not resolve")
    loopback = all(a.is_loopback for a in addresses)
    if loopback and allow_loopback:
        return  # a receiver on this machine, allowed by the local setting
    for address in addresses:
        if not address.is_global or address.is_multicast:
            raise UnsafeTarget(f"the host {host!r} is a private or reserved address "
                               f"({address}); webhooks go to public endpoints only")
    if parts.scheme != "https":
        raise UnsafeTarget("the URL must use https://")
