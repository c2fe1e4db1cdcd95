"""A chart's own values.yaml, read from its archive for the plugins, is user input too:
bounded like every other YAML from users."""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path

import pytest

from sysinv_common.errors import InvalidInput
from sysinv_conductor.overrides import generate
from sysinv_conductor.overrides.generate import chart_defaults
from tests.unit.test_bounded_yaml import laughs


def chart(path: Path, values: str | bytes) -> Path:
    data = values.encode() if isinstance(values, str) else values
    with tarfile.open(path, "w:gz") as tar:
        for name, content in (("c/Chart.yaml", b"name: c\nversion: 0.1.0\n"),
                              ("c/values.yaml", data)):  # fmt: skip
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def test_values_are_read(tmp_path: Path) -> None:
    archive = chart(tmp_path / "c-0.1.0.tgz", "a: &a {b: 1}\nc: *a\n")
    assert chart_defaults(archive) == {"a": {"b": 1}, "c": {"b": 1}}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (laughs(8), "chart c-0.1.0.tgz: values.yaml: YAML aliases expand to more than 10000"),
        ("a: " + "[" * 100_000, "chart c-0.1.0.tgz: values.yaml: YAML is nested more than 64"),
        ("a: " + "1" * 5000, "chart c-0.1.0.tgz: values.yaml: YAML integer has more than 1000"),
        ("a: [\n", "chart c-0.1.0.tgz: values.yaml: while parsing"),
    ],
)
def test_values_beyond_the_limits_are_refused(tmp_path: Path, values: str, message: str) -> None:
    archive = chart(tmp_path / "c-0.1.0.tgz", values)
    started = time.monotonic()
    with pytest.raises(InvalidInput) as info:
        chart_defaults(archive)
    assert info.value.message.startswith(message)
    assert time.monotonic() - started < 2


def test_oversized_values_are_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "MAX_CHART_VALUES_BYTES", 100)
    archive = chart(tmp_path / "c-0.1.0.tgz", "a: " + "x" * 200 + "\n")
    with pytest.raises(InvalidInput, match=r"values\.yaml is 204 bytes, over the limit of 100"):
        chart_defaults(archive)
