"""YAML from users, with bounds: the one loader for every YAML the service reads from them.

PyYAML's safe loader refuses arbitrary objects but not a "billion laughs": a few hundred
bytes of nested aliases describe a tree of billions of nodes. Loading one is cheap (an
alias is a shared reference), but whatever copies, merges or dumps it afterwards expands
it; a 382-byte values file took 34 s and 290 MB, and every later show of it minutes.
Deep nesting is the other way to hurt: PyYAML composes recursively, and so does most code
that walks the result, so a deep enough document ends in a ``RecursionError``.

:class:`BoundedLoader` (a :class:`yaml.SafeLoader`) counts while it composes and refuses,
with :class:`YAMLLimitError`, a stream

- whose aliases expand to more than ``max_alias_nodes`` nodes in all (an alias counts the
  whole tree it stands for, aliases inside it included: what a copy of the result holds
  beyond the text's own nodes);
- with an alias to a node that contains it (a cycle, which no copy can expand);
- nested more than ``max_depth`` collections deep;
- with an integer of more than ``max_int_digits`` decimal digits (Python refuses to print
  one of more than 4300, and Helm has only 64-bit integers and doubles).

What it loads is JSON's types only, read as Helm reads them (its YAML goes through JSON):
a timestamp stays the text it is, ``!!set`` is a mapping of nulls, ``!!omap`` and
``!!pairs`` lists of one-entry mappings, ``!!binary`` the text it encodes. PyYAML's own
``set``, ``date`` and ``bytes`` crashed whatever sent the values on as JSON.

:func:`load` and :func:`load_all` read the text with libyaml's scanner and parser when
PyYAML has them (several times faster), and compose in Python, where the limits are
counted; libyaml's own refusal of nesting beyond 1000 levels is the same limit error.
Where libyaml is absent, PyYAML's own parser, with the same results.

:func:`dump` writes without anchors and aliases, so what was loaded and dumped again can
hold no alias for a later load to expand. :func:`check_depth` bounds data built another
way (``--set``).

This package imports nothing but PyYAML, so that ``armada`` (a library that imports
nothing of sysinv's) and ``sysinv_common`` can both use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "DEFAULT_LIMITS",
    "BoundedLoader",
    "Limits",
    "YAMLLimitError",
    "check_depth",
    "dump",
    "dump_all",
    "load",
    "load_all",
]


@dataclass(frozen=True)
class Limits:
    #: Nodes the aliases of one stream may stand for, counted as if each were expanded.
    max_alias_nodes: int = 10_000
    #: Collections nested in one another (a mapping in a list in a mapping is 3).
    max_depth: int = 64
    #: Decimal digits of an integer.
    max_int_digits: int = 1000


DEFAULT_LIMITS = Limits()
_MERGE = "tag:yaml.org,2002:merge"


class YAMLLimitError(yaml.YAMLError):
    """The text is YAML, but beyond a limit; the message names the limit."""


class BoundedLoader(yaml.SafeLoader):
    """A safe loader that refuses what :class:`Limits` excludes (module docstring)."""

    def __init__(self, stream: str | bytes | IO[str] | IO[bytes], limits: Limits) -> None:
        super().__init__(stream)
        self.limits = limits
        self._int_bound = 10**limits.max_int_digits
        self._alias_nodes = 0
        self._depth = 0
        # (expanded size, expanded height) of each node composed so far in this document,
        # by id; a node still being composed has none yet: that is how an alias to one of
        # its ancestors shows.
        self._shapes: dict[int, tuple[int, int]] = {}

    def compose_document(self) -> Node | None:
        self._shapes = {}
        try:
            return super().compose_document()
        finally:
            self._shapes = {}

    def _too_deep(self) -> YAMLLimitError:
        return YAMLLimitError(f"YAML is nested more than {self.limits.max_depth} levels deep")

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            node = super().compose_node(parent, index)
            assert node is not None
            shape = self._shapes.get(id(node))
            if shape is None:
                raise YAMLLimitError(f"YAML alias refers to a node that contains it{mark}")
            self._alias_nodes += shape[0]
            if self._alias_nodes > self.limits.max_alias_nodes:
                raise YAMLLimitError(
                    f"YAML aliases expand to more than {self.limits.max_alias_nodes} nodes"
                )
            depth = self._depth + shape[1]
            if isinstance(index, Node) and index.tag == _MERGE and isinstance(node, MappingNode):
                depth -= 1  # ``<<: *m``: m's entries land in the mapping being composed
            if depth > self.limits.max_depth:
                raise self._too_deep()
            return node
        collection = self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent)
        if collection:
            self._depth += 1
            if self._depth > self.limits.max_depth:
                raise self._too_deep()
        try:
            node = super().compose_node(parent, index)
        finally:
            if collection:
                self._depth -= 1
        if node is not None:
            self._shapes[id(node)] = self._shape(node)
        return node

    def _shape(self, node: Node) -> tuple[int, int]:
        if isinstance(node, SequenceNode):
            children = [self._shapes[id(child)] for child in node.value]
        elif isinstance(node, MappingNode):
            children = []
            for key, value in node.value:
                children.append(self._shapes[id(key)])
                size, height = self._shapes[id(value)]
                if key.tag == _MERGE:
                    # ``<<: *m`` (or ``<<: [*m, *n]``) puts m's entries into this mapping:
                    # they are as deep as its own entries, not one level below.
                    height -= 1 if isinstance(value, MappingNode) else 2
                children.append((size, height))
        else:
            return (1, 0)
        return (1 + sum(s for s, _ in children), 1 + max((h for _, h in children), default=0))

    def construct_yaml_int(self, node: ScalarNode) -> int:
        digits = self.limits.max_int_digits
        # Bounded before converting: sexagesimal (1:2:3) is converted part by part.
        if len(node.value) <= 4 * digits + 4:
            try:
                value: int = super().construct_yaml_int(node)
            except ValueError:  # Python's own limit on converting decimal text
                pass
            else:
                if -self._int_bound < value < self._int_bound:
                    return value
        raise YAMLLimitError(f"YAML integer has more than {digits} digits{node.start_mark}")

    # JSON's types only (module docstring).

    def construct_timestamp_text(self, node: ScalarNode) -> str:
        return self.construct_scalar(node)

    def construct_set_mapping(self, node: MappingNode) -> Iterator[dict[Any, Any]]:
        data: dict[Any, Any] = {}
        yield data
        data.update({key: None for key in self.construct_mapping(node)})

    def construct_entries(self, node: Node) -> Iterator[list[Any]]:
        items: list[Any] = []
        yield items
        if not isinstance(node, SequenceNode):
            raise ConstructorError(None, None, "expected a sequence of one-entry mappings",
                                   node.start_mark)  # fmt: skip
        for entry in node.value:
            if not isinstance(entry, MappingNode) or len(entry.value) != 1:
                raise ConstructorError(None, None, "expected a mapping of one entry",
                                       entry.start_mark)  # fmt: skip
            items.append(self.construct_mapping(entry))

    def construct_binary_text(self, node: ScalarNode) -> str:
        data: bytes = self.construct_yaml_binary(node)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ConstructorError(None, None, "!!binary data that is not UTF-8 text",
                                   node.start_mark) from None  # fmt: skip


for _tag, _constructor in (
    ("int", BoundedLoader.construct_yaml_int),
    ("timestamp", BoundedLoader.construct_timestamp_text),
    ("set", BoundedLoader.construct_set_mapping),
    ("omap", BoundedLoader.construct_entries),
    ("pairs", BoundedLoader.construct_entries),
    ("binary", BoundedLoader.construct_binary_text),
):
    BoundedLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _constructor)


# libyaml's scanner and parser, when PyYAML has them, turn the text into events several
# times faster than PyYAML's own; composing stays Python's (BoundedLoader's compose_node),
# because that is where the limits are counted: CSafeLoader composes in C, where an alias
# bomb would be built (cheaply) and a deep one recursed through without any limit.
try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML without libyaml
    _CParser: type[CParser] | None = None
else:
    _CParser = CParser

#: libyaml (0.2.5) refuses, as a scanner error, text nested deeper than this.
_LIBYAML_MAX_NESTING = 1000


class _LibyamlBoundedLoader(BoundedLoader):
    """:class:`BoundedLoader` reading its events from libyaml's parser."""

    def __init__(self, stream: str | bytes, limits: Limits) -> None:
        super().__init__("", limits)  # Python's reader and parser left idle
        assert _CParser is not None
        self._events = _CParser(stream)

    def check_event(self, *choices: Any) -> bool:
        return self._events.check_event(*choices)

    def peek_event(self) -> yaml.Event | None:
        return self._events.peek_event()

    def get_event(self) -> yaml.Event | None:
        return self._events.get_event()

    def dispose(self) -> None:
        super().dispose()
        self._events.dispose()


def _loader(text: str | bytes, limits: Limits) -> BoundedLoader:
    # libyaml refuses deeper than _LIBYAML_MAX_NESTING itself: the limits must be below.
    if _CParser is not None and limits.max_depth < _LIBYAML_MAX_NESTING:
        return _LibyamlBoundedLoader(text, limits)
    return BoundedLoader(text, limits)


def _too_deep(exc: yaml.MarkedYAMLError, limits: Limits) -> YAMLLimitError | None:
    """libyaml's own refusal of deep nesting, as the limit error BoundedLoader raises."""
    if "maximum nesting depth" in str(exc.problem):
        return YAMLLimitError(f"YAML is nested more than {limits.max_depth} levels deep")
    return None


def load(text: str | bytes, limits: Limits = DEFAULT_LIMITS) -> Any:
    """The one document of ``text`` (``None`` if empty); :class:`yaml.YAMLError` if it is
    not YAML, :class:`YAMLLimitError` (a subclass) if it is beyond ``limits``."""
    loader = _loader(text, limits)
    try:
        return loader.get_single_data()
    except RecursionError:
        raise YAMLLimitError("YAML is nested too deeply") from None
    except yaml.MarkedYAMLError as exc:
        raise (_too_deep(exc, limits) or exc) from None
    finally:
        loader.dispose()


def load_all(text: str | bytes, limits: Limits = DEFAULT_LIMITS) -> Iterator[Any]:
    """Every document of ``text``; the alias budget is shared by the whole stream."""
    loader = _loader(text, limits)
    try:
        while loader.check_data():  # type: ignore[no-untyped-call]
            yield loader.get_data()
    except RecursionError:
        raise YAMLLimitError("YAML is nested too deeply") from None
    except yaml.MarkedYAMLError as exc:
        raise (_too_deep(exc, limits) or exc) from None
    finally:
        loader.dispose()


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True

    def check_simple_key(self) -> bool:
        """An empty key as libyaml writes it, ``'': v`` rather than ``? ''`` and ``: v`` on
        a line of its own (the only difference tests/unit/test_yaml_dumpers found), so that
        the text is the same with or without libyaml."""
        event = self.event
        if isinstance(event, yaml.ScalarEvent) and event.value == "":
            return True
        simple: bool = super().check_simple_key()
        return simple


# libyaml's emitter, when PyYAML was built with it: the same representer (Python) and
# resolver, so the same scalar styles and the same text, for a fraction of the time.
try:
    from yaml import CSafeDumper
except ImportError:  # PyYAML without libyaml: the pure-Python emitter alone
    _FastDumper: type[yaml.SafeDumper] | None = None
else:

    class _CNoAliasDumper(CSafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    # Both dumpers represent with yaml.SafeRepresenter; CSafeDumper does not inherit from
    # yaml.SafeDumper (its emitter is libyaml's), hence the cast for the one type.
    _FastDumper = cast("type[yaml.SafeDumper]", _CNoAliasDumper)

# YAML 1.1 readers also take y, Y, n and N for booleans (go-yaml v2, which Helm 3 and most
# Go programs read values with); PyYAML's resolver does not, so it wrote the string "y"
# bare and Helm read ``true``. Resolving them as booleans when dumping makes the emitter
# quote the strings; a real boolean is still written true/false.
for _class in (_NoAliasDumper, _FastDumper):
    if _class is not None:
        _class.add_implicit_resolver(
            "tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN")
        )


def _dumper(documents: list[Any], kwargs: dict[str, Any]) -> type[yaml.SafeDumper]:
    """libyaml's emitter where its text is the pure-Python one's (tests/unit/test_bounded_yaml
    compares them): it writes no ``...`` after a bare scalar document, and with
    ``allow_unicode`` it escapes characters beyond the BMP and NEL, which Python's writes."""
    if (
        _FastDumper is None
        or kwargs.get("allow_unicode")
        or not all(isinstance(d, dict | list) for d in documents)
    ):
        return _NoAliasDumper
    return _FastDumper


def dump(data: Any, **kwargs: Any) -> str:
    """``yaml.safe_dump`` without anchors or aliases: a value shared twice is written
    twice. Check the data's size first (:func:`check_depth`, or load it bounded).

    Every YAML the service writes goes through here (or :func:`dump_all`): libyaml's
    emitter when it is there, the same text as PyYAML's own otherwise."""
    text: str = yaml.dump(data, Dumper=_dumper([data], kwargs), **kwargs)
    return text


def dump_all(documents: list[Any], **kwargs: Any) -> str:
    """:func:`dump` of a stream of documents."""
    text: str = yaml.dump_all(documents, Dumper=_dumper(documents, kwargs), **kwargs)
    return text


def check_depth(data: Any, max_depth: int = DEFAULT_LIMITS.max_depth) -> None:
    """Raise :class:`YAMLLimitError` if ``data`` nests dicts and lists more than
    ``max_depth`` deep (counted as :class:`BoundedLoader` counts), without recursing; a
    cycle is refused as too deep."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        depth += 1
        if depth > max_depth:
            raise YAMLLimitError(f"nested more than {max_depth} levels deep")
        stack.extend((child, depth) for child in children)
