"""The operator console in a real headless Chromium (Debian's `chromium`, driven by
Playwright): log in, watch a running task's progress move, play a finished task's video,
see an image and an audio artifact, redeliver a failed callback, create a key and use it,
and have a form without its CSRF token refused. Screenshots go to test-artifacts/console/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.chromium import chromium_path
from tests.receivers import Receiver, Reply
from tests.support import RunningServer, run_server

TOKEN = "admin-token-for-the-browser-test"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
VERSION = {"X-Runway-Version": "2024-11-06"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as rx:
        yield rx


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with run_server(
        tmp_path_factory.mktemp("console"),
        admin_token=TOKEN,
        engine_plugins="slow=tests.engines_for_tests:SlowSyntheticEngine",
        routes="text_to_video=slow;*=synthetic",
        callback_retry_delays=(600.0,),
    ) as running:
        yield running


@pytest.fixture(scope="module")
def browser(server: RunningServer) -> Iterator[Browser]:
    """Started after the server: Playwright's sync API holds an event loop in this thread,
    and the server's set-up runs its own (asyncio.run) first."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: RunningServer) -> Iterator[Page]:
    context = browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    log_in(opened)
    yield opened
    context.close()


def log_in(page: Page, token: str = TOKEN) -> None:
    page.goto("/console/tasks")
    assert page.url.endswith("/console/login?next=/console/tasks")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def submit_video(server: RunningServer, **extra: Any) -> str:
    body = {"prompt": "a paper boat", "duration": 10, "quality": "720p", "aspectRatio": "16:9"}
    answer = server.client("alice").post("/api/v1/runway/generate", json={**body, **extra})
    return str(answer.json()["data"]["taskId"])


def status_of(server: RunningServer, task_id: str) -> str:
    answer = server.client("alice").get("/api/v1/tasks/detail", params={"taskId": task_id})
    return str(answer.json()["data"]["status"])


def wait_until(check: Any, timeout: float = 60, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_wrong_token_is_refused_and_the_right_one_logs_in(
    browser: Browser, server: RunningServer
) -> None:
    context = browser.new_context(base_url=server.base_url)
    page = context.new_page()
    log_in(page, "not-the-token")
    assert page.locator(".error").inner_text() == "That is not the admin token."
    shot(page, "login-refused")
    page.fill("input[name=token]", TOKEN)
    page.click("button[type=submit]")
    assert page.url.endswith("/console/tasks")
    cookie = next(c for c in context.cookies() if c["name"] == "reelserve_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    context.close()


def test_a_running_tasks_progress_moves_then_its_video_plays(
    page: Page, server: RunningServer
) -> None:
    task_id = submit_video(server)
    wait_until(lambda: status_of(server, task_id) == "running", what="the task to run")
    page.goto("/console/tasks")
    row = page.locator(f"tr[data-task='{task_id}']")
    bar = row.locator("progress")
    seen: set[float] = set()

    def moved() -> bool:
        seen.add(float(bar.evaluate("b => b.value")))
        return len({v for v in seen if 0 < v < 100}) >= 2

    wait_until(moved, 30, "the progress bar to move")
    shot(page, "tasks-running")
    assert row.locator("[data-status]").inner_text() == "running"
    wait_until(lambda: row.locator("[data-status]").inner_text() == "succeeded", 60, "success")
    page.click(f"a[href='/console/tasks/{task_id}']")
    video = page.locator("video")
    video.evaluate("v => { v.muted = true; return v.play(); }")
    wait_until(lambda: video.evaluate("v => v.readyState") >= 2, 20, "the video to load")
    wait_until(lambda: video.evaluate("v => v.currentTime") > 0.2, 20, "the video to play")
    assert video.evaluate("v => v.duration") == pytest.approx(10.0, abs=0.1)
    video.evaluate("v => { v.currentTime = 7.5; }")  # seeking
    wait_until(lambda: video.evaluate("v => v.currentTime") >= 7.5, 20, "the seek")
    shot(page, "task-video")


def test_an_image_and_an_audio_artifact_show_on_their_task_pages(
    page: Page, server: RunningServer
) -> None:
    client = server.client("alice")
    image = client.post(
        "/v1/text_to_image",
        json={"model": "gen4_image", "promptText": "a kite", "ratio": "720:720"},
        headers=VERSION,
    ).json()["id"]
    audio = client.post(
        "/v1/sound_effect",
        json={"model": "eleven_text_to_sound_v2", "promptText": "rain", "duration": 2},
        headers=VERSION,
    ).json()["id"]
    for task_id in (image, audio):
        wait_until(lambda t=task_id: status_of(server, t) == "succeeded", 60, "the task")
    page.goto(f"/console/tasks/{image}")
    img = page.locator("figure[data-kind=image] img")
    wait_until(lambda: img.evaluate("i => i.complete && i.naturalWidth") == 720, 20, "the image")
    shot(page, "task-image")
    page.goto(f"/console/tasks/{audio}")
    player = page.locator("audio")
    wait_until(lambda: player.evaluate("a => a.readyState") >= 1, 20, "the audio metadata")
    assert player.evaluate("a => a.duration") == pytest.approx(2.0, abs=0.2)
    shot(page, "task-audio")


def test_a_failed_callback_is_redelivered_and_the_new_attempt_shows(
    page: Page, server: RunningServer, receiver: Receiver
) -> None:
    url = receiver.script("/console-cb", Reply(500, body=b"receiver broke"), Reply(200))
    task_id = submit_video(server, callBackUrl=url, duration=5)
    receiver.wait_for("/console-cb", 1, timeout=90)
    page.goto(f"/console/tasks/{task_id}")
    first = page.locator(".delivery").first

    def failure_shown() -> bool:
        # The receiver has the request before the sender records its answer: reload until
        # the attempt is stored (the page does not live-update deliveries).
        page.reload()
        rows = first.locator("tr.attempt")
        return rows.count() > 0 and "500" in rows.first.inner_text()

    wait_until(failure_shown, 20, "the 500")
    assert "receiver broke" in first.locator("tr.attempt").first.inner_text()
    first.locator("button", has_text="Redeliver").click()
    receiver.wait_for("/console-cb", 2)

    def delivered() -> bool:
        page.reload()
        cards = page.locator(".delivery")
        return cards.count() == 2 and cards.nth(1).locator(".badge").inner_text() == "delivered"

    wait_until(delivered, 20, "the redelivery")
    assert "200" in page.locator(".delivery").nth(1).locator("tr.attempt").inner_text()
    shot(page, "task-callbacks")


def test_a_key_created_in_the_console_works_over_the_api_and_is_never_shown_again(
    page: Page, server: RunningServer
) -> None:
    page.goto("/console/keys")
    page.fill("#new-key input[name=name]", "from-the-console")
    page.fill("#new-key input[name=credits]", "50")
    page.click("#new-key button[type=submit]")
    secret = page.locator("[data-new-key]").inner_text().strip()
    shot(page, "key-created")
    answer = httpx.get(
        f"{server.base_url}/api/v1/chat/credit", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.json()["data"] == 50
    page.goto("/console/keys")
    assert secret not in page.content()
    assert page.locator("tr[data-key='from-the-console'] [data-credits]").inner_text() == "50"


def test_a_form_without_its_csrf_token_is_refused(page: Page, server: RunningServer) -> None:
    page.goto("/console/keys")
    page.fill("#new-key input[name=name]", "forged")
    page.evaluate("document.querySelector('#new-key input[name=csrf]').remove()")
    page.click("#new-key button[type=submit]")
    assert "Form refused" in page.locator("h1").inner_text()
    shot(page, "csrf-refused")
    page.goto("/console/keys")
    assert page.locator("tr[data-key='forged']").count() == 0


def test_pages_fit_a_phone_screen(browser: Browser, server: RunningServer) -> None:
    context = browser.new_context(
        base_url=server.base_url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = context.new_page()
    log_in(phone)
    for path in ("/console/tasks", "/console/keys", "/console/system"):
        phone.goto(path)
        width = phone.evaluate("document.body.scrollWidth")
        assert width <= 390, (path, width)
    shot(phone, "phone-tasks")
    context.close()
