"""The example bundle end to end, and chart checks and storage with the real helm 3 and 4."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import yaml

from armada.deployers.process import ChildLimits
from sysinv_common.apps import BundleError
from sysinv_common.apps.extract import extract_bundle
from sysinv_common.apps.metadata import read_metadata_from_tarball
from sysinv_common.errors import SysinvError
from sysinv_conductor.bundle.charts import check_charts, prune_repo, store_charts
from sysinv_conductor.bundle.reader import Bundle
from tests.servers.helm import HelmBinary

ROOT = Path(__file__).resolve().parents[3]
BUILD = ROOT / "examples" / "build_app.py"
EXAMPLE_CHARTS = {"hello-config", "hello-web", "hello-worker"}


def build_example(helm: HelmBinary, home: Path, out: Path) -> Path:
    proc = subprocess.run(
        [sys.executable, str(BUILD), "--helm", str(helm.path), "--out", str(out)],
        env=helm.env(home),
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(proc.stdout.strip().splitlines()[-1])


def chart_archive(path: Path, name: str, templates: dict[str, str]) -> Path:
    """A chart archive made by hand, so that it can be broken in ways helm package refuses."""
    files = {"Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n", "values.yaml": ""}
    files.update({f"templates/{k}": v for k, v in templates.items()})
    with tarfile.open(path, "w:gz") as tar:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_example_bundle_end_to_end(helm: HelmBinary, helm_home: Path, tmp_path: Path) -> None:
    env = helm.env(helm_home)
    tarball = build_example(helm, helm_home, tmp_path / "build")
    assert tarball.name == "hello-app-1.0-1.tgz"

    meta = read_metadata_from_tarball(tarball, 256 * 1024)
    assert (meta.name, meta.version) == ("hello-app", "1.0-1")

    app_dir = tmp_path / "apps" / meta.name / meta.version
    stats = extract_bundle(tarball, app_dir)
    assert stats.files == 5
    bundle = Bundle.open(app_dir, expect_name=meta.name, expect_version=meta.version)
    assert bundle.manifest.name == "hello-app-manifest.yaml"
    assert bundle.images == ()
    docs = list(yaml.safe_load_all(bundle.manifest.read_text()))
    assert [d["schema"] for d in docs].count("armada/Chart/v1") == 4
    groups = {d["metadata"]["name"]: d["data"] for d in docs if "ChartGroup" in d["schema"]}
    assert groups["hello-base"]["sequenced"] is True
    assert groups["hello-workers"]["sequenced"] is False

    infos = check_charts(helm.path, bundle.charts, env=env)
    assert {(i.name, i.version) for i in infos} == {(c, "0.1.0") for c in EXAMPLE_CHARTS}
    assert all(i.api_version == "v2" and i.app_version == "1.0" for i in infos)

    repo = tmp_path / "helm_charts"
    stored = store_charts(helm.path, infos, repo, env=env, url="http://controller:8080/charts")
    assert sorted(p.name for p in stored) == [f"{c}-0.1.0.tgz" for c in sorted(EXAMPLE_CHARTS)]
    index = yaml.safe_load((repo / "index.yaml").read_text())
    assert set(index["entries"]) == EXAMPLE_CHARTS
    web = index["entries"]["hello-web"][0]
    assert web["urls"] == ["http://controller:8080/charts/hello-web-0.1.0.tgz"]

    # Storing the same archives again is a no-op; pruning what is not kept empties the index.
    assert store_charts(helm.path, infos, repo, env=env) == stored
    kept = {"hello-web-0.1.0.tgz"}
    assert prune_repo(helm.path, repo, lambda: kept, env=env) == (
        "hello-config-0.1.0.tgz",
        "hello-worker-0.1.0.tgz",
    )
    assert set(yaml.safe_load((repo / "index.yaml").read_text())["entries"]) == {"hello-web"}
    assert prune_repo(helm.path, repo, lambda: kept, env=env) == ()  # nothing more to do
    assert prune_repo(helm.path, repo, set, env=env) == ("hello-web-0.1.0.tgz",)
    assert not list(repo.glob("*.tgz"))
    assert not (yaml.safe_load((repo / "index.yaml").read_text()).get("entries") or {})


def test_lint_failure_names_the_chart(helm: HelmBinary, helm_home: Path, tmp_path: Path) -> None:
    bad = chart_archive(
        tmp_path / "broken-0.1.0.tgz",
        "broken",
        {"cm.yaml": "kind: ConfigMap\nmetadata:\n  name: {{ .Values.x | nosuchfunc }}\n"},
    )
    with pytest.raises(BundleError, match=r"chart broken-0\.1\.0\.tgz: helm lint failed: ") as exc:
        check_charts(helm.path, [bad], env=helm.env(helm_home))
    assert "nosuchfunc" in exc.value.message


def test_not_a_chart_archive(helm: HelmBinary, helm_home: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tgz"
    junk.write_bytes(b"not a chart")
    with pytest.raises(BundleError, match=r"chart junk\.tgz: helm lint failed: .+"):
        check_charts(helm.path, [junk], env=helm.env(helm_home))


def test_same_chart_twice(helm: HelmBinary, helm_home: Path, tmp_path: Path) -> None:
    one = chart_archive(tmp_path / "one.tgz", "dup", {})
    two = shutil.copy(one, tmp_path / "two.tgz")
    with pytest.raises(BundleError, match=r"one.tgz and two.tgz are both chart 'dup'"):
        check_charts(helm.path, [one, Path(two)], env=helm.env(helm_home))


def test_store_refuses_different_content_for_a_stored_version(
    helm: HelmBinary, helm_home: Path, tmp_path: Path
) -> None:
    env = helm.env(helm_home)
    repo = tmp_path / "repo"
    first = chart_archive(tmp_path / "a.tgz", "same", {})
    (info,) = check_charts(helm.path, [first], env=env)
    store_charts(helm.path, [info], repo, env=env)
    second = chart_archive(
        tmp_path / "b.tgz", "same", {"cm.yaml": "kind: ConfigMap\nmetadata: {name: x}\n"}
    )
    (other,) = check_charts(helm.path, [second], env=env)
    (fresh,) = check_charts(helm.path, [chart_archive(tmp_path / "n.tgz", "new", {})], env=env)
    index = (repo / "index.yaml").read_bytes()
    with pytest.raises(
        BundleError,
        match=r"^chart same 0.1.0 \(b.tgz\) differs from the same-0.1.0.tgz already in the "
        r"chart repository: give each a new version$",
    ):
        store_charts(helm.path, [fresh, other], repo, env=env)
    # Nothing of the refused set was stored, not even the archive that was fine.
    assert (repo / "same-0.1.0.tgz").read_bytes() == first.read_bytes()
    assert sorted(p.name for p in repo.iterdir()) == [".sysinv-repo.lock", "index.yaml",
                                                      "same-0.1.0.tgz"]  # fmt: skip
    assert (repo / "index.yaml").read_bytes() == index
    store_charts(helm.path, [other], repo, env=env, replace=True)
    assert (repo / "same-0.1.0.tgz").read_bytes() == second.read_bytes()


def test_store_puts_back_what_it_had_when_the_index_fails(
    helm: HelmBinary, helm_home: Path, tmp_path: Path
) -> None:
    env = helm.env(helm_home)
    repo = tmp_path / "repo"
    first = chart_archive(tmp_path / "a.tgz", "same", {})
    (info,) = check_charts(helm.path, [first], env=env)
    store_charts(helm.path, [info], repo, env=env)
    changed = chart_archive(tmp_path / "b.tgz", "same", {"cm.yaml": "kind: ConfigMap\n"})
    (other,) = check_charts(helm.path, [changed], env=env)
    (fresh,) = check_charts(helm.path, [chart_archive(tmp_path / "n.tgz", "new", {})], env=env)
    # helm cannot write index.yaml where a directory is: the real helm fails.
    (repo / "index.yaml").unlink()
    (repo / "index.yaml").mkdir()
    with pytest.raises(SysinvError, match=r"helm repo index .* failed"):
        store_charts(helm.path, [fresh, other], repo, env=env, replace=True)
    assert (repo / "same-0.1.0.tgz").read_bytes() == first.read_bytes()
    # No new archive, no staged copy, no backup left (helm may leave its own temp index).
    ours = [p.name for p in repo.iterdir() if not p.name.startswith("index.yaml")]
    assert sorted(ours) == [".sysinv-repo.lock", "same-0.1.0.tgz"]


#: Doubles a string 28 times: 2 GiB of ConfigMap if nothing stops it (278 bytes of template).
BOMB = """{{- $s := "xxxxxxxx" }}{{- range until 28 }}{{- $s = print $s $s }}{{- end }}
kind: ConfigMap
apiVersion: v1
metadata: {name: bomb}
data: {x: {{ $s | quote }}}
"""


def test_a_template_bomb_stops_at_helms_memory_limit(
    helm: HelmBinary, helm_home: Path, tmp_path: Path
) -> None:
    bomb = chart_archive(tmp_path / "bomb-0.1.0.tgz", "bomb", {"cm.yaml": BOMB})
    work = tmp_path / "work"
    limits = ChildLimits(memory_bytes=256 * 1024 * 1024, cpu_seconds=60)
    with pytest.raises(BundleError) as exc:
        check_charts(helm.path, [bomb], env=helm.env(helm_home), limits=limits, tmp_parent=work)
    assert exc.value.message == (
        "chart bomb-0.1.0.tgz: `helm lint` was stopped: it ran out of its 256 MiB of memory"
    )
    # helm lint's own temporary directories went with the one it was given.
    assert list(work.iterdir()) == []
    # The same limits let a sound chart through.
    sound = chart_archive(tmp_path / "sound-0.1.0.tgz", "sound", {})
    check_charts(helm.path, [sound], env=helm.env(helm_home), limits=limits, tmp_parent=work)


def test_missing_helm_is_not_a_bundle_error(tmp_path: Path) -> None:
    archive = chart_archive(tmp_path / "c.tgz", "c", {})
    with pytest.raises(SysinvError, match=r"helm binary .*/no-helm cannot be run") as exc:
        check_charts(tmp_path / "no-helm", [archive])
    assert not isinstance(exc.value, BundleError)


def test_build_script_says_when_helm_is_missing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HELM"}
    env["PATH"] = str(tmp_path)  # no helm here
    proc = subprocess.run(
        [sys.executable, str(BUILD), "--out", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "helm not found" in proc.stderr and "--helm PATH or set HELM" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_build_is_reproducible(helm: HelmBinary, helm_home: Path, tmp_path: Path) -> None:
    """Two builds of the same source, seconds apart, are the same bytes, chart archives
    included: helm 3's `helm package` stamps the current time, which the build rewrites,
    and the chart repository refuses a stored chart version with other bytes."""
    first = build_example(helm, helm_home, tmp_path / "one")
    time.sleep(1.1)  # helm 3 stamps whole seconds
    second = build_example(helm, helm_home, tmp_path / "two")
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tar:
        archives = [m for m in tar.getmembers() if m.name.startswith("charts/")]
        assert {m.name for m in archives if m.isfile()} == {
            f"charts/{c}-0.1.0.tgz" for c in EXAMPLE_CHARTS
        }
        for member in archives:
            data = tar.extractfile(member) if member.isfile() else None
            if data is None:
                continue
            with tarfile.open(fileobj=io.BytesIO(data.read()), mode="r:gz") as chart:
                assert {(m.mtime, m.uid, m.gid, m.uname) for m in chart.getmembers()} == {
                    (0, 0, 0, "")
                }
