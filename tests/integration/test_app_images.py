"""An application's images put into the local registry at upload: references in its
charts' ``images.tags`` copied from their registry (the public test registry serving as
the configured mirror of docker.io and quay.io), images in the bundle's ``images/``
archives (an OCI archive and a Docker archive written by skopeo) pushed; checked with
skopeo against the real local registry (token authentication), not with sysinv's code.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from sysinv_common.conf.registry import ImageSource
from sysinv_common.db.models import App, AppEvent
from tests.images import OciImage, write_oci_image
from tests.integration.example_app import REPO, build_bundle
from tests.integration.test_apps_lifecycle import upload_body
from tests.registry_tools import local_digest, skopeo
from tests.servers.helm import HelmBinary
from tests.servers.registry import LocalRegistry, RegistryServer
from tests.stack import Stack, make_settings, running_stack, wait_done


def seed(public: RegistryServer, image: OciImage, dest: str) -> str:
    """``image`` pushed to the public registry as ``dest``; its manifest digest there."""
    done = skopeo("copy", "--dest-tls-verify=false", image.ref, f"docker://{public.address}/{dest}")
    assert done.returncode == 0, done.stderr
    got = skopeo("inspect", "--tls-verify=false", f"docker://{public.address}/{dest}")
    assert got.returncode == 0, got.stderr
    return str(json.loads(got.stdout)["Digest"])


@pytest.fixture
def stack(
    local_registry: LocalRegistry, public_registry: RegistryServer, helm3: HelmBinary,
    tmp_path: Path,
) -> Iterator[Stack]:  # fmt: skip
    settings = make_settings(tmp_path / "state")
    settings.apps.helm_binary = str(helm3.path)
    reg = settings.registry
    reg.address, reg.insecure = local_registry.address, True
    reg.service, reg.issuer = local_registry.SERVICE, local_registry.ISSUER
    reg.signing_key_file = local_registry.signing_key_file
    reg.certificate_file = local_registry.certificate_file
    mirror = ImageSource(url=public_registry.address, insecure=True)
    reg.sources = {"docker.io": mirror, "quay.io": mirror}
    with running_stack(settings) as s:
        yield s


def bundle_with_images(
    helm: HelmBinary, tmp: Path, name: str, tags: dict[str, str], archives: dict[str, Path]
) -> Path:
    """examples/hello-app as ``name``, its hello-config chart's document naming ``tags``
    in ``images.tags``, ``archives`` in its ``images/``."""
    src = tmp / f"src-{name}"
    shutil.copytree(REPO / "examples" / "hello-app", src)
    meta = yaml.safe_load((src / "metadata.yaml").read_text())
    meta["app_name"] = name
    (src / "metadata.yaml").write_text(yaml.safe_dump(meta))
    manifest = src / "hello-app-manifest.yaml"
    docs = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    for doc in docs:
        if doc["schema"] == "armada/Chart/v1" and doc["metadata"]["name"] == "hello-config":
            doc["data"]["values"]["images"] = {"tags": tags}
    manifest.write_text(yaml.safe_dump_all(docs))
    if archives:
        (src / "images").mkdir()
        for file_name, archive in archives.items():
            shutil.copy(archive, src / "images" / file_name)
    return build_bundle(helm, src, tmp / f"out-{name}")


def events(stack: Stack, name: str) -> list[str]:
    with stack.db.session() as s:
        app_id = s.scalar(select(App.id).where(App.name == name))
        return list(s.scalars(select(AppEvent.message).where(AppEvent.app_id == app_id)
                              .order_by(AppEvent.id)))  # fmt: skip


def test_upload_puts_every_image_into_the_local_registry(
    stack: Stack, public_registry: RegistryServer, local_registry: LocalRegistry,
    helm3: HelmBinary, tmp_path: Path,
) -> None:  # fmt: skip
    run = uuid.uuid4().hex[:6]
    # Two references copied through the mirror (one docker.io short name, one quay.io)...
    busybox = seed(public_registry, write_oci_image(tmp_path / "a", tag="a"),
                   f"library/bb{run}:1.36")  # fmt: skip
    tool = seed(public_registry, write_oci_image(tmp_path / "b", tag="b", size=300_000),
                f"org{run}/tool:2.0")  # fmt: skip
    # ... and two images only the bundle has, in both archive formats skopeo writes.
    layout = write_oci_image(tmp_path / "c", tag="c")
    oci_archive, docker_archive = tmp_path / "extra.tar", tmp_path / "saved.tar"
    writes = (("oci-archive", oci_archive, f"docker.io/x{run}/extra:1.0"),
              ("docker-archive", docker_archive, f"quay.io/x{run}/saved:3"))  # fmt: skip
    for transport, path, ref in writes:
        done = skopeo("copy", layout.ref, f"{transport}:{path}:{ref}")
        assert done.returncode == 0, done.stderr
    bundle = bundle_with_images(
        helm3, tmp_path, f"img-{run}",
        {"a": f"bb{run}:1.36", "b": f"quay.io/org{run}/tool:2.0"},
        {"extra.tar": oci_archive, "saved.tar": docker_archive},
    )  # fmt: skip

    r = stack.client.post("/v1/apps", json=upload_body(bundle))
    assert r.status_code in (200, 202), r.text
    app = wait_done(stack, f"img-{run}")
    assert app["status"] == "uploaded", app["progress"]

    assert local_digest(local_registry, f"docker.io/library/bb{run}", "1.36") == busybox
    assert local_digest(local_registry, f"quay.io/org{run}/tool", "2.0") == tool
    # The OCI archive's manifest is pushed as it is; the Docker archive's gets a manifest
    # of its own, which skopeo can read back (its config is the archive's).
    assert local_digest(local_registry, f"docker.io/x{run}/extra", "1.0") == (
        layout.manifest_digest
    )
    assert local_digest(local_registry, f"quay.io/x{run}/saved", "3") is not None
    log = events(stack, f"img-{run}")
    assert any("4 images into the local registry" in m for m in log), log
    assert any(m.startswith("images: 4 images (0 already there)") for m in log), log

    # The same images again (another app naming them): nothing is sent.
    again = bundle_with_images(
        helm3, tmp_path, f"img2-{run}",
        {"a": f"docker.io/library/bb{run}:1.36", "b": f"quay.io/org{run}/tool:2.0"},
        {"extra.tar": oci_archive},
    )  # fmt: skip
    r = stack.client.post("/v1/apps", json=upload_body(again))
    assert r.status_code in (200, 202), r.text
    assert wait_done(stack, f"img2-{run}")["status"] == "uploaded"
    log = events(stack, f"img2-{run}")
    assert any(m.startswith("images: 3 images (3 already there), 0 blobs sent") for m in log), log


def test_an_image_that_cannot_be_had_fails_the_upload_naming_it(
    stack: Stack, public_registry: RegistryServer, local_registry: LocalRegistry,
    helm3: HelmBinary, tmp_path: Path,
) -> None:  # fmt: skip
    run = uuid.uuid4().hex[:6]
    there = seed(public_registry, write_oci_image(tmp_path / "a", tag="a"), f"org{run}/ok:1")
    bundle = bundle_with_images(
        helm3, tmp_path, f"miss-{run}",
        {"ok": f"quay.io/org{run}/ok:1", "gone": f"quay.io/org{run}/missing:9"}, {},
    )  # fmt: skip
    r = stack.client.post("/v1/apps", json=upload_body(bundle))
    assert r.status_code in (200, 202), r.text
    app = wait_done(stack, f"miss-{run}")
    assert app["status"] == "upload-failed"
    assert f"quay.io/org{run}/missing:9" in app["progress"], app["progress"]
    assert "404" in app["progress"] and "MANIFEST_UNKNOWN" in app["progress"], app["progress"]
    assert f"org{run}/ok" not in app["progress"].split("failed:", 1)[1]
    assert there  # the other image was there to be had


def test_an_archive_sysinv_cannot_read_fails_the_upload_before_anything_moves(
    stack: Stack, local_registry: LocalRegistry, helm3: HelmBinary, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    layout = write_oci_image(tmp_path / "c", tag="c")
    fine = tmp_path / "fine.tar"
    assert skopeo("copy", layout.ref, f"oci-archive:{fine}:docker.io/y{run}/fine:1").returncode == 0
    bundle = bundle_with_images(helm3, tmp_path, f"junk-{run}", {},
                                {"a-fine.tar": fine, "junk.tar": junk})  # fmt: skip
    r = stack.client.post("/v1/apps", json=upload_body(bundle))
    assert r.status_code in (200, 202), r.text
    app = wait_done(stack, f"junk-{run}")
    assert app["status"] == "upload-failed"
    assert "images/junk.tar" in app["progress"], app["progress"]
    assert local_digest(local_registry, f"docker.io/y{run}/fine", "1") is None


def test_a_mirror_set_as_a_service_parameter_is_where_images_are_read(
    stack: Stack, public_registry: RegistryServer, local_registry: LocalRegistry,
    helm3: HelmBinary, tmp_path: Path,
) -> None:  # fmt: skip
    run = uuid.uuid4().hex[:6]
    stack.settings.registry.sources = {}  # the conductor's own setting would win
    there = seed(public_registry, write_oci_image(tmp_path / "a", tag="a"), f"m{run}/tool:1")
    bundle = bundle_with_images(helm3, tmp_path, f"mirror-{run}",
                                {"tool": f"quay.io/m{run}/tool:1"}, {})  # fmt: skip
    r = stack.client.post("/v1/service_parameter", json={
        "service": "docker", "section": "quay-registry",
        "parameters": {"url": public_registry.address, "secure": "False"},
    })  # fmt: skip
    assert r.status_code == 200, r.text
    r = stack.client.post("/v1/apps", json=upload_body(bundle))
    assert r.status_code in (200, 202), r.text
    app = wait_done(stack, f"mirror-{run}")
    assert app["status"] == "uploaded", app["progress"]
    assert local_digest(local_registry, f"quay.io/m{run}/tool", "1") == there
