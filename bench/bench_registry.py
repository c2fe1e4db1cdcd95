"""An application's images into the local registry: sysinv's copy vs ``skopeo copy``.

Two real registries (Debian's ``docker-registry``): a public one without authentication,
seeded (untimed) with an "application" of about 200 MB of images, several gzip layers of
incompressible data each, and the platform's local registry with token authentication.
Our figure: ``publish()``, what the conductor runs at application upload (python-dxf,
blobs streamed registry to registry, ``registry.parallel_images`` images at once), into
an empty local registry. The baselines, measured in the same run on the same images:
``skopeo copy`` of each image, one after another as an operator's script would, and the
same with as many skopeo processes at once as ours copies images. Every round copies
into a fresh local registry of its own, so that each really uploads every blob (no blob
already there, no cross-repository mount). Then ours runs again on the same images into
its registry (a re-upload: nothing to send). The machine is shared and a copy takes
seconds: the figures are medians of a few rounds, whose order rotates.

Before any figure is printed, every image in every destination is checked against the
source: the manifest digest the local registry serves (read back by skopeo, not by our
code) equals the source's, or, where skopeo wrote a manifest of its own, the config and
layer digests are the same; and each registry's storage grew by at least the payload.

    python bench/bench_registry.py [--megabytes 200] [--images 10] [--layers 4] [--rounds 3]

The goal (issue 17, P4): at least as fast as skopeo; a re-upload at most 5 % of the
first upload's time.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sysinv_common.conf import Settings
from sysinv_common.conf.registry import ImageSource
from sysinv_common.registry_token import SigningKey
from sysinv_conductor.images.publish import Job, Published, local_endpoint, plan, publish
from tests import registry_tools
from tests.images import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST
from tests.servers import procs
from tests.servers.registry import LocalRegistry, RegistryServer
from tests.stack import make_settings

#: How an image's bytes split among its layers, biggest first (a base, then thinner ones),
#: as in real application images; the config blob comes on top.
LAYER_WEIGHTS = (8, 4, 2, 1, 1, 1, 1, 1)
#: The local repository prefix of skopeo's copies (ours are under ``docker.io/``).
SKOPEO_PREFIX = "skopeo-run"
T = TypeVar("T")


@dataclass(frozen=True)
class Image:
    """One seeded image: ``<public>/<repository>:<tag>``, read by ours as docker.io's."""

    repository: str
    tag: str
    manifest_digest: str
    #: The config's digest, then each layer's, as the manifest lists them.
    blobs: tuple[str, ...]
    #: Compressed bytes of its blobs (config and layers): what a copy moves.
    size: int

    @property
    def ref(self) -> str:
        return f"docker.io/{self.repository}:{self.tag}"


def skopeo(*args: str) -> subprocess.CompletedProcess[bytes]:
    # No HOME: no user's registries.conf, auth.json or policy overrides in the way.
    return subprocess.run(["skopeo", *args], capture_output=True, timeout=600,
                          env={"HOME": "/nonexistent", "PATH": os.environ["PATH"]})  # fmt: skip


def run_skopeo(*args: str) -> bytes:
    done = skopeo(*args)
    if done.returncode != 0:
        raise SystemExit(f"skopeo {args[0]} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


def blob(blobs: Path, data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def write_image(
    root: Path, repository: str, tag: str, layer_sizes: list[int], rng: random.Random
) -> Image:
    """An OCI layout under ``root``: one image of ``len(layer_sizes)`` gzip layers, each a
    tar holding one file of that many pseudo-random (incompressible) bytes; ``repository``
    is where it will be pushed."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    layers, diff_ids = [], []
    for i, size in enumerate(layer_sizes):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo(f"layer{i}.bin")
            info.size, info.mode, info.mtime = size, 0o644, 0
            tar.addfile(info, io.BytesIO(rng.randbytes(size)))
        diff_ids.append("sha256:" + hashlib.sha256(raw.getvalue()).hexdigest())
        # Level 1: the data does not compress anyway, and seeding stays quick.
        gz = gzip.compress(raw.getvalue(), compresslevel=1, mtime=0)
        layers.append({"mediaType": OCI_LAYER, **blob(blobs, gz)})
    config = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/layer0.bin"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}  # fmt: skip
    config_desc = {"mediaType": OCI_CONFIG, **blob(blobs, json.dumps(config).encode())}
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_desc,
                "layers": layers}  # fmt: skip
    manifest_desc = blob(blobs, json.dumps(manifest).encode())
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [{
        "mediaType": OCI_MANIFEST, **manifest_desc,
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }]}  # fmt: skip
    (root / "index.json").write_text(json.dumps(index))
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    descs = [config_desc, *layers]
    digests = tuple(str(d["digest"]) for d in descs)
    size = sum(int(d["size"]) for d in descs)
    return Image(repository, tag, str(manifest_desc["digest"]), digests, size)


def seed(public: RegistryServer, work: Path, args: argparse.Namespace) -> list[Image]:
    """The application's images written and pushed to the public registry (untimed)."""
    per_image = args.megabytes * 1_000_000 // args.images
    weights = LAYER_WEIGHTS[: args.layers]
    rng = random.Random()  # unseeded: a run's blobs are new to every cache on the way

    def one(n: int) -> Image:
        sizes = [per_image * w // sum(weights) for w in weights]
        layout = work / f"layout{n}"
        image = write_image(layout, f"bench{n}/img", "1", sizes, random.Random(rng.random()))
        run_skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:1",
                   f"docker://{public.address}/{image.repository}:1")  # fmt: skip
        # The digest the public registry serves is the one every copy must reproduce.
        served = source_digest(public, image.repository)
        if served != image.manifest_digest:
            raise SystemExit(f"{image.repository}: the public registry serves {served}, "
                             f"the layout holds {image.manifest_digest}")  # fmt: skip
        return image

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, range(args.images)))


def source_digest(public: RegistryServer, repository: str) -> str:
    raw = run_skopeo("inspect", "--raw", "--tls-verify=false",
                     f"docker://{public.address}/{repository}:1")  # fmt: skip
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def token(local: LocalRegistry, repository: str, actions: tuple[str, ...]) -> str:
    return registry_tools.token(local, repository, *actions, subject="bench-skopeo",
                                lifetime=900)  # fmt: skip


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def local_settings(local: LocalRegistry, state: Path) -> Settings:
    """The conductor's settings for ``local`` (as tests/integration/test_app_images.py's
    stack has them)."""
    settings = make_settings(state)
    reg = settings.registry
    reg.address, reg.insecure = local.address, True
    reg.service, reg.issuer = local.SERVICE, local.ISSUER
    reg.signing_key_file, reg.certificate_file = local.signing_key_file, local.certificate_file
    return settings


def publish_all(
    settings: Settings, public: RegistryServer, jobs: list[Job], parallel: int
) -> Callable[[], Published]:
    """What the conductor runs at upload: ``publish()`` of every job, docker.io read from
    the public registry (configured as its mirror)."""
    assert settings.registry.address is not None
    key = SigningKey.load_or_create(
        settings.registry_signing_key_path, settings.registry_certificate_path
    )
    endpoint = local_endpoint(settings, key, settings.registry.address, None)
    sources = {"docker.io": ImageSource(url=public.address, insecure=True)}
    return lambda: publish(jobs, endpoint, sources, settings.registry.platform, parallel,
                           lambda done, total, job: None, threading.Event())  # fmt: skip


def skopeo_copies(
    local: LocalRegistry, public: RegistryServer, images: list[Image], parallel: int
) -> Callable[[], None]:
    """``skopeo copy`` of every image, ``parallel`` processes at once; the tokens are
    signed beforehand (an operator's script would have its credentials ready)."""
    argvs = [
        ["copy", "--src-tls-verify=false", "--dest-tls-verify=false",
         "--dest-registry-token", token(local, f"{SKOPEO_PREFIX}/{im.repository}",
                                        ("pull", "push")),
         f"docker://{public.address}/{im.repository}:{im.tag}",
         f"docker://{local.address}/{SKOPEO_PREFIX}/{im.repository}:{im.tag}"]
        for im in images
    ]  # fmt: skip

    def run() -> None:
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(lambda argv: run_skopeo(*argv), argvs))

    return run


def check(local: LocalRegistry, prefix: str, images: list[Image], payload: int) -> str:
    """Every image in ``local`` under ``prefix`` is the source's (read back by skopeo);
    what was compared, in words. Exits non-zero on the first difference."""
    layers_only = 0
    for im in images:
        repository = f"{prefix}/{im.repository}"
        raw = run_skopeo("inspect", "--raw", "--tls-verify=false", "--registry-token",
                         token(local, repository, ("pull",)),
                         f"docker://{local.address}/{repository}:{im.tag}")  # fmt: skip
        if "sha256:" + hashlib.sha256(raw).hexdigest() == im.manifest_digest:
            continue
        # A manifest of the copier's own (another media type, reordered fields) is still
        # the same image when it names the same config and the same layers.
        data = json.loads(raw)
        got = tuple(d["digest"] for d in [data.get("config", {}), *data.get("layers", [])])
        if got != im.blobs:
            raise SystemExit(f"RESULT CHECK FAILED: {local.address}/{repository}:{im.tag} "
                             f"has blobs {got}, the source {im.blobs}")  # fmt: skip
        layers_only += 1
    stored = local.server.storage_bytes()
    if stored < payload:
        raise SystemExit(f"RESULT CHECK FAILED: {local.address} stores {stored} bytes, "
                         f"less than the {payload} bytes copied into it")  # fmt: skip
    what = f"{len(images)} manifest digests equal the source's"
    if layers_only:
        what = (f"{len(images) - layers_only} manifest digests equal the source's, "
                f"{layers_only} manifests rewritten, same config and layer digests")  # fmt: skip
    return f"{what}; storage {stored / 1e6:.1f} MB"


@dataclass
class Figures:
    """Seconds per round, for each way of copying."""

    ours: list[float] = field(default_factory=list)
    reupload: list[float] = field(default_factory=list)
    serial: list[float] = field(default_factory=list)
    parallel: list[float] = field(default_factory=list)


def one_round(
    public: RegistryServer, images: list[Image], parallel: int, state: Path, figures: Figures,
    order: int,
) -> dict[str, str]:  # fmt: skip
    """Ours (then its re-upload), skopeo one by one and skopeo in parallel, each into a
    fresh local registry, stopped after it (its storage freed); ``order`` rotates who goes
    first, so that no side always runs on a warmer or quieter machine. What was checked
    of each destination, by name."""
    payload = sum(im.size for im in images)
    jobs = plan(None, [im.ref for im in images])
    checks: dict[str, str] = {}

    def ours(local: LocalRegistry) -> None:
        run = publish_all(local_settings(local, state), public, jobs, parallel)
        seconds, first = timed(run)
        checks["ours"] = check(local, "docker.io", images, payload)
        again_seconds, again = timed(run)
        if first.bytes_sent != payload or again.unchanged != len(images) or again.blobs_sent:
            raise SystemExit(f"RESULT CHECK FAILED: first upload {first}, re-upload {again}")
        figures.ours.append(seconds)
        figures.reupload.append(again_seconds)

    def skopeo_round(n: int, into: list[float]) -> Callable[[LocalRegistry], None]:
        def run(local: LocalRegistry) -> None:
            into.append(timed(skopeo_copies(local, public, images, n))[0])
            checks[f"skopeo x{n}"] = check(local, SKOPEO_PREFIX, images, payload)

        return run

    sides = [ours, skopeo_round(1, figures.serial), skopeo_round(parallel, figures.parallel)]
    for side in sides[order % 3 :] + sides[: order % 3]:
        local = LocalRegistry().start()
        try:
            side(local)
        finally:
            local.stop()
    return {name: checks[name] for name in ("ours", "skopeo x1", f"skopeo x{parallel}")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200, help="the application's size")
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--layers", type=int, default=4, choices=range(1, 9))
    parser.add_argument("--rounds", type=int, default=3, choices=range(1, 100), metavar="N",
                        help="figures are the medians of N rounds")  # fmt: skip
    parser.add_argument("--parallel", type=int, default=None,
                        help="images at once (default: registry.parallel_images)")  # fmt: skip
    args = parser.parse_args()
    procs.install_cleanup()
    figures = Figures()
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
        work = Path(tmp)
        parallel = args.parallel or make_settings(work / "state").registry.parallel_images
        public = RegistryServer("bench-public").start()
        try:
            images = seed(public, work / "layouts", args)
            for order in range(args.rounds):
                checks = one_round(public, images, parallel, work / "state", figures, order)
        finally:
            public.stop()

    mb = sum(im.size for im in images) / 1e6
    ours, serial, par, reupload = (statistics.median(values) for values in (
        figures.ours, figures.serial, figures.parallel, figures.reupload))  # fmt: skip
    skopeo_version = run_skopeo("--version").decode().strip()
    print(f"bench_registry: {mb:.1f} MB in {args.images} images of {args.layers} gzip layers "
          f"(incompressible), public registry (no auth) -> local registry (token auth), "
          f"docker-registry 2.8 on loopback, {os.cpu_count()} cores, {skopeo_version}")  # fmt: skip
    source = (
        "--parallel" if args.parallel else "registry.parallel_images, as the conductor reads it"
    )
    print(f"  {parallel} images at once ({source}); medians of {args.rounds} rounds, each copy "
          "into a fresh local registry:")  # fmt: skip
    rows = [
        (f"ours, publish() x{parallel}", ours, figures.ours),
        ("skopeo copy, one after another", serial, figures.serial),
        (f"skopeo copy, x{parallel} processes", par, figures.parallel),
    ]
    for label, seconds, rounds in rows:
        print(f"  {label:31s} {seconds:6.2f} s {mb / seconds:6.1f} MB/s  "
              f"(rounds {min(rounds):.2f}-{max(rounds):.2f} s)")  # fmt: skip
    print(f"  ours/skopeo serial {ours / serial:.2f}, ours/skopeo x{parallel} {ours / par:.2f} "
          f"(goal: <= 1, at least as fast as skopeo)")  # fmt: skip
    print(f"  re-upload (ours again, same registry, nothing sent): {reupload:.3f} s = "
          f"{100 * reupload / ours:.1f} % of the first (goal: <= 5 %)")  # fmt: skip
    for name, what in checks.items():
        print(f"  checked {name}, every round: {what}")


if __name__ == "__main__":
    main()
