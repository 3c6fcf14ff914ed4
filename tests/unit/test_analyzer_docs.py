"""The runnable examples in the analyzer's docstrings (each rule documents itself with one)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import aishell.engine.analyzer
import aishell.engine.analyzer.rules

MODULES = ["aishell.engine.analyzer." + m.name for m in pkgutil.iter_modules(aishell.engine.analyzer.__path__) if m.name != "rules"] + [
    "aishell.engine.analyzer.rules." + m.name for m in pkgutil.iter_modules(aishell.engine.analyzer.rules.__path__)
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    from aishell.engine.analyzer import clear_cache

    clear_cache()
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_rule_module_documents_itself_with_an_example():
    from aishell.engine.analyzer.rules import RULES

    for module in RULES:
        assert module.__doc__ and module.RULE.code in module.__doc__ and ">>> " in module.__doc__, module.__name__
