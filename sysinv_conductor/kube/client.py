"""API clients built from a kubeconfig file, never from the process-wide default.

Several clusters (or credentials) may be used in one process (tests do), so each
``ConductorContext`` builds its own ``ApiClient`` (``api_client``) and every Kubernetes
user of that conductor (node sync, cluster operations of a deploy, join, Calico) shares it.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client, config

from sysinv_conductor.kube.retry import failover_retry

#: Connections kept to the Kubernetes API (messaging.call_workers is at most 64).
POOL_CONNECTIONS = 80


def api_client(kubeconfig: str, retry_window: float = 0.0) -> Any:
    """A client for the cluster ``kubeconfig`` names; urllib3's pool makes it thread-safe.

    ``retry_window`` (the setting ``kubernetes.failover_retry_window``): for that many
    seconds after a call's first failure, a refused connection, and a connection dropped
    under an idempotent call, are tried again (``retry.py``): a controller failover behind
    the floating endpoint then costs the caller time, not an error. 0: never."""
    configuration = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    # Answers (refusals included) come back at once, never after urllib3's default retries;
    # only a dropped or refused connection is tried again, within the window.
    configuration.retries = failover_retry(retry_window) if retry_window > 0 else 0
    # One connection per thread that may talk to the cluster at once (the calls worker's
    # threads, the apps worker, the audits): past the pool's size every request would
    # open, and TLS-handshake, a connection of its own.
    configuration.connection_pool_maxsize = POOL_CONNECTIONS
    return client.ApiClient(configuration)


def core_v1(api: Any) -> Any:
    return client.CoreV1Api(api)


def describe_api_error(exc: Exception) -> str:
    """A one-line reason from an ApiException (its JSON Status message) or any other error."""
    status = getattr(exc, "status", None)
    body = getattr(exc, "body", None)
    if status is not None and body:
        try:
            import json

            message = json.loads(body).get("message")
            if message:
                return f"{message} (HTTP {status})"
        except (ValueError, AttributeError):
            pass
        return f"HTTP {status} {getattr(exc, 'reason', '')}".strip()
    return str(exc) or type(exc).__name__
