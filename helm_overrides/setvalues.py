"""Helm's ``--set`` string parser (``strvals.ParseInto``), reimplemented in Python.

``parse_set`` applies one ``--set`` argument to a values tree the way helm 3 does, including
its odd corners (``a={}`` is ``[""]``, ``a[0]`` alone creates an empty list, a scalar that a
dotted key walks through is an error while a list item that one walks through becomes a map).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["SetValueError", "clone_values", "parse_set"]

# Helm's limits (strvals.MaxIndex, strvals.MaxNestedNameLevel).
MAX_INDEX = 65536
MAX_NESTED_NAME_LEVEL = 30
# Ours: how deep maps and lists may nest below the top, keys and indexes together. Helm
# does not limit indexes (a[0][0]...); this parser recurses once per level, and no values
# are that deep (the service refuses YAML nested past 64 anyway).
MAX_NESTED_LEVEL = 64

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# strconv.ParseInt/Atoi in base 10: an optional sign then ASCII digits, nothing else.
_GO_DECIMAL = re.compile(r"[+-]?[0-9]+", re.ASCII)

# Go's strings.EqualFold compares through Unicode simple case folding; the only non-ASCII
# runes that fold onto the letters of "true", "false" and "null" are these.
_NON_ASCII_FOLDS = {"\u017f": "s", "\u212a": "k"}


class SetValueError(ValueError):
    """A ``--set`` expression Helm would refuse; says which expression and why."""

    def __init__(self, expression: str, reason: str) -> None:
        super().__init__(f"failed parsing --set {expression!r}: {reason}")
        self.expression = expression
        self.reason = reason


class _Refused(Exception):
    """Internal: the reason a parse failed, before the expression is attached."""


def parse_set(expr: str, into: dict[str, Any]) -> None:
    """Apply one ``--set`` argument to ``into`` as helm 3's ``strvals.ParseInto`` does.

    ``into`` is changed in place on success and left exactly as it was when the expression
    is refused (Helm abandons the whole run then, so its half-applied state never matters).
    """
    work = {key: clone_values(value) for key, value in into.items()}
    try:
        _Parser(expr).parse(work)
    except _Refused as exc:
        raise SetValueError(expr, str(exc)) from None
    into.clear()
    into.update(work)


def clone_values(value: Any) -> Any:
    """A values tree with fresh containers all the way down: Mappings become dicts and
    tuples lists, as they would coming out of a YAML parse; no memo, so shared sub-trees
    become independent copies like in Go's parsed values."""
    if isinstance(value, Mapping):
        return {key: clone_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clone_values(item) for item in value]
    return value


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, int | float):
        return "a number"
    return "a string"


def _fold_equal(text: str, word: str) -> bool:
    if len(text) != len(word):
        return False
    for ch, want in zip(text, word, strict=True):
        folded = ch.lower() if ch.isascii() else _NON_ASCII_FOLDS.get(ch, ch)
        if folded != want:
            return False
    return True


def _go_int(text: str) -> int | None:
    if not _GO_DECIMAL.fullmatch(text):
        return None
    number = int(text)
    return number if _INT64_MIN <= number <= _INT64_MAX else None


def _typed_value(text: str) -> Any:
    """The value Helm's typed ``--set`` gives the string ``text`` (strvals.typedVal)."""
    for word, value in (("true", True), ("false", False), ("null", None)):
        if _fold_equal(text, word):
            return value
    if text == "0":
        return 0
    # Helm keeps anything starting with 0 a string (zip codes, octal-looking ids, "00").
    if text and text[0] != "0":
        number = _go_int(text)
        if number is not None:
            return number
    return text


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    # Helm silently drops assignments to the empty key ("=1", ".a=1").
    if key:
        data[key] = value


def _set_index(items: list[Any], index: int, value: Any) -> list[Any]:
    if index < 0:
        raise _Refused(f"negative {index} index not allowed")
    if index > MAX_INDEX:
        raise _Refused(f"index of {index} is greater than maximum supported index of {MAX_INDEX}")
    if len(items) <= index:
        # Growing makes a new list (a Go slice re-allocation); the caller stores it back.
        grown = items + [None] * (index + 1 - len(items))
        grown[index] = value
        return grown
    items[index] = value
    return items


class _Parser:
    """One pass over an expression; methods return True when the input ran out (Go's io.EOF,
    which ends the parse successfully) and raise ``_Refused`` for everything Helm rejects."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def _descend(self) -> None:
        """Entering a nested map or list; ``depth -= 1`` on the way back."""
        self.depth += 1
        if self.depth > MAX_NESTED_LEVEL:
            raise _Refused(
                f"values nested more than {MAX_NESTED_LEVEL} levels deep (keys and indexes)"
            )

    def _read(self) -> str | None:
        if self.pos >= len(self.text):
            return None
        ch = self.text[self.pos]
        self.pos += 1
        return ch

    def _unread(self) -> None:
        self.pos -= 1

    def _until(self, stop: str) -> tuple[str, str | None]:
        """Characters up to one of ``stop`` (consumed), with backslash escapes resolved;
        the stop character is None at the end of the input."""
        out: list[str] = []
        while True:
            ch = self._read()
            if ch is None:
                return "".join(out), None
            if ch in stop:
                return "".join(out), ch
            if ch == "\\":
                escaped = self._read()
                if escaped is None:
                    return "".join(out), None
                out.append(escaped)
            else:
                out.append(ch)

    def parse(self, data: dict[str, Any]) -> None:
        while not self._key(data, 0):
            pass

    def _key(self, data: dict[str, Any], level: int) -> bool:
        key, last = self._until("=[,.")
        if last is None:
            if not key:
                return True
            raise _Refused(f"key {key!r} has no value")
        if last == "[":
            index = self._index()
            items: list[Any] = []
            if key in data:
                existing = data[key]
                if not isinstance(existing, list):
                    raise _Refused(f"{key!r} holds {_describe(existing)}, not a list")
                items = existing
            self._descend()
            items, ended = self._list_item(items, index, level)
            self.depth -= 1
            _set(data, key, items)
            return ended
        if last == "=":
            return self._assign(data, key)
        if last == ",":
            raise _Refused(f"key {key!r} has no value (cannot end with ,)")
        level += 1
        if level > MAX_NESTED_NAME_LEVEL:
            raise _Refused(
                "value name nested level is greater than maximum supported nested level "
                f"of {MAX_NESTED_NAME_LEVEL}"
            )
        inner: dict[str, Any] = {}
        if key in data:
            existing = data[key]
            if not isinstance(existing, dict):
                raise _Refused(f"{key!r} holds {_describe(existing)}, not a map")
            inner = existing
        self._descend()
        ended = self._key(inner, level)
        self.depth -= 1
        if not ended and not inner:
            raise _Refused(f"key map {key!r} has no value")
        if inner:
            _set(data, key, inner)
        return ended

    def _assign(self, data: dict[str, Any], key: str) -> bool:
        if self.pos >= len(self.text):
            # "a=" at the very end is the empty string, and ends the parse.
            _set(data, key, "")
            return True
        values = self._list_value()
        if values is not None:
            _set(data, key, values)
        else:
            _set(data, key, _typed_value(self._until(",")[0]))
        return False

    def _index(self) -> int:
        text, last = self._until("]")
        if last is None:
            # helm 4 treats this as the end of the input and ignores the assignment.
            raise _Refused("error parsing index: unterminated '['")
        if not _GO_DECIMAL.fullmatch(text):
            raise _Refused(f"error parsing index: {text!r} is not an integer")
        number = int(text)
        if not _INT64_MIN <= number <= _INT64_MAX:
            raise _Refused(f"error parsing index: {text!r} is out of range")
        return number

    def _list_item(self, items: list[Any], index: int, level: int) -> tuple[list[Any], bool]:
        if index < 0:
            raise _Refused(f"negative {index} index not allowed")
        rest, last = self._until("[.=")
        if rest:
            raise _Refused(f"unexpected data at end of array index: {rest!r}")
        if last is None:
            return items, True
        if last == "=":
            if self.pos >= len(self.text):
                return _set_index(items, index, ""), False
            values = self._list_value()
            if values is not None:
                return _set_index(items, index, values), False
            return _set_index(items, index, _typed_value(self._until(",")[0])), False
        if last == "[":
            next_index = self._index()
            current: list[Any] = []
            if len(items) > index and items[index] is not None:
                existing = items[index]
                if not isinstance(existing, list):
                    raise _Refused(f"item {index} holds {_describe(existing)}, not a list")
                current = existing
            self._descend()
            nested, ended = self._list_item(current, next_index, level)
            self.depth -= 1
            if ended:
                return items, True
            return _set_index(items, index, nested), False
        inner: dict[str, Any] = {}
        if len(items) > index:
            if not isinstance(items[index], dict):
                # Unlike a dotted key over a scalar, a list item is silently replaced.
                items[index] = {}
            inner = items[index]
        self._descend()
        ended = self._key(inner, level)
        self.depth -= 1
        if ended:
            return items, True
        return _set_index(items, index, inner), False

    def _list_value(self) -> list[Any] | None:
        """A ``{a,b}`` list value, or None (nothing consumed) when the value is no list."""
        if self._read() != "{":
            self._unread()
            return None
        values: list[Any] = []
        while True:
            text, last = self._until(",}")
            if last is None:
                raise _Refused("list must terminate with '}'")
            values.append(_typed_value(text))
            if last == "}":
                # A comma right after the list is the separator; anything else starts the
                # next key with no separator at all ("a={x}b=1"), as in Helm.
                if self._read() not in (",", None):
                    self._unread()
                return values
