"""Every value of a stored row checked against its dataclass, before it is stored.

Shards come from other machines and from the repository, so a row is untrusted input: a
key that matches is not enough (an outcome's ``chosen_index`` of "two", a result's ``ok``
of "yes" once went into the memo). ``build_checked(cls, raw, where)`` builds ``cls`` from a
JSON mapping only when every field has its declared type, every number is finite, every
string and JSON tree is bounded, and no key is unknown; otherwise it raises ``ValueError``
naming the field. Fields with a default may be absent (rows written before the field
existed). The types understood are those the stored records use: ``str``, ``int``,
``float``, ``bool``, ``X | None``, ``list[float]`` and ``dict[str, Any]`` (a JSON tree).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from typing import Any

# Limits on one row. The largest rows kept by the studies are ~18 KB (a tool result's
# data); a row is one line of a shard, read with this bound, so a line cannot cost more.
MAX_ROW_CHARS = 1 << 20
MAX_TEXT_CHARS = 256 << 10  # any one string: a prompt, a summary, a transcript
MAX_JSON_DEPTH = 16  # nesting of a result's data
MAX_LIST_ITEMS = 100_000


def build_checked(cls: type, raw: Any, where: str) -> Any:
    """``cls(**raw)`` once every field of ``raw`` is checked; ``ValueError`` otherwise."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be an object, got {_kind(raw)}")
    fields, hints = _fields(cls)
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ValueError(f"{where}.{unknown[0]} is not a field (fields: {', '.join(fields)})")
    missing = [name for name, f in fields.items() if name not in raw and _required(f)]
    if missing:
        raise ValueError(f"{where}.{missing[0]} is missing")
    for name, value in raw.items():
        _check(hints[name], value, f"{where}.{name}")
    return cls(**raw)


@functools.cache
def _fields(cls: type) -> tuple[dict[str, dataclasses.Field], dict[str, Any]]:
    return {f.name: f for f in dataclasses.fields(cls)}, typing.get_type_hints(cls)


def _required(field: dataclasses.Field) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _check(hint: Any, value: Any, where: str) -> None:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        inner = [a for a in args if a is not type(None)]
        _check(inner[0], value, where)
    elif origin is list:
        if not isinstance(value, list):
            raise ValueError(f"{where} must be a list, got {_kind(value)}")
        if len(value) > MAX_LIST_ITEMS:
            raise ValueError(f"{where} has {len(value)} entries, more than {MAX_LIST_ITEMS}")
        for index, entry in enumerate(value):
            _check(args[0], entry, f"{where}[{index}]")
    elif origin is dict:
        check_json_tree(value, where, 0, mapping=True)
    elif hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false, got {_kind(value)}")
    elif hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{where} must be an integer, got {_kind(value)}")
    elif hint is float:
        _check_number(value, where)
    elif hint is str:
        _check_text(value, where)
    else:  # a field type this checker was not taught: refuse rather than pass it unchecked
        raise TypeError(f"{where}: no check for the type {hint!r}")


def check_json_tree(value: Any, where: str, depth: int = 0, mapping: bool = False) -> None:
    """A JSON value of bounded depth, strings and lists, finite numbers, string keys."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"{where} is nested deeper than {MAX_JSON_DEPTH} levels")
    if mapping and not isinstance(value, dict):
        raise ValueError(f"{where} must be an object, got {_kind(value)}")
    if isinstance(value, dict):
        for key, entry in value.items():
            _check_text(key, f"{where} key")
            check_json_tree(entry, f"{where}.{key}"[:200], depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_LIST_ITEMS:
            raise ValueError(f"{where} has {len(value)} entries, more than {MAX_LIST_ITEMS}")
        for index, entry in enumerate(value):
            check_json_tree(entry, f"{where}[{index}]", depth + 1)
    elif isinstance(value, str):
        _check_text(value, where)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(value, where)
    elif value is not None and not isinstance(value, bool):
        raise ValueError(f"{where} is not a JSON value ({_kind(value)})")


def _check_number(value: Any, where: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{where} must be a number, got {_kind(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} must be finite, got {value}")


def _check_text(value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a string, got {_kind(value)}")
    if len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"{where} is {len(value)} characters, more than {MAX_TEXT_CHARS}")


def _kind(value: Any) -> str:
    """A wrong value as a message shows it: its type, and a short repr."""
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"
