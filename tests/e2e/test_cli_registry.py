"""``system registry-image-*`` against a live ``sysinv aio`` whose local registry is the
real test registry (token authentication, tokens signed by the conductor): images pushed
by skopeo are listed, their tags shown, a tag deleted (and the registry no longer serves
it), refusals are clear."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import registry_tools
from tests.e2e.conftest import Aio, start_aio, stop_aio
from tests.registry_tools import skopeo, token
from tests.servers.registry import LocalRegistry


def push_tags(local: LocalRegistry, tmp: Path, repository: str, *tags: str) -> None:
    """A different image under each tag (deleting a tag deletes its manifest, and with
    it every tag naming the same one)."""
    for tag in tags:
        registry_tools.push(local, tmp, repository, tag)


@pytest.fixture(scope="module")
def aio(local_registry: LocalRegistry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aio]:
    env = dict(local_registry.sysinv_env(), SYSINV_REGISTRY__INSECURE="true")
    server = start_aio(tmp_path_factory.mktemp("aio-registry") / "data", env=env)
    yield server
    stop_aio(server)


def test_registry_images_listed_tagged_and_deleted(
    aio: Aio, local_registry: LocalRegistry, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    one, two = f"cli{run}/one", f"cli{run}/two"
    push_tags(local_registry, tmp_path, one, "1.0", "1.1")
    push_tags(local_registry, tmp_path, two, "latest")

    listed = aio.system("registry-image-list").stdout
    assert "Image Name" in listed and one in listed and two in listed, listed
    values = aio.system("registry-image-tags", one, "--format", "value").stdout.split()
    assert values == ["1.0", "1.1"]

    # Deleting one tag: the registry no longer serves it; the other stays.
    done = aio.system("registry-image-delete", f"{one}:1.0").stdout
    assert f"Image {one}:1.0 deleted" in done
    pull = token(local_registry, one, "pull")
    gone = skopeo("inspect", "--tls-verify=false", "--registry-token", pull,
                  f"docker://{local_registry.address}/{one}:1.0")  # fmt: skip
    assert gone.returncode != 0 and "manifest unknown" in gone.stderr, gone.stderr
    assert aio.system("registry-image-tags", one, "--format", "value").stdout.split() == ["1.1"]

    # A repository whose last tag is gone stays in the catalog, hidden by the filter.
    aio.system("registry-image-delete", f"{two}:latest")
    assert two in aio.system("registry-image-list").stdout
    filtered = aio.system("registry-image-list", "--filter-out-untagged").stdout
    assert two not in filtered and one in filtered


def test_registry_refusals_are_clear(aio: Aio) -> None:
    missing = aio.system("registry-image-delete", "nosuch/image:1", check=False)
    assert missing.returncode != 0
    assert "not found in the local registry" in missing.stderr, missing.stderr
    malformed = aio.system("registry-image-delete", "no-tag-here", check=False)
    assert malformed.returncode != 0 and "name:tag" in malformed.stderr, malformed.stderr
    bad_name = aio.system("registry-image-tags", "Upper/Case", check=False)
    assert bad_name.returncode != 0 and "not an image name" in bad_name.stderr, bad_name.stderr
    no_tags = aio.system("registry-image-tags", "nosuch/image", check=False)
    assert no_tags.returncode != 0 and "not found" in no_tags.stderr, no_tags.stderr
