"""The client side of the `reelserve` command: generate, extend, aleph, veo, image, upload,
status, credits, and the `music` group (cli_music.py). Each talks to a server through
the SDK (`reelserve.client`).

Exit codes: 0 done; 1 the server refused or the task failed; 2 usage (bad flag,
no API key, no such file); 124 `--wait` timed out (the task goes on).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from reelserve.client import (
    Client,
    NotFound,
    ReelserveError,
    Task,
    TaskFailed,
    TaskRecord,
    WaitTimeout,
)
from reelserve.client.endpoints import is_url

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
EXIT_FAILED, EXIT_USAGE, EXIT_TIMEOUT = 1, 2, 124

BaseUrlOption = Annotated[
    str,
    typer.Option(
        "--base-url", envvar="REELSERVE_BASE_URL", help="server to talk to", show_envvar=True
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar=["REELSERVE_API_KEY", "KIE_API_KEY"],
        help="API key (REELSERVE_API_KEY or KIE_API_KEY)",
        show_envvar=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]
WaitOption = Annotated[
    bool, typer.Option("--wait", help="show progress until the task ends, then download it")
]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="where to save the video (implies --wait; default <taskId>.mp4)"),
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", min=0.1, help="seconds --wait waits at most")
]
WatermarkOption = Annotated[
    str | None, typer.Option("--watermark", help="text burnt into the bottom-right corner")
]
CallbackOption = Annotated[
    str | None, typer.Option("--callback-url", help="URL the server POSTs to when the task ends")
]
QualityOption = Annotated[str, typer.Option("--quality", help="720p or 1080p")]

_err = Console(stderr=True, highlight=False, soft_wrap=True)


class _Usage(Exception):
    """A mistake on the command line (exit 2)."""


@contextmanager
def _reporting(as_json: bool) -> Iterator[None]:
    """Every failure becomes one line on stderr (and a JSON object with --json) and an exit code."""
    try:
        yield
    except _Usage as exc:
        _fail(str(exc), EXIT_USAGE, as_json, None)
    except WaitTimeout as exc:
        _fail(str(exc), EXIT_TIMEOUT, as_json, exc)
    except TaskFailed as exc:
        _fail(str(exc), EXIT_FAILED, as_json, exc)
    except ReelserveError as exc:
        _fail(f"{exc.message} (code {exc.code})" if exc.code else exc.message, 1, as_json, exc)


def _fail(message: str, code: int, as_json: bool, exc: ReelserveError | None) -> None:
    if as_json:
        detail: dict[str, Any] = {"error": message}
        if exc is not None:
            detail.update(code=exc.code or None, kind=type(exc).__name__)
        typer.echo(json.dumps(detail))
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _client(base_url: str, api_key: str | None) -> Client:
    if not api_key:
        raise _Usage("no API key: pass --api-key or set REELSERVE_API_KEY (or KIE_API_KEY)")
    try:
        return Client(api_key=api_key, base_url=base_url)
    except ValueError as exc:
        raise _Usage(str(exc)) from None


def _source_url(client: Client, flag: str, value: str) -> str:
    """A URL as is; a local file uploaded first (its download URL)."""
    if is_url(value) or value.startswith("data:"):
        return value
    path = Path(value).expanduser()
    if not path.is_file():
        raise _Usage(f"{flag}: no such file, and not an http(s) URL: {value}")
    _err.print(f"uploading {path} …")
    return client.files.upload(path, file_name=path.name).download_url


def _emit(as_json: bool, data: dict[str, Any], plain: Callable[[], None]) -> None:
    if as_json:
        typer.echo(json.dumps(data))
    else:
        plain()


def _record_json(kind: str, record: TaskRecord) -> dict[str, Any]:
    return {
        "taskId": record.task_id,
        "kind": kind,
        "state": record.state,
        "progress": record.progress,
        "videoUrl": record.video_url,
        "coverUrl": record.cover_url,
        "failCode": record.fail_code,
        "failMsg": record.fail_msg,
        "expired": record.expired,
    }


def _watch(task: Task, timeout: float) -> TaskRecord:
    """Wait for the task with a live bar: state, progress, elapsed."""
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[state]:<10}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=_err,
        transient=False,
    ) as progress:
        bar = progress.add_task(task.id[:8], total=100, state="submitted")

        def show(record: TaskRecord) -> None:
            progress.update(bar, completed=round(100 * record.progress), state=record.state)

        return task.wait(timeout=timeout, poll_interval=0.5, on_progress=show)


def _finish(
    task: Task,
    *,
    wait: bool,
    out: Path | None,
    timeout: float,
    as_json: bool,
    suffix: str = ".mp4",
) -> None:
    """After a submit: print the task id, or watch it and download the result."""
    if not (wait or out):
        _emit(as_json, {"taskId": task.id, "kind": task.kind}, lambda: typer.echo(task.id))
        return
    _err.print(f"task {task.id} ({task.kind})")
    record = _watch(task, timeout)
    target = task.download(out or Path(f"{task.id}{suffix}")).resolve()
    data = {**_record_json(task.kind, record), "path": str(target)}
    _emit(as_json, data, lambda: typer.echo(str(target)))


def generate(
    prompt: Annotated[str, typer.Argument(help="what the video shows (1..1800 characters)")],
    duration: Annotated[int, typer.Option("--duration", help="5 or 10 seconds")] = 5,
    quality: QualityOption = "720p",
    ratio: Annotated[
        str | None,
        typer.Option("--ratio", help="16:9, 4:3, 1:1, 3:4 or 9:16 (default 16:9 without --image)"),
    ] = None,
    image: Annotated[
        str | None,
        typer.Option("--image", help="first frame: a local file (uploaded first) or a URL"),
    ] = None,
    watermark: WatermarkOption = None,
    callback_url: CallbackOption = None,
    wait: WaitOption = False,
    out: OutOption = None,
    timeout: TimeoutOption = 600,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Text-to-video, or image-to-video with --image."""
    with _reporting(as_json):
        client = _client(base_url, api_key)
        image_url = _source_url(client, "--image", image) if image else None
        task = client.runway.generate(
            prompt=prompt,
            duration=duration,
            quality=quality,
            aspect_ratio=ratio,
            image_url=image_url,
            watermark=watermark,
            callback_url=callback_url,
        )
        _finish(task, wait=wait, out=out, timeout=timeout, as_json=as_json)


def extend(
    task_id: Annotated[str, typer.Argument(help="a successful Runway task")],
    prompt: Annotated[str, typer.Argument(help="what the next 5 seconds show")],
    quality: QualityOption = "720p",
    watermark: WatermarkOption = None,
    callback_url: CallbackOption = None,
    wait: WaitOption = False,
    out: OutOption = None,
    timeout: TimeoutOption = 600,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add 5 seconds to a video (the result is the whole, longer video)."""
    with _reporting(as_json):
        client = _client(base_url, api_key)
        task = client.runway.extend(
            task_id, prompt=prompt, quality=quality, watermark=watermark, callback_url=callback_url
        )
        _finish(task, wait=wait, out=out, timeout=timeout, as_json=as_json)


def aleph(
    video: Annotated[str, typer.Argument(help="source video: a local file (uploaded) or a URL")],
    prompt: Annotated[str, typer.Argument(help="the transformation to apply")],
    ratio: Annotated[
        str | None,
        typer.Option("--ratio", help="16:9, 9:16, 4:3, 3:4, 1:1 or 21:9 (default: keep)"),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="makes the result repeatable")] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="style image: a local file or a URL")
    ] = None,
    watermark: WatermarkOption = None,
    callback_url: CallbackOption = None,
    wait: WaitOption = False,
    out: OutOption = None,
    timeout: TimeoutOption = 600,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Restyle a video (its first 5 seconds) as the prompt says."""
    with _reporting(as_json):
        client = _client(base_url, api_key)
        video_url = _source_url(client, "VIDEO", video)
        reference_url = _source_url(client, "--reference", reference) if reference else None
        task = client.aleph.generate(
            prompt=prompt,
            video_url=video_url,
            aspect_ratio=ratio,
            seed=seed,
            reference_image=reference_url,
            watermark=watermark,
            callback_url=callback_url,
        )
        _finish(task, wait=wait, out=out, timeout=timeout, as_json=as_json)


def veo(
    prompt: Annotated[str, typer.Argument(help="what the video shows (Veo 3.1, with sound)")],
    model: Annotated[str, typer.Option("--model", help="veo3, veo3_fast or veo3_lite")] = (
        "veo3_fast"
    ),
    ratio: Annotated[str, typer.Option("--ratio", help="16:9, 9:16 or Auto")] = "16:9",
    image: Annotated[
        list[str] | None,
        typer.Option("--image", help="first (and last) frame: local files (uploaded) or URLs"),
    ] = None,
    duration: Annotated[int | None, typer.Option("--duration", help="4, 6 or 8 seconds")] = None,
    callback_url: CallbackOption = None,
    wait: WaitOption = False,
    out: OutOption = None,
    timeout: TimeoutOption = 600,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """A Veo 3.1 video (text-to-video, or from first and last frames with --image)."""
    with _reporting(as_json):
        client = _client(base_url, api_key)
        images = [_source_url(client, "--image", i) for i in image or []]
        task = client.veo.generate(
            prompt,
            model=model,
            aspect_ratio=ratio,
            image_urls=images or None,
            generation_type="FIRST_AND_LAST_FRAMES_2_VIDEO" if images else None,
            duration=duration,
            callback_url=callback_url,
        )
        _finish(task, wait=wait, out=out, timeout=timeout, as_json=as_json)


def image(
    prompt: Annotated[str, typer.Argument(help="what the image shows")],
    family: Annotated[
        str, typer.Option("--family", help="4o (4o Image) or flux (Flux Kontext)")
    ] = "4o",
    ratio: Annotated[
        str | None,
        typer.Option("--ratio", help="4o: 1:1, 3:2, 2:3; flux: its ratio table (default 16:9)"),
    ] = None,
    edit: Annotated[
        str | None, typer.Option("--edit", help="image to edit: a local file (uploaded) or a URL")
    ] = None,
    variants: Annotated[int | None, typer.Option("--variants", help="4o: 1, 2 or 4")] = None,
    output_format: Annotated[
        str | None, typer.Option("--format", help="flux: jpeg (default) or png")
    ] = None,
    callback_url: CallbackOption = None,
    wait: WaitOption = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="where to save the (first) image (implies --wait)"),
    ] = None,
    timeout: TimeoutOption = 600,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """An image with 4o Image or Flux Kontext (an edit with --edit)."""
    with _reporting(as_json):
        if family not in ("4o", "flux"):
            raise _Usage(f"--family: must be 4o or flux, not {family!r}")
        client = _client(base_url, api_key)
        source = _source_url(client, "--edit", edit) if edit else None
        if family == "4o":
            task = client.gpt4o_image.generate(
                prompt,
                size=ratio or "1:1",
                n_variants=variants,
                files_url=[source] if source else None,
                callback_url=callback_url,
            )
            suffix = ".png"
        else:
            task = client.flux_kontext.generate(
                prompt,
                aspect_ratio=ratio,
                output_format=output_format,
                input_image=source,
                callback_url=callback_url,
            )
            suffix = ".png" if output_format == "png" else ".jpg"
        _finish(task, wait=wait, out=out, timeout=timeout, as_json=as_json, suffix=suffix)


def upload(
    file: Annotated[Path, typer.Argument(help="the local file to upload")],
    upload_path: Annotated[
        str, typer.Option("--path", help="folder on the server")
    ] = "reelserve-cli",
    name: Annotated[
        str | None, typer.Option("--name", help="file name on the server (default: the file's)")
    ] = None,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Upload a file; prints its download URL (usable as --image or an Aleph VIDEO)."""
    with _reporting(as_json):
        if not file.is_file():
            raise _Usage(f"FILE: no such file: {file}")
        client = _client(base_url, api_key)
        uploaded = client.files.upload(file, upload_path=upload_path, file_name=name or file.name)
        _emit(as_json, uploaded.raw, lambda: typer.echo(uploaded.download_url))


def status(
    task_id: Annotated[str, typer.Argument(help="any task id (Runway, Aleph or market)")],
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a task's state, progress and result URL."""
    with _reporting(as_json):
        client = _client(base_url, api_key)
        kind, record = _find(client, task_id)

        def plain() -> None:
            typer.echo(f"task      {record.task_id} ({kind})")
            typer.echo(f"state     {record.state}")
            typer.echo(f"progress  {round(100 * record.progress)}%")
            if record.video_url:
                typer.echo(f"video     {record.video_url}")
            if record.failed:
                typer.echo(f"failure   {record.fail_code}: {record.fail_msg}")
            if record.expired:
                typer.echo("expired   its media was deleted after the retention period")

        _emit(as_json, _record_json(kind, record), plain)


def _find(client: Client, task_id: str) -> tuple[str, TaskRecord]:
    """A task id says nothing of its dialect: ask each one (an unknown id is 404 in all)."""
    getters: list[tuple[str, Callable[[str], TaskRecord]]] = [
        ("runway", client.runway.get),
        ("aleph", client.aleph.get),
        ("market", client.jobs.get),
    ]
    for kind, get in getters:
        try:
            return kind, get(task_id)
        except NotFound:
            continue
    raise NotFound(f"no task {task_id} for this key", code=404)


def credits(
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the key's remaining credits."""
    with _reporting(as_json):
        balance = _client(base_url, api_key).credits()
        _emit(as_json, {"credits": balance}, lambda: typer.echo(str(balance)))


def register(app: typer.Typer) -> None:
    """Add the client commands to the `reelserve` command."""
    from reelserve.cli_music import music_app

    for command in (generate, extend, aleph, veo, image, upload, status, credits):
        app.command()(command)
    app.add_typer(music_app, name="music")
