"""`Client`: the synchronous SDK over httpx (`AsyncClient` in `aio.py` is its twin).

Example::

    from reelserve.client import Client

    with Client(api_key="rs_...", base_url="http://127.0.0.1:8000") as client:
        task = client.runway.generate(prompt="A paper boat", duration=5, quality="720p",
                                      aspect_ratio="16:9")
        task.wait(on_progress=lambda r: print(r.state, r.progress))
        task.download("boat.mp4")
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar, overload

import httpx

from reelserve.client import endpoints
from reelserve.client.calls import Call, RetryPolicy, read_answer
from reelserve.client.config import (
    DEFAULT_TIMEOUT_S,
    KIE_BASE_URL,
    KIE_UPLOAD_BASE_URL,
    USER_AGENT,
    ClientConfig,
)
from reelserve.client.errors import ReelserveError, TransportError, WaitTimeout
from reelserve.client.models import (
    AlephRecord,
    CallbackDelivery,
    FluxKontextRecord,
    Gpt4oRecord,
    MarketModel,
    MarketRecord,
    RunwayRecord,
    TaskRecord,
    UploadedFile,
    VeoRecord,
)
from reelserve.client.suno_models import (
    BoostedStyle,
    CoverRecord,
    LyricsRecord,
    MidiRecord,
    MusicRecord,
    MusicVideoRecord,
    Persona,
    StemsRecord,
    TimestampedLyrics,
    WavRecord,
    music_record,
)
from reelserve.client.tasks import (
    TaskKind,
    get_call,
    like,
    media_url,
    temp_path_for,
    track_files,
)
from reelserve.client.waiting import PollBackoff, Until, settle

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R", bound=TaskRecord)
ProgressHook = Callable[[TaskRecord], object]


class Task:
    """A submitted task: poll it, wait for it, download its video."""

    def __init__(self, client: Client, task_id: str, kind: TaskKind) -> None:
        self.id = task_id
        self.kind: TaskKind = kind
        self._client = client
        self.record: TaskRecord | None = None
        """The last record read (by `get`, `wait` or `download`)."""

    def __repr__(self) -> str:
        return f"Task(id={self.id!r}, kind={self.kind!r})"

    def get(self) -> TaskRecord:
        self.record = self._client._run(get_call(self.kind, self.id))
        return self.record

    def wait(
        self,
        timeout: float | None = 600.0,
        poll_interval: float = 1.0,
        on_progress: ProgressHook | None = None,
        until: Until = "complete",
    ) -> TaskRecord:
        """Poll until the task ends: its record on success; `TaskFailed` on failure,
        `TaskExpired` when its media is gone, `WaitTimeout` after `timeout` seconds.
        `until="first"` returns as soon as a first result is usable (a song's
        FIRST_SUCCESS with track 0's MP3); for other families it is the same as "complete"."""
        backoff = PollBackoff(poll_interval)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            record = self.get()
            if on_progress is not None:
                on_progress(record)
            if settle(record, until):
                return record
            delay = backoff.next_delay(record)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WaitTimeout(
                        f"task {self.id} still {record.state} after {timeout} s", task_id=self.id
                    )
                delay = min(delay, left)
            time.sleep(delay)

    def download(self, path: str | os.PathLike[str], *, timeout: float | None = 600.0) -> Path:
        """Stream the video to `path` (waiting for the task first if it has not ended)."""
        record = self.record if self.record is not None and self.record.finished else None
        record = record or self.wait(timeout=timeout)
        settle(record)
        return self._client.download(media_url(record), path)


class MusicTask(Task):
    """A Suno song task (two tracks): `wait(until="first")`, `download_tracks`, and
    `get`/`wait` typed as `MusicRecord`. `download` saves track 0's MP3."""

    def __init__(self, client: Client, task_id: str) -> None:
        super().__init__(client, task_id, "suno")

    def __repr__(self) -> str:
        return f"MusicTask(id={self.id!r})"

    def get(self) -> MusicRecord:
        return music_record(super().get())

    def wait(
        self,
        timeout: float | None = 600.0,
        poll_interval: float = 1.0,
        on_progress: ProgressHook | None = None,
        until: Until = "complete",
    ) -> MusicRecord:
        return music_record(super().wait(timeout, poll_interval, on_progress, until))

    def download_tracks(
        self,
        directory: str | os.PathLike[str] = ".",
        *,
        covers: bool = True,
        timeout: float | None = 600.0,
    ) -> list[Path]:
        """Wait for the song to complete, then save each track's MP3 (`<track id>.mp3`)
        and, with `covers`, its cover art into `directory`; the files, in track order."""
        record = self.record if self.record is not None and self.record.succeeded else None
        done = music_record(record or self.wait(timeout=timeout))
        settle(done)
        return [
            self._client.download(url, target)
            for url, target in track_files(done, Path(directory), covers)
        ]


class Runway:
    def __init__(self, client: Client) -> None:
        self._c = client

    def generate(
        self,
        *,
        prompt: str,
        duration: int = 5,
        quality: str = "720p",
        aspect_ratio: str | None = None,
        image_url: str | None = None,
        watermark: str | None = None,
        callback_url: str | None = None,
    ) -> Task:
        """Text-to-video, or image-to-video with `image_url` (spec §1.1). Without an image
        and without `aspect_ratio`, 16:9."""
        if aspect_ratio is None and image_url is None:
            aspect_ratio = "16:9"
        call = endpoints.runway_generate(
            prompt=prompt,
            duration=duration,
            quality=quality,
            aspect_ratio=aspect_ratio,
            image_url=image_url,
            watermark=watermark,
            callback_url=callback_url,
        )
        return Task(self._c, self._c._run(call), "runway")

    def extend(
        self,
        task_id: str | Task,
        *,
        prompt: str,
        quality: str = "720p",
        watermark: str | None = None,
        callback_url: str | None = None,
    ) -> Task:
        """Add 5 s to a successful Runway task (spec §1.3); the result is the whole video."""
        call = endpoints.runway_extend(
            task_id=task_id.id if isinstance(task_id, Task) else task_id,
            prompt=prompt,
            quality=quality,
            watermark=watermark,
            callback_url=callback_url,
        )
        return Task(self._c, self._c._run(call), "runway")

    def get(self, task_id: str) -> RunwayRecord:
        return self._c._run(endpoints.runway_get(task_id))

    def task(self, task_id: str) -> Task:
        """A handle on an existing task (to wait for or download it)."""
        return Task(self._c, task_id, "runway")


class Aleph:
    def __init__(self, client: Client) -> None:
        self._c = client

    def generate(
        self,
        *,
        prompt: str,
        video_url: str,
        aspect_ratio: str | None = None,
        seed: int | None = None,
        reference_image: str | None = None,
        watermark: str | None = None,
        callback_url: str | None = None,
    ) -> Task:
        """Restyle the first 5 s of `video_url` (spec §1.4)."""
        call = endpoints.aleph_generate(
            prompt=prompt,
            video_url=video_url,
            aspect_ratio=aspect_ratio,
            seed=seed,
            reference_image=reference_image,
            watermark=watermark,
            callback_url=callback_url,
        )
        return Task(self._c, self._c._run(call), "aleph")

    def get(self, task_id: str) -> AlephRecord:
        return self._c._run(endpoints.aleph_get(task_id))

    def task(self, task_id: str) -> Task:
        return Task(self._c, task_id, "aleph")


class Jobs:
    def __init__(self, client: Client) -> None:
        self._c = client

    def create(self, model: str, input: dict[str, Any], callback_url: str | None = None) -> Task:
        """A market task (spec §2): `model` from `models()`, `input` per its schema."""
        return Task(
            self._c, self._c._run(endpoints.jobs_create(model, input, callback_url)), "market"
        )

    def get(self, task_id: str) -> MarketRecord:
        return self._c._run(endpoints.jobs_get(task_id))

    def models(self) -> list[MarketModel]:
        return self._c._run(endpoints.jobs_models())

    def task(self, task_id: str) -> Task:
        return Task(self._c, task_id, "market")


class Veo:
    """Veo 3.1 (kie-families.md §3): `generate`, `extend`; tasks wait on `successFlag`."""

    def __init__(self, client: Client) -> None:
        self._c = client

    def generate(
        self,
        prompt: str,
        *,
        model: str | None = None,
        aspect_ratio: str | None = None,
        image_urls: list[str] | None = None,
        generation_type: str | None = None,
        duration: int | None = None,
        resolution: str | None = None,
        seeds: int | None = None,
        watermark: str | None = None,
        callback_url: str | None = None,
    ) -> Task:
        body = {
            "prompt": prompt,
            "model": model,
            "aspect_ratio": aspect_ratio,
            "imageUrls": image_urls,
            "generationType": generation_type,
            "duration": duration,
            "resolution": resolution,
            "seeds": seeds,
            "watermark": watermark,
            "callBackUrl": callback_url,
        }
        return Task(self._c, self._c._run(endpoints.family_create("veo", "generate", body)), "veo")

    def extend(
        self,
        task_id: str,
        prompt: str,
        *,
        model: str | None = None,
        seeds: int | None = None,
        callback_url: str | None = None,
    ) -> Task:
        body = {
            "taskId": task_id,
            "prompt": prompt,
            "model": model,
            "seeds": seeds,
            "callBackUrl": callback_url,
        }
        return Task(self._c, self._c._run(endpoints.family_create("veo", "extend", body)), "veo")

    def get(self, task_id: str) -> VeoRecord:
        return self._c._run(endpoints.veo_get(task_id))

    def task(self, task_id: str) -> Task:
        return Task(self._c, task_id, "veo")


class Gpt4oImage:
    """4o Image (§4): `generate` (an edit with `files_url`); tasks wait on `status`."""

    def __init__(self, client: Client) -> None:
        self._c = client

    def generate(
        self,
        prompt: str | None = None,
        *,
        size: str = "1:1",
        n_variants: int | None = None,
        files_url: list[str] | None = None,
        mask_url: str | None = None,
        callback_url: str | None = None,
    ) -> Task:
        body = {
            "prompt": prompt,
            "size": size,
            "nVariants": n_variants,
            "filesUrl": files_url,
            "maskUrl": mask_url,
            "callBackUrl": callback_url,
        }
        task_id = self._c._run(endpoints.family_create("gpt4o", "generate", body))
        return Task(self._c, task_id, "gpt4o")

    def get(self, task_id: str) -> Gpt4oRecord:
        return self._c._run(endpoints.gpt4o_get(task_id))

    def task(self, task_id: str) -> Task:
        return Task(self._c, task_id, "gpt4o")


class FluxKontext:
    """Flux Kontext (§5): `generate` (an edit with `input_image`); tasks wait on `successFlag`."""

    def __init__(self, client: Client) -> None:
        self._c = client

    def generate(
        self,
        prompt: str,
        *,
        model: str | None = None,
        aspect_ratio: str | None = None,
        output_format: str | None = None,
        input_image: str | None = None,
        safety_tolerance: int | None = None,
        callback_url: str | None = None,
    ) -> Task:
        body = {
            "prompt": prompt,
            "model": model,
            "aspectRatio": aspect_ratio,
            "outputFormat": output_format,
            "inputImage": input_image,
            "safetyTolerance": safety_tolerance,
            "callBackUrl": callback_url,
        }
        task_id = self._c._run(endpoints.family_create("flux", "generate", body))
        return Task(self._c, task_id, "flux")

    def get(self, task_id: str) -> FluxKontextRecord:
        return self._c._run(endpoints.flux_get(task_id))

    def task(self, task_id: str) -> Task:
        return Task(self._c, task_id, "flux")


def _song(build: Callable[P, Call[str]]) -> Callable[Concatenate[Suno, P], MusicTask]:
    """A `Suno` method that submits the song `build` makes and returns its `MusicTask`."""

    def submit(self: Suno, /, *args: P.args, **kwargs: P.kwargs) -> MusicTask:
        return MusicTask(self._c, self._c._run(build(*args, **kwargs)))

    like(submit, build, "MusicTask")
    return submit


def _derived(build: Callable[P, Call[str]], kind: TaskKind) -> Callable[Concatenate[Suno, P], Task]:
    """A `Suno` method that submits a task of `kind` (lyrics, WAV, stems…) and returns it."""

    def submit(self: Suno, /, *args: P.args, **kwargs: P.kwargs) -> Task:
        return Task(self._c, self._c._run(build(*args, **kwargs)), kind)

    like(submit, build, "Task")
    return submit


class Suno:
    """Suno (kie-families.md §6): songs (two tracks each) and what is made from them.

    Song methods return a `MusicTask` (`wait(until="first" | "complete")`,
    `download_tracks`); lyrics, WAV, stems, MIDI, music video and cover art return a
    `Task` whose `wait()` reads that family's own status field. `callback_url` is sent
    only when given: KIE (and reelserve) require `callBackUrl` on most of these
    endpoints and answer 422 without it, so pass one; the SDK invents none.
    """

    def __init__(self, client: Client) -> None:
        self._c = client

    generate = _song(endpoints.suno_generate)
    extend = _song(endpoints.suno_extend)
    upload_cover = _song(endpoints.suno_upload_cover)
    upload_extend = _song(endpoints.suno_upload_extend)
    add_vocals = _song(endpoints.suno_add_vocals)
    add_instrumental = _song(endpoints.suno_add_instrumental)
    replace_section = _song(endpoints.suno_replace_section)
    mashup = _song(endpoints.suno_mashup)
    sounds = _song(endpoints.suno_sounds)
    lyrics = _derived(endpoints.suno_lyrics, "suno_lyrics")
    wav = _derived(endpoints.suno_wav, "suno_wav")
    stems = _derived(endpoints.suno_stems, "suno_stems")
    midi = _derived(endpoints.suno_midi, "suno_midi")
    music_video = _derived(endpoints.suno_music_video, "suno_mp4")
    cover = _derived(endpoints.suno_cover, "suno_cover")

    def timestamped_lyrics(self, task_id: str, audio_id: str) -> TimestampedLyrics:
        """When each word of a finished track is sung (synchronous)."""
        return self._c._run(endpoints.suno_timestamped_lyrics(task_id, audio_id))

    def persona(self, task_id: str, audio_id: str, name: str, description: str) -> Persona:
        """A persona (voice and style) from a track, for later custom-mode songs'
        `persona_id` (synchronous; one per track: a second answers 409 with its id)."""
        return self._c._run(endpoints.suno_persona(task_id, audio_id, name, description))

    def boost_style(self, content: str) -> BoostedStyle:
        """A fuller style line from a short one, e.g. "Pop, Mysterious" (synchronous)."""
        return self._c._run(endpoints.suno_boost_style(content))

    def get(self, task_id: str) -> MusicRecord:
        """A song task's record (`generate/record-info`)."""
        return music_record(self._c._run(endpoints.suno_get("suno", task_id)))

    def get_lyrics(self, task_id: str) -> LyricsRecord:
        return self._typed(LyricsRecord, "suno_lyrics", task_id)

    def get_wav(self, task_id: str) -> WavRecord:
        return self._typed(WavRecord, "suno_wav", task_id)

    def get_stems(self, task_id: str) -> StemsRecord:
        return self._typed(StemsRecord, "suno_stems", task_id)

    def get_midi(self, task_id: str) -> MidiRecord:
        return self._typed(MidiRecord, "suno_midi", task_id)

    def get_music_video(self, task_id: str) -> MusicVideoRecord:
        return self._typed(MusicVideoRecord, "suno_mp4", task_id)

    def get_cover(self, task_id: str) -> CoverRecord:
        return self._typed(CoverRecord, "suno_cover", task_id)

    @overload
    def task(self, task_id: str) -> MusicTask: ...
    @overload
    def task(self, task_id: str, kind: TaskKind) -> Task: ...
    def task(self, task_id: str, kind: TaskKind = "suno") -> Task:
        """A handle on an existing task: a `MusicTask` for songs (the default kind), else
        a `Task` of `kind` (`suno_lyrics`, `suno_wav`, `suno_stems`, `suno_midi`,
        `suno_mp4`, `suno_cover`)."""
        return MusicTask(self._c, task_id) if kind == "suno" else Task(self._c, task_id, kind)

    def _typed(self, cls: type[R], kind: TaskKind, task_id: str) -> R:
        record = self._c._run(endpoints.suno_get(kind, task_id))
        assert isinstance(record, cls)
        return record


class Files:
    def __init__(self, client: Client) -> None:
        self._c = client

    def upload(
        self,
        source: str | os.PathLike[str] | bytes,
        upload_path: str = endpoints.DEFAULT_UPLOAD_PATH,
        file_name: str | None = None,
    ) -> UploadedFile:
        """Upload a local file (streamed), bytes, a `data:` URI, or an http(s) URL (fetched
        by the server). The answer's `download_url` works as `image_url`/`video_url`."""
        src: str | Path | bytes = source if isinstance(source, str | bytes) else Path(source)
        call, path = endpoints.upload(src, upload_path, file_name)
        if path is None:
            return self._c._run(call)
        with path.open("rb") as fh:
            files = {"file": (file_name or path.name, fh)}
            return self._c._run(call, files=files)


class Callbacks:
    def __init__(self, client: Client) -> None:
        self._c = client

    def list(self, task_id: str) -> list[CallbackDelivery]:
        """A task's callback deliveries with their attempts, oldest first (reelserve only)."""
        return self._c._run(endpoints.callbacks_list(task_id))

    def redeliver(self, task_id: str) -> str:
        """Send the task's callback again as a new delivery; its delivery id."""
        return self._c._run(endpoints.callbacks_redeliver(task_id))


class Client:
    """The reelserve (or KIE) API, synchronously. `transport` lets tests and proxies
    plug in any httpx transport; `retry` sets retries of calls safe to repeat."""

    def __init__(
        self,
        api_key: str,
        base_url: str,
        upload_base_url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = ClientConfig.make(api_key, base_url, upload_base_url, retry)
        self._http = httpx.Client(
            transport=transport, timeout=timeout, headers={"User-Agent": USER_AGENT}
        )
        self._sleep = time.sleep
        self.runway = Runway(self)
        self.aleph = Aleph(self)
        self.jobs = Jobs(self)
        self.veo = Veo(self)
        self.gpt4o_image = Gpt4oImage(self)
        self.flux_kontext = FluxKontext(self)
        self.suno = Suno(self)
        self.files = Files(self)
        self.callbacks = Callbacks(self)

    @classmethod
    def for_kie(cls, api_key: str, **kwargs: Any) -> Client:
        """A client of KIE itself (`https://api.kie.ai`, uploads on KIE's upload host)."""
        return cls(api_key, KIE_BASE_URL, KIE_UPLOAD_BASE_URL, **kwargs)

    def credits(self) -> int:
        """The key's remaining credits (2147483647 on reelserve when unlimited)."""
        return self._run(endpoints.credits())

    def download_url(self, url: str) -> str:
        """A fresh direct URL (valid 20 minutes) for a media URL the server issued."""
        return self._run(endpoints.download_url(url))

    def download(self, url: str, path: str | os.PathLike[str]) -> Path:
        """Stream `url` (a signed media URL: no key is sent) to `path`, atomically."""
        target = Path(path)
        partial = temp_path_for(target)
        attempt = 0
        while True:
            try:
                with self._http.stream("GET", url) as response:
                    if response.status_code >= 400:
                        response.read()
                        outcome = read_answer(response)
                        if outcome.retryable and attempt < self.config.retry.max_retries:
                            attempt += 1
                            self._sleep(self.config.retry.delay(attempt, outcome.retry_after))
                            continue
                        assert outcome.error is not None
                        raise outcome.error
                    with partial.open("wb") as fh:
                        for chunk in response.iter_bytes(1 << 16):
                            fh.write(chunk)
                break
            except httpx.TransportError as exc:
                partial.unlink(missing_ok=True)
                if attempt >= self.config.retry.max_retries:
                    raise TransportError(f"download of {url} failed: {exc}") from exc
                attempt += 1
                self._sleep(self.config.retry.delay(attempt, None))
        partial.replace(target)
        return target

    def _run(self, call: Call[T], files: dict[str, Any] | None = None) -> T:
        retry = self.config.retry
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    call.method,
                    self.config.url(call),  # type: ignore[arg-type]
                    params=call.params,
                    json=call.json,
                    data=call.data,
                    files=files or call.files,
                    headers=self.config.auth_headers,
                )
            except httpx.TransportError as exc:
                if call.safe_to_repeat and attempt < retry.max_retries:
                    attempt += 1
                    self._sleep(retry.delay(attempt, None))
                    continue
                raise TransportError(
                    f"{call.method} {self.config.url(call)} failed: {exc}"  # type: ignore[arg-type]
                ) from exc
            outcome = read_answer(response)
            if outcome.error is None:
                try:
                    return call.parse(outcome.data)
                except (TypeError, ValueError, AttributeError) as exc:
                    raise ReelserveError(f"unexpected answer to {call.path}: {exc}") from exc
            if outcome.retryable and call.safe_to_repeat and attempt < retry.max_retries:
                attempt += 1
                self._sleep(retry.delay(attempt, outcome.retry_after))
                continue
            raise outcome.error

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
