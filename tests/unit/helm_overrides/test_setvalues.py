"""helm_overrides.setvalues: Helm's ``--set`` parser, case by case (as observed on helm 3)."""

from __future__ import annotations

from typing import Any

import pytest

from helm_overrides.setvalues import SetValueError, parse_set
from sysinv_common.validation import has_unescaped_comma


def parsed(expr: str, into: dict[str, Any] | None = None) -> dict[str, Any]:
    target = {} if into is None else into
    parse_set(expr, target)
    return target


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("a=b", {"a": "b"}),
        ("a.b.c=d", {"a": {"b": {"c": "d"}}}),
        ("a=1,b=2", {"a": 1, "b": 2}),
        ("a=1,", {"a": 1}),
        ("a=", {"a": ""}),
        ("a=,b=1", {"a": "", "b": 1}),
        ("a=x=y", {"a": "x=y"}),
        ("a = 1", {"a ": " 1"}),
        (r"a\.b=c", {"a.b": "c"}),
        (r"a=x\,y", {"a": "x,y"}),
        (r"a=x\\y", {"a": "x\\y"}),
        ("a=x\\", {"a": "x"}),
        (r"a\=b=c", {"a=b": "c"}),
        ("a[0]=x", {"a": ["x"]}),
        ("a[2]=x", {"a": [None, None, "x"]}),
        ("a[1].b=x", {"a": [None, {"b": "x"}]}),
        ("a[0][1]=x", {"a": [[None, "x"]]}),
        ("a[0][1][0].b=x", {"a": [[None, [{"b": "x"}]]]}),
        ("a[+1]=x", {"a": [None, "x"]}),
        ("a[01]=x", {"a": [None, "x"]}),
        ("a[0]=", {"a": [""]}),
        ("a[0]={x,y}", {"a": [["x", "y"]]}),
        ("a={x,y}", {"a": ["x", "y"]}),
        ("a={x,y},b=1", {"a": ["x", "y"], "b": 1}),
        ("a={x}b=1", {"a": ["x"], "b": 1}),
        ("a={}", {"a": [""]}),
        (r"a={x\,y,z}", {"a": ["x,y", "z"]}),
        ("a={1,true,null,0,01}", {"a": [1, True, None, 0, "01"]}),
        ("a.b={1}", {"a": {"b": [1]}}),
        ("ключ.日本=値", {"ключ": {"日本": "値"}}),
        # Oddities kept because Helm has them: an index with nothing after it creates an
        # empty list, an assignment to the empty key is dropped, "a." sets nothing.
        ("a[0]", {"a": []}),
        ("a[0].b=", {"a": []}),
        ("=1", {}),
        (".a=1", {}),
        ("a.", {}),
        ("", {}),
        ("a=1,=2", {"a": 1}),
    ],
)
def test_parse_into_empty(expr: str, expected: dict[str, Any]) -> None:
    assert parsed(expr) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("TRUE", True),
        ("tRuE", True),
        ("false", False),
        ("False", False),
        ("fal\u017fe", False),  # Go's EqualFold folds the long s onto "s"
        ("null", None),
        ("NULL", None),
        ("0", 0),
        ("1", 1),
        ("-5", -5),
        ("+5", 5),
        ("-0", 0),
        ("-007", -7),
        ("9223372036854775807", 9223372036854775807),
        ("-9223372036854775808", -9223372036854775808),
        ("9223372036854775808", "9223372036854775808"),
        ("007", "007"),
        ("00", "00"),
        ("01", "01"),
        ("1.5", "1.5"),
        ("1e3", "1e3"),
        ("0x10", "0x10"),
        ("1_000", "1_000"),
        ("\u0661\u0662", "\u0661\u0662"),  # Arabic-Indic digits are no integer for Go
        (" 1", " 1"),
        ("yes", "yes"),
        ("on", "on"),
        ("~", "~"),
        ("truee", "truee"),
        ("", ""),
    ],
)
def test_typed_values(text: str, value: Any) -> None:
    result = parsed(f"v={text}")["v"]
    assert type(result) is type(value)
    assert result == value


@pytest.mark.parametrize(
    ("before", "expr", "after"),
    [
        ({"l": [1, 2, 3]}, "l[1]=x", {"l": [1, "x", 3]}),
        ({"l": [1, 2, 3]}, "l[5]=x", {"l": [1, 2, 3, None, None, "x"]}),
        ({"l": [1, 2]}, "l[0].b=x", {"l": [{"b": "x"}, 2]}),
        ({"l": [{"a": 1}, 2]}, "l[0].b=x", {"l": [{"a": 1, "b": "x"}, 2]}),
        ({"l": [[1], 2]}, "l[0][2]=x", {"l": [[1, None, "x"], 2]}),
        ({"l": [None]}, "l[0][0]=x", {"l": [["x"]]}),
        ({"l": [1, 2]}, "l[0].b=", {"l": [{"b": ""}, 2]}),
        ({"l": [1, 2]}, "l[0].=1", {"l": [{}, 2]}),
        ({"l": [1, 2]}, "l[0]", {"l": [1, 2]}),
        ({"l": [1, 2]}, "l={x}", {"l": ["x"]}),
        ({"m": {"k": 1}}, "m.j=2", {"m": {"k": 1, "j": 2}}),
        ({"m": {"k": 1}}, "m.k=null", {"m": {"k": None}}),
        ({"m": {"k": 1}}, "m=x", {"m": "x"}),
        ({"m": {"k": 1}}, "m.", {"m": {"k": 1}}),
        ({"a": "s"}, "a=null", {"a": None}),
        ({"a": "s"}, "a=y", {"a": "y"}),
        ({"a": "s"}, "a={}", {"a": [""]}),
        # The empty key cannot be assigned, but a map already there under it is walked into.
        ({"": {"x": 1}}, ".y=2", {"": {"x": 1, "y": 2}}),
        ({"": [1]}, "[0]=2", {"": [2]}),
        ({"": [1]}, "[3]=2", {"": [1]}),
    ],
)
def test_parse_into_existing(before: dict[str, Any], expr: str, after: dict[str, Any]) -> None:
    assert parsed(expr, before) == after


def test_nesting_limit() -> None:
    thirty_dots = ".".join(f"k{i}" for i in range(31))
    deepest = parsed(f"{thirty_dots}=1")
    for i in range(30):
        deepest = deepest[f"k{i}"]
    assert deepest == {"k30": 1}
    with pytest.raises(SetValueError, match="nested level"):
        parsed(f"{thirty_dots}.k31=1")


def test_nesting_of_indexes_is_bounded_without_recursing_deeply() -> None:
    # Helm has no limit on a[0][0]...; ours is 64 levels, keys and indexes together.
    deepest: Any = parsed("a" + "[0]" * 63 + "=1")["a"]
    for _ in range(62):
        deepest = deepest[0]
    assert deepest == [1]
    for expr in ("a" + "[0]" * 65 + "=1", "a" + "[0]" * 100_000 + "=1",
                 "a[0][0]." * 10_000 + "b=1", "a[0]." * 40 + "b=1"):  # fmt: skip
        with pytest.raises(SetValueError, match="nested more than 64 levels deep"):
            parsed(expr)


def test_index_limit() -> None:
    items = parsed("a[65536]=x")["a"]
    assert len(items) == 65537
    assert items[-1] == "x"
    assert items[:-1] == [None] * 65536
    with pytest.raises(SetValueError, match="maximum supported index of 65536"):
        parsed("a[65537]=x")


@pytest.mark.parametrize(
    ("before", "expr", "reason"),
    [
        ({}, "a", "'a' has no value"),
        ({}, "a.b", "'b' has no value"),
        ({}, "a,b=1", "cannot end with ,"),
        ({}, "a.=1", "key map 'a' has no value"),
        ({}, "a={x,y", "list must terminate with '}'"),
        ({}, "a[-1]=x", "negative -1 index not allowed"),
        ({}, "a[0][-2]=x", "negative -2 index not allowed"),
        ({}, "a[x]=1", "'x' is not an integer"),
        ({}, "a[ 1]=1", "' 1' is not an integer"),
        ({}, "a[]=1", "'' is not an integer"),
        ({}, "a[99999999999999999999]=1", "out of range"),
        ({}, "a[1", "unterminated '['"),
        ({}, "a[0][1", "unterminated '['"),
        ({}, "a[0]b=1", "unexpected data at end of array index: 'b'"),
        ({"a": "s"}, "a.b=1", "'a' holds a string, not a map"),
        ({"a": 1}, "a.b=1", "'a' holds a number, not a map"),
        ({"a": None}, "a.b=1", "'a' holds null, not a map"),
        ({"a": [1]}, "a.b=1", "'a' holds a list, not a map"),
        ({"a": "s"}, "a.", "'a' holds a string, not a map"),
        ({"a": {"k": 1}}, "a[0]=1", "'a' holds a map, not a list"),
        ({"a": None}, "a[0]=1", "'a' holds null, not a list"),
        ({"a": True}, "a[0]", "'a' holds a bool, not a list"),
        ({"a": [1]}, "a[0][0]=1", "item 0 holds a number, not a list"),
        ({}, "a=1,b.c", "'c' has no value"),
    ],
)
def test_refused(before: dict[str, Any], expr: str, reason: str) -> None:
    with pytest.raises(SetValueError) as caught:
        parse_set(expr, before)
    assert caught.value.expression == expr
    assert reason in caught.value.reason
    assert repr(expr) in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_refused_leaves_target_untouched() -> None:
    target: dict[str, Any] = {"keep": {"x": [1, 2]}, "s": "v"}
    inner = target["keep"]
    with pytest.raises(SetValueError):
        parse_set("keep.x[1]=changed,keep.y=new,s.t=1", target)
    assert target == {"keep": {"x": [1, 2]}, "s": "v"}
    assert target["keep"] is inner


def test_later_sets_build_on_earlier_ones() -> None:
    target: dict[str, Any] = {}
    parse_set("a.l={1,2}", target)
    parse_set("a.l[3]=4", target)
    parse_set("a.m.n=x", target)
    assert target == {"a": {"l": [1, 2, None, 4], "m": {"n": "x"}}}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("a=b", False),
        (r"a=b\,c", False),
        (r"a=b\,c\,d", False),
        ("a=b,c", True),
        ("a=1,b=2", True),
        (",", True),
        ("a=b,", True),
        (r"a=b\,c,d", True),
        ("a={x,y}", True),
        # An escaped backslash does not escape the comma after it (Helm splits there).
        (r"a=b\\,c", True),
        ("", False),
    ],
)
def test_has_unescaped_comma(expr: str, expected: bool) -> None:
    assert has_unescaped_comma(expr) is expected
