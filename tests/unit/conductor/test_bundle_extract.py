"""Safe extraction: hostile tarballs are refused and leave nothing behind."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from sysinv_common.apps import BundleError
from sysinv_common.apps.extract import ExtractLimits, extract_bundle

Entry = tuple[tarfile.TarInfo, bytes | None]


def file_(name: str, data: bytes = b"x", mode: int = 0o644) -> Entry:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    return info, data


def dir_(name: str, mode: int = 0o755) -> Entry:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    return info, None


def special(name: str, kind: bytes, linkname: str = "") -> Entry:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, None


def make_tar(path: Path, entries: Iterable[Entry], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


GOOD = [
    dir_("./"),
    file_("./metadata.yaml", b"app_name: a\napp_version: '1'\n"),
    dir_("./charts"),
    file_("./charts/a-0.1.0.tgz", b"chart"),
]


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def area(tmp_path: Path) -> Path:
    """tmp_path holds the tarball, a sentinel and apps/<name>/ where extraction goes."""
    (tmp_path / "apps" / "demo").mkdir(parents=True)
    (tmp_path / "sentinel").write_text("untouched")
    return tmp_path


def dest_of(area: Path) -> Path:
    return area / "apps" / "demo" / "1.0"


def assert_rejected(
    area: Path, entries: list[Entry], match: str, limits: ExtractLimits | None = None
) -> BundleError:
    tarball = make_tar(area / "bundle.tgz", entries)
    before = snapshot(area)
    with pytest.raises(BundleError, match=match) as exc:
        extract_bundle(tarball, dest_of(area), limits)
    # Nothing in the destination, nothing anywhere else, no temporary directory left over.
    assert not dest_of(area).exists()
    assert snapshot(area) == before
    assert (area / "sentinel").read_text() == "untouched"
    return exc.value


def test_good_bundle_extracts(area: Path) -> None:
    tarball = make_tar(area / "bundle.tgz", GOOD)
    stats = extract_bundle(tarball, dest_of(area))
    dest = dest_of(area)
    assert (dest / "metadata.yaml").read_bytes().startswith(b"app_name")
    assert (dest / "charts" / "a-0.1.0.tgz").read_bytes() == b"chart"
    assert (stats.files, stats.directories, stats.total_bytes) == (2, 1, 34)
    assert snapshot(area) - {"bundle.tgz", "sentinel"} == {
        "apps",
        "apps/demo",
        "apps/demo/1.0",
        "apps/demo/1.0/metadata.yaml",
        "apps/demo/1.0/charts",
        "apps/demo/1.0/charts/a-0.1.0.tgz",
    }


def test_plain_tar_and_implicit_directories(area: Path) -> None:
    # No directory members at all: parents are made as needed.
    tarball = make_tar(area / "bundle.tar", [file_("charts/deep/x.tgz")], mode="w")
    extract_bundle(tarball, dest_of(area))
    assert (dest_of(area) / "charts" / "deep" / "x.tgz").is_file()


def test_empty_destination_directory_is_replaced(area: Path) -> None:
    dest_of(area).mkdir()
    extract_bundle(make_tar(area / "b.tgz", GOOD), dest_of(area))
    assert (dest_of(area) / "metadata.yaml").is_file()


def test_non_empty_destination_is_refused(area: Path) -> None:
    dest_of(area).mkdir()
    (dest_of(area) / "old").write_text("old")
    with pytest.raises(BundleError, match=r"is not an empty directory"):
        extract_bundle(make_tar(area / "b.tgz", GOOD), dest_of(area))
    assert snapshot(dest_of(area)) == {"old"}


def test_modes_are_sane(area: Path) -> None:
    entries = [
        dir_("charts", mode=0o777),
        file_("charts/suid", mode=0o4755),
        file_("charts/sgid", mode=0o2775),
        file_("charts/world", mode=0o666),
        file_("charts/none", mode=0o000),
    ]
    old = os.umask(0o077)  # the umask must not change what we set
    try:
        extract_bundle(make_tar(area / "b.tgz", entries), dest_of(area))
    finally:
        os.umask(old)
    charts = dest_of(area) / "charts"

    def mode(p: Path) -> int:
        return stat.S_IMODE(p.lstat().st_mode)

    assert mode(charts) == 0o755
    assert mode(charts / "suid") == 0o755
    assert mode(charts / "sgid") == 0o755
    assert mode(charts / "world") == 0o644
    assert mode(charts / "none") == 0o644


@pytest.mark.parametrize("name", ["../evil", "charts/../../evil", "a/../b", ".."])
def test_traversal_is_refused(area: Path, name: str) -> None:
    err = assert_rejected(area, [*GOOD, file_(name)], "escapes the bundle directory")
    assert f"member '{name}'" in err.message
    assert not (area / "apps" / "demo" / "evil").exists()
    assert not (area / "apps" / "evil").exists()


def test_absolute_path_is_refused(area: Path) -> None:
    target = area / "abs-evil"
    err = assert_rejected(area, [*GOOD, file_(str(target))], "is an absolute path")
    assert str(target) in err.message
    assert not target.exists()


@pytest.mark.parametrize("link", ["../../../sentinel", "/etc/passwd", "metadata.yaml"])
def test_symlinks_are_refused(area: Path, link: str) -> None:
    # Even one pointing inside the tree: the bundle format has no links (docs/app-bundle.md).
    entries = [*GOOD, special("charts/link", tarfile.SYMTYPE, link), file_("charts/link/x")]
    err = assert_rejected(area, entries, "is a symbolic link")
    assert "member 'charts/link'" in err.message and link in err.message
    assert "links are not allowed" in err.message


@pytest.mark.parametrize("link", ["../../sentinel", "/etc/passwd", "metadata.yaml"])
def test_hardlinks_are_refused(area: Path, link: str) -> None:
    entries = [*GOOD, special("charts/hard", tarfile.LNKTYPE, link)]
    err = assert_rejected(area, entries, "is a hard link")
    assert link in err.message


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE])
def test_device_files_are_refused(area: Path, kind: bytes) -> None:
    info, _ = special("charts/null", kind)
    info.devmajor, info.devminor = 1, 3
    assert_rejected(area, [*GOOD, (info, None)], "member 'charts/null' is a device file")


def test_fifo_is_refused(area: Path) -> None:
    assert_rejected(area, [*GOOD, special("pipe", tarfile.FIFOTYPE)], "member 'pipe' is a FIFO")


def test_member_over_size_cap_is_refused(area: Path) -> None:
    limits = ExtractLimits(max_total_bytes=10_000, max_member_bytes=100, max_members=50)
    err = assert_rejected(
        area, [*GOOD, file_("images/big.tar", b"x" * 101)], "over the limit", limits
    )
    assert "member 'images/big.tar' is 101 bytes" in err.message
    assert "100 bytes per member" in err.message


def test_total_over_size_cap_is_refused(area: Path) -> None:
    limits = ExtractLimits(max_total_bytes=250, max_member_bytes=100, max_members=50)
    entries = [*GOOD, *(file_(f"images/{i}.tar", b"x" * 100) for i in range(3))]
    err = assert_rejected(area, entries, "larger than the limit of 250 bytes", limits)
    assert "images/2.tar" in err.message


def test_too_many_members_are_refused(area: Path) -> None:
    limits = ExtractLimits(max_members=10)
    entries = [*GOOD, *(file_(f"charts/{i}.tgz") for i in range(7))]
    assert_rejected(area, entries, "more than 10 members", limits)


def test_huge_header_is_refused_without_decompressing_it(area: Path) -> None:
    # A pax record is read into memory whole by tarfile: the stream cap must stop it.
    info, data = file_("metadata.yaml")
    info.pax_headers = {"comment": "x" * 200_000}
    limits = ExtractLimits(max_total_bytes=1000, max_member_bytes=1000, max_members=4)
    assert_rejected(area, [(info, data)], "more data than its size limits allow", limits)


def test_duplicate_file_is_refused(area: Path) -> None:
    assert_rejected(area, [*GOOD, file_("metadata.yaml", b"again")], "appears more than once")


def test_file_over_directory_is_refused(area: Path) -> None:
    assert_rejected(area, [*GOOD, file_("charts")], "where the bundle has a directory")


def test_directory_over_file_is_refused(area: Path) -> None:
    assert_rejected(area, [*GOOD, file_("metadata.yaml/x")], "needs a directory")


def test_not_a_tarball_is_refused(area: Path) -> None:
    tarball = area / "bundle.tgz"
    tarball.write_bytes(b"this is not a tarball at all" * 40)
    with pytest.raises(BundleError, match=r"not a readable tar.gz archive"):
        extract_bundle(tarball, dest_of(area))
    assert not dest_of(area).exists()
    assert snapshot(area) == {"apps", "apps/demo", "bundle.tgz", "sentinel"}


def test_truncated_tarball_is_refused(area: Path) -> None:
    tarball = make_tar(area / "bundle.tgz", [*GOOD, file_("images/a.tar", os.urandom(50_000))])
    tarball.write_bytes(tarball.read_bytes()[:-20_000])
    with pytest.raises(BundleError, match=r"not a readable tar.gz archive"):
        extract_bundle(tarball, dest_of(area))
    assert not dest_of(area).exists()
    assert snapshot(area) == {"apps", "apps/demo", "bundle.tgz", "sentinel"}


def test_control_characters_in_names_are_escaped_in_messages(area: Path) -> None:
    err = assert_rejected(area, [file_("../a\nb")], "escapes")
    assert "\n" not in err.message


def test_leftovers_of_an_interrupted_extraction_are_removed(area: Path) -> None:
    stale = area / "apps" / "demo" / ".1.0.extract-dead"
    (stale / "charts").mkdir(parents=True)
    extract_bundle(make_tar(area / "b.tgz", GOOD), dest_of(area))
    assert not stale.exists()
    assert snapshot(area / "apps" / "demo") == {
        "1.0",
        "1.0/metadata.yaml",
        "1.0/charts",
        "1.0/charts/a-0.1.0.tgz",
    }
