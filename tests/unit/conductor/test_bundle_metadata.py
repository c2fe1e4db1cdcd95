"""metadata.yaml: validation, reading from a directory and from a tarball."""

from __future__ import annotations

import io
import logging
import tarfile
from pathlib import Path

import pytest

from sysinv_common.apps import BundleError
from sysinv_common.apps.extract import ExtractLimits
from sysinv_common.apps.metadata import (
    load_metadata,
    parse_metadata,
    read_metadata_from_tarball,
)
from tests.unit.test_bounded_yaml import laughs

GOOD = b"""
app_name: hello-app
app_version: "1.0-1"
images:
  - docker.io/library/busybox:1.36
maintain_user_overrides: true
disabled_charts: [hello-worker]
"""


def tarball(path: Path, members: dict[str, bytes | str], mode: str = "w:gz") -> Path:
    """A tar of files; a ``str`` value makes a symbolic link to it instead."""
    with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return path


def test_good_metadata() -> None:
    meta = parse_metadata(GOOD)
    assert (meta.name, meta.version) == ("hello-app", "1.0-1")
    assert meta.images == ("docker.io/library/busybox:1.36",)
    assert meta.maintain_user_overrides is True
    assert meta.disabled_charts == ("hello-worker",)
    assert meta.unknown_keys == ()
    assert "images" not in meta.options


def test_minimal_metadata_and_empty_optional_keys() -> None:
    meta = parse_metadata("app_name: a\napp_version: v1\nimages:\n")
    assert (meta.name, meta.version, meta.images) == ("a", "v1", ())
    assert meta.maintain_user_overrides is False
    assert meta.apply_modes == ()


def test_apply_modes_are_declared_under_behavior() -> None:
    text = "app_name: a\napp_version: v1\nbehavior:\n  apply_modes: [normal, restore_db]\n"
    assert parse_metadata(text).apply_modes == ("normal", "restore_db")
    # StarlingX's own behavior keys stay as they are, with or without modes.
    text = "app_name: a\napp_version: v1\nbehavior:\n  platform_managed_app: yes\n"
    assert parse_metadata(text).apply_modes == ()


def test_unknown_keys_are_tolerated_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        meta = parse_metadata(b"app_name: a\napp_version: '1'\nfrobnicate: 1\nzeta: {}\n")
    assert meta.unknown_keys == ("frobnicate", "zeta")
    assert "frobnicate, zeta" in caplog.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"app_version: '1'\n", "metadata.yaml: app_name is required"),
        (b"app_name: a\n", "metadata.yaml: app_version is required"),
        (b"app_name: a\napp_version:\n", "app_version is required"),
        (b"app_name: [a]\napp_version: '1'\n", "app_name must be a string, got a list"),
        (
            b"app_name: a\napp_version: 1.10\n",
            r'got the number 1\.1 \(quote it: app_version: "1\.1"\)',
        ),
        (b"app_name: a\napp_version: 2\n", "app_version must be a string, got the number 2"),
        (b"app_name: true\napp_version: '1'\n", "app_name must be a string, got a boolean"),
        (b"app_name: ../x\napp_version: '1'\n", r"app_name '\.\./x' is not valid"),
        (b"app_name: a\napp_version: 1/2\n", r"app_version '1/2' is not valid"),
        (b"app_name: ''\napp_version: '1'\n", "app_name '' is not valid"),
        (b"app_name: a\napp_version: '1'\nimages: busybox\n", "images must be a list of strings"),
        (b"app_name: a\napp_version: '1'\nimages: [1, 2]\n", "images must be a list of strings"),
        (
            b"app_name: a\napp_version: '1'\nmaintain_user_overrides: 'yes'\n",
            "maintain_user_overrides must be a boolean, got a string",
        ),
        (
            b"app_name: a\napp_version: '1'\napply_progress_adjust: true\n",
            "apply_progress_adjust must be an integer, got a boolean",
        ),
        (b"app_name: a\napp_version: '1'\nbehavior: []\n", "behavior must be a mapping"),
        (
            b"app_name: a\napp_version: '1'\nbehavior: {apply_modes: normal}\n",
            "behavior.apply_modes must be a list of non-empty strings, got a string",
        ),
        (
            b"app_name: a\napp_version: '1'\nbehavior: {apply_modes: [normal, '']}\n",
            "behavior.apply_modes must be a list of non-empty strings",
        ),
        (b"app_name: a\napp_version: '1'\n1: x\n", "key 1 is not a string"),
        (b"app_name: [unclosed\n", "metadata.yaml is not valid YAML"),
        (b"app_name: \x80\x81\n", "metadata.yaml is not valid YAML"),
        (b"", "metadata.yaml is empty"),
        (b"- app_name\n- app_version\n", "must be a mapping .* not a list"),
        (b"just words\n", "must be a mapping .* not a string"),
    ],
)
def test_bad_metadata_names_the_field(text: bytes, message: str) -> None:
    with pytest.raises(BundleError, match=message):
        parse_metadata(text)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (laughs(8), "metadata.yaml: YAML aliases expand to more than 10000 nodes"),
        ("behavior: " + "{a: " * 100_000, "metadata.yaml: YAML is nested more than 64 levels deep"),
        ("behavior: " + "[" * 70 + "]" * 70, "metadata.yaml: YAML is nested more than 64 levels"),
        ("behavior: {a: &a [*a]}", "metadata.yaml: YAML alias refers to a node that contains it"),
        ("apply_progress_adjust: " + "1" * 5000,
         "metadata.yaml: YAML integer has more than 1000 digits"),
    ],
)  # fmt: skip
def test_metadata_beyond_the_yaml_limits_is_refused(extra: str, message: str) -> None:
    with pytest.raises(BundleError) as info:
        parse_metadata(f"app_name: a\napp_version: '1'\n{extra}\n")
    assert str(info.value).startswith(message)


def test_expected_name_and_version() -> None:
    assert parse_metadata(GOOD, expect_name="hello-app", expect_version="1.0-1").name
    with pytest.raises(BundleError, match=r"app_name 'hello-app' does not match .* 'other'"):
        parse_metadata(GOOD, expect_name="other")
    with pytest.raises(BundleError, match=r"app_version '1.0-1' does not match .* '2.0'"):
        parse_metadata(GOOD, expect_version="2.0")


def test_load_metadata_from_a_directory(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"bundle has no metadata.yaml at its top level"):
        load_metadata(tmp_path)
    (tmp_path / "metadata.yaml").write_bytes(GOOD)
    assert load_metadata(tmp_path).name == "hello-app"
    with pytest.raises(BundleError, match=r"over the limit of 10"):
        load_metadata(tmp_path, max_bytes=10)
    (tmp_path / "metadata.yaml").unlink()
    (tmp_path / "real.yaml").write_bytes(GOOD)
    (tmp_path / "metadata.yaml").symlink_to("real.yaml")
    with pytest.raises(BundleError, match=r"not a regular file"):
        load_metadata(tmp_path)


def test_read_from_tarball_extracts_nothing(tmp_path: Path) -> None:
    path = tarball(
        tmp_path / "b.tgz", {"./charts/x.tgz": b"chart", "./metadata.yaml": GOOD, "../evil": b"x"}
    )
    meta = read_metadata_from_tarball(path, 4096, expect_name="hello-app")
    assert (meta.name, meta.version) == ("hello-app", "1.0-1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.tgz"]


def test_read_from_plain_tar(tmp_path: Path) -> None:
    path = tarball(tmp_path / "b.tar", {"metadata.yaml": GOOD}, mode="w")
    assert read_metadata_from_tarball(path, 4096).name == "hello-app"


def test_read_from_tarball_refusals(tmp_path: Path) -> None:
    missing = tarball(tmp_path / "a.tgz", {"charts/metadata.yaml": GOOD})
    with pytest.raises(BundleError, match=r"bundle has no metadata.yaml at its top level"):
        read_metadata_from_tarball(missing, 4096)
    # "../metadata.yaml" is not the top-level file, whatever lstrip("./") would say.
    outside = tarball(tmp_path / "b.tgz", {"../metadata.yaml": GOOD})
    with pytest.raises(BundleError, match=r"no metadata.yaml"):
        read_metadata_from_tarball(outside, 4096)
    big = tarball(tmp_path / "c.tgz", {"metadata.yaml": GOOD + b"#" * 5000})
    with pytest.raises(BundleError, match=r"metadata.yaml is \d+ bytes, over the limit of 4096"):
        read_metadata_from_tarball(big, 4096)
    link = tarball(tmp_path / "d.tgz", {"metadata.yaml": "/etc/passwd"})
    with pytest.raises(BundleError, match=r"not a regular file"):
        read_metadata_from_tarball(link, 4096)
    bad = tarball(tmp_path / "e.tgz", {"metadata.yaml": b"app_name: a\n"})
    with pytest.raises(BundleError, match=r"app_version is required"):
        read_metadata_from_tarball(bad, 4096)
    junk = tmp_path / "f.tgz"
    junk.write_bytes(b"\x1f\x8bnot really gzip")
    with pytest.raises(BundleError, match=r"not a readable tar.gz archive"):
        read_metadata_from_tarball(junk, 4096)


def test_read_from_tarball_stops_at_the_stream_budget(tmp_path: Path) -> None:
    path = tarball(tmp_path / "b.tgz", {"images/big.tar": b"\0" * 300_000, "metadata.yaml": GOOD})
    limits = ExtractLimits(max_total_bytes=1000, max_member_bytes=1000, max_members=2)
    with pytest.raises(BundleError, match=r"more data than its size limits allow"):
        read_metadata_from_tarball(path, 4096, limits=limits)
