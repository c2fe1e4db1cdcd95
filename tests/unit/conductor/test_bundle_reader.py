"""The Bundle view of an extracted directory: charts, the one manifest, images."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from sysinv_common.apps import BundleError
from sysinv_conductor.bundle.reader import Bundle, find_manifest, unpack
from tests.unit.test_bounded_yaml import laughs

METADATA = "app_name: demo\napp_version: '1.0'\n"
MANIFEST = """\
---
schema: armada/Manifest/v1
metadata: {schema: metadata/Document/v1, name: demo}
data: {release_prefix: demo, chart_groups: [g]}
---
schema: armada/ChartGroup/v1
metadata: {schema: metadata/Document/v1, name: g}
data: {chart_group: [c]}
"""


def make_app(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def good(root: Path, **extra: str) -> Path:
    files = {"metadata.yaml": METADATA, "charts/c-0.1.0.tgz": "chart", "demo.yaml": MANIFEST}
    files.update(extra)
    return make_app(root, files)


def test_good_layout(tmp_path: Path) -> None:
    root = good(
        tmp_path,
        **{"charts/b-1.0.0.tgz": "b", "images/one.tar": "i", "images/two.tar.gz": "j"},
        **{"values.yaml": "not: a manifest\n", "README.md": "hi"},
    )
    bundle = Bundle.open(root, expect_name="demo", expect_version="1.0")
    assert bundle.metadata.name == "demo"
    assert [p.name for p in bundle.charts] == ["b-1.0.0.tgz", "c-0.1.0.tgz"]
    assert bundle.manifest == root / "demo.yaml"
    assert [p.name for p in bundle.images] == ["one.tar", "two.tar.gz"]


def test_manifest_in_manifests_dir_and_v2(tmp_path: Path) -> None:
    text = MANIFEST.replace("armada/Manifest/v1", "'armada/Manifest/v2'")
    root = make_app(
        tmp_path,
        {"metadata.yaml": METADATA, "charts/c.tgz": "c", "manifests/app.yml": text},
    )
    bundle = Bundle.open(root)
    assert bundle.manifest == root / "manifests" / "app.yml"
    assert bundle.images == ()


def test_missing_manifest(tmp_path: Path) -> None:
    root = make_app(
        tmp_path,
        {
            "metadata.yaml": METADATA,
            "charts/c.tgz": "c",
            "other.yaml": "schema: armada/Chart/v1\n",
            # Mentioned in a comment or nested value only: not a manifest.
            "notes.yaml": "# schema: armada/Manifest/v1\nx:\n  schema: armada/Manifest/v1\n",
            "deep/manifest.yaml": MANIFEST,  # only the root and manifests/ are searched
        },
    )
    with pytest.raises(BundleError, match=r"bundle has no Armada manifest") as exc:
        Bundle.open(root)
    assert "armada/Manifest/v1 or armada/Manifest/v2" in exc.value.message


def test_two_manifests(tmp_path: Path) -> None:
    root = good(tmp_path, **{"manifests/again.yaml": MANIFEST})
    with pytest.raises(BundleError, match=r"more than one Armada manifest file: .*demo.yaml"):
        Bundle.open(root)


def test_broken_manifest_yaml_names_the_file(tmp_path: Path) -> None:
    root = good(tmp_path, **{"demo.yaml": MANIFEST + "data: [unclosed\n"})
    with pytest.raises(BundleError, match=r"demo.yaml is not valid YAML"):
        Bundle.open(root)


def test_manifest_alias_bomb_is_refused_naming_the_file(tmp_path: Path) -> None:
    root = good(tmp_path, **{"demo.yaml": MANIFEST + laughs(8)})
    with pytest.raises(BundleError, match=r"^demo.yaml: YAML aliases expand to more than 10000"):
        Bundle.open(root)


def test_oversized_yaml_is_refused(tmp_path: Path) -> None:
    root = good(tmp_path)
    with pytest.raises(BundleError, match=r"demo.yaml is .* over the limit of 100"):
        find_manifest(root, max_bytes=100)


def test_metadata_problems_come_first(tmp_path: Path) -> None:
    root = good(tmp_path, **{"metadata.yaml": "app_version: '1'\n"})
    with pytest.raises(BundleError, match=r"app_name is required"):
        Bundle.open(root)
    (root / "metadata.yaml").unlink()
    with pytest.raises(BundleError, match=r"no metadata.yaml"):
        Bundle.open(root)


def test_expected_version_mismatch(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"app_version '1.0' does not match"):
        Bundle.open(good(tmp_path), expect_version="2.0")


def test_charts_directory_problems(tmp_path: Path) -> None:
    root = make_app(tmp_path, {"metadata.yaml": METADATA, "demo.yaml": MANIFEST})
    with pytest.raises(BundleError, match=r"bundle has no charts/ directory"):
        Bundle.open(root)
    (root / "charts").mkdir()
    with pytest.raises(BundleError, match=r"no chart archives in charts/"):
        Bundle.open(root)
    (root / "charts" / "README").write_text("x")
    with pytest.raises(BundleError, match=r"charts/README is not a chart archive"):
        Bundle.open(root)
    (root / "charts" / "README").unlink()
    (root / "charts" / "sub.tgz").mkdir()
    with pytest.raises(BundleError, match=r"charts/sub.tgz is not a chart archive"):
        Bundle.open(root)
    (root / "charts" / "sub.tgz").rmdir()
    (root / "charts" / "link.tgz").symlink_to("/etc/passwd")
    with pytest.raises(BundleError, match=r"charts/link.tgz is not a chart archive"):
        Bundle.open(root)


def test_images_directory_holds_files_only(tmp_path: Path) -> None:
    root = good(tmp_path)
    (root / "images" / "nested").mkdir(parents=True)
    with pytest.raises(BundleError, match=r"images/nested is not an image archive file"):
        Bundle.open(root)


def tgz(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


GOOD_FILES = {"metadata.yaml": METADATA, "charts/c-0.1.0.tgz": "chart", "demo.yaml": MANIFEST}


def listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_unpack_good(tmp_path: Path) -> None:
    tarball = tgz(tmp_path / "b.tgz", GOOD_FILES)
    bundle = unpack(tarball, tmp_path / "apps" / "demo" / "1.0", expect_name="demo")
    assert bundle.manifest == tmp_path / "apps" / "demo" / "1.0" / "demo.yaml"
    assert listing(tmp_path / "apps") == {
        "demo",
        "demo/1.0",
        "demo/1.0/metadata.yaml",
        "demo/1.0/charts",
        "demo/1.0/charts/c-0.1.0.tgz",
        "demo/1.0/demo.yaml",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metadata.yaml": "app_version: '1.0'\n"}, "metadata.yaml: app_name is required"),
        ({"metadata.yaml": "app_name: [x\n"}, "metadata.yaml is not valid YAML"),
        ({"metadata.yaml": "app_name: demo\napp_version: 1.0\n"}, "app_version must be a string"),
        ({"metadata.yaml": "app_name: 7\napp_version: '1'\n"}, "app_name must be a string"),
        ({"metadata.yaml": None}, "bundle has no metadata.yaml"),
        ({"demo.yaml": None}, "bundle has no Armada manifest"),
        ({"charts/c-0.1.0.tgz": None}, "bundle has no charts/ directory"),
        ({"metadata.yaml": "app_name: other\napp_version: '1.0'\n"}, "does not match"),
    ],
)
def test_unpack_bad_bundle_leaves_nothing(
    tmp_path: Path, change: dict[str, str | None], message: str
) -> None:
    files = {k: v for k, v in {**GOOD_FILES, **change}.items() if v is not None}
    tarball = tgz(tmp_path / "b.tgz", files)
    (tmp_path / "apps").mkdir()
    with pytest.raises(BundleError, match=message):
        unpack(tarball, tmp_path / "apps" / "demo", expect_name="demo")
    assert listing(tmp_path) == {"b.tgz", "apps"}
