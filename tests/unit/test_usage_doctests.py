"""The runnable examples in the docstrings of settings, targets, saved connections, tunnels and liveness hold."""

from __future__ import annotations

import doctest

import pytest

from aishell.engine import config, connections, drivers, liveness, profiles, transaction, tunnel
from aishell.engine.drivers import pgservice, url


@pytest.mark.parametrize("module", [config, drivers, url, liveness, transaction, profiles, connections, pgservice, tunnel], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
