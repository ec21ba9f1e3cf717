"""Metrics, readiness and JSON logs across processes (issue 17): one `reelserve serve
--no-worker` and one `reelserve worker` on one PostgreSQL database and one data directory,
JSON logs and a metrics token on. The API's `/metrics` adds up both processes' counters: the
worker's finished tasks, engine histograms and callback deliveries show there, moved by
exactly what the test made."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.cluster import Cluster, Process, free_port
from tests.databases import create_pg_database, drop_pg_database
from tests.receivers import Receiver

TOKEN = "metrics-secret"
T2V = "synthetic/text-to-video"
I2V = "synthetic/image-to-video"
CREDITS = 1000

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class Deployment:
    cluster: Cluster
    receiver: Receiver
    api: Process
    worker: Process
    client: httpx.Client
    worker_metrics: str
    """The worker's own `--metrics-port` endpoint."""

    def scrape_worker(self) -> Samples:
        return samples(httpx.get(self.worker_metrics, timeout=30).text)

    def scrape(self) -> Samples:
        answer = httpx.get(
            self.cluster.base_url + "/metrics",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return samples(answer.text)


def samples(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(scraped: Samples, name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    name, url = create_pg_database()
    root = tmp_path_factory.mktemp("observability")
    try:
        with (
            Receiver() as rx,
            Cluster(
                root,
                url,
                REELSERVE_LOG_FORMAT="json",
                REELSERVE_METRICS_TOKEN=TOKEN,
                # Image-to-video goes to an engine no worker serves: it waits in the queue.
                REELSERVE_ENGINE_PLUGINS="idle=tests.engines_for_tests:LoggedSyntheticEngine",
                REELSERVE_ROUTES="image_to_video=idle;*=synthetic",
                REELSERVE_ALLOW_PRIVATE_URLS="true",
                REELSERVE_WORKER_POLL_S="0.5",
            ) as cluster,
        ):
            created = cluster.run_cli(
                "keys", "create", "--name", "obs", "--rate-limit", "0", "--credits", str(CREDITS)
            )
            key = created.splitlines()[-1]
            api = cluster.start_api()
            port = free_port()
            worker = cluster.start_worker("--engine", "synthetic", "--metrics-port", str(port))
            cluster.wait_for_workers(1)
            client = httpx.Client(
                base_url=cluster.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            )
            with client:
                yield Deployment(
                    cluster, rx, api, worker, client, f"http://127.0.0.1:{port}/metrics"
                )
    finally:
        drop_pg_database(name)


def test_metrics_need_the_token_when_one_is_set(deployment: Deployment) -> None:
    url = deployment.cluster.base_url + "/metrics"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    answer = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert list(text_string_to_metric_families(answer.text))


def _market(deployment: Deployment, prompt: str, **headers: str) -> str:
    body = {
        "model": T2V,
        "callBackUrl": deployment.receiver.url("/cb"),
        "input": {"prompt": prompt, "duration": 1, "resolution": "360p"},
    }
    answer = deployment.client.post("/api/v1/jobs/createTask", json=body, headers=headers).json()
    assert answer["code"] == 200, answer
    return str(answer["data"]["taskId"])


def _wait(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_counters_move_by_exactly_the_tasks_and_deliveries_made_across_processes(
    deployment: Deployment,
) -> None:
    client = deployment.client
    before = deployment.scrape()
    worker_before = deployment.scrape_worker()

    # Three tasks; the third create sent twice with one Idempotency-Key is one task.
    ids = [_market(deployment, f"metrics {i}") for i in range(2)]
    ids.append(_market(deployment, "metrics 2", **{"Idempotency-Key": "obs-dup"}))
    assert _market(deployment, "metrics 2", **{"Idempotency-Key": "obs-dup"}) == ids[2]
    # One task no worker serves: it waits in the queue, then the API cancels it.
    body = {
        "model": I2V,
        "input": {"prompt": "waits", "image_url": "https://example.com/a.png", "duration": 1},
    }
    queued = client.post("/api/v1/jobs/createTask", json=body).json()["data"]["taskId"]
    missing = client.get("/no/such/path/" + queued)  # KIE's envelope: code 404 in HTTP 200
    assert missing.json()["code"] == 404

    def succeeded() -> bool:
        states = [
            client.get("/api/v1/jobs/recordInfo", params={"taskId": t}).json()["data"]["state"]
            for t in ids
        ]
        assert "fail" not in states, states
        return states == ["success"] * 3

    _wait(succeeded, "the tasks did not succeed")
    waiting = deployment.scrape()
    assert value(waiting, "reelserve_queue_depth", engine="idle") == 1
    assert value(waiting, "reelserve_queue_oldest_age_seconds", engine="idle") > 0
    assert value(waiting, "reelserve_database_up") == 1
    cancel = client.post("/api/v1/tasks/cancel", json={"taskId": queued}).json()
    assert cancel["data"]["canceled"] is True, cancel

    deployment.receiver.wait_for("/cb", 3)
    _wait(
        lambda: (
            delta(
                before,
                deployment.scrape(),
                "reelserve_callback_deliveries_total",
                outcome="delivered",
            )
            >= 3
        ),
        "the deliveries were not counted",
    )
    time.sleep(1.0)  # a second count of anything would show now
    after = deployment.scrape()

    market = {"family": "market", "model": T2V}
    assert delta(before, after, "reelserve_tasks_submitted_total", **market) == 3
    submitted = "reelserve_tasks_submitted_total"
    assert delta(before, after, submitted, family="market", model=I2V) == 1
    finished = "reelserve_tasks_finished_total"
    assert delta(before, after, finished, **market, outcome="succeeded") == 3
    assert delta(before, after, finished, **market, outcome="failed") == 0
    assert delta(before, after, finished, family="market", model=I2V, outcome="canceled") == 1
    # Counted by the worker process (the API runs no worker).
    for histogram in (
        "reelserve_engine_run_seconds",
        "reelserve_server_overhead_seconds",
        "reelserve_claim_latency_seconds",
    ):
        assert delta(before, after, histogram + "_count", engine="synthetic") == 3, histogram
    assert delta(before, after, "reelserve_engine_run_seconds_sum", engine="synthetic") > 0
    # The worker's own endpoint (for a worker on another host) shows the same runs.
    worker_after = deployment.scrape_worker()
    runs = "reelserve_engine_run_seconds_count"
    assert delta(worker_before, worker_after, runs, engine="synthetic") == 3
    assert delta(before, after, "reelserve_callback_deliveries_total", outcome="delivered") == 3
    assert delta(before, after, "reelserve_callback_send_seconds_count", outcome="delivered") == 3
    assert delta(before, after, "reelserve_callback_delay_seconds_count", stage="final") == 3
    assert value(after, "reelserve_queue_depth", engine="idle") == 0

    requests = "reelserve_http_requests_total"
    create = {"route": "/api/v1/jobs/createTask", "method": "POST", "status": "200"}
    assert delta(before, after, requests, **create) == 5
    unmatched = {"route": "unmatched", "method": "GET", "status": str(missing.status_code)}
    assert delta(before, after, requests, **unmatched) == 1
    routes = {dict(labels).get("route", "") for name, labels in after if name == requests}
    assert not [r for r in routes if any(t in r for t in [*ids, queued])], routes

    balance = deployment.cluster.read(lambda store: store.keys.list())
    (obs,) = [k for k in balance if k.name == "obs"]
    assert obs.credits is not None and obs.credits < CREDITS
    assert value(after, "reelserve_credits_balance", key="obs") == obs.credits
    assert not [labels for name, labels in after if "secret" in str(labels)]


def test_every_log_line_is_json_and_a_task_s_lines_carry_its_fields(
    deployment: Deployment,
) -> None:
    task_id = _market(deployment, "logged task")
    _wait(
        lambda: (
            deployment.client.get("/api/v1/jobs/recordInfo", params={"taskId": task_id}).json()[
                "data"
            ]["state"]
            == "success"
        ),
        "the task did not succeed",
    )
    row = {r["id"]: r for r in deployment.cluster.task_rows()}[task_id]
    expected = {
        "task_id": task_id,
        "family": "market",
        "model": T2V,
        "engine": "synthetic",
        "key_id": row["api_key_id"],
    }
    _wait(lambda: task_id in deployment.worker.log.read_text(), "the worker logged nothing")
    for process in (deployment.api, deployment.worker):
        lines = [line for line in process.log.read_text().splitlines() if line.strip()]
        assert lines, process.args
        entries = [json.loads(line) for line in lines]  # every line is one JSON object
        assert all(isinstance(e, dict) and {"time", "level", "message"} <= set(e) for e in entries)
    worker_lines = [
        json.loads(line) for line in deployment.worker.log.read_text().splitlines() if line.strip()
    ]
    mine = [e for e in worker_lines if task_id in e["message"] or e.get("task_id") == task_id]
    assert mine, worker_lines[-5:]
    for entry in mine:
        assert {k: entry.get(k) for k in expected} == expected, entry
