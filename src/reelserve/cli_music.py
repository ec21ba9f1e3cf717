"""`reelserve music`: Suno songs from the terminal (kie-families.md §6), through the SDK.

    reelserve music generate "a song about rain" --wait          # two MP3s and covers in .
    reelserve music generate --lyrics song.txt --style "synth pop" --title Rain --out songs/
    reelserve music extend AUDIO_ID --continue-at 20 --wait
    reelserve music wav|stems|video TASK_ID AUDIO_ID --wait
    reelserve music lyrics "a song about rain" --wait
    reelserve music status TASK_ID

`--wait` shows the stage (PENDING → TEXT_SUCCESS → FIRST_SUCCESS → SUCCESS) on
stderr, then saves the files into `--out` (a directory, default the current one;
giving it implies `--wait`) and prints each path; `--json` prints the record
and the files as one JSON object instead. KIE requires `callBackUrl` for most
Suno endpoints: pass `--callback-url` or set `REELSERVE_CALLBACK_URL`.
Exit codes as the other client commands: 0, 1 refused or failed, 2 usage, 124 timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from reelserve.cli_client import (
    DEFAULT_BASE_URL,
    ApiKeyOption,
    BaseUrlOption,
    JsonOption,
    TimeoutOption,
    WaitOption,
    _client,
    _emit,
    _err,
    _reporting,
    _Usage,
)
from reelserve.client import (
    Client,
    LyricsRecord,
    MusicRecord,
    MusicTask,
    StemsRecord,
    Task,
    TaskRecord,
    ValidationError,
)
from reelserve.client.tasks import track_files
from reelserve.client.waiting import Until

music_app = typer.Typer(
    help="Suno songs: generate, extend, lyrics, WAV, stems, music video.", no_args_is_help=True
)

CallbackOption = Annotated[
    str | None,
    typer.Option(
        "--callback-url",
        envvar="REELSERVE_CALLBACK_URL",
        help="URL the server POSTs each stage to (KIE requires one for most Suno endpoints)",
        show_envvar=True,
    ),
]
OutDirOption = Annotated[
    Path | None,
    typer.Option("--out", help="directory to save the files in (implies --wait; default .)"),
]
ModelOption = Annotated[
    str, typer.Option("--model", help="V4, V4_5, V4_5PLUS, V4_5ALL, V5, V5_5 (or V3_5)")
]
LyricsFileOption = Annotated[
    Path | None, typer.Option("--lyrics", help="file of lyrics to sing (custom mode)")
]
LyricsTextOption = Annotated[
    str | None, typer.Option("--lyrics-text", help="lyrics to sing, inline (custom mode)")
]
StyleOption = Annotated[str | None, typer.Option("--style", help="e.g. 'synth pop, 110 bpm'")]
TitleOption = Annotated[str | None, typer.Option("--title", help="the song's title")]


@contextmanager
def _music_reporting(as_json: bool) -> Iterator[None]:
    """The client commands' reporting, with a hint when the server asks for a callback URL."""
    with _reporting(as_json):
        try:
            yield
        except ValidationError as exc:
            if exc.field == "callBackUrl":
                exc.message = f"{exc.message} — pass --callback-url or set REELSERVE_CALLBACK_URL"
            raise


def _lyrics(file: Path | None, text: str | None) -> str | None:
    if file is not None and text is not None:
        raise _Usage("--lyrics and --lyrics-text: give one of them")
    if file is None:
        return text
    if not file.is_file():
        raise _Usage(f"--lyrics: no such file: {file}")
    return file.read_text(encoding="utf-8")


def _stage(record: TaskRecord) -> str:
    """The family's own word for where the task is (status or successFlag)."""
    word = getattr(record, "status", None) or getattr(record, "success_flag", None)
    return str(word) if word not in (None, "") else record.state


def _watch(task: Task, timeout: float, until: Until = "complete") -> TaskRecord:
    """Wait with a live bar, and a line on stderr at each new stage."""
    seen: list[str] = []
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[stage]:<14}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=_err,
        transient=False,
    ) as progress:
        bar = progress.add_task(task.id[:13], total=100, stage="submitted")

        def show(record: TaskRecord) -> None:
            stage = _stage(record)
            if not seen or seen[-1] != stage:
                seen.append(stage)
                progress.console.print(f"{task.id}: {stage}")
            progress.update(bar, completed=round(100 * record.progress), stage=stage)

        return task.wait(timeout=timeout, poll_interval=0.5, on_progress=show, until=until)


def _saved(
    task: Task,
    record: TaskRecord,
    files: list[Path],
    as_json: bool,
    plain: Callable[[], None] | None = None,
) -> None:
    """Print the saved files (one path a line), or the record and files as JSON."""
    data: dict[str, Any] = {
        "taskId": task.id,
        "kind": task.kind,
        "state": record.state,
        "stage": _stage(record),
        "files": [str(f) for f in files],
        "record": record.raw,
    }

    def lines() -> None:
        if plain is not None:
            plain()
        for path in files:
            typer.echo(str(path))

    _emit(as_json, data, lines)


def _submitted(task: Task, as_json: bool) -> None:
    _emit(as_json, {"taskId": task.id, "kind": task.kind}, lambda: typer.echo(task.id))


def _finish_song(
    client: Client,
    task: MusicTask,
    *,
    wait: bool,
    out: Path | None,
    first: bool,
    covers: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """After a song's submit: its id, or its stages and then its tracks saved."""
    if not (wait or out or first):
        _submitted(task, as_json)
        return
    record = _watch(task, timeout, "first" if first else "complete")
    assert isinstance(record, MusicRecord)
    directory = (out or Path(".")).resolve()
    files = [client.download(url, path) for url, path in track_files(record, directory, covers)]
    _saved(task, record, files, as_json)


def _finish_file(
    client: Client,
    task: Task,
    *,
    wait: bool,
    out: Path | None,
    timeout: float,
    as_json: bool,
    name: Callable[[TaskRecord], list[tuple[str, str]]],
) -> None:
    """After a WAV, stems or video submit: its id, or its wait and then its files
    (`name` gives each (URL, file name) of the finished record)."""
    if not (wait or out):
        _submitted(task, as_json)
        return
    record = _watch(task, timeout)
    directory = (out or Path(".")).resolve()
    files = [client.download(url, directory / file) for url, file in name(record)]
    _saved(task, record, files, as_json)


def _suffix(url: str, default: str) -> str:
    tail = url.split("?", 1)[0].rsplit("/", 1)[-1]
    return "." + tail.rsplit(".", 1)[-1] if "." in tail else default


@music_app.command()
def generate(
    prompt: Annotated[
        str | None,
        typer.Argument(help="what the song is about (≤ 500 characters; not with --lyrics)"),
    ] = None,
    lyrics: LyricsFileOption = None,
    lyrics_text: LyricsTextOption = None,
    style: StyleOption = None,
    title: TitleOption = None,
    instrumental: Annotated[bool, typer.Option("--instrumental", help="no vocals")] = False,
    model: ModelOption = "V4_5",
    negative_tags: Annotated[
        str | None, typer.Option("--negative-tags", help="styles to avoid")
    ] = None,
    vocal_gender: Annotated[
        str | None, typer.Option("--vocal-gender", help="m or f (custom mode)")
    ] = None,
    persona: Annotated[
        str | None, typer.Option("--persona", help="a persona id (custom mode)")
    ] = None,
    callback_url: CallbackOption = None,
    wait: WaitOption = False,
    first: Annotated[
        bool, typer.Option("--first", help="stop at FIRST_SUCCESS: save the first track only")
    ] = False,
    out: OutDirOption = None,
    covers: Annotated[
        bool, typer.Option("--covers/--no-covers", help="save each track's cover art too")
    ] = True,
    timeout: TimeoutOption = 600,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Two songs from a description, or from your lyrics.

    Custom mode: --lyrics (or --lyrics-text) with --style and --title; --instrumental
    with --style and --title for no vocals."""
    with _music_reporting(as_json):
        sung = _lyrics(lyrics, lyrics_text)
        custom = sung is not None or style is not None or title is not None
        if sung is not None and prompt is not None:
            raise _Usage("PROMPT is a description; with --lyrics give --style and --title")
        if sung is not None and instrumental:
            raise _Usage("--instrumental has no lyrics: drop --lyrics/--lyrics-text")
        if custom and not instrumental and sung is None:
            raise _Usage("--style/--title mean custom mode: give --lyrics or --instrumental")
        if not custom and not prompt:
            raise _Usage("PROMPT: say what the song is about (or give --lyrics)")
        client = _client(base_url, api_key)
        task = client.suno.generate(
            sung if sung is not None else prompt or "",
            style=style,
            title=title,
            custom_mode=custom,
            instrumental=instrumental,
            model=model,
            callback_url=callback_url,
            negative_tags=negative_tags,
            vocal_gender=vocal_gender,
            persona_id=persona,
        )
        _finish_song(
            client,
            task,
            wait=wait,
            out=out,
            first=first,
            covers=covers,
            timeout=timeout,
            as_json=as_json,
        )


@music_app.command()
def extend(
    audio_id: Annotated[str, typer.Argument(help="the track to continue (a track's id)")],
    continue_at: Annotated[
        float | None,
        typer.Option("--continue-at", help="seconds into the track to continue from"),
    ] = None,
    lyrics: LyricsFileOption = None,
    lyrics_text: LyricsTextOption = None,
    style: StyleOption = None,
    title: TitleOption = None,
    model: Annotated[
        str, typer.Option("--model", help="must be the source track's model")
    ] = "V4_5",
    callback_url: CallbackOption = None,
    wait: WaitOption = False,
    first: Annotated[
        bool, typer.Option("--first", help="stop at FIRST_SUCCESS: save the first track only")
    ] = False,
    out: OutDirOption = None,
    covers: Annotated[
        bool, typer.Option("--covers/--no-covers", help="save each track's cover art too")
    ] = True,
    timeout: TimeoutOption = 600,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Continue a track (two new songs).

    With --style and --title (and --continue-at, --lyrics) the extension has its own
    lyrics, style and title; without them it inherits the source's."""
    with _music_reporting(as_json):
        sung = _lyrics(lyrics, lyrics_text)
        client = _client(base_url, api_key)
        task = client.suno.extend(
            audio_id,
            prompt=sung or "",
            continue_at=continue_at,
            style=style,
            title=title,
            model=model,
            callback_url=callback_url,
        )
        _finish_song(
            client,
            task,
            wait=wait,
            out=out,
            first=first,
            covers=covers,
            timeout=timeout,
            as_json=as_json,
        )


@music_app.command()
def lyrics(
    prompt: Annotated[str, typer.Argument(help="what the lyrics are about")],
    callback_url: CallbackOption = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = 600,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Two lyric sheets (no audio); with --wait, printed."""
    with _music_reporting(as_json):
        client = _client(base_url, api_key)
        task = client.suno.lyrics(prompt, callback_url=callback_url)
        if not wait:
            _submitted(task, as_json)
            return
        record = _watch(task, timeout)
        assert isinstance(record, LyricsRecord)

        def sheets() -> None:
            for sheet in record.sheets:
                typer.echo(f"# {sheet.title}\n{sheet.text}\n")

        _saved(task, record, [], as_json, sheets)


def _one_file(default_suffix: str, audio_id: str) -> Callable[[TaskRecord], list[tuple[str, str]]]:
    def name(record: TaskRecord) -> list[tuple[str, str]]:
        url = record.video_url
        return [(url, f"{audio_id}{_suffix(url, default_suffix)}")] if url else []

    return name


@music_app.command()
def wav(
    task_id: Annotated[str, typer.Argument(help="the song task")],
    audio_id: Annotated[str, typer.Argument(help="the track (its id)")],
    callback_url: CallbackOption = None,
    wait: WaitOption = False,
    out: OutDirOption = None,
    timeout: TimeoutOption = 600,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """A track as WAV (saved as <audio id>.wav)."""
    with _music_reporting(as_json):
        client = _client(base_url, api_key)
        task = client.suno.wav(task_id, audio_id, callback_url=callback_url)
        _finish_file(
            client,
            task,
            wait=wait,
            out=out,
            timeout=timeout,
            as_json=as_json,
            name=_one_file(".wav", audio_id),
        )


@music_app.command()
def stems(
    task_id: Annotated[str, typer.Argument(help="the song task")],
    audio_id: Annotated[str, typer.Argument(help="the track (its id)")],
    split: Annotated[
        bool,
        typer.Option("--split", help="up to 12 instruments (split_stem), not vocal+instrumental"),
    ] = False,
    callback_url: CallbackOption = None,
    wait: WaitOption = False,
    out: OutDirOption = None,
    timeout: TimeoutOption = 600,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """A track's stems (saved as <audio id>-<stem>.mp3)."""
    with _music_reporting(as_json):
        client = _client(base_url, api_key)
        kind = "split_stem" if split else "separate_vocal"
        task = client.suno.stems(task_id, audio_id, kind, callback_url=callback_url)

        def names(record: TaskRecord) -> list[tuple[str, str]]:
            assert isinstance(record, StemsRecord)
            return [
                (url, f"{audio_id}-{stem}{_suffix(url, '.mp3')}")
                for stem, url in record.stems.items()
            ]

        _finish_file(client, task, wait=wait, out=out, timeout=timeout, as_json=as_json, name=names)


@music_app.command()
def video(
    task_id: Annotated[str, typer.Argument(help="the song task")],
    audio_id: Annotated[str, typer.Argument(help="the track (its id)")],
    author: Annotated[str | None, typer.Option("--author", help="signature on the cover")] = None,
    domain: Annotated[str | None, typer.Option("--domain", help="watermark at the bottom")] = None,
    callback_url: CallbackOption = None,
    wait: WaitOption = False,
    out: OutDirOption = None,
    timeout: TimeoutOption = 600,
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """A music video of a track (saved as <audio id>.mp4)."""
    with _music_reporting(as_json):
        client = _client(base_url, api_key)
        task = client.suno.music_video(
            task_id, audio_id, author=author, domain_name=domain, callback_url=callback_url
        )
        _finish_file(
            client,
            task,
            wait=wait,
            out=out,
            timeout=timeout,
            as_json=as_json,
            name=_one_file(".mp4", audio_id),
        )


@music_app.command()
def status(
    task_id: Annotated[str, typer.Argument(help="a song task")],
    base_url: BaseUrlOption = DEFAULT_BASE_URL,
    api_key: ApiKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """A song task's stage and tracks."""
    with _music_reporting(as_json):
        record = _client(base_url, api_key).suno.get(task_id)

        def plain() -> None:
            typer.echo(f"task      {record.task_id}")
            typer.echo(f"status    {record.status}")
            for track in record.tracks:
                length = f"{track.duration:.2f} s" if track.duration is not None else "…"
                typer.echo(f"track     {track.id}  {track.title!r}  {length}")
                if track.audio_url:
                    typer.echo(f"  audio   {track.audio_url}")
            if record.failed:
                typer.echo(f"failure   {record.fail_code}: {record.fail_msg}")

        _emit(as_json, record.raw, plain)
