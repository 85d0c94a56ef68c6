"""Webhook signatures verify with the snippet published in docs/webhooks.md, and the SSRF
guard refuses every private, reserved or non-https target."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable

import pytest

from edu.webhooks.signing import signature_header
from edu.webhooks.targets import UnsafeTarget, check_target
from tests.support.webhooks import documented_verify


def test_the_documented_snippet_verifies_our_signatures() -> None:
    verify, body, now = documented_verify(), b'{"id":"e1","type":"enrollment.created"}', \
        int(time.time())
    header = signature_header("whsec_abc", now, body)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify("whsec_abc", header, body)
    assert not verify("whsec_other", header, body)
    assert not verify("whsec_abc", header, body + b" ")
    assert not verify("whsec_abc", signature_header("whsec_abc", now - 3600, body), body)
    assert not verify("whsec_abc", "garbage", body)


def resolver(*addresses: str) -> Callable[[str, int], Iterable[str]]:
    return lambda host, port: addresses


@pytest.mark.parametrize("url,addresses", [
    ("https://internal.example/hook", ["10.1.2.3"]),
    ("https://meta.example/latest", ["169.254.169.254"]),
    ("https://lan.example/", ["192.168.0.10"]),
    ("https://corp.example/", ["172.20.0.1"]),
    ("https://v6.example/", ["fd00::1"]),
    ("https://mapped.example/", ["::ffff:10.0.0.1"]),
    ("https://mixed.example/", ["93.184.216.34", "10.0.0.1"]),  # one private answer is enough
    ("https://zero.example/", ["0.0.0.0"]),
    ("https://cgnat.example/", ["100.64.0.1"]),
    ("http://public.example/", ["93.184.216.34"]),  # http to the internet
    ("http://127.0.0.1:8080/hook", ["127.0.0.1"]),  # loopback, not allowed here
    ("ftp://public.example/", ["93.184.216.34"]),
    ("https://user:pw@public.example/", ["93.184.216.34"]),
    # IPv6 forms that carry a private IPv4 address: NAT64, local NAT64, 6to4, IPv4-compatible,
    # Teredo (its client address is stored inverted: 0x5601 ^ 0xffff = 0xa9fe, 169.254)
    ("https://[64:ff9b::a9fe:a9fe]/", ["64:ff9b::a9fe:a9fe"]),
    ("https://[64:ff9b::a00:1]/", ["64:ff9b::a00:1"]),
    ("https://[64:ff9b:1::5db8:d822]/", ["64:ff9b:1::5db8:d822"]),
    ("https://[2002:a9fe:a9fe::]/", ["2002:a9fe:a9fe::"]),
    ("https://[::a9fe:a9fe]/", ["::a9fe:a9fe"]),
    ("https://teredo.example/", ["2001:0:4136:e378:8000:63bf:5601:5601"]),
    # control characters and spaces (urllib would strip CR/LF, http.client refuses them)
    ("https://hooks.example.com/a\r\nX-Injected: 1", ["93.184.216.34"]),
    ("https://hooks.example.com/a b", ["93.184.216.34"]),
])
def test_unsafe_targets_are_refused(url: str, addresses: list[str]) -> None:
    with pytest.raises(UnsafeTarget):
        check_target(url, resolver(*addresses), allow_loopback=False)


def test_public_https_and_local_loopback_are_allowed() -> None:
    check_target("https://hooks.example.com/edu", resolver("93.184.216.34"),
                 allow_loopback=False)
    # NAT64 and 6to4 forms of a public IPv4 address are public too
    assert [str(a) for a in check_target(
        "https://v6only.example/", resolver("64:ff9b::5db8:d822", "2002:5db8:d822::1"),
        allow_loopback=False)] == ["64:ff9b::5db8:d822", "2002:5db8:d822::1"]
    check_target("http://127.0.0.1:9000/hook", resolver("127.0.0.1"), allow_loopback=True)
    check_target("http://localhost:9000/hook", resolver("127.0.0.1", "::1"),
                 allow_loopback=True)
    with pytest.raises(UnsafeTarget):  # the local setting opens loopback, not the LAN
        check_target("http://10.0.0.2/hook", resolver("10.0.0.2"), allow_loopback=True)


def test_unresolvable_hosts_are_refused() -> None:
    def fail(host: str, port: int) -> Iterable[str]:
        raise OSError("no such host")

    with pytest.raises(UnsafeTarget, match="does not resolve"):
        check_target("https://nowhere.invalid/", fail, allow_loopback=False)


def test_the_local_resolver_never_asks_dns() -> None:
    from edu.adapters.http_webhooks import resolve_offline

    assert resolve_offline("127.0.0.1", 80) == ["127.0.0.1"]
    assert resolve_offline("[::1]", 80) == ["::1"]
    assert resolve_offline("localhost", 80) == ["127.0.0.1", "::1"]
    with pytest.raises(OSError, match="only localhost"):
        resolve_offline("hooks.example.com", 443)
