"""The one registry type every kind of plug-in uses."""

from __future__ import annotations

import pytest

from audiorouter.config import ConfigError
from audiorouter.registry import Registry


def test_entries_register_by_decorator_and_unknown_names_list_the_valid_ones():
    shapes: Registry[type] = Registry("shape", error=ConfigError)

    @shapes.register("square")
    class Square:
        pass

    shapes.register("circle")(float)
    assert shapes.get("square") is Square and shapes.names() == ["square", "circle"] and "circle" in shapes
    assert shapes.register("square")(Square) is Square  # the same entry again: a no-op
    with pytest.raises(ConfigError, match=r"unknown shape 'triangle'; valid: square, circle"):
        shapes.get("triangle")
    with pytest.raises(ValueError, match="shape 'square' is already registered by Square"):
        shapes.register("square")(int)
    shapes.unregister("circle")
    assert shapes.names() == ["square"]


def test_load_runs_once_before_the_first_read_and_may_register():
    calls = []
    late: Registry[int] = Registry("number", load=lambda: calls.append(late.register("one")(1)))
    late.register("two")(2)  # registering does not load
    assert calls == []
    assert late.names() == ["two", "one"] and late.get("one") == 1 and calls == [1]
