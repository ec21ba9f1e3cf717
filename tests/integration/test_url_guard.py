"""The outbound URL guard (issue 4, Build 5), both at submit and at fetch time.

At submit, with the guard on, every spelling of a non-public address is a 422
naming the field. At fetch time, a hostname is checked on every DNS answer and
every redirect hop. Loopback servers stand in for public ones through
`create_app(outbound_exempt=...)`, reached by names that a stub resolver maps to
127.0.0.1 (a literal 127.0.0.1 would be refused at submit, as it should).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reelserve.security.urlguard import BlockedUrl, GuardedBackend
from tests.receivers import Receiver, Reply
from tests.support import RunningServer, png_bytes, run_server_with, wait_for_task

BLOCKED = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://2130706433/",  # decimal
    "http://0x7f000001/",  # hex
    "http://0177.0.0.1/",  # octal
    "http://127.1/",  # short form
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/",  # cloud metadata
    "http://[fe80::1]/",  # link-local
    "http://224.0.0.1/",  # multicast
    "http://0.0.0.0/",  # unspecified
    "http://100.64.0.1/",  # carrier-grade NAT, shared address space
]
PNG = png_bytes(320, 180)
PUBLIC_A = "public-a.test"  # a stub resolver maps these to 127.0.0.1
PUBLIC_B = "public-b.test"


def body(**extra: Any) -> dict[str, Any]:
    return {"prompt": "A harbour", "duration": 5, "quality": "720p", "aspectRatio": "16:9", **extra}


# -- at submit -------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded_api(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[RunningServer]:
    """Guard on, no worker: only what submit decides is under test."""
    with run_server_with(
        tmp_path_factory.mktemp("guard-submit"),
        {"alice": None},
        run_worker=False,
        backend=backend,
        allow_private_urls=False,
    ) as running:
        yield running


@pytest.mark.parametrize("field", ["callBackUrl", "imageUrl"])
@pytest.mark.parametrize("url", BLOCKED)
def test_a_non_public_address_is_refused_at_submit_naming_the_field(
    guarded_api: RunningServer, url: str, field: str
) -> None:
    answer = guarded_api.client().post("/api/v1/runway/generate", json=body(**{field: url})).json()

    assert answer["code"] == 422, answer
    assert field in answer["msg"], answer
    assert answer["data"] is None


@pytest.mark.parametrize(
    ("field", "url"),
    [("callBackUrl", "http://example.com/cb"), ("imageUrl", "http://example.com/cat.png")],
)
def test_a_public_url_is_accepted_at_submit(
    guarded_api: RunningServer, field: str, url: str
) -> None:
    answer = guarded_api.client().post("/api/v1/runway/generate", json=body(**{field: url})).json()

    assert answer["code"] == 200, answer
    assert answer["data"]["taskId"]


# -- the connect-time check, with a stub resolver ------------------------------------------


def stub_answers(*addresses: str) -> Any:
    async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        out = []
        for a in addresses:
            family = socket.AF_INET6 if ":" in a else socket.AF_INET
            sockaddr = (a, port, 0, 0) if ":" in a else (a, port)
            out.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return out

    return getaddrinfo


async def test_a_name_that_resolves_to_loopback_is_blocked_when_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", stub_answers("127.0.0.1"))
    with pytest.raises(BlockedUrl, match=r"rebind\.example.*127\.0\.0\.1"):
        await GuardedBackend()._checked_address("rebind.example", 80)


@pytest.mark.parametrize(
    "answers",
    [
        ("93.184.216.34", "10.0.0.5"),  # one bad answer among good ones
        ("::ffff:169.254.169.254",),  # metadata, IPv4-mapped
        ("fe80::1",),
        ("100.64.0.7",),
    ],
)
async def test_every_dns_answer_is_checked(
    monkeypatch: pytest.MonkeyPatch, answers: tuple[str, ...]
) -> None:
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", stub_answers(*answers))
    with pytest.raises(BlockedUrl):
        await GuardedBackend()._checked_address("cdn.example", 443)


async def test_a_public_answer_is_the_address_connected_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", stub_answers("93.184.216.34"))
    assert await GuardedBackend()._checked_address("cdn.example", 443) == "93.184.216.34"


async def test_an_exempt_address_and_port_pass_but_only_on_that_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", stub_answers("127.0.0.1"))
    backend = GuardedBackend(exempt=[("127.0.0.1", 8080)])
    assert await backend._checked_address("stand-in.example", 8080) == "127.0.0.1"
    with pytest.raises(BlockedUrl):
        await backend._checked_address("stand-in.example", 8081)


# -- at fetch time, through a real server -------------------------------------------------


@pytest.fixture(scope="module")
def stand_in() -> Iterator[Receiver]:
    """Server A: plays a public host (exempted)."""
    with Receiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def internal() -> Iterator[Receiver]:
    """Server B: an internal service the guard must protect (not exempted)."""
    with Receiver() as receiver:
        receiver.script("/img.png", Reply(200, {"Content-Type": "image/png"}, body=PNG))
        receiver.script("/cb", Reply(200))
        yield receiver


@pytest.fixture
def stub_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolve the two test names to loopback, for the server (same process) only."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in (PUBLIC_A, PUBLIC_B):
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="module")
def guarded(
    tmp_path_factory: pytest.TempPathFactory, stand_in: Receiver, internal: Receiver
) -> Iterator[RunningServer]:
    with run_server_with(
        tmp_path_factory.mktemp("guard-fetch"),
        {"alice": None},
        allow_private_urls=False,
        outbound_exempt=(("127.0.0.1", stand_in.port),),
        callback_retry_delays=(0.2, 0.4, 0.6),
        callback_timeout_s=2.0,
        worker_poll_s=0.1,
        loop="asyncio",  # resolves through socket.getaddrinfo, which stub_dns replaces
    ) as running:
        yield running


def run_task(server: RunningServer, **extra: Any) -> tuple[str, dict[str, Any]]:
    client = server.client()
    answer = client.post("/api/v1/runway/generate", json=body(**extra)).json()
    assert answer["code"] == 200, answer
    task_id = answer["data"]["taskId"]
    return task_id, wait_for_task(client, task_id, 60)


def final_deliveries(server: RunningServer, task_id: str) -> list[dict[str, Any]]:
    client = server.client()
    deadline = time.monotonic() + 20
    while True:
        data = client.get("/api/v1/callbacks", params={"taskId": task_id}).json()["data"]
        if data and all(d["state"] != "pending" for d in data):
            return list(data)
        assert time.monotonic() < deadline, data
        time.sleep(0.05)


@pytest.mark.usefixtures("stub_dns")
def test_the_exempt_stand_in_serves_an_image_so_the_guard_is_what_blocks_the_rest(
    guarded: RunningServer, stand_in: Receiver
) -> None:
    stand_in.script("/direct.png", Reply(200, {"Content-Type": "image/png"}, body=PNG))
    _, record = run_task(guarded, imageUrl=f"http://{PUBLIC_A}:{stand_in.port}/direct.png")

    assert record["state"] == "success", record


@pytest.mark.usefixtures("stub_dns")
def test_an_image_url_whose_name_resolves_to_loopback_fails_at_fetch_time(
    guarded: RunningServer, internal: Receiver
) -> None:
    before = len(internal.received())
    _, record = run_task(guarded, imageUrl=f"http://{PUBLIC_B}:{internal.port}/img.png")

    assert record["state"] == "fail"
    assert record["failCode"] == 400
    assert record["failMsg"].startswith("Get image info failed")
    assert "127.0.0.1" in record["failMsg"]
    assert len(internal.received()) == before, "the internal server was never contacted"


def test_a_machine_name_from_the_hosts_file_that_is_loopback_is_blocked(
    guarded: RunningServer, internal: Receiver
) -> None:
    name = socket.gethostname()
    try:
        resolved = {i[4][0] for i in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    except OSError:
        pytest.skip(f"{name} does not resolve here")
    if not all(ipaddress.ip_address(a).is_loopback for a in resolved):
        pytest.skip(f"{name} resolves to {resolved}, not loopback")
    before = len(internal.received())
    _, record = run_task(guarded, imageUrl=f"http://{name}:{internal.port}/img.png")

    assert record["state"] == "fail"
    assert record["failMsg"].startswith("Get image info failed")
    assert "loopback" in record["failMsg"]
    assert len(internal.received()) == before


@pytest.mark.usefixtures("stub_dns")
@pytest.mark.parametrize("target_host", ["127.0.0.1", PUBLIC_B])
def test_a_redirect_to_an_internal_address_fails_the_image_fetch(
    guarded: RunningServer, stand_in: Receiver, internal: Receiver, target_host: str
) -> None:
    path = f"/redirect-{target_host}"
    stand_in.script(path, Reply(302, {"Location": f"http://{target_host}:{internal.port}/img.png"}))
    before = len(internal.received())
    _, record = run_task(guarded, imageUrl=f"http://{PUBLIC_A}:{stand_in.port}{path}")

    assert len(stand_in.received(path)) == 1, "the first hop (exempt) was fetched"
    assert record["state"] == "fail"
    assert record["failCode"] == 400
    assert record["failMsg"].startswith("Get image info failed")
    assert "127.0.0.1" in record["failMsg"], "the message names the blocked address"
    assert len(internal.received()) == before, "the redirect was not followed to B"


@pytest.mark.usefixtures("stub_dns")
def test_a_callback_to_the_exempt_stand_in_is_delivered(
    guarded: RunningServer, stand_in: Receiver
) -> None:
    url = stand_in.script("/cb", Reply(200)).replace("127.0.0.1", PUBLIC_A)
    missing = stand_in.script("/missing.png", Reply(404)).replace("127.0.0.1", PUBLIC_A)
    task_id, _ = run_task(guarded, imageUrl=missing, callBackUrl=url)  # fails fast
    (delivery,) = final_deliveries(guarded, task_id)

    assert delivery["state"] == "delivered", delivery["attempts"]
    assert [a["httpStatus"] for a in delivery["attempts"]] == [200]
    (request,) = stand_in.received("/cb")
    assert request.json()["data"]["task_id"] == task_id


@pytest.mark.usefixtures("stub_dns")
def test_a_callback_whose_name_resolves_to_an_internal_address_is_blocked_for_good(
    guarded: RunningServer, internal: Receiver
) -> None:
    before = len(internal.received("/cb"))
    task_id, _ = run_task(guarded, callBackUrl=f"http://{PUBLIC_B}:{internal.port}/cb")
    (delivery,) = final_deliveries(guarded, task_id)

    assert delivery["state"] == "failed"
    (attempt,) = delivery["attempts"]
    assert attempt["httpStatus"] is None
    assert attempt["error"].startswith("blocked")
    assert "127.0.0.1" in attempt["error"]
    assert len(internal.received("/cb")) == before


# -- with the guard lifted -----------------------------------------------------------------


def test_with_private_urls_allowed_the_same_redirect_is_followed(
    server: RunningServer, stand_in: Receiver, internal: Receiver
) -> None:
    assert server.settings.allow_private_urls
    stand_in.script("/to-b", Reply(302, {"Location": f"{internal.base_url}/img.png"}))
    before = len(internal.received("/img.png"))
    _, record = run_task(server, imageUrl=f"{stand_in.base_url}/to-b")

    assert record["state"] == "success", record
    assert len(internal.received("/img.png")) == before + 1
    assert httpx.get(record["videoInfo"]["videoUrl"], timeout=30).status_code == 200
