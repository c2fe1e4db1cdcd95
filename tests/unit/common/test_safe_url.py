"""Broker URLs reach the logs with their passwords masked."""

from __future__ import annotations

import pytest

from sysinv_common.messaging.app import safe_url


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("redis://:s3cret@10.0.0.1:6379/0", "redis://:**@10.0.0.1:6379/0"),
        ("rediss://sysinv:s3cret@redis.local:6380/1", "rediss://sysinv:**@redis.local:6380/1"),
        ("redis://:p%40ss@h:1/0;redis://:s3cret@h2:1/0", "redis://:**@h:1/0;redis://:**@h2:1/0"),
        ("redis://10.0.0.1:6379/0", "redis://10.0.0.1:6379/0"),
        ("memory://", "memory://"),
    ],
)
def test_passwords_are_masked(url: str, logged: str) -> None:
    assert safe_url(url) == logged
    assert "s3cret" not in safe_url(url)
