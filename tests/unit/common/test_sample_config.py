"""etc/sysinv.sample.yaml is render_sample()'s output, names every setting, and loads."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sysinv_common.conf import CONFIG_FILE_ENV, Settings, load_settings
from sysinv_common.conf.sample import EXAMPLES, MACHINE_SPECIFIC, leaf_paths, render_sample

SAMPLE = Path(__file__).parents[3] / "etc" / "sysinv.sample.yaml"
# A commented-out key is "#key: value"; "# text" is only a comment.
COMMENTED_KEY = re.compile(r"^(\s*)#(?=[^\s#])", re.MULTILINE)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No SYSINV_* variable of the machine running the tests may change what loads."""
    for name in list(os.environ):
        if name.startswith("SYSINV_"):
            monkeypatch.delenv(name)
    return monkeypatch


def _lookup(tree: Any, path: str) -> bool:
    for part in path.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return False
        tree = tree[part]
    return True


def test_committed_sample_is_rendered_from_the_models() -> None:
    assert SAMPLE.read_text(encoding="utf-8") == render_sample(), (
        "etc/sysinv.sample.yaml is stale: run `sysinv sample-config > etc/sysinv.sample.yaml`"
    )


def test_every_setting_appears() -> None:
    enabled = yaml.safe_load(COMMENTED_KEY.sub(r"\1", SAMPLE.read_text(encoding="utf-8")))
    missing = [path for path in leaf_paths() if not _lookup(enabled, path)]
    assert not missing


def test_examples_and_machine_keys_name_real_settings() -> None:
    assert set(EXAMPLES) | MACHINE_SPECIFIC <= set(leaf_paths())


def test_sample_loads_as_the_defaults(clean_env: pytest.MonkeyPatch) -> None:
    defaults = load_settings()
    clean_env.setenv(CONFIG_FILE_ENV, str(SAMPLE))
    loaded = load_settings()
    assert isinstance(loaded, Settings)
    assert loaded.model_dump() == defaults.model_dump()


def test_sample_with_every_key_enabled_loads(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    enabled = tmp_path / "sysinv.yaml"
    enabled.write_text(COMMENTED_KEY.sub(r"\1", render_sample()), encoding="utf-8")
    clean_env.setenv(CONFIG_FILE_ENV, str(enabled))
    settings = load_settings()
    assert settings.database.url == EXAMPLES["database.url"]
    assert settings.bootstrap.external_ceph is not None
