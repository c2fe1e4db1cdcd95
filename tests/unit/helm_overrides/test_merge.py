"""helm_overrides.merge: the -f merge, the coalesce with chart defaults, and the whole chain."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from helm_overrides.merge import coalesce, merge_layers, merge_values, render_values
from helm_overrides.setvalues import SetValueError


def _containers(tree: Any) -> Iterator[Any]:
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _containers(value)
    elif isinstance(tree, list):
        yield tree
        for value in tree:
            yield from _containers(value)


def assert_fresh(result: Any, *inputs: Any) -> None:
    seen = {id(c) for tree in inputs for c in _containers(tree)}
    assert all(id(c) not in seen for c in _containers(result))


@pytest.mark.parametrize(
    ("base", "override", "expected"),
    [
        ({}, {}, {}),
        ({"a": 1}, {}, {"a": 1}),
        ({}, {"a": 1}, {"a": 1}),
        ({"a": 1, "b": 2}, {"b": 3}, {"a": 1, "b": 3}),
        ({"a": {"x": 1, "y": 2}}, {"a": {"y": 3, "z": 4}}, {"a": {"x": 1, "y": 3, "z": 4}}),
        ({"a": {"b": {"c": 1, "d": 2}}}, {"a": {"b": {"d": 5}}}, {"a": {"b": {"c": 1, "d": 5}}}),
        ({"a": [1, 2, 3]}, {"a": [9]}, {"a": [9]}),
        ({"a": [1]}, {"a": []}, {"a": []}),
        ({"a": {"x": 1}}, {"a": {}}, {"a": {"x": 1}}),
        ({"a": {"x": 1}}, {"a": None}, {"a": None}),
        ({"a": {"x": 1}}, {"a": {"x": None}}, {"a": {"x": None}}),
        ({}, {"a": None}, {"a": None}),
        ({"a": None}, {"a": {"x": 1}}, {"a": {"x": 1}}),
        ({"a": {"x": 1}}, {"a": "s"}, {"a": "s"}),
        ({"a": "s"}, {"a": {"x": 1}}, {"a": {"x": 1}}),
        ({"a": {"x": 1}}, {"a": [1]}, {"a": [1]}),
        ({"a": [1]}, {"a": {"x": 1}}, {"a": {"x": 1}}),
        ({"a": 1}, {"a": True}, {"a": True}),
    ],
)
def test_merge_values(base: dict[str, Any], override: dict[str, Any], expected: Any) -> None:
    base_before, override_before = copy.deepcopy(base), copy.deepcopy(override)
    result = merge_values(base, override)
    assert result == expected
    assert base == base_before
    assert override == override_before
    assert_fresh(result, base, override)


def test_merge_values_keeps_bool_and_int_apart() -> None:
    result = merge_values({"a": 1}, {"a": True})
    assert result["a"] is True


def test_merge_layers_folds_left() -> None:
    layers: list[dict[str, Any]] = [
        {"a": {"x": 1, "y": 1}, "l": [1, 2]},
        {"a": {"y": 2}, "l": [3]},
        {"a": {"z": None}, "b": "new"},
    ]
    before = copy.deepcopy(layers)
    result = merge_layers(layers)
    assert result == {"a": {"x": 1, "y": 2, "z": None}, "l": [3], "b": "new"}
    assert layers == before
    assert_fresh(result, *layers)


def test_merge_layers_empty_and_single() -> None:
    assert merge_layers([]) == {}
    only = {"a": {"b": [1]}}
    result = merge_layers(iter([only]))
    assert result == only
    assert_fresh(result, only)


@pytest.mark.parametrize(
    ("defaults", "values", "expected"),
    [
        ({}, {}, {}),
        ({"a": 1}, {}, {"a": 1}),
        ({}, {"a": 1}, {"a": 1}),
        ({"a": 1}, {"a": 2}, {"a": 2}),
        ({"a": {"x": 1, "y": 2}}, {"a": {"y": 3}}, {"a": {"x": 1, "y": 3}}),
        ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),
        ({"a": [1, 2]}, {"a": [None, "x"]}, {"a": [None, "x"]}),
        # A user null removes what the chart provides, at any depth and whatever it was...
        ({"a": 1, "b": 2}, {"a": None}, {"b": 2}),
        ({"a": {"x": 1}}, {"a": None}, {}),
        ({"a": {"x": 1, "y": 2}}, {"a": {"x": None}}, {"a": {"y": 2}}),
        ({"a": {"b": {"x": [1]}}}, {"a": {"b": {"x": None}}}, {"a": {"b": {}}}),
        ({"a": None}, {"a": None}, {}),
        ({"a": {"x": None}}, {"a": {"x": None}}, {"a": {}}),
        # ...but stays a null where the chart has nothing.
        ({}, {"a": None}, {"a": None}),
        ({"a": {"x": 1}}, {"a": {"y": None}}, {"a": {"x": 1, "y": None}}),
        ({"b": 1}, {"a": {"y": None}}, {"a": {"y": None}, "b": 1}),
        # Nulls in the defaults survive where the user says nothing.
        ({"a": None}, {}, {"a": None}),
        ({"a": {"x": None, "y": 1}}, {"a": {"y": 2}}, {"a": {"x": None, "y": 2}}),
        ({"a": None}, {"a": {"x": 1}}, {"a": {"x": 1}}),
        ({"a": {"x": None}}, {"a": {"x": {"deep": 1}}}, {"a": {"x": {"deep": 1}}}),
        # Type changes: the user always wins, and a user map is not filled from a non-map.
        ({"a": {"x": 1}}, {"a": "s"}, {"a": "s"}),
        ({"a": "s"}, {"a": {"x": 1}}, {"a": {"x": 1}}),
        ({"a": [1]}, {"a": {"x": 1}}, {"a": {"x": 1}}),
        ({"a": {"x": 1}}, {"a": [1]}, {"a": [1]}),
        ({"a": {"b": {"x": 1}}}, {"a": {"b": 5}}, {"a": {"b": 5}}),
        ({"a": {"b": 5}}, {"a": {"b": {"x": 1}}}, {"a": {"b": {"x": 1}}}),
        ({"a": {"b": {"x": 1}}}, {"a": {"b": False}}, {"a": {"b": False}}),
        # Empty maps on either side.
        ({"a": {"x": 1}}, {"a": {}}, {"a": {"x": 1}}),
        ({"a": {}}, {"a": {"x": 1}}, {"a": {"x": 1}}),
        ({"a": {}}, {}, {"a": {}}),
        ({"a": {"x": 1}}, {"a": []}, {"a": []}),
    ],
)
def test_coalesce(defaults: dict[str, Any], values: dict[str, Any], expected: Any) -> None:
    defaults_before, values_before = copy.deepcopy(defaults), copy.deepcopy(values)
    result = coalesce(defaults, values)
    assert result == expected
    assert defaults == defaults_before
    assert values == values_before
    assert_fresh(result, defaults, values)


def test_coalesce_copies_default_subtrees() -> None:
    defaults: dict[str, Any] = {"a": {"b": {"c": [1, {"d": 2}]}}, "e": [{"f": 1}]}
    result = coalesce(defaults, {"a": {"x": 1}})
    assert result == {"a": {"b": {"c": [1, {"d": 2}]}, "x": 1}, "e": [{"f": 1}]}
    assert_fresh(result, defaults)
    result["a"]["b"]["c"][1]["d"] = 99
    assert defaults["a"]["b"]["c"][1]["d"] == 2


def test_render_values_order_of_layers() -> None:
    defaults = {"image": {"repo": "r", "tag": "1"}, "replicas": 1, "drop": {"x": 1}, "l": [1]}
    files: list[dict[str, Any]] = [
        {"image": {"tag": "2"}, "extra": {"k": "v"}},
        {"image": {"tag": "3"}, "drop": None},
    ]
    sets = ["image.tag=4", "replicas=3,extra.k=null", "l[2]=x"]
    before = copy.deepcopy((defaults, files))
    result = render_values(defaults, files, sets)
    assert result == {
        "image": {"repo": "r", "tag": 4},
        "replicas": 3,
        "extra": {"k": None},
        "l": [None, None, "x"],
    }
    assert (defaults, files) == before
    assert_fresh(result, defaults, *files)


def test_render_values_set_extends_a_list_from_a_file() -> None:
    result = render_values({"l": [9, 9, 9, 9]}, [{"l": [1, 2]}], ["l[3]=x"])
    assert result == {"l": [1, 2, None, "x"]}


def test_render_values_null_set_over_a_default() -> None:
    assert render_values({"a": {"x": 1}, "b": 2}, [], ["a.x=null", "b=null"]) == {"a": {}}


def test_render_values_without_overrides_is_the_defaults() -> None:
    defaults = {"a": {"x": None}, "b": [1]}
    result = render_values(defaults, [], [])
    assert result == defaults
    assert_fresh(result, defaults)


def test_render_values_refuses_bad_set() -> None:
    files = [{"a": "scalar"}]
    with pytest.raises(SetValueError) as caught:
        render_values({}, files, ["ok=1", "a.b=1"])
    assert caught.value.expression == "a.b=1"
    assert files == [{"a": "scalar"}]
