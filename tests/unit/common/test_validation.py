from __future__ import annotations

import pytest

from sysinv_common.errors import InvalidInput
from sysinv_common.validation import (
    normalize_mac,
    validate_hostname,
    validate_label_key,
    validate_label_value,
    validate_labels,
)


@pytest.mark.parametrize("name", ["controller-0", "w", "a1", "x" * 63, "0worker"])
def test_hostnames_accepted(name: str) -> None:
    assert validate_hostname(name) == name


@pytest.mark.parametrize(
    "name", ["", "Controller-0", "worker_0", "-a", "a-", "a.b", "x" * 64, None, 5]
)
def test_hostnames_refused(name: object) -> None:
    with pytest.raises(InvalidInput):
        validate_hostname(name)


@pytest.mark.parametrize(
    ("raw", "mac"),
    [("08:00:27:AA:bb:01", "08:00:27:aa:bb:01"), ("08-00-27-aa-bb-01", "08:00:27:aa:bb:01")],
)
def test_mac_normalized(raw: str, mac: str) -> None:
    assert normalize_mac(raw) == mac


@pytest.mark.parametrize(
    "raw", ["08:00:27:aa:bb", "08:00:27:aa:bb:zz", "0800.27aa.bb01", "01:00:5e:00:00:01",
            "00:00:00:00:00:00", 42]
)  # fmt: skip
def test_mac_refused(raw: object) -> None:
    with pytest.raises(InvalidInput):
        normalize_mac(raw)


@pytest.mark.parametrize(
    "key",
    ["a", "A_b.c-D", "x" * 63, "example.com/name", "a.b-c.d/N_1", ("a" * 63 + ".") * 3 + "b/x"],
)
def test_label_keys_accepted(key: str) -> None:
    assert validate_label_key(key) == key


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("", "empty"),
        ("_a", "start and end"),
        ("a_", "start and end"),
        ("x" * 64, "longer than 63"),
        ("Example.com/x", "DNS subdomain"),
        ("a" * 254 + "/x", "longer than 253"),
        ("ex.com/", "name after the prefix is empty"),
        ("/x", "prefix before '/' is empty"),
        ("a/b/c", "at most one"),
        ("a b", "letters, digits"),
    ],
)
def test_label_keys_refused(key: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        validate_label_key(key)


@pytest.mark.parametrize("value", ["", "enabled", "A-b_c.1", "v" * 63])
def test_label_values_accepted(value: str) -> None:
    assert validate_label_value("k", value) == value


@pytest.mark.parametrize("value", [None, "v" * 64, "-v", "v-", "a b", "é", 3])
def test_label_values_refused(value: object) -> None:
    with pytest.raises(InvalidInput):
        validate_label_value("k", value)


def test_labels_body_shape() -> None:
    assert validate_labels({"a": "b"}) == {"a": "b"}
    for body in ({}, [], "a=b", None):
        with pytest.raises(InvalidInput):
            validate_labels(body)
