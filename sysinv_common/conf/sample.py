"""The sample settings file, rendered from the settings models so that it cannot drift.

``sysinv sample-config`` prints it; ``etc/sysinv.sample.yaml`` is its committed output,
and a unit test fails when the two differ. Each key carries its field's description as
a comment and its default as the value. A key whose default is None, or whose value
belongs to one machine, is commented out as ``#key: example`` (no space after ``#``, as
oslo-config-generator does), so removing that one ``#`` enables it; ``# text`` lines
are only comments.
"""

from __future__ import annotations

import sys
import textwrap
import types
from enum import Enum
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

import bounded_yaml
from sysinv_common.conf import Settings

WIDTH = 92

HEADER = """\
# sysinv settings. Generated from the settings models (sysinv_common/conf) by
# `sysinv sample-config`: change the models, then regenerate this file.
#
# Every key can also be set in the environment as SYSINV_<KEY>, with "__" between
# nested keys: SYSINV_DATABASE__URL, SYSINV_BOOTSTRAP__SYSTEM_MODE. The environment
# wins over this file. Point a command at the file with --config-file or
# SYSINV_CONFIG_FILE.
"""

#: Commented out even with a default: each machine has its own value, and a default
#: computed on the machine that renders the sample would make the file differ per machine.
MACHINE_SPECIFIC = frozenset({"conductor_id", "agent.hostname", "conductor.host"})

#: Values shown for keys that are commented out; a field's own ``examples`` come first.
EXAMPLES: dict[str, Any] = {
    "conductor_id": "controller-0",
    "conductor.host": "controller-0",
    "secrets_key_file": "/var/lib/sysinv/secrets.key",
    "database.url": "postgresql+psycopg://sysinv@127.0.0.1/sysinv",
    "messaging.result_backend": "redis://:PASSWORD@127.0.0.1:6379/1",
    "kubernetes.kubeconfig": "/etc/kubernetes/admin.conf",
    "api.webhook_port": 6386,
    "api.webhook_cert_file": "/etc/sysinv/webhook.crt",
    "api.webhook_key_file": "/etc/sysinv/webhook.key",
    "bootstrap.description": "Edge site 1",
    "bootstrap.location": "Building 2, rack 4",
    "bootstrap.contact": "noc@example.com",
    "bootstrap.kubernetes_api_endpoint": "https://192.168.206.2:6443",
    "bootstrap.registry.address": "registry.local:9001",
    "bootstrap.registry.ca_cert_file": "/etc/ssl/certs/registry-ca.crt",
    "bootstrap.registry.credentials_ref": "registry-local-credentials",
    "bootstrap.external_ceph.monitors": ["192.168.204.3:6789"],
    "bootstrap.external_ceph.fsid": "7c1f8d0e-2f43-4b0a-9d1e-5f1c2a3b4c5d",
    "bootstrap.external_ceph.keyring_path": "/etc/ceph/ceph.client.admin.keyring",
    "apps.url_allowed_hosts": ["mirror.example.com", "*.apps.example.com:8443"],
    "agent.hostname": "worker-0",
    "agent.inventory_root": "/",
    "agent.key_file": "/etc/sysinv/agent.key",
    "agent.master_key_file": "/var/lib/sysinv/agent-master.key",
    "registry.address": "registry.local:9001",
    "registry.token_url": "https://controller.example:6385/v1/registry/token",
    "registry.signing_key_file": "/var/lib/sysinv/registry-token.key",
    "registry.certificate_file": "/var/lib/sysinv/registry-token.crt",
}


def render_sample() -> str:
    """The whole sample file."""
    lines = HEADER.splitlines()
    for name, field in Settings.model_fields.items():
        lines.append("")
        lines.extend(_field(Settings, name, field, prefix="", indent=0, commented=False))
    return "\n".join(lines) + "\n"


def leaf_paths(model: type[BaseModel] = Settings, prefix: str = "") -> list[str]:
    """Dotted path of every setting that holds a value rather than a group."""
    paths: list[str] = []
    for name, field in model.model_fields.items():
        sub = model_of(field.annotation)
        if sub is None:
            paths.append(prefix + name)
        else:
            paths.extend(leaf_paths(sub, f"{prefix}{name}."))
    return paths


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The settings group a field holds (also through ``Group | None``), or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        models = [m for m in map(model_of, get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else None
    return None


def _field(
    owner: type[BaseModel],
    name: str,
    field: FieldInfo,
    *,
    prefix: str,
    indent: int,
    commented: bool,
) -> list[str]:
    path = prefix + name
    pad = " " * indent
    lines = [pad + "# " + text for text in _help(owner, field, WIDTH - indent - 2)]
    default = field.get_default(call_default_factory=True)
    commented = commented or _commented(path, field)
    mark = "#" if commented else ""
    sub = model_of(field.annotation)
    if sub is not None:
        lines.append(f"{pad}{mark}{name}:")
        for sub_name, sub_field in sub.model_fields.items():
            lines.extend(
                _field(
                    sub,
                    sub_name,
                    sub_field,
                    prefix=path + ".",
                    indent=indent + 2,
                    commented=commented,
                )
            )
        return lines
    value = _example(path, field, default) if commented else default
    lines.append(f"{pad}{mark}{name}: {_scalar(value)}")
    return lines


def _commented(path: str, field: FieldInfo) -> bool:
    """Unset by default, machine-specific, or a group of only such keys (a bare
    ``group:`` would read as null)."""
    if path in MACHINE_SPECIFIC or field.get_default(call_default_factory=True) is None:
        return True
    sub = model_of(field.annotation)
    return sub is not None and all(
        _commented(f"{path}.{name}", sub_field) for name, sub_field in sub.model_fields.items()
    )


def _help(owner: type[BaseModel], field: FieldInfo, width: int) -> list[str]:
    """The comment above a key: its description, else its group's own docstring."""
    text = field.description or ""
    sub = model_of(field.annotation)
    if not text and sub is not None:
        text = _doc(sub)
    choices = _choices(field.annotation)
    if any(choice not in text for choice in choices):
        text = f"{text} One of: {', '.join(choices)}.".strip()
    return textwrap.wrap(text, width) if text else []


def _doc(model: type[BaseModel]) -> str:
    """First paragraph of the group's docstring, else of its module's (one group each)."""
    doc = model.__dict__.get("__doc__") or sys.modules[model.__module__].__doc__ or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def _choices(annotation: Any) -> list[str]:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(member.value) for member in annotation]
    return []


def _example(path: str, field: FieldInfo, default: Any) -> Any:
    if field.examples:
        return field.examples[0]
    if path in EXAMPLES:
        return EXAMPLES[path]
    return default


def _scalar(value: Any) -> str:
    """One YAML value on one line: flow style for lists and mappings."""
    text = bounded_yaml.dump(to_jsonable_python(value), default_flow_style=True, width=1 << 16)
    return text.removesuffix("\n...\n").strip()
