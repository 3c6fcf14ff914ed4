"""The examples in the pane widgets' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["results", "rowstore", "schema", "metrics", "memory", "transaction"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"aishell.tui.widgets.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
