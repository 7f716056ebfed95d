"""The backend registry: lazy imports, named choices, clear errors."""

from __future__ import annotations

import sys

import pytest

from docentlib.errors import InvalidInput, Unavailable
from docentlib.registry import Registry


def test_resolves_a_dotted_attribute_lazily(monkeypatch: pytest.MonkeyPatch):
    # A module nothing else uses, put back afterwards: dropping a module that other code holds
    # (json.decoder, once) gives later imports a second copy of its classes, and every
    # ``except json.JSONDecodeError`` elsewhere in the session stopped matching.
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    registry: Registry[object] = Registry("colour", {"hsv": "colorsys:rgb_to_hsv"})
    assert "colorsys" not in sys.modules  # nothing imported until asked for
    assert "hsv" in registry and "yaml" not in registry
    assert registry.get("hsv").__qualname__ == "rgb_to_hsv"
    assert "colorsys" in sys.modules


def test_unknown_name_lists_the_choices():
    registry: Registry[object] = Registry("engine", {"b": "os:getcwd", "a": "os:getpid"})
    with pytest.raises(InvalidInput, match=r"unknown engine 'c'; valid choices: \['a', 'b'\]"):
        registry.get("c")


def test_missing_package_is_unavailable_with_the_hint():
    registry: Registry[object] = Registry(
        "engine", {"x": "no_such_package_here:Thing"}, hints={"x": "pip install x"}
    )
    with pytest.raises(Unavailable, match=r"engine 'x' cannot be loaded.*\(pip install x\)"):
        registry.get("x")


def test_targets_are_checked_when_the_registry_is_built():
    with pytest.raises(ValueError, match="not 'module:attribute'"):
        Registry("engine", {"x": "no_colon"})
