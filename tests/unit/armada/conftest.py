"""Shared manifest text for the armada unit tests."""

from __future__ import annotations

import textwrap

import pytest

MANIFEST = textwrap.dedent(
    """\
    ---
    schema: armada/Manifest/v1
    metadata: {schema: metadata/Document/v1, name: app-manifest}
    data:
      release_prefix: app
      chart_groups: [base, workers]
    ---
    schema: armada/ChartGroup/v1
    metadata: {schema: metadata/Document/v1, name: base}
    data:
      description: base services
      sequenced: true
      chart_group: [db, web]
    ---
    schema: armada/ChartGroup/v1
    metadata: {schema: metadata/Document/v1, name: workers}
    data:
      sequenced: false
      chart_group: [worker-a, worker-b, worker-c]
    ---
    schema: armada/Chart/v1
    metadata: {schema: metadata/Document/v1, name: db}
    data:
      chart_name: mariadb
      release: db
      namespace: infra
      wait: {timeout: 60, labels: {app: db}}
      values: {replicas: 1, auth: {user: app, password: secret}}
      source: {type: tar, location: http://repo/charts/mariadb-1.0.0.tgz, subpath: mariadb}
      dependencies: []
    ---
    schema: armada/Chart/v1
    metadata: {schema: metadata/Document/v1, name: web}
    data:
      chart_name: web
      release: web
      namespace: apps
      protected: {continue_processing: false}
      test: true
      upgrade:
        no_hooks: false
        pre:
          delete:
            - type: job
              labels: {app: web}
      values: {image: {tag: "1.0"}, hosts: [a, b]}
      source: {type: tar, location: http://repo/charts/web-0.2.0.tgz, subpath: web}
      dependencies: [db]
    ---
    schema: armada/Chart/v2
    metadata: {schema: metadata/Document/v1, name: worker-a}
    data:
      release: worker-a
      namespace: work
      wait:
        timeout: 30
        resources:
          - type: deployment
            labels: {app: worker}
      test: {enabled: false}
      source: {type: tar, location: /charts/worker-0.1.0.tgz}
    ---
    schema: armada/Chart/v1
    metadata: {schema: metadata/Document/v1, name: worker-b}
    data:
      chart_name: worker
      release: worker-b
      namespace: work
      timeout: 45
      source: {type: tar, location: /charts/worker-0.1.0.tgz, subpath: worker}
    ---
    schema: armada/Chart/v1
    metadata: {schema: metadata/Document/v1, name: worker-c}
    data:
      chart_name: worker
      release: worker-c
      namespace: work
      source: {type: tar, location: /charts/worker-0.1.0.tgz, subpath: worker}
    """
)


@pytest.fixture
def manifest_text() -> str:
    return MANIFEST
