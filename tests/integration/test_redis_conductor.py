"""The production path: API → Redis → a real ``sysinv-conductor`` process → kube-apiserver."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from sysinv_api.app import create_app
from sysinv_common.conf import Settings
from sysinv_common.db.models import Label
from sysinv_common.db.prepare import prepare_database
from sysinv_common.errors import Conflict
from sysinv_common.messaging.app import make_celery
from sysinv_common.messaging.client import ConductorClient
from sysinv_common.messaging.rpcapi import ConductorAPI
from tests.servers.ports import free_port
from tests.stack import make_settings

pytestmark = [pytest.mark.kube, pytest.mark.redis, pytest.mark.postgres]


def env_for(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SYSINV_STATE_DIR=str(settings.state_dir),
        SYSINV_DATABASE__URL=settings.database_url,
        SYSINV_MESSAGING__BROKER_URL=settings.messaging.broker_url,
        SYSINV_MESSAGING__QUEUE_PREFIX=settings.messaging.queue_prefix,
        SYSINV_KUBERNETES__KUBECONFIG=str(settings.kubernetes.kubeconfig),
        SYSINV_CONDUCTOR_ID="redis-test-conductor",
    )
    return env


def conductor_command() -> list[str]:
    script = Path(sys.executable).with_name("sysinv-conductor")
    assert script.exists(), f"console script {script} is not installed (pip install -e .)"
    return [str(script)]


@pytest.fixture
def production_settings(
    tmp_path: Path, postgres_db_url: str, redis_url: str, kube_cluster: Any
) -> Settings:
    settings = make_settings(tmp_path, postgres_db_url)
    settings.messaging.broker_url = redis_url
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    return settings


@pytest.fixture
def conductor_process(
    production_settings: Settings, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with running_conductor(production_settings, tmp_path) as proc:
        yield proc


@contextmanager
def running_conductor(
    production_settings: Settings, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    prepare_database(production_settings).dispose()
    log = (tmp_path / "conductor.log").open("wb")
    proc = subprocess.Popen(
        conductor_command(),
        env=env_for(production_settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        client = ConductorAPI(ConductorClient(make_celery(production_settings.messaging), 5))
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "conductor.log").read_text()
            try:
                assert client.ping().conductor_id == "redis-test-conductor"
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_the_broker_refuses_a_client_without_its_password(redis_url: str) -> None:
    url = urlsplit(redis_url)
    assert url.password and url.port
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=url.port).ping()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=url.port, password="not-" + url.password).ping()
    assert redis.Redis.from_url(redis_url).ping()


def test_label_assign_through_redis_reaches_the_node(
    production_settings: Settings, conductor_process: Any, kube_cluster: Any, tmp_path: Path
) -> None:
    assert shutil.which("redis-server")
    name = f"rn-{uuid.uuid4().hex[:8]}"
    kube_cluster.create_node(name)
    db = prepare_database(production_settings)
    app = create_app(production_settings, db, celery=make_celery(production_settings.messaging))
    try:
        with TestClient(app) as client:
            host = client.post(
                "/v1/ihosts", json={"hostname": name, "personality": "worker"}
            ).json()
            r = client.post(f"/v1/labels/{host['uuid']}?overwrite=False", json={"via": "redis"})
            assert r.status_code == 200, r.text
            assert r.json()["kube_node"].startswith("applied")
            labels = kube_cluster.core_v1().read_node(name).metadata.labels
            assert labels["via"] == "redis"
            r = client.patch(
                f"/v1/ihosts/{host['id']}",
                json=[{"op": "replace", "path": "/action", "value": "unlock"}],
            )
            assert r.status_code == 200, r.text
            assert r.json()["administrative"] == "unlocked"
    finally:
        db.dispose()
        kube_cluster.delete_node(name)
    # The conductor logged its broker (and Celery its banner) without the password.
    password = urlsplit(production_settings.messaging.broker_url).password
    assert password
    log = (tmp_path / "conductor.log").read_text()
    assert "127.0.0.1" in log and password not in log


def test_a_call_the_api_gave_up_on_never_takes_effect(
    production_settings: Settings, kube_cluster: Any, tmp_path: Path
) -> None:
    """No conductor: the API gives up on calls; one started later must not run them."""
    production_settings.messaging.call_timeout = 2.0
    name = f"rx-{uuid.uuid4().hex[:8]}"
    kube_cluster.create_node(name)
    db = prepare_database(production_settings)
    app = create_app(production_settings, db, celery=make_celery(production_settings.messaging))
    try:
        with TestClient(app) as client:
            # The host is saved; its Node is looked at later (the conductor's audits).
            r = client.post("/v1/ihosts", json={"hostname": name, "personality": "worker"})
            assert r.status_code == 200, r.text
            host = r.json()
            r = client.post(f"/v1/labels/{host['uuid']}?overwrite=False", json={"late": "no"})
            assert r.status_code == 503, r.text
            with running_conductor(production_settings, tmp_path):
                time.sleep(3)  # it has taken and discarded what was queued
                labels = client.get(f"/v1/ihosts/{host['uuid']}/labels").json()["labels"]
                assert labels == []
                node = kube_cluster.core_v1().read_node(name)
                assert "late" not in (node.metadata.labels or {})
                # And it serves new calls.
                r = client.post(f"/v1/labels/{host['uuid']}?overwrite=False", json={"now": "yes"})
                assert r.status_code == 200, r.text
    finally:
        db.dispose()
        kube_cluster.delete_node(name)


def test_concurrent_label_writes_leave_the_database_equal_to_the_nodes(
    production_settings: Settings, conductor_process: Any, kube_cluster: Any
) -> None:
    """200 writes at once, through Redis to the conductor's batches: each answered as if
    alone (its own values, or a 409 for an existing key without overwrite), none lost."""
    names = [f"cw-{uuid.uuid4().hex[:6]}-{i}" for i in range(10)]
    for name in names:
        kube_cluster.create_node(name, wait_ready=False)
    db = prepare_database(production_settings)
    conductor = ConductorAPI(ConductorClient(make_celery(production_settings.messaging), 60))
    try:
        app = create_app(production_settings, db, celery=make_celery(production_settings.messaging))
        with TestClient(app) as client:
            ids = [
                client.post("/v1/ihosts", json={"hostname": n, "personality": "worker"}).json()[
                    "id"
                ]
                for n in names
            ]

        def write(i: int) -> tuple[int, dict[str, str], str]:
            labels = {f"k{i % 5}": f"v{i}"}
            try:
                done = conductor.labels_assign(ids[i % 10], labels, overwrite=i % 4 != 0)
            except Conflict as exc:
                return i, labels, exc.message
            assert {r.label_key: r.label_value for r in done.labels} == labels
            assert done.kube_node.startswith("applied"), done.kube_node
            return i, labels, ""

        with ThreadPoolExecutor(200) as pool:
            results = list(pool.map(write, range(200)))
        refused = [r for r in results if r[2]]
        assert all("Use overwrite option" in r[2] and r[0] % 4 == 0 for r in refused)
        assert len(results) - len(refused) >= 150  # every overwrite succeeded
        core = kube_cluster.core_v1()
        with db.session() as s:
            for host_id, name in zip(ids, names, strict=True):
                rows = s.scalars(select(Label).where(Label.host_id == host_id))
                stored = {lb.label_key: lb.label_value for lb in rows}
                on_node = core.read_node(name).metadata.labels
                assert stored and {k: on_node.get(k) for k in stored} == stored, name
                # Each stored value is one an accepted write of that host sent.
                index = ids.index(host_id)
                for key, value in stored.items():
                    sent = {labels[key] for i, labels, err in results
                            if not err and i % 10 == index and key in labels}  # fmt: skip
                    assert value in sent, (name, key, value, sent)
    finally:
        db.dispose()
        for name in names:
            kube_cluster.delete_node(name)


def test_a_host_saved_while_the_broker_is_down_is_answered_as_saved(
    production_settings: Settings,
) -> None:
    """Its Node is synced by the conductor's audits later; the answer says it was saved."""
    production_settings.messaging.broker_url = f"redis://:pw@127.0.0.1:{free_port()}/0"
    db = prepare_database(production_settings)
    app = create_app(production_settings, db, celery=make_celery(production_settings.messaging))
    try:
        with TestClient(app) as client:
            name = f"bd-{uuid.uuid4().hex[:6]}"
            r = client.post("/v1/ihosts", json={"hostname": name, "personality": "worker"})
            assert r.status_code == 200, r.text
            assert client.get(f"/v1/ihosts/{r.json()['uuid']}").json()["hostname"] == name
            # A call that needs the conductor is refused as unavailable, not lost.
            r = client.post(f"/v1/labels/{r.json()['uuid']}?overwrite=False", json={"a": "b"})
            assert r.status_code == 503, r.text
    finally:
        db.dispose()
