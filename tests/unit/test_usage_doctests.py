"""The runnable examples in the docstrings of settings, targets and liveness hold."""

from __future__ import annotations

import doctest

import pytest

from aishell.engine import config, drivers, liveness, transaction
from aishell.engine.drivers import url


@pytest.mark.parametrize("module", [config, drivers, url, liveness, transaction], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
