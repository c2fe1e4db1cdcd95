"""``metadata.yaml``: the model, its validation, and reading it from a file or a tarball.

Required: ``app_name`` and ``app_version``, both strings. ``app_version: 1.10`` is a YAML
float (1.1), so a number is refused with a hint to quote it rather than silently turned
into a different version. Both become path components and release labels, so they are
limited to letters, digits and ``. _ -`` (the version also ``+ ~``).

Optional keys that StarlingX applications use are known here and type-checked. Keys we do
not know are *accepted with a warning* (logged, and listed in
:attr:`Metadata.unknown_keys`): StarlingX grew its metadata release by release, and
refusing a real application for a key it does not need here would help nobody, while a
misspelt key still shows up in the log.

``behavior.apply_modes`` (a list of strings) is this service's own key: the modes
``application-apply -m MODE`` accepts for the application. StarlingX names the modes of its
openstack application in its source code; here an application declares its own, and a
mode it does not declare is refused. ``behavior.drift_ignore_charts`` (a list of chart
names) is too: the charts the drift audit leaves alone (docs/drift.md).
"""

from __future__ import annotations

import logging
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import bounded_yaml
from sysinv_common.apps import BundleError
from sysinv_common.apps.extract import ExtractLimits, member_parts, open_tar_stream

LOG = logging.getLogger(__name__)

FILENAME = "metadata.yaml"
DEFAULT_MAX_BYTES = 256 * 1024

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")
VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}")

# Optional keys of StarlingX application metadata and the YAML type each must have.
_STR_LIST = "a list of strings"
OPTIONAL_KEYS: dict[str, str] = {
    "images": _STR_LIST,
    "disabled_charts": _STR_LIST,
    "maintain_user_overrides": "a boolean",
    "maintain_attributes": "a boolean",
    "helm_toolkit_required": "a boolean",
    "apply_progress_adjust": "an integer",
    "helm_repo": "a string",
    "class": "a string",
    "behavior": "a mapping",
    "upgrades": "a mapping",
    "supported_k8s_version": "a mapping",
    "supported_releases": "a mapping",
    "k8s_upgrades": "a mapping",
}
REQUIRED_KEYS = ("app_name", "app_version")


@dataclass(frozen=True)
class Metadata:
    """A validated ``metadata.yaml``."""

    name: str
    version: str
    #: Images the application needs (``images``), in the order given.
    images: tuple[str, ...] = ()
    #: The other known optional keys present, as the YAML gave them (types checked).
    options: Mapping[str, Any] = field(default_factory=dict)
    #: Keys this service does not know; tolerated, see the module docstring.
    unknown_keys: tuple[str, ...] = ()

    @property
    def maintain_user_overrides(self) -> bool:
        return bool(self.options.get("maintain_user_overrides", False))

    @property
    def maintain_attributes(self) -> bool:
        return bool(self.options.get("maintain_attributes", False))

    @property
    def disabled_charts(self) -> tuple[str, ...]:
        return tuple(self.options.get("disabled_charts", ()))

    @property
    def apply_modes(self) -> tuple[str, ...]:
        """The modes ``application-apply -m`` accepts (``behavior.apply_modes``)."""
        return tuple(self.options.get("behavior", {}).get("apply_modes") or ())

    @property
    def drift_ignore_charts(self) -> tuple[str, ...]:
        """Charts (Armada chart document names) the drift audit leaves alone
        (``behavior.drift_ignore_charts``): their objects may change by design (an
        autoscaler sets replicas, an operator owns a field)."""
        return tuple(self.options.get("behavior", {}).get("drift_ignore_charts") or ())


def _type_ok(value: Any, kind: str) -> bool:
    if kind == _STR_LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "a boolean":
        return isinstance(value, bool)
    if kind == "an integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "a string":
        return isinstance(value, str)
    return isinstance(value, dict)


def _yaml_type(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names.update({list: "a list", dict: "a mapping", type(None): "null"})
    return names.get(type(value), type(value).__name__)


def _required(meta: Mapping[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    if key not in meta or meta[key] is None:
        raise BundleError(f"{FILENAME}: {key} is required")
    value = meta[key]
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise BundleError(
            f"{FILENAME}: {key} must be a string, got the number {value!r} "
            f'(quote it: {key}: "{value}")'
        )
    if not isinstance(value, str):
        raise BundleError(f"{FILENAME}: {key} must be a string, got {_yaml_type(value)}")
    if not pattern.fullmatch(value):
        raise BundleError(
            f"{FILENAME}: {key} {value!r} is not valid: use letters, digits and "
            f"{'. _ -' if key == 'app_name' else '. _ - + ~'}, starting with a letter or digit"
        )
    return value


def parse_metadata(
    data: bytes | str,
    *,
    expect_name: str | None = None,
    expect_version: str | None = None,
) -> Metadata:
    """Validate the text of a ``metadata.yaml``.

    ``expect_name``/``expect_version``, when given, must equal what the file says (the
    conductor passes what the API recorded at upload). Every problem is a
    :class:`BundleError` naming the field.
    """
    try:
        meta = bounded_yaml.load(data)
    except bounded_yaml.YAMLLimitError as exc:
        raise BundleError(f"{FILENAME}: {exc}") from None
    except yaml.YAMLError as exc:
        raise BundleError(f"{FILENAME} is not valid YAML: {exc}") from None
    if meta is None:
        raise BundleError(f"{FILENAME} is empty; it needs app_name and app_version")
    if not isinstance(meta, dict):
        raise BundleError(
            f"{FILENAME} must be a mapping with app_name and app_version, not {_yaml_type(meta)}"
        )
    for key in meta:
        if not isinstance(key, str):
            raise BundleError(f"{FILENAME}: key {key!r} is not a string")
    name = _required(meta, "app_name", NAME_RE)
    version = _required(meta, "app_version", VERSION_RE)
    options: dict[str, Any] = {}
    for key, kind in OPTIONAL_KEYS.items():
        if key not in meta or meta[key] is None:
            continue  # an empty key (``images:``) means "none"
        if not _type_ok(meta[key], kind):
            raise BundleError(f"{FILENAME}: {key} must be {kind}, got {_yaml_type(meta[key])}")
        options[key] = meta[key]
    modes = options.get("behavior", {}).get("apply_modes")
    if modes is not None and not (_type_ok(modes, _STR_LIST) and all(m.strip() for m in modes)):
        raise BundleError(
            f"{FILENAME}: behavior.apply_modes must be a list of non-empty strings, "
            f"got {_yaml_type(modes)}"
        )
    ignored = options.get("behavior", {}).get("drift_ignore_charts")
    if ignored is not None and not (
        _type_ok(ignored, _STR_LIST) and all(c.strip() for c in ignored)
    ):
        raise BundleError(
            f"{FILENAME}: behavior.drift_ignore_charts must be a list of chart names, "
            f"got {_yaml_type(ignored)}"
        )
    unknown = tuple(sorted(k for k in meta if k not in OPTIONAL_KEYS and k not in REQUIRED_KEYS))
    if unknown:
        LOG.warning(
            "%s of %s %s has keys this service ignores: %s",
            FILENAME,
            name,
            version,
            ", ".join(unknown),
        )
    if expect_name is not None and name != expect_name:
        raise BundleError(
            f"{FILENAME}: app_name {name!r} does not match the application {expect_name!r}"
        )
    if expect_version is not None and version != expect_version:
        raise BundleError(
            f"{FILENAME}: app_version {version!r} does not match the expected version "
            f"{expect_version!r}"
        )
    images = tuple(options.pop("images", ()))
    return Metadata(name, version, images, options, unknown)


def load_metadata(
    app_dir: Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    expect_name: str | None = None,
    expect_version: str | None = None,
) -> Metadata:
    """Read and validate ``metadata.yaml`` at the top of an extracted bundle."""
    path = app_dir / FILENAME
    try:
        st = path.lstat()
    except FileNotFoundError:
        raise BundleError(f"bundle has no {FILENAME} at its top level") from None
    if not stat.S_ISREG(st.st_mode):
        raise BundleError(f"{FILENAME} in the bundle is not a regular file")
    if st.st_size > max_bytes:
        raise BundleError(f"{FILENAME} is {st.st_size} bytes, over the limit of {max_bytes}")
    return parse_metadata(path.read_bytes(), expect_name=expect_name, expect_version=expect_version)


def read_metadata_from_tarball(
    path: Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    expect_name: str | None = None,
    expect_version: str | None = None,
    limits: ExtractLimits | None = None,
) -> Metadata:
    """Validate the bundle's top-level ``metadata.yaml`` without extracting anything.

    The tarball (gzip or plain) is read forward until that member; nothing is written to
    disk. Members with unacceptable names are skipped here: extraction refuses them later.
    ``limits`` bounds how much is decompressed on the way (default: :class:`ExtractLimits`).
    """
    budget = (limits or ExtractLimits()).stream_budget()
    with open_tar_stream(Path(path), budget) as tar:
        for member in tar:
            try:
                parts = member_parts(member)
            except BundleError:
                continue
            if parts != (FILENAME,):
                continue
            if not member.isreg():
                raise BundleError(f"{FILENAME} in the bundle is not a regular file")
            if member.size > max_bytes:
                raise BundleError(
                    f"{FILENAME} is {member.size} bytes, over the limit of {max_bytes}"
                )
            fh = tar.extractfile(member)
            data = fh.read(max_bytes + 1) if fh is not None else b""
            return parse_metadata(data, expect_name=expect_name, expect_version=expect_version)
    raise BundleError(f"bundle has no {FILENAME} at its top level")
