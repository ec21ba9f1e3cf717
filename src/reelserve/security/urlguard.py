"""The outbound URL guard: the server never calls private addresses for a client.

Every URL reelserve fetches or posts to on a client's behalf (`callBackUrl`,
`imageUrl`, `videoUrl`, `fileUrl`, `referenceImage`) could otherwise be used to
reach the server's own network: loopback, private ranges, link-local (cloud
metadata at 169.254.169.254), multicast, unspecified and other non-public
addresses. The guard checks:

- at submit, the URL as written, including the legacy spellings of IPv4 that
  resolvers accept (decimal `2130706433`, hex `0x7f000001`, octal `0177.0.0.1`,
  short `127.1`) and IPv4-mapped IPv6 (`[::ffff:127.0.0.1]`) -> 422;
- at connect time, every address a hostname resolves to, and each hop of a
  redirect (each is a new connection), connecting to the checked address so a
  second DNS answer cannot swap it (DNS rebinding) -> the fetch fails.

`REELSERVE_ALLOW_PRIVATE_URLS=true` lifts it for local development.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

BLOCKED_HOSTNAMES = frozenset(
    {"localhost", "metadata.google.internal", "metadata", "instance-data"}
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


class BlockedUrl(Exception):
    """The URL points at an address the server must not call for a client."""


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host names literally, in any spelling a resolver accepts; else None."""
    host = host.strip().strip("[]")
    if "%" in host:  # IPv6 zone index
        host = host.split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # inet_aton accepts the legacy forms (2130706433, 0x7f.1, 0177.0.0.1, 127.1)
    # that getaddrinfo also accepts; only try it on strings made of those parts.
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def blocked_reason(ip: IPAddress) -> str | None:
    """Why `ip` must not be called, or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return blocked_reason(embedded)
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    )
    for name, hit in checks:
        if hit:
            return f"{'an' if name[0] in 'aeiou' else 'a'} {name} address"
    if not ip.is_global:
        return "not a public address"
    return None


def check_url(url: str) -> None:
    """Raise BlockedUrl if the URL, as written, names a blocked host or address."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        raise BlockedUrl("the URL cannot be parsed") from None
    host = host.rstrip(".").lower()
    _check_name(host)
    ip = parse_ip_literal(host)
    if ip is not None and (reason := blocked_reason(ip)) is not None:
        raise BlockedUrl(f"{host} is {reason}")


def _check_name(host: str) -> None:
    if host in BLOCKED_HOSTNAMES or host.endswith(".localhost"):
        raise BlockedUrl(f"{host} is a local host name")


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every answer, then connects to the checked address.

    `exempt` lists (address, port) pairs that pass anyway: tests use it to let
    a loopback server stand in for a public one.
    """

    def __init__(self, exempt: Iterable[tuple[str, int]] = ()) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._exempt = frozenset(exempt)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await self._checked_address(host, port)
        return await self._inner.connect_tcp(
            address,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def _checked_address(self, host: str, port: int) -> str:
        _check_name(host.rstrip(".").lower())
        literal = parse_ip_literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
            except OSError as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
            addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        for ip in addresses:
            if (str(ip), port) in self._exempt:
                continue
            reason = blocked_reason(ip)
            if reason is not None:
                raise BlockedUrl(f"{host} resolves to {ip}, {reason}")
        return str(addresses[0])

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedUrl("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def outbound_transport(
    allow_private: bool, exempt: Iterable[tuple[str, int]] = ()
) -> httpx.AsyncHTTPTransport:
    """The transport for every client-named URL: guarded unless private URLs are allowed."""
    transport = httpx.AsyncHTTPTransport()
    if not allow_private:
        # httpx does not take a network backend; its pool (httpcore) does.
        transport._pool._network_backend = GuardedBackend(exempt)
    return transport
