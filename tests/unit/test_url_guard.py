"""The URL guard's address table: every spelling of a blocked address is caught."""

from __future__ import annotations

import asyncio
import socket

import pytest

from reelserve.security.urlguard import BlockedUrl, GuardedBackend, check_url, parse_ip_literal

BLOCKED = [
    "http://127.0.0.1/",
    "http://127.255.255.254:8080/x",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://2130706433/",  # decimal
    "http://0x7f000001/",  # hex
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",  # octal
    "http://127.1/",  # short form
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://[::ffff:7f00:1]/",
    "http://[2002:7f00:1::]/",  # 6to4 around loopback
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://[fd00::1]/",  # unique local
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://metadata.google.internal/",
    "http://[fd00:ec2::254]/",
    "http://100.100.100.200/",
    "http://[fe80::1]/",  # link-local
    "http://224.0.0.1/",  # multicast
    "http://[ff02::1]/",
    "http://0.0.0.0/",  # unspecified
    "http://0/",
    "http://[::]/",
    "http://100.64.0.1/",  # shared address space
    "http://240.0.0.1/",  # reserved
]

ALLOWED = [
    "http://example.com/cb",
    "https://8.8.8.8/",
    "http://[2001:4860:4860::8888]/",
    "http://93.184.216.34/",
]


@pytest.mark.parametrize("url", BLOCKED)
def test_blocked_spellings_are_refused(url: str) -> None:
    with pytest.raises(BlockedUrl):
        check_url(url)


@pytest.mark.parametrize("url", ALLOWED)
def test_public_addresses_and_names_pass(url: str) -> None:
    check_url(url)


def test_legacy_ipv4_spellings_parse_to_the_same_address() -> None:
    forms = ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0x7f.1", "127.0.0.1"]
    assert {str(parse_ip_literal(f)) for f in forms} == {"127.0.0.1"}
    assert parse_ip_literal("example.com") is None
    assert parse_ip_literal("1e100.net") is None


def _answers(*addresses: str):  # type: ignore[no-untyped-def]
    async def getaddrinfo(host, port, **_):  # type: ignore[no-untyped-def]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    return getaddrinfo


def test_a_name_resolving_to_a_private_address_is_blocked_at_connect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        monkeypatch.setattr(loop, "getaddrinfo", _answers("93.184.216.34", "10.1.2.3"))
        with pytest.raises(BlockedUrl, match=r"10\.1\.2\.3"):
            await GuardedBackend()._checked_address("rebind.example", 80)

    asyncio.run(run())


def test_a_name_resolving_only_to_public_addresses_connects_to_the_checked_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def run() -> str:
        loop = asyncio.get_running_loop()
        monkeypatch.setattr(loop, "getaddrinfo", _answers("93.184.216.34"))
        return await GuardedBackend()._checked_address("example.com", 80)

    assert asyncio.run(run()) == "93.184.216.34"


def test_an_exempt_address_and_port_passes() -> None:
    async def run() -> str:
        return await GuardedBackend([("127.0.0.1", 8080)])._checked_address("127.0.0.1", 8080)

    assert asyncio.run(run()) == "127.0.0.1"
    with pytest.raises(BlockedUrl):
        asyncio.run(GuardedBackend([("127.0.0.1", 8080)])._checked_address("127.0.0.1", 8081))
