"""Field-by-field shape checks for Armada documents (Manifest, ChartGroup, Chart; v1 and v2).

The field sets follow Armada's published schemas. Where those schemas leave an object open
(``source``, ``delete``, v1 ``install``) we still reject unknown keys: a typo there would
otherwise be ignored silently, which is the failure mode this module exists to prevent.

A spec checks a value and appends ``"<path>: <problem>"`` strings; it never raises, so one
pass reports every problem in a document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def describe(value: Any) -> str:
    """A short, readable rendering of a wrong value for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Spec:
    def check(self, value: Any, path: str, errors: list[str]) -> None:
        raise NotImplementedError


class Str(Spec):
    def check(self, value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, str):
            errors.append(f"{path}: expected a string, got {describe(value)}")


class Int(Spec):
    def check(self, value: Any, path: str, errors: list[str]) -> None:
        # bool is an int subclass in Python, but `timeout: true` is a mistake, not 1.
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{path}: expected an integer, got {describe(value)}")


class Bool(Spec):
    def check(self, value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, bool):
            errors.append(f"{path}: expected a boolean, got {describe(value)}")


class AnyMap(Spec):
    """A mapping with free-form content (chart values)."""

    def check(self, value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, Mapping):
            errors.append(f"{path}: expected a mapping, got {describe(value)}")


class StrMap(Spec):
    """Label selectors: string keys to string values."""

    def check(self, value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, Mapping):
            errors.append(f"{path}: expected a mapping of strings, got {describe(value)}")
            return
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, str):
                errors.append(f"{path}.{key}: expected a string label value, got {describe(item)}")


@dataclass
class ListOf(Spec):
    item: Spec

    def check(self, value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {describe(value)}")
            return
        for index, item in enumerate(value):
            self.item.check(item, f"{path}[{index}]", errors)


@dataclass
class Obj(Spec):
    fields: dict[str, Spec]
    required: tuple[str, ...] = ()
    # Keys whose value is accepted without looking inside (Deckhand metadata extras).
    opaque: tuple[str, ...] = field(default=())

    def check(self, value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, Mapping):
            errors.append(f"{path}: expected a mapping, got {describe(value)}")
            return
        for key in self.required:
            if key not in value:
                errors.append(f"{path}.{key}: required field is missing")
        for key, item in value.items():
            spec = self.fields.get(key) if isinstance(key, str) else None
            if spec is not None:
                spec.check(item, f"{path}.{key}", errors)
            elif key not in self.opaque:
                errors.append(f"{path}.{key}: unknown field")


@dataclass
class OneOf(Spec):
    """The first alternative whose outer type matches decides (bool vs object, say)."""

    options: tuple[tuple[type, Spec], ...]
    expected: str

    def check(self, value: Any, path: str, errors: list[str]) -> None:
        for kind, spec in self.options:
            if isinstance(value, kind):
                spec.check(value, path, errors)
                return
        errors.append(f"{path}: expected {self.expected}, got {describe(value)}")


class IntOrStr(Spec):
    def check(self, value: Any, path: str, errors: list[str]) -> None:
        if isinstance(value, bool) or not isinstance(value, int | str):
            errors.append(f"{path}: expected an integer or a string, got {describe(value)}")


LABELS = StrMap()

# --- metadata -------------------------------------------------------------------------

METADATA = Obj(
    {"name": Str(), "schema": Str()},
    required=("name",),
    opaque=("labels", "layeringDefinition", "storagePolicy", "substitutions", "replacement"),
)

# --- Manifest / ChartGroup ------------------------------------------------------------

MANIFEST = Obj(
    {"release_prefix": Str(), "chart_groups": ListOf(Str())},
    required=("chart_groups", "release_prefix"),
)

CHART_GROUP_V1 = Obj(
    {
        "name": Str(),
        "description": Str(),
        "sequenced": Bool(),
        "test_charts": Bool(),
        "chart_group": ListOf(Str()),
    },
    required=("chart_group",),
)

CHART_GROUP_V2 = Obj(
    {"name": Str(), "description": Str(), "sequenced": Bool(), "chart_group": ListOf(Str())},
    required=("chart_group",),
)

# --- Chart pieces shared by v1 and v2 -------------------------------------------------

SOURCE_FIELDS: dict[str, Spec] = {
    "type": Str(),
    "location": Str(),
    "subpath": Str(),
    "reference": Str(),
    "proxy_server": Str(),
    "auth_method": Str(),
}

PROTECTED = Obj({"continue_processing": Bool()})

TEST_OBJECT = Obj(
    {
        "enabled": Bool(),
        "timeout": Int(),
        "options": Obj({"cleanup": Bool()}),
    }
)

NATIVE_WAIT = Obj({"enabled": Bool()})

DELETE = Obj({"timeout": Int()})

# --- Chart v1 -------------------------------------------------------------------------

HOOK_ACTION_V1 = ListOf(Obj({"name": Str(), "type": Str(), "labels": LABELS}, required=("type",)))

WAIT_RESOURCE_V1 = Obj(
    {"type": Str(), "labels": LABELS, "min_ready": IntOrStr()}, required=("type",)
)

CHART_V1 = Obj(
    {
        "release": Str(),
        "chart_name": Str(),
        "namespace": Str(),
        "values": AnyMap(),
        "dependencies": ListOf(Str()),
        "protected": PROTECTED,
        "test": OneOf(((bool, Bool()), (Mapping, TEST_OBJECT)), "a boolean or a mapping"),
        "timeout": Int(),
        "wait": Obj(
            {
                "timeout": Int(),
                "resources": ListOf(WAIT_RESOURCE_V1),
                "labels": LABELS,
                "native": NATIVE_WAIT,
            }
        ),
        "source": Obj(SOURCE_FIELDS, required=("location", "subpath", "type")),
        "delete": DELETE,
        # Armada's v1 schema says only "object" here; no_hooks is the one key its users
        # (StarlingX manifests included) ever set.
        "install": Obj({"no_hooks": Bool()}),
        "upgrade": Obj(
            {
                "no_hooks": Bool(),
                "pre": Obj(
                    {
                        "delete": HOOK_ACTION_V1,
                        "update": HOOK_ACTION_V1,
                        "create": HOOK_ACTION_V1,
                    }
                ),
                "post": Obj({"create": HOOK_ACTION_V1}),
                "options": Obj({"force": Bool()}),
            },
            required=("no_hooks",),
        ),
    },
    required=("namespace", "chart_name", "release", "source"),
)

# --- Chart v2 -------------------------------------------------------------------------

HOOK_ACTION_V2 = ListOf(Obj({"type": Str(), "labels": LABELS}, required=("type",)))

_WAIT_TYPE_CONFIG_FIELDS: dict[str, Spec] = {
    "labels": LABELS,
    "min_ready": IntOrStr(),
    "required": Bool(),
}
WAIT_TYPE_CONFIG = Obj(_WAIT_TYPE_CONFIG_FIELDS)
WAIT_RESOURCE_ITEM_V2 = Obj({**_WAIT_TYPE_CONFIG_FIELDS, "type": Str()}, required=("type",))


class WaitResourcesV2(Spec):
    """v2 `wait.resources`: a list of typed configs, or a map type -> config | [config]."""

    def check(self, value: Any, path: str, errors: list[str]) -> None:
        if isinstance(value, list):
            ListOf(WAIT_RESOURCE_ITEM_V2).check(value, path, errors)
        elif isinstance(value, Mapping):
            for kind, conf in value.items():
                sub = f"{path}.{kind}"
                if isinstance(conf, list):
                    ListOf(WAIT_TYPE_CONFIG).check(conf, sub, errors)
                else:
                    WAIT_TYPE_CONFIG.check(conf, sub, errors)
        else:
            errors.append(f"{path}: expected a list or a mapping, got {describe(value)}")


CHART_V2 = Obj(
    {
        "release": Str(),
        "namespace": Str(),
        "values": AnyMap(),
        "dependencies": ListOf(Str()),
        "protected": PROTECTED,
        "test": TEST_OBJECT,
        "wait": Obj(
            {
                "timeout": Int(),
                "resources": WaitResourcesV2(),
                "labels": LABELS,
                "native": NATIVE_WAIT,
            }
        ),
        "source": Obj(SOURCE_FIELDS, required=("location", "type")),
        "delete": DELETE,
        "upgrade": Obj(
            {
                "pre": Obj({"delete": HOOK_ACTION_V2}),
                "options": Obj({"force": Bool(), "no_hooks": Bool()}),
            }
        ),
    },
    required=("namespace", "release", "source"),
)

# Document schema name -> (kind, version, data spec)
SCHEMAS: dict[str, tuple[str, str, Obj]] = {
    "armada/Manifest/v1": ("Manifest", "v1", MANIFEST),
    "armada/Manifest/v2": ("Manifest", "v2", MANIFEST),
    "armada/ChartGroup/v1": ("ChartGroup", "v1", CHART_GROUP_V1),
    "armada/ChartGroup/v2": ("ChartGroup", "v2", CHART_GROUP_V2),
    "armada/Chart/v1": ("Chart", "v1", CHART_V1),
    "armada/Chart/v2": ("Chart", "v2", CHART_V2),
}
