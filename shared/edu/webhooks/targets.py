"""SSRF guard for webhook URLs: only public hosts over https. Locally a setting allows
http://127.0.0.1 / localhost (never other private ranges). IPv6 forms that carry an IPv4
address (NAT64, 6to4, Teredo, IPv4-compatible, IPv4-mapped) are judged by the address they
carry. The checked addresses are returned so that the delivery connects to one of them
instead of resolving the name again (a second answer could point inside: DNS rebinding)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Iterable[str]]  # (host, port) -> IP addresses


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")               # RFC 6052, well-known prefix
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")       # RFC 8215: never public
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")            # deprecated, still routed by some


def _carried(address: Address) -> list[Address]:
    """The address and any IPv4 address an IPv6 form carries (::ffff:10.0.0.1 is 10.0.0.1)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return [address]
    carried: list[Address] = [address]
    if address.ipv4_mapped:
        return [address.ipv4_mapped]
    if address.sixtofour:
        carried.append(address.sixtofour)
    if address.teredo:
        carried.append(address.teredo[1])  # the client's address (de-obfuscated)
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):  # not ::, ::1
        carried.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return carried


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address in LOCAL_NAT64:
        return False
    return all(a.is_global and not a.is_multicast for a in _carried(address))


class UnsafeTarget(Exception):
    """The URL may not receive webhooks; the message says why."""


def check_target(url: str, resolve: Resolver, *, allow_loopback: bool) -> list[Address]:
    """The addresses `url` may be delivered to; UnsafeTarget when it may not receive."""
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise UnsafeTarget("the URL must not contain spaces or control characters")
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
        addresses = [ipaddress.ip_address(a) for a in resolve(host, port)]
    except (OSError, ValueError):
        raise UnsafeTarget(f"the host {host!r} does not resolve") from None
    if not addresses:
        raise UnsafeTarget(f"the host {host!r} does not resolve")
    loopback = all(c.is_loopback for a in addresses for c in _carried(a))
    if loopback and allow_loopback:
        return addresses  # a receiver on this machine, allowed by the local setting
    for address in addresses:
        if not _public(address):
            raise UnsafeTarget(f"the host {host!r} is a private or reserved address "
                               f"({address}); webhooks go to public endpoints only")
    if parts.scheme != "https":
        raise UnsafeTarget("the URL must use https://")
    return addresses
