"""Collect the value key paths of real Helm charts into ``tests/data/chart_key_paths.json``.

Run by hand, not in CI: it needs bare git snapshots of the upstream repositories, which the
tests do not have. The tests only read the JSON file this script writes.

Usage (from the repository root)::

    .venv/bin/python tests/data/collect_key_paths.py /work/.mirror \
        [--output tests/data/chart_key_paths.json]

Each positional argument is either a bare git directory of one repository or a directory
holding such snapshots as ``<owner>+<name>/repo`` (the layout the snapshot tool produces). The
repository is recognised by that ``<owner>+<name>`` directory name, or by a directory named
``<owner>+<name>`` / ``<name>`` that is the git directory itself. Needed: openstack/openstack-helm,
openstack/openstack-helm-infra, starlingx/platform-armada-app and starlingx/openstack-armada-app.

What is collected, per chart (files are read with ``git show <commit>:<path>``, never copied):

* every intermediate and leaf key path of the chart's ``values.yaml``;
* every ``.Values.a.b`` reference outside ``{{/* comments */}}`` in the chart's own
  ``templates/`` (``*.yaml`` and ``*.tpl``, recursively), in the forms ``.Values.x``,
  ``$.Values.x``, ``$envAll.Values.x`` (any variable),
  ``index .Values "a" "b"`` and ``hasKey .Values.a "b"`` with string-literal keys, and reads
  through a variable bound in the same file to a values path (``$d := .Values.classdefaults``
  then ``$d.monitors``; ``range $c := .Values.classes`` then ``$c.pool_name`` when values.yaml
  defines ``classes`` as a list);
* for templates that call helm-toolkit's per-host daemonset overrides
  (``helm-toolkit.utils.daemonset_overrides``, reading ``conf.overrides.<chart>_<daemonset>``,
  or ``helm-toolkit.utils.daemonset_overrides_root``, reading ``overrides.<chart>_<daemonset>``)
  the paths that helper reads, checked against the helper's source at the same commit.

Per chart, ``credential_usernames`` also records, from values.yaml, the ``username`` of each
credential entry ``endpoints.<endpoint>.auth.<user>`` of the database (``oslo_db*``), message
bus (``oslo_messaging*``) and identity endpoints, so tests can tell which entries of different
charts are the same database, bus or keystone user (nova's ``identity.auth.neutron`` is the
user ``neutron`` in 2019 and ``nova_neutron`` today).

Notation: keys joined with ``.``; a dot inside a key is escaped as ``\\.``; ``name[]`` is an
item of the list ``name`` (map items are flattened under it); ``*`` stands for any map key
(only in the ``daemonset_overrides_root`` label paths). Keys starting with ``__`` are
helm-toolkit scratch space, not values, and are left out.

Where a chart lives: the openstack charts are taken from the newest snapshot commit that has
``<chart>/values.yaml``, preferring openstack-helm's HEAD, then openstack-helm-infra's HEAD, then
the last commit of either that still had the chart. The StarlingX charts are taken from the last
platform-armada-app commit that still had them under
``stx-platform-helm/stx-platform-helm/helm-charts/``.

StarlingX-era versions (``starlingx`` in the output): the openstack-helm and openstack-helm-infra
commits that StarlingX's stx-openstack application pinned, read from the ``SHA=`` line of
``openstack-helm/centos/build_srpm.data`` and ``openstack-helm-infra/centos/build_srpm.data``
along the mainline (first parents) of starlingx/openstack-armada-app, keeping the pinned
commits dated from ``--starlingx-since`` to ``--starlingx-until`` (default 2019-01-01 to
2021-12-31). Every openstack chart a pinned commit has is collected as above, under
``<source>@<short commit>``, with helm-toolkit read from the openstack-helm-infra commit pinned
with it. StarlingX built its packages from those commits with patches of its own (its
files/*.patch); the facts are the upstream charts, without those patches.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

OPENSTACK_CHARTS = (
    "mariadb",
    "rabbitmq",
    "memcached",
    "keystone",
    "ingress",
    "nova",
    "neutron",
    "placement",
    "glance",
    "libvirt",
    "openvswitch",
)
# (source name, owner/name) in order of preference for the openstack charts.
OPENSTACK_SOURCES = (
    ("openstack-helm", "openstack/openstack-helm"),
    ("openstack-helm-infra", "openstack/openstack-helm-infra"),
)
STARLINGX_SOURCE = ("platform-armada-app", "starlingx/platform-armada-app")
STARLINGX_CHART_DIR = "stx-platform-helm/stx-platform-helm/helm-charts"
STARLINGX_CHARTS = ("rbd-provisioner", "ceph-pools-audit")
# Where StarlingX's stx-openstack application pinned the openstack-helm repositories.
PINS_SOURCE = "starlingx/openstack-armada-app"
PIN_FILES = (
    ("openstack-helm", "openstack-helm/centos/build_srpm.data"),
    ("openstack-helm-infra", "openstack-helm-infra/centos/build_srpm.data"),
)
PIN_RE = re.compile(r"^SHA=([0-9a-f]{40})\s*$", re.MULTILINE)
DEFAULT_SINCE = "2019-01-01"
DEFAULT_UNTIL = "2021-12-31"
# Endpoints whose auth entries are credentials of a database, message bus or keystone user.
CREDENTIAL_ENDPOINT_RE = re.compile(r"^(?:oslo_db\w*|oslo_messaging\w*|identity)$")

DS_OVERRIDES_TPL = "helm-toolkit/templates/utils/_daemonset_overrides.tpl"
DS_OVERRIDES_ROOT_TPL = "helm-toolkit/templates/utils/_daemonset_overrides_root.tpl"
# Path suffixes under conf.overrides.<root> that helm-toolkit.utils.daemonset_overrides reads,
# each with the text that must appear in the helper for the suffix to count as read.
# labels[].label.values is not read by name: the whole label map (key, values) becomes a node
# affinity matchExpression.
DS_OVERRIDES_READS = (
    ("hosts", 'eq $type "hosts"'),
    ("hosts[].name", "$host_data.name"),
    ("hosts[].conf", "$host_data.conf"),
    ("labels", 'eq $type "labels"'),
    ("labels[].label", "$label_data.label"),
    ("labels[].label.key", "$label_data.label.key"),
    ("labels[].label.values", 'omit $label_data.label "NULL"'),
    ("labels[].conf", "$label_data.conf"),
)
# Likewise for helm-toolkit.utils.daemonset_overrides_root, under overrides.<root>; the label
# map keys are "<label key>::<label value>".
DS_OVERRIDES_ROOT_READS = (
    ("overrides_default", 'eq $type "overrides_default"'),
    ("labels", 'eq $type "labels"'),
    ("labels.*", 'split "::" $lname'),
    ("labels.*.values", "$ldata.values"),
)

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
# .Values.a.b / $.Values.a.b / $envAll.Values.a.b (the chain may be empty).
VALUES_EXPR = rf"(?<![\w.])(?:\$(?:{IDENT})?)?\.Values((?:\.{IDENT})*)"
VALUES_RE = re.compile(VALUES_EXPR)
STRING_ARGS = r'((?:\s+"[^"]*")+)'
INDEX_RE = re.compile(rf"\bindex\s+\(?{VALUES_EXPR}\)?{STRING_ARGS}")
HASKEY_RE = re.compile(rf'\bhasKey\s+\(?{VALUES_EXPR}\)?\s+"([^"]*)"')
ASSIGN_RE = re.compile(rf"\$({IDENT})\s*:?=\s*")
ALIAS_RE = re.compile(rf"\$({IDENT})\s*:=\s*{VALUES_EXPR}\s*-?\}}\}}")
RANGE_RE = re.compile(
    rf"\brange\s+(?:\$(?:{IDENT})\s*,\s*)?\$({IDENT})\s*:=\s*{VALUES_EXPR}\s*-?\}}\}}"
)
DAEMONSET_NAME_RE = re.compile(r'\$daemonset\s*:=\s*"([^"]+)"')
COMMENT_RE = re.compile(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", re.DOTALL)


@dataclass(frozen=True)
class Source:
    """One repository snapshot at the commit its charts were read from."""

    name: str
    slug: str
    gitdir: Path
    commit: str


class Git:
    """Read-only access to a bare git directory."""

    def __init__(self, gitdir: Path) -> None:
        self.gitdir = gitdir

    def run(self, *args: str) -> str:
        result = subprocess.run(
            ["git", "-C", str(self.gitdir), *args],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def has(self, commit: str, path: str) -> bool:
        result = subprocess.run(
            ["git", "-C", str(self.gitdir), "cat-file", "-e", f"{commit}:{path}"],
            capture_output=True,
        )
        return result.returncode == 0

    def has_commit(self, commit: str) -> bool:
        result = subprocess.run(
            ["git", "-C", str(self.gitdir), "cat-file", "-e", f"{commit}^{{commit}}"],
            capture_output=True,
        )
        return result.returncode == 0

    def show(self, commit: str, path: str) -> str:
        return self.run("show", f"{commit}:{path}")

    def files(self, commit: str, folder: str) -> list[str]:
        return sorted(self.run("ls-tree", "-r", "--name-only", commit, "--", folder).split())

    def rev(self, rev: str) -> str:
        return self.run("rev-parse", "--verify", f"{rev}^{{commit}}").strip()

    def date(self, commit: str) -> int:
        return int(self.run("log", "-1", "--format=%ct", commit).strip())

    def last_commit_with(self, path: str) -> str | None:
        """HEAD if it has ``path``, else the parent of the commit that deleted it."""
        if self.has("HEAD", path):
            return self.rev("HEAD")
        deleted = self.run("log", "-1", "--format=%H", "--diff-filter=D", "HEAD", "--", path)
        if not deleted.strip():
            return None
        parent = self.rev(f"{deleted.strip()}^")
        return parent if self.has(parent, path) else None


def find_gitdirs(paths: Iterable[Path]) -> dict[str, Path]:
    """Map ``owner/name`` to a bare git directory, from the given dirs or mirror roots."""

    def is_gitdir(p: Path) -> bool:
        return (p / "HEAD").is_file() and (p / "objects").is_dir()

    def slug_of(p: Path) -> str | None:
        name = p.parent.name if p.name == "repo" else p.name
        if name.endswith(".git"):
            name = name[: -len(".git")]
        return name.replace("+", "/", 1) if "+" in name else None

    found: dict[str, Path] = {}
    for path in paths:
        candidates = [path] if is_gitdir(path) else sorted(path.glob("*/repo"))
        for candidate in candidates:
            slug = slug_of(candidate)
            if slug is not None and is_gitdir(candidate):
                found[slug] = candidate
    return found


def escape(key: object) -> str:
    return str(key).replace(".", "\\.")


class KeyLoader(yaml.SafeLoader):
    """Safe loader that keeps scalar map keys as written (``on`` stays "on", ``1`` stays "1")."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key: Any = key_node.value
            else:
                key = self.construct_object(key_node, deep=deep)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


KeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    KeyLoader.construct_mapping,
)


def values_paths(text: str) -> tuple[set[str], set[str]]:
    """All key paths of a values.yaml, and those of them that hold a list."""
    data = yaml.load(text, Loader=KeyLoader)  # KeyLoader is a SafeLoader
    paths: set[str] = set()
    lists: set[str] = set()

    def walk(node: object, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                path = f"{prefix}.{escape(key)}" if prefix else escape(key)
                paths.add(path)
                walk(value, path)
        elif isinstance(node, list):
            if prefix:
                lists.add(prefix)
            for item in node:
                walk(item, f"{prefix}[]")

    walk(data, "")
    return paths, lists


def chain(dotted: str) -> list[str]:
    return [part for part in dotted.split(".") if part]


def join(parts: Iterable[str]) -> str:
    return ".".join(parts)


def template_paths(text: str, lists: set[str]) -> set[str]:
    """Values key paths one template file reads (see the module docstring for the forms)."""
    found: set[str] = set()
    text = COMMENT_RE.sub("", text)

    def add(parts: list[str]) -> None:
        if parts and not any(part.startswith("__") for part in parts):
            found.add(join(parts))

    for match in VALUES_RE.finditer(text):
        add(chain(match.group(1)))
    for match in INDEX_RE.finditer(text):
        literals = [escape(k) for k in re.findall(r'"([^"]*)"', match.group(2))]
        add(chain(match.group(1)) + literals)
    for match in HASKEY_RE.finditer(text):
        add([*chain(match.group(1)), escape(match.group(2))])

    # Variables bound to a values path, when the file binds that name only once.
    assignments: dict[str, int] = {}
    for match in ASSIGN_RE.finditer(text):
        assignments[match.group(1)] = assignments.get(match.group(1), 0) + 1
    aliases: dict[str, list[str]] = {}
    for match in ALIAS_RE.finditer(text):
        aliases[match.group(1)] = chain(match.group(2))
    for match in RANGE_RE.finditer(text):
        base = chain(match.group(2))
        if join(base) in lists:
            base[-1] += "[]"
            aliases[match.group(1)] = base
        else:
            aliases.pop(match.group(1), None)
    for name, base in aliases.items():
        if assignments.get(name) != 1 or not base:
            continue
        for match in re.finditer(rf"\${name}((?:\.{IDENT})+)", text):
            add(base + chain(match.group(1)))
    return found


def with_parents(paths: Iterable[str]) -> set[str]:
    """Each path and every prefix of it (``a.b[].c`` gives ``a``, ``a.b``, ``a.b[].c``)."""
    result: set[str] = set()
    for path in paths:
        parts = re.split(r"(?<!\\)\.", path)
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            result.add(prefix[:-2] if prefix.endswith("[]") else prefix)
        result.add(path)
    return result


def daemonset_override_paths(
    git: Git, commit: str, chart: str, templates: list[str], toolkit: tuple[Git, str] | None = None
) -> set[str]:
    """Paths read by helm-toolkit's per-host daemonset overrides for this chart's daemonsets;
    ``toolkit``: where helm-toolkit is (default: ``commit`` of ``git``)."""
    toolkit_git, toolkit_commit = toolkit or (git, commit)
    found: set[str] = set()
    helpers = (
        ("helm-toolkit.utils.daemonset_overrides_root", DS_OVERRIDES_ROOT_TPL, "overrides"),
        ("helm-toolkit.utils.daemonset_overrides", DS_OVERRIDES_TPL, "conf.overrides"),
    )
    for template in templates:
        text = git.show(commit, template)
        for include, helper_path, base in helpers:
            if not re.search(rf'include\s+"{re.escape(include)}"', text):
                continue
            helper = toolkit_git.show(toolkit_commit, helper_path)
            reads = DS_OVERRIDES_ROOT_READS if base == "overrides" else DS_OVERRIDES_READS
            names = DAEMONSET_NAME_RE.findall(text)
            if not names:
                sys.exit(f"{chart}: {template} calls {include} without a literal $daemonset")
            for name in names:
                root = f"{base}.{escape(chart)}_{escape(name)}"
                found.update({base, root})
                for suffix, evidence in reads:
                    if evidence not in helper:
                        sys.exit(f"{helper_path} at {toolkit_commit} lacks {evidence!r}")
                    found.add(f"{root}.{suffix}")
    return with_parents(found)


def credential_usernames(text: str) -> dict[str, str]:
    """``endpoints.<endpoint>.auth.<user>`` -> its values.yaml ``username``, for the database,
    message bus and identity endpoints."""
    data = yaml.load(text, Loader=KeyLoader)  # KeyLoader is a SafeLoader
    endpoints = data.get("endpoints") if isinstance(data, dict) else None
    found: dict[str, str] = {}
    if not isinstance(endpoints, dict):
        return found
    for endpoint, spec in endpoints.items():
        if not CREDENTIAL_ENDPOINT_RE.match(endpoint) or not isinstance(spec, dict):
            continue
        auth = spec.get("auth")
        if not isinstance(auth, dict):
            continue
        for user, entry in auth.items():
            if isinstance(entry, dict) and isinstance(entry.get("username"), str):
                path = f"endpoints.{escape(endpoint)}.auth.{escape(user)}"
                found[path] = entry["username"]
    return dict(sorted(found.items()))


def chart_key_paths(
    git: Git, commit: str, chart: str, folder: str, toolkit: tuple[Git, str] | None = None
) -> dict[str, Any]:
    values_text = git.show(commit, f"{folder}/values.yaml")
    paths, lists = values_paths(values_text)
    templates = [
        f for f in git.files(commit, f"{folder}/templates") if f.endswith((".yaml", ".yml", ".tpl"))
    ]
    read: set[str] = set()
    for template in templates:
        read |= template_paths(git.show(commit, template), lists)
    read |= daemonset_override_paths(git, commit, chart, templates, toolkit)
    everything = paths | with_parents(read)
    return {
        "key_paths": sorted(everything),
        "template_only_key_paths": sorted(everything - paths),
        "credential_usernames": credential_usernames(values_text),
    }


def resolve_openstack(gitdirs: dict[str, Path]) -> dict[str, tuple[str, str]]:
    """Chart -> (source name, commit) for the openstack charts."""
    chosen: dict[str, tuple[str, str]] = {}
    for chart in OPENSTACK_CHARTS:
        path = f"{chart}/values.yaml"
        older: list[tuple[int, str, str]] = []
        for name, slug in OPENSTACK_SOURCES:
            git = Git(gitdirs[slug])
            if git.has("HEAD", path):
                chosen[chart] = (name, git.rev("HEAD"))
                break
            commit = git.last_commit_with(path)
            if commit is not None:
                older.append((git.date(commit), name, commit))
        else:
            if not older:
                sys.exit(f"no snapshot has {path}")
            _, name, commit = max(older)
            chosen[chart] = (name, commit)
    return chosen


def resolve_starlingx(git: Git) -> str:
    """The newest commit that has every StarlingX chart under STARLINGX_CHART_DIR."""
    commits = []
    for chart in STARLINGX_CHARTS:
        commit = git.last_commit_with(f"{STARLINGX_CHART_DIR}/{chart}/values.yaml")
        if commit is None:
            sys.exit(f"no commit has {STARLINGX_CHART_DIR}/{chart}")
        commits.append((git.date(commit), commit))
    _, commit = min(commits)
    for chart in STARLINGX_CHARTS:
        if not git.has(commit, f"{STARLINGX_CHART_DIR}/{chart}/values.yaml"):
            sys.exit(f"{commit} lacks {chart}; pick the commit by hand")
    return commit


@dataclass(frozen=True)
class Pin:
    """An openstack-helm(-infra) commit that stx-openstack pinned, where it first did, and the
    openstack-helm-infra commit pinned with it (whose helm-toolkit the charts were built with:
    openstack-helm had none of its own then)."""

    source: str
    commit: str
    pinned_in: str
    pinned_on: str
    toolkit: str


def _day(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d")


def starlingx_pins(gitdirs: dict[str, Path], since: str, until: str) -> list[Pin]:
    """Every commit a PIN_FILES file pinned on the armada-app branch whose own commit date is
    from ``since`` to ``until`` (inclusive), with the first mainline commit that had it."""
    git = Git(gitdirs[PINS_SOURCE])
    paths = [path for _, path in PIN_FILES]
    # The mainline (first parents): what the branch held, merges of the pin changes included.
    log = git.run("log", "--first-parent", "--reverse", "--format=%H %ct", "HEAD", "--", *paths)
    pins: dict[tuple[str, str], Pin] = {}
    for line in filter(None, log.split("\n")):
        commit, epoch = line.split()
        state: dict[str, str] = {}
        for source, path in PIN_FILES:
            shas = PIN_RE.findall(git.show(commit, path)) if git.has(commit, path) else []
            if len(shas) > 1:
                sys.exit(f"{PINS_SOURCE} {commit}:{path} pins {len(shas)} commits")
            if shas:
                state[source] = shas[0]
        for source, sha in state.items():
            toolkit = state.get("openstack-helm-infra")
            if toolkit is None:
                sys.exit(f"{PINS_SOURCE} {commit} pins no openstack-helm-infra (helm-toolkit)")
            pins.setdefault((source, sha), Pin(source, sha, commit, _day(int(epoch)), toolkit))
    slugs = dict(OPENSTACK_SOURCES)
    kept = []
    for pin in pins.values():
        upstream = Git(gitdirs[slugs[pin.source]])
        if not upstream.has_commit(pin.commit):
            sys.exit(f"{slugs[pin.source]} snapshot lacks commit {pin.commit}; fetch it again")
        if since <= _day(upstream.date(pin.commit)) <= until:
            kept.append(pin)
    if not kept:
        sys.exit(f"{PINS_SOURCE} pinned no commit dated from {since} to {until}")
    return sorted(kept, key=lambda p: (p.source, p.pinned_on, p.commit))


def collect_starlingx(gitdirs: dict[str, Path], since: str, until: str) -> dict[str, Any]:
    slugs = dict(OPENSTACK_SOURCES)
    infra = Git(gitdirs[slugs["openstack-helm-infra"]])
    sources: dict[str, Any] = {}
    charts: dict[str, dict[str, Any]] = {}
    for pin in starlingx_pins(gitdirs, since, until):
        git = Git(gitdirs[slugs[pin.source]])
        version = f"{pin.source}@{pin.commit[:9]}"
        sources[version] = {
            "repository": f"https://github.com/{slugs[pin.source]}",
            "commit": pin.commit,
            "committed_on": _day(git.date(pin.commit)),
            "pinned_in": pin.pinned_in,
            "pinned_on": pin.pinned_on,
            "helm_toolkit_from": f"openstack-helm-infra@{pin.toolkit}",
        }
        for chart in OPENSTACK_CHARTS:
            if git.has(pin.commit, f"{chart}/values.yaml"):
                entry = chart_key_paths(git, pin.commit, chart, chart, (infra, pin.toolkit))
                charts.setdefault(chart, {})[version] = {"path": chart, **entry}
    pinned_by = Git(gitdirs[PINS_SOURCE])
    return {
        "about": (
            "The openstack charts at each openstack-helm / openstack-helm-infra commit dated"
            f" {since} to {until} that StarlingX's stx-openstack application ({PINS_SOURCE})"
            " pinned, upstream (without StarlingX's patches); charts.<chart>.<version> entries"
            " are as the top-level charts entries"
        ),
        "pinned_by": {
            "repository": f"https://github.com/{PINS_SOURCE}",
            "commit": pinned_by.rev("HEAD"),
            "files": [path for _, path in PIN_FILES],
            "since": since,
            "until": until,
        },
        "sources": sources,
        "charts": {chart: dict(sorted(v.items())) for chart, v in sorted(charts.items())},
    }


def collect(
    gitdirs: dict[str, Path], since: str = DEFAULT_SINCE, until: str = DEFAULT_UNTIL
) -> dict[str, Any]:
    needed = [slug for _, slug in (*OPENSTACK_SOURCES, STARLINGX_SOURCE)] + [PINS_SOURCE]
    missing = [slug for slug in needed if slug not in gitdirs]
    if missing:
        sys.exit(f"missing snapshots: {', '.join(missing)}")

    sources: dict[str, Source] = {}
    placements: dict[str, tuple[str, str]] = {}

    def use(name: str, slug: str, commit: str) -> None:
        known = sources.get(name)
        if known is not None and known.commit != commit:
            sys.exit(f"{name}: charts needed from two commits ({known.commit}, {commit})")
        sources[name] = Source(name, slug, gitdirs[slug], commit)

    slugs = dict(OPENSTACK_SOURCES)
    for chart, (name, commit) in resolve_openstack(gitdirs).items():
        use(name, slugs[name], commit)
        placements[chart] = (name, chart)
    stx_name, stx_slug = STARLINGX_SOURCE
    use(stx_name, stx_slug, resolve_starlingx(Git(gitdirs[stx_slug])))
    for chart in STARLINGX_CHARTS:
        placements[chart] = (stx_name, f"{STARLINGX_CHART_DIR}/{chart}")

    charts: dict[str, Any] = {}
    for chart, (name, folder) in sorted(placements.items()):
        source = sources[name]
        entry = chart_key_paths(Git(source.gitdir), source.commit, chart, folder)
        charts[chart] = {"source": name, "path": folder, **entry}
    return {
        "about": (
            "Key paths the real charts' values.yaml define and templates read; facts for tests,"
            " collected by tests/data/collect_key_paths.py"
        ),
        "notation": (
            "keys joined by '.'; a '.' inside a key is escaped as '\\.'; 'name[]' is an item of"
            " the list 'name'; '*' is any map key. key_paths = values.yaml paths (with parents)"
            " + paths the chart's templates read + helm-toolkit daemonset-override paths;"
            " template_only_key_paths = the part of key_paths values.yaml does not define;"
            " credential_usernames = values.yaml's username of each database, message bus and"
            " identity credential entry endpoints.<endpoint>.auth.<user>."
        ),
        "sources": {
            s.name: {"repository": f"https://github.com/{s.slug}", "commit": s.commit}
            for s in sources.values()
        },
        "charts": charts,
        "starlingx": collect_starlingx(gitdirs, since, until),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("paths", nargs="+", type=Path, help="bare git dirs or a mirror root")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).with_name("chart_key_paths.json"),
        help="where to write the JSON (default: next to this script)",
    )
    parser.add_argument(
        "--starlingx-since",
        default=DEFAULT_SINCE,
        metavar="YYYY-MM-DD",
        help="first day of the StarlingX pins to collect (default %(default)s)",
    )
    parser.add_argument(
        "--starlingx-until",
        default=DEFAULT_UNTIL,
        metavar="YYYY-MM-DD",
        help="last day of the StarlingX pins to collect (default %(default)s)",
    )
    args = parser.parse_args(argv)
    data = collect(find_gitdirs(args.paths), args.starlingx_since, args.starlingx_until)
    args.output.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    for chart, entry in sorted(data["charts"].items()):
        print(f"{chart}: {entry['source']}:{entry['path']} {len(entry['key_paths'])} paths")
    for version, source in data["starlingx"]["sources"].items():
        charts = sorted(c for c, v in data["starlingx"]["charts"].items() if version in v)
        print(f"{version} (pinned {source['pinned_on']}): {', '.join(charts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
