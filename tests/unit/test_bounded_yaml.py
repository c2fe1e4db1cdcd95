"""bounded_yaml: the loader every YAML from users goes through refuses alias bombs, deep
nesting and huge integers quickly, and loads ordinary YAML as yaml.safe_load does."""

from __future__ import annotations

import itertools
import json
import tracemalloc

import pytest
import yaml

import bounded_yaml
from bounded_yaml import Limits, YAMLLimitError


@pytest.fixture(autouse=True, params=["libyaml", "python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test twice: events from libyaml's parser (when PyYAML has it), and from
    PyYAML's own; the limits are counted in the same Python composer either way."""
    if request.param == "python":
        monkeypatch.setattr(bounded_yaml, "_CParser", None)
    else:
        # PyYAML's wheels carry libyaml; a build without it would leave half the cases
        # untested, so it is a failure rather than a skip.
        assert bounded_yaml._CParser is not None, "PyYAML was built without libyaml"
    return str(request.param)


def laughs(levels: int, width: int = 9) -> str:
    """The classic "billion laughs": each level a list of ``width`` aliases of the last."""
    names = "abcdefghijklmnopqrstuvwxyz"
    text = "a: &a [" + ",".join(["lol"] * width) + "]\n"
    for prev, name in itertools.pairwise(names[: levels + 1]):
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * width) + "]\n"
    return text


def refused(text: str, limits: Limits = bounded_yaml.DEFAULT_LIMITS) -> str:
    # Refused before expanding: memory stays small (a bomb expanded would take hundreds of
    # MB). Measured in allocations rather than time, which a loaded machine would skew.
    tracemalloc.start()
    try:
        with pytest.raises(YAMLLimitError) as info:
            list(bounded_yaml.load_all(text, limits))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"{peak} bytes allocated before the refusal"
    return str(info.value)


def test_billion_laughs_is_refused_at_once() -> None:
    text = laughs(8)
    assert len(text) < 400
    assert refused(text) == "YAML aliases expand to more than 10000 nodes"


def test_the_alias_budget_is_the_expanded_size_across_documents() -> None:
    # b: 9 aliases of a (10 nodes each); c: 9 of b (91 each): 909 in all.
    assert bounded_yaml.load(laughs(2))["c"][0][0][0] == "lol"
    assert bounded_yaml.load(laughs(2), Limits(max_alias_nodes=909))
    assert "more than 908 nodes" in refused(laughs(2), Limits(max_alias_nodes=908))
    assert "expand to more than 100 nodes" in refused(laughs(2), Limits(max_alias_nodes=100))
    doc = "a: &a [1, 2, 3, 4]\nb: [*a, *a]\n"
    assert bounded_yaml.load(doc, Limits(max_alias_nodes=10)) == {
        "a": [1, 2, 3, 4], "b": [[1, 2, 3, 4], [1, 2, 3, 4]]}  # fmt: skip
    # Each document alone fits; the stream does not.
    assert "more than 10 nodes" in refused(f"{doc}---\n{doc}", Limits(max_alias_nodes=10))


def test_an_alias_inside_its_own_node_is_refused() -> None:
    assert "alias refers to a node that contains it" in refused("a: &x [1, *x]\n")
    assert "contains it" in refused("a: &x {b: *x}\n")


def test_nesting_depth() -> None:
    assert bounded_yaml.load("[" * 64 + "]" * 64) is not None
    assert refused("[" * 65 + "]" * 65) == "YAML is nested more than 64 levels deep"
    # A million levels: refused at the 65th, never a RecursionError.
    assert "nested more than 64" in refused("a: " + "[" * 1_000_000)
    block = "".join("  " * i + "a:\n" for i in range(70)) + "  " * 70 + "b: 1\n"
    assert "nested more than 64" in refused(block)


def test_aliases_cannot_stack_depth() -> None:
    # Each anchor 40 deep, each alias placed 30 deep: the data would be 70 deep.
    text = "a: &a " + "[" * 40 + "1" + "]" * 40 + "\nb: " + "[" * 30 + "*a" + "]" * 30 + "\n"
    assert "nested more than 64" in refused(text)


def test_merge_keys_count_as_their_entries() -> None:
    chain = "a0: &a0 {k0: 0}\n" + "".join(
        f"a{i}: &a{i} {{<<: *a{i - 1}, k{i}: {i}}}\n" for i in range(1, 40)
    )
    assert bounded_yaml.load(chain)["a39"] == {f"k{i}": i for i in range(40)}
    # A long chain copies quadratically many entries: refused by the alias budget.
    long_chain = "a0: &a0 {k0: 0}\n" + "".join(
        f"a{i}: &a{i} {{<<: *a{i - 1}, k{i}: {i}}}\n" for i in range(1, 2000)
    )
    assert "aliases expand" in refused(long_chain)


@pytest.mark.parametrize(
    "scalar", ["1" * 1001, "-" + "9" * 1500, "0x" + "f" * 5000, "0b" + "1" * 9000,
               "1" + ":30" * 5000, "1" * 10_000],
)  # fmt: skip
def test_huge_integers_are_refused(scalar: str) -> None:
    assert "YAML integer has more than 1000 digits" in refused(f"a: {scalar}\n")


def test_ordinary_yaml_loads_as_safe_load_does() -> None:
    text = """
    defaults: &defaults {replicas: 1, image: {tag: "1.0"}}
    api:
      <<: *defaults
      replicas: 3
    big: 9223372036854775807
    sexagesimal: 1:30
    hex: 0x1f
    list: [a, 'b', {c: null}]
    """
    text = "\n".join(line[4:] for line in text.splitlines())
    assert bounded_yaml.load(text) == yaml.safe_load(text)
    assert bounded_yaml.load("") is None
    assert list(bounded_yaml.load_all("---\na: 1\n---\n---\nb: 2\n")) == [{"a": 1}, None, {"b": 2}]


def test_only_json_types_are_loaded_as_helm_reads_them() -> None:
    text = """
    when: 2024-01-02
    stamp: 2001-12-14t21:59:43.10-05:00
    tags: !!set {a, b}
    ordered: !!omap [{x: 1}, {y: [2]}]
    pairs: !!pairs [{x: 1}, {x: 2}]
    blob: !!binary aGVsbG8=
    """
    data = bounded_yaml.load("\n".join(line[4:] for line in text.splitlines()))
    assert data == {
        "when": "2024-01-02",
        "stamp": "2001-12-14t21:59:43.10-05:00",
        "tags": {"a": None, "b": None},
        "ordered": [{"x": 1}, {"y": [2]}],
        "pairs": [{"x": 1}, {"x": 2}],
        "blob": "hello",
    }
    assert json.loads(json.dumps(data)) == data
    for bad in ("a: !!binary /w==", "a: !!omap [1]", "a: !!omap {x: 1}", "a: !!set [a]"):
        with pytest.raises(yaml.constructor.ConstructorError):
            bounded_yaml.load(bad)


def test_invalid_yaml_is_still_a_yaml_error() -> None:
    with pytest.raises(yaml.YAMLError) as info:
        bounded_yaml.load("a: [\n")
    assert not isinstance(info.value, YAMLLimitError)
    with pytest.raises(yaml.constructor.ConstructorError):
        bounded_yaml.load("!!python/object:os.system x")


def test_dump_writes_no_aliases() -> None:
    shared = {"x": [1, 2]}
    text = bounded_yaml.dump({"a": shared, "b": shared}, sort_keys=True)
    assert "&" not in text and "*" not in text
    assert bounded_yaml.load(text) == {"a": {"x": [1, 2]}, "b": {"x": [1, 2]}}
    stream = bounded_yaml.dump_all([{"a": shared}, {"b": shared}])
    assert "&" not in stream and "*" not in stream


def test_check_depth() -> None:
    bounded_yaml.check_depth({"a": [[{}]]}, 4)
    with pytest.raises(YAMLLimitError, match="nested more than 3 levels deep"):
        bounded_yaml.check_depth({"a": [[{}]]}, 3)
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(YAMLLimitError, match="more than 64 levels"):
        bounded_yaml.check_depth(deep)
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(YAMLLimitError):
        bounded_yaml.check_depth(cycle)


def test_libyaml_events_load_what_pythons_load(parser: str) -> None:
    """The same data from both parsers, on the OpenStack app's values and manifests."""
    from tests.unit.test_yaml_dumpers import documents

    docs = [doc for name, doc in documents().items() if name != "tricky"]  # it has !!binary
    text = bounded_yaml.dump_all(docs, sort_keys=True)
    assert list(bounded_yaml.load_all(text)) == docs
    assert isinstance(bounded_yaml._loader(text, Limits()), bounded_yaml.BoundedLoader)
    # libyaml refuses beyond 1000 levels itself: a limit above that keeps Python's parser.
    assert type(bounded_yaml._loader("a", Limits(max_depth=5000))) is bounded_yaml.BoundedLoader
